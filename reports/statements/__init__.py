"""Investor statements rendered: HTML (jinja2, strict), PDF (weasyprint), CSV and JSON.

Deterministic: no timestamps, everything sorted, fixed number formatting, charts drawn as
inline SVG here in Python (no JavaScript, no network fonts), so identical figures give
byte-identical HTML. Templates run with ``StrictUndefined``: a missing figure fails the
render instead of printing blank.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

from ledger.capital_accounts import LINE_LABELS, LINES
from ledger.money import format_amount
from ledger.statements import COLUMN_LABELS, COLUMNS, Performance, Statement
from reports.narrative import investor_narrative
from reports.render import spreadsheet_safe

TEMPLATES = Path(__file__).parent / "templates"
FORMATS = ("html", "pdf", "csv", "json")


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["money"] = money
    env.filters["multiple"] = lambda value: "n/a" if value is None else f"{value:.4f}x"
    env.filters["percent"] = percent
    return env


def money(pence: int, currency: str = "GBP") -> str:
    """Pounds with separators; negatives in brackets, as statements show them."""
    if pence is None:
        raise ValueError("missing amount")
    text = format_amount(abs(pence), currency, separators=True)
    return f"({text})" if pence < 0 else text


def percent(rate: Decimal | None) -> str:
    return "n/a" if rate is None else f"{(rate * 100).quantize(Decimal('0.01'))}%"


# ---------------------------------------------------------------------------- charts (SVG)


def charts(statement: Statement) -> dict[str, str]:
    """The statement's charts, drawn by :mod:`reports.html` (the same drawing as the council
    and fund reports, styled by attributes so the PDF shows what the HTML shows)."""
    from reports import html

    nav = html.line_chart("Your capital account (NAV) at each quarter end",
                          [label for label, _ in statement.nav_history],
                          [("NAV", [value for _, value in statement.nav_history])], statement.currency)
    by_project = html.bar_chart(
        "Outcomes achieved to date by project and outcome (against target)",
        [(f"{o.project_name}: {html.outcome_label(o.outcome)}", o.achieved_itd, o.target) for o in statement.outcomes],
        None,
    )
    payments = html.bar_chart(
        "Outcome payments earned to date by project (against target)",
        [(p.project_name, p.payments_itd_pence, p.payments_target_pence) for p in statement.projects],
        statement.currency,
    )
    return {"nav": nav, "outcomes": by_project, "payments": payments}


# ---------------------------------------------------------------------------- documents


def render_html(statement: Statement) -> str:
    template = _environment().get_template("statement.html.j2")
    return template.render(
        s=statement,
        columns=COLUMNS,
        column_labels=COLUMN_LABELS,
        lines=LINES,
        line_labels=LINE_LABELS,
        charts=charts(statement),
        narrative=investor_narrative(statement),
    )


def render_pdf(html: str) -> bytes:
    from reports.html import render_pdf as pdf_of

    return pdf_of(html, TEMPLATES)


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float):  # never money; there should be none at all
        raise TypeError("a float reached the statement figures")
    return value


def _performance_dict(perf: Performance) -> dict:
    out = _plain(asdict(perf))
    out["tvpi_equals_dpi_plus_rvpi"] = perf.tvpi is None or perf.dpi + perf.rvpi == perf.tvpi
    return out


def figures(statement: Statement) -> dict:
    """The statement's figures as plain JSON values: money in integer pence, ratios and the IRR
    as decimal strings (or null with the reason)."""

    def account(a) -> dict:
        return {
            "tranche": a.tranche, "label": a.label,
            **{name: {
                "beginning_pence": a.column(name).beginning_pence,
                **{f"{line}_pence": amount for line, amount in a.column(name).lines},
                "ending_pence": a.column(name).ending_pence,
            } for name in COLUMNS},
        }

    out = {
        "fund": statement.fund, "fund_name": statement.fund_name, "currency": statement.currency,
        "investor": statement.investor, "investor_name": statement.investor_name,
        "investor_type": statement.investor_type, "quarter": statement.quarter,
        "period_start": statement.period_start.isoformat(), "statement_date": statement.statement_date.isoformat(),
        "capital_account": account(statement.capital_account),
        "tranche_accounts": [account(a) for a in statement.tranche_accounts],
        "commitments": {name: _plain(asdict(c)) for name, c in statement.commitments},
        "performance": _performance_dict(statement.performance),
        "fund_performance": _performance_dict(statement.fund_performance),
        "restrictions": [_plain(asdict(r)) for r in statement.restrictions],
        "impact": {
            "outcomes": [_plain(asdict(o)) for o in statement.outcomes],
            "projects": [_plain(asdict(p)) for p in statement.projects],
        },
        "nav_history": [{"quarter": q, "nav_pence": v} for q, v in statement.nav_history],
        "narrative": [sentence.text for sentence in investor_narrative(statement)],
    }
    if statement.forecast is not None and statement.forecast_investor is not None:
        me = statement.forecast_investor
        out["forecast"] = {
            "horizon_day": statement.forecast.horizon_day.isoformat(),
            "remaining_pence": dict(statement.forecast.remaining_pence),
            "value_pence": dict(me.value_pence),
            "tvpi": {k: None if v is None else str(v) for k, v in me.tvpi.items()},
            "irr": {k: None if v is None else str(v) for k, v in me.irr.items()},
        }
    return out


def render_json(statement: Statement) -> str:
    return json.dumps(figures(statement), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


CSV_COLUMNS = ("fund", "investor", "quarter", "section", "item", "column", "amount_pence", "value")


def csv_rows(statement: Statement) -> list[dict]:
    """The same figures, long form: one row per figure (money in pence, ratios as text)."""
    base = {"fund": statement.fund, "investor": statement.investor, "quarter": statement.quarter}
    rows: list[dict] = []

    def add(section: str, item: str, column: str, amount: int | None = None, value: object = None) -> None:
        rows.append({**base, "section": section, "item": item, "column": column, "amount_pence": amount,
                     "value": None if value is None else str(value)})

    for a in (statement.capital_account, *statement.tranche_accounts):
        section = "capital_account" if a.tranche is None else f"capital_account:{a.tranche}"
        for name in COLUMNS:
            c = a.column(name)
            add(section, "beginning", name, c.beginning_pence)
            for line, amount in c.lines:
                add(section, line, name, amount)
            add(section, "ending", name, c.ending_pence)
    for name, c in statement.commitments:
        for field, amount in asdict(c).items():
            add("commitments", field.removesuffix("_pence"), name, amount)
    for section, perf in (("performance", statement.performance), ("fund_performance", statement.fund_performance)):
        add(section, "paid_in", "itd", perf.paid_in_pence)
        add(section, "distributed", "itd", perf.distributed_pence)
        add(section, "nav", "itd", perf.nav_pence)
        for name in ("dpi", "rvpi", "tvpi", "irr"):
            value = getattr(perf, name)
            reason = perf.irr_reason if name == "irr" else perf.multiples_reason
            add(section, name, "itd", None, value if value is not None else f"n/a: {reason}")
    for r in statement.restrictions:
        add("restrictions", f"{r.restriction}:applied", "qtd", r.applied_qtd_pence)
        add("restrictions", f"{r.restriction}:applied", "ytd", r.applied_ytd_pence)
        add("restrictions", f"{r.restriction}:applied", "itd", r.applied_itd_pence)
        add("restrictions", f"{r.restriction}:unapplied", "itd", r.unapplied_pence)
    for o in statement.outcomes:
        add("outcomes", f"{o.project}:{o.outcome}", "qtd", None, o.achieved_qtd)
        add("outcomes", f"{o.project}:{o.outcome}", "itd", None, o.achieved_itd)
        add("outcomes", f"{o.project}:{o.outcome}:target", "itd", None, o.target)
    for p in statement.projects:
        add("projects", f"{p.project}:participants", "itd", None, p.participants)
        add("projects", f"{p.project}:outcome_payments", "qtd", p.payments_qtd_pence)
        add("projects", f"{p.project}:outcome_payments", "itd", p.payments_itd_pence)
        add("projects", f"{p.project}:outcome_payments_target", "itd", p.payments_target_pence)
    return rows


def render_csv(statement: Statement) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in csv_rows(statement):
        writer.writerow(["" if row[c] is None else spreadsheet_safe(row[c]) for c in CSV_COLUMNS])
    return buffer.getvalue()


def file_stem(statement: Statement) -> str:
    return f"{statement.fund}_{statement.investor}_{statement.quarter}"


def write_statement(statement: Statement, out_dir: Path, formats: Iterable[str]) -> list[Path]:
    """Write the statement in each format; returns the paths written (sorted by format order)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = file_stem(statement)
    written: list[Path] = []
    html = None
    for fmt in FORMATS:
        if fmt not in formats:
            continue
        path = out_dir / f"{stem}.{fmt}"
        if fmt in ("html", "pdf") and html is None:
            html = render_html(statement)
        if fmt == "html":
            path.write_text(html, encoding="utf-8")
        elif fmt == "pdf":
            path.write_bytes(render_pdf(html))
        elif fmt == "csv":
            path.write_text(render_csv(statement), encoding="utf-8")
        else:
            path.write_text(render_json(statement), encoding="utf-8")
        written.append(path)
    return written


def _write_one(args) -> list[str]:
    statement, out_dir, formats = args
    return [str(p) for p in write_statement(statement, Path(out_dir), formats)]


def write_statements(statements: Sequence[Statement], out_dir: Path, formats: Sequence[str], jobs: int = 1,
                     progress=None) -> list[Path]:
    """Write many statements; ``jobs`` > 1 renders in worker processes (PDF is CPU-bound).
    ``progress`` is called once per statement written."""
    tasks = [(s, str(out_dir), tuple(formats)) for s in statements]
    written: list[Path] = []
    if jobs > 1 and len(tasks) > 1:
        import multiprocessing

        context = multiprocessing.get_context("fork") if hasattr(multiprocessing, "get_context") else multiprocessing
        with context.Pool(jobs) as pool:
            for paths in pool.imap(_write_one, tasks, chunksize=max(1, min(20, len(tasks) // (jobs * 4) or 1))):
                written += [Path(p) for p in paths]
                if progress:
                    progress()
    else:
        for task in tasks:
            written += [Path(p) for p in _write_one(task)]
            if progress:
                progress()
    return written
