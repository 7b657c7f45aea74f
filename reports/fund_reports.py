"""Fund manager reports: trial balance, sources and uses by money type, restricted balances,
deployment by project, outcome pipeline, cash position and upcoming drawdowns.

Each builder is a plain function ``(conn, as_of, ...) -> Report`` (the CLI and the web API call
them); a report is one or more tables of plain rows (money in integer pence) plus chart specs.
One report renders as a terminal table, CSV, JSON (``reports.render``) or HTML with inline SVG
charts (:func:`render_report_html`, deterministic). The database does the adding up (SQL
``GROUP BY`` in ``models.ledger_store.balances`` and ``models.flows_store``); the builders only
pivot small grouped results.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Mapping, Sequence

from sqlalchemy import Connection

from reports import html
from reports.render import display_value, spreadsheet_safe, totals

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[Mapping[str, Any], ...]
    footer: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Report:
    kind: str
    title: str
    as_of: date
    tables: tuple[Table, ...]
    #: ("bar", title, ((label, value, target), ...)) or ("line", title, labels, ((name, values), ...))
    charts: tuple[tuple, ...] = ()
    notes: tuple[str, ...] = ()
    currency: str = "GBP"
    extra: Mapping[str, Any] = field(default_factory=dict)

    # The first table is the report's main one: what ``emit`` prints for a one-table report.
    @property
    def rows(self) -> list[dict]:
        return [dict(r) for r in self.tables[0].rows]

    @property
    def columns(self) -> list[str]:
        return list(self.tables[0].columns)

    @property
    def footer(self) -> dict | None:
        return dict(self.tables[0].footer) if self.tables[0].footer else None


def _table(name: str, title: str, rows: Sequence[Mapping], columns: Sequence[str], total_label: str | None = None) -> Table:
    footer = totals(rows, columns, columns[0], total_label) if total_label and rows else None
    return Table(name, title, tuple(columns), tuple(dict(r) for r in rows), footer)


# ---------------------------------------------------------------------------- the builders


def trial_balance_report(conn: Connection, as_of: date) -> Report:
    from models.ledger_store import trial_balance

    rows = [
        {"account": l.account_code, "name": l.account_name, "type": l.account_type, "currency": l.currency,
         "debit_pence": l.debit_pence, "credit_pence": l.credit_pence, "net_pence": l.net_pence}
        for l in trial_balance(conn, as_of)
    ]  # fmt: skip
    columns = ["account", "name", "type", "currency", "debit_pence", "credit_pence", "net_pence"]
    by_type: dict[str, int] = {}
    for r in rows:
        by_type[r["type"]] = by_type.get(r["type"], 0) + r["net_pence"]
    bars = tuple((f"{t} ({'debit' if v >= 0 else 'credit'})", abs(v), None) for t, v in sorted(by_type.items()))
    net = sum(r["net_pence"] for r in rows)
    return Report(
        "trial-balance", f"Trial balance as of {as_of}", as_of,
        (_table("trial_balance", "Per account", rows, columns, "Total"),),
        (("bar", "Balance by account type", bars),),
        (f"The net column sums to {net} pence (it must be zero).",),
        extra={"as_of": as_of.isoformat()},
    )


def sources_uses_report(conn: Connection, as_of: date, fund: str | None = None) -> Report:
    from reports.flows_reports import sources_uses

    rows, columns = sources_uses(conn, as_of, fund)
    by_source: dict[str, int] = {}
    for r in rows:
        by_source[r["source"]] = by_source.get(r["source"], 0) + int(r["total_sources_pence"] or 0)
    return Report(
        "sources-uses", f"Sources and uses by money type as of {as_of}", as_of,
        (_table("sources_uses", "Per source, tranche and restriction", rows, columns, "Total"),),
        (("bar", "Sources of money by type", tuple((k, v, None) for k, v in sorted(by_source.items()))),),
        ("Each source is a self-balancing set of accounts: total sources equal total uses per row.",),
        extra={"as_of": as_of.isoformat(), "by": "source"},
    )


def restrictions_report(conn: Connection, as_of: date, fund: str | None = None) -> Report:
    from reports.flows_reports import restrictions

    rows, columns = restrictions(conn, as_of, fund)
    bars = tuple((r["restriction"], int(r["applied_pence"] or 0), int(r["received_pence"] or 0) + int(r["transferred_pence"] or 0)
                  + int(r["income_pence"] or 0)) for r in rows)  # fmt: skip
    return Report(
        "restrictions", f"Restricted balances as of {as_of}", as_of,
        (_table("restrictions", "Per restriction", rows, columns, "Total"),),
        (("bar", "Applied to permitted uses, against money available (tick)", bars),),
        ("received + transferred + income = applied + other uses + unapplied, per restriction.",),
        extra={"as_of": as_of.isoformat()},
    )


def deployment_report(conn: Connection, as_of: date, fund: str | None = None) -> Report:
    from reports.flows_reports import project_funding

    rows, columns = project_funding(conn, as_of, fund)
    by_project: dict[str, int] = {}
    by_source: dict[str, int] = {}
    for r in rows:
        by_project[r["project"]] = by_project.get(r["project"], 0) + int(r["disbursed_pence"] or 0)
        by_source[r["source"]] = by_source.get(r["source"], 0) + int(r["disbursed_pence"] or 0)
    return Report(
        "deployment", f"Deployment by project as of {as_of}", as_of,
        (_table("deployment", "Per project and funding group", rows, columns, "Total"),),
        (("bar", "Disbursed by project", tuple((k, v, None) for k, v in sorted(by_project.items()))),
         ("bar", "Disbursed by money type", tuple((k, v, None) for k, v in sorted(by_source.items())))),
        ("Disbursed is gross capital sent by disbursement events; share_of_project is each funding group's part.",),
        extra={"as_of": as_of.isoformat()},
    )


OUTCOME_PIPELINE_COLUMNS = ("contract", "plan_version", "plan_made_on", "quarter", "status", "planned_pence", "actual_pence",
                    "variance_pence", "cumulative_planned_pence", "cumulative_actual_pence",
                    "cumulative_variance_pence")  # fmt: skip


def outcome_pipeline_report(conn: Connection, plans_by_contract: Mapping[str, Sequence], as_of: date) -> Report:
    """Per contract: the latest plan version made by ``as_of`` against outcome payments received
    per claim period. Contracts with no forecast given show actuals only (plan version ``-``)."""
    from ledger.pbr.plans import PlanVersion, plan_vs_actual
    from models.pbr_store import actuals_by_quarter, get_contract, list_contracts

    known = [c["id"] for c in list_contracts(conn)]
    for contract_id in plans_by_contract:
        get_contract(conn, contract_id)  # an unknown contract is a clear error
    rows: list[dict] = []
    charts: list[tuple] = []
    for contract_id in sorted(set(known) | set(plans_by_contract)):
        actuals = actuals_by_quarter(conn, contract_id)
        plans = plans_by_contract.get(contract_id) or [PlanVersion("-", date.min, ())]
        if not actuals and contract_id not in plans_by_contract:
            continue
        frame = plan_vs_actual(plans, actuals, as_of)
        made = frame.attrs["plan_made_on"]
        for r in frame.to_dict("records"):
            rows.append({"contract": contract_id, "plan_version": frame.attrs["plan_version"],
                         "plan_made_on": "" if made == date.min else made.isoformat(),
                         **{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}})  # fmt: skip
        if len(frame):
            charts.append(("line", f"{contract_id}: cumulative planned and actual outcome payments",
                           tuple(frame["quarter"]),
                           (("planned", tuple(int(v) for v in frame["cumulative_planned_pence"])),
                            ("actual", tuple(int(v) for v in frame["cumulative_actual_pence"])))))  # fmt: skip
    summary: dict[str, dict] = {}
    for r in rows:
        s = summary.setdefault(r["contract"], {"contract": r["contract"], "plan_version": r["plan_version"],
                                                "planned_to_date_pence": 0, "actual_to_date_pence": 0,
                                                "planned_remaining_pence": 0})  # fmt: skip
        if r["status"] == "future":
            s["planned_remaining_pence"] += r["planned_pence"]
        else:
            s["planned_to_date_pence"] += r["planned_pence"]
            s["actual_to_date_pence"] += r["actual_pence"]
    for s in summary.values():
        s["variance_to_date_pence"] = s["actual_to_date_pence"] - s["planned_to_date_pence"]
    summary_columns = ["contract", "plan_version", "planned_to_date_pence", "actual_to_date_pence",
                       "variance_to_date_pence", "planned_remaining_pence"]  # fmt: skip
    return Report(
        "outcome-pipeline", f"Outcome pipeline as of {as_of}", as_of,
        (_table("outcome_pipeline", "Per contract and quarter: forecast versus actual", rows, OUTCOME_PIPELINE_COLUMNS),
         _table("outcome_pipeline_summary", "Per contract", list(summary.values()), summary_columns, "Total")),
        tuple(charts),
        ("The plan is the latest version made on or before the report date; actual = outcome payments received "
         "per claim period; variance = actual - planned for quarters that have started.",),
        extra={"as_of": as_of.isoformat()},
    )


CASH_COLUMNS = ("fund", "currency", "source", "tranche", "restriction", "cash_pence")
DRAWDOWN_COLUMNS = ("fund", "tranche", "investor", "currency", "committed_pence", "called_pence", "received_pence",
                    "called_unpaid_pence", "unfunded_pence")  # fmt: skip


def cash_report(conn: Connection, as_of: date, fund: str | None = None) -> Report:
    """Cash by fund, source, tranche and restriction; and per commitment what is called but not
    yet received (drawdown notices outstanding) and what is still unfunded (to be called)."""
    from models.flows_store import commitment_status
    from models.ledger_store import balances

    filters: dict[str, Any] = {"account_code": "cash"}
    if fund:
        filters["fund"] = fund
    cash = [
        dict(zip(CASH_COLUMNS, (*r.key, r.balance_pence)))
        for r in balances(conn, as_of, by=CASH_COLUMNS[:-1], filters=filters) if r.balance_pence != 0
    ]  # fmt: skip
    cash.sort(key=lambda r: tuple("" if r[c] is None else str(r[c]) for c in CASH_COLUMNS[:-1]))  # NULLs first on both backends
    drawdowns = []
    for r in commitment_status(conn, fund, as_of):
        row = {k: r[k] for k in ("fund", "tranche", "investor", "currency", "committed_pence", "called_pence",
                                 "received_pence", "unfunded_pence")}  # fmt: skip
        row["called_unpaid_pence"] = r["called_pence"] - r["received_pence"]
        drawdowns.append({c: row[c] for c in DRAWDOWN_COLUMNS})
    by_source: dict[str, int] = {}
    for r in cash:
        by_source[r["source"]] = by_source.get(r["source"], 0) + r["cash_pence"]
    upcoming = tuple((f"{r['investor']} ({r['tranche']})", r["called_unpaid_pence"], r["called_unpaid_pence"] + r["unfunded_pence"])
                     for r in drawdowns if r["called_unpaid_pence"] or r["unfunded_pence"])  # fmt: skip
    return Report(
        "cash", f"Cash position and upcoming drawdowns as of {as_of}", as_of,
        (_table("cash", "Cash by source and restriction", cash, CASH_COLUMNS, "Total"),
         _table("drawdowns", "Upcoming drawdowns per commitment", drawdowns, DRAWDOWN_COLUMNS, "Total")),
        (("bar", "Cash by money type", tuple((k, v, None) for k, v in sorted(by_source.items()))),
         ("bar", "Called and not yet received, against all still to come (tick: called unpaid + unfunded)", upcoming)),
        ("called_unpaid = drawdown notices issued and not yet received; unfunded = commitment not yet called.",),
        extra={"as_of": as_of.isoformat()},
    )


# ---------------------------------------------------------------------------- renderings


def to_csv(report: Report) -> str:
    """One table: a plain CSV. Several: sections (a ``[name]`` line, header, rows, blank line)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180; quotes any \r or \n in a cell
    for table in report.tables:
        if len(report.tables) > 1:
            writer.writerow([f"[{table.name}]"])
        writer.writerow(table.columns)
        for row in table.rows:
            writer.writerow(["" if row.get(c) is None else spreadsheet_safe(row.get(c)) for c in table.columns])
        if len(report.tables) > 1:
            writer.writerow([])
    return buffer.getvalue()


def to_json(report: Report) -> str:
    payload = {"report": report.kind, "title": report.title, "as_of": report.as_of.isoformat(),
               "tables": {t.name: {"columns": list(t.columns), "rows": [dict(r) for r in t.rows]} for t in report.tables}}
    return json.dumps(payload, indent=2, default=str) + "\n"


def _chart_svg(spec: tuple, currency: str) -> str:
    if spec[0] == "svg":  # ("svg", title, drawn svg): a chart its report draws itself (the forecast's fan)
        return spec[2]
    if spec[0] == "bar":
        return html.bar_chart(spec[1], spec[2], currency)
    return html.line_chart(spec[1], list(spec[2]), [(name, list(values)) for name, values in spec[3]], currency)


def render_report_html(report: Report) -> str:
    def cell(column: str, value: Any) -> str:
        return display_value(column, value, report.currency)

    return html.render(
        TEMPLATES, "fund_report.html.j2", r=report, cell=cell,
        charts=[_chart_svg(spec, report.currency) for spec in report.charts],
        title_of=lambda column: column.removesuffix("_pence").replace("_", " "),
    )
