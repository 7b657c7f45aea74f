"""PbR comparison mechanisms: every expected figure is worked by hand in the comment beside it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pandas as pd
import pytest

from ledger.errors import ImportRejected, ValidationError
from ledger.pbr.mechanisms import (
    MECHANISMS,
    Band,
    BaselineReduction,
    CohortComparison,
    CohortObservation,
    PerDay,
    SavingsShare,
    TieredBands,
    count_days,
    mechanism_from_mapping,
)
from ledger.periods import Period

# ---------------------------------------------------------------- cohort comparison (Peterborough)

PETERBOROUGH = CohortComparison(
    price_per_event_pence=500_000,  # GBP 5,000 per reconviction event avoided (illustrative)
    cohort_threshold=Decimal("0.10"),
    overall_threshold=Decimal("0.075"),
)


def test_cohort_improving_by_exactly_ten_percent_meets_the_threshold_and_pays():
    # 1,000 in each group; comparison 800 events (0.8 per person), intervention 720 (0.72).
    # improvement = 1 - 0.72/0.8 = 0.10 exactly; events avoided = 0.8*1000 - 720 = 80;
    # payment = 80 * 500,000 = 40,000,000 pence (GBP 400,000).
    result = PETERBOROUGH.compute([CohortObservation("cohort 1", 1000, 720, 1000, 800)])
    (cohort,) = result.cohorts
    assert cohort.improvement == Fraction(1, 10)
    assert cohort.meets_threshold
    assert cohort.events_avoided == 80
    assert cohort.payment_pence == 40_000_000
    assert result.payment_pence == 40_000_000
    assert result.basis == "cohorts"


def test_cohort_at_721_misses_ten_percent_but_is_paid_on_the_overall_result():
    # improvement = 1 - 0.721/0.8 = 0.09875 < 0.10: the cohort alone does not pay.
    # Overall (one cohort) is also 0.09875 >= 0.075, so the overall result pays:
    # 79 events avoided * 500,000 = 39,500,000 pence.
    result = PETERBOROUGH.compute([CohortObservation("cohort 1", 1000, 721, 1000, 800)])
    (cohort,) = result.cohorts
    assert cohort.improvement == Fraction(79, 800)  # 0.09875
    assert not cohort.meets_threshold
    assert cohort.payment_pence == 0
    assert result.overall_meets_threshold
    assert result.overall_payment_pence == 39_500_000
    assert (result.payment_pence, result.basis) == (39_500_000, "overall")


def test_overall_threshold_met_exactly_and_missed_by_one_event():
    # 740 of 800: improvement 1 - 0.74/0.8 = 0.075 exactly -> overall pays 60 * 500,000.
    exact = PETERBOROUGH.compute([CohortObservation("c", 1000, 740, 1000, 800)])
    assert exact.overall_improvement == Fraction(3, 40)
    assert (exact.payment_pence, exact.basis) == (30_000_000, "overall")
    # 741 of 800: 1 - 0.741/0.8 = 0.07375 < 0.075 -> nothing.
    missed = PETERBOROUGH.compute([CohortObservation("c", 1000, 741, 1000, 800)])
    assert not missed.overall_meets_threshold
    assert (missed.payment_pence, missed.basis) == (0, "none")


def test_overall_is_weighted_by_cohort_size():
    # A: 1,000 people, 760 vs 800 -> 0.05 (fails 10%).
    # B: 3,000 people, 2,136 vs 2,400 -> 1 - 0.712/0.8 = 0.11 (passes, 264 avoided).
    # overall = (1000*0.05 + 3000*0.11) / 4000 = 380/4000 = 0.095 >= 0.075.
    # cohort basis: 264 * 500,000 = 132,000,000; overall basis: (40 + 264) * 500,000 = 152,000,000.
    result = PETERBOROUGH.compute(
        [CohortObservation("A", 1000, 760, 1000, 800), CohortObservation("B", 3000, 2136, 3000, 2400)]
    )
    assert [c.improvement for c in result.cohorts] == [Fraction(1, 20), Fraction(11, 100)]
    assert result.overall_improvement == Fraction(95, 1000)
    assert result.cohort_payment_pence == 132_000_000
    assert result.overall_payment_pence == 152_000_000
    assert (result.payment_pence, result.basis) == (152_000_000, "overall")


def test_overall_exactly_seven_and_a_half_percent_weighted():
    # A 0.05 and B 0.10, equal sizes: overall (0.05 + 0.10) / 2 = 0.075 exactly -> met.
    # B alone: 80 * 500,000 = 40,000,000; overall: 120 * 500,000 = 60,000,000 (the larger).
    met = PETERBOROUGH.compute(
        [CohortObservation("A", 1000, 760, 1000, 800), CohortObservation("B", 1000, 720, 1000, 800)]
    )
    assert met.overall_improvement == Fraction(3, 40)
    assert (met.cohort_payment_pence, met.overall_payment_pence) == (40_000_000, 60_000_000)
    assert met.payment_pence == 60_000_000
    # A at 761: (0.04875 + 0.10) / 2 = 0.074375 < 0.075 -> only B's own result pays.
    missed = PETERBOROUGH.compute(
        [CohortObservation("A", 1000, 761, 1000, 800), CohortObservation("B", 1000, 720, 1000, 800)]
    )
    assert not missed.overall_meets_threshold
    assert (missed.payment_pence, missed.basis) == (40_000_000, "cohorts")


def test_a_cohort_paid_on_its_own_result_is_not_paid_twice_when_overall_is_lower():
    # A passes (0.10, 80 avoided); B got worse (880 vs 800 -> -80 avoided, improvement -0.10).
    # overall = 0 < 0.075, so A's 40,000,000 stands; B does not claw anything back.
    result = PETERBOROUGH.compute(
        [CohortObservation("A", 1000, 720, 1000, 800), CohortObservation("B", 1000, 880, 1000, 800)]
    )
    assert result.overall_events_avoided == 0
    assert result.payment_pence == 40_000_000


@pytest.mark.parametrize("mode, expected", [("half_up", 149), ("half_even", 148), ("down", 148)])
def test_fractional_events_avoided_round_with_the_named_mode(mode, expected):
    # Comparison 750 of 1,000 (0.75); intervention 998 people, 600 events.
    # expected = 0.75 * 998 = 748.5; avoided = 148.5; at 1p per event -> 148.5 pence.
    mechanism = CohortComparison(1, Decimal("0.10"), Decimal("0.075"), rounding=mode)
    result = mechanism.compute([CohortObservation("c", 998, 600, 1000, 750)])
    assert result.cohorts[0].events_avoided == Fraction(297, 2)
    assert result.payment_pence == expected


def test_cohort_comparison_refuses_an_empty_comparison_group():
    with pytest.raises(ValidationError, match="0 events"):
        PETERBOROUGH.compute([CohortObservation("c", 1000, 10, 1000, 0)])
    with pytest.raises(ValidationError):
        PETERBOROUGH.compute([])


def test_cohort_comparison_from_mapping():
    mechanism = mechanism_from_mapping(
        {"kind": "cohort_comparison", "price_per_event": "5000.00", "cohort_threshold": "0.10",
         "overall_threshold": "0.075"},
        "mechanisms[0]",
    )
    assert mechanism == PETERBOROUGH


def test_from_mapping_lists_every_problem_with_its_path():
    with pytest.raises(ImportRejected) as caught:
        CohortComparison.from_mapping(
            {"price_per_event": 5000.0, "cohort_threshold": 0.1, "rounding": "nearest", "colour": "red"},
            "mechanisms[2]",
        )
    problems = caught.value.problems
    assert "mechanisms[2].colour: unknown parameter" in problems[0]
    assert any(p.startswith("mechanisms[2].price_per_event: is a TOML float") for p in problems)
    assert any(p.startswith("mechanisms[2].cohort_threshold: is a TOML float") for p in problems)
    assert any(p.startswith("mechanisms[2].overall_threshold: missing") for p in problems)
    assert any(p.startswith("mechanisms[2].rounding: unknown rounding mode") for p in problems)
    assert len(problems) == 5


def test_from_mapping_money_as_pence_and_both_forms_refused():
    ok = CohortComparison.from_mapping(
        {"price_per_event_pence": 500_000, "cohort_threshold": "0.10", "overall_threshold": "0.075"}, "m"
    )
    assert ok.price_per_event_pence == 500_000
    with pytest.raises(ImportRejected) as caught:
        CohortComparison.from_mapping(
            {"price_per_event": "5000.00", "price_per_event_pence": 500_000, "cohort_threshold": "1.5",
             "overall_threshold": "0.075"},
            "m",
        )
    assert caught.value.problems == [
        "m.price_per_event: give either price_per_event or price_per_event_pence, not both",
        "m.cohort_threshold: must be in (0, 1], got 1.5",
    ]
    with pytest.raises(ImportRejected, match="1,234.50"):
        CohortComparison.from_mapping(
            {"price_per_event": "1,234.50", "cohort_threshold": "0.1", "overall_threshold": "0.075"}, "m"
        )


def test_unknown_kind_is_rejected():
    with pytest.raises(ImportRejected) as caught:
        mechanism_from_mapping({"kind": "lottery"}, "mechanisms[0]")
    assert "mechanisms[0].kind: 'lottery' is not a mechanism" in caught.value.problems[0]


def test_registry_names_every_mechanism():
    assert MECHANISMS == {
        "cohort_comparison": CohortComparison,
        "baseline_reduction": BaselineReduction,
        "per_day": PerDay,
        "tiered_bands": TieredBands,
        "savings_share": SavingsShare,
    }


# ---------------------------------------------------------------- baseline reduction (Essex)

ESSEX = BaselineReduction(baseline_units=10_000, price_per_unit_pence=12_050, cap_pence=8_000_000, unit="care_day")


def test_baseline_reduction_under_the_cap():
    # 10,000 - 9,500 = 500 care days saved * GBP 120.50 = 6,025,000 pence; cap 8,000,000 not reached.
    result = ESSEX.compute(9_500)
    assert (result.units_saved, result.gross_pence, result.payment_pence) == (500, 6_025_000, 6_025_000)
    assert result.cap_reduction_pence == 0


def test_baseline_reduction_capped():
    # 800 days * 12,050 = 9,640,000 gross; cap 8,000,000 -> pays 8,000,000, reduced by 1,640,000.
    result = ESSEX.compute(9_200)
    assert (result.gross_pence, result.payment_pence, result.cap_reduction_pence) == (9_640_000, 8_000_000, 1_640_000)
    # Already paid 7,500,000 earlier: headroom 500,000 is all that can be paid now.
    later = ESSEX.compute(9_200, paid_to_date_pence=7_500_000)
    assert (later.cap_headroom_pence, later.payment_pence) == (500_000, 500_000)


def test_baseline_reduction_above_baseline_pays_nothing():
    result = ESSEX.compute(10_300)
    assert (result.units_saved, result.payment_pence) == (0, 0)


def test_baseline_reduction_from_mapping():
    mechanism = mechanism_from_mapping(
        {"kind": "baseline_reduction", "baseline_units": 10_000, "price_per_unit": "120.50",
         "cap": "80000.00", "unit": "care_day"},
        "m",
    )
    assert mechanism == ESSEX
    with pytest.raises(ImportRejected) as caught:
        BaselineReduction.from_mapping({"baseline_units": "10000", "price_per_unit": "120.505"}, "m")
    assert caught.value.problems[0].startswith("m.baseline_units: must be a whole number")
    assert "more than 2 decimal places" in caught.value.problems[1]


# ---------------------------------------------------------------- per-day outcomes (Denver)

DENVER = PerDay(price_per_day_pence=1_512, participant_cap_pence=50_000, state="housing_stability")
Q1_2024 = Period.quarter(2024, 1)  # 2024-01-01 .. 2024-04-01, 91 days (leap year)


def _spells(rows):
    return pd.DataFrame(rows, columns=["participant_id", "start", "end"])


def test_count_days_is_half_open():
    assert count_days(date(2024, 1, 1), date(2024, 1, 31)) == 30  # 1st counts, 31st does not
    assert count_days(date(2024, 1, 1), date(2024, 1, 1)) == 0


def test_per_day_counts_half_open_days_and_prices_them():
    # p1: 1 Jan to 31 Jan = 30 days * 1,512 = 45,360 (under the 50,000 cap).
    result = PerDay(1_512).compute(_spells([("p1", "2024-01-01", "2024-01-31")]), Q1_2024)
    row = result.by_participant.iloc[0]
    assert (row["days"], row["payment_pence"]) == (30, 45_360)


def test_per_day_merges_overlaps_clips_to_the_period_and_ends_open_spells():
    spells = _spells(
        [
            ("p1", "2024-01-01", "2024-01-20"),
            ("p1", "2024-01-10", None),  # overlaps the first and is still open -> to 1 Apr
            ("p2", "2023-12-01", "2024-01-11"),  # clipped to 1 Jan: 10 days in the quarter
            ("p2", "2024-03-25", "2024-05-01"),  # clipped to 1 Apr: 7 days
            ("p3", "2024-04-01", "2024-04-30"),  # wholly after the period: not counted
        ]
    )
    result = PerDay(100).compute(spells, Q1_2024)
    frame = result.by_participant.set_index("participant_id")
    # p1: 1 Jan to 1 Apr = 31 + 29 + 31 = 91 days, counted once despite the overlap.
    assert frame.loc["p1", "days"] == 91
    assert frame.loc["p2", "days"] == 17
    assert "p3" not in frame.index
    assert result.days_total == 108
    assert result.payment_pence == 10_800
    assert all(str(frame[c].dtype) == "int64" for c in frame.columns)


def test_per_day_participant_cap_is_cumulative():
    spells = _spells([("p1", "2024-01-01", "2024-04-01"), ("p2", "2024-01-01", "2024-01-11")])
    result = DENVER.compute(spells, Q1_2024, paid_to_date_pence={"p1": 40_000, "p2": 0})
    frame = result.by_participant.set_index("participant_id")
    # p1: 91 * 1,512 = 137,592 gross; cap 50,000 - 40,000 already paid = 10,000.
    assert frame.loc["p1", "gross_pence"] == 137_592
    assert frame.loc["p1", "payment_pence"] == 10_000
    assert frame.loc["p1", "cap_reduction_pence"] == 127_592
    # p2: 10 * 1,512 = 15,120, under the cap.
    assert frame.loc["p2", "payment_pence"] == 15_120
    assert result.payment_pence == 25_120


def test_per_day_refuses_backwards_and_unbounded_spells():
    with pytest.raises(ValidationError, match="ending before they start"):
        PerDay(100).compute(_spells([("p1", "2024-02-01", "2024-01-01")]), Q1_2024)
    with pytest.raises(ValidationError, match="need a period"):
        PerDay(100).compute(_spells([("p1", "2024-02-01", None)]))


def test_per_day_from_mapping():
    mechanism = mechanism_from_mapping(
        {"kind": "per_day", "price_per_day": "15.12", "participant_cap_pence": 50_000, "state": "housing_stability"},
        "m",
    )
    assert mechanism == DENVER


# ---------------------------------------------------------------- tiered bands

TIERS = TieredBands(
    (Band(Decimal("0.05"), 1_000_000), Band(Decimal("0.10"), 2_500_000), Band(Decimal("0.20"), 6_000_000))
)


@pytest.mark.parametrize(
    "improvement, band, payment_pence",
    [
        (Decimal("0.0499"), None, 0),  # below the lowest edge
        (Decimal("0.05"), 0, 1_000_000),  # exactly at an edge: that band (inclusive lower bound)
        (Decimal("0.0999999"), 0, 1_000_000),
        (Decimal("0.10"), 1, 2_500_000),
        (Fraction(1, 10), 1, 2_500_000),
        (Decimal("0.1999"), 1, 2_500_000),
        (Decimal("0.20"), 2, 6_000_000),
        (Decimal("0.90"), 2, 6_000_000),  # top band is open above
        (Decimal("-0.3"), None, 0),
    ],
)
def test_tiered_bands_at_and_around_edges(improvement, band, payment_pence):
    result = TIERS.compute(improvement)
    assert (result.band_index, result.payment_pence) == (band, payment_pence)


def test_tiered_bands_refuse_floats():
    with pytest.raises(ValidationError):
        TIERS.compute(0.1)


def test_tiered_bands_from_mapping():
    data = {
        "kind": "tiered_bands",
        "bands": [
            {"from": "0.05", "payment": "10000.00"},
            {"from": "0.10", "payment_pence": 2_500_000},
            {"from": "0.20", "payment": "60000.00"},
        ],
    }
    assert mechanism_from_mapping(data, "m") == TIERS
    with pytest.raises(ImportRejected) as caught:
        TieredBands.from_mapping(
            {"bands": [{"from": "0.10", "payment": "500.00"}, {"from": "0.05", "payment": "400.00"},
                       {"from": 0.3, "payment": "900.00"}]},
            "m",
        )
    assert caught.value.problems[0].startswith("m.bands[2].from: is a TOML float")
    assert len(caught.value.problems) == 1  # edge order is only checked once every band parses
    with pytest.raises(ImportRejected) as caught:
        TieredBands.from_mapping(
            {"bands": [{"from": "0.10", "payment": "500.00"}, {"from": "0.05", "payment": "400.00"}]}, "m"
        )
    assert len(caught.value.problems) == 2
    assert "edges must strictly increase" in caught.value.problems[0]
    assert "must not pay less" in caught.value.problems[1]


# ---------------------------------------------------------------- savings share (Utah)

UTAH = SavingsShare(
    share_until_repaid=Decimal("0.95"),
    share_after_repaid=Decimal("0.40"),
    principal_pence=1_000_000,
    interest_rate=Decimal("0.05"),
)


def test_repayment_target_is_principal_plus_interest():
    assert UTAH.repay_target_pence() == 1_050_000  # 1,000,000 + 5%


def test_savings_share_switches_inside_the_crossing_period():
    result = UTAH.compute([500_000, 700_000, 300_000])
    first, second, third = result.periods
    # Period 0: 95% of 500,000 = 475,000; 575,000 still needed.
    assert (first.payment_pence, first.retained_pence, first.switched) == (475_000, 25_000, False)
    # Period 1: 575,000 / 0.95 = 605,263.157... of savings repays the rest exactly; the other
    # 94,736.842... is shared at 40% = 37,894.736... -> 37,895. Payment 575,000 + 37,895.
    assert second.savings_before_switch == Fraction(575_000) / Fraction("0.95")
    assert second.savings_before_switch + second.savings_after_switch == 700_000
    assert (second.payment_pence, second.retained_pence) == (612_895, 87_105)
    assert second.switched and result.switch_period == 1
    # Period 2: all at 40%.
    assert third.payment_pence == 120_000
    assert (result.payment_pence, result.retained_pence) == (1_207_895, 292_105)
    assert result.payment_pence + result.retained_pence == 1_500_000


def test_savings_share_reaching_the_target_exactly_switches_from_the_next_period():
    # 95% of 1,000,000 = 950,000 = the target exactly.
    result = UTAH.compute([1_000_000, 100_000], repay_target_pence=950_000)
    assert result.periods[0].payment_pence == 950_000
    assert result.periods[0].savings_after_switch == 0
    assert result.switch_period == 0
    assert result.periods[1].payment_pence == 40_000


def test_savings_share_refuses_negative_savings():
    with pytest.raises(ValidationError, match="negative"):
        UTAH.compute([100, -5])


def test_savings_share_from_mapping():
    mechanism = mechanism_from_mapping(
        {"kind": "savings_share", "share_until_repaid": "0.95", "share_after_repaid": "0.40",
         "principal": "10000.00", "interest_rate": "0.05"},
        "m",
    )
    assert mechanism == UTAH
    with pytest.raises(ImportRejected) as caught:
        SavingsShare.from_mapping({"share_until_repaid": "0", "share_after_repaid": "x"}, "m")
    assert caught.value.problems == [
        "m.share_until_repaid: must be in (0, 1], got 0",
        "m.share_after_repaid: share_after_repaid 'x' is not a number",
    ]
    with pytest.raises(ImportRejected) as caught:
        SavingsShare.from_mapping(
            {"share_until_repaid": "0.95", "share_after_repaid": "0.40", "interest_rate": "0.05"}, "m"
        )
    assert caught.value.problems == ["m.interest_rate: is given without a principal to charge it on"]


# ---------------------------------------------------------------- the documented TOML parses


def test_every_toml_example_in_the_docs_builds_its_mechanism():
    import re
    import tomllib
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "pbr-mechanisms.md").read_text()
    blocks = re.findall(r"```toml\n(.*?)```", doc, flags=re.S)
    kinds = []
    for block in blocks:
        for index, table in enumerate(tomllib.loads(block)["mechanisms"]):
            kinds.append(mechanism_from_mapping(table, f"mechanisms[{index}]").kind)
    assert sorted(kinds) == sorted(MECHANISMS)
