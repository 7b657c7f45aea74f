"""Partner statements (HTML, CSV, JSON) and the project pipeline report.

The figures come from :func:`models.partners_store.partner_statement` (a plain dict); these
functions only render them. HTML runs through jinja2 with ``StrictUndefined`` and autoescape,
so a missing figure fails the render and text from data cannot become markup; the output is
deterministic (no timestamps), so identical figures give identical bytes. CSV goes through
:func:`reports.render.to_csv` (formula-looking text neutralised); JSON keeps integer pence.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from ledger.money import format_amount
from reports.render import to_csv

TEMPLATES = Path(__file__).parent / "templates"
STATEMENT_FORMATS = ("html", "csv", "json")

#: One CSV row per figure: section, item, value (pence for money), so a spreadsheet can re-add it.
CSV_COLUMNS = ["section", "item", "outcome_id", "participant_id", "count", "amount_pence", "value"]


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "j2"], default=True),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)  # fmt: skip
    env.filters["money"] = money
    return env


def money(pence: int | None, currency: str = "GBP") -> str:
    """Pounds with separators, negatives in brackets; a missing figure is refused, not blank."""
    if pence is None:
        raise ValueError("missing amount")
    text = format_amount(abs(int(pence)), currency, separators=True)
    return f"({text})" if pence < 0 else text


def statement_html(figures: dict) -> str:
    return _environment().get_template("partner_statement.html.j2").render(s=figures)


def statement_json(figures: dict) -> str:
    return json.dumps(figures, indent=2, sort_keys=False) + "\n"


def statement_rows(figures: dict) -> list[dict]:
    """The statement flattened to rows for CSV: header, by outcome, period figures, to date, lines."""
    rows: list[dict] = []

    def add(section: str, item: str, *, outcome=None, participant=None, count=None, amount=None, value=None):
        rows.append({"section": section, "item": item, "outcome_id": outcome, "participant_id": participant,
                     "count": count, "amount_pence": amount, "value": value})  # fmt: skip

    add("statement", "contract", value=figures["contract"]["id"])
    add("statement", "partner", value=figures["partner"]["id"])
    add("statement", "period", value=figures["period"])
    add("statement", "prime", value=figures["prime"]["id"])
    for row in figures["by_outcome"]:
        add("outcomes", "achieved", outcome=row["outcome_id"], count=row["achieved"], amount=row["net_pence"])
        if row["not_accepted"]:
            add("outcomes", "not_accepted", outcome=row["outcome_id"], count=row["not_accepted"])
    period = figures["period_figures"]
    for key in ("net_pence", "clawback_pence", "received_pence", "share_before_cap_pence", "fee_period_pence",
                "fee_participants_pence", "cap_reduction_pence", "share_pence", "fees_pence", "total_pence",
                "paid_pence", "outstanding_pence"):
        add("period", key.removesuffix("_pence"), amount=period[key])
    add("period", "participants", count=period["participants"])
    add("period", "new_participants", count=period["new_participants"])
    add("period", "cap_applied", value=period["cap_applied"] or None)
    for key, value in figures["to_date"].items():
        add("to_date", key.removesuffix("_pence"), amount=value)
    for line in figures["lines"]:
        add("lines", str(line["line_no"]), outcome=line["outcome_id"], participant=line["participant_id"],
            amount=line["net_pence"], value=line["reason"] or line["achieved_on"])
    return rows


def statement_csv(figures: dict) -> str:
    return to_csv(statement_rows(figures), CSV_COLUMNS)


def render_statement(figures: dict, fmt: str) -> str:
    renderers = {"html": statement_html, "csv": statement_csv, "json": statement_json}
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r} (known: {', '.join(STATEMENT_FORMATS)})")
    return renderers[fmt](figures)


def statement_file_name(figures: dict, fmt: str) -> str:
    return f"partner-statement_{figures['contract']['id']}_{figures['partner']['id']}_{figures['period']}.{fmt}"
