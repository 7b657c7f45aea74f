"""Forecasts of outcome payments to the end of a contract: low, central and high (docs/value.md).

Method (cohort, beta-binomial), for each outcome of a contract:

* a **cohort** is the participants who started in one quarter; a participant's **age** in a
  quarter is the number of quarters since its start quarter (0 = the start quarter);
* the **observed rate** at age ``k`` is ``x_k / m_k``: outcomes achieved at age ``k`` by every
  cohort observed at that age, over the participants of those cohorts. Past the oldest age any
  cohort has reached, each simulated future keeps a share ``u ~ U(0, 1)`` of the oldest age's rate
  per further quarter (``u = 0``: outcomes stop there; ``u = 1``: they go on at that rate);
* future participants: each quarter still open for referrals enrols the mean number of starts
  of the observed quarters (whole participants, rounded down);
* **low / central / high** = the 5th, 50th and 95th percentiles of ``DRAWS`` simulated futures
  of the cumulative payments (seeded numpy; each percentile is one simulated sum, whole pence):
  each draw takes each age's rate from its Jeffreys posterior ``Beta(x/phi + 1/2, (m - x)/phi + 1/2)``
  (an age at which no outcome has been seen stays at 0: often it cannot happen then)
  and the counts from ``Binomial(participants, rate)``, spread by ``sqrt(phi)``: ``phi`` >= 1 is the
  quasi-binomial dispersion (:func:`dispersion`) of how much cohorts differ at the same age. Same
  inputs and seed, same figures. Each future quarter also draws one lognormal factor (mean 1,
  spread :func:`period_spread`) on every rate: quarters observed to differ as a whole widen the fan;
* the contract cap limits the cumulative payments of every scenario; each payer's part is its
  share of the payments so far (``ledger.money.allocate``, pence conserved), and the quarter its
  cap is reached is reported (what a payer's cap would push to the others is not re-assigned).

Pure: no database, no clock. Money is int pence; rates are floats
(a rate is not money; every amount drawn is an int count times an int price).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Mapping, Sequence

import numpy as np

from ledger.errors import ValidationError
from ledger.money import allocate
from ledger.returns import multiples, xirr

DRAWS = 2000
SEED = 20
LOW_QUANTILE, HIGH_QUANTILE = 0.05, 0.95
SCENARIOS = ("low", "central", "high")
#: Quarters of claims a forecast needs: one quarter shows only what happens in a start quarter,
#: nothing of how outcomes follow it (a back-test of the demo from one quarter misses by far).
MIN_OBSERVED = 2


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
        if self.observed < MIN_OBSERVED:
            raise ValidationError(f"a forecast needs {MIN_OBSERVED} quarters of approved claims of the contract",
                                  field="as_of")
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


def dispersion(inp: ForecastInput, outcome: str, pairs: Sequence[tuple[int, int]]) -> float:
    """Quasi-binomial dispersion ``phi`` (>= 1) of one outcome: Pearson's chi-square of each
    cohort's count at each age against the pooled rate of that age, over its degrees of freedom.
    Counts that vary more between cohorts than a binomial would widen the scenarios by it."""
    chi2, cells, ages = 0.0, 0, 0
    for k, (x, m) in enumerate(pairs):
        p = x / m if m else 0.0
        if not 0 < p < 1:
            continue
        ages += 1
        for start, n in inp.starts.items():
            if n and start + k <= inp.observed - 1:
                count = inp.achieved.get((outcome, start, start + k), 0)
                chi2 += (count - n * p) ** 2 / (n * p * (1 - p))
                cells += 1
    return max(1.0, chi2 / (cells - ages)) if cells > ages else 1.0


def period_spread(inp: ForecastInput, rates: Mapping[str, Sequence[tuple[int, int]]]) -> float:
    """How much whole quarters differ from what the age rates expect: the standard deviation of
    ``log(paid / expected)`` over the observed quarters after the first (0 with fewer than 3).
    A good or bad quarter for every cohort at once (a new caseworker, a slow claim) is not in the
    binomial spread; the simulation draws one such factor per future quarter."""
    logs = []
    for quarter in range(1, inp.observed):
        expected = paid = 0.0
        for outcome, pairs in rates.items():
            price = inp.prices_pence[outcome]
            for start, n in inp.starts.items():
                age = quarter - start
                if n and 0 <= age < len(pairs) and pairs[age][1]:
                    expected += n * pairs[age][0] / pairs[age][1] * price
                    paid += inp.achieved.get((outcome, start, quarter), 0) * price
        if expected > 0 and paid > 0:
            logs.append(float(np.log(paid / expected)))
    return float(np.std(logs, ddof=1)) if len(logs) >= 2 else 0.0


def _oldest(pairs: Sequence[tuple[int, int]]) -> int:
    """The oldest age at which some participant has been observed."""
    return max((k for k, (_, m) in enumerate(pairs) if m > 0), default=0)


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
    rng = np.random.default_rng(seed)
    simulated = np.zeros((draws, h + 1), dtype=np.int64)
    table = []
    tau = period_spread(inp, rates)
    # one factor per draw and future quarter, mean 1 (lognormal), shared by every outcome and age
    factors = np.exp(tau * rng.standard_normal((draws, h + 1)) - tau * tau / 2) if tau else np.ones((draws, h + 1))
    for outcome, pairs in rates.items():
        price = inp.prices_pence[outcome]
        ages = sorted({age for _, age in exposure})
        table += [(outcome, k, x, m) for k, (x, m) in enumerate(pairs)]
        if not ages:
            continue
        phi = dispersion(inp, outcome, pairs)
        oldest = _oldest(pairs)
        by_age = {}
        for k in range(oldest + 1):
            x, m = pairs[k]
            # no outcome seen at an age: the rate stays 0 (often impossible then: a 12-month outcome at age 0)
            by_age[k] = rng.beta(x / phi + 0.5, (m - x) / phi + 0.5, size=draws) if m and x else np.zeros(draws)
        # Past the oldest observed age nothing is known: each draw keeps a share u ~ U(0, 1) of the
        # oldest age's rate per quarter further on (u = 0: outcomes stop; u = 1: they go on).
        retention = rng.random(draws)
        drawn = {age: by_age[age] if age <= oldest else by_age[oldest] * retention ** (age - oldest) for age in ages}
        for (j, age), n in sorted(exposure.items()):
            rate = np.minimum(drawn[age] * factors[:, j], 1.0)
            counts = rng.binomial(n, rate)
            if phi > 1:  # widen the binomial spread by sqrt(phi) around its mean, whole counts in 0..n
                mean = n * rate
                counts = np.clip(np.rint(mean + np.sqrt(phi) * (counts - mean)), 0, n).astype(np.int64)
            simulated[:, j] += counts * price
    sims = np.cumsum(simulated[:, 1:], axis=1)

    def quantile(q: float) -> np.ndarray:
        # "inverted_cdf" returns one of the simulated sums itself: whole pence, no interpolation
        return np.quantile(sims, q, axis=0, method="inverted_cdf").astype(np.int64) if h else np.array([], dtype=np.int64)

    paths = {"low": _capped(quantile(LOW_QUANTILE), inp), "central": _capped(quantile(0.5), inp),
             "high": _capped(quantile(HIGH_QUANTILE), inp)}
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


@dataclass(frozen=True, slots=True)
class FundForecast:
    """What an investor statement summarises: the fund's projected outcome payments still to come
    (all its contracts, per scenario), the day they are assumed realised, each investor's range."""

    horizon_day: date
    remaining_pence: Mapping[str, int]
    investors: Mapping[str, InvestorProjection]
