"""The fan chart of a forecast (inline SVG, deterministic): cumulative outcome payments paid so
far (solid), then the band from the low to the high scenario (shaded) with the central one
(dashed) to the end of the term, and the contract cap as a red line when there is one."""

from __future__ import annotations

from typing import Sequence

from reports.html import BLUE, GREY, ORANGE, RED, _svg_open, _text, pounds


def fan_chart(title: str, quarters: Sequence[str], actual: Sequence[int], low: Sequence[int],
              central: Sequence[int], high: Sequence[int], cap_pence: int | None = None,
              currency: str = "GBP", width: int = 640, height: int = 240) -> str:
    """``actual`` covers the first quarters; ``low``/``central``/``high`` the rest (cumulative,
    from the last actual figure on)."""
    top = max([1, *actual, *high] + ([cap_pence] if cap_pence else []))
    pad_l, pad_r, pad_t, pad_b = max(60, 12 + 6 * len(pounds(top, currency))), 24, 48, 40
    plot_w, plot_h = width - pad_l - pad_r, height - pad_t - pad_b
    n = max(2, len(quarters))

    def xy(i: int, v: int) -> tuple[int, int]:
        return pad_l + i * plot_w // (n - 1), pad_t + plot_h - v * plot_h // top

    parts = _svg_open(title, width, height)
    axis = f'stroke="{GREY}" stroke-width="1"'
    parts += [f'<line x1="{pad_l}" y1="{pad_t + plot_h}" x2="{pad_l + plot_w}" y2="{pad_t + plot_h}" {axis}/>',
              f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{pad_t + plot_h}" {axis}/>',
              _text(pad_l - 6, pad_t + 4, pounds(top, currency), "end"), _text(pad_l - 6, pad_t + plot_h, pounds(0, currency), "end")]
    start = len(actual) - 1
    if low and start >= 0:
        upper = [xy(start, actual[-1])] + [xy(start + 1 + j, v) for j, v in enumerate(high)]
        lower = [xy(start, actual[-1])] + [xy(start + 1 + j, v) for j, v in enumerate(low)]
        points = " ".join(f"{x},{y}" for x, y in upper + lower[::-1])
        parts.append(f'<polygon class="fan-band" points="{points}" fill="{ORANGE}" fill-opacity="0.25" stroke="none"/>')
        mid = [xy(start, actual[-1])] + [xy(start + 1 + j, v) for j, v in enumerate(central)]
        parts.append(f'<polyline class="fan-central" fill="none" stroke="{ORANGE}" stroke-width="2" stroke-dasharray="4 2" '
                     f'points="{" ".join(f"{x},{y}" for x, y in mid)}"/>')
    if actual:
        parts.append(f'<polyline class="fan-actual" fill="none" stroke="{BLUE}" stroke-width="2" '
                     f'points="{" ".join(f"{x},{y}" for x, y in (xy(i, v) for i, v in enumerate(actual)))}"/>')
    if cap_pence:
        _, y = xy(0, cap_pence)
        parts.append(f'<line class="fan-cap" x1="{pad_l}" y1="{y}" x2="{pad_l + plot_w}" y2="{y}" stroke="{RED}" stroke-width="1"/>')
        parts.append(_text(pad_l + plot_w, y - 3, f"cap {pounds(cap_pence, currency)}", "end"))
    legend = ((BLUE, "paid so far", ""), (ORANGE, "central forecast", ' stroke-dasharray="4 2"'))
    for k, (colour, name, dash) in enumerate(legend):
        lx = pad_l + k * 150
        parts.append(f'<line x1="{lx}" y1="{pad_t - 14}" x2="{lx + 20}" y2="{pad_t - 14}" stroke="{colour}" stroke-width="2"{dash}/>')
        parts.append(_text(lx + 24, pad_t - 11, name))
    parts.append(f'<rect x="{pad_l + 300}" y="{pad_t - 19}" width="20" height="9" fill="{ORANGE}" fill-opacity="0.25"/>')
    parts.append(_text(pad_l + 324, pad_t - 11, "low to high (5th-95th percentile)"))
    step = max(1, len(quarters) // 8)
    for i, q in enumerate(quarters):
        if i % step == 0 or i == len(quarters) - 1:
            x, _ = xy(i, 0)
            parts.append(_text(x, pad_t + plot_h + 16, q, "middle"))
    parts.append("</svg>")
    return "\n".join(parts)
