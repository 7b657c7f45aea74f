"""Forecasts of outcome payments to the end of a contract: low, central and high (docs/value.md).

Method (cohort, beta-binomial), for each outcome of a contract:

* a **cohort** is the participants who started in one quarter; a participant's **age** in a
  quarter is the number of quarters since its start quarter (0 = the start quarter);
* the **observed rate** at age ``k`` is ``x_k / m_k``: outcomes achieved at age ``k`` by every
  cohort observed at that age, over the participants of those cohorts. Ages older than any cohort
  has reached take the pooled rate of the oldest half of the observed ages;
* future participants: each quarter still open for referrals enrols the mean number of starts
  of the observed quarters (whole participants, rounded down);
* **central** = the expected count ``participants x rate`` per (cohort, quarter), times the
  outcome's price; the cumulative figure is rounded half-up to the penny once per quarter, so
  the quarters add up to the cumulative exactly;
* **low / high** = the 5th and 95th percentiles of ``DRAWS`` simulated futures (seeded numpy):
  each draw takes each age's rate from its Jeffreys posterior ``Beta(x + 1/2, m - x + 1/2)`` and
  the counts from ``Binomial(participants, rate)``. Same inputs and seed, same figures;
* the contract cap limits the cumulative payments of every scenario; each payer's part is its
  share of the payments so far (``ledger.money.allocate``, pence conserved), and the quarter its
  cap is reached is reported (what a payer's cap would push to the others is not re-assigned).

Pure: no database, no clock. Money is int pence; rates are Fractions and, in the simulation, floats
(a rate is not money; every amount drawn is an int count times an int price).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Mapping, Sequence

import numpy as np

from ledger.errors import ValidationError
from ledger.money import allocate
from ledger.returns import multiples, xirr

DRAWS = 2000
SEED = 20
LOW_QUANTILE, HIGH_QUANTILE = 0.05, 0.95
SCENARIOS = ("low", "central", "high")


@dataclass(frozen=True, slots=True)
class ForecastInput:
    """What a contract's forecast is made from. Quarter indices count from the contract's first
    quarter (0); ``observed`` quarters are 0 .. observed - 1, ``horizon`` the quarters to its end."""

    observed: int
    horizon: int
    starts: Mapping[int, int]                          # start quarter -> participants
    achieved: Mapping[tuple[str, int, int], int]       # (outcome, start quarter, achieved quarter) -> count
    prices_pence: Mapping[str, int]                    # outcome -> price per outcome
    referral_quarters: int = 0                         # future quarters still open for new starts
    paid_to_date_pence: int = 0
    contract_cap_pence: int | None = None
    payers: tuple[tuple[str, int, int | None], ...] = ()  # (payer, paid to date, cap)

    def __post_init__(self) -> None:
        if self.observed < 1:
            raise ValidationError("a forecast needs at least one ended quarter of the contract", field="as_of")
        if self.horizon < 0 or self.referral_quarters < 0:
            raise ValidationError("horizon and referral quarters cannot be negative", field="horizon")


@dataclass(frozen=True, slots=True)
class Forecast:
    """Cumulative projected payments after each future quarter (``1 .. horizon``), per scenario,
    on top of ``paid_to_date_pence``; and the future quarter (1-based) each cap is reached."""

    cumulative_pence: Mapping[str, tuple[int, ...]]
    rates: tuple[tuple[str, int, int, int], ...]        # (outcome, age, achieved x, exposed m)
    contract_cap_quarter: Mapping[str, int | None]
    payer_cumulative_pence: Mapping[str, tuple[int, ...]]  # central, per payer
    payer_cap_quarter: Mapping[str, Mapping[str, int | None]]  # payer -> scenario -> quarter

    def total_pence(self, scenario: str) -> int:
        values = self.cumulative_pence[scenario]
        return values[-1] if values else 0


def _exposure(inp: ForecastInput) -> dict[tuple[int, int], int]:
    """(future quarter j >= 1, age) -> participants of that age in quarter observed - 1 + j."""
    starts = dict(inp.starts)
    if inp.referral_quarters:
        new = sum(starts.get(q, 0) for q in range(inp.observed)) // inp.observed
        for j in range(1, min(inp.referral_quarters, inp.horizon) + 1):
            starts[inp.observed - 1 + j] = starts.get(inp.observed - 1 + j, 0) + new
    out: dict[tuple[int, int], int] = {}
    for j in range(1, inp.horizon + 1):
        quarter = inp.observed - 1 + j
        for start, n in starts.items():
            if start <= quarter and n:
                out[(j, quarter - start)] = out.get((j, quarter - start), 0) + n
    return out


def age_rates(inp: ForecastInput) -> dict[str, list[tuple[int, int]]]:
    """Per outcome, ``(x_k, m_k)`` for ages ``0 .. observed - 1``."""
    exposed = [sum(n for s, n in inp.starts.items() if s + k <= inp.observed - 1) for k in range(inp.observed)]
    out: dict[str, list[tuple[int, int]]] = {}
    for outcome in sorted(inp.prices_pence):
        x = [0] * inp.observed
        for (o, start, quarter), count in inp.achieved.items():
            if o == outcome and 0 <= quarter - start < inp.observed and quarter < inp.observed:
                x[quarter - start] += count
        out[outcome] = [(min(x[k], exposed[k]), exposed[k]) for k in range(inp.observed)]
    return out


def _rate_at(pairs: Sequence[tuple[int, int]], age: int) -> tuple[int, int]:
    if age < len(pairs) and pairs[age][1] > 0:
        return pairs[age]
    tail = [p for p in pairs[len(pairs) // 2:] if p[1] > 0] or [p for p in pairs if p[1] > 0]
    return (sum(p[0] for p in tail), sum(p[1] for p in tail))


def _capped(cumulative: np.ndarray, inp: ForecastInput) -> np.ndarray:
    if inp.contract_cap_pence is None:
        return cumulative
    return np.minimum(cumulative, max(0, inp.contract_cap_pence - inp.paid_to_date_pence))


def _first_reached(cumulative: Sequence[int], already_pence: int, cap_pence: int | None) -> int | None:
    if cap_pence is None:
        return None
    if already_pence >= cap_pence:
        return 0
    return next((j + 1 for j, c in enumerate(cumulative) if already_pence + c >= cap_pence), None)


def forecast(inp: ForecastInput, *, seed: int = SEED, draws: int = DRAWS) -> Forecast:
    rates = age_rates(inp)
    exposure = _exposure(inp)
    h = inp.horizon
    central = [Fraction(0)] * (h + 1)
    rng = np.random.default_rng(seed)
    simulated = np.zeros((draws, h + 1), dtype=np.int64)
    table = []
    for outcome, pairs in rates.items():
        price = inp.prices_pence[outcome]
        ages = sorted({age for _, age in exposure})
        table += [(outcome, k, x, m) for k, (x, m) in enumerate(pairs)]
        if not ages:
            continue
        xm = {age: _rate_at(pairs, age) for age in ages}
        # One draw per estimated rate: the ages older than any observed share the tail's rate.
        keys = {age: age if age < len(pairs) and pairs[age][1] > 0 else "tail" for age in ages}
        by_key = {}
        for age, key in keys.items():
            if key not in by_key:
                x, m = xm[age]
                by_key[key] = rng.beta(x + 0.5, m - x + 0.5, size=draws) if m else np.zeros(draws)
        drawn = {age: by_key[keys[age]] for age in ages}
        for (j, age), n in sorted(exposure.items()):
            x, m = xm[age]
            if m:
                central[j] += Fraction(n * x * price, m)
            simulated[:, j] += rng.binomial(n, drawn[age]) * price
    running, rounded = Fraction(0), []
    for j in range(1, h + 1):
        running += central[j]
        rounded.append(_half_up(running))
    cumulative_central = np.array(rounded, dtype=np.int64)
    sims = np.cumsum(simulated[:, 1:], axis=1)
    low = np.quantile(sims, LOW_QUANTILE, axis=0, method="inverted_cdf") if h else np.array([], dtype=np.int64)
    high = np.quantile(sims, HIGH_QUANTILE, axis=0, method="inverted_cdf") if h else np.array([], dtype=np.int64)
    paths = {"low": _capped(low.astype(np.int64), inp), "central": _capped(cumulative_central, inp),
             "high": _capped(high.astype(np.int64), inp)}
    cumulative = {k: tuple(int(v) for v in paths[k]) for k in SCENARIOS}
    cap_q = {k: _first_reached(cumulative[k], inp.paid_to_date_pence, inp.contract_cap_pence) for k in SCENARIOS}
    payer_cum: dict[str, tuple[int, ...]] = {}
    payer_cap: dict[str, dict[str, int | None]] = {}
    if inp.payers:
        weights = [paid for _, paid, _ in inp.payers]
        if not any(weights):
            weights = [1] * len(inp.payers)
        split = {k: [allocate(c, weights) for c in cumulative[k]] for k in SCENARIOS}
        for i, (payer, paid, cap) in enumerate(inp.payers):
            payer_cum[payer] = tuple(parts[i] for parts in split["central"])
            payer_cap[payer] = {k: _first_reached([parts[i] for parts in split[k]], paid, cap) for k in SCENARIOS}
    return Forecast(cumulative, tuple(table), cap_q, payer_cum, payer_cap)


def _half_up(value: Fraction) -> int:
    value = Fraction(value)
    return int((value * 2 + 1) // 2) if value >= 0 else -int((-value * 2 + 1) // 2)


def per_quarter(cumulative: Sequence[int]) -> list[int]:
    """Quarterly amounts from cumulative ones (they add up to the last cumulative exactly)."""
    return [c - (cumulative[i - 1] if i else 0) for i, c in enumerate(cumulative)]


# ---------------------------------------------------------------------------- investors


@dataclass(frozen=True, slots=True)
class InvestorProjection:
    investor: str
    paid_in_pence: int
    distributed_pence: int
    value_pence: Mapping[str, int]          # scenario -> terminal value at the horizon day
    tvpi: Mapping[str, object]              # scenario -> Decimal | None
    irr: Mapping[str, object]               # scenario -> Decimal | None


def project_investors(terms, state, nav_pence: int, horizon_day: date,
                      extra_pence: Mapping[str, int]) -> list[InvestorProjection]:
    """Each investor's projected TVPI and IRR if the fund held its net assets ``nav_pence`` plus
    a scenario's projected outcome payments ``extra_pence[scenario]`` and liquidated them through
    its waterfall on ``horizon_day``: no further drawdowns, fees or costs, nothing else earned."""
    from ledger.liquidation import liquidate

    by_scenario = {k: liquidate(terms, nav_pence + extra_pence[k], horizon_day, state).values for k in SCENARIOS}
    out = []
    for investor in sorted({p.investor for p in state.positions}):
        positions = [p for p in state.positions if p.investor == investor]
        contributions = [(c.day, -c.amount_pence) for p in positions for c in p.contributions]
        distributions = [(d.day, d.amount_pence) for p in positions for d in p.distributions]
        paid_in = -sum(a for _, a in contributions)
        distributed = sum(a for _, a in distributions)
        values, tvpis, irrs = {}, {}, {}
        for k in SCENARIOS:
            value = sum(v for (holder, _), v in by_scenario[k].items() if holder == investor)
            values[k] = value
            tvpis[k] = multiples(paid_in, distributed, value).tvpi if paid_in else None
            flows = contributions + distributions + ([(horizon_day, value)] if value else [])
            irrs[k] = xirr(flows).rate_decimal(4) if contributions else None
        out.append(InvestorProjection(investor, paid_in, distributed, values, tvpis, irrs))
    return out
