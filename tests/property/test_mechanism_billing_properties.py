"""Mechanism billing invariants (issue 17): cohort payments over any sequence of periods never
pay more than the larger of the cohorts' own tests and the final overall test, and pay exactly
the overall result when it is the larger (nothing twice); the contract cap and payer caps hold
across rate-card and mechanism lines together; payer shares always add up to each line."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.pbr.claims import mechanism_mask, run_claim, share_column
from ledger.pbr.mechanism_inputs import compute_mechanism
from ledger.pbr.mechanisms import CohortComparison, CohortObservation
from ledger.periods import Period
from tests.property.test_pbr_properties import START, claim_inputs

PARAMS = {"price_per_event_pence": 1_000, "cohort_threshold": "0.10", "overall_threshold": "0.075"}
QUARTERS = [Period.parse(q) for q in ("2026Q1", "2026Q2", "2026Q3", "2026Q4", "2027Q1")]


@st.composite
def cohort_histories(draw):
    """Cohorts (figures) and how they are tested: groups of early cohorts, then a final period
    that may add cohorts never tested alone."""
    n = draw(st.integers(1, 5))
    cohorts = []
    for i in range(n):
        size = draw(st.integers(1, 400))
        comparison_size = draw(st.integers(1, 400))
        cohorts.append({"name": f"c{i}", "intervention_size": size, "intervention_events": draw(st.integers(0, size)),
                        "comparison_size": comparison_size,
                        "comparison_events": draw(st.integers(1, comparison_size))})
    early = draw(st.integers(0, n))
    groups, left = [], cohorts[:early]
    while left:
        k = draw(st.integers(1, len(left)))
        groups.append(left[:k])
        left = left[k:]
    return cohorts, groups[:4]


@settings(max_examples=150, deadline=None)
@given(cohort_histories())
def test_cohort_payments_never_exceed_the_final_test_and_never_pay_twice(history):
    cohorts, groups = history
    earlier: list[dict] = []
    total = 0
    for quarter, group in zip(QUARTERS, groups):
        payment, result = compute_mechanism("cohort_comparison", PARAMS, {"cohorts": group}, quarter, earlier)
        assert result["final"] is False and result["overall_payment_pence"] is None  # no overall test early
        total += payment
        earlier.append(result)
    payment, result = compute_mechanism("cohort_comparison", PARAMS, {"cohorts": cohorts, "final": True},
                                        QUARTERS[len(groups)], earlier)
    total += payment
    one_shot = CohortComparison(1_000).compute([CohortObservation(**c) for c in cohorts])
    own_tests = one_shot.cohort_payment_pence
    # every cohort's own test pays the same whenever it is taken; the final test tops up to the overall
    assert total == max(own_tests, one_shot.overall_payment_pence)
    assert total <= max(own_tests, one_shot.overall_payment_pence)
    if one_shot.overall_payment_pence >= own_tests:
        assert total == one_shot.overall_payment_pence
    assert sum(p for _, p in result["parts"]) == payment


@st.composite
def claims_with_mechanisms(draw):
    contract, frame, prior = draw(claim_inputs())
    n = draw(st.integers(1, 6))
    payments = draw(st.lists(st.integers(0, 60_000), min_size=n, max_size=n))
    days = draw(st.lists(st.integers(0, 399), min_size=n, max_size=n))
    parts = pd.DataFrame({
        "row_number": np.arange(1_000, 1_000 + n),
        "outcome_id": [f"mechanism:{i % 2}:baseline_reduction" for i in range(n)],
        "achieved_on": pd.to_datetime([START + timedelta(days=d) for d in days]),
        "evidence_ref": [f"part {i}" for i in range(n)],
        "payment_pence": np.array(payments, dtype=np.int64),
    })  # fmt: skip
    return contract, frame, prior, parts


@settings(max_examples=150, deadline=None)
@given(claims_with_mechanisms())
def test_contract_and_payer_caps_hold_across_rate_card_and_mechanism_lines(inputs):
    contract, frame, prior, parts = inputs
    lines = run_claim(frame, contract, prior, parts)
    assert len(lines) == len(frame) + len(parts)
    net = lines["net_pence"]
    assert (net >= 0).all() and (net <= lines["gross_pence"]).all()
    mechanism = mechanism_mask(lines)
    assert int(lines.loc[mechanism, "gross_pence"].sum()) == int(parts["payment_pence"].sum())
    if contract.contract_cap_pence is not None:  # one headroom, whatever priced the line
        assert net.sum() <= max(contract.contract_cap_pence - prior.contract_pence, 0)
    for payer in contract.payers:
        if payer.cap_pence is not None:
            paid = lines[share_column(payer.payer_id)].sum()
            assert paid <= max(payer.cap_pence - prior.by_payer.get(payer.payer_id, 0), 0)
    # the participant and per-outcome caps are the rate card's: they never cut a mechanism line
    for column in ("reduction_participant_cap_pence", "reduction_outcome_count_cap_pence",
                   "reduction_outcome_value_cap_pence"):
        assert (lines.loc[mechanism, column] == 0).all()
    assert (lines.loc[mechanism, "participant_paid_cum_pence"] == 0).all()


@settings(max_examples=150, deadline=None)
@given(claims_with_mechanisms())
def test_payer_shares_always_sum_to_the_line(inputs):
    contract, frame, prior, parts = inputs
    lines = run_claim(frame, contract, prior, parts)
    shares = sum(lines[share_column(p.payer_id)] for p in contract.payers)
    assert (shares == lines["net_pence"]).all()
