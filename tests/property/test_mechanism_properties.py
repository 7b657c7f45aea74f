"""Invariants of the PbR mechanisms, sampling and clawback."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.pbr.mechanisms import Band, PerDay, SavingsShare, TieredBands
from ledger.pbr.sampling import assess_sample, schedule_clawback, select_sample
from ledger.periods import Period

shares = st.integers(min_value=1, max_value=10_000).map(lambda n: Decimal(n) / 10_000)  # (0, 1]
shares_after = st.integers(min_value=0, max_value=10_000).map(lambda n: Decimal(n) / 10_000)
modes = st.sampled_from(["half_up", "half_even", "down"])


@settings(max_examples=300)
@given(
    before=shares,
    after=shares_after,
    mode=modes,
    target=st.integers(min_value=0, max_value=10**10),
    savings=st.lists(st.integers(min_value=0, max_value=10**9), max_size=12),
)
def test_savings_share_splits_every_period_exactly(before, after, mode, target, savings):
    result = SavingsShare(before, after, rounding=mode).compute(savings, repay_target_pence=target)
    for period, saved in zip(result.periods, savings):
        # Payer's payment + what it retains = the savings, to the penny.
        assert period.payment_pence + period.retained_pence == saved
        assert 0 <= period.payment_pence <= saved
        assert period.savings_before_switch + period.savings_after_switch == saved
    assert result.payment_pence + result.retained_pence == sum(savings)
    # Before the switch, payments never overshoot the target by more than rounding allows.
    if result.switch_period is not None:
        assert result.periods[result.switch_period].paid_to_date_pence >= target
        earlier = result.periods[result.switch_period - 1].paid_to_date_pence if result.switch_period else 0
        assert earlier < target or target == 0


edges = st.lists(st.integers(min_value=-1_000, max_value=1_000), min_size=1, max_size=6, unique=True).map(sorted)


@given(
    data=st.data(),
    edge_values=edges,
)
def test_tiered_bands_are_monotonic(data, edge_values):
    steps = data.draw(st.lists(st.integers(min_value=0, max_value=10**7), min_size=len(edge_values),
                               max_size=len(edge_values)))
    payments, running = [], 0
    for step in steps:
        running += step
        payments.append(running)
    bands = TieredBands(tuple(Band(Decimal(e) / 1000, p) for e, p in zip(edge_values, payments)))
    x, y = sorted(data.draw(st.lists(st.integers(min_value=-2_000, max_value=2_000), min_size=2, max_size=2)))
    assert bands.compute(Decimal(x) / 1000).payment_pence <= bands.compute(Decimal(y) / 1000).payment_pence


@given(
    paid=st.lists(st.integers(min_value=0, max_value=10**8), min_size=1, max_size=60),
    sample_size=st.integers(min_value=0, max_value=60),
    seed=st.integers(),
    invalid_mask=st.lists(st.booleans(), min_size=60, max_size=60),
    method=st.sampled_from(["extrapolate", "line"]),
    mode=modes,
)
def test_sampling_recovery_never_exceeds_the_paid_total(paid, sample_size, seed, invalid_mask, method, mode):
    claim = {f"L{i}": amount for i, amount in enumerate(paid)}
    sample = select_sample(claim, sample_size, seed)
    invalid = [line for line, bad in zip(sample, invalid_mask) if bad]
    result = assess_sample(claim, sample, invalid, method=method, rounding=mode)
    assert 0 <= result.recovery_pence <= sum(paid)
    assert result.recovery_pence >= result.invalid_value_pence  # extrapolating never recovers less
    schedule = schedule_clawback(result.recovery_pence, [max(p, 0) for p in paid])
    assert schedule.recovered_pence + schedule.outstanding_pence == result.recovery_pence
    assert all(step.net_after_pence >= min(step.net_before_pence, 0) for step in schedule.steps)


QUARTER = Period.quarter(2024, 1)

spell = st.tuples(
    st.sampled_from(["p1", "p2", "p3", "p4"]),
    st.integers(min_value=-40, max_value=120),
    st.integers(min_value=0, max_value=120),
)


@given(
    spells=st.lists(spell, min_size=1, max_size=25),
    price=st.integers(min_value=0, max_value=10_000),
    cap=st.integers(min_value=0, max_value=500_000),
    paid=st.dictionaries(st.sampled_from(["p1", "p2", "p3", "p4"]), st.integers(min_value=0, max_value=600_000)),
)
def test_per_day_cap_holds(spells, price, cap, paid):
    base = date(2024, 1, 1)
    frame = pd.DataFrame(
        [(pid, base + timedelta(days=start), base + timedelta(days=start + length)) for pid, start, length in spells],
        columns=["participant_id", "start", "end"],
    )
    result = PerDay(price, participant_cap_pence=cap).compute(frame, QUARTER, paid_to_date_pence=paid)
    for row in result.by_participant.itertuples():
        assert 0 <= row.days <= 91  # never more days than the quarter has, overlaps or not
        assert row.gross_pence == row.days * price
        assert row.payment_pence <= row.gross_pence
        assert row.paid_to_date_pence + row.payment_pence <= max(cap, row.paid_to_date_pence)
        assert row.payment_pence >= 0
    assert result.payment_pence + result.cap_reduction_pence == result.gross_pence
