"""Public value of outcomes: value tables, a deflator series, and the Green Book / GMCA CBA
arithmetic (pure; no database, no files).

A **value table** (TOML, ``docs/value.md``) gives, per outcome of one contract, what achieving it
is worth: fiscal values split by the agency that saves, economic and social values, each with
its source, price-base year and evidence grade. It is versioned like a rate card
(``[[versions]]`` with ``effective_from``); the version that applies on the report date is used.

For one value line of one outcome the arithmetic is, in this order (HM Treasury / New Economy,
*Supporting public service transformation: cost benefit analysis guidance for local
partnerships*, 2014, chapter 7; Green Book discounting):

1. **uprate** the published amount to the statement's price base: ``amount * index(base) /
   index(price_year)`` with the GDP deflator series;
2. ``quantity`` of the unit per outcome (e.g. 0.25 of a year's benefit);
3. **deadweight**: keep ``1 - deadweight`` (what would have happened anyway);
4. **attribution**: keep ``attribution`` (the share due to this intervention);
5. **optimism bias**: keep ``1 - optimism_bias`` (a reduction of benefits for weak evidence);
6. **duration and decay**: the benefit lasts ``duration_years``; year ``t`` (0-based) keeps
   ``(1 - decay) ** t`` of year 0 and is discounted by ``1 / (1 + discount_rate) ** t``.

Everything stays exact (Decimal) until one rounding, half-up to the penny, per outcome and
value line: ``count * unit value``. Ratios are Decimal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from typing import Any, Mapping, Sequence

from ledger.errors import ImportRejected, ValidationError
from ledger.money import parse_amount, round_minor

AGENCIES = ("local_authority", "nhs", "dwp", "hmrc", "police_cj", "housing")
AGENCY_NAMES = {"local_authority": "Local authority", "nhs": "NHS", "dwp": "DWP", "hmrc": "HMRC",
                "police_cj": "Police and criminal justice", "housing": "Housing"}
KINDS = ("fiscal", "economic", "social")
CHECKED = ("original", "second-hand")
GRADES = range(1, 6)  # evidence grade: 1 strongest (recent, audited local data) .. 5 weakest
DURATION_YEARS_MAX = 30
_YEAR = re.compile(r"^(\d{4})-(\d{2})$")
ZERO = Decimal(0)
ONE = Decimal(1)


# ---------------------------------------------------------------------------- the values


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    title: str
    publisher: str
    year: str
    location: str  # table, page or section of the figure
    url: str
    checked: str  # "original" (read in the publication) or "second-hand" (a report of it)


@dataclass(frozen=True, slots=True)
class ValueLine:
    kind: str  # fiscal | economic | social
    agency: str | None  # fiscal only: one of AGENCIES
    amount_pence: int  # as published, in its price year
    price_year: str  # financial year "2016-17"
    quantity: Decimal  # units of ``amount`` per outcome achieved
    source: str
    evidence_grade: int
    optimism_bias: Decimal
    note: str = ""


@dataclass(frozen=True, slots=True)
class OutcomeValue:
    outcome: str
    deadweight: Decimal
    attribution: Decimal
    duration_years: int
    decay: Decimal
    lines: tuple[ValueLine, ...]


@dataclass(frozen=True, slots=True)
class ValueVersion:
    version: str
    effective_from: date
    outcomes: tuple[OutcomeValue, ...]


@dataclass(frozen=True, slots=True)
class Deflator:
    """An index per financial year (``"2024-25" -> Decimal("100.0")``) and where it comes from."""

    name: str
    citation: str
    index: Mapping[str, Decimal]


@dataclass(frozen=True, slots=True)
class ValueTable:
    id: str
    contract: str
    currency: str
    discount_rate: Decimal
    sources: Mapping[str, Source]
    versions: tuple[ValueVersion, ...]
    deflator: Deflator

    def version_on(self, day: date) -> ValueVersion:
        applicable = [v for v in self.versions if v.effective_from <= day]
        if not applicable:
            first = min(v.effective_from for v in self.versions)
            raise ValidationError(f"value table {self.id}: no version applies on {day} (the first is from {first})",
                                  field="as_of")
        return max(applicable, key=lambda v: v.effective_from)


def financial_year(day: date) -> str:
    """The UK financial year (April to March) holding ``day``: 2025-12-31 -> ``"2025-26"``."""
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


# ---------------------------------------------------------------------------- the arithmetic


def uprate_factor(deflator: Deflator, from_year: str, to_year: str) -> Decimal:
    """``index(to_year) / index(from_year)`` (the Green Book's real-terms conversion)."""
    for year in (from_year, to_year):
        if year not in deflator.index:
            raise ValidationError(f"deflator {deflator.name} has no index for {year} "
                                  f"(it covers {min(deflator.index)} to {max(deflator.index)})", field="price_year")
    with localcontext() as ctx:
        ctx.prec = 40
        return deflator.index[to_year] / deflator.index[from_year]


def uprate(amount_pence: int, deflator: Deflator, from_year: str, to_year: str) -> int:
    """An amount in ``from_year`` prices restated in ``to_year`` prices, half-up to the penny."""
    return round_minor(Decimal(amount_pence) * uprate_factor(deflator, from_year, to_year))


def net_of_adjustments(gross: Decimal, deadweight: Decimal, attribution: Decimal, optimism_bias: Decimal) -> Decimal:
    """Gross benefit less deadweight, times attribution, less optimism bias (steps 3-5)."""
    return gross * (ONE - deadweight) * attribution * (ONE - optimism_bias)


def year_factors(duration_years: int, decay: Decimal, discount_rate: Decimal) -> tuple[Decimal, ...]:
    """Per year of the benefit, the share of year 0's value it keeps after decay and discounting."""
    with localcontext() as ctx:
        ctx.prec = 40
        # year 0 keeps all of itself (Decimal refuses 0 ** 0 when the decay is total)
        return tuple(ONE if t == 0 else (ONE - decay) ** t / (ONE + discount_rate) ** t for t in range(duration_years))


def discount_factor(year: int, rate: Decimal) -> Decimal:
    """Green Book discount factor ``1 / (1 + r) ** year`` (exact Decimal)."""
    with localcontext() as ctx:
        ctx.prec = 40
        return ONE / (ONE + rate) ** year


@dataclass(frozen=True, slots=True)
class LineValue:
    """One value line's figures for one outcome, every step shown (for the report's annex)."""

    outcome: str
    kind: str
    agency: str | None
    source: str
    evidence_grade: int
    count: int
    amount_pence: int  # as published
    price_year: str
    uprated_pence: int  # per unit, in the price base
    quantity: Decimal
    deadweight: Decimal
    attribution: Decimal
    optimism_bias: Decimal
    duration_years: int
    decay: Decimal
    unit_value: Decimal  # per outcome: present value after every step (pence, exact)
    year_pence: tuple[int, ...]  # count * unit value year by year, rounded
    total_pence: int  # count * unit value, rounded once


def value_line(outcome: OutcomeValue, line: ValueLine, count: int, deflator: Deflator, price_base: str,
               discount_rate: Decimal) -> LineValue:
    factor = uprate_factor(deflator, line.price_year, price_base)
    with localcontext() as ctx:
        ctx.prec = 40
        gross = Decimal(line.amount_pence) * factor * line.quantity
        year0 = net_of_adjustments(gross, outcome.deadweight, outcome.attribution, line.optimism_bias)
        years = tuple(year0 * f for f in year_factors(outcome.duration_years, outcome.decay, discount_rate))
        unit = sum(years, ZERO)
        total = round_minor(unit * count)
        year_pence = _split_years(total, [y * count for y in years])
    return LineValue(outcome.outcome, line.kind, line.agency, line.source, line.evidence_grade, count,
                     line.amount_pence, line.price_year, round_minor(Decimal(line.amount_pence) * factor),
                     line.quantity, outcome.deadweight, outcome.attribution, line.optimism_bias,
                     outcome.duration_years, outcome.decay, unit, year_pence, total)


def _split_years(total_pence: int, exact: Sequence[Decimal]) -> tuple[int, ...]:
    """Year-by-year pence that sum to ``total_pence`` exactly (the last year takes the rounding)."""
    rounded = [round_minor(v) for v in exact[:-1]]
    return (*rounded, total_pence - sum(rounded)) if exact else ()


def value_outcomes(version: ValueVersion, counts: Mapping[str, int], deflator: Deflator, price_base: str,
                   discount_rate: Decimal) -> tuple[LineValue, ...]:
    """Every value line of every valued outcome, for the outcome counts given (0 when absent)."""
    return tuple(value_line(o, line, int(counts.get(o.outcome, 0)), deflator, price_base, discount_rate)
                 for o in version.outcomes for line in o.lines)


def ratio(numerator: int, denominator: int, places: int = 2) -> Decimal | None:
    """``numerator / denominator`` to ``places`` decimals, half-up; None when the denominator is 0."""
    if denominator == 0:
        return None
    with localcontext() as ctx:
        ctx.prec = 40
        return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1).scaleb(-places))


def bcr(benefits_pence: int, costs_pence: int) -> Decimal | None:
    """Benefit-cost ratio (GMCA CBA model): benefits / costs."""
    return ratio(benefits_pence, costs_pence)


def roi(benefits_pence: int, costs_pence: int) -> Decimal | None:
    """Return on investment (GMCA CBA model): (benefits - costs) / costs."""
    return ratio(benefits_pence - costs_pence, costs_pence)


def payback_years(costs_pence: int, benefits_by_year: Sequence[int]) -> Decimal | None:
    """Years until cumulative benefits first cover the costs, with a linear share of the year in
    which they do (GMCA CBA model: the payback period); None if they never do in the profile."""
    if costs_pence <= 0:
        return Decimal(0)
    cumulative = 0
    for year, benefit in enumerate(benefits_by_year):
        if benefit > 0 and cumulative + benefit >= costs_pence:
            with localcontext() as ctx:
                ctx.prec = 40
                part = Decimal(costs_pence - cumulative) / Decimal(benefit)
            return (Decimal(year) + part).quantize(Decimal("0.01"))
        cumulative += benefit
    return None


def benefits_by_year(lines: Sequence[LineValue], kinds: Sequence[str] = ("fiscal",)) -> tuple[int, ...]:
    """Pence per year of benefit, summed over the lines of the given kinds."""
    width = max((len(line.year_pence) for line in lines), default=0)
    out = [0] * width
    for line in lines:
        if line.kind in kinds:
            for t, pence in enumerate(line.year_pence):
                out[t] += pence
    return tuple(out)


# ---------------------------------------------------------------------------- parsing


class _Problems:
    def __init__(self, where: str) -> None:
        self.where = where
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(f"{self.where}: {path}: {message}")

    def text(self, data: Mapping, key: str, path: str, *, required: bool = True, limit: int = 500) -> str:
        value = data.get(key)
        if value is None or value == "":
            if required:
                self.add(f"{path}.{key}", "is required")
            return ""
        if not isinstance(value, str) or len(value) > limit:
            self.add(f"{path}.{key}", f"must be text of at most {limit} characters")
            return ""
        return value

    def fraction(self, data: Mapping, key: str, path: str, default: str | None = None,
                 low: Decimal = ZERO, high: Decimal = ONE) -> Decimal:
        value = data.get(key, default)
        if value is None:
            self.add(f"{path}.{key}", "is required (a decimal in quotes, e.g. \"0.25\")")
            return ZERO
        if not isinstance(value, str):
            self.add(f"{path}.{key}", f"must be a decimal in quotes (e.g. \"0.25\"), got {value!r}")
            return ZERO
        try:
            result = Decimal(value)
        except ArithmeticError:
            self.add(f"{path}.{key}", f"{value!r} is not a number")
            return ZERO
        if not result.is_finite() or not (low <= result <= high):
            self.add(f"{path}.{key}", f"{value} must be between {low} and {high}")
            return ZERO
        return result

    def year(self, data: Mapping, key: str, path: str) -> str:
        value = self.text(data, key, path)
        match = _YEAR.match(value) if value else None
        if value and (not match or (int(match.group(1)) + 1) % 100 != int(match.group(2))):
            self.add(f"{path}.{key}", f"{value!r} is not a financial year like \"2016-17\"")
            return ""
        return value


def deflator_from_mapping(data: Mapping[str, Any], where: str) -> Deflator:
    """A deflator file: ``name``, ``citation``, ``[[years]]`` of ``year`` and ``index``."""
    p = _Problems(where)
    name = p.text(data, "name", "deflator")
    citation = p.text(data, "citation", "deflator", limit=2000)
    index: dict[str, Decimal] = {}
    years = data.get("years")
    if not isinstance(years, list) or not years:
        p.add("years", "needs at least one [[years]] entry with year and index")
        years = []
    for i, row in enumerate(years):
        path = f"years[{i}]"
        if not isinstance(row, Mapping):
            p.add(path, "must be a table")
            continue
        year = p.year(row, "year", path)
        level = p.fraction(row, "index", path, high=Decimal(10_000))
        if year in index:
            p.add(path, f"year {year} is given twice")
        elif year and level <= 0:
            p.add(f"{path}.index", "must be above 0")
        elif year:
            index[year] = level
    if p.items:
        raise ImportRejected(f"{where}: deflator rejected", p.items)
    return Deflator(name, citation, index)


def value_table_from_mapping(data: Mapping[str, Any], where: str, deflator: Deflator,
                             outcome_ids: Sequence[str] | None = None) -> ValueTable:
    """Check a value table (every problem reported together) against its deflator and, when
    given, the ids of its contract's outcomes."""
    p = _Problems(where)
    table_id = p.text(data, "id", "table", limit=64)
    contract = p.text(data, "contract", "table", limit=64)
    currency = p.text(data, "currency", "table", limit=3) or "GBP"
    discount_rate = p.fraction(data, "discount_rate", "table", default="0.035", high=Decimal("0.2"))
    sources: dict[str, Source] = {}
    for i, row in enumerate(data.get("sources") or []):
        path = f"sources[{i}]"
        source = Source(p.text(row, "id", path, limit=64), p.text(row, "title", path), p.text(row, "publisher", path),
                        p.text(row, "year", path, limit=40), p.text(row, "location", path),
                        p.text(row, "url", path, required=False, limit=1000), p.text(row, "checked", path, limit=20))
        if source.checked and source.checked not in CHECKED:
            p.add(f"{path}.checked", f"{source.checked!r} must be one of {', '.join(CHECKED)}")
        if source.id in sources:
            p.add(f"{path}.id", f"source {source.id!r} is given twice")
        sources[source.id] = source
    versions: list[ValueVersion] = []
    raw_versions = data.get("versions")
    if not isinstance(raw_versions, list) or not raw_versions:
        p.add("versions", "needs at least one [[versions]] entry (version, effective_from, outcomes)")
        raw_versions = []
    for i, raw in enumerate(raw_versions):
        versions.append(_version(p, raw, f"versions[{i}]", sources, deflator, outcome_ids))
    days = [v.effective_from for v in versions]
    if len(set(days)) != len(days):
        p.add("versions", "two versions have the same effective_from")
    if p.items:
        raise ImportRejected(f"{where}: value table rejected", p.items)
    return ValueTable(table_id, contract, currency, discount_rate, sources, tuple(sorted(versions, key=lambda v: v.effective_from)),
                      deflator)  # fmt: skip


def _version(p: _Problems, raw: Mapping, path: str, sources: Mapping[str, Source], deflator: Deflator,
             outcome_ids: Sequence[str] | None) -> ValueVersion:
    version = p.text(raw, "version", path, limit=64)
    effective = raw.get("effective_from")
    if not isinstance(effective, date):
        p.add(f"{path}.effective_from", "must be a date like 2024-01-01 (no quotes)")
        effective = date.min
    outcomes: list[OutcomeValue] = []
    seen: set[str] = set()
    for j, o in enumerate(raw.get("outcomes") or []):
        opath = f"{path}.outcomes[{j}]"
        outcome = p.text(o, "outcome", opath, limit=64)
        if outcome in seen:
            p.add(f"{opath}.outcome", f"{outcome!r} is valued twice in this version")
        seen.add(outcome)
        if outcome and outcome_ids is not None and outcome not in outcome_ids:
            p.add(f"{opath}.outcome", f"{outcome!r} is not an outcome of the contract (known: {', '.join(outcome_ids)})")
        duration = o.get("duration_years", 1)
        if isinstance(duration, bool) or not isinstance(duration, int) or not (1 <= duration <= DURATION_YEARS_MAX):
            p.add(f"{opath}.duration_years", f"must be a whole number of years from 1 to {DURATION_YEARS_MAX}")
            duration = 1
        lines = tuple(_line(p, line, f"{opath}.values[{k}]", sources, deflator)
                      for k, line in enumerate(o.get("values") or []))
        if not lines:
            p.add(f"{opath}.values", "needs at least one [[...values]] line")
        outcomes.append(OutcomeValue(outcome, p.fraction(o, "deadweight", opath), p.fraction(o, "attribution", opath),
                                     duration, p.fraction(o, "decay", opath, default="0"), lines))
    return ValueVersion(version, effective, tuple(outcomes))


def _line(p: _Problems, raw: Mapping, path: str, sources: Mapping[str, Source], deflator: Deflator) -> ValueLine:
    kind = p.text(raw, "kind", path, limit=16)
    if kind and kind not in KINDS:
        p.add(f"{path}.kind", f"{kind!r} must be one of {', '.join(KINDS)}")
    agency = raw.get("agency")
    if kind == "fiscal" and agency not in AGENCIES:
        p.add(f"{path}.agency", f"a fiscal value names the agency that saves: one of {', '.join(AGENCIES)}")
    if kind != "fiscal" and agency is not None:
        p.add(f"{path}.agency", "only fiscal values have an agency")
    try:
        amount = parse_amount(str(raw.get("amount", "")), "GBP", "amount")
    except ValueError as exc:
        p.add(f"{path}.amount", str(exc))
        amount = 0
    price_year = p.year(raw, "price_year", path)
    if price_year and price_year not in deflator.index:
        p.add(f"{path}.price_year", f"{price_year} is not in the deflator series {deflator.name}")
    source = p.text(raw, "source", path, limit=64)
    if source and source not in sources:
        p.add(f"{path}.source", f"{source!r} is not one of the table's [[sources]]")
    grade = raw.get("evidence_grade")
    if isinstance(grade, bool) or grade not in GRADES:
        p.add(f"{path}.evidence_grade", "must be a whole number from 1 (strongest) to 5 (weakest)")
        grade = 5
    return ValueLine(kind, agency if kind == "fiscal" else None, amount, price_year,
                     p.fraction(raw, "quantity", path, default="1", high=Decimal(1000)), source, grade,
                     p.fraction(raw, "optimism_bias", path), p.text(raw, "note", path, required=False, limit=2000))
