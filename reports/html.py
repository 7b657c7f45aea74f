"""Shared HTML helpers for rendered documents: a strict jinja2 environment, money and number
filters, and deterministic inline SVG charts.

Used by the council outcome payment statements (``reports/council``) and the fund manager
reports (``reports/fund_reports.py``); the investor statements (``reports/statements``) can
use it too. Everything here is deterministic: integer coordinates, no timestamps, no random
ids, no JavaScript, no network fonts, so the same figures always give byte-identical HTML.
Templates run with ``StrictUndefined`` and autoescape: a missing figure fails the render
instead of printing blank, and text from data (participant ids, evidence references) can
never become markup.
"""

from __future__ import annotations

from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Sequence

from ledger.money import format_amount

#: One stylesheet for every rendered report (inlined: documents are single files).
BASE_CSS = """\
@page { size: A4 landscape; margin: 12mm 10mm; }
body { font-family: sans-serif; font-size: 9pt; color: #111; }
h1 { font-size: 14pt; margin: 0 0 2mm 0; }
h2 { font-size: 11pt; margin: 5mm 0 2mm 0; border-bottom: 1px solid #999; }
table.figures { border-collapse: collapse; width: 100%; margin-bottom: 3mm; }
table.figures th, table.figures td { padding: 0.8mm 1.5mm; border-bottom: 1px solid #ddd; text-align: left; }
table.figures th { background: #f2f2f2; }
.num { text-align: right !important; }
td.num { white-space: nowrap; }
/* Headers and text cells wrap (ids break at any character) so a wide table fits the page
   instead of running off its right edge; weasyprint clips what does not fit. */
table.figures th { white-space: normal; vertical-align: bottom; }
table.figures td { overflow-wrap: anywhere; }
table.wide { font-size: 7pt; }
table.wide th, table.wide td { padding: 0.6mm 0.8mm; }
tr.total td { font-weight: bold; border-top: 1px solid #111; }
tr.highlight td { background: #fff6d6; }
.meta td { padding: 0 4mm 0 0; }
.note { color: #555; font-size: 8pt; }
"""


def money(pence: int | None, currency: str = "GBP") -> str:
    """Pounds with thousands separators; negatives in brackets. ``None`` is refused: a missing
    figure must fail, not print blank (use :func:`money_or_dash` where blank is meaningful)."""
    if pence is None:
        raise ValueError("missing amount")
    if isinstance(pence, bool) or not isinstance(pence, int):
        raise TypeError(f"money needs integer pence, got {type(pence).__name__}")
    text = format_amount(abs(pence), currency, separators=True)
    return f"({text})" if pence < 0 else text


def money_or_dash(pence: int | None, currency: str = "GBP") -> str:
    """Like :func:`money`, but ``None`` (no cap, not applicable) shows as an en dash."""
    return "\u2013" if pence is None else money(pence, currency)


def number(value: int | None) -> str:
    """A whole number with thousands separators; ``None`` as an en dash."""
    if value is None:
        return "\u2013"
    return f"{int(value):,}"


#: symbols charts put before an amount, so a chart reads as money without its table.
SYMBOLS = {"GBP": "\u00a3", "EUR": "\u20ac", "USD": "$"}


def pounds(pence: int, currency: str = "GBP") -> str:
    """An amount as a chart labels it: the currency symbol (or code) and the :func:`money`
    text, "£224,100.00", "(£1.50)"."""
    symbol = SYMBOLS.get(currency, f"{currency} ")
    text = money(abs(pence), currency)
    return f"({symbol}{text})" if pence < 0 else f"{symbol}{text}"


@lru_cache(maxsize=None)
def environment(template_dir: str):
    """A jinja2 environment over ``template_dir``: StrictUndefined, autoescape, the filters
    ``money``, ``money_or_dash`` and ``number``, and ``base_css`` as a global."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(template_dir),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["money"] = money
    env.filters["money_or_dash"] = money_or_dash
    env.filters["number"] = number
    env.globals["base_css"] = BASE_CSS
    return env


def render(template_dir: Path, name: str, **context) -> str:
    return environment(str(template_dir)).get_template(name).render(**context)


@lru_cache(maxsize=1)
def _font_config():
    """One font configuration per process: weasyprint otherwise sets up fontconfig for every
    document (about a tenth of each statement's PDF time)."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def render_pdf(html: str, base_url: Path | None = None) -> bytes:
    """PDF from rendered HTML (weasyprint; the HTML is self-contained)."""
    import weasyprint

    document = weasyprint.HTML(string=html, base_url=str(base_url) if base_url else None)
    return document.write_pdf(font_config=_font_config())


# ---------------------------------------------------------------------------- charts (SVG)
#
# Every colour, stroke and font is a presentation attribute on the element itself, not a CSS
# class: weasyprint draws inline SVG without the page's stylesheet, so a class-styled polyline
# came out as a solid black filled shape and class-styled bars as black boxes in the PDFs.
# Attributes render the same in Chromium and in weasyprint.

BLUE, ORANGE, RED, GREY, INK = "#3b6ea5", "#e59b2f", "#c0392b", "#999999", "#111111"
#: characters per label line at 9px sans-serif in the bar chart's label column.
LABEL_CHARS = 38


def wrap_label(label: str, width: int = LABEL_CHARS) -> list[str]:
    """Break a chart label into lines of at most ``width`` characters at spaces (or hard, for a
    single longer word), so long names are shown whole instead of cut."""
    lines: list[str] = []
    current = ""
    for word in str(label).split():
        while len(word) > width:
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:width])
            word = word[width:]
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current = f"{current} {word}"
        else:
            lines.append(current)
            current = word
    if current or not lines:
        lines.append(current)
    return lines


def outcome_label(outcome_id: str) -> str:
    """An outcome id read as words ("accommodation-sustained_6m" -> "Accommodation sustained
    6m"): claims and impact data carry ids only, and a chart label must be readable."""
    text = " ".join(outcome_id.replace("-", " ").replace("_", " ").split())
    return text[:1].upper() + text[1:]


def _text(x: int, y: int, text: str, anchor: str = "start", bold: bool = False) -> str:
    font = 'font-family="sans-serif" font-size="10" font-weight="bold"' if bold else 'font-family="sans-serif" font-size="9"'
    return f'<text x="{x}" y="{y}" {font} fill="{INK}" text-anchor="{anchor}">{escape(text)}</text>'


def _svg_open(title: str, width: int, height: int) -> list[str]:
    lines = wrap_label(title, width // 6)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        'style="max-width: 100%; height: auto">',
        *[_text(10, 16 + 12 * i, line, bold=True) for i, line in enumerate(lines)],
    ]


def _title_height(title: str, width: int) -> int:
    return 12 * (len(wrap_label(title, width // 6)) - 1)


def bar_chart(
    title: str,
    bars: Sequence[tuple[str, int, int | None]],
    currency: str | None = "GBP",
    width: int = 640,
) -> str:
    """Horizontal bars ``(label, value, target or None)``; a target is drawn as a red tick.

    Values are integers (pence when ``currency`` is given, shown as pounds; plain counts when
    ``currency`` is None). Labels are wrapped, never cut. Negative values are drawn as
    zero-length bars but labelled.
    """
    line_h, label_w, pad = 11, 220, 10
    wrapped = [wrap_label(label) for label, _, _ in bars]
    rows_h = [max(24, 8 + line_h * len(lines)) for lines in wrapped]
    top_y = pad + 22 + _title_height(title, width)
    height = top_y + pad + (sum(rows_h) if bars else 30)
    top = max([1] + [max(v, 0) for _, v, _ in bars] + [max(t, 0) for _, _, t in bars if t is not None])
    plot_w = width - label_w - 150
    shown = (lambda v: pounds(v, currency)) if currency else number
    parts = _svg_open(title, width, height)
    if not bars:
        parts.append(_text(pad, top_y + 16, "No data yet"))
    y = top_y
    for (label, value, target), lines, row_h in zip(bars, wrapped, rows_h):
        for k, line in enumerate(lines):
            parts.append(_text(pad, y + 13 + line_h * k, line))
        w = max(value, 0) * plot_w // top
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="15" fill="{BLUE}"/>')
        text = shown(value) if target is None else f"{shown(value)} of {shown(target)}"
        end = label_w + w
        if target is not None:
            x = label_w + max(target, 0) * plot_w // top
            parts.append(f'<line x1="{x}" y1="{y}" x2="{x}" y2="{y + 21}" stroke="{RED}" stroke-width="2"/>')
            end = max(end, x)  # the value label starts after the target tick, never under it
        parts.append(_text(end + 6, y + 14, text))
        y += row_h
    parts.append("</svg>")
    return "\n".join(parts)


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    currency: str = "GBP",
    width: int = 640,
    height: int = 230,
) -> str:
    """One or two series of integer pence over labelled points (e.g. quarters), with a legend
    when there are two: the first series solid, the second dashed. The left margin fits the
    largest amount and the right margin half of the last label, so neither is clipped."""
    values = [v for _, points in series for v in points] or [0]
    low, high = min(0, min(values)), max(1, max(values))
    span = high - low
    top_text, low_text = pounds(high, currency), pounds(low, currency)
    pad_l = max(60, 12 + 6 * max(len(top_text), len(low_text)))
    pad_r = max(20, 4 + 3 * max([len(label) for label in labels] or [0]))
    pad_t, pad_b = 44 + _title_height(title, width), 40
    plot_w, plot_h = width - pad_l - pad_r, height - pad_t - pad_b

    def xy(i: int, v: int) -> tuple[int, int]:
        x = pad_l + (i * plot_w // (len(labels) - 1) if len(labels) > 1 else plot_w // 2)
        return x, pad_t + plot_h - (v - low) * plot_h // span

    axis = f'stroke="{GREY}" stroke-width="1"'
    parts = _svg_open(title, width, height)
    parts += [
        f'<line x1="{pad_l}" y1="{pad_t + plot_h}" x2="{pad_l + plot_w}" y2="{pad_t + plot_h}" {axis}/>',
        f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{pad_t + plot_h}" {axis}/>',
        _text(pad_l - 6, pad_t + 4, top_text, "end"),
        _text(pad_l - 6, pad_t + plot_h, low_text, "end"),
    ]
    legend_y = pad_t - 14
    for k, (name, points) in enumerate(series[:2]):
        colour = BLUE if k == 0 else ORANGE
        style = f'fill="none" stroke="{colour}" stroke-width="2"' + ("" if k == 0 else ' stroke-dasharray="4 2"')
        coords = [xy(i, v) for i, v in enumerate(points)]
        if coords:
            parts.append(f'<polyline {style} points="' + " ".join(f"{x},{y}" for x, y in coords) + '"/>')
            parts += [f'<circle cx="{x}" cy="{y}" r="2.5" fill="{colour}"/>' for x, y in coords]
        if len(series) > 1:
            lx = pad_l + k * 160
            parts.append(f'<line x1="{lx}" y1="{legend_y}" x2="{lx + 20}" y2="{legend_y}" {style}/>')
            parts.append(_text(lx + 24, legend_y + 3, name))
    for i, label in enumerate(labels):
        x, _ = xy(i, 0)
        parts.append(_text(x, pad_t + plot_h + 16, label, "middle"))
    parts.append("</svg>")
    return "\n".join(parts)
