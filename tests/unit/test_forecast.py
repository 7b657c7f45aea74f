"""Forecasts (ledger/forecast.py): reproducible, pence-exact, caps respected, and on a synthetic
contract whose true outcome rate is known the central projection's error shrinks with data."""

from __future__ import annotations

import numpy as np

from ledger.forecast import ForecastInput, forecast, per_quarter

PRICE = 50_000  # 500.00 per outcome
TERM = 16       # quarters


SUPPORT = 4     # quarters of support: a participant can achieve the outcome at ages 0-3


def synthetic(observed: int, true_rate: float, seed: int, cohort: int = 60) -> tuple[ForecastInput, int]:
    """A contract enrolling ``cohort`` people every quarter of its term; each person achieves the
    outcome in each of its first ``SUPPORT`` quarters with probability ``true_rate``. Returns the
    input and the true expected payments of the quarters after ``observed``."""
    rng = np.random.default_rng(seed)
    starts = {q: cohort for q in range(observed)}
    achieved = {}
    for s in range(observed):
        for q in range(s, min(observed, s + SUPPORT)):
            achieved[("job", s, q)] = int(rng.binomial(cohort, true_rate))
    future_person_quarters = sum(cohort * min(q + 1, SUPPORT) for q in range(observed, TERM))
    inp = ForecastInput(observed=observed, horizon=TERM - observed, starts=starts, achieved=achieved,
                        prices_pence={"job": PRICE}, referral_quarters=TERM - observed)
    return inp, round(future_person_quarters * true_rate * PRICE)


def test_central_error_shrinks_as_quarters_accumulate():
    """Mean absolute error of the projected rest of the term, as a share of the true expected
    payments over the whole term, over 25 synthetic histories. Until the outcome's window (4
    quarters) has been seen, how the rate goes on past it is unknown (docs/value.md), so the
    error falls fastest once it has."""
    whole_term = sum(60 * min(q + 1, SUPPORT) for q in range(TERM)) * 0.05 * PRICE
    errors = {}
    for observed in (2, 6, 10):
        absolute = []
        for seed in range(25):
            inp, truth = synthetic(observed, 0.05, seed)
            absolute.append(abs(forecast(inp, draws=200).total_pence("central") - truth))
        errors[observed] = sum(absolute) / len(absolute) / whole_term
    assert errors[2] > errors[6] > errors[10]
    assert errors[10] < 0.05


def test_same_inputs_same_figures_and_scenarios_ordered():
    inp, truth = synthetic(4, 0.08, 7)
    first, again = forecast(inp), forecast(inp)
    assert first == again
    for j in range(inp.horizon):
        assert first.cumulative_pence["low"][j] <= first.cumulative_pence["central"][j] <= first.cumulative_pence["high"][j]
    assert first.cumulative_pence["low"][-1] < truth < first.cumulative_pence["high"][-1]
    assert forecast(inp, seed=8) != first  # the seed matters, and is stated


def test_every_amount_is_pence_and_quarters_add_up():
    inp, _ = synthetic(3, 0.033, 1)
    result = forecast(inp)
    for scenario, cumulative in result.cumulative_pence.items():
        assert all(isinstance(v, int) for v in cumulative)
        assert sum(per_quarter(cumulative)) == cumulative[-1]


def test_caps_stop_the_projection_and_name_the_quarter():
    inp, _ = synthetic(4, 0.08, 3)
    uncapped = forecast(inp)
    cap = 4_000_000 + uncapped.cumulative_pence["central"][2] + 1
    payers = (("council", 3_000_000, 10_000_000), ("nhs", 1_000_000, None))
    capped = forecast(ForecastInput(**{**{f: getattr(inp, f) for f in inp.__dataclass_fields__},
                                        "contract_cap_pence": cap, "payers": payers,
                                        "paid_to_date_pence": 4_000_000}))
    assert max(capped.cumulative_pence["high"]) <= cap - 4_000_000
    assert capped.contract_cap_quarter["central"] == 4  # the quarter after the third, which stops 1p short
    assert capped.contract_cap_quarter["high"] <= capped.contract_cap_quarter["central"]
    central = capped.cumulative_pence["central"]
    council, nhs = capped.payer_cumulative_pence["council"], capped.payer_cumulative_pence["nhs"]
    assert all(c + n == t for c, n, t in zip(council, nhs, central))  # pence conserved between payers
    assert council[0] * 1 >= nhs[0] * 3 - 3  # split 3:1 as paid so far
    reached = capped.payer_cap_quarter["council"]["central"]
    assert reached is None or 3_000_000 + council[reached - 1] >= 10_000_000
    assert capped.payer_cap_quarter["nhs"]["central"] is None
