"""The money-flow chart of the value report: payers -> outcomes -> agencies (inline SVG,
deterministic). Left, the payers' shares of the outcome lines; middle, the outcomes they paid
for; right, the agencies whose fiscal value those outcomes create. Band widths are to one
scale (pence), so a wide right side next to a narrow left one is the case for investing."""

from __future__ import annotations

from html import escape
from typing import Mapping

from reports.html import _svg_open, money

WIDTH, HEIGHT, NODE_W, GAP = 820, 340, 14, 6
COLUMNS_X = (260, 450, 640)
FILLS = {"flow-pay": "#1f5f99", "flow-value": "#2e8540"}  # payers' money blue, public value green


def _stack(totals: Mapping[str, int], scale: float, top: int) -> dict[str, tuple[float, float]]:
    """Node -> (y, height), stacked down the column in the order given."""
    out, y = {}, float(top)
    for key, pence in totals.items():
        h = max(1.0, pence * scale)
        out[key] = (y, h)
        y += h + GAP
    return out


def flow_chart(title: str, payer_outcome: Mapping[tuple[str, str], int], outcome_agency: Mapping[tuple[str, str], int],
               labels: Mapping[str, str], currency: str = "GBP") -> str:
    payers: dict[str, int] = {}
    outcomes_in: dict[str, int] = {}
    agencies: dict[str, int] = {}
    for (p, o), v in sorted(payer_outcome.items()):
        payers[p] = payers.get(p, 0) + v
        outcomes_in[o] = outcomes_in.get(o, 0) + v
    outcomes_out: dict[str, int] = {}
    for (o, a), v in sorted(outcome_agency.items()):
        agencies[a] = agencies.get(a, 0) + v
        outcomes_out[o] = outcomes_out.get(o, 0) + v
    middle = {o: max(outcomes_in.get(o, 0), outcomes_out.get(o, 0)) for o in sorted(set(outcomes_in) | set(outcomes_out))}
    usable = HEIGHT - 40 - GAP * max(len(payers), len(middle), len(agencies), 1)
    biggest = max(sum(payers.values()), sum(middle.values()), sum(agencies.values()), 1)
    scale = usable / biggest
    nodes = [_stack(payers, scale, 30), _stack(middle, scale, 30), _stack(agencies, scale, 30)]
    parts = _svg_open(title, WIDTH, HEIGHT)
    used_out = {k: 0.0 for k in payers}
    used_mid_in = {k: 0.0 for k in middle}
    used_mid_out = {k: 0.0 for k in middle}
    used_in = {k: 0.0 for k in agencies}

    def band(x0, y0, x1, y1, h, cls, text):
        mid = (x0 + x1) / 2
        parts.append(f'<path class="{cls}" d="M{x0:.1f},{y0:.1f} C{mid:.1f},{y0:.1f} {mid:.1f},{y1:.1f} {x1:.1f},{y1:.1f} '
                     f'L{x1:.1f},{y1 + h:.1f} C{mid:.1f},{y1 + h:.1f} {mid:.1f},{y0 + h:.1f} {x0:.1f},{y0 + h:.1f} Z" '
                     f'fill="{FILLS[cls]}" fill-opacity="0.45"><title>{escape(text)}</title></path>')

    for (p, o), v in sorted(payer_outcome.items()):
        h = v * scale
        band(COLUMNS_X[0] + NODE_W, nodes[0][p][0] + used_out[p], COLUMNS_X[1], nodes[1][o][0] + used_mid_in[o], h,
             "flow-pay", f"{labels.get(p, p)} -> {labels.get(o, o)}: {money(v, currency)}")
        used_out[p] += h
        used_mid_in[o] += h
    for (o, a), v in sorted(outcome_agency.items()):
        h = v * scale
        band(COLUMNS_X[1] + NODE_W, nodes[1][o][0] + used_mid_out[o], COLUMNS_X[2], nodes[2][a][0] + used_in[a], h,
             "flow-value", f"{labels.get(o, o)} -> {labels.get(a, a)}: {money(v, currency)}")
        used_mid_out[o] += h
        used_in[a] += h
    for column, (x, stack, totals) in enumerate(zip(COLUMNS_X, nodes, (payers, middle, agencies))):
        for key, (y, h) in stack.items():
            parts.append(f'<rect class="flow-node" fill="#333" x="{x}" y="{y:.1f}" width="{NODE_W}" height="{h:.1f}"/>')
            label = f"{labels.get(key, key)} {money(totals[key], currency)}" if column != 1 else labels.get(key, key)
            anchor, lx = ("end", x - 4) if column == 0 else ("start", x + NODE_W + 4)
            parts.append(f'<text x="{lx}" y="{y + h / 2 + 4:.1f}" text-anchor="{anchor}" class="flow-label" font-size="12">'
                         f'{escape(label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
