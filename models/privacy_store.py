"""Data-subject requests (UK GDPR articles 15 and 20): everything Fuel holds about one
pseudonymous participant of one contract, as plain JSON-ready data.

Fuel holds, per participant: the register row (start date, cohort, delivery partner and the
contract's attributes), the outcome events providers submitted, the claim lines those events
became (with each payer's share and any dispute), and the validation samples that picked one
of those lines. The ledger's postings carry no participant id, so nothing in the hash chain is
about a person (DESIGN.md section 8).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from ledger.errors import NotFound
from models.pbr_store import (
    current_status,
    disputes_t,
    events_t,
    get_contract,
    imports_t,
    lines_t,
    participants_t,
    runs_t,
    samples_t,
    shares_t,
)

#: Bumped when the shape of an export changes.
EXPORT_FORMAT = "fuel-participant-export/1"


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _rows(conn: Connection, query) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in conn.execute(query).mappings()]


def participant_export(conn: Connection, contract_id: str, participant_id: str) -> dict[str, Any]:
    """Everything held about ``participant_id`` in ``contract_id``; ``NotFound`` if nothing is."""
    get_contract(conn, contract_id)  # an unknown contract is a NotFound naming the known ones
    register = _rows(conn, select(participants_t, imports_t.c.file_name.label("imported_from"),
                                  imports_t.c.imported_at)
                     .join(imports_t, imports_t.c.id == participants_t.c.import_id)
                     .where(participants_t.c.contract_id == contract_id,
                            participants_t.c.participant_id == participant_id))  # fmt: skip
    for row in register:
        row["attributes"] = json.loads(row["attributes"] or "{}")
    events = _rows(conn, select(events_t, imports_t.c.file_name.label("imported_from"))
                   .join(imports_t, imports_t.c.id == events_t.c.import_id)
                   .where(events_t.c.contract_id == contract_id, events_t.c.participant_id == participant_id)
                   .order_by(events_t.c.achieved_on, events_t.c.id))  # fmt: skip
    lines = _rows(conn, select(runs_t.c.period, current_status().label("run_status"), lines_t)
                  .join(runs_t, runs_t.c.id == lines_t.c.run_id)
                  .where(runs_t.c.contract_id == contract_id, lines_t.c.participant_id == participant_id)
                  .order_by(runs_t.c.period_end, lines_t.c.line_no))  # fmt: skip
    keys = {(line["run_id"], line["line_no"]) for line in lines}
    run_ids = sorted({run_id for run_id, _ in keys})
    shares: dict[tuple[int, int], list[dict]] = {}
    disputes: dict[tuple[int, int], dict] = {}
    samples: list[dict[str, Any]] = []
    if run_ids:
        for row in _rows(conn, select(shares_t).where(shares_t.c.run_id.in_(run_ids))
                         .order_by(shares_t.c.run_id, shares_t.c.line_no, shares_t.c.payer_id)):
            if (row["run_id"], row["line_no"]) in keys:
                shares.setdefault((row["run_id"], row["line_no"]), []).append(
                    {"payer_id": row["payer_id"], "share_pence": row["share_pence"],
                     "cap_reduction_pence": row["cap_reduction_pence"]})  # fmt: skip
        for row in _rows(conn, select(disputes_t).where(disputes_t.c.run_id.in_(run_ids))):
            if (row["run_id"], row["line_no"]) in keys:
                disputes[(row["run_id"], row["line_no"])] = {"reason": row["reason"], "disputed_at": row["disputed_at"]}
        period_of = {line["run_id"]: line["period"] for line in lines}
        for row in _rows(conn, select(samples_t).where(samples_t.c.run_id.in_(run_ids)).order_by(samples_t.c.run_id)):
            sampled = set(json.loads(row["sampled_lines"] or "[]"))
            invalid = set(json.loads(row["invalid_lines"] or "[]"))
            mine = sorted(no for run_id, no in keys if run_id == row["run_id"] and no in sampled)
            if mine:
                samples.append({"period": period_of[row["run_id"]], "line_nos": mine,
                                "found_invalid": sorted(set(mine) & invalid), "selected_at": row["selected_at"],
                                "checked_at": row["checked_at"]})  # fmt: skip
    for line in lines:
        key = (line["run_id"], line["line_no"])
        line["payer_shares"] = shares.get(key, [])
        line["dispute"] = disputes.get(key)
    if not (register or events or lines):
        raise NotFound(f"contract {contract_id} holds nothing about participant {participant_id!r}",
                       field="participant_id")
    return {
        "format": EXPORT_FORMAT,
        "contract_id": contract_id,
        "participant_id": participant_id,
        "register": register[0] if register else None,
        "outcome_events": events,
        "claim_lines": lines,
        "validation_samples": samples,
        "ledger": "ledger entries carry no participant id; outcome payments are booked per payer and period",
    }
