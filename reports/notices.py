"""Capital call and distribution notices rendered: HTML (jinja2, strict, autoescaped) and PDF
(weasyprint, as the statements). The figures come from :mod:`ledger.notices`; nothing here
computes. Deterministic: no timestamps (the notice date is a figure), so the same figures give
byte-identical HTML, which is what issuing freezes and golden files compare.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from reports.html import money

TEMPLATES = Path(__file__).parent / "templates" / "notices"


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "j2"], default=True),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["money"] = money
    return env


def render_html(figures: dict) -> str:
    """A notice's HTML: ``figures["kind"]`` is drawdown_notice or distribution_notice."""
    return _environment().get_template(f"{figures['kind']}.html.j2").render(n=figures)


def render_pdf(html: str) -> bytes:
    from reports.html import render_pdf as pdf

    return pdf(html, TEMPLATES)


def render_json(figures: dict) -> str:
    return json.dumps(figures, indent=2, sort_keys=True) + "\n"


def file_stem(figures: dict) -> str:
    if figures["kind"] == "drawdown_notice":
        return (f"{figures['fund']['id']}_{figures['investor']['id']}_capital-call_{figures['tranche']['id']}_"
                f"{figures['due_date']}")
    return f"{figures['fund']['id']}_{figures['investor']['id']}_distribution_{figures['date']}"
