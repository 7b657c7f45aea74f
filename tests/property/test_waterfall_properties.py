"""Invariants of the waterfall, loss allocation and multiples, over generated funds."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from ledger.money import round_minor
from tests.unit.test_waterfall_examples import history_after
from ledger.returns import multiples
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


# ---------------------------------------------------------------------------------------------
# Catch-up exactness, per-deal exits and clawback (issue #15 item 5)
# ---------------------------------------------------------------------------------------------

shares = st.integers(1, 99).map(lambda n: Decimal(n) / 100)  # carry share 0.01 .. 0.99
exit_days = st.integers(0, 2 * 365).map(lambda n: DAY + timedelta(days=n))  # after every contribution
lp_positions = st.lists(st.tuples(days, pence), min_size=1, max_size=3)


def catch_up_terms(percentage: Decimal, share: Decimal, residue: str):
    return waterfall_from_mapping({
        "name": "cu", "mode": "whole_fund", "residue": residue, "tranches": [{"id": "lp", "rank": 1}],
        "tiers": [
            {"kind": "return_of_capital"},
            {"kind": "preferred_return", "rate": "0.08", "compounding": "compound", "day_count": "ACT/365F"},
            {"kind": "catch_up", "percentage": str(percentage), "carry_share": str(share), "recipient": "gp"},
            {"kind": "carried_interest", "carry_share": str(share), "recipient": "gp"},
        ],
    }, "cu")


def profit_and_carry(state: WaterfallState) -> tuple[int, int]:
    profit = sum(d.amount_pence for p in state.positions for d in p.distributions if d.kind != "return_of_capital")
    carry = sum(d.amount_pence for r in state.recipients for d in r.distributions)
    return profit + carry, carry


@given(st.data(), shares, st.sampled_from(("investors", "recipient")), lp_positions,
       st.lists(st.integers(0, 5 * 10**9), min_size=1, max_size=3))
def test_catch_up_leaves_the_recipient_exactly_its_share_at_any_percentage(data, share, residue, lps, cashes):
    percentage = data.draw(st.integers(int(share * 100) + 1, 100).map(lambda n: Decimal(n) / 100))
    terms = catch_up_terms(percentage, share, residue)
    state = WaterfallState(tuple(Position(f"lp{i}", "lp", 0, (Contribution(d, amount),))
                                 for i, (d, amount) in enumerate(lps)))
    for step, cash_pence in enumerate(cashes):
        day = DAY + timedelta(days=30 * step)
        result = run_waterfall(terms, cash_pence, day, state)
        everything_adds_up(result, cash_pence)
        state = history_after(state, result, day)
        profits, carry = profit_and_carry(state)
        exact = Fraction(share) * profits
        target = int(exact) if residue == "investors" or exact.denominator == 1 else int(exact) + 1
        assert carry <= target  # never a penny over its share
        if result.tiers[3].paid_pence:  # the catch-up completed and carry ran: exactly its share
            assert carry == target


@given(positions(("lp",), ("return_of_capital", "preferred_return")),
       st.fixed_dictionaries({project: st.tuples(exit_days, cash) for project in PROJECTS}))
def test_each_deal_runs_to_its_own_exit_date_as_if_alone(state_positions, exits):
    state = WaterfallState(state_positions)
    together = run_waterfall(DEALS, {p: Exit(d, amount) for p, (d, amount) in exits.items()}, None, state)
    everything_adds_up(together, sum(amount for _, amount in exits.values()))
    for project, (day, amount) in exits.items():
        alone = run_waterfall(DEALS, {project: amount}, day, state)
        assert [(t.index, t.lines, t.day) for t in together.tiers if t.project == project] == [
            (t.index, t.lines, t.day) for t in alone.tiers]


DEALS_CARRY = waterfall_from_mapping({
    "name": "deal carry", "mode": "deal_by_deal", "tranches": [{"id": "lp", "rank": 1}],
    "tiers": [
        {"kind": "return_of_capital"},
        {"kind": "preferred_return", "rate": "0.06", "compounding": "compound", "day_count": "ACT/365F"},
        {"kind": "catch_up", "percentage": "0.8", "carry_share": "0.2", "recipient": "gp"},
        {"kind": "carried_interest", "carry_share": "0.2", "recipient": "gp"},
    ],
}, "deal carry")


@st.composite
def deal_histories(draw):
    """Investors in some of three deals; each deal exits on its own date; the history is the
    deal-by-deal result, as the ledger records it."""
    projects = ("D1", "D2", "D3")
    start = DAY - timedelta(days=4 * 365)
    lps = []
    for number in range(draw(st.integers(1, 3))):
        held = draw(st.lists(st.sampled_from(projects), min_size=1, max_size=3, unique=True))
        lps.append(Position(f"lp{number}", "lp", 0, tuple(Contribution(start, draw(pence), p) for p in held)))
    state = WaterfallState(tuple(lps))
    funded = sorted({c.project for p in lps for c in p.contributions})
    exits = {p: Exit(start + timedelta(days=draw(st.integers(30, 4 * 365))), draw(cash)) for p in funded}
    result = run_waterfall(DEALS_CARRY, exits, None, state)
    positions = tuple(Position(p.investor, p.tranche, 0, p.contributions, tuple(
        Distribution(t.day, line.kind, line.amount_pence, t.project) for t in result.tiers for line in t.lines
        if line.party == p.investor)) for p in lps)
    gp = tuple(Distribution(t.day, line.kind, line.amount_pence, t.project) for t in result.tiers
               for line in t.lines if line.tranche is None)
    return WaterfallState(positions, (RecipientHistory("gp", gp),)), max(e.day for e in exits.values())


@given(deal_histories())
def test_clawback_is_never_negative_and_conserves_what_it_returns(history_and_end):
    history, end = history_and_end
    clawback = compute_clawback(DEALS_CARRY, history, end)
    assert clawback.clawback_pence >= 0
    assert clawback.clawback_pence == min(clawback.excess_carry_pence, clawback.investors_shortfall_pence)
    if clawback.deal_by_deal_carry_pence <= clawback.whole_fund_carry_pence:
        assert clawback.clawback_pence == 0
    else:
        assert clawback.excess_carry_pence == clawback.deal_by_deal_carry_pence - clawback.whole_fund_carry_pence
    assert sum(s.returned_pence for s in clawback.shares) == clawback.clawback_pence
    assert all(0 <= s.returned_pence <= s.shortfall_pence for s in clawback.shares)
    # The replay distributes the same cash as the history, day by day.
    assert sum(r.cash_pence for r in clawback.replay) == sum(
        d.amount_pence for p in history.positions for d in p.distributions) + sum(
        d.amount_pence for r in history.recipients for d in r.distributions)
