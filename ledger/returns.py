"""Performance: XIRR of dated flows and the DPI / RVPI / TVPI multiples (DESIGN.md section 6).

The float boundary. An IRR is the root of a polynomial-like equation with fractional powers;
it has no exact form, so it is solved here in binary floating point, for reporting only. Money
goes in as int pence and never comes back out of this module as a float: the only floats that
leave are rates (``XirrResult.rate``, the ``rate`` column of :func:`xirr_many`).

XIRR, as Excel defines it: the rate ``r`` with ``sum(c_i / (1 + r) ** ((d_i - d_0) / 365)) = 0``,
``d_0`` the earliest date (ACT/365F). We solve in ``x = ln(1 + r)``, where the equation is
``sum(c_i * exp(-x * t_i)) = 0``, over ``r`` in ``[RATE_MIN, RATE_MAX]``, by bracketing and
bisection (robust: no starting guess, no divergence; Newton's method used by Excel can wander
off or find a far root). Each evaluation is scaled by ``exp(-max(-x * t_i))`` so long horizons
and extreme rates cannot overflow; scaling by a positive number does not move a sign change.

How many roots: order the flows by date (same-day flows netted). By Descartes' rule of signs,
which holds for sums of real powers too, the number of rates with NPV zero is at most the number
of sign changes. One sign change (the usual pay-in-then-get-back): exactly one root, found
directly. More than one: NPV is scanned on a fine grid for every sign change and each bracket
is bisected. If several roots are found the IRR is ambiguous: by default the result is n/a with
reason ``"multiple IRRs: ..."`` and every root listed in ``roots``; ``multiple="nearest_zero"``
reports the root nearest to 0 instead. A root where NPV only touches zero without crossing it
(a double root) is not a sign change and is not found.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Sequence

import numpy as np
import pandas as pd

from ledger.errors import ValidationError
from ledger.money import check_pence

#: Bounds of the rates XIRR searches: -99.9999% to 1,000,000 (100,000,000%) a year.
RATE_MIN = -0.999999
RATE_MAX = 1e6
_X_MIN = math.log1p(RATE_MIN)
_X_MAX = math.log1p(RATE_MAX)
#: Bisection steps: 27.6 units of x halved 64 times is far below a float's resolution.
_BISECTIONS = 64
#: Grid used to find every sign change when flows change sign more than once. Spaced as
#: 0.01 * sinh(u): about 4e-5 apart in x near a rate of 0, wider towards the extremes.
_SCAN_POINTS = 4001
_SCAN_GRID = 0.01 * np.sinh(np.linspace(-math.asinh(_X_MAX / 0.01), math.asinh(_X_MAX / 0.01), _SCAN_POINTS))
DAYS_PER_YEAR = 365  # ACT/365F, as Excel's XIRR
MULTIPLE_POLICIES = ("n/a", "nearest_zero")
FLOWS_MAX = 100_000  # per investor; a statement has tens or hundreds


@dataclass(frozen=True, slots=True)
class XirrResult:
    """Either ``rate`` (a float annual rate, 0.1 = 10%) or ``reason`` why it is n/a."""

    rate: float | None
    reason: str | None = None
    roots: tuple[float, ...] = ()  # every root found (more than one when ambiguous)

    @property
    def is_na(self) -> bool:
        return self.rate is None

    def rate_decimal(self, places: int = 6) -> Decimal | None:
        """The rate as a Decimal quantised for display (``places`` decimals of the fraction)."""
        if self.rate is None:
            return None
        return Decimal(repr(self.rate)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _net_flows(flows: Sequence[tuple[date, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Validate, net same-day flows, drop zeros; returns (amounts, years from first date)."""
    by_day: dict[date, int] = {}
    for index, flow in enumerate(flows):
        if not isinstance(flow, tuple) or len(flow) != 2 or not isinstance(flow[0], date):
            raise ValidationError(f"flow {index} must be (date, pence), got {flow!r}", field="flows")
        day, amount = flow
        by_day[day] = by_day.get(day, 0) + check_pence(amount, f"flow {index} amount_pence")
    days = sorted(day for day, amount in by_day.items() if amount != 0)
    if not days:
        return np.zeros(0), np.zeros(0)
    amounts = np.array([float(by_day[day]) for day in days])  # the float boundary
    years = np.array([(day - days[0]).days / DAYS_PER_YEAR for day in days])
    return amounts, years


def _npv_sign_scaled(amounts: np.ndarray, years: np.ndarray, x: float) -> float:
    exponents = -x * years
    return float(np.dot(amounts, np.exp(exponents - exponents.max())))


def _bisect(amounts: np.ndarray, years: np.ndarray, x_low: float, x_high: float, f_low: float) -> float:
    for _ in range(_BISECTIONS):
        x_mid = 0.5 * (x_low + x_high)
        if x_mid in (x_low, x_high):
            break
        f_mid = _npv_sign_scaled(amounts, years, x_mid)
        if f_mid == 0.0:
            return x_mid
        if (f_mid > 0) == (f_low > 0):
            x_low, f_low = x_mid, f_mid
        else:
            x_high = x_mid
    return 0.5 * (x_low + x_high)


def _sign_changes(amounts: np.ndarray) -> int:
    signs = np.sign(amounts)
    return int(np.count_nonzero(signs[1:] != signs[:-1]))


def _percent(rate: float) -> str:
    return f"{rate * 100:.4f}%"


def xirr(flows: Sequence[tuple[date, int]], *, multiple: str = "n/a") -> XirrResult:
    """Annual IRR of dated flows in pence (negative = paid in by the investor), ACT/365F.

    n/a, with a reason, when there are fewer than 2 flows, all flows have one sign, no rate in
    ``[RATE_MIN, RATE_MAX]`` sets NPV to zero, or (with ``multiple="n/a"``) several do.
    """
    if multiple not in MULTIPLE_POLICIES:
        raise ValidationError(f"multiple must be one of {', '.join(MULTIPLE_POLICIES)}, got {multiple!r}")
    if len(flows) > FLOWS_MAX:
        raise ValidationError(f"{len(flows)} flows; at most {FLOWS_MAX} per XIRR", field="flows")
    if len(flows) < 2:
        return XirrResult(None, "fewer than 2 flows")
    amounts, years = _net_flows(flows)
    if not (amounts > 0).any() or not (amounts < 0).any():
        return XirrResult(None, "all flows have the same sign (netted by date)")
    if _sign_changes(amounts) == 1:
        f_low = _npv_sign_scaled(amounts, years, _X_MIN)
        f_high = _npv_sign_scaled(amounts, years, _X_MAX)
        if (f_low > 0) == (f_high > 0) and f_low != 0 and f_high != 0:
            return XirrResult(
                None, f"no IRR between {_percent(RATE_MIN)} and {_percent(RATE_MAX)} a year"
            )
        root = math.expm1(_bisect(amounts, years, _X_MIN, _X_MAX, f_low))
        return XirrResult(root, None, (root,))
    # Several sign changes: scan for every bracket, then bisect each.
    exponents = -np.outer(_SCAN_GRID, years)
    values = (np.exp(exponents - exponents.max(axis=1, keepdims=True)) * amounts).sum(axis=1)
    signs = np.sign(values)
    roots: list[float] = [math.expm1(float(x)) for x in _SCAN_GRID[signs == 0]]
    crossing = np.nonzero(signs[:-1] * signs[1:] < 0)[0]
    for index in crossing:
        x = _bisect(amounts, years, float(_SCAN_GRID[index]), float(_SCAN_GRID[index + 1]), float(values[index]))
        roots.append(math.expm1(x))
    roots.sort()
    if not roots:
        return XirrResult(
            None,
            f"no IRR: NPV never changes sign between {_percent(RATE_MIN)} and {_percent(RATE_MAX)} a year",
        )
    if len(roots) == 1:
        return XirrResult(roots[0], None, tuple(roots))
    if multiple == "nearest_zero":
        return XirrResult(min(roots, key=abs), None, tuple(roots))
    return XirrResult(None, "multiple IRRs: " + ", ".join(_percent(r) for r in roots), tuple(roots))


def xirr_many(frame: pd.DataFrame) -> pd.DataFrame:
    """XIRR for many investors at once (vectorised), e.g. every investor on a statement run.

    ``frame`` columns: ``investor``, ``day`` (date or datetime64), ``amount_pence`` (int).
    Returns a frame indexed by investor with ``rate`` (float, NaN when n/a) and ``reason``
    (None, or why n/a), agreeing with :func:`xirr` (default policy) for each investor.

    Investors whose netted flows change sign once (almost all) are bisected together as arrays;
    the rare ones with several sign changes go through :func:`xirr` one by one.
    """
    missing = {"investor", "day", "amount_pence"} - set(frame.columns)
    if missing:
        raise ValidationError(f"xirr_many frame lacks column(s) {', '.join(sorted(missing))}")
    if not pd.api.types.is_integer_dtype(frame["amount_pence"]):
        raise ValidationError(
            f"amount_pence must be integer pence, got dtype {frame['amount_pence'].dtype}", field="amount_pence"
        )
    flows = frame[["investor", "day", "amount_pence"]].copy()
    flows["day"] = pd.to_datetime(flows["day"])
    counts = flows.groupby("investor", sort=True).size()
    netted = flows.groupby(["investor", "day"], sort=True, as_index=False)["amount_pence"].sum()
    netted = netted[netted["amount_pence"] != 0]
    investors = counts.index
    # Results are gathered in arrays and put in a frame once: setting cells one by one is slow.
    rate_out = np.full(len(investors), np.nan)
    reason_out = np.full(len(investors), None, dtype=object)
    reason_out[(counts < 2).to_numpy()] = "fewer than 2 flows"

    sign = np.sign(netted["amount_pence"].to_numpy())
    netted = netted.assign(sign=sign)
    by_investor = netted.groupby("investor", sort=True)
    has_positive = (by_investor["sign"].max().reindex(investors, fill_value=0) > 0).to_numpy()
    has_negative = (by_investor["sign"].min().reindex(investors, fill_value=0) < 0).to_numpy()
    changes = (
        (netted["sign"].ne(by_investor["sign"].shift()) & by_investor.cumcount().gt(0))
        .groupby(netted["investor"]).sum().reindex(investors, fill_value=0).to_numpy()
    )
    enough = (counts >= 2).to_numpy()
    both_signs = has_positive & has_negative
    reason_out[enough & ~both_signs] = "all flows have the same sign (netted by date)"
    simple = enough & both_signs & (changes == 1)
    several = enough & both_signs & (changes > 1)

    if simple.any():
        row_of = investors[simple]
        rows = netted[netted["investor"].isin(row_of)]
        first_day = rows.groupby("investor", sort=True)["day"].transform("min")
        column = rows.groupby("investor", sort=True).cumcount().to_numpy()
        row = row_of.get_indexer(rows["investor"])
        width = int(column.max()) + 1
        amounts = np.zeros((len(row_of), width))  # the float boundary, as in xirr()
        years = np.zeros((len(row_of), width))
        amounts[row, column] = rows["amount_pence"].to_numpy(dtype=float)
        years[row, column] = (rows["day"] - first_day).dt.days.to_numpy() / DAYS_PER_YEAR

        def npv_scaled(x: np.ndarray) -> np.ndarray:
            # Padding has amount 0, so it adds nothing; its year 0 only raises the scale's max.
            exponents = -x[:, None] * years
            return (amounts * np.exp(exponents - exponents.max(axis=1, keepdims=True))).sum(axis=1)

        x_low = np.full(len(row_of), _X_MIN)
        x_high = np.full(len(row_of), _X_MAX)
        f_low = npv_scaled(x_low)
        f_high = npv_scaled(x_high)
        bracketed = (np.sign(f_low) != np.sign(f_high)) | (f_low == 0) | (f_high == 0)
        for _ in range(_BISECTIONS):
            x_mid = 0.5 * (x_low + x_high)
            f_mid = npv_scaled(x_mid)
            same = np.sign(f_mid) == np.sign(f_low)
            x_low = np.where(same, x_mid, x_low)
            f_low = np.where(same, f_mid, f_low)
            x_high = np.where(same, x_high, x_mid)
        positions = np.nonzero(simple)[0]
        rate_out[positions[bracketed]] = np.expm1(0.5 * (x_low + x_high))[bracketed]
        reason_out[positions[~bracketed]] = f"no IRR between {_percent(RATE_MIN)} and {_percent(RATE_MAX)} a year"

    if several.any():
        position_of = {investor: index for index, investor in enumerate(investors)}
        rare = flows[flows["investor"].isin(investors[several])]
        for investor, group in rare.groupby("investor", sort=True):
            one = xirr([(day.date(), int(amount)) for day, amount in zip(group["day"], group["amount_pence"])])
            index = position_of[investor]
            rate_out[index] = np.nan if one.rate is None else one.rate
            reason_out[index] = one.reason
    # dtype=object keeps None as None (pandas would otherwise infer a string column with NaN).
    return pd.DataFrame(
        {"rate": rate_out, "reason": pd.Series(reason_out, index=investors, dtype=object)}, index=investors
    )


# --------------------------------------------------------------------------------------------
# Multiples
# --------------------------------------------------------------------------------------------

MULTIPLE_PLACES = 4


def _round_half_up(value: Fraction, places: int) -> Decimal:
    """An exact ratio to a Decimal with ``places`` decimals, halves away from zero."""
    scaled = abs(value) * 10**places
    whole = math.floor(scaled + Fraction(1, 2))
    return (Decimal(whole if value >= 0 else -whole)).scaleb(-places)


@dataclass(frozen=True, slots=True)
class Multiples:
    """DPI, RVPI, TVPI: exact ratios (``*_exact``) and Decimals quantised for display.

    Display rule: DPI and TVPI are each rounded half-up to ``places``; RVPI is TVPI - DPI, so the
    statement's TVPI = DPI + RVPI holds exactly as printed (RVPI, the unrealised part, carries
    the at most one-unit rounding difference). The exact ratios satisfy it exactly as well.
    All are None, with ``reason``, when nothing has been paid in.
    """

    paid_in_pence: int
    distributed_pence: int
    nav_pence: int
    dpi: Decimal | None
    rvpi: Decimal | None
    tvpi: Decimal | None
    dpi_exact: Fraction | None
    rvpi_exact: Fraction | None
    tvpi_exact: Fraction | None
    reason: str | None = None

    @property
    def is_na(self) -> bool:
        return self.tvpi is None


def multiples(paid_in_pence: int, distributed_pence: int, nav_pence: int, *, places: int = MULTIPLE_PLACES) -> Multiples:
    """DPI = distributed / paid-in, RVPI = NAV / paid-in, TVPI = DPI + RVPI (ILPA definitions)."""
    check_pence(paid_in_pence, "paid_in_pence")
    check_pence(distributed_pence, "distributed_pence")
    check_pence(nav_pence, "nav_pence")
    if paid_in_pence < 0 or distributed_pence < 0:
        raise ValidationError(
            f"paid-in ({paid_in_pence}) and distributed ({distributed_pence}) must not be negative",
            field="paid_in_pence",
        )
    if paid_in_pence == 0:
        return Multiples(paid_in_pence, distributed_pence, nav_pence, None, None, None, None, None, None,
                         "n/a: nothing paid in")
    dpi_exact = Fraction(distributed_pence, paid_in_pence)
    rvpi_exact = Fraction(nav_pence, paid_in_pence)
    tvpi_exact = dpi_exact + rvpi_exact
    dpi = _round_half_up(dpi_exact, places)
    tvpi = _round_half_up(tvpi_exact, places)
    return Multiples(paid_in_pence, distributed_pence, nav_pence, dpi, tvpi - dpi, tvpi,
                     dpi_exact, rvpi_exact, tvpi_exact)
