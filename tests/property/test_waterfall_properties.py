"""Invariants of the waterfall, loss allocation and multiples, over generated funds."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from ledger.money import round_minor
from ledger.returns import multiples
from ledger.waterfall import (
    Contribution,
    Distribution,
    Position,
    RecipientHistory,
    TrancheCapital,
    WaterfallState,
    allocate_loss,
    load_waterfall_toml,
    run_waterfall,
    waterfall_from_mapping,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "waterfalls"
BLENDED = load_waterfall_toml((FIXTURES / "blended_fund.toml").read_text(), "blended_fund.toml")
EUROPEAN = load_waterfall_toml((FIXTURES / "european_8pct_carry.toml").read_text(), "european_8pct_carry.toml")
CAPPED_NO_POOL = waterfall_from_mapping({
    "name": "capped", "mode": "whole_fund",
    "tranches": [{"id": "senior", "rank": 1}, {"id": "junior", "rank": 2}, {"id": "grant", "rank": 3,
                                                                            "repayable": False}],
    "tiers": [
        {"kind": "return_of_capital", "tranche": "all"},
        {"kind": "preferred_return", "tranche": "all", "rate": "0.07", "compounding": "simple",
         "day_count": "30/360"},
        {"kind": "capped_return", "tranche": "junior", "cap_amount": "1000.00"},
    ],
}, "capped")
DEALS = waterfall_from_mapping({
    "name": "deals", "mode": "deal_by_deal", "tranches": [{"id": "lp", "rank": 1}],
    "tiers": [
        {"kind": "return_of_capital"},
        {"kind": "preferred_return", "rate": "0.08", "compounding": "compound", "day_count": "ACT/360"},
        {"kind": "catch_up", "percentage": "0.5", "carry_share": "0.2", "recipient": "gp"},
        {"kind": "carried_interest", "carry_share": "0.2", "recipient": "gp"},
    ],
}, "deals")

DAY = date(2023, 1, 1)
PROJECTS = ("P1", "P2")
days = st.integers(0, 5 * 365).map(lambda n: DAY - timedelta(days=n))
pence = st.integers(1, 10**9)
cash = st.integers(0, 5 * 10**9)


@st.composite
def positions(draw, tranches: tuple[str, ...], kinds: tuple[str, ...]) -> tuple[Position, ...]:
    result = []
    for tranche in tranches:
        for number in range(draw(st.integers(1, 3))):
            # One contribution to each project, so every deal has capital to share gains by.
            contributions = tuple(Contribution(draw(days), draw(pence), project) for project in PROJECTS)
            contributions += tuple(draw(st.lists(st.builds(Contribution, days, pence, st.sampled_from(PROJECTS)),
                                                 max_size=3)))
            prior = tuple(draw(st.lists(
                st.builds(Distribution, days, st.sampled_from(kinds), st.integers(0, 10**8),
                          st.sampled_from(PROJECTS)),
                max_size=3)))
            result.append(Position(f"{tranche}-{number}", tranche, 0, contributions, prior))
    return tuple(result)


def everything_adds_up(result, cash_pence: int) -> None:
    assert result.distributed_pence + result.undistributed_pence == cash_pence
    assert all(line.amount_pence > 0 for tier in result.tiers for line in tier.lines)
    assert sum(party.total_pence for party in result.parties) == result.distributed_pence
    assert result.undistributed_pence >= 0


@given(positions(("senior", "junior", "grant"), ("return_of_capital", "preferred_return")), cash)
def test_blended_runs_distribute_exactly_the_cash(state_positions, cash_pence):
    result = run_waterfall(BLENDED, cash_pence, DAY, WaterfallState(state_positions))
    everything_adds_up(result, cash_pence)
    assert result.undistributed_pence == 0  # the pool takes the rest
    assert all(party.total_pence == 0 for party in result.parties if party.tranche == "grant")


@given(positions(("lp",), ("return_of_capital", "preferred_return", "catch_up", "carry")), cash,
       st.integers(0, 10**8))
def test_european_runs_distribute_exactly_the_cash(state_positions, cash_pence, prior_carry_pence):
    recipients = (RecipientHistory("manager", (Distribution(DAY, "carry", prior_carry_pence),)),)
    result = run_waterfall(EUROPEAN, cash_pence, DAY, WaterfallState(state_positions, recipients))
    everything_adds_up(result, cash_pence)
    assert result.undistributed_pence == 0


@given(positions(("senior", "junior", "grant"), ("return_of_capital", "preferred_return")), cash)
def test_capped_runs_report_what_they_cannot_distribute(state_positions, cash_pence):
    result = run_waterfall(CAPPED_NO_POOL, cash_pence, DAY, WaterfallState(state_positions))
    everything_adds_up(result, cash_pence)


@given(positions(("lp",), ("return_of_capital", "preferred_return", "catch_up", "carry")),
       st.fixed_dictionaries({project: cash for project in PROJECTS}))
def test_deal_by_deal_runs_distribute_exactly_each_deals_proceeds(state_positions, proceeds):
    result = run_waterfall(DEALS, proceeds, DAY, WaterfallState(state_positions))
    everything_adds_up(result, sum(proceeds.values()))
    for project, amount in proceeds.items():
        assert sum(t.paid_pence for t in result.tiers if t.project == project) == amount


@given(positions(("senior", "junior", "grant"), ("return_of_capital",)), cash)
def test_no_tranche_exceeds_its_cap(state_positions, cash_pence):
    """Senior: capital + 5% simple; junior: capital + 8% compound; grant: nothing, ever."""
    result = run_waterfall(BLENDED, cash_pence, DAY, WaterfallState(state_positions))
    for position in state_positions:
        got = result.party(position.investor, position.tranche)
        contributed = sum(c.amount_pence for c in position.contributions)
        returned = sum(d.amount_pence for d in position.distributions)
        assert got.return_of_capital_pence <= max(0, contributed - returned)
        if position.tranche == "senior":
            # Independent check of the cap: simple interest on each dated capital movement.
            accrued = sum(Fraction(c.amount_pence) * Fraction(5, 100) * Fraction((DAY - c.day).days, 365)
                          for c in position.contributions)
            accrued -= sum(Fraction(d.amount_pence) * Fraction(5, 100) * Fraction((DAY - d.day).days, 365)
                           for d in position.distributions)
            assert got.income_pence <= max(0, round_minor(accrued))
        if position.tranche == "grant":
            assert got.total_pence == 0
        assert got.gains_pence == 0  # capped tranches never share in the excess


tranche_capital = st.lists(st.tuples(st.sampled_from("ABCDE"), st.integers(0, 10**9)), min_size=0, max_size=4)


@given(st.lists(tranche_capital, min_size=1, max_size=5), st.integers(0, 6 * 10**9))
def test_first_loss_absorbs_losses_before_others(capitals, loss_pence):
    tranches = [TrancheCapital(f"t{rank}", rank, tuple(capital)) for rank, capital in enumerate(capitals, start=1)]
    allocation = allocate_loss(loss_pence, tranches)
    assert sum(line.absorbed_pence for line in allocation.lines) + allocation.unabsorbed_pence == loss_pence
    absorbed = {t.tranche: allocation.absorbed_by_tranche(t.tranche) for t in tranches}
    for tranche in tranches:
        assert 0 <= absorbed[tranche.tranche] <= tranche.total_pence
        if absorbed[tranche.tranche] > 0:
            # Every more junior tranche (higher rank) was used up first.
            for junior in tranches:
                if junior.rank > tranche.rank:
                    assert absorbed[junior.tranche] == junior.total_pence
    if allocation.unabsorbed_pence:
        assert all(absorbed[t.tranche] == t.total_pence for t in tranches)


@given(st.integers(0, 10**12), st.integers(0, 10**12), st.integers(-10**12, 10**12), st.integers(0, 8))
def test_tvpi_is_dpi_plus_rvpi(paid_in_pence, distributed_pence, nav_pence, places):
    result = multiples(paid_in_pence, distributed_pence, nav_pence, places=places)
    if paid_in_pence == 0:
        assert result.is_na
        return
    assert result.tvpi == result.dpi + result.rvpi
    assert result.tvpi_exact == result.dpi_exact + result.rvpi_exact
    assert result.tvpi_exact == Fraction(distributed_pence + nav_pence, paid_in_pence)
    # Displayed TVPI and DPI are each within half a display unit of the exact ratio.
    half_unit = Fraction(1, 2 * 10**places)
    assert abs(Fraction(result.tvpi) - result.tvpi_exact) <= half_unit
    assert abs(Fraction(result.dpi) - result.dpi_exact) <= half_unit
