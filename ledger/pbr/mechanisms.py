"""Payment-by-results comparison mechanisms (DESIGN.md section 5, items 9-13).

Each mechanism is a frozen dataclass of contract parameters with

* ``from_mapping(data, where)``: validate one ``[[mechanisms]]`` table of a contract file and
  raise :class:`ledger.errors.ImportRejected` listing *every* problem with its field path;
* ``compute(...)``: a pure function of the observed figures returning a result dataclass with
  the payment in pence and every figure a council needs to recompute it.

Money is int pence; rates are Decimal; comparisons of rates are exact (``Fraction``) so a
threshold is met at exactly the threshold. Money meets a rate only through
:func:`ledger.money.round_minor` with a named mode.

Mechanisms (``kind`` -> class): see :data:`MECHANISMS` and ``docs/pbr-mechanisms.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, Callable, ClassVar, Mapping, Sequence

import numpy as np
import pandas as pd

from ledger.errors import ImportRejected, MoneyError, ValidationError
from ledger.money import (
    DEFAULT_ROUNDING,
    ROUNDING_MODES,
    check_pence,
    parse_amount,
    round_minor,
    to_decimal,
)
from ledger.periods import Period

# --------------------------------------------------------------------------------------------
# Parameter parsing: collect every problem, then raise once.
# --------------------------------------------------------------------------------------------


class _Fields:
    """Reads fields of one mapping, recording problems as ``where.field: message``."""

    def __init__(self, data: object, where: str, allowed: set[str]) -> None:
        self.where = where
        self.problems: list[str] = []
        if not isinstance(data, Mapping):
            self.data: Mapping[str, Any] = {}
            self.problems.append(f"{where}: expected a table of parameters, got {type(data).__name__}")
            return
        self.data = data
        for key in sorted(set(data) - allowed - {"kind"}, key=str):
            self.problems.append(f"{where}.{key}: unknown parameter (known: {', '.join(sorted(allowed))})")

    def problem(self, field: str, message: str) -> None:
        self.problems.append(f"{self.where}.{field}: {message}")

    def money(self, name: str, *, required: bool = True, minimum_pence: int = 0) -> int | None:
        """``name = "1234.50"`` (major units as text) or ``name_pence = 123450`` (int)."""
        text_key, pence_key = name, f"{name}_pence"
        has_text, has_pence = text_key in self.data, pence_key in self.data
        if has_text and has_pence:
            self.problem(name, f"give either {text_key} or {pence_key}, not both")
            return None
        if not has_text and not has_pence:
            if required:
                self.problem(name, f"missing: give {text_key} = \"1234.50\" or {pence_key} = 123450")
            return None
        if has_pence:
            value = self.data[pence_key]
            if isinstance(value, float):
                self.problem(pence_key, f"is a float ({value!r}); pence must be a whole number")
                return None
            if isinstance(value, bool) or not isinstance(value, int):
                self.problem(pence_key, f"must be a whole number of pence, got {value!r}")
                return None
            pence = value
            field = pence_key
        else:
            value = self.data[text_key]
            if isinstance(value, float):
                self.problem(
                    text_key,
                    f"is a TOML float ({value!r}); write money as a string like \"{value:.2f}\" "
                    "so no binary rounding can creep in",
                )
                return None
            try:
                pence = parse_amount(value, what=text_key)
            except MoneyError as error:
                self.problem(text_key, error.message)
                return None
            field = text_key
        if pence < minimum_pence:
            self.problem(field, f"must be at least {minimum_pence} pence, got {pence}")
            return None
        return pence

    def rate(
        self,
        name: str,
        *,
        required: bool = True,
        default: Decimal | None = None,
        low: Decimal = Decimal(0),
        high: Decimal | None = Decimal(1),
        low_inclusive: bool = True,
    ) -> Decimal | None:
        """A Decimal written as a string (``"0.075"``); floats refused."""
        if name not in self.data:
            if required:
                self.problem(name, 'missing: give a rate as a string like "0.10"')
            return default
        value = self.data[name]
        if isinstance(value, float):
            self.problem(
                name, f"is a TOML float ({value!r}); write rates as a string like \"{value}\" to keep them exact"
            )
            return None
        try:
            rate = to_decimal(value, name)
        except MoneyError as error:
            self.problem(name, error.message)
            return None
        if rate < low or (rate == low and not low_inclusive) or (high is not None and rate > high):
            lower = "[" if low_inclusive else "("
            upper = f"{high}]" if high is not None else "inf)"
            self.problem(name, f"must be in {lower}{low}, {upper}, got {rate}")
            return None
        return rate

    def integer(self, name: str, *, required: bool = True, minimum: int = 0) -> int | None:
        if name not in self.data:
            if required:
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

    def text(self, name: str, *, default: str) -> str:
        value = self.data.get(name, default)
        if not isinstance(value, str) or not value.strip():
            self.problem(name, f"must be non-empty text, got {value!r}")
            return default
        return value

    def rounding(self) -> str:
        mode = self.data.get("rounding", DEFAULT_ROUNDING)
        if mode not in ROUNDING_MODES:
            self.problem("rounding", f"unknown rounding mode {mode!r} (known: {', '.join(ROUNDING_MODES)})")
            return DEFAULT_ROUNDING
        return mode

    def raise_if_any(self, what: str) -> None:
        if self.problems:
            raise ImportRejected(f"{self.where}: invalid {what} parameters", list(self.problems))


def _exact(value: Decimal | Fraction | int, what: str) -> Fraction:
    """An exact Fraction from Decimal/Fraction/int; floats are refused (they are not exact)."""
    if isinstance(value, (bool, float)):
        raise ValidationError(f"{what} must be a Decimal, Fraction or int, not {type(value).__name__}", field=what)
    if isinstance(value, (Decimal, Fraction, int)):
        return Fraction(value)
    raise ValidationError(f"{what} must be a Decimal, Fraction or int, got {value!r}", field=what)


def _check_count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValidationError(f"{what} must be a whole number >= 0, got {value!r}", field=what)
    return int(value)


# --------------------------------------------------------------------------------------------
# 9. Cohort comparison (Peterborough)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CohortObservation:
    """Counts for one cohort: the intervention group and its matched comparison group."""

    name: str
    intervention_size: int
    intervention_events: int
    comparison_size: int
    comparison_events: int


@dataclass(frozen=True, slots=True)
class CohortOutcome:
    name: str
    intervention_size: int
    intervention_rate: Fraction  # events per person in the intervention cohort
    comparison_rate: Fraction  # events per person in the matched comparison group
    improvement: Fraction  # 1 - intervention_rate / comparison_rate
    events_expected: Fraction  # comparison_rate * intervention_size
    events_avoided: Fraction  # events_expected - intervention_events
    meets_threshold: bool
    payment_pence: int  # paid on this cohort's own result (0 if it missed its threshold)


@dataclass(frozen=True, slots=True)
class CohortComparisonResult:
    cohorts: tuple[CohortOutcome, ...]
    cohort_threshold: Decimal
    overall_threshold: Decimal
    overall_improvement: Fraction  # intervention-size-weighted mean of cohort improvements
    overall_meets_threshold: bool
    overall_events_avoided: Fraction  # net: cohorts that got worse count negative
    cohort_payment_pence: int  # sum of payments of cohorts that met their own threshold
    overall_payment_pence: int  # price * overall events avoided, if the overall threshold is met
    payment_pence: int  # max(cohort_payment_pence, overall_payment_pence)
    basis: str  # "cohorts", "overall" or "none": which figure was paid


@dataclass(frozen=True, slots=True)
class CohortComparison:
    """Reconviction-style comparison against matched comparison groups (Peterborough).

    Per cohort: ``improvement = 1 - intervention_rate / comparison_rate`` and
    ``events_avoided = comparison_rate * intervention_size - intervention_events``.
    A cohort meeting ``cohort_threshold`` (at or above, exactly) is paid
    ``price_per_event_pence * events_avoided``, rounded once per cohort.

    Overall: the cohort improvements weighted by intervention cohort size. If that meets
    ``overall_threshold``, the overall payment is the price times the net events avoided across
    *all* cohorts (a cohort that got worse counts negative), rounded once.

    How they combine (documented choice): the payment is the larger of the cohort payments and
    the overall payment, never their sum. This is Peterborough's rule in its simplest form: the
    overall result is the fallback for cohorts that individually miss the 10% bar, and a cohort
    already earning on its own result is not paid twice.
    """

    kind: ClassVar[str] = "cohort_comparison"

    price_per_event_pence: int
    cohort_threshold: Decimal = Decimal("0.10")
    overall_threshold: Decimal = Decimal("0.075")
    rounding: str = DEFAULT_ROUNDING

    def __post_init__(self) -> None:
        check_pence(self.price_per_event_pence, "price_per_event_pence")
        if self.rounding not in ROUNDING_MODES:
            raise ValidationError(f"unknown rounding mode {self.rounding!r}", field="rounding")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str) -> "CohortComparison":
        fields = _Fields(data, where, {"price_per_event", "price_per_event_pence", "cohort_threshold",
                                       "overall_threshold", "rounding"})
        price = fields.money("price_per_event")
        cohort = fields.rate("cohort_threshold", low=Decimal(0), low_inclusive=False)
        overall = fields.rate("overall_threshold", low=Decimal(0), low_inclusive=False)
        rounding = fields.rounding()
        fields.raise_if_any(cls.kind)
        return cls(price, cohort, overall, rounding)  # type: ignore[arg-type]

    def compute(self, cohorts: Sequence[CohortObservation]) -> CohortComparisonResult:
        if not cohorts:
            raise ValidationError("cohort comparison needs at least one cohort", field="cohorts")
        price = Fraction(self.price_per_event_pence)
        outcomes: list[CohortOutcome] = []
        for cohort in cohorts:
            where = f"cohort {cohort.name}"
            n_int = _check_count(cohort.intervention_size, f"{where} intervention_size")
            e_int = _check_count(cohort.intervention_events, f"{where} intervention_events")
            n_cmp = _check_count(cohort.comparison_size, f"{where} comparison_size")
            e_cmp = _check_count(cohort.comparison_events, f"{where} comparison_events")
            if n_int == 0 or n_cmp == 0:
                raise ValidationError(f"{where}: group sizes must be above zero", field="cohorts")
            if e_cmp == 0:
                # No events in the comparison group: improvement is undefined, not "infinite".
                raise ValidationError(
                    f"{where}: comparison group has 0 events, so improvement is undefined", field="cohorts"
                )
            rate_int = Fraction(e_int, n_int)
            rate_cmp = Fraction(e_cmp, n_cmp)
            improvement = 1 - rate_int / rate_cmp
            expected = rate_cmp * n_int
            avoided = expected - e_int
            meets = improvement >= Fraction(self.cohort_threshold)
            payment = round_minor(price * avoided, self.rounding) if meets else 0
            outcomes.append(
                CohortOutcome(cohort.name, n_int, rate_int, rate_cmp, improvement, expected, avoided, meets, payment)
            )
        size_total = sum(o.intervention_size for o in outcomes)
        overall = sum((o.improvement * o.intervention_size for o in outcomes), Fraction(0)) / size_total
        overall_meets = overall >= Fraction(self.overall_threshold)
        overall_avoided = sum((o.events_avoided for o in outcomes), Fraction(0))
        overall_payment = round_minor(price * max(overall_avoided, Fraction(0)), self.rounding) if overall_meets else 0
        cohort_payment = sum(o.payment_pence for o in outcomes)
        if cohort_payment == 0 and overall_payment == 0:
            basis, payment = "none", 0
        elif overall_payment > cohort_payment:
            basis, payment = "overall", overall_payment
        else:
            basis, payment = "cohorts", cohort_payment
        return CohortComparisonResult(
            tuple(outcomes), self.cohort_threshold, self.overall_threshold, overall, overall_meets,
            overall_avoided, cohort_payment, overall_payment, payment, basis,
        )


# --------------------------------------------------------------------------------------------
# 10. Baseline reduction (Essex)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BaselineReductionResult:
    baseline_units: int
    actual_units: int
    units_saved: int  # max(baseline - actual, 0): a rise above baseline pays nothing, never negative
    price_per_unit_pence: int
    gross_pence: int  # units_saved * price
    cap_pence: int | None
    paid_to_date_pence: int
    cap_headroom_pence: int | None  # cap - paid_to_date, before this payment
    cap_reduction_pence: int  # gross - payment
    payment_pence: int


@dataclass(frozen=True, slots=True)
class BaselineReduction:
    """Units (e.g. care days) saved against a historical baseline, priced per unit, capped.

    ``payment = min(max(baseline - actual, 0) * price, cap - paid_to_date)``. The cap is
    cumulative over the contract, so earlier payments are passed in as ``paid_to_date_pence``.
    Units are whole numbers, so no rounding is needed.
    """

    kind: ClassVar[str] = "baseline_reduction"

    baseline_units: int
    price_per_unit_pence: int
    cap_pence: int | None = None
    unit: str = "unit"

    def __post_init__(self) -> None:
        _check_count(self.baseline_units, "baseline_units")
        check_pence(self.price_per_unit_pence, "price_per_unit_pence")
        if self.cap_pence is not None:
            check_pence(self.cap_pence, "cap_pence")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str) -> "BaselineReduction":
        fields = _Fields(data, where, {"baseline_units", "price_per_unit", "price_per_unit_pence",
                                       "cap", "cap_pence", "unit"})
        baseline = fields.integer("baseline_units")
        price = fields.money("price_per_unit")
        cap = fields.money("cap", required=False)
        unit = fields.text("unit", default="unit")
        fields.raise_if_any(cls.kind)
        return cls(baseline, price, cap, unit)  # type: ignore[arg-type]

    def compute(self, actual_units: int, *, paid_to_date_pence: int = 0) -> BaselineReductionResult:
        actual = _check_count(actual_units, "actual_units")
        paid = check_pence(paid_to_date_pence, "paid_to_date_pence")
        saved = max(self.baseline_units - actual, 0)
        gross = saved * self.price_per_unit_pence
        if self.cap_pence is None:
            headroom, payment = None, gross
        else:
            headroom = max(self.cap_pence - paid, 0)
            payment = min(gross, headroom)
        return BaselineReductionResult(
            self.baseline_units, actual, saved, self.price_per_unit_pence, gross, self.cap_pence, paid,
            headroom, gross - payment, payment,
        )


# --------------------------------------------------------------------------------------------
# 11. Per-day outcomes (Denver)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PerDayResult:
    """``by_participant`` columns: participant_id, days, gross_pence, paid_to_date_pence,
    cap_reduction_pence, payment_pence (all int64)."""

    period: Period | None
    price_per_day_pence: int
    participant_cap_pence: int | None
    by_participant: pd.DataFrame
    days_total: int
    gross_pence: int
    cap_reduction_pence: int
    payment_pence: int


@dataclass(frozen=True, slots=True)
class PerDay:
    """A price per day a participant is in a state (e.g. stably housed), from date spells.

    Spells are half-open ``[start, end)``: the start day counts, the end day does not (a spell
    from 1 to 31 January is 30 days). A missing ``end`` is an open spell and runs to the end of
    the period. Spells are clipped to the period ``[period.start, period.end)``; overlapping spells
    of one participant are merged so no day is paid twice. An optional per-participant cap is
    cumulative: pass what each participant has been paid before as ``paid_to_date_pence``.
    """

    kind: ClassVar[str] = "per_day"

    price_per_day_pence: int
    participant_cap_pence: int | None = None
    state: str = "state"

    def __post_init__(self) -> None:
        check_pence(self.price_per_day_pence, "price_per_day_pence")
        if self.participant_cap_pence is not None:
            check_pence(self.participant_cap_pence, "participant_cap_pence")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str) -> "PerDay":
        fields = _Fields(data, where, {"price_per_day", "price_per_day_pence", "participant_cap",
                                       "participant_cap_pence", "state"})
        price = fields.money("price_per_day")
        cap = fields.money("participant_cap", required=False)
        state = fields.text("state", default="state")
        fields.raise_if_any(cls.kind)
        return cls(price, cap, state)  # type: ignore[arg-type]

    def compute(
        self,
        spells: pd.DataFrame,
        period: Period | None = None,
        *,
        paid_to_date_pence: Mapping[str, int] | None = None,
    ) -> PerDayResult:
        """``spells`` has columns participant_id, start, end (dates; end may be missing)."""
        missing = {"participant_id", "start", "end"} - set(spells.columns)
        if missing:
            raise ValidationError(f"spells frame lacks columns: {', '.join(sorted(missing))}", field="spells")
        # Work on integer codes for participants (fast sorting and grouping); names come back
        # at the end.
        codes, names = pd.factorize(spells["participant_id"].astype(str), sort=True)
        frame = pd.DataFrame(
            {
                "participant_id": codes,
                "start": pd.to_datetime(spells["start"]).to_numpy(),
                "end": pd.to_datetime(spells["end"]).to_numpy(),
            }
        )
        if frame["start"].isna().any():
            rows = frame.index[frame["start"].isna()].tolist()
            raise ValidationError(f"spells with no start date at rows {rows}", field="start")
        open_spells = frame["end"].isna()
        if open_spells.any():
            if period is None:
                rows = frame.index[open_spells].tolist()
                raise ValidationError(f"open spells (no end) at rows {rows} need a period to end them", field="end")
            frame.loc[open_spells, "end"] = pd.Timestamp(period.end)
        backwards = frame["end"] < frame["start"]
        if backwards.any():
            rows = frame.index[backwards].tolist()
            raise ValidationError(f"spells ending before they start at rows {rows}", field="end")
        if period is not None:
            frame["start"] = frame["start"].clip(lower=pd.Timestamp(period.start))
            frame["end"] = frame["end"].clip(upper=pd.Timestamp(period.end))
        frame = frame[frame["end"] > frame["start"]]

        # Merge overlapping spells per participant: a new block starts where a spell begins after
        # every earlier spell of that participant has ended.
        frame = frame.sort_values(["participant_id", "start", "end"], kind="mergesort").reset_index(drop=True)
        reach = frame.groupby("participant_id", sort=False)["end"].cummax()
        prev_reach = reach.groupby(frame["participant_id"], sort=False).shift(1)
        new_block = prev_reach.isna() | (frame["start"] > prev_reach)
        block = new_block.cumsum()
        merged = frame.groupby(block, sort=False).agg(
            participant_id=("participant_id", "first"), start=("start", "min"), end=("end", "max")
        )
        merged["days"] = (merged["end"] - merged["start"]).dt.days.astype("int64")
        per = merged.groupby("participant_id", sort=True)["days"].sum().astype("int64").reset_index()
        per["participant_id"] = pd.Series(np.asarray(names, dtype=object)[per["participant_id"].to_numpy()],
                                          dtype=object)

        per["gross_pence"] = per["days"] * np.int64(self.price_per_day_pence)
        paid = pd.Series(dict(paid_to_date_pence or {}), dtype="object")
        for pid, value in paid.items():
            check_pence(value, f"paid_to_date_pence[{pid}]")
        per["paid_to_date_pence"] = per["participant_id"].map(paid).fillna(0).astype("int64")
        if self.participant_cap_pence is None:
            per["payment_pence"] = per["gross_pence"]
        else:
            headroom = (np.int64(self.participant_cap_pence) - per["paid_to_date_pence"]).clip(lower=0)
            per["payment_pence"] = np.minimum(per["gross_pence"], headroom).astype("int64")
        per["cap_reduction_pence"] = (per["gross_pence"] - per["payment_pence"]).astype("int64")
        per = per[["participant_id", "days", "gross_pence", "paid_to_date_pence", "cap_reduction_pence",
                   "payment_pence"]]
        return PerDayResult(
            period, self.price_per_day_pence, self.participant_cap_pence, per,
            int(per["days"].sum()), int(per["gross_pence"].sum()), int(per["cap_reduction_pence"].sum()),
            int(per["payment_pence"].sum()),
        )


def count_days(start: date, end: date) -> int:
    """Days in the half-open range ``[start, end)``: the start day counts, the end day does not."""
    if end < start:
        raise ValidationError(f"end {end} is before start {start}", field="end")
    return (end - start).days


# --------------------------------------------------------------------------------------------
# 12. Tiered bands
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Band:
    from_improvement: Decimal  # lower edge, inclusive
    payment_pence: int


@dataclass(frozen=True, slots=True)
class TieredBandsResult:
    improvement: Fraction
    band_index: int | None  # None: below the lowest band
    band_from: Decimal | None
    band_to: Decimal | None  # next band's lower edge (exclusive); None for the top band
    payment_pence: int


@dataclass(frozen=True, slots=True)
class TieredBands:
    """Payment looked up from the size of an improvement.

    Band *i* covers ``[from_i, from_{i+1})``: inclusive at its lower edge, exclusive at the next
    band's lower edge; the top band is open above. An improvement below the lowest edge pays 0.
    Edges must strictly increase and payments must not decrease, so a larger improvement never
    pays less (refused at load time otherwise).
    """

    kind: ClassVar[str] = "tiered_bands"

    bands: tuple[Band, ...]
    measure: str = "improvement"

    def __post_init__(self) -> None:
        problems = _band_problems(self.bands)
        if problems:
            raise ValidationError("; ".join(problems), field="bands")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str) -> "TieredBands":
        fields = _Fields(data, where, {"bands", "measure"})
        measure = fields.text("measure", default="improvement")
        raw = fields.data.get("bands")
        bands: list[Band] = []
        if not isinstance(raw, (list, tuple)) or not raw:
            fields.problem("bands", 'missing: give a list like [{ from = "0.10", payment = "50000.00" }, ...]')
        else:
            for index, item in enumerate(raw):
                band_fields = _Fields(item, f"{where}.bands[{index}]", {"from", "payment", "payment_pence"})
                low = band_fields.rate("from", low=Decimal("-Infinity"), high=None)
                pay = band_fields.money("payment")
                fields.problems.extend(band_fields.problems)
                if low is not None and pay is not None:
                    bands.append(Band(low, pay))
            if len(bands) == len(raw):
                fields.problems.extend(f"{where}.bands: {p}" for p in _band_problems(tuple(bands)))
        fields.raise_if_any(cls.kind)
        return cls(tuple(bands), measure)

    def compute(self, improvement: Decimal | Fraction | int) -> TieredBandsResult:
        value = _exact(improvement, self.measure)
        index: int | None = None
        for i, band in enumerate(self.bands):
            if value >= Fraction(band.from_improvement):
                index = i
        if index is None:
            return TieredBandsResult(value, None, None, self.bands[0].from_improvement, 0)
        upper = self.bands[index + 1].from_improvement if index + 1 < len(self.bands) else None
        band = self.bands[index]
        return TieredBandsResult(value, index, band.from_improvement, upper, band.payment_pence)


def _band_problems(bands: tuple[Band, ...]) -> list[str]:
    if not bands:
        return ["at least one band is needed"]
    problems = []
    for i in range(1, len(bands)):
        if bands[i].from_improvement <= bands[i - 1].from_improvement:
            problems.append(
                f"band {i} starts at {bands[i].from_improvement}, not above band {i - 1}'s "
                f"{bands[i - 1].from_improvement}: edges must strictly increase"
            )
        if bands[i].payment_pence < bands[i - 1].payment_pence:
            problems.append(
                f"band {i} pays {bands[i].payment_pence} pence, less than band {i - 1}'s "
                f"{bands[i - 1].payment_pence}: a bigger improvement must not pay less"
            )
    return problems


# --------------------------------------------------------------------------------------------
# 13. Savings share with a switch point (Utah)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SavingsSharePeriod:
    index: int
    savings_pence: int
    savings_before_switch: Fraction  # the part of this period's savings shared at the first rate
    savings_after_switch: Fraction  # the rest, shared at the second rate
    payment_pence: int  # outcome payment to the fund (investors) for this period
    retained_pence: int  # savings the payer keeps: savings - payment, exactly
    paid_to_date_pence: int  # cumulative payment after this period
    switched: bool  # True once the repayment target has been reached (in or before this period)


@dataclass(frozen=True, slots=True)
class SavingsShareResult:
    repay_target_pence: int
    periods: tuple[SavingsSharePeriod, ...]
    payment_pence: int
    retained_pence: int
    switch_period: int | None  # index of the period in which the target was reached


@dataclass(frozen=True, slots=True)
class SavingsShare:
    """A share of the payer's savings: ``share_until_repaid`` until the fund has been paid the
    repayment target (principal plus interest), then ``share_after_repaid`` (Utah: 95%, then 40%).

    In the period that crosses the target, the savings are split exactly: the part ``s1`` that
    brings payments to the target at the first rate (``s1 = remaining / share_until_repaid``,
    a Fraction) and the rest at the second rate. Each period's payment is rounded once with the
    named mode; the payer retains ``savings - payment``, so the two always add up to the savings
    to the penny. Negative savings are refused (a cost rise is not a negative payment here).
    """

    kind: ClassVar[str] = "savings_share"

    share_until_repaid: Decimal
    share_after_repaid: Decimal
    principal_pence: int | None = None
    interest_rate: Decimal = Decimal(0)  # simple interest on principal, for the repayment target
    rounding: str = DEFAULT_ROUNDING

    def __post_init__(self) -> None:
        if not (Decimal(0) < self.share_until_repaid <= 1) or not (Decimal(0) <= self.share_after_repaid <= 1):
            raise ValidationError("savings shares must be in (0, 1] before the switch and [0, 1] after")
        if self.principal_pence is not None:
            check_pence(self.principal_pence, "principal_pence")
        if self.rounding not in ROUNDING_MODES:
            raise ValidationError(f"unknown rounding mode {self.rounding!r}", field="rounding")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str) -> "SavingsShare":
        fields = _Fields(data, where, {"share_until_repaid", "share_after_repaid", "principal",
                                       "principal_pence", "interest_rate", "rounding"})
        before = fields.rate("share_until_repaid", low=Decimal(0), low_inclusive=False)
        after = fields.rate("share_after_repaid")
        principal = fields.money("principal", required=False)
        interest = fields.rate("interest_rate", required=False, default=Decimal(0), high=None)
        if "interest_rate" in fields.data and principal is None and not any(
            key in fields.data for key in ("principal", "principal_pence")
        ):
            fields.problem("interest_rate", "is given without a principal to charge it on")
        rounding = fields.rounding()
        fields.raise_if_any(cls.kind)
        return cls(before, after, principal, interest, rounding)  # type: ignore[arg-type]

    def repay_target_pence(self) -> int:
        """Principal plus simple interest on it, rounded with the contract's mode."""
        if self.principal_pence is None:
            raise ValidationError("no principal in the contract: pass repay_target_pence", field="principal")
        return self.principal_pence + round_minor(Decimal(self.principal_pence) * self.interest_rate, self.rounding)

    def compute(
        self, savings_per_period_pence: Sequence[int], repay_target_pence: int | None = None
    ) -> SavingsShareResult:
        target = self.repay_target_pence() if repay_target_pence is None else check_pence(
            repay_target_pence, "repay_target_pence"
        )
        if target < 0:
            raise ValidationError(f"repay_target_pence must be >= 0, got {target}", field="repay_target_pence")
        before, after = Fraction(self.share_until_repaid), Fraction(self.share_after_repaid)
        paid = 0
        switch_period: int | None = None
        rows: list[SavingsSharePeriod] = []
        for index, savings in enumerate(savings_per_period_pence):
            check_pence(savings, f"savings_per_period_pence[{index}]")
            if savings < 0:
                raise ValidationError(f"savings in period {index} are negative ({savings})", field="savings")
            remaining = target - paid
            if remaining <= 0:
                part_before, part_after = Fraction(0), Fraction(savings)
                payment = round_minor(after * savings, self.rounding)
            elif before * savings <= remaining:
                part_before, part_after = Fraction(savings), Fraction(0)
                payment = round_minor(before * savings, self.rounding)
            else:
                # The target is reached inside this period: the first `remaining / before` of the
                # savings pays exactly the remaining amount; the rest is shared at the second rate.
                part_before = remaining / before
                part_after = savings - part_before
                payment = remaining + round_minor(after * part_after, self.rounding)
            paid += payment
            if switch_period is None and paid >= target:
                switch_period = index
            rows.append(
                SavingsSharePeriod(index, savings, part_before, part_after, payment, savings - payment, paid,
                                   paid >= target)
            )
        total = sum(r.payment_pence for r in rows)
        return SavingsShareResult(target, tuple(rows), total, sum(r.retained_pence for r in rows), switch_period)


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------

Mechanism = CohortComparison | BaselineReduction | PerDay | TieredBands | SavingsShare

MECHANISMS: dict[str, type] = {
    CohortComparison.kind: CohortComparison,
    BaselineReduction.kind: BaselineReduction,
    PerDay.kind: PerDay,
    TieredBands.kind: TieredBands,
    SavingsShare.kind: SavingsShare,
}


def mechanism_from_mapping(data: Mapping[str, Any], where: str) -> Mechanism:
    """Build the mechanism named by ``data["kind"]`` from one ``[[mechanisms]]`` table."""
    kind = data.get("kind") if isinstance(data, Mapping) else None
    cls = MECHANISMS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ImportRejected(
            f"{where}: unknown mechanism",
            [f"{where}.kind: {kind!r} is not a mechanism (known: {', '.join(MECHANISMS)})"],
        )
    from_mapping: Callable[[Mapping[str, Any], str], Mechanism] = cls.from_mapping  # type: ignore[attr-defined]
    return from_mapping(data, where)
