"""Claim statement frames: the run, its lines (the annex) and the per-outcome summary.

Plain rows (dicts) for ``reports.render.emit``; the full council statement (HTML/PDF/XLSX) is
built on these later. Lines carry the pseudonymous participant id only.
"""

from __future__ import annotations

from sqlalchemy import Connection

from ledger.pbr.claims import CAP_KINDS, reduction_column, share_column, summarise
from models import pbr_store

LINE_COLUMNS = [
    "line_no", "participant_id", "outcome_id", "achieved_on", "evidence_ref", "reason", "rate_card_version",
    "price_pence", "gross_pence", *[reduction_column(k) for k in CAP_KINDS], "net_pence", "cap_reason",
    "cap_applied", "participant_paid_cum_pence", "participant_headroom_pence", "disputed", "dispute_reason",
]  # fmt: skip


def _plain(value):
    if value is None:
        return None
    if hasattr(value, "item"):
        return value.item()
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def statement(conn: Connection, contract_id: str, period: str) -> dict:
    """Everything a council needs to recompute one claim run's total."""
    contract = pbr_store.get_contract(conn, contract_id)
    run = pbr_store.get_run(conn, contract_id, period)
    lines = pbr_store.claim_lines(conn, run, contract)
    prior = pbr_store.prior_paid(conn, contract_id, before_run_id=run.id)
    frame = lines.rename(columns={})
    summary = summarise(frame, contract, prior)
    share_columns = [share_column(p.payer_id) for p in contract.payers]
    line_rows = [{k: _plain(v) for k, v in row.items()} for row in lines[LINE_COLUMNS + share_columns].to_dict("records")]
    by_outcome = [{k: _plain(v) for k, v in row.items()} for row in summary.by_outcome.to_dict("records")]
    payers = [{k: _plain(v) for k, v in row.items()} for row in pbr_store.run_payers(conn, run)]
    return {
        "run": run.as_dict(), "currency": contract.currency, "rate_card_versions": sorted({v for v in lines["rate_card_version"].dropna()}),
        "payers": payers, "by_outcome": by_outcome, "lines": line_rows,
        "contract_headroom": [{k: _plain(v) for k, v in r.items()} for r in summary.contract.to_dict("records")],
        "transitions": pbr_store.transitions(conn, run),
    }  # fmt: skip
