"""Distribution waterfall: terms as data, one pure run that conserves the cash to the penny.

DESIGN.md section 6. A fund's waterfall is a TOML file (format: ``docs/waterfall-format.md``)
validated into frozen :class:`WaterfallTerms`. :func:`run_waterfall` takes the terms, the cash
to distribute, the distribution date and the investors' history (:class:`WaterfallState`) and
returns every tier's payments per investor and recipient, each investor's amount split into
return of capital / income / gains, and any cash left undistributed (only possible when every
tier is capped and there is no excess tier).

Rules kept here:

* money is int pence; rates are Decimal; accruals are computed exactly (Decimal at 50 digits)
  and rounded once per investor per tier through :func:`ledger.money.round_minor`;
* within a tier the cash is split with :func:`ledger.money.allocate` (largest remainder), so a
  run distributes exactly the cash given; each share is capped by what is due because a
  largest-remainder share never exceeds an integer cap it is pro rata to;
* ``scope = "all"`` means every *repayable* tranche; a non-repayable tranche (a first-loss grant)
  is never repaid, paid income or gains by a tier: it only absorbs losses (:func:`allocate_loss`).

Tier kinds: :data:`TIER_KINDS`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any, ClassVar, Mapping, Sequence, Union

from ledger.errors import ImportRejected, InvariantBroken, MoneyError, ValidationError
from ledger.money import (
    CURRENCY_EXPONENTS,
    DEFAULT_CURRENCY,
    DEFAULT_ROUNDING,
    ROUNDING_MODES,
    allocate,
    check_pence,
    parse_amount,
    round_minor,
    to_decimal,
)

MODES = ("whole_fund", "deal_by_deal")
DAY_COUNTS = ("ACT/365F", "ACT/360", "30/360")
COMPOUNDING = ("simple", "compound")
#: Kinds of distribution line, also the kinds of prior distribution a state records.
DISTRIBUTION_KINDS = ("return_of_capital", "preferred_return", "catch_up", "carry", "excess")
#: How an investor's statement shows each kind (DESIGN.md section 6: return of capital, income, gains).
CATEGORY_OF_KIND = {
    "return_of_capital": "return_of_capital",
    "preferred_return": "income",
    "catch_up": "gains",
    "carry": "gains",
    "excess": "gains",
}
ALL_TRANCHES = "all"
#: Decimal digits used for accruals; far beyond a penny on any realistic fund.
_ACCRUAL_PRECISION = 50
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
    top = _Reader(data, where, {"name", "mode", "currency", "rounding", "tranches", "tiers"}, problems)
    name = top.text("name", required=False, default=where) or where
    mode = top.choice("mode", MODES)
    currency = top.choice("currency", tuple(sorted(CURRENCY_EXPONENTS)), default=DEFAULT_CURRENCY)
    rounding = top.choice("rounding", tuple(ROUNDING_MODES), default=DEFAULT_ROUNDING)

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
                          currency, rounding)


def load_waterfall_toml(text: str, source_name: str) -> WaterfallTerms:
    """Parse and validate a waterfall terms file (``docs/waterfall-format.md``)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ImportRejected(f"{source_name}: not valid TOML", [f"{source_name}: {exc}"]) from None
    return waterfall_from_mapping(data, source_name)


# --------------------------------------------------------------------------------------------
# State: what each investor put in and has had back
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Contribution:
    """Capital drawn from an investor on ``day``; ``project`` tags it for deal-by-deal runs."""

    day: date
    amount_pence: int
    project: str | None = None

    def __post_init__(self) -> None:
        if check_pence(self.amount_pence, "contribution amount_pence") < 0:
            raise ValidationError(f"contribution on {self.day} is negative ({self.amount_pence} pence)")


@dataclass(frozen=True, slots=True)
class Distribution:
    """A past distribution of one kind (:data:`DISTRIBUTION_KINDS`)."""

    day: date
    kind: str
    amount_pence: int
    project: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in DISTRIBUTION_KINDS:
            raise ValidationError(
                f"distribution kind {self.kind!r} is not one of {', '.join(DISTRIBUTION_KINDS)}", field="kind"
            )
        if check_pence(self.amount_pence, "distribution amount_pence") < 0:
            raise ValidationError(f"distribution on {self.day} is negative ({self.amount_pence} pence)")


@dataclass(frozen=True, slots=True)
class Position:
    """One investor's holding in one tranche."""

    investor: str
    tranche: str
    commitment_pence: int
    contributions: tuple[Contribution, ...] = ()
    distributions: tuple[Distribution, ...] = ()

    def __post_init__(self) -> None:
        check_pence(self.commitment_pence, "commitment_pence")


@dataclass(frozen=True, slots=True)
class RecipientHistory:
    """Past catch-up, carry or excess paid to a non-investor recipient (manager, community pool)."""

    recipient: str
    distributions: tuple[Distribution, ...] = ()


@dataclass(frozen=True, slots=True)
class WaterfallState:
    positions: tuple[Position, ...]
    recipients: tuple[RecipientHistory, ...] = ()


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TierLine:
    """One payment of one tier to one party. ``tranche`` is None for a recipient."""

    party: str
    tranche: str | None
    kind: str  # one of DISTRIBUTION_KINDS
    amount_pence: int

    @property
    def category(self) -> str:
        return CATEGORY_OF_KIND[self.kind]

    @property
    def is_investor(self) -> bool:
        return self.tranche is not None


@dataclass(frozen=True, slots=True)
class TierResult:
    index: int  # position of the tier in the terms
    kind: str  # tier kind (TIER_KINDS)
    project: str | None  # the deal in a deal-by-deal run, else None
    available_pence: int  # cash left when the tier started
    lines: tuple[TierLine, ...]

    @property
    def paid_pence(self) -> int:
        return sum(line.amount_pence for line in self.lines)


@dataclass(frozen=True, slots=True)
class PartyTotal:
    """One party's whole distribution, split as an investor statement shows it."""

    party: str
    tranche: str | None
    return_of_capital_pence: int
    income_pence: int
    gains_pence: int

    @property
    def total_pence(self) -> int:
        return self.return_of_capital_pence + self.income_pence + self.gains_pence


@dataclass(frozen=True, slots=True)
class WaterfallResult:
    terms_name: str
    mode: str
    day: date
    cash_pence: int
    tiers: tuple[TierResult, ...]
    parties: tuple[PartyTotal, ...]
    undistributed_pence: int
    undistributed_reason: str | None

    @property
    def distributed_pence(self) -> int:
        return sum(tier.paid_pence for tier in self.tiers)

    def party(self, party: str, tranche: str | None = None) -> PartyTotal:
        for total in self.parties:
            if total.party == party and total.tranche == tranche:
                return total
        return PartyTotal(party, tranche, 0, 0, 0)

    def paid_by_tier(self, index: int, party: str, tranche: str | None = None) -> int:
        return sum(
            line.amount_pence
            for tier in self.tiers
            if tier.index == index
            for line in tier.lines
            if line.party == party and line.tranche == tranche
        )


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------

_Key = tuple[str, str | None]  # (party, tranche); tranche None for a recipient


class _Book:
    """Everything one scope (the fund, or one deal) knows while its tiers run.

    Local and discarded when the run ends: the run as a whole stays a pure function.
    """

    def __init__(self, terms: WaterfallTerms, state: WaterfallState, day: date, project: str | None) -> None:
        self.terms = terms
        self.day = day

        def keep(item: Contribution | Distribution) -> bool:
            # Only history up to the distribution date counts; a deal-by-deal run sees one deal.
            return item.day <= day and (project is None or item.project == project)

        self.positions = [
            (p.investor, p.tranche, tuple(c for c in p.contributions if keep(c)),
             tuple(d for d in p.distributions if keep(d)))
            for p in state.positions
        ]
        self.recipient_prior: dict[tuple[str, str], int] = {}
        for history in state.recipients:
            for dist in history.distributions:
                if keep(dist):
                    key = (history.recipient, dist.kind)
                    self.recipient_prior[key] = self.recipient_prior.get(key, 0) + dist.amount_pence
        self.paid_now: dict[tuple[str, str | None, str], int] = {}

    # -- figures per position -------------------------------------------------------------

    def in_scope(self, scope: str) -> list[tuple[str, str, tuple[Contribution, ...], tuple[Distribution, ...]]]:
        tranches = self.terms.in_scope(scope)
        return [p for p in self.positions if p[1] in tranches]

    def now(self, party: str, tranche: str | None, kind: str) -> int:
        return self.paid_now.get((party, tranche, kind), 0)

    def contributed(self, position) -> int:
        return sum(c.amount_pence for c in position[2])

    def prior(self, position, kind: str) -> int:
        return sum(d.amount_pence for d in position[3] if d.kind == kind)

    def unreturned(self, position) -> int:
        returned = self.prior(position, "return_of_capital") + self.now(position[0], position[1], "return_of_capital")
        return max(0, self.contributed(position) - returned)

    def income_due(self, position, accrual: Accrual) -> int:
        """Accrued income on dated capital net of returned capital, less income already paid.

        Simple: sum(e * r * t) - sum(P). Compound: sum(e * ((1+r)^t - 1)) - sum(P * (1+r)^t),
        where e are contributions (+) and returns of capital (-), P income paid, and t the year
        fraction from each to the distribution date. The compound form is the one under which an
        investor paid its unreturned capital plus this amount has earned exactly ``r`` a year.
        """
        capital_events = [(c.day, Decimal(c.amount_pence)) for c in position[2]]
        capital_events += [(d.day, -Decimal(d.amount_pence)) for d in position[3] if d.kind == "return_of_capital"]
        income_paid = [(d.day, Decimal(d.amount_pence)) for d in position[3] if d.kind == "preferred_return"]
        income_paid.append((self.day, Decimal(self.now(position[0], position[1], "preferred_return"))))
        with localcontext() as ctx:
            ctx.prec = _ACCRUAL_PRECISION

            def years(day: date) -> Decimal:
                fraction = year_fraction(day, self.day, accrual.day_count)
                return Decimal(fraction.numerator) / Decimal(fraction.denominator)

            rate = accrual.rate
            if accrual.compounding == "simple":
                accrued = sum((amount * rate * years(day) for day, amount in capital_events), Decimal(0))
                accrued -= sum((amount for _, amount in income_paid), Decimal(0))
            else:
                growth = Decimal(1) + rate
                accrued = sum((amount * (growth ** years(day) - 1) for day, amount in capital_events), Decimal(0))
                accrued -= sum((amount * growth ** years(day) for day, amount in income_paid), Decimal(0))
            due = round_minor(accrued, self.terms.rounding)
        return max(0, due)

    def profits_to_investors(self, scope: str) -> int:
        return sum(
            self.prior(p, kind) + self.now(p[0], p[1], kind)
            for p in self.in_scope(scope)
            for kind in ("preferred_return", "catch_up", "carry")
        )

    def recipient_carry(self, recipient: str) -> int:
        return sum(
            self.recipient_prior.get((recipient, kind), 0) + self.now(recipient, None, kind)
            for kind in ("catch_up", "carry")
        )

    # -- paying ---------------------------------------------------------------------------

    def pay(self, party: str, tranche: str | None, kind: str, amount_pence: int, lines: list[TierLine]) -> None:
        if amount_pence <= 0:
            return
        key = (party, tranche, kind)
        self.paid_now[key] = self.paid_now.get(key, 0) + amount_pence
        lines.append(TierLine(party, tranche, kind, amount_pence))

    def pay_due(self, positions, dues: list[int], available_pence: int, kind: str, lines: list[TierLine]) -> int:
        """Pay what is due, pro rata to it when cash runs short; a share never exceeds its due."""
        total_due = sum(dues)
        paying = min(available_pence, total_due)
        if paying <= 0:
            return 0
        shares = dues if paying == total_due else allocate(paying, dues)
        for position, share in zip(positions, shares):
            self.pay(position[0], position[1], kind, share, lines)
        return paying

    def pay_investors_pro_rata_capital(self, scope: str, amount_pence: int, kind: str, lines: list[TierLine]) -> None:
        if amount_pence <= 0:
            return
        positions = self.in_scope(scope)
        weights = [self.contributed(p) for p in positions]
        if sum(weights) == 0:
            raise ValidationError(
                f"waterfall {self.terms.name}: {kind} has {amount_pence} pence for investors in tranche scope "
                f"{scope!r} but none has contributed capital to share it by"
            )
        for position, share in zip(positions, allocate(amount_pence, weights)):
            self.pay(position[0], position[1], kind, share, lines)

    def run_tier(self, tier: Tier, available_pence: int, lines: list[TierLine]) -> int:
        """Run one tier; returns the pence it paid."""
        if isinstance(tier, ReturnOfCapital):
            positions = self.in_scope(tier.scope)
            return self.pay_due(positions, [self.unreturned(p) for p in positions], available_pence,
                                "return_of_capital", lines)
        if isinstance(tier, PreferredReturn) or (isinstance(tier, CappedReturn) and tier.accrual is not None):
            positions = self.in_scope(tier.scope)
            dues = [self.income_due(p, tier.accrual) for p in positions]
            return self.pay_due(positions, dues, available_pence, "preferred_return", lines)
        if isinstance(tier, CappedReturn):
            positions = self.in_scope(tier.scope)
            weights = [self.contributed(p) for p in positions]
            caps = allocate(tier.cap_amount_pence, weights) if sum(weights) else [0] * len(positions)
            dues = [
                max(0, cap - self.prior(p, "preferred_return") - self.now(p[0], p[1], "preferred_return"))
                for p, cap in zip(positions, caps)
            ]
            return self.pay_due(positions, dues, available_pence, "preferred_return", lines)
        if isinstance(tier, CatchUp):
            # Find cash c with  G + p*c = X * (P + G + c)  =>  c = (X*(P+G) - G) / (p - X).
            profits = Fraction(self.profits_to_investors(tier.scope))
            carry = Fraction(self.recipient_carry(tier.recipient))
            share, percentage = Fraction(tier.carry_share), Fraction(tier.percentage)
            needed = (share * (profits + carry) - carry) / (percentage - share)
            paying = min(available_pence, max(0, round_minor(needed, self.terms.rounding)))
            if paying <= 0:
                return 0
            to_recipient, to_investors = allocate(paying, [tier.percentage, 1 - tier.percentage])
            self.pay(tier.recipient, None, "catch_up", to_recipient, lines)
            self.pay_investors_pro_rata_capital(tier.scope, to_investors, "catch_up", lines)
            return paying
        if isinstance(tier, CarriedInterest):
            if available_pence <= 0:
                return 0
            to_recipient, to_investors = allocate(available_pence, [tier.carry_share, 1 - tier.carry_share])
            self.pay(tier.recipient, None, "carry", to_recipient, lines)
            self.pay_investors_pro_rata_capital(tier.scope, to_investors, "carry", lines)
            return available_pence
        if isinstance(tier, Excess):
            self.pay(tier.recipient, None, "excess", available_pence, lines)
            return max(0, available_pence)
        raise InvariantBroken(f"unknown tier {tier!r}")


def _check_state(terms: WaterfallTerms, state: WaterfallState) -> None:
    known = {t.id for t in terms.tranches}
    seen: set[tuple[str, str]] = set()
    for position in state.positions:
        if position.tranche not in known:
            raise ValidationError(
                f"waterfall {terms.name}: investor {position.investor!r} holds unknown tranche "
                f"{position.tranche!r} (known: {', '.join(sorted(known))})",
                field="tranche",
            )
        key = (position.investor, position.tranche)
        if key in seen:
            raise ValidationError(f"waterfall {terms.name}: investor {position.investor!r} has two positions in "
                                  f"tranche {position.tranche!r}; merge them")
        seen.add(key)


def run_waterfall(
    terms: WaterfallTerms,
    distribution_pence: int | Mapping[str, int],
    day: date,
    state: WaterfallState,
) -> WaterfallResult:
    """Distribute ``distribution_pence`` on ``day`` through ``terms``, exactly to the penny.

    Whole fund: ``distribution_pence`` is an int and the tiers run once over all history.
    Deal by deal: it maps project -> proceeds; the tiers run once per project (in project order)
    over only that project's contributions and prior distributions.
    """
    if terms.mode == "deal_by_deal":
        if not isinstance(distribution_pence, Mapping):
            raise ValidationError(
                f"waterfall {terms.name} is deal_by_deal: give the proceeds per project, not one amount",
                field="distribution_pence",
            )
        scopes = [(project, check_pence(amount, f"proceeds of {project}"))
                  for project, amount in sorted(distribution_pence.items())]
    else:
        if isinstance(distribution_pence, Mapping):
            raise ValidationError(
                f"waterfall {terms.name} is whole_fund: give one amount, not proceeds per project",
                field="distribution_pence",
            )
        scopes = [(None, check_pence(distribution_pence, "distribution_pence"))]
    for project, amount in scopes:
        if amount < 0:
            raise ValidationError(f"cannot distribute a negative amount ({amount} pence)", field="distribution_pence")
    _check_state(terms, state)

    tier_results: list[TierResult] = []
    undistributed_pence = 0
    for project, cash_pence in scopes:
        book = _Book(terms, state, day, project)
        remaining_pence = cash_pence
        for index, tier in enumerate(terms.tiers):
            lines: list[TierLine] = []
            paid = book.run_tier(tier, remaining_pence, lines) if remaining_pence > 0 else 0
            if paid != sum(line.amount_pence for line in lines) or paid > remaining_pence:
                raise InvariantBroken(f"tier {index} paid {paid} of {remaining_pence} pence but its lines disagree")
            tier_results.append(TierResult(index, tier.kind, project, remaining_pence, tuple(lines)))
            remaining_pence -= paid
        undistributed_pence += remaining_pence

    cash_total = sum(amount for _, amount in scopes)
    totals: dict[_Key, list[int]] = {}
    for tier_result in tier_results:
        for line in tier_result.lines:
            bucket = totals.setdefault((line.party, line.tranche), [0, 0, 0])
            bucket[("return_of_capital", "income", "gains").index(line.category)] += line.amount_pence
    parties = tuple(
        PartyTotal(party, tranche, *amounts)
        for (party, tranche), amounts in sorted(totals.items(), key=lambda item: (item[0][1] is None, item[0]))
    )
    result = WaterfallResult(
        terms.name,
        terms.mode,
        day,
        cash_total,
        tuple(tier_results),
        parties,
        undistributed_pence,
        (
            f"{undistributed_pence} pence left undistributed: every tier is capped and there is no "
            "carried_interest or excess tier to take the rest"
            if undistributed_pence
            else None
        ),
    )
    # Conservation, checked on the way out: what went in is what came out, to the penny.
    if result.distributed_pence + result.undistributed_pence != cash_total:
        raise InvariantBroken(
            f"waterfall {terms.name} distributed {result.distributed_pence} + undistributed "
            f"{result.undistributed_pence} != cash {cash_total}"
        )
    if sum(p.total_pence for p in parties) != result.distributed_pence:
        raise InvariantBroken("party totals do not add up to the tier lines")
    return result


# --------------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrancheCapital:
    """One tranche's capital at risk, per investor, for :func:`allocate_loss`."""

    tranche: str
    rank: int  # 1 most senior; the highest rank absorbs losses first
    capital_pence: tuple[tuple[str, int], ...]  # (investor, capital) pairs

    @property
    def total_pence(self) -> int:
        return sum(amount for _, amount in self.capital_pence)


@dataclass(frozen=True, slots=True)
class LossLine:
    tranche: str
    investor: str
    absorbed_pence: int


@dataclass(frozen=True, slots=True)
class LossAllocation:
    loss_pence: int
    lines: tuple[LossLine, ...]
    unabsorbed_pence: int  # loss beyond all the capital given

    def absorbed_by_tranche(self, tranche: str) -> int:
        return sum(line.absorbed_pence for line in self.lines if line.tranche == tranche)


def allocate_loss(loss_pence: int, tranches: Sequence[TrancheCapital]) -> LossAllocation:
    """Allocate a write-down first loss first: the highest rank absorbs up to its capital, then
    the next; within a tranche pro rata to capital (largest remainder, so it conserves)."""
    check_pence(loss_pence, "loss_pence")
    if loss_pence < 0:
        raise ValidationError(f"loss_pence must not be negative, got {loss_pence}", field="loss_pence")
    ranks = [t.rank for t in tranches]
    if len(set(ranks)) != len(ranks):
        raise ValidationError(f"tranche ranks must differ, got {sorted(ranks)}", field="rank")
    for tranche in tranches:
        for investor, amount in tranche.capital_pence:
            if check_pence(amount, f"capital of {investor} in {tranche.tranche}") < 0:
                raise ValidationError(f"capital of {investor!r} in {tranche.tranche!r} is negative ({amount})")
    remaining_pence = loss_pence
    lines: list[LossLine] = []
    for tranche in sorted(tranches, key=lambda t: -t.rank):
        absorbing = min(remaining_pence, tranche.total_pence)
        if absorbing <= 0:
            continue
        weights = [amount for _, amount in tranche.capital_pence]
        for (investor, _), share in zip(tranche.capital_pence, allocate(absorbing, weights)):
            if share:
                lines.append(LossLine(tranche.tranche, investor, share))
        remaining_pence -= absorbing
    result = LossAllocation(loss_pence, tuple(lines), remaining_pence)
    if sum(line.absorbed_pence for line in lines) + remaining_pence != loss_pence:
        raise InvariantBroken("loss allocation does not conserve the loss")
    return result
