"""The pages' jinja2 environment (StrictUndefined, autoescape) and the page response helper.

Filters: ``money`` (integer pence -> "£1,234.56", negatives in brackets; the one formatter of
``reports.html``), ``money_or_dash``, ``number``, ``label`` (a column name for people:
``called_unpaid_pence`` -> "Called unpaid"), ``cell`` (a report cell: money for ``*_pence``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from reports import html as documents
from reports.html import number

TEMPLATES = Path(__file__).parent / "templates"

ROLE_NAMES = {"fund_manager": "Fund manager", "investor": "Investor", "commissioner": "Council",
              "auditor": "Auditor", "partner": "Delivery partner", "applicant": "Applicant", "assessor": "Assessor"}


SYMBOLS = {"GBP": "\u00a3", "EUR": "\u20ac", "USD": "$"}


def money(pence: int | None, currency: str = "GBP") -> str:
    """Integer pence as "£1,234.56" (negatives "(£1,234.56)"); the digits come from the one
    formatter of the rendered documents, ``reports.html.money``. Another currency without a
    symbol shows its code: "1,234.56 CHF"."""
    text = documents.money(pence, currency)
    negative = text.startswith("(")
    digits = text.strip("()")
    shown = SYMBOLS[currency] + digits if currency in SYMBOLS else f"{digits} {currency}"
    return f"({shown})" if negative else shown


def money_or_dash(pence: int | None, currency: str = "GBP") -> str:
    return "\u2013" if pence is None else money(pence, currency)


def label(column: str) -> str:
    text = column.removesuffix("_pence").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def last_day(exclusive_end) -> str:
    """The last day inside a half-open ``[start, end)`` range, as a reader counts a term."""
    from datetime import timedelta

    return (exclusive_end - timedelta(days=1)).isoformat()


def line_label(line: str) -> str:
    """A capital account line as the PDF statement names it ("Realised gains (losses)")."""
    from ledger.fund_terms import LINE_LABELS

    return LINE_LABELS.get(line) or label(line)


def cell(column: str, value: Any, currency: str = "GBP") -> str:
    if value is None or value == "":
        return "\u2013"
    if column.endswith("_pence") and isinstance(value, int) and not isinstance(value, bool):
        return money(value, currency)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return number(value)
    return str(value)


@lru_cache(maxsize=1)
def environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "j2"], default=True), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters.update(money=money, money_or_dash=money_or_dash, number=number, label=label, line_label=line_label,
                       last_day=last_day)
    env.globals.update(cell=cell, role_names=ROLE_NAMES)
    return env


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page with what every page needs: the principal, the CSRF token, the base path."""
    from ledger.shell.web.access import COOKIE, csrf_token

    principal = getattr(request.state, "principal", None)
    session = request.cookies.get(COOKIE, "")
    base = request.scope.get("root_path", "")
    html = environment().get_template(template).render(
        request_path=request.url.path, principal=principal, csrf=csrf_token(session) if session else "",
        base=base, **context)
    return HTMLResponse(html, status_code=status_code,
                        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                                 "X-Frame-Options": "SAMEORIGIN", "Referrer-Policy": "same-origin"})
