"""Council outcome payment statements: gathered from a stored claim run, rendered as HTML, PDF,
CSV and XLSX.

Plain functions the CLI and the web API call:

* :func:`statement_for(conn, contract_id, period, payer=None, plans=None, as_of=None)` reads
  the stored run (``models.pbr_store``) and builds the figures with the pure
  :func:`ledger.pbr.statement.build_statement`;
* :func:`render_html`, :func:`render_pdf`, :func:`render_csv`, :func:`render_xlsx` turn them
  into documents; :func:`write_statement` writes the chosen formats to a folder.

CSV and XLSX pass every text cell through the one neutralising function,
:func:`reports.render.spreadsheet_safe`. HTML is deterministic (no clock, sorted data, integer
SVG coordinates): identical figures give byte-identical files.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import Connection, select

from ledger.pbr.claims import CAP_KINDS, payer_reduction_column, reduction_column, share_column
from ledger.pbr.mechanism_claims import is_mechanism
from ledger.pbr.plans import PlanVersion, plan_vs_actual
from ledger.pbr.statement import CouncilStatement, build_statement, to_csv
from ledger.periods import Period
from reports import html
from reports.render import spreadsheet_safe

TEMPLATES = Path(__file__).parent / "templates"
FORMATS = ("html", "pdf", "csv", "xlsx")
CAP_LABELS = {
    "participant_cap": "participant cap", "outcome_count_cap": "outcome count cap",
    "outcome_value_cap": "outcome value cap", "contract_cap": "contract cap", "payer_cap": "payer cap",
}  # fmt: skip


# ---------------------------------------------------------------------------- gathering


def statement_for(
    conn: Connection,
    contract_id: str,
    period: str,
    payer: str | None = None,
    plans: Sequence[PlanVersion] | None = None,
    as_of: date | None = None,
) -> CouncilStatement:
    """The outcome payment statement of one stored claim run, optionally addressed to one payer.

    ``plans``: forecast versions for plan versus actual (``fuel claims plan`` CSV), reported as
    known on ``as_of`` (default: the period's last day).
    """
    from models import pbr_store

    contract = pbr_store.get_contract(conn, contract_id)
    run = pbr_store.get_run(conn, contract_id, period)
    quarter = Period.parse(run.period)
    lines = pbr_store.claim_lines(conn, run, contract)
    shares = pd.read_sql(select(pbr_store.shares_t).where(pbr_store.shares_t.c.run_id == run.id), conn)
    for p in contract.payers:
        mine = shares[shares["payer_id"] == p.payer_id].set_index("line_no")
        lines[payer_reduction_column(p.payer_id)] = (
            lines["line_no"].map(mine["cap_reduction_pence"]).fillna(0).astype(np.int64)
        )
    prior = pbr_store.prior_paid(conn, contract_id, before_run_id=run.id)
    run_payers = pbr_store.run_payers(conn, run)

    s, c, r = pbr_store.samples_t, pbr_store.clawbacks_t, pbr_store.runs_t
    clawbacks = [
        {"from_period": period_, "amount_pence": int(amount)}
        for period_, amount in conn.execute(
            select(r.c.period, c.c.amount_pence)
            .select_from(c.join(s, s.c.id == c.c.sample_id).join(r, r.c.id == s.c.run_id))
            .where(c.c.run_id == run.id).order_by(s.c.id)
        )
    ]  # fmt: skip
    sample = None
    if conn.execute(select(s.c.id).where(s.c.run_id == run.id)).first() is not None:
        sample = pbr_store.sample_status(conn, contract_id, run.period)
    plan = None
    if plans:
        plan = plan_vs_actual(plans, pbr_store.actuals_by_quarter(conn, contract_id), as_of or quarter.last_day)
    mechanism_periods = sorted({Period.containing(date.fromisoformat(str(d)[:10])).name
                                for o, d in zip(lines["outcome_id"], lines["achieved_on"]) if is_mechanism(o)})
    mechanisms = pbr_store.mechanism_records(conn, contract_id, mechanism_periods) if mechanism_periods else []
    from dataclasses import replace

    from models.ledger_store import current_tip

    statement = build_statement(contract, quarter, run.as_dict(), lines, prior, run_payers, clawbacks, sample, plan,
                                payer, mechanisms)  # fmt: skip
    return replace(statement, ledger_tip=current_tip(conn).text)


# ---------------------------------------------------------------------------- renderings


def file_stem(statement: CouncilStatement) -> str:
    return f"{statement.contract_id}_{statement.period}_{statement.addressee or 'all'}"


def charts(statement: CouncilStatement) -> dict[str, str]:
    currency = statement.currency
    by_outcome: dict[str, int] = {}
    for row in statement.rows("by_outcome"):
        by_outcome[row["outcome_id"]] = by_outcome.get(row["outcome_id"], 0) + row["net_pence"]
    net = html.bar_chart("Net payment by outcome, this statement", list((html.outcome_label(k), v, None) for k, v in by_outcome.items()),
                         currency)
    capped = [(f"{r['scope']} {r['key']}", r["cumulative"], r["cap"]) for r in statement.rows("headroom")
              if r["scope"] in ("payer", "contract") and r["cap"] is not None]  # fmt: skip
    caps = html.bar_chart("Paid to date against cap: payers and contract", capped, currency)
    out = {"net": net, "caps": caps, "plan": ""}
    plan = statement.rows("plan_vs_actual")
    if plan:
        out["plan"] = html.line_chart(
            "Outcome payments: plan versus actual, cumulative",
            [r["quarter"] for r in plan],
            [("planned", [r["cumulative_planned_pence"] for r in plan]),
             ("actual", [r["cumulative_actual_pence"] for r in plan])],
            currency,
        )
    return out


def render_html(statement: CouncilStatement) -> str:
    from reports.narrative import council_narrative

    shares = {r["payer_id"]: r for r in statement.rows("payer_shares")}
    headroom: dict[str, list] = {}
    for row in statement.rows("headroom"):
        headroom.setdefault(row["scope"], []).append(row)
    return html.render(
        TEMPLATES, "council_statement.html.j2",
        s=statement, h=statement.header, t=statement.totals, cur=statement.currency,
        payers=statement.rows("payers"), rate_card=statement.rows("rate_card"),
        by_outcome=statement.rows("by_outcome"), annex=statement.rows("annex"),
        payer_ids=[r["payer_id"] for r in statement.rows("payers")],
        headroom=headroom, payer_shares=statement.rows("payer_shares"),
        addressed=shares.get(statement.addressee) if statement.addressee else None,
        mechanism_inputs=_rows_or_none(statement, "mechanism_inputs"),
        mechanism_formula=_rows_or_none(statement, "mechanism_formula"),
        clawbacks=statement.rows("clawbacks"), sample={r["field"]: r["value"] for r in statement.rows("sample")},
        plan=statement.rows("plan_vs_actual"), charts=charts(statement),
        cap_kinds=CAP_KINDS, cap_labels=CAP_LABELS, reduction_column=reduction_column, share_column=share_column,
        reasons=[c for c in statement.section("by_outcome").columns if c.startswith("rejected_")],
        narrative=council_narrative(statement),
    )  # fmt: skip


def _rows_or_none(statement: CouncilStatement, name: str):
    try:
        return statement.rows(name)
    except KeyError:
        return ()


def render_pdf(html_text: str) -> bytes:
    return html.render_pdf(html_text, TEMPLATES)


def render_csv(statement: CouncilStatement) -> str:
    return to_csv(statement, spreadsheet_safe)


def render_xlsx(statement: CouncilStatement) -> bytes:
    """One worksheet per section, for a reader in Excel (reports/xlsx.py): amounts in pounds,
    dates as dates, headers in words; the CSV stays the form `fuel claims verify` reads."""
    import io
    from datetime import datetime

    from openpyxl import Workbook

    from reports.xlsx import add_sheet

    book = Workbook()
    book.remove(book.active)
    for section in statement.sections:
        words = section.name.replace("_", " ")
        add_sheet(book, section.name, list(section.columns), section.rows, statement.currency,
                  f"No {words} for this claim period.")
    fixed = datetime(2000, 1, 1)  # no clock in the document: the same figures, the same file
    book.properties.created = book.properties.modified = fixed
    book.properties.creator = "fuel"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def render_json(statement: CouncilStatement) -> str:
    """The figures as JSON (sections of rows; money in integer pence) for the API."""
    payload = {
        "contract": statement.contract_id, "period": statement.period, "addressee": statement.addressee,
        "sections": {s.name: {"columns": list(s.columns), "rows": [dict(r) for r in s.rows]} for s in statement.sections},
    }  # fmt: skip
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def write_statement(statement: CouncilStatement, out_dir: Path, formats: Iterable[str]) -> list[Path]:
    """Write the chosen formats (html, pdf, csv, xlsx) to ``out_dir``; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = file_stem(statement)
    chosen = set(formats)
    written: list[Path] = []
    html_text = render_html(statement) if chosen & {"html", "pdf"} else None
    for fmt in FORMATS:
        if fmt not in chosen:
            continue
        path = out_dir / f"{stem}.{fmt}"
        if fmt == "html":
            path.write_text(html_text, encoding="utf-8")
        elif fmt == "pdf":
            path.write_bytes(render_pdf(html_text))
        elif fmt == "csv":
            path.write_text(render_csv(statement), encoding="utf-8")
        else:
            path.write_bytes(render_xlsx(statement))
        written.append(path)
    return written
