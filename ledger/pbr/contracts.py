"""Outcomes contracts: the rate card, caps, payers and rules of one payment-by-results contract.

A contract is data (a TOML file, see ``docs/contract-format.md``), loaded into frozen
dataclasses by :func:`load_contract_toml` / :func:`contract_from_mapping`. Loading checks the
whole file and raises one :class:`ledger.errors.ImportRejected` listing *every* problem, each
naming the file and the field path (``contract.toml: rate_cards[1].outcomes[2].price: ...``).

Conventions fixed here and relied on by eligibility and claims:

* every date range is half-open ``[from, to)``: the end date is the first day *not* included
  (DESIGN.md: periods are half-open); this covers the term, the referral window and each rate
  card version;
* rate card versions may not overlap or leave gaps, and together cover the whole term, so each
  day of the term has exactly one version in force;
* prices are text in major units (``"1234.50"``) or integer ``price_pence``; TOML floats are
  refused because they are binary and cannot hold every pence value exactly;
* shares are text decimals (``"0.30"``); exactly one payer has no share and takes the
  remainder of each line, so the shares of a line always add up to its net to the penny.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Mapping

from ledger.errors import ImportRejected, MoneyError, NotFound, ValidationError
from ledger.money import (
    CURRENCY_EXPONENTS,
    DEFAULT_CURRENCY,
    DEFAULT_ROUNDING,
    ROUNDING_MODES,
    format_amount,
    parse_amount,
    round_minor,
    to_decimal,
)
from ledger.periods import DATE_MAX, DATE_MIN, parse_date
from ledger.postings import AMOUNT_MAX_PENCE

#: Ids of outcomes, payers and versions: they become column names and statement keys.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Payer:
    """One payer (commissioner or central top-up fund) of the contract."""

    payer_id: str
    name: str
    #: most this payer will ever pay under the contract; ``None`` = no cap of its own.
    cap_pence: int | None
    #: fixed share of every line's net (``Decimal("0.30")``); ``None`` = takes the remainder.
    share: Decimal | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The rules for one outcome; its price lives in the rate card versions."""

    outcome_id: str
    definition: str
    once_only: bool = False
    #: outcome ids the same participant must have achieved on or before this one.
    requires: tuple[str, ...] = ()
    #: latest day after the participant's start the outcome may be achieved; ``None`` = any.
    max_days_after_start: int | None = None
    evidence_required: bool = True
    count_cap: int | None = None
    value_cap_pence: int | None = None


@dataclass(frozen=True, slots=True)
class Indexation:
    """Prices rise by ``annual_rate`` for each whole year elapsed since ``base_date``."""

    annual_rate: Decimal
    base_date: date


@dataclass(frozen=True, slots=True)
class RatePrice:
    outcome_id: str
    price_pence: int
    #: the version's own wording of the outcome, when it differs from the contract's.
    definition: str | None = None


@dataclass(frozen=True, slots=True)
class RateCardVersion:
    """Prices in force from ``effective_from`` until (not including) ``effective_to``."""

    version: str
    effective_from: date
    effective_to: date | None
    prices: tuple[RatePrice, ...]
    indexation: Indexation | None = None

    def covers(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    def base_price_pence(self, outcome_id: str) -> int | None:
        for price in self.prices:
            if price.outcome_id == outcome_id:
                return price.price_pence
        return None


@dataclass(frozen=True, slots=True)
class Contract:
    contract_id: str
    name: str
    project: str
    provider: str
    start: date
    #: first day after the term (half-open).
    end: date
    payers: tuple[Payer, ...]
    outcomes: tuple[Outcome, ...]
    rate_cards: tuple[RateCardVersion, ...]
    currency: str = DEFAULT_CURRENCY
    rounding: str = DEFAULT_ROUNDING
    referrals_from: date | None = None
    #: first day referrals are no longer accepted (half-open).
    referrals_to: date | None = None
    claim_deadline_days: int | None = None
    claim_deadline_date: date | None = None
    participant_cap_pence: int | None = None
    contract_cap_pence: int | None = None
    exclusive_groups: tuple[tuple[str, ...], ...] = ()
    #: raw ``[[mechanisms]]`` tables as ``(kind, params)``, interpreted by ledger.pbr.mechanisms.
    mechanisms: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    #: fund the outcome income and receivables are booked in (``None``: the database's only fund).
    fund: str | None = None
    source_name: str = field(default="", compare=False)
    #: joint-prime contracts (ledger.pbr.passthrough): who holds the contract, and its delivery
    #: partners with their subcontract terms; ``None`` / ``()`` for a single-provider contract.
    prime: Any = None
    partners: tuple[Any, ...] = ()

    def outcome(self, outcome_id: str) -> Outcome:
        for outcome in self.outcomes:
            if outcome.outcome_id == outcome_id:
                return outcome
        raise ValidationError(f"contract {self.contract_id}: unknown outcome {outcome_id!r}", field="outcome_id")

    @property
    def outcome_ids(self) -> tuple[str, ...]:
        return tuple(o.outcome_id for o in self.outcomes)

    @property
    def partner_ids(self) -> tuple[str, ...]:
        return tuple(p.partner_id for p in self.partners)

    def partner(self, partner_id: str) -> Any:
        for partner in self.partners:
            if partner.partner_id == partner_id:
                return partner
        known = ", ".join(self.partner_ids) or "none: this contract has no [[partners]]"
        raise NotFound(f"contract {self.contract_id}: unknown partner {partner_id!r} (partners: {known})", field="partner")

    @property
    def payer_ids(self) -> tuple[str, ...]:
        return tuple(p.payer_id for p in self.payers)

    @property
    def remainder_payer(self) -> Payer:
        return next(p for p in self.payers if p.share is None)

    def version_on(self, day: date) -> RateCardVersion | None:
        for version in self.rate_cards:
            if version.covers(day):
                return version
        return None

    def price_on(self, outcome_id: str, day: date) -> int | None:
        """The (indexed) price of one outcome achieved on ``day``; ``None`` if not priced then."""
        version = self.version_on(day)
        if version is None:
            return None
        base_pence = version.base_price_pence(outcome_id)
        if base_pence is None:
            return None
        return indexed_price_pence(base_pence, version.indexation, whole_years_between(version, day), self.rounding)


def whole_years_between(version: RateCardVersion, day: date) -> int:
    """Whole years from the version's indexation base date to ``day`` (0 before it)."""
    if version.indexation is None:
        return 0
    base = version.indexation.base_date
    years = day.year - base.year - ((day.month, day.day) < (base.month, base.day))
    return max(years, 0)


def indexed_price_pence(base_pence: int, indexation: Indexation | None, years: int, rounding: str) -> int:
    """``base * (1 + rate) ** years`` computed exactly, then rounded once with the contract mode."""
    if indexation is None or years <= 0:
        return base_pence
    factor = (Decimal(1) + indexation.annual_rate) ** years
    return round_minor(Decimal(base_pence) * factor, rounding)


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def load_contract_toml(text: str, source_name: str) -> Contract:
    """Parse a contract from TOML text; ``source_name`` names the file in every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problem = f"{source_name}: not valid TOML: {exc}"
        raise ImportRejected(f"{source_name}: contract rejected (1 problem)", [problem]) from None
    return contract_from_mapping(data, source_name)


_TOP_KEYS = {
    "id", "name", "project", "provider", "currency", "rounding", "start", "end",
    "referral_window", "claim_deadline", "caps", "payers", "outcomes", "rate_cards",
    "exclusive_groups", "mechanisms", "fund", "prime", "partners",
}
_OUTCOME_KEYS = {
    "id", "definition", "once_only", "requires", "max_days_after_start", "evidence_required",
    "count_cap", "value_cap", "value_cap_pence", "allow_zero",
}
_PAYER_KEYS = {"id", "name", "cap", "cap_pence", "share", "allow_zero"}
_VERSION_KEYS = {"version", "effective_from", "effective_to", "indexation", "outcomes"}
_PRICE_KEYS = {"id", "price", "price_pence", "definition", "allow_zero"}
#: The largest count a contract may name (a cap, a number of days): far above any real cohort,
#: far below the 64-bit sums a claim run makes of them.
COUNT_MAX = 1_000_000_000


class _Reader:
    """Reads typed fields and records every problem as ``source: path: message``."""

    def __init__(self, source_name: str, currency: str) -> None:
        self.source = source_name
        self.currency = currency
        self.problems: list[str] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{self.source}: {path}: {message}")

    def table(self, data: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any] | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.problem(path, f"must be a table, got {_describe(value)}")
            return None
        return value

    def unknown_keys(self, data: Mapping[str, Any], allowed: set[str], path: str) -> None:
        for key in sorted(set(data) - allowed):
            where = f"{path}.{key}" if path else key
            self.problem(where, f"unknown field (known: {', '.join(sorted(allowed))})")

    def text(self, data: Mapping[str, Any], key: str, path: str, *, required: bool = True, default: str | None = None) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                self.problem(path, "is required")
            return default
        if not isinstance(value, str) or not value.strip():
            self.problem(path, f"must be non-empty text, got {_describe(value)}")
            return default
        return value.strip()

    def ident(self, data: Mapping[str, Any], key: str, path: str) -> str | None:
        value = self.text(data, key, path)
        if value is not None and not _ID.match(value):
            self.problem(path, f"must be an id of letters, digits, '_', '.' or '-' (at most 64), got {value!r}")
            return None
        return value

    def day(self, data: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> date | None:
        value = data.get(key)
        if value is None:
            if required:
                self.problem(path, "is required")
            return None
        # TOML has native dates; a datetime carries a time of day a contract date must not have.
        if isinstance(value, datetime):
            self.problem(path, f"must be a date like 2026-01-31, got a date-time {value.isoformat()}")
            return None
        if isinstance(value, date):
            if not DATE_MIN <= value <= DATE_MAX:
                self.problem(path, f"{value.isoformat()} is outside the plausible dates {DATE_MIN.isoformat()} to "
                                   f"{DATE_MAX.isoformat()}")
                return None
            return value
        if isinstance(value, str):
            try:
                return parse_date(value, path)
            except ValidationError:
                pass
        self.problem(path, f"must be a date like 2026-01-31, got {_describe(value)}")
        return None

    def flag(self, data: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
        value = data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(path, f"must be true or false, got {_describe(value)}")
            return default
        return value

    def zero_refused(self, data: Mapping[str, Any], value: int | None, path: str, what: str) -> bool:
        """A zero price or cap is almost always a typo that would silently pay nothing; it stands
        only where the table says ``allow_zero = true``."""
        if value == 0 and data.get("allow_zero") is not True:
            self.problem(path, f"is zero, which would {what}; write allow_zero = true in the same table if that is meant")
            return True
        return False

    def count(self, data: Mapping[str, Any], key: str, path: str, *, nonzero: bool = False) -> int | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(path, f"must be a whole number, got {_describe(value)}")
            return None
        if value < 0:
            self.problem(path, f"must not be negative, got {value}")
            return None
        if value > COUNT_MAX:
            self.problem(path, f"{value} is larger than the limit of {COUNT_MAX:,}")
            return None
        if nonzero and self.zero_refused(data, value, path, "allow no outcome at all"):
            return None
        return value

    def amount(self, data: Mapping[str, Any], key: str, path: str, *, required: bool = False,
               nonzero: bool = False) -> int | None:
        """An amount given as ``key = "1234.50"`` or ``key_pence = 123450``; never a float."""
        pence_key = f"{key}_pence"
        text_value, pence_value = data.get(key), data.get(pence_key)
        pence_path = path + "_pence"
        if text_value is not None and pence_value is not None:
            self.problem(path, f"give {key} or {pence_key}, not both")
            return None
        if text_value is None and pence_value is None:
            if required:
                self.problem(path, f"is required (or {pence_key} in whole pence)")
            return None
        if pence_value is not None:
            if isinstance(pence_value, bool) or not isinstance(pence_value, int):
                self.problem(pence_path, f"must be a whole number of pence, got {_describe(pence_value)}")
                return None
            pence = pence_value
            shown_path = pence_path
        else:
            if isinstance(text_value, float):
                self.problem(
                    path,
                    f'must be text like "1234.50", not the TOML float {text_value!r} '
                    "(floats are binary and cannot hold every pence value exactly)",
                )
                return None
            if isinstance(text_value, int) and not isinstance(text_value, bool):
                self.problem(
                    path,
                    f'must be text like "{text_value}.00" (or {pence_key} in whole pence), '
                    f"got the number {text_value}",
                )
                return None
            if not isinstance(text_value, str):
                self.problem(path, f"must be a plain amount like 1234.50, got {_describe(text_value)}")
                return None
            try:
                pence = parse_amount(text_value, self.currency, path)
            except MoneyError:
                self.problem(path, f'must be a plain amount like 1234.50, got "{text_value}"')
                return None
            shown_path = path
        if pence < 0:
            self.problem(shown_path, f"must not be negative, got {format_amount(pence, self.currency)}")
            return None
        if pence > AMOUNT_MAX_PENCE:  # the ledger's limit: larger sums would overflow 64-bit columns
            self.problem(shown_path, f"{format_amount(pence, self.currency)} is larger than the limit of "
                                     f"{format_amount(AMOUNT_MAX_PENCE, self.currency)}")
            return None
        if nonzero and self.zero_refused(data, pence, shown_path, "pay nothing"):
            return None
        return pence

    def rate(self, data: Mapping[str, Any], key: str, path: str) -> Decimal | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, float):
            self.problem(path, f'must be text like "0.30", not the TOML float {value!r} (floats are binary)')
            return None
        if not isinstance(value, str):
            self.problem(path, f'must be text like "0.30", got {_describe(value)}')
            return None
        try:
            return to_decimal(value.strip(), path)
        except MoneyError:
            self.problem(path, f'must be a decimal like "0.30", got "{value}"')
            return None

    def array(self, data: Mapping[str, Any], key: str, path: str) -> list[Any]:
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(path, f"must be a list, got {_describe(value)}")
            return []
        return value


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"float {value!r}"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def contract_from_mapping(data: Mapping[str, Any], source_name: str) -> Contract:
    """Build and check a :class:`Contract` from parsed TOML (or any mapping of the same shape)."""
    if not isinstance(data, Mapping):
        raise ImportRejected(
            f"{source_name}: contract rejected (1 problem)", [f"{source_name}: expected a table at the top level"]
        )
    # Currency first: every amount is parsed in it.
    raw_currency = data.get("currency", DEFAULT_CURRENCY)
    currency = raw_currency if isinstance(raw_currency, str) and raw_currency in CURRENCY_EXPONENTS else DEFAULT_CURRENCY
    r = _Reader(source_name, currency)
    if raw_currency is not None and currency != raw_currency:
        r.problem("currency", f"unknown currency {_describe(raw_currency)} (known: {', '.join(sorted(CURRENCY_EXPONENTS))})")
    r.unknown_keys(data, _TOP_KEYS, "")

    contract_id = r.ident(data, "id", "id")
    name = r.text(data, "name", "name")
    project = r.text(data, "project", "project")
    provider = r.text(data, "provider", "provider")
    fund = r.ident(data, "fund", "fund") if "fund" in data else None
    rounding = data.get("rounding", DEFAULT_ROUNDING)
    if not isinstance(rounding, str) or rounding not in ROUNDING_MODES:
        r.problem("rounding", f"unknown rounding mode {_describe(rounding)} (known: {', '.join(ROUNDING_MODES)})")
        rounding = DEFAULT_ROUNDING
    start = r.day(data, "start", "start")
    end = r.day(data, "end", "end")
    if start and end and end <= start:
        r.problem("end", f"must be after start ({start}), got {end}")

    referrals_from = referrals_to = None
    window = r.table(data, "referral_window", "referral_window")
    if window is not None:
        r.unknown_keys(window, {"from", "to"}, "referral_window")
        referrals_from = r.day(window, "from", "referral_window.from", required=False)
        referrals_to = r.day(window, "to", "referral_window.to", required=False)
        if referrals_from and referrals_to and referrals_to <= referrals_from:
            r.problem("referral_window.to", f"must be after referral_window.from ({referrals_from}), got {referrals_to}")

    deadline_days = deadline_date = None
    deadline = r.table(data, "claim_deadline", "claim_deadline")
    if deadline is not None:
        r.unknown_keys(deadline, {"days_after_period_end", "date"}, "claim_deadline")
        deadline_days = r.count(deadline, "days_after_period_end", "claim_deadline.days_after_period_end")
        deadline_date = r.day(deadline, "date", "claim_deadline.date", required=False)
        if "days_after_period_end" in deadline and "date" in deadline:
            r.problem("claim_deadline", "give days_after_period_end or date, not both")
        elif not ({"days_after_period_end", "date"} & set(deadline)):
            r.problem("claim_deadline", "needs days_after_period_end or date")

    participant_cap = contract_cap = None
    caps = r.table(data, "caps", "caps")
    if caps is not None:
        r.unknown_keys(caps, {"per_participant", "per_participant_pence", "contract", "contract_pence", "allow_zero"},
                       "caps")
        participant_cap = r.amount(caps, "per_participant", "caps.per_participant", nonzero=True)
        contract_cap = r.amount(caps, "contract", "caps.contract", nonzero=True)

    payers = _read_payers(r, data)
    outcomes = _read_outcomes(r, data)
    known_outcomes = {o.outcome_id for o in outcomes}
    rate_cards = _read_rate_cards(r, data, known_outcomes, start, end)
    groups = _read_exclusive_groups(r, data, known_outcomes)
    mechanisms = _read_mechanisms(r, data)
    from ledger.pbr.passthrough import read_partners, read_prime  # joint-prime terms (docs/joint-prime.md)

    prime = read_prime(r, data)
    partners = read_partners(r, data, rounding, prime)

    if r.problems:
        count = len(r.problems)
        raise ImportRejected(
            f"{source_name}: contract rejected ({count} problem{'s' if count != 1 else ''})", r.problems
        )
    return Contract(
        contract_id=contract_id, name=name, project=project, provider=provider,
        start=start, end=end, payers=payers, outcomes=outcomes, rate_cards=rate_cards,
        currency=currency, rounding=rounding,
        referrals_from=referrals_from, referrals_to=referrals_to,
        claim_deadline_days=deadline_days, claim_deadline_date=deadline_date,
        participant_cap_pence=participant_cap, contract_cap_pence=contract_cap,
        exclusive_groups=groups, mechanisms=mechanisms, fund=fund, source_name=source_name,
        prime=prime, partners=partners,
    )  # fmt: skip


def _tables(r: _Reader, data: Mapping[str, Any], key: str) -> list[tuple[str, Mapping[str, Any]]]:
    out = []
    for index, item in enumerate(r.array(data, key, key)):
        path = f"{key}[{index}]"
        if not isinstance(item, Mapping):
            r.problem(path, f"must be a table, got {_describe(item)}")
            continue
        out.append((path, item))
    return out


def _read_payers(r: _Reader, data: Mapping[str, Any]) -> tuple[Payer, ...]:
    payers: list[Payer] = []
    takes_remainder: list[bool] = []
    seen: set[str] = set()
    if "payers" not in data:
        r.problem("payers", "at least one payer is required")
        return ()
    for path, item in _tables(r, data, "payers"):
        r.unknown_keys(item, _PAYER_KEYS, path)
        payer_id = r.ident(item, "id", f"{path}.id")
        name = r.text(item, "name", f"{path}.name")
        cap = r.amount(item, "cap", f"{path}.cap", nonzero=True)
        share = r.rate(item, "share", f"{path}.share")
        if share is not None and not (Decimal(0) < share <= Decimal(1)):
            r.problem(f"{path}.share", f"must be more than 0 and at most 1, got {share}")
            share = None
        if payer_id in seen:
            r.problem(f"{path}.id", f"duplicate payer id {payer_id!r}")
        if payer_id:
            seen.add(payer_id)
        payers.append(Payer(payer_id or "", name or "", cap, share))
        takes_remainder.append("share" not in item)
    if not payers:
        return ()
    fixed = [p.share for p in payers if p.share is not None]
    shares_total = sum(fixed, Decimal(0))
    if shares_total > 1:
        r.problem("payers", f"fixed shares sum to {shares_total}, more than 1")
    if sum(takes_remainder) != 1:
        r.problem(
            "payers",
            f"exactly one payer must have no share (it takes the remainder of each line), found {sum(takes_remainder)}",
        )
    return tuple(payers)


def _read_outcomes(r: _Reader, data: Mapping[str, Any]) -> tuple[Outcome, ...]:
    if "outcomes" not in data:
        r.problem("outcomes", "at least one outcome is required")
        return ()
    outcomes: list[Outcome] = []
    seen: set[str] = set()
    raw_requires: list[tuple[str, list[Any]]] = []
    tables = _tables(r, data, "outcomes")
    for path, item in tables:
        r.unknown_keys(item, _OUTCOME_KEYS, path)
        outcome_id = r.ident(item, "id", f"{path}.id")
        if outcome_id in seen:
            r.problem(f"{path}.id", f"duplicate outcome id {outcome_id!r}")
        if outcome_id:
            seen.add(outcome_id)
        definition = r.text(item, "definition", f"{path}.definition")
        requires = r.array(item, "requires", f"{path}.requires")
        raw_requires.append((path, requires))
        outcomes.append(
            Outcome(
                outcome_id=outcome_id or "",
                definition=definition or "",
                once_only=r.flag(item, "once_only", f"{path}.once_only", False),
                requires=tuple(x for x in requires if isinstance(x, str)),
                max_days_after_start=r.count(item, "max_days_after_start", f"{path}.max_days_after_start"),
                evidence_required=r.flag(item, "evidence_required", f"{path}.evidence_required", True),
                count_cap=r.count(item, "count_cap", f"{path}.count_cap", nonzero=True),
                value_cap_pence=r.amount(item, "value_cap", f"{path}.value_cap", nonzero=True),
            )
        )
    # Prerequisites: each must name another known outcome, and there must be no cycle.
    for (path, requires), outcome in zip(raw_requires, outcomes):
        for index, required in enumerate(requires):
            where = f"{path}.requires[{index}]"
            if not isinstance(required, str):
                r.problem(where, f"must be an outcome id, got {_describe(required)}")
            elif required == outcome.outcome_id:
                r.problem(where, f"outcome {required!r} cannot require itself")
            elif required not in seen:
                r.problem(where, f'unknown outcome "{required}"')
    by_id = {o.outcome_id: o for o in outcomes}
    for path_outcome in outcomes:
        if _has_cycle(path_outcome.outcome_id, by_id):
            r.problem("outcomes", f"prerequisites form a cycle through {path_outcome.outcome_id!r}")
            break
    return tuple(outcomes)


def _has_cycle(start: str, by_id: Mapping[str, Outcome]) -> bool:
    stack, seen = [start], set()
    while stack:
        current = stack.pop()
        outcome = by_id.get(current)
        if outcome is None:
            continue
        for required in outcome.requires:
            if required == start and current != start:
                return True
            if required not in seen and required != current:
                seen.add(required)
                stack.append(required)
    return False


def _read_rate_cards(
    r: _Reader, data: Mapping[str, Any], known_outcomes: set[str], start: date | None, end: date | None
) -> tuple[RateCardVersion, ...]:
    if "rate_cards" not in data:
        r.problem("rate_cards", "at least one rate card version is required")
        return ()
    versions: list[tuple[str, RateCardVersion]] = []
    seen: set[str] = set()
    for path, item in _tables(r, data, "rate_cards"):
        r.unknown_keys(item, _VERSION_KEYS, path)
        version_id = r.ident(item, "version", f"{path}.version")
        if version_id in seen:
            r.problem(f"{path}.version", f"duplicate version {version_id!r}")
        if version_id:
            seen.add(version_id)
        effective_from = r.day(item, "effective_from", f"{path}.effective_from")
        effective_to = r.day(item, "effective_to", f"{path}.effective_to", required=False)
        if effective_from and effective_to and effective_to <= effective_from:
            r.problem(f"{path}.effective_to", f"must be after effective_from ({effective_from}), got {effective_to}")
            effective_to = None
        indexation = None
        raw_index = r.table(item, "indexation", f"{path}.indexation")
        if raw_index is not None:
            r.unknown_keys(raw_index, {"annual_rate", "base_date"}, f"{path}.indexation")
            annual_rate = r.rate(raw_index, "annual_rate", f"{path}.indexation.annual_rate")
            if "annual_rate" not in raw_index:
                r.problem(f"{path}.indexation.annual_rate", "is required")
            elif annual_rate is not None and not (Decimal(-1) < annual_rate <= Decimal(1)):
                r.problem(f"{path}.indexation.annual_rate", f"must be more than -1 and at most 1, got {annual_rate}")
                annual_rate = None
            base_date = r.day(raw_index, "base_date", f"{path}.indexation.base_date")
            if annual_rate is not None and base_date is not None:
                indexation = Indexation(annual_rate, base_date)
        prices: list[RatePrice] = []
        priced: set[str] = set()
        price_tables = _tables(r, item, "outcomes")
        if not price_tables and "outcomes" not in item:
            r.problem(f"{path}.outcomes", "at least one priced outcome is required")
        for index, (_, entry) in enumerate(price_tables):
            where = f"{path}.outcomes[{index}]"
            r.unknown_keys(entry, _PRICE_KEYS, where)
            outcome_id = r.text(entry, "id", f"{where}.id")
            if outcome_id is not None and outcome_id not in known_outcomes:
                r.problem(f"{where}.id", f'unknown outcome "{outcome_id}" (define it under [[outcomes]])')
            elif outcome_id in priced:
                r.problem(f"{where}.id", f'outcome "{outcome_id}" is priced twice in this version')
            if outcome_id:
                priced.add(outcome_id)
            price = r.amount(entry, "price", f"{where}.price", required=True, nonzero=True)
            definition = r.text(entry, "definition", f"{where}.definition", required=False)
            if outcome_id and price is not None:
                prices.append(RatePrice(outcome_id, price, definition))
        if version_id and effective_from:
            versions.append((path, RateCardVersion(version_id, effective_from, effective_to, tuple(prices), indexation)))

    # Versions in date order must chain without gap or overlap and cover the whole term.
    ordered = sorted(versions, key=lambda pv: pv[1].effective_from)
    for (prev_path, prev), (path, current) in zip(ordered, ordered[1:]):
        if prev.effective_to is None or current.effective_from < prev.effective_to:
            until = f"to {prev.effective_to}" if prev.effective_to else "with no end"
            r.problem(
                f"{path}.effective_from",
                f"{current.effective_from} overlaps {prev_path} ({prev.version}, from {prev.effective_from} {until})",
            )
        elif current.effective_from > prev.effective_to:
            r.problem(
                f"{path}.effective_from",
                f"leaves a gap after {prev_path} ({prev.version}) which ends before {prev.effective_to}; "
                "versions must follow on without gaps",
            )
    if ordered and start is not None:
        first_path, first = ordered[0]
        if first.effective_from > start:
            r.problem(
                f"{first_path}.effective_from",
                f"must be on or before the contract start {start} so every day of the term has a price, "
                f"got {first.effective_from}",
            )
    if ordered and end is not None:
        last_path, last = ordered[-1]
        if last.effective_to is not None and last.effective_to < end:
            r.problem(f"{last_path}.effective_to", f"ends before the contract end {end}, got {last.effective_to}")
    return tuple(v for _, v in ordered)


def _read_exclusive_groups(r: _Reader, data: Mapping[str, Any], known: set[str]) -> tuple[tuple[str, ...], ...]:
    groups: list[tuple[str, ...]] = []
    member_of: dict[str, int] = {}
    for index, group in enumerate(r.array(data, "exclusive_groups", "exclusive_groups")):
        path = f"exclusive_groups[{index}]"
        if not isinstance(group, list) or len(group) < 2:
            r.problem(path, f"must be a list of at least two outcome ids, got {_describe(group)}")
            continue
        ok = True
        for member_index, member in enumerate(group):
            where = f"{path}[{member_index}]"
            if not isinstance(member, str) or member not in known:
                r.problem(where, f"unknown outcome {_describe(member)}")
                ok = False
            elif member in member_of:
                r.problem(where, f'outcome "{member}" is already in exclusive_groups[{member_of[member]}]')
                ok = False
            else:
                member_of[member] = index
        if ok:
            groups.append(tuple(group))
    return tuple(groups)


def _read_mechanisms(r: _Reader, data: Mapping[str, Any]) -> tuple[tuple[str, Mapping[str, Any]], ...]:
    mechanisms = []
    for path, item in _tables(r, data, "mechanisms"):
        kind = r.text(item, "kind", f"{path}.kind")
        if kind:
            # Checked here with the registry, so a bad mechanism refuses the whole contract.
            from ledger.pbr.mechanisms import mechanism_from_mapping

            try:
                mechanism_from_mapping(item, path)
            except ImportRejected as exc:
                r.problems.extend(f"{r.source}: {problem}" for problem in exc.problems)
                continue
            params = {k: v for k, v in item.items() if k != "kind"}
            mechanisms.append((kind, MappingProxyType(params)))
    return tuple(mechanisms)


def claim_deadline_for(contract: Contract, period_last_day: date) -> date | None:
    """Last day a claim for an achievement in the period ending ``period_last_day`` is on time."""
    if contract.claim_deadline_date is not None:
        return contract.claim_deadline_date
    if contract.claim_deadline_days is not None:
        return period_last_day + timedelta(days=contract.claim_deadline_days)
    return None
