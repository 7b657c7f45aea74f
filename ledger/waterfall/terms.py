"""Waterfall terms as data: tranches, tiers, day counts, and the TOML parser that validates them.

Format: ``docs/waterfall-format.md``. Every problem in a terms file is collected and reported
at once (:class:`ledger.errors.ImportRejected`). The run is in :mod:`ledger.waterfall.run`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, ClassVar, Mapping, Sequence, Union

from ledger.errors import ImportRejected, MoneyError, ValidationError
from ledger.money import (
    CURRENCY_EXPONENTS,
    DEFAULT_CURRENCY,
    DEFAULT_ROUNDING,
    ROUNDING_MODES,
    parse_amount,
    to_decimal,
)

MODES = ("whole_fund", "deal_by_deal")
DAY_COUNTS = ("ACT/365F", "ACT/360", "30/360")
COMPOUNDING = ("simple", "compound")
#: Kinds of distribution line, also the kinds of prior distribution a state records.
#: ``clawback`` is carry returned by a recipient under a deal-by-deal clawback (negative on the
#: recipient, positive on the investors it goes to); it is the only kind that may be negative.
DISTRIBUTION_KINDS = ("return_of_capital", "preferred_return", "catch_up", "carry", "excess", "clawback")
#: How an investor's statement shows each kind (DESIGN.md section 6: return of capital, income, gains).
CATEGORY_OF_KIND = {
    "return_of_capital": "return_of_capital",
    "preferred_return": "income",
    "catch_up": "gains",
    "carry": "gains",
    "excess": "gains",
    "clawback": "gains",
}
#: Where the penny a recipient's exact carry share cannot hold goes (the ``residue`` field).
RESIDUES = ("investors", "recipient")
ALL_TRANCHES = "all"
#: Limits that keep a terms file sane (TIGER_STYLE: put a limit on everything).
TRANCHES_MAX = 20
TIERS_MAX = 50


# --------------------------------------------------------------------------------------------
# Day counts
# --------------------------------------------------------------------------------------------


def year_fraction(start: date, end: date, day_count: str) -> Fraction:
    """Exact year fraction from ``start`` to ``end`` under a named day count.

    ``ACT/365F``: actual days / 365. ``ACT/360``: actual days / 360. ``30/360``: the ISDA 2006
    "30/360" (bond basis): day 31 of the start becomes 30; day 31 of the end becomes 30 only
    when the start day is then 30.
    """
    if day_count == "ACT/365F":
        return Fraction((end - start).days, 365)
    if day_count == "ACT/360":
        return Fraction((end - start).days, 360)
    if day_count == "30/360":
        d1 = min(start.day, 30)
        d2 = 30 if (end.day == 31 and d1 == 30) else end.day
        days = 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)
        return Fraction(days, 360)
    raise ValidationError(f"unknown day count {day_count!r} (known: {', '.join(DAY_COUNTS)})", field="day_count")


# --------------------------------------------------------------------------------------------
# Terms
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tranche:
    """A class of capital. ``rank`` 1 is the most senior; losses hit the highest rank first.

    ``repayable = false`` marks a first-loss grant: no tier repays it or pays it a return, so it
    is never repaid ahead of (or alongside) other capital and absorbs losses first.
    """

    id: str
    rank: int
    repayable: bool = True
    name: str = ""


@dataclass(frozen=True, slots=True)
class Accrual:
    """A rate that accrues on dated capital: ``rate`` a year, simple or compound, on a day count."""

    rate: Decimal
    compounding: str
    day_count: str


@dataclass(frozen=True, slots=True)
class ReturnOfCapital:
    """Pays unreturned contributed capital, pro rata to it, to one tranche or all repayable ones."""

    kind: ClassVar[str] = "return_of_capital"
    scope: str = ALL_TRANCHES


@dataclass(frozen=True, slots=True)
class PreferredReturn:
    """Pays the hurdle accrued on contributions net of returned capital, less income already paid."""

    kind: ClassVar[str] = "preferred_return"
    scope: str
    accrual: Accrual


@dataclass(frozen=True, slots=True)
class CappedReturn:
    """A tranche's return, capped at an accrued rate or an absolute amount (senior capped return).

    Exactly one of ``accrual`` and ``cap_amount_pence`` is set. An absolute cap is the tranche's
    total return over its life, shared among its investors pro rata to contributed capital.
    """

    kind: ClassVar[str] = "capped_return"
    scope: str
    accrual: Accrual | None = None
    cap_amount_pence: int | None = None


@dataclass(frozen=True, slots=True)
class CatchUp:
    """``percentage`` of each pound to ``recipient`` until it holds ``carry_share`` of profits.

    Profits are the income and gains distributed so far to investors in scope plus the
    recipient's catch-up and carry. The rest of each pound goes to investors pro rata to
    contributed capital.
    """

    kind: ClassVar[str] = "catch_up"
    scope: str
    percentage: Decimal
    carry_share: Decimal
    recipient: str


@dataclass(frozen=True, slots=True)
class CarriedInterest:
    """Splits all remaining cash: ``carry_share`` to ``recipient``, the rest to investors."""

    kind: ClassVar[str] = "carried_interest"
    scope: str
    carry_share: Decimal
    recipient: str


@dataclass(frozen=True, slots=True)
class Excess:
    """All remaining cash to ``recipient`` (a community pool)."""

    kind: ClassVar[str] = "excess"
    recipient: str


Tier = Union[ReturnOfCapital, PreferredReturn, CappedReturn, CatchUp, CarriedInterest, Excess]
TIER_KINDS = ("return_of_capital", "preferred_return", "capped_return", "catch_up", "carried_interest", "excess")
#: Tiers that take every remaining penny: nothing after them can receive cash.
_UNCAPPED = (CarriedInterest, Excess)


@dataclass(frozen=True, slots=True)
class WaterfallTerms:
    name: str
    mode: str
    tranches: tuple[Tranche, ...]
    tiers: tuple[Tier, ...]
    currency: str = DEFAULT_CURRENCY
    rounding: str = DEFAULT_ROUNDING
    #: Who gets the fraction of a penny when a recipient's carry share of profit is not whole:
    #: ``investors`` (the recipient's share is rounded down) or ``recipient`` (rounded up).
    residue: str = "investors"
    #: Deal-by-deal clawback on a net-of-tax basis: the recipient returns at most the carry it
    #: received times ``1 - clawback_tax_rate``. 0 (the default) is the gross basis.
    clawback_tax_rate: Decimal = Decimal(0)

    def tranche(self, tranche_id: str) -> Tranche:
        for tranche in self.tranches:
            if tranche.id == tranche_id:
                return tranche
        raise ValidationError(f"waterfall {self.name}: no tranche {tranche_id!r}", field="tranche")

    def in_scope(self, scope: str) -> frozenset[str]:
        """Tranche ids a tier's scope covers: one tranche, or every repayable one."""
        if scope == ALL_TRANCHES:
            return frozenset(t.id for t in self.tranches if t.repayable)
        return frozenset({scope})


# --------------------------------------------------------------------------------------------
# Parsing and validation: collect every problem, then raise once
# --------------------------------------------------------------------------------------------


class _Reader:
    """Reads one table's fields, recording problems as ``where.field: message``."""

    def __init__(self, data: object, where: str, allowed: set[str], problems: list[str]) -> None:
        self.where = where
        self.problems = problems
        if not isinstance(data, Mapping):
            self.data: Mapping[str, Any] = {}
            problems.append(f"{where}: expected a table, got {type(data).__name__}")
            return
        self.data = data
        for key in sorted(set(data) - allowed, key=str):
            problems.append(f"{where}.{key}: unknown field (known: {', '.join(sorted(allowed))})")

    def problem(self, field: str, message: str) -> None:
        self.problems.append(f"{self.where}.{field}: {message}")

    def text(self, name: str, *, required: bool = True, default: str | None = None) -> str | None:
        if name not in self.data:
            if required:
                self.problem(name, "missing")
            return default
        value = self.data[name]
        if not isinstance(value, str) or not value.strip():
            self.problem(name, f"must be non-empty text, got {value!r}")
            return None
        return value

    def choice(self, name: str, options: Sequence[str], *, default: str | None = None) -> str | None:
        value = self.text(name, required=default is None, default=default)
        if value is not None and value not in options:
            self.problem(name, f"{value!r} is not one of {', '.join(options)}")
            return None
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            self.problem(name, f"must be true or false, got {value!r}")
            return default
        return value

    def integer(self, name: str, minimum: int) -> int | None:
        if name not in self.data:
            self.problem(name, "missing: give a whole number")
            return None
        value = self.data[name]
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(name, f"must be a whole number, got {value!r}")
            return None
        if value < minimum:
            self.problem(name, f"must be at least {minimum}, got {value}")
            return None
        return value

    def rate(self, name: str, *, low: Decimal, high: Decimal, low_open: bool = False, high_open: bool = False):
        """A Decimal written as a string (``"0.08"``); a TOML float is refused."""
        if name not in self.data:
            self.problem(name, 'missing: give a rate as a string like "0.08"')
            return None
        value = self.data[name]
        if isinstance(value, float):
            self.problem(name, f'is a TOML float ({value!r}); write it as a string like "{value}" to keep it exact')
            return None
        try:
            rate = to_decimal(value, name)
        except MoneyError as error:
            self.problem(name, error.message)
            return None
        too_low = rate < low or (low_open and rate == low)
        too_high = rate > high or (high_open and rate == high)
        if too_low or too_high:
            interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
            self.problem(name, f"must be in {interval}, got {rate}")
            return None
        return rate

    def money(self, name: str, currency: str) -> int | None:
        """``name = "1234.50"`` (major units as text) or ``name_pence = 123450``."""
        pence_key = f"{name}_pence"
        if name in self.data and pence_key in self.data:
            self.problem(name, f"give either {name} or {pence_key}, not both")
            return None
        if pence_key in self.data:
            value = self.data[pence_key]
            if isinstance(value, bool) or not isinstance(value, int):
                self.problem(pence_key, f"must be a whole number of pence, got {value!r}")
                return None
            pence, field = value, pence_key
        else:
            value = self.data[name]
            if isinstance(value, float):
                self.problem(name, f'is a TOML float ({value!r}); write money as a string like "{value:.2f}"')
                return None
            try:
                pence = parse_amount(value, currency, what=name)
            except MoneyError as error:
                self.problem(name, error.message)
                return None
            field = name
        if pence < 0:
            self.problem(field, f"must not be negative, got {pence}")
            return None
        return pence


_TIER_FIELDS: dict[str, set[str]] = {
    "return_of_capital": {"kind", "tranche"},
    "preferred_return": {"kind", "tranche", "rate", "compounding", "day_count"},
    "capped_return": {"kind", "tranche", "rate", "compounding", "day_count", "cap_amount", "cap_amount_pence"},
    "catch_up": {"kind", "tranche", "percentage", "carry_share", "recipient"},
    "carried_interest": {"kind", "tranche", "carry_share", "recipient"},
    "excess": {"kind", "recipient"},
}


def _read_accrual(reader: _Reader) -> Accrual | None:
    rate = reader.rate("rate", low=Decimal(0), high=Decimal(1))
    compounding = reader.choice("compounding", COMPOUNDING)
    day_count = reader.choice("day_count", DAY_COUNTS)
    if rate is None or compounding is None or day_count is None:
        return None
    return Accrual(rate, compounding, day_count)


def _read_scope(reader: _Reader, tranches: Mapping[str, Tranche], *, allow_all: bool, kind: str) -> str | None:
    scope = reader.text("tranche", required=not allow_all, default=ALL_TRANCHES)
    if scope is None:
        return None
    if scope == ALL_TRANCHES:
        if not allow_all:
            reader.problem("tranche", f"a {kind} tier names one tranche, not {ALL_TRANCHES!r}")
            return None
        return scope
    if scope not in tranches:
        known = ", ".join(sorted(tranches)) or "none"
        reader.problem("tranche", f"unknown tranche {scope!r} (known: {known}, or {ALL_TRANCHES!r})")
        return None
    if not tranches[scope].repayable:
        reader.problem(
            "tranche",
            f"tranche {scope!r} is not repayable (first-loss grant): no {kind} tier may pay it",
        )
        return None
    return scope


def _read_tier(data: object, where: str, tranches: Mapping[str, Tranche], currency: str, mode: str | None,
               problems: list[str]) -> Tier | None:
    kind = data.get("kind") if isinstance(data, Mapping) else None
    if kind not in _TIER_FIELDS:
        if isinstance(data, Mapping):
            problems.append(f"{where}.kind: {kind!r} is not one of {', '.join(TIER_KINDS)}")
        else:
            problems.append(f"{where}: expected a table, got {type(data).__name__}")
        return None
    before = len(problems)
    reader = _Reader(data, where, _TIER_FIELDS[kind], problems)
    tier: Tier | None = None
    if kind == "return_of_capital":
        scope = _read_scope(reader, tranches, allow_all=True, kind=kind)
        tier = ReturnOfCapital(scope) if scope else None
    elif kind == "preferred_return":
        scope = _read_scope(reader, tranches, allow_all=True, kind=kind)
        accrual = _read_accrual(reader)
        tier = PreferredReturn(scope, accrual) if scope and accrual else None
    elif kind == "capped_return":
        scope = _read_scope(reader, tranches, allow_all=False, kind=kind)
        has_rate = "rate" in reader.data
        has_amount = "cap_amount" in reader.data or "cap_amount_pence" in reader.data
        if has_rate == has_amount:
            reader.problem("rate", "give either rate (with compounding and day_count) or cap_amount, exactly one")
        elif has_rate:
            accrual = _read_accrual(reader)
            tier = CappedReturn(scope, accrual=accrual) if scope and accrual else None
        else:
            for field in ("compounding", "day_count"):
                if field in reader.data:
                    reader.problem(field, "only applies to a rate cap, not to cap_amount")
            if mode == "deal_by_deal":
                reader.problem("cap_amount", "is a whole-fund cap; not allowed with mode = \"deal_by_deal\"")
            cap = reader.money("cap_amount", currency)
            tier = CappedReturn(scope, cap_amount_pence=cap) if scope and cap is not None else None
    elif kind == "catch_up":
        scope = _read_scope(reader, tranches, allow_all=True, kind=kind)
        percentage = reader.rate("percentage", low=Decimal(0), high=Decimal(1), low_open=True)
        share = reader.rate("carry_share", low=Decimal(0), high=Decimal(1), low_open=True, high_open=True)
        recipient = reader.text("recipient")
        if percentage is not None and share is not None and percentage <= share:
            reader.problem(
                "percentage",
                f"{percentage} must exceed carry_share {share}, or the recipient never catches up",
            )
        elif scope and percentage is not None and share is not None and recipient:
            tier = CatchUp(scope, percentage, share, recipient)
    elif kind == "carried_interest":
        scope = _read_scope(reader, tranches, allow_all=True, kind=kind)
        share = reader.rate("carry_share", low=Decimal(0), high=Decimal(1), low_open=True, high_open=True)
        recipient = reader.text("recipient")
        tier = CarriedInterest(scope, share, recipient) if scope and share is not None and recipient else None
    else:
        recipient = reader.text("recipient")
        tier = Excess(recipient) if recipient else None
    return tier if len(problems) == before else None


def waterfall_from_mapping(data: object, where: str) -> WaterfallTerms:
    """Validate waterfall terms given as a mapping (parsed TOML); every problem is reported."""
    problems: list[str] = []
    top = _Reader(data, where, {"name", "mode", "currency", "rounding", "residue", "clawback_tax_rate", "tranches",
                                "tiers"}, problems)
    name = top.text("name", required=False, default=where) or where
    mode = top.choice("mode", MODES)
    currency = top.choice("currency", tuple(sorted(CURRENCY_EXPONENTS)), default=DEFAULT_CURRENCY)
    rounding = top.choice("rounding", tuple(ROUNDING_MODES), default=DEFAULT_ROUNDING)
    residue = top.choice("residue", RESIDUES, default="investors")
    tax_rate = Decimal(0)
    if "clawback_tax_rate" in top.data:
        if mode != "deal_by_deal":
            top.problem("clawback_tax_rate", 'only applies to a clawback of deal-by-deal carry (mode = "deal_by_deal")')
        else:
            tax_rate = top.rate("clawback_tax_rate", low=Decimal(0), high=Decimal(1), high_open=True)

    tranches: dict[str, Tranche] = {}
    rows = top.data.get("tranches")
    if not isinstance(rows, list) or not rows:
        problems.append(f"{where}.tranches: missing: give at least one [[tranches]] table")
        rows = []
    elif len(rows) > TRANCHES_MAX:
        problems.append(f"{where}.tranches: {len(rows)} tranches; at most {TRANCHES_MAX}")
        rows = []
    ranks: dict[int, str] = {}
    for index, row in enumerate(rows):
        reader = _Reader(row, f"{where}.tranches[{index}]", {"id", "rank", "repayable", "name"}, problems)
        tranche_id = reader.text("id")
        rank = reader.integer("rank", minimum=1)
        repayable = reader.boolean("repayable", True)
        label = reader.text("name", required=False, default="") or ""
        if tranche_id == ALL_TRANCHES:
            reader.problem("id", f"{ALL_TRANCHES!r} is reserved for tiers that cover every tranche")
            continue
        if tranche_id in tranches:
            reader.problem("id", f"duplicate tranche id {tranche_id!r}")
            continue
        if rank is not None and rank in ranks:
            reader.problem("rank", f"rank {rank} is already used by tranche {ranks[rank]!r}; ranks must differ")
            continue
        if tranche_id is not None and rank is not None:
            tranches[tranche_id] = Tranche(tranche_id, rank, repayable, label)
            ranks[rank] = tranche_id

    tiers: list[Tier] = []
    tier_rows = top.data.get("tiers")
    if not isinstance(tier_rows, list) or not tier_rows:
        problems.append(f"{where}.tiers: missing: give at least one [[tiers]] table")
        tier_rows = []
    elif len(tier_rows) > TIERS_MAX:
        problems.append(f"{where}.tiers: {len(tier_rows)} tiers; at most {TIERS_MAX}")
        tier_rows = []
    uncapped_at: int | None = None
    repaid_ranks: list[tuple[int, str, int]] = []  # (tier index, tranche, rank) of explicit ROC tiers
    for index, row in enumerate(tier_rows):
        tier_where = f"{where}.tiers[{index}]"
        if uncapped_at is not None:
            problems.append(
                f"{tier_where}: unreachable: tiers[{uncapped_at}] takes all remaining cash before it"
            )
        tier = _read_tier(row, tier_where, tranches, currency or DEFAULT_CURRENCY, mode, problems)
        if tier is None:
            continue
        tiers.append(tier)
        if isinstance(tier, _UNCAPPED) and uncapped_at is None:
            uncapped_at = index
        if isinstance(tier, ReturnOfCapital):
            # "all" repays its most senior tranche too, so it counts at that rank.
            covered = [t.rank for t in tranches.values() if t.repayable] if tier.scope == ALL_TRANCHES \
                else [tranches[tier.scope].rank]
            if not covered:
                continue
            rank = min(covered)
            for earlier_index, earlier, earlier_rank in repaid_ranks:
                if earlier_rank > rank:
                    problems.append(
                        f"{tier_where}.tranche: returns capital to {tier.scope!r} (rank {rank}) after "
                        f"tiers[{earlier_index}] already repaid the more junior {earlier!r} "
                        f"(rank {earlier_rank}); capital is repaid senior first"
                    )
                    break
            repaid_ranks.append((index, tier.scope, rank))
    if problems:
        raise ImportRejected(f"{where}: waterfall terms rejected", problems)
    return WaterfallTerms(name, mode, tuple(sorted(tranches.values(), key=lambda t: t.rank)), tuple(tiers),
                          currency, rounding, residue, tax_rate)


def load_waterfall_toml(text: str, source_name: str) -> WaterfallTerms:
    """Parse and validate a waterfall terms file (``docs/waterfall-format.md``)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ImportRejected(f"{source_name}: not valid TOML", [f"{source_name}: {exc}"]) from None
    return waterfall_from_mapping(data, source_name)
