"""Local VCSE capacity: how much of the fund's money reaches local voluntary, community and social
enterprise organisations (docs/value.md, "Local VCSE capacity"). Pure: rows in, figures out.

* An organisation's **type** is one of :data:`ORG_TYPES`; VCSE = charity, CIO, CIC or community
  group (:data:`VCSE_TYPES`). Its **size band** follows NCVO's bands by annual income
  (:data:`SIZE_BANDS`); its **area** is the ONS code of its local authority (``E08000012``).
* **Local** = its area is in the fund's list of local areas.
* Each flow is ``(quarter, measure, scope, recipient, pence)``: ``measure`` is ``delivery``
  (disbursements to a project's provider; pass-through to a joint prime's delivery partners) or
  ``outcome`` (outcome payments, by who finally receives them: a joint prime's partners their
  pass-through, the prime the rest). ``scope`` is the contract (or project) the flow belongs to.
* **Share** = local VCSE pence / all pence of the measure, 4 places half-up (blank if none).
  A recipient with no profile counts as not VCSE ("unknown" in the breakdowns).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Mapping, Sequence

from ledger.errors import ImportRejected

ORG_TYPES = ("charity", "cio", "cic", "community_group", "private", "public")
VCSE_TYPES = frozenset({"charity", "cio", "cic", "community_group"})
#: NCVO UK Civil Society Almanac bands by annual income: micro < £10k, small £10k-£100k,
#: medium £100k-£1m, large £1m-£10m, major > £10m (super-major > £100m folded into major).
SIZE_BANDS = ("micro", "small", "medium", "large", "major")
MEASURES = ("delivery", "outcome")
ONS_CODE = re.compile(r"^[ENSW]\d{8}$")
UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Organisation:
    party_id: str
    org_type: str
    size_band: str
    la_code: str

    @property
    def vcse(self) -> bool:
        return self.org_type in VCSE_TYPES


@dataclass(frozen=True, slots=True)
class Flow:
    quarter: str
    measure: str
    scope: str
    recipient: str
    amount_pence: int


def organisations_from_rows(rows: Iterable[Mapping[str, str]], source: str) -> list[Organisation]:
    """Rows with ``party_id, org_type, size_band, la_code``; every bad row reported at once."""
    problems, out, seen = [], [], set()
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        where = f"{source}: row {number}"
        party = (row.get("party_id") or "").strip()
        org_type = (row.get("org_type") or "").strip().lower().replace(" ", "_")
        size = (row.get("size_band") or "").strip().lower()
        code = (row.get("la_code") or "").strip().upper()
        if not party:
            problems.append(f"{where}: party_id: is required")
        elif party in seen:
            problems.append(f"{where}: party_id: {party!r} appears twice")
        if org_type not in ORG_TYPES:
            problems.append(f"{where}: org_type: {org_type!r} is not one of {', '.join(ORG_TYPES)}")
        if size not in SIZE_BANDS:
            problems.append(f"{where}: size_band: {size!r} is not one of {', '.join(SIZE_BANDS)}")
        if not ONS_CODE.match(code):
            problems.append(f"{where}: la_code: {code!r} is not an ONS local authority code like E08000012")
        seen.add(party)
        out.append(Organisation(party, org_type, size, code))
    if problems:
        raise ImportRejected(f"{source}: organisations rejected", problems)
    return out


def check_areas(codes: Sequence[str], where: str) -> list[str]:
    bad = [c for c in codes if not ONS_CODE.match(c.strip().upper())]
    if bad or not codes:
        raise ImportRejected(f"{where}: areas rejected",
                             [f"{where}: {c!r} is not an ONS local authority code like E08000012" for c in bad]
                             or [f"{where}: give at least one area"])
    return sorted({c.strip().upper() for c in codes})


def share(part_pence: int, whole_pence: int) -> Decimal | None:
    if not whole_pence:
        return None
    return (Decimal(part_pence) / Decimal(whole_pence)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def is_local_vcse(org: Organisation | None, areas: frozenset[str]) -> bool:
    return org is not None and org.vcse and org.la_code in areas


def shares(flows: Sequence[Flow], organisations: Mapping[str, Organisation], areas: Iterable[str],
           scopes: Mapping[str, str] | None = None) -> dict:
    """Per (group, quarter, measure) — group ``fund`` and each scope named in ``scopes`` (a joint
    prime's contract -> its label) — the total, the local VCSE part and its share; and the local
    VCSE pence by size band and by area, per (group, measure) over all quarters."""
    local = frozenset(areas)
    scopes = scopes or {}
    totals: dict[tuple[str, str, str], list[int]] = {}
    by_size: dict[tuple[str, str, str], int] = {}
    by_area: dict[tuple[str, str, str], int] = {}
    for flow in flows:
        org = organisations.get(flow.recipient)
        hit = is_local_vcse(org, local)
        for group in ("fund", *([scopes[flow.scope]] if flow.scope in scopes else [])):
            cell = totals.setdefault((group, flow.quarter, flow.measure), [0, 0])
            cell[0] += flow.amount_pence
            if hit:
                cell[1] += flow.amount_pence
            size = org.size_band if org else UNKNOWN
            area = org.la_code if org else UNKNOWN
            if hit:
                by_size[(group, flow.measure, size)] = by_size.get((group, flow.measure, size), 0) + flow.amount_pence
                by_area[(group, flow.measure, area)] = by_area.get((group, flow.measure, area), 0) + flow.amount_pence
    rows = [{"group": g, "quarter": q, "measure": m, "total_pence": t, "local_vcse_pence": v, "share": share(v, t)}
            for (g, q, m), (t, v) in sorted(totals.items())]
    return {"quarters": rows, "by_size": by_size, "by_area": by_area}
