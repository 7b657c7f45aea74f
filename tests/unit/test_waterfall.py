"""Distribution waterfall: hand-checked runs and every way terms can be wrong.

Dates 2021-01-01 -> 2023-01-01 are 730 days: exactly 2 years on ACT/365F, which keeps the
arithmetic in the comments short. Amounts in the comments are pounds; the code is pence.
"""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from ledger.errors import ImportRejected, ValidationError
from ledger.waterfall import (
    Contribution,
    Distribution,
    Exit,
    Position,
    RecipientHistory,
    TrancheCapital,
    WaterfallState,
    allocate_loss,
    compute_clawback,
    load_waterfall_toml,
    run_waterfall,
    waterfall_from_mapping,
    year_fraction,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "waterfalls"
START = date(2021, 1, 1)
ONE_YEAR = date(2022, 1, 1)
TWO_YEARS = date(2023, 1, 1)
POUND = 100


def terms_of(mapping: dict, where: str = "terms"):
    return waterfall_from_mapping(mapping, where)


def fixture(name: str):
    return load_waterfall_toml((FIXTURES / name).read_text(), name)


def pref_terms(compounding: str, *, pool: bool = True) -> dict:
    tiers = [
        {"kind": "return_of_capital", "tranche": "all"},
        {"kind": "preferred_return", "tranche": "all", "rate": "0.08", "compounding": compounding,
         "day_count": "ACT/365F"},
    ]
    if pool:
        tiers.append({"kind": "excess", "recipient": "pool"})
    return {"name": "pref", "mode": "whole_fund", "tranches": [{"id": "lp", "rank": 1}], "tiers": tiers}


def one_lp(amount_pounds: int = 100_000, distributions: tuple[Distribution, ...] = ()) -> WaterfallState:
    return WaterfallState((
        Position("A", "lp", amount_pounds * POUND, (Contribution(START, amount_pounds * POUND),), distributions),
    ))


def by_kind(result, party: str, tranche: str | None, kind: str) -> int:
    return sum(
        line.amount_pence for tier in result.tiers for line in tier.lines
        if line.party == party and line.tranche == tranche and line.kind == kind
    )


# ---------------------------------------------------------------------------------------------
# Day counts
# ---------------------------------------------------------------------------------------------


def test_year_fractions_follow_their_conventions():
    assert year_fraction(START, TWO_YEARS, "ACT/365F") == 2  # 730 / 365
    assert year_fraction(date(2024, 1, 1), date(2025, 1, 1), "ACT/365F") == Fraction(366, 365)  # leap year
    assert year_fraction(date(2021, 1, 31), date(2021, 3, 31), "ACT/360") == Fraction(59, 360)
    # 30/360: start day 31 -> 30; end day 31 -> 30 because the start is then 30: 2 months = 60 days.
    assert year_fraction(date(2021, 1, 31), date(2021, 3, 31), "30/360") == Fraction(60, 360)
    # Start day 28 is kept, so end day 31 stays 31: 30 + (31 - 28) = 33 days.
    assert year_fraction(date(2021, 2, 28), date(2021, 3, 31), "30/360") == Fraction(33, 360)
    with pytest.raises(ValidationError, match="unknown day count 'ACT/ACT'"):
        year_fraction(START, TWO_YEARS, "ACT/ACT")


# ---------------------------------------------------------------------------------------------
# Preferred return
# ---------------------------------------------------------------------------------------------


def test_preferred_return_simple_versus_compound():
    # 100,000 in for 2 years at 8%. Simple: 100,000 * 0.08 * 2 = 16,000.
    # Compound: 100,000 * (1.08^2 - 1) = 100,000 * 0.1664 = 16,640.
    cash = 200_000 * POUND
    simple = run_waterfall(terms_of(pref_terms("simple")), cash, TWO_YEARS, one_lp())
    compound = run_waterfall(terms_of(pref_terms("compound")), cash, TWO_YEARS, one_lp())
    assert simple.party("A", "lp").return_of_capital_pence == 100_000 * POUND
    assert simple.party("A", "lp").income_pence == 16_000 * POUND
    assert compound.party("A", "lp").income_pence == 16_640 * POUND
    # The rest goes to the pool: 200,000 - 116,000 = 84,000 and 200,000 - 116,640 = 83,360.
    assert simple.party("pool").gains_pence == 84_000 * POUND
    assert compound.party("pool").gains_pence == 83_360 * POUND
    assert simple.undistributed_pence == compound.undistributed_pence == 0


def test_preferred_return_is_net_of_returned_capital_and_income_already_paid():
    # 100,000 in on 2021-01-01; 40,000 capital and 5,000 pref paid back on 2022-01-01.
    prior = (Distribution(ONE_YEAR, "return_of_capital", 40_000 * POUND),
             Distribution(ONE_YEAR, "preferred_return", 5_000 * POUND))
    state = one_lp(distributions=prior)
    cash = 100_000 * POUND
    # Simple: 100,000*0.08*2 - 40,000*0.08*1 - 5,000 = 16,000 - 3,200 - 5,000 = 7,800.
    simple = run_waterfall(terms_of(pref_terms("simple")), cash, TWO_YEARS, state)
    assert simple.party("A", "lp").return_of_capital_pence == 60_000 * POUND
    assert simple.party("A", "lp").income_pence == 7_800 * POUND
    # Compound: 100,000*0.1664 - 40,000*0.08 - 5,000*1.08 = 16,640 - 3,200 - 5,400 = 8,040.
    compound = run_waterfall(terms_of(pref_terms("compound")), cash, TWO_YEARS, state)
    assert compound.party("A", "lp").income_pence == 8_040 * POUND


def test_history_after_the_distribution_date_is_ignored():
    state = WaterfallState((Position("A", "lp", 0, (Contribution(START, 100_000 * POUND),
                                                     Contribution(date(2024, 1, 1), 50_000 * POUND))),))
    result = run_waterfall(terms_of(pref_terms("simple")), 120_000 * POUND, TWO_YEARS, state)
    assert result.party("A", "lp").return_of_capital_pence == 100_000 * POUND  # not 150,000
    assert result.party("A", "lp").income_pence == 16_000 * POUND


def test_pref_shortfall_is_split_pro_rata_to_what_is_due():
    # A 60,000 and B 40,000; cash 100,010 leaves 10 pounds for pref due 9,600 and 6,400:
    # 1,000 pence split 60:40 = 600 and 400.
    state = WaterfallState((
        Position("A", "lp", 0, (Contribution(START, 60_000 * POUND),)),
        Position("B", "lp", 0, (Contribution(START, 40_000 * POUND),)),
    ))
    result = run_waterfall(terms_of(pref_terms("simple", pool=False)), 100_010 * POUND, TWO_YEARS, state)
    assert result.party("A", "lp").income_pence == 600
    assert result.party("B", "lp").income_pence == 400
    assert result.undistributed_pence == 0


def test_everything_capped_and_no_pool_leaves_cash_undistributed_and_says_so():
    # ROC 100,000 + pref 16,000; 20,000 - 16,000 = 4,000 has nowhere to go.
    result = run_waterfall(terms_of(pref_terms("simple", pool=False)), 120_000 * POUND, TWO_YEARS, one_lp())
    assert result.distributed_pence == 116_000 * POUND
    assert result.undistributed_pence == 4_000 * POUND
    assert result.undistributed_reason.startswith("400000 pence left undistributed: every tier is capped")


# ---------------------------------------------------------------------------------------------
# Catch-up and carry (the European fixture)
# ---------------------------------------------------------------------------------------------


def test_european_waterfall_with_full_catch_up():
    terms = fixture("european_8pct_carry.toml")
    result = run_waterfall(terms, 150_000 * POUND, TWO_YEARS, WaterfallState((
        Position("A", "lp", 100_000 * POUND, (Contribution(START, 100_000 * POUND),)),
    )))
    # ROC 100,000; pref 100,000 * (1.08^2 - 1) = 16,640; 33,360 left.
    # Catch-up 100% until the manager has 20% of profits: c = 0.2 * 16,640 / (1 - 0.2) = 4,160.
    # 29,200 left, split 80/20: LP 23,360, manager 5,840.
    assert [tier.paid_pence for tier in result.tiers] == [
        100_000 * POUND, 16_640 * POUND, 4_160 * POUND, 29_200 * POUND]
    assert result.party("manager").gains_pence == 10_000 * POUND  # 4,160 + 5,840 = 20% of 50,000
    lp = result.party("A", "lp")
    assert (lp.return_of_capital_pence, lp.income_pence, lp.gains_pence) == (
        100_000 * POUND, 16_640 * POUND, 23_360 * POUND)


def test_catch_up_at_fifty_percent():
    mapping = pref_terms("compound", pool=False)
    mapping["tiers"] += [
        {"kind": "catch_up", "percentage": "0.5", "carry_share": "0.2", "recipient": "manager"},
        {"kind": "carried_interest", "carry_share": "0.2", "recipient": "manager"},
    ]
    result = run_waterfall(terms_of(mapping), 150_000 * POUND, TWO_YEARS, one_lp())
    # Pref 16,640. Catch-up cash c* with 0.5c = 0.2 * (16,640 + c): c* = 3,328 / 0.3 = 11,093.333..
    # -> c = 1,109,334 pence (the first whole penny at which the catch-up is complete); the manager
    # then holds exactly 20% of the profits so far, 0.2 * 2,773,334 = 554,666.8 -> 554,666 (the
    # residue to the investors), and the LP takes the other 554,668.
    assert result.paid_by_tier(2, "manager") == 554_666
    assert result.paid_by_tier(2, "A", "lp") == 554_668
    # Left: 3,336,000 - 1,109,334 = 2,226,666; the manager is topped up to 20% of all 5,000,000 of
    # profit: 1,000,000 - 554,666 = 445,334; LP 1,781,332.
    assert result.paid_by_tier(3, "manager") == 445_334
    assert result.paid_by_tier(3, "A", "lp") == 1_781_332
    # Manager: 554,666 + 445,334 = 1,000,000 = 20% of the 50,000 profit.
    assert result.party("manager").gains_pence == 10_000 * POUND


def test_catch_up_counts_what_was_paid_before():
    # Earlier: LP had 16,640 pref, manager 4,160 catch-up. Now profit is all carry: 80/20.
    prior_lp = (Distribution(ONE_YEAR, "preferred_return", 16_640 * POUND),)
    state = WaterfallState(
        (Position("A", "lp", 0, (Contribution(START, 100_000 * POUND),), prior_lp),),
        (RecipientHistory("manager", (Distribution(ONE_YEAR, "catch_up", 4_160 * POUND),)),),
    )
    # Pref at 2022-01-01 was only 8,000 due, so paying 16,640 then means none is due now
    # (100,000*0.1664 - 16,640*1.08 < 0). ROC 100,000 then catch-up 0, carry on 10,000.
    result = run_waterfall(fixture("european_8pct_carry.toml"), 110_000 * POUND, TWO_YEARS, state)
    assert result.party("A", "lp").income_pence == 0
    assert result.paid_by_tier(2, "manager") == 0
    assert result.party("manager").gains_pence == 2_000 * POUND
    assert result.party("A", "lp").gains_pence == 8_000 * POUND


def test_carry_split_among_investors_pro_rata_to_capital():
    mapping = {"name": "carry", "mode": "whole_fund", "tranches": [{"id": "lp", "rank": 1}], "tiers": [
        {"kind": "return_of_capital"},
        {"kind": "carried_interest", "carry_share": "0.20", "recipient": "gp"},
    ]}
    state = WaterfallState((
        Position("A", "lp", 0, (Contribution(START, 30_000 * POUND),)),
        Position("B", "lp", 0, (Contribution(START, 70_000 * POUND),)),
    ))
    result = run_waterfall(terms_of(mapping), 110_000 * POUND, TWO_YEARS, state)
    # Profit 10,000: gp 2,000; LPs 8,000 split 30:70 = 2,400 and 5,600.
    assert result.party("gp").gains_pence == 2_000 * POUND
    assert result.party("A", "lp").gains_pence == 2_400 * POUND
    assert result.party("B", "lp").gains_pence == 5_600 * POUND


# ---------------------------------------------------------------------------------------------
# Blended finance: senior cap, junior, first-loss grant, community pool
# ---------------------------------------------------------------------------------------------


def blended_state() -> WaterfallState:
    return WaterfallState((
        Position("S", "senior", 100_000 * POUND, (Contribution(START, 100_000 * POUND),)),
        Position("J", "junior", 50_000 * POUND, (Contribution(START, 50_000 * POUND),)),
        Position("G", "grant", 50_000 * POUND, (Contribution(START, 50_000 * POUND),)),
    ))


def test_senior_cap_is_hit_and_the_excess_goes_to_the_pool():
    result = run_waterfall(fixture("blended_fund.toml"), 200_000 * POUND, TWO_YEARS, blended_state())
    # Senior: 100,000 + 5% simple for 2 years = 10,000; capped there.
    senior = result.party("S", "senior")
    assert (senior.return_of_capital_pence, senior.income_pence) == (100_000 * POUND, 10_000 * POUND)
    # Junior: 50,000 + 8% compound: 50,000 * 0.1664 = 8,320.
    junior = result.party("J", "junior")
    assert (junior.return_of_capital_pence, junior.income_pence) == (50_000 * POUND, 8_320 * POUND)
    # The grant is never repaid; the pool takes 200,000 - 110,000 - 58,320 = 31,680.
    assert result.party("G", "grant").total_pence == 0
    assert result.party("community_pool").gains_pence == 31_680 * POUND
    assert result.undistributed_pence == 0


def test_short_cash_stops_at_the_senior_return_and_the_grant_loses_first():
    # 105,000: senior capital 100,000 then 5,000 of its 10,000 return; junior and grant get nothing.
    result = run_waterfall(fixture("blended_fund.toml"), 105_000 * POUND, TWO_YEARS, blended_state())
    assert result.party("S", "senior").total_pence == 105_000 * POUND
    assert result.party("J", "junior").total_pence == 0
    assert [tier.paid_pence for tier in result.tiers] == [100_000 * POUND, 5_000 * POUND, 0, 0, 0]


def test_absolute_senior_cap_is_shared_pro_rata_and_counts_earlier_income():
    mapping = {"name": "abs", "mode": "whole_fund", "tranches": [{"id": "senior", "rank": 1}], "tiers": [
        {"kind": "return_of_capital", "tranche": "senior"},
        {"kind": "capped_return", "tranche": "senior", "cap_amount": "8000.00"},
        {"kind": "excess", "recipient": "pool"},
    ]}
    state = WaterfallState((
        Position("S1", "senior", 0, (Contribution(START, 75_000 * POUND),),
                 (Distribution(ONE_YEAR, "preferred_return", 1_000 * POUND),)),
        Position("S2", "senior", 0, (Contribution(START, 25_000 * POUND),)),
    ))
    result = run_waterfall(terms_of(mapping), 120_000 * POUND, TWO_YEARS, state)
    # Cap 8,000 split 75:25 = 6,000 and 2,000; S1 already had 1,000 so 5,000 is due now.
    assert result.party("S1", "senior").income_pence == 5_000 * POUND
    assert result.party("S2", "senior").income_pence == 2_000 * POUND
    assert result.party("pool").gains_pence == 13_000 * POUND  # 120,000 - 100,000 - 7,000


def test_first_loss_absorbs_a_write_down_before_junior_and_senior():
    tranches = [
        TrancheCapital("senior", 1, (("S1", 60_000 * POUND), ("S2", 40_000 * POUND))),
        TrancheCapital("junior", 2, (("J", 50_000 * POUND),)),
        TrancheCapital("grant", 3, (("G", 50_000 * POUND),)),
    ]
    # 30,000: all on the grant.
    small = allocate_loss(30_000 * POUND, tranches)
    assert [(l.tranche, l.investor, l.absorbed_pence) for l in small.lines] == [("grant", "G", 30_000 * POUND)]
    # 70,000: grant wiped out (50,000), junior 20,000, senior untouched.
    middle = allocate_loss(70_000 * POUND, tranches)
    assert middle.absorbed_by_tranche("grant") == 50_000 * POUND
    assert middle.absorbed_by_tranche("junior") == 20_000 * POUND
    assert middle.absorbed_by_tranche("senior") == 0
    # 180,000: grant 50,000, junior 50,000, senior 80,000 split 60:40 = 48,000 and 32,000.
    large = allocate_loss(180_000 * POUND, tranches)
    assert [(l.investor, l.absorbed_pence) for l in large.lines if l.tranche == "senior"] == [
        ("S1", 48_000 * POUND), ("S2", 32_000 * POUND)]
    # 250,000 is more than the 200,000 of capital: 50,000 is reported unabsorbed.
    assert allocate_loss(250_000 * POUND, tranches).unabsorbed_pence == 50_000 * POUND


def test_loss_split_within_a_tranche_conserves_pence():
    # 100 pence over 1:1:1 -> 33.33 each; the leftover penny goes to the first (largest remainder tie).
    tranche = TrancheCapital("senior", 1, (("A", 300), ("B", 300), ("C", 300)))
    allocation = allocate_loss(100, [tranche])
    assert [line.absorbed_pence for line in allocation.lines] == [34, 33, 33]


def test_allocate_loss_refuses_negative_loss_and_equal_ranks():
    with pytest.raises(ValidationError, match="loss_pence must not be negative, got -1"):
        allocate_loss(-1, [])
    with pytest.raises(ValidationError, match=r"tranche ranks must differ, got \[1, 1\]"):
        allocate_loss(1, [TrancheCapital("a", 1, ()), TrancheCapital("b", 1, ())])


# ---------------------------------------------------------------------------------------------
# Deal by deal versus whole fund
# ---------------------------------------------------------------------------------------------


def carry_only(mode: str) -> dict:
    return {"name": mode, "mode": mode, "tranches": [{"id": "lp", "rank": 1}], "tiers": [
        {"kind": "return_of_capital"},
        {"kind": "carried_interest", "carry_share": "0.20", "recipient": "gp"},
    ]}


def test_deal_by_deal_pays_carry_on_a_winner_that_whole_fund_nets_against_a_loser():
    state = WaterfallState((Position("A", "lp", 200_000 * POUND, (
        Contribution(START, 100_000 * POUND, "P1"),
        Contribution(START, 100_000 * POUND, "P2"),
    )),))
    # Whole fund: 150,000 + 50,000 = 200,000 back on 200,000 in: no profit, no carry.
    whole = run_waterfall(terms_of(carry_only("whole_fund")), 200_000 * POUND, TWO_YEARS, state)
    assert whole.party("A", "lp").total_pence == 200_000 * POUND
    assert whole.party("gp").total_pence == 0
    # Deal by deal: P1 returns 100,000 and carries 20% of 50,000 = 10,000 (LP 40,000);
    # P2 returns 50,000 of its 100,000. LP 190,000, gp 10,000.
    deals = run_waterfall(terms_of(carry_only("deal_by_deal")), {"P1": 150_000 * POUND, "P2": 50_000 * POUND},
                          TWO_YEARS, state)
    lp = deals.party("A", "lp")
    assert (lp.return_of_capital_pence, lp.gains_pence) == (150_000 * POUND, 40_000 * POUND)
    assert deals.party("gp").gains_pence == 10_000 * POUND
    assert {tier.project for tier in deals.tiers} == {"P1", "P2"}


def test_mode_decides_the_shape_of_the_cash_given():
    with pytest.raises(ValidationError, match="is deal_by_deal: give the proceeds per project"):
        run_waterfall(terms_of(carry_only("deal_by_deal")), 100, TWO_YEARS, one_lp())
    with pytest.raises(ValidationError, match="is whole_fund: give one amount"):
        run_waterfall(terms_of(carry_only("whole_fund")), {"P1": 100}, TWO_YEARS, one_lp())
    with pytest.raises(ValidationError, match=r"cannot distribute a negative amount \(-5 pence\)"):
        run_waterfall(terms_of(carry_only("whole_fund")), -5, TWO_YEARS, one_lp())


def test_state_with_an_unknown_tranche_is_refused():
    state = WaterfallState((Position("A", "mezz", 0, (Contribution(START, 100),)),))
    with pytest.raises(ValidationError, match="investor 'A' holds unknown tranche 'mezz' \\(known: lp\\)"):
        run_waterfall(terms_of(carry_only("whole_fund")), 100, TWO_YEARS, state)


def test_distribution_kinds_are_checked():
    with pytest.raises(ValidationError, match="distribution kind 'interest' is not one of"):
        Distribution(START, "interest", 100)


# ---------------------------------------------------------------------------------------------
# Terms files
# ---------------------------------------------------------------------------------------------


def test_fixtures_load():
    blended = fixture("blended_fund.toml")
    assert [t.id for t in blended.tranches] == ["senior", "junior", "grant"]
    assert blended.tranches[2].repayable is False
    assert [tier.kind for tier in blended.tiers] == [
        "return_of_capital", "capped_return", "return_of_capital", "capped_return", "excess"]
    european = fixture("european_8pct_carry.toml")
    assert [tier.kind for tier in european.tiers] == [
        "return_of_capital", "preferred_return", "catch_up", "carried_interest"]


BASE = {
    "name": "base",
    "mode": "whole_fund",
    "tranches": [{"id": "senior", "rank": 1}, {"id": "junior", "rank": 2}, {"id": "grant", "rank": 3,
                                                                            "repayable": False}],
    "tiers": [
        {"kind": "return_of_capital", "tranche": "senior"},
        {"kind": "preferred_return", "tranche": "senior", "rate": "0.08", "compounding": "compound",
         "day_count": "ACT/365F"},
        {"kind": "return_of_capital", "tranche": "junior"},
        {"kind": "catch_up", "percentage": "1", "carry_share": "0.2", "recipient": "gp"},
        {"kind": "carried_interest", "carry_share": "0.2", "recipient": "gp"},
    ],
}


def test_base_terms_are_valid():
    assert len(terms_of(copy.deepcopy(BASE)).tiers) == 5


def _set(path: tuple, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def _append_tier(tier: dict):
    return lambda data: data["tiers"].append(tier)


BAD_TERMS = [
    (_set(("mode",), "american"), "t.mode: 'american' is not one of whole_fund, deal_by_deal"),
    (_set(("tiers", 1, "rate"), 0.08),
     't.tiers[1].rate: is a TOML float (0.08); write it as a string like "0.08" to keep it exact'),
    (_set(("tiers", 1, "rate"), "1.5"), "t.tiers[1].rate: must be in [0, 1], got 1.5"),
    (_set(("tiers", 1, "day_count"), "ACT/ACT"), "t.tiers[1].day_count: 'ACT/ACT' is not one of ACT/365F, ACT/360, 30/360"),
    (_set(("tiers", 1, "compounding"), "monthly"), "t.tiers[1].compounding: 'monthly' is not one of simple, compound"),
    (_set(("tiers", 0, "tranche"), "mezz"),
     "t.tiers[0].tranche: unknown tranche 'mezz' (known: grant, junior, senior, or 'all')"),
    (_set(("tranches", 1, "id"), "senior"), "t.tranches[1].id: duplicate tranche id 'senior'"),
    (_set(("tranches", 1, "rank"), 1), "t.tranches[1].rank: rank 1 is already used by tranche 'senior'; ranks must differ"),
    (_set(("tranches", 2, "repayable"), "no"), "t.tranches[2].repayable: must be true or false, got 'no'"),
    (_set(("tiers", 0, "kind"), "hurdle"),
     "t.tiers[0].kind: 'hurdle' is not one of return_of_capital, preferred_return, capped_return, catch_up, "
     "carried_interest, excess"),
    (_set(("tiers", 3, "percentage"), "0.2"),
     "t.tiers[3].percentage: 0.2 must exceed carry_share 0.2, or the recipient never catches up"),
    (_set(("tiers", 2, "tranche"), "grant"),
     "t.tiers[2].tranche: tranche 'grant' is not repayable (first-loss grant): no return_of_capital tier may pay it"),
    (lambda data: data["tiers"].insert(0, {"kind": "return_of_capital", "tranche": "junior"}),
     "t.tiers[1].tranche: returns capital to 'senior' (rank 1) after tiers[0] already repaid the more junior "
     "'junior' (rank 2); capital is repaid senior first"),
    (lambda data: data["tiers"].insert(3, {"kind": "return_of_capital", "tranche": "all"}),
     "t.tiers[3].tranche: returns capital to 'all' (rank 1) after tiers[2] already repaid the more junior "
     "'junior' (rank 2); capital is repaid senior first"),
    (_append_tier({"kind": "excess", "recipient": "pool"}),
     "t.tiers[5]: unreachable: tiers[4] takes all remaining cash before it"),
    (_append_tier({"kind": "capped_return", "tranche": "senior", "rate": "0.05", "compounding": "simple",
                   "day_count": "ACT/360", "cap_amount": "100.00"}),
     "t.tiers[5].rate: give either rate (with compounding and day_count) or cap_amount, exactly one"),
    (_set(("tiers", 0, "tranch"), "senior"),
     "t.tiers[0].tranch: unknown field (known: kind, tranche)"),
    (_set(("tiers",), []), "t.tiers: missing: give at least one [[tiers]] table"),
    (_set(("tiers", 4, "carry_share"), "1"), "t.tiers[4].carry_share: must be in (0, 1), got 1"),
]


@pytest.mark.parametrize(("change", "message"), BAD_TERMS, ids=[m.split(":")[0] + " " + m.split(":")[1][:30]
                                                                for _, m in BAD_TERMS])
def test_bad_terms_are_rejected_with_the_field_and_reason(change, message):
    data = copy.deepcopy(BASE)
    change(data)
    with pytest.raises(ImportRejected) as caught:
        terms_of(data, "t")
    assert message in caught.value.problems, caught.value.problems


def test_cap_amount_is_refused_in_deal_by_deal():
    data = copy.deepcopy(BASE)
    data["mode"] = "deal_by_deal"
    data["tiers"].insert(2, {"kind": "capped_return", "tranche": "senior", "cap_amount_pence": 100})
    with pytest.raises(ImportRejected) as caught:
        terms_of(data, "t")
    assert caught.value.problems == [
        't.tiers[2].cap_amount: is a whole-fund cap; not allowed with mode = "deal_by_deal"']


def test_every_problem_is_reported_at_once():
    data = copy.deepcopy(BASE)
    data["mode"] = "american"
    data["tiers"][1]["rate"] = 0.08
    data["tiers"][0]["tranche"] = "mezz"
    with pytest.raises(ImportRejected) as caught:
        terms_of(data, "t")
    assert len(caught.value.problems) == 3
    assert str(caught.value).startswith("t: waterfall terms rejected\n  t.mode:")


def test_toml_syntax_errors_are_reported_with_the_source():
    with pytest.raises(ImportRejected, match="broken.toml: not valid TOML"):
        load_waterfall_toml("mode = ", "broken.toml")


# ---------------------------------------------------------------------------------------------
# Catch-up exactness (issue #15 item 5)
# ---------------------------------------------------------------------------------------------


def catch_up_terms(percentage: str, residue: str | None = None) -> dict:
    mapping = pref_terms("compound", pool=False)
    mapping["tiers"] += [
        {"kind": "catch_up", "percentage": percentage, "carry_share": "0.2", "recipient": "manager"},
        {"kind": "carried_interest", "carry_share": "0.2", "recipient": "manager"},
    ]
    if residue is not None:
        mapping["residue"] = residue
    return mapping


def test_eighty_percent_catch_up_leaves_the_manager_exactly_its_carry_share():
    # Profit 50,000: the manager must end with exactly 20% = 10,000.00, not a penny over.
    result = run_waterfall(terms_of(catch_up_terms("0.8")), 150_000 * POUND, TWO_YEARS, one_lp())
    assert result.party("manager").gains_pence == 10_000 * POUND
    assert result.party("A", "lp").gains_pence + result.party("A", "lp").income_pence == 40_000 * POUND


def test_the_residue_goes_where_the_terms_say():
    # Profit 10,000.01: 20% is 2,000.002, so the recipient holds 2,000.00 when the residue goes to
    # the investors (the default) and 2,000.01 when it goes to the recipient.
    cash = 110_000 * POUND + 1
    mapping = pref_terms("compound", pool=False)
    mapping["tiers"] = [mapping["tiers"][0], {"kind": "catch_up", "percentage": "0.8", "carry_share": "0.2",
                                              "recipient": "manager"},
                        {"kind": "carried_interest", "carry_share": "0.2", "recipient": "manager"}]
    by_default = run_waterfall(terms_of(mapping), cash, TWO_YEARS, one_lp())
    assert by_default.party("manager").gains_pence == 200_000
    mapping["residue"] = "recipient"
    to_recipient = run_waterfall(terms_of(mapping), cash, TWO_YEARS, one_lp())
    assert to_recipient.party("manager").gains_pence == 200_001
    assert to_recipient.party("A", "lp").total_pence == cash - 200_001


def test_carry_without_a_catch_up_is_exact_over_several_distributions():
    # 80/20 on each of three distributions of 0.03, 0.03 and 0.04 above capital: 20% of 0.03 is
    # 0.006 -> 0.00 (residue to investors), then 20% of 0.06 cumulative = 0.012 -> 0.01, then 20%
    # of 0.10 = 0.02: the recipient ends with exactly 20% of all carry-tier cash.
    terms = terms_of({"name": "c", "mode": "whole_fund", "tranches": [{"id": "lp", "rank": 1}], "tiers": [
        {"kind": "return_of_capital"}, {"kind": "carried_interest", "carry_share": "0.2", "recipient": "gp"}]})
    state = WaterfallState((Position("A", "lp", 0, (Contribution(START, 100),)),))
    got = []
    for step, cash in enumerate((103, 3, 4)):
        result = run_waterfall(terms, cash, ONE_YEAR, state)
        got.append(result.party("gp").gains_pence)
        state = WaterfallState(
            (Position("A", "lp", 0, state.positions[0].contributions, state.positions[0].distributions + tuple(
                Distribution(ONE_YEAR, line.kind, line.amount_pence) for tier in result.tiers for line in tier.lines
                if line.party == "A")),),
            (RecipientHistory("gp", (state.recipients[0].distributions if state.recipients else ()) + tuple(
                Distribution(ONE_YEAR, "carry", line.amount_pence) for tier in result.tiers for line in tier.lines
                if line.party == "gp")),))
    assert got == [0, 1, 1]


# ---------------------------------------------------------------------------------------------
# Deal-by-deal exits on their own dates
# ---------------------------------------------------------------------------------------------


def deal_terms(**extra) -> dict:
    return {"name": "deals", "mode": "deal_by_deal", "tranches": [{"id": "lp", "rank": 1}], **extra, "tiers": [
        {"kind": "return_of_capital"},
        {"kind": "preferred_return", "rate": "0.08", "compounding": "compound", "day_count": "ACT/365F"},
        {"kind": "carried_interest", "carry_share": "0.2", "recipient": "gp"},
    ]}


def two_deals() -> WaterfallState:
    return WaterfallState((Position("A", "lp", 0, (Contribution(START, 100_000 * POUND, "P1"),
                                                    Contribution(START, 100_000 * POUND, "P2"))),))


def test_each_deal_accrues_to_its_own_exit_date():
    # P1 exits after one year: pref 100,000 * 0.08 = 8,000. P2 after two: 100,000 * 0.1664 = 16,640.
    result = run_waterfall(terms_of(deal_terms()), {"P2": Exit(TWO_YEARS, 120_000 * POUND),
                                                    "P1": (ONE_YEAR, 110_000 * POUND)}, None, two_deals())
    assert [(t.project, t.day) for t in result.tiers][::3] == [("P1", ONE_YEAR), ("P2", TWO_YEARS)]
    assert result.paid_by_tier(1, "A", "lp") == 8_000 * POUND + 16_640 * POUND
    # Carry: P1 2,000 * 20% = 400; P2 3,360 * 20% = 672.
    assert result.party("gp").gains_pence == 1_072 * POUND
    assert result.day == TWO_YEARS
    # The old forms still work: one day for every deal. P1's 10,000 above capital then falls short
    # of its two-year pref of 16,640.
    same_day = run_waterfall(terms_of(deal_terms()), {"P1": 110_000 * POUND, "P2": 120_000 * POUND}, TWO_YEARS,
                             two_deals())
    assert same_day.paid_by_tier(1, "A", "lp") == 10_000 * POUND + 16_640 * POUND
    assert same_day.party("gp").gains_pence == 672 * POUND
    assert {t.day for t in same_day.tiers} == {TWO_YEARS}


def test_a_deal_ignores_history_after_its_own_exit():
    state = WaterfallState((Position("A", "lp", 0, (Contribution(START, 100_000 * POUND, "P1"),
                                                    Contribution(TWO_YEARS, 50_000 * POUND, "P1"))),))
    result = run_waterfall(terms_of(deal_terms()), {"P1": Exit(ONE_YEAR, 100_000 * POUND)}, None, state)
    assert result.party("A", "lp").return_of_capital_pence == 100_000 * POUND


def test_exit_dates_and_proceeds_are_checked():
    terms = terms_of(deal_terms())
    with pytest.raises(ValidationError, match="proceeds of P1 have no exit date"):
        run_waterfall(terms, {"P1": 100}, None, two_deals())
    with pytest.raises(ValidationError, match="negative proceeds"):
        run_waterfall(terms, {"P1": Exit(ONE_YEAR, -1)}, None, two_deals())
    with pytest.raises(ValidationError, match="exit day must be a date"):
        Exit("2022-01-01", 100)
    with pytest.raises(ValidationError, match="give the distribution date"):
        run_waterfall(terms_of(pref_terms("simple")), 100, None, one_lp())


# ---------------------------------------------------------------------------------------------
# Clawback
# ---------------------------------------------------------------------------------------------


def test_no_clawback_when_deal_by_deal_carry_is_not_above_the_whole_fund():
    # Both deals win: deal-by-deal carry equals the whole-fund carry, so nothing is due.
    terms = terms_of({"name": "d", "mode": "deal_by_deal", "tranches": [{"id": "lp", "rank": 1}], "tiers": [
        {"kind": "return_of_capital"}, {"kind": "carried_interest", "carry_share": "0.2", "recipient": "gp"}]})
    history = WaterfallState(
        (Position("A", "lp", 0, two_deals().positions[0].contributions,
                  (Distribution(ONE_YEAR, "return_of_capital", 100_000 * POUND, "P1"),
                   Distribution(ONE_YEAR, "carry", 8_000 * POUND, "P1"),
                   Distribution(TWO_YEARS, "return_of_capital", 100_000 * POUND, "P2"),
                   Distribution(TWO_YEARS, "carry", 8_000 * POUND, "P2"))),),
        (RecipientHistory("gp", (Distribution(ONE_YEAR, "carry", 2_000 * POUND, "P1"),
                                 Distribution(TWO_YEARS, "carry", 2_000 * POUND, "P2"))),),
    )
    clawback = compute_clawback(terms, history, TWO_YEARS)
    # The whole-fund replay on ONE_YEAR returns all 200,000 of capital before any carry: 110,000 of
    # ROC leaves nothing; on TWO_YEARS 90,000 ROC and 20,000 split 16,000 / 4,000. Same 4,000.
    assert (clawback.received_pence, clawback.whole_fund_carry_pence, clawback.clawback_pence) == (
        4_000 * POUND, 4_000 * POUND, 0)
    # On demand at the first exit, before P2: the whole fund owes no carry yet, the deal paid 2,000.
    interim = compute_clawback(terms, history, ONE_YEAR)
    assert (interim.whole_fund_carry_pence, interim.clawback_pence) == (0, 2_000 * POUND)
    # Once that clawback is recorded, nothing more is due on the same date.
    returned = WaterfallState(
        (Position("A", "lp", 0, history.positions[0].contributions,
                  history.positions[0].distributions + (Distribution(ONE_YEAR, "clawback", 2_000 * POUND),)),),
        (RecipientHistory("gp", history.recipients[0].distributions
                          + (Distribution(ONE_YEAR, "clawback", -2_000 * POUND),)),),
    )
    again = compute_clawback(terms, returned, ONE_YEAR)
    assert (again.returned_before_pence, again.deal_by_deal_carry_pence, again.clawback_pence) == (
        2_000 * POUND, 0, 0)


def test_clawback_refuses_terms_it_cannot_apply_to():
    with pytest.raises(ValidationError, match="is whole_fund: its carry is already computed over the whole fund"):
        compute_clawback(fixture("european_8pct_carry.toml"), one_lp(), TWO_YEARS)
    with pytest.raises(ValidationError, match="exactly one carry recipient, the terms name none"):
        compute_clawback(terms_of(carry_only("deal_by_deal") | {"tiers": [{"kind": "return_of_capital"}]}),
                         one_lp(), TWO_YEARS)


def test_only_a_clawback_may_be_negative():
    assert Distribution(START, "clawback", -5).amount_pence == -5
    with pytest.raises(ValidationError, match="only a clawback \\(carry returned\\) may be"):
        Distribution(START, "carry", -5)


def test_residue_and_tax_rate_fields_are_validated():
    data = copy.deepcopy(BASE)
    data["residue"] = "manager"
    data["clawback_tax_rate"] = "0.4"
    with pytest.raises(ImportRejected) as caught:
        terms_of(data, "t")
    assert caught.value.problems == [
        "t.residue: 'manager' is not one of investors, recipient",
        't.clawback_tax_rate: only applies to a clawback of deal-by-deal carry (mode = "deal_by_deal")',
    ]
    data = deal_terms(clawback_tax_rate=0.4)
    with pytest.raises(ImportRejected, match="clawback_tax_rate: is a TOML float"):
        terms_of(data, "t")
    with pytest.raises(ImportRejected, match=r"clawback_tax_rate: must be in \[0, 1\), got 1"):
        terms_of(deal_terms(clawback_tax_rate="1"), "t")
    assert terms_of(deal_terms(clawback_tax_rate="0.45")).clawback_tax_rate == Decimal("0.45")
