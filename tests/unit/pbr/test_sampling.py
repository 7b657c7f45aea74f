"""Validation sampling and clawback: determinism, extrapolation figures, carrying forward."""

from __future__ import annotations

from fractions import Fraction

import pytest

from ledger.errors import ValidationError
from ledger.pbr.sampling import assess_sample, schedule_clawback, select_sample

LINE_IDS = [f"L{i:03d}" for i in range(20)]


def test_sample_is_deterministic_and_ignores_input_order():
    sample = select_sample(LINE_IDS, 5, seed=42)
    assert len(sample) == 5 and len(set(sample)) == 5
    assert select_sample(list(reversed(LINE_IDS)), 5, seed=42) == sample
    assert select_sample(LINE_IDS, 5, seed=42) == sample
    # Pinned: ranks are SHA-256 of "42:<line id>"; a change here changes past samples.
    assert sample == ("L000", "L009", "L008", "L016", "L002")


def test_sample_depends_on_the_seed_and_grows_stably():
    assert select_sample(LINE_IDS, 5, seed=42) != select_sample(LINE_IDS, 5, seed=43)
    # A larger sample under the same seed contains the smaller one (ranks do not move).
    assert select_sample(LINE_IDS, 8, seed=42)[:5] == select_sample(LINE_IDS, 5, seed=42)
    # Adding lines never reshuffles the existing lines' relative order.
    more = select_sample([*LINE_IDS, "L900", "L901"], 22, seed=42)
    assert [i for i in more if i in LINE_IDS] == list(select_sample(LINE_IDS, 20, seed=42))


def test_sample_larger_than_the_claim_takes_every_line():
    assert sorted(select_sample(LINE_IDS, 50, seed="2026Q1")) == LINE_IDS
    assert select_sample(LINE_IDS, 0, seed=1) == ()


def test_sample_refuses_duplicates_and_bad_sizes():
    with pytest.raises(ValidationError, match="duplicate line ids: L001"):
        select_sample(["L001", "L002", "L001"], 1, seed=1)
    with pytest.raises(ValidationError):
        select_sample(LINE_IDS, -1, seed=1)


# A claim of 200 lines at GBP 1,250 each: total paid 25,000,000 pence.
CLAIM = {f"C{i:03d}": 125_000 for i in range(200)}


def test_extrapolated_recovery():
    sample = select_sample(CLAIM, 20, seed="claim-2026Q1")
    result = assess_sample(CLAIM, sample, [sample[3]])
    # Sampled 20 * 125,000 = 2,500,000; invalid 125,000; error rate 5%.
    # Recovery = 5% of 25,000,000 = 1,250,000 pence (GBP 12,500).
    assert result.sampled_value_pence == 2_500_000
    assert result.invalid_value_pence == 125_000
    assert result.error_rate == Fraction(1, 20)
    assert result.total_paid_pence == 25_000_000
    assert result.recovery_pence == 1_250_000


def test_line_level_recovery_is_the_invalid_lines_only():
    sample = select_sample(CLAIM, 20, seed="claim-2026Q1")
    result = assess_sample(CLAIM, sample, [sample[3], sample[7]], method="line")
    assert result.recovery_pence == 250_000  # 2 * 125,000


@pytest.mark.parametrize("mode, expected", [("half_up", 429), ("down", 428)])
def test_extrapolation_rounds_with_the_named_mode(mode, expected):
    # Error rate 300 / 700 = 3/7; 3/7 * 1,000 = 428.571... pence.
    claim = {"a": 300, "b": 400, "c": 300}
    result = assess_sample(claim, ["a", "b"], ["a"], rounding=mode)
    assert result.error_rate == Fraction(3, 7)
    assert result.recovery_pence == expected


def test_clean_and_worthless_samples_recover_nothing():
    assert assess_sample(CLAIM, ["C001", "C002"], []).recovery_pence == 0
    assert assess_sample({"a": 0, "b": 500}, ["a"], ["a"]).recovery_pence == 0  # 0 / 0 -> rate 0


def test_only_sampled_lines_can_be_found_invalid():
    with pytest.raises(ValidationError, match="not in the sample: C009"):
        assess_sample(CLAIM, ["C001"], ["C009"])
    with pytest.raises(ValidationError, match="not in the claim: X1"):
        assess_sample(CLAIM, ["X1"], [])
    with pytest.raises(ValidationError, match="unknown recovery method"):
        assess_sample(CLAIM, ["C001"], [], method="guess")


def test_clawback_is_taken_from_the_next_statements_never_below_zero():
    # 1,250,000 to recover. Next statement nets 400,000: it goes to 0, 850,000 carries on.
    # The one after nets 0 and one nets -50,000 (already a refund): neither gives anything.
    # The fourth nets 2,000,000: 850,000 is taken, leaving 1,150,000.
    schedule = schedule_clawback(1_250_000, [400_000, 0, -50_000, 2_000_000])
    assert [s.adjustment_pence for s in schedule.steps] == [-400_000, 0, 0, -850_000]
    assert [s.net_after_pence for s in schedule.steps] == [0, 0, -50_000, 1_150_000]
    assert [s.carried_forward_pence for s in schedule.steps] == [850_000, 850_000, 850_000, 0]
    assert (schedule.recovered_pence, schedule.outstanding_pence) == (1_250_000, 0)


def test_clawback_larger_than_the_next_statement_stays_outstanding():
    schedule = schedule_clawback(1_250_000, [100_000])
    assert schedule.steps[0].net_after_pence == 0
    assert (schedule.recovered_pence, schedule.outstanding_pence) == (100_000, 1_150_000)
