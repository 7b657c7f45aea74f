"""Published worked examples of each waterfall style, run through Fuel's waterfall to the penny.

Each test names its source. Sources give whole currency units (dollars or pounds); the tests
scale them to pence exactly (x 100) and treat the currency as GBP, which changes nothing in the
arithmetic. Where a test goes beyond the published figures (an 80% catch-up on the published
fund, a net-of-tax variant), the extra figures are derived by hand in the comments.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

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
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "waterfalls"
POUND = 100
MILLION = 1_000_000 * POUND


def fixture(name: str):
    return load_waterfall_toml((FIXTURES / name).read_text(), name)


def european(percentage: str):
    """8% compound pref, ``percentage`` catch-up to 20%, then 80/20 (the European fixture's tiers)."""
    return waterfall_from_mapping({
        "name": f"European 8% pref, {percentage} catch-up", "mode": "whole_fund",
        "tranches": [{"id": "lp", "rank": 1}],
        "tiers": [
            {"kind": "return_of_capital"},
            {"kind": "preferred_return", "rate": "0.08", "compounding": "compound", "day_count": "ACT/365F"},
            {"kind": "catch_up", "percentage": percentage, "carry_share": "0.20", "recipient": "gp"},
            {"kind": "carried_interest", "carry_share": "0.20", "recipient": "gp"},
        ],
    }, "european")


def history_after(state: WaterfallState, result, day: date) -> WaterfallState:
    """The state with a run's lines added as prior distributions on ``day``."""
    positions = tuple(
        Position(p.investor, p.tranche, p.commitment_pence, p.contributions, p.distributions + tuple(
            Distribution(tier.day or day, line.kind, line.amount_pence, tier.project)
            for tier in result.tiers for line in tier.lines if (line.party, line.tranche) == (p.investor, p.tranche)))
        for p in state.positions
    )
    recipients: dict[str, tuple[Distribution, ...]] = {r.recipient: r.distributions for r in state.recipients}
    for tier in result.tiers:
        for line in tier.lines:
            if line.tranche is None:
                dist = Distribution(tier.day or day, line.kind, line.amount_pence, tier.project)
                recipients[line.party] = recipients.get(line.party, ()) + (dist,)
    return WaterfallState(positions, tuple(RecipientHistory(r, d) for r, d in sorted(recipients.items())))


# ---------------------------------------------------------------------------------------------
# European whole fund: 8% preferred return, 100% and 80% catch-up
# ---------------------------------------------------------------------------------------------

CFA_START, CFA_SALE = date(2021, 1, 1), date(2022, 1, 1)  # "Year 1" to "Year 2": 365 days, one year
CFA_STATE = WaterfallState((Position("lp", "lp", 50 * MILLION, (Contribution(CFA_START, 50 * MILLION),)),))


def test_european_full_catch_up_cfa_caia_example():
    """The CFA / CAIA curriculum-style example as worked at AnalystForum ("How is the catch-up
    rate calculated?", analystforum.com/t/124656, solution quoted in /t/154723): the LP contributes
    50m in year 1; hurdle 8%, full (100%) catch-up, 80/20 carry; the investment is sold for 100m in
    year 2. Published: LP 50m capital + 4m hurdle + 36m = 90m; GP 1m catch-up + 9m = 10m."""
    result = run_waterfall(european("1"), 100 * MILLION, CFA_SALE, CFA_STATE)
    assert [tier.paid_pence for tier in result.tiers] == [50 * MILLION, 4 * MILLION, 1 * MILLION, 45 * MILLION]
    assert result.paid_by_tier(3, "lp", "lp") == 36 * MILLION
    assert result.paid_by_tier(3, "gp") == 9 * MILLION
    assert result.party("lp", "lp").total_pence == 90 * MILLION
    assert result.party("gp").gains_pence == 10 * MILLION


def test_european_eighty_percent_catch_up_on_the_same_fund():
    """The same published fund with an 80% catch-up (derived). The catch-up is complete at cash
    c* = 0.2 * 4m / (0.8 - 0.2) = 1,333,333.33..., so it pays the first whole penny past it,
    1,333,333.34, and the GP then holds exactly 20% of the 5,333,333.34 of profit so far,
    1,066,666.668 -> 1,066,666.66 (the fraction of a penny to the LP, ``residue = "investors"``);
    the LP takes 266,666.68. The carry tier tops the GP up to 20% of the whole 50m profit: it ends
    with exactly 10,000,000.00, as with a full catch-up, because the cash covers the catch-up."""
    result = run_waterfall(european("0.8"), 100 * MILLION, CFA_SALE, CFA_STATE)
    assert result.tiers[2].paid_pence == 133_333_334
    assert result.paid_by_tier(2, "gp") == 106_666_666
    assert result.paid_by_tier(2, "lp", "lp") == 26_666_668
    # 100m - 50m - 4m - 1,333,333.34 = 44,666,666.66 left: GP 10m - 1,066,666.66 = 8,933,333.34.
    assert result.paid_by_tier(3, "gp") == 893_333_334
    assert result.paid_by_tier(3, "lp", "lp") == 3_573_333_332
    assert result.party("gp").gains_pence == 10 * MILLION
    assert result.party("lp", "lp").total_pence == 90 * MILLION


def test_eighty_percent_catch_up_interrupted_by_a_short_distribution():
    """The same fund paid in two distributions (derived): 55m on the sale date runs out 1m into the
    catch-up (GP 80% = 800,000.00, LP 200,000.00); 45m six months later completes it and the GP
    still ends with exactly 10,000,000.00, the single-distribution figure."""
    terms = european("0.8")
    first = run_waterfall(terms, 55 * MILLION, CFA_SALE, CFA_STATE)
    assert first.paid_by_tier(2, "gp") == 800_000 * POUND
    assert first.paid_by_tier(2, "lp", "lp") == 200_000 * POUND
    later = date(2022, 7, 1)
    second = run_waterfall(terms, 45 * MILLION, later, history_after(CFA_STATE, first, CFA_SALE))
    # Capital and pref were paid on the sale date, so nothing more accrues: 4m * 1.08^t - 4m * 1.08^t.
    assert second.tiers[0].paid_pence == second.tiers[1].paid_pence == 0
    # Profits so far 4.2m (LP) + 0.8m (GP): c* = (0.2 * 5m - 0.8m) / 0.6 = 333,333.33 -> 333,333.34;
    # GP to 20% of 5,333,333.34 = 1,066,666.66, i.e. 266,666.66 more; LP 66,666.68.
    assert second.paid_by_tier(2, "gp") == 26_666_666
    assert second.paid_by_tier(2, "lp", "lp") == 6_666_668
    assert first.party("gp").gains_pence + second.party("gp").gains_pence == 10 * MILLION
    assert first.party("lp", "lp").total_pence + second.party("lp", "lp").total_pence == 90 * MILLION


# ---------------------------------------------------------------------------------------------
# Deal by deal, with the clawback at the fund's end
# ---------------------------------------------------------------------------------------------

DEALS = waterfall_from_mapping({
    "name": "Deal by deal, 20% carry", "mode": "deal_by_deal", "tranches": [{"id": "lp", "rank": 1}],
    "tiers": [{"kind": "return_of_capital"}, {"kind": "carried_interest", "carry_share": "0.20", "recipient": "gp"}],
}, "deals")
FUND_START, WINNER_EXIT, LOSER_EXIT = date(2021, 1, 1), date(2023, 6, 30), date(2025, 12, 31)


def run_deals(terms, state):
    """Deal 1 is sold for 4x on its own date; deal 2 is a complete loss, written off later."""
    result = run_waterfall(terms, {"D1": Exit(WINNER_EXIT, 2 * MILLION), "D2": Exit(LOSER_EXIT, 0)}, None, state)
    return result, history_after(state, result, WINNER_EXIT)


def test_deal_by_deal_carry_and_clawback_sydecar_example():
    """Sydecar's glossary, "Clawback" (sydecar.io/glossary/clawback): a $1M fund makes 2 deals of
    $500k each; deal 1 returns 4x, $2M, and in an American waterfall the GP takes $300k of carry at
    20%; deal 2 is a complete loss. Over the whole fund, $2M came back on $1M: $1M of profit, so
    20% carry is $200k and the GP's $300k is 30%. The clawback returns the $100k excess."""
    state = WaterfallState((Position("lp", "lp", 1 * MILLION, (Contribution(FUND_START, MILLION // 2, "D1"),
                                                                Contribution(FUND_START, MILLION // 2, "D2"))),))
    result, history = run_deals(DEALS, state)
    assert result.party("gp").gains_pence == 300_000 * POUND
    assert [t.day for t in result.tiers] == [WINNER_EXIT] * 2 + [LOSER_EXIT] * 2
    clawback = compute_clawback(DEALS, history, LOSER_EXIT)
    assert clawback.carry_by_deal == (("D1", 300_000 * POUND),)
    assert clawback.whole_fund_carry_pence == 200_000 * POUND
    assert clawback.clawback_pence == 100_000 * POUND
    # The LP got 500k + 1.2m = 1.7m deal by deal; the whole fund gives it 1m + 800k = 1.8m.
    [share] = clawback.shares
    assert (share.deal_by_deal_pence, share.whole_fund_pence, share.returned_pence) == (
        1_700_000 * POUND, 1_800_000 * POUND, 100_000 * POUND)


def test_clawback_goes_to_the_investors_the_whole_fund_result_says():
    """The Sydecar fund with deal 1 funded by A and deal 2 (the loss) by B (derived): deal by deal
    A gets 1.7m and B nothing; the whole fund returns both 500k and splits the 800k LP carry
    50:50, so A would get 900k and B 900k. Only B is short, so all 100k goes to B."""
    state = WaterfallState((
        Position("A", "lp", MILLION // 2, (Contribution(FUND_START, MILLION // 2, "D1"),)),
        Position("B", "lp", MILLION // 2, (Contribution(FUND_START, MILLION // 2, "D2"),)),
    ))
    _, history = run_deals(DEALS, state)
    clawback = compute_clawback(DEALS, history, LOSER_EXIT)
    assert [(s.investor, s.whole_fund_pence, s.returned_pence) for s in clawback.shares] == [
        ("A", 900_000 * POUND, 0), ("B", 900_000 * POUND, 100_000 * POUND)]


def test_clawback_net_of_tax_is_capped_at_the_after_tax_carry():
    """ILPA Principles 3.0 (p. 11) prefers clawback gross of tax; where terms say net of tax the GP
    returns at most the carry it received after tax. On the Sydecar fund (derived): at 40%,
    300k * 0.6 = 180k covers the 100k excess; at 70%, only 90k can be clawed back."""
    state = WaterfallState((Position("lp", "lp", MILLION, (Contribution(FUND_START, MILLION // 2, "D1"),
                                                           Contribution(FUND_START, MILLION // 2, "D2"))),))
    for rate, expected_pounds in (("0.40", 100_000), ("0.70", 90_000)):
        terms = waterfall_from_mapping({
            "name": "net", "mode": "deal_by_deal", "clawback_tax_rate": rate, "tranches": [{"id": "lp", "rank": 1}],
            "tiers": [{"kind": "return_of_capital"},
                      {"kind": "carried_interest", "carry_share": "0.20", "recipient": "gp"}],
        }, "net")
        assert terms.clawback_tax_rate == Decimal(rate)
        _, history = run_deals(terms, state)
        assert compute_clawback(terms, history, LOSER_EXIT).clawback_pence == expected_pounds * POUND


# ---------------------------------------------------------------------------------------------
# Blended: senior capped, junior, first-loss grant, community pool
# ---------------------------------------------------------------------------------------------

GROWTH_START, GROWTH_END = date(2021, 1, 1), date(2024, 1, 1)  # 1,095 days: 3 years on ACT/365F
GROWTH_FUND = WaterfallState((
    Position("big-society-capital", "senior", 22_500_000 * POUND, (Contribution(GROWTH_START, 22_500_000 * POUND),)),
    Position("co-investor", "junior", 400_000 * POUND, (Contribution(GROWTH_START, 400_000 * POUND),)),
    Position("lottery-fund", "grant", 22_500_000 * POUND, (Contribution(GROWTH_START, 22_500_000 * POUND),)),
))


def test_blended_growth_fund_structure_caps_the_senior_and_recycles_the_excess():
    """The capital structure of Access's Growth Fund: £45m blending a £22.5m Big Lottery Fund grant
    with a £22.5m Big Society Capital loan, the grant "to combine with loan finance ... allowing
    the social investor to take greater risk" (access-socialinvestment.org.uk/growth-fund/
    how-the-growth-fund-works/; Third Sector, "Blended finance from the Growth Fund is imminent",
    2015), with a £400,000 junior co-investment like the South West AHSN's in Resonance's Growth
    Fund-backed Health and Wellbeing Challenge Fund. The tiers are ``blended_fund.toml``'s (senior
    capped at 5% simple, junior at 8% compound, the grant never repaid, the excess to the pool);
    the cash figures are hand-derived.

    £50m back after 3 years: senior 22.5m + 22.5m * 0.05 * 3 = 3,375,000; junior 400,000 +
    400,000 * (1.08^3 - 1) = 400,000 * 0.259712 = 103,884.80; the pool 50m - 25,875,000 -
    503,884.80 = 23,621,115.20; the grant nothing."""
    result = run_waterfall(fixture("blended_fund.toml"), 50 * MILLION, GROWTH_END, GROWTH_FUND)
    senior, junior = result.party("big-society-capital", "senior"), result.party("co-investor", "junior")
    assert (senior.return_of_capital_pence, senior.income_pence) == (22_500_000 * POUND, 3_375_000 * POUND)
    assert (junior.return_of_capital_pence, junior.income_pence) == (400_000 * POUND, 10_388_480)
    assert result.party("community_pool").gains_pence == 2_362_111_520
    assert result.party("lottery-fund", "grant").total_pence == 0


def test_blended_growth_fund_losses_reach_the_senior_last():
    """The same structure when the lending goes badly (hand-derived). £26m back: the senior takes
    its 22.5m and its 3,375,000 return, the junior 125,000 of its 400,000, the pool nothing. A
    £23m write-down is absorbed by the grant (22.5m), then the junior (400,000), and only the last
    100,000 by the senior."""
    result = run_waterfall(fixture("blended_fund.toml"), 26 * MILLION, GROWTH_END, GROWTH_FUND)
    assert result.party("big-society-capital", "senior").total_pence == 25_875_000 * POUND
    assert result.party("co-investor", "junior").total_pence == 125_000 * POUND
    assert result.party("community_pool").total_pence == 0
    loss = allocate_loss(23 * MILLION, [
        TrancheCapital("senior", 1, (("big-society-capital", 22_500_000 * POUND),)),
        TrancheCapital("junior", 2, (("co-investor", 400_000 * POUND),)),
        TrancheCapital("grant", 3, (("lottery-fund", 22_500_000 * POUND),)),
    ])
    assert [(line.tranche, line.absorbed_pence) for line in loss.lines] == [
        ("grant", 22_500_000 * POUND), ("junior", 400_000 * POUND), ("senior", 100_000 * POUND)]
