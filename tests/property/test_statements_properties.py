"""Capital accounts over random funds and histories: every penny conserved, each position valued
at what the fund's waterfall would pay it in a liquidation at book value, caps hold, losses
reach the senior only after the first loss and the juniors, and every statement rolls forward
in each column."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import given, strategies as st

from ledger.capital_accounts import (
    LINES,
    WATERFALL_LINES,
    Movement,
    build_capital_accounts,
    load_fund_terms,
    waterfall_state_from,
)
from ledger.funds import Commitment, Fund, Party, Tranche
from ledger.liquidation import liquidate
from ledger.periods import Period
from ledger.statements import StatementInputs, assemble_statements

TERMS = load_fund_terms(Path(__file__).resolve().parents[2] / "fixtures" / "funds" / "example_fund_terms.toml")
START = date(2026, 1, 1)
THROUGH = Period.parse("2026Q4")
GROUPS = [("social_investment", "senior"), ("public", "junior"), ("charitable", "first-loss")]
INVESTORS = ("i1", "i2", "i3")
POOL = ("community-pool", None, None, None)

contribution = st.tuples(st.integers(0, 360), st.sampled_from(INVESTORS), st.integers(0, 2),
                         st.integers(1, 10_000_000))
pnl = st.tuples(st.integers(0, 360), st.sampled_from(["interest_income", "outcome_income", "management_fees",
                                                      "fund_expenses", "write_downs", "realised_losses",
                                                      "valuation_gains", "realised_gains"]),
                st.integers(0, 2), st.integers(1, 4_000_000))
payout = st.tuples(st.integers(0, 360), st.sampled_from([*INVESTORS, "community-pool"]), st.integers(1, 3_000_000))


def movements(contribs, pnls, payouts=()):
    out = [Movement(START + timedelta(days=d), "grant_capital" if g == 2 else "contributed_capital",
                    GROUPS[g][0], GROUPS[g][1], None, who, -amount) for d, who, g, amount in contribs]
    first = min(d for d, *_ in contribs)
    for d, account, g, amount in pnls:
        sign = -1 if account in ("interest_income", "outcome_income", "valuation_gains", "realised_gains") else 1
        out.append(Movement(START + timedelta(days=max(d, first)), account, GROUPS[g][0], GROUPS[g][1], None, None,
                            sign * amount))
    senior_paid = {}
    for d, who, g, amount in contribs:
        if g == 0:
            senior_paid[who] = senior_paid.get(who, 0) + amount
    for d, who, amount in payouts:
        day = START + timedelta(days=360 + d % 5)  # after every contribution
        if who == "community-pool":
            out.append(Movement(day, "distributions", "social_investment", None, None, who, amount, "gains",
                                kind="excess"))
        elif senior_paid.get(who):  # a senior investor repaid part of its unreturned capital
            repaid = min(amount, senior_paid[who])
            senior_paid[who] -= repaid
            out.append(Movement(day, "distributions", "social_investment", "senior", None, who,
                                repaid, "return_of_capital", kind="return_of_capital"))
    return out


def commitments(contribs):
    out = {}
    for _, who, g, amount in contribs:
        out[(who, GROUPS[g][1])] = out.get((who, GROUPS[g][1]), 0) + amount
    return out


histories = st.tuples(st.lists(contribution, min_size=1, max_size=8), st.lists(pnl, max_size=10),
                      st.lists(payout, max_size=3))


@given(histories)
def test_positions_add_up_to_net_assets_and_each_is_its_liquidation_value(history):
    contribs, pnls, payouts = history
    moves = movements(contribs, pnls, payouts)
    accounts = build_capital_accounts(moves, TERMS, THROUGH, frozenset(INVESTORS), (), commitments(contribs))
    net_assets = -sum(m.amount_pence for m in moves)
    assert sum(accounts.ending(p, THROUGH) for p in accounts.positions) == net_assets
    for quarter, moved in accounts.moves.items():
        for line in LINES:
            total = sum(lines.get(line, 0) for lines in moved.values())
            assert total == (0 if line in WATERFALL_LINES else accounts.fund_totals[quarter].get(line, 0))
    state = waterfall_state_from(moves, TERMS, frozenset(INVESTORS))
    value = liquidate(TERMS.waterfall, net_assets, THROUGH.last_day, state)
    for position in accounts.positions:
        holder, _, tranche, _ = position
        assert accounts.ending(position, THROUGH) == value.value(holder, tranche), position


@given(histories)
def test_no_capped_tranche_exceeds_its_cap(history):
    contribs, pnls, payouts = history
    moves = movements(contribs, pnls, payouts)
    accounts = build_capital_accounts(moves, TERMS, THROUGH, frozenset(INVESTORS), (), commitments(contribs))
    years = Decimal((THROUGH.last_day - START).days) / 365
    caps = {"senior": 1 + Decimal("0.05") * years, "junior": (1 + Decimal("0.08")) ** years}
    for position in accounts.positions:
        holder, _, tranche, _ = position
        if tranche not in caps:
            continue
        paid_in = sum(-m.amount_pence for m in moves if m.counterparty == holder and m.tranche == tranche
                      and m.account in ("contributed_capital", "grant_capital"))
        distributed = sum(m.amount_pence for m in moves if m.counterparty == holder and m.tranche == tranche
                          and m.account == "distributions")
        total_value = accounts.ending(position, THROUGH) + distributed
        assert total_value <= paid_in * caps[tranche] + 1  # TVPI never above the cap (a penny of rounding)


@given(histories)
def test_losses_reach_the_senior_only_after_the_first_loss_and_the_juniors(history):
    contribs, pnls, payouts = history
    moves = movements(contribs, pnls, payouts)
    accounts = build_capital_accounts(moves, TERMS, THROUGH, frozenset(INVESTORS), (), commitments(contribs))

    def unreturned(tranche):
        paid = sum(-m.amount_pence for m in moves if m.tranche == tranche
                   and m.account in ("contributed_capital", "grant_capital"))
        back = sum(m.amount_pence for m in moves if m.tranche == tranche and m.account == "distributions")
        return paid - back

    def held(tranche):
        return sum(accounts.ending(p, THROUGH) for p in accounts.positions if p[2] == tranche)

    assert accounts.ending(POOL, THROUGH) >= 0
    if held("senior") < unreturned("senior"):  # the senior lost capital
        assert held("junior") == 0 and held("first-loss") == 0 and accounts.ending(POOL, THROUGH) == 0
    if unreturned("junior") > 0 and held("junior") < unreturned("junior"):
        assert held("first-loss") == 0 and accounts.ending(POOL, THROUGH) == 0
    if held("first-loss") < unreturned("first-loss"):
        assert accounts.ending(POOL, THROUGH) == 0


@given(histories, st.sampled_from(["2026Q1", "2026Q2", "2026Q3", "2026Q4"]))
def test_every_statement_rolls_forward_in_each_column(history, quarter_name):
    contribs, pnls, payouts = history
    moves = movements(contribs, pnls, payouts)
    quarter = Period.parse(quarter_name)
    inputs = StatementInputs(
        fund=Fund("f", "Fund"),
        parties=tuple(Party(i, i.upper(), "investor", "social_investor") for i in INVESTORS),
        tranches=(Tranche("senior", "f", "Senior", 1), Tranche("junior", "f", "Junior", 2),
                  Tranche("first-loss", "f", "First loss", 3, "grant")),
        projects=(),
        commitments=tuple(Commitment(f"c-{who}-{tranche}", "f", tranche, who, amount, START)
                          for (who, tranche), amount in sorted(commitments(contribs).items())),
        quarter=quarter, terms=TERMS, movements=tuple(moves), disbursed=(), called=(),
        ledger_nav_pence=-sum(m.amount_pence for m in moves if m.day < quarter.end), restrictions={}, impact=(),
    )
    for statement in assemble_statements(inputs):  # check_statement raises on any broken identity
        for name in ("qtd", "ytd", "itd"):
            column = statement.capital_account.column(name)
            assert column.beginning_pence + sum(v for _, v in column.lines) == column.ending_pence
        assert statement.capital_account.itd.ending_pence == statement.performance.nav_pence
