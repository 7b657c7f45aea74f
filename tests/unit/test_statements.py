"""Capital account allocation and statement assembly with hand-checked figures (no database)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ledger.capital_accounts import Movement, build_capital_accounts, load_fund_terms
from ledger.errors import ImportRejected, InvariantBroken
from ledger.funds import Commitment, Fund, Party, Tranche
from ledger.periods import Period
from ledger.statements import StatementInputs, assemble_statements
from reports.statements import money, render_html

ROOT = Path(__file__).resolve().parents[2]
TERMS = load_fund_terms(ROOT / "fixtures" / "funds" / "example_fund_terms.toml")
SI, CH = "social_investment", "charitable"
Q1, Q2 = Period.parse("2026Q1"), Period.parse("2026Q2")


def capital(day, investor, source, tranche, pence):
    return Movement(day, "contributed_capital" if tranche != "first-loss" else "grant_capital", source, tranche,
                    None, investor, -pence)


def base_movements():
    return [
        capital(date(2026, 1, 10), "a", SI, "senior", 60_000_00),
        capital(date(2026, 1, 10), "b", SI, "senior", 40_000_00),
        capital(date(2026, 1, 12), "g", CH, "first-loss", 20_000_00),
    ]


def test_income_by_group_then_the_waterfall_values_each_position():
    """By the terms, £1,000.01 of interest in the senior group goes 60:40 to a and b. The
    waterfall (senior capital, then 5% a year simple, junior, then the community pool) values the
    fund's £121,000.01 on 31 March: senior capital £100,000, senior return for 80 days
    (60,000 x 5% x 80/365 = 657.53 and 40,000 x 5% x 80/365 = 438.36), and the first-loss grant
    holds the remaining £19,904.12 (it stands before the pool); so £95.88 of the grant's money
    covers the senior's capped return."""
    moves = base_movements() + [Movement(date(2026, 2, 1), "interest_income", SI, "senior", None, None, -1_000_01)]
    accounts = build_capital_accounts(moves, TERMS, Q1)
    q1 = accounts.moves["2026Q1"]
    a, b, g = ("a", SI, "senior", None), ("b", SI, "senior", None), ("g", CH, "first-loss", None)
    assert q1[a]["interest_income"] == 600_01 and q1[b]["interest_income"] == 400_00  # the odd penny to a
    assert "interest_income" not in q1[g]
    assert [accounts.ending(p, Q1) for p in (a, b, g)] == [60_657_53, 40_438_36, 19_904_12]
    assert (q1[a]["first_loss_protection"], q1[b]["first_loss_protection"], q1[g]["first_loss_protection"]) == (
        57_52, 38_36, -95_88)
    assert accounts.ending(("community-pool", None, None, None), Q1) == 0


def test_first_loss_absorbs_a_write_down_before_senior():
    """A £25,000 write-down in the senior group: shown on the senior's line by the terms, then
    the waterfall values the £95,000 left: senior capital first (60:40), nothing for its return
    or for the grant. The grant's £20,000 covered £20,000 of the loss; the senior lost £5,000."""
    moves = base_movements() + [Movement(date(2026, 3, 1), "write_downs", SI, "senior", None, None, 25_000_00)]
    accounts = build_capital_accounts(moves, TERMS, Q1)
    q1 = accounts.moves["2026Q1"]
    a, b, g = ("a", SI, "senior", None), ("b", SI, "senior", None), ("g", CH, "first-loss", None)
    assert (q1[a]["unrealised_gains_losses"], q1[b]["unrealised_gains_losses"]) == (-15_000_00, -10_000_00)
    assert (q1[a]["first_loss_protection"], q1[b]["first_loss_protection"], q1[g]["first_loss_protection"]) == (
        12_000_00, 8_000_00, -20_000_00)
    assert [accounts.ending(p, Q1) for p in (a, b, g)] == [57_000_00, 38_000_00, 0]


def test_a_plain_distribution_is_capital_first_and_the_pool_holds_what_exceeds_every_cap():
    """a is repaid £60,000 of capital plus £1,000 (more than its capped return of 60,000 x 5% x
    111/365 = 912.33: nothing more is due to it). The £1,000 paid to the community pool is the
    pool's own distribution. At 30 June the £58,000 left pays b's capital and 171 days of return
    (40,000 x 5% x 171/365 = 936.99); the grant holds the rest, £17,063.01, and the pool nothing."""
    moves = base_movements() + [
        Movement(date(2026, 5, 1), "distributions", SI, "senior", None, "a", 61_000_00),
        Movement(date(2026, 5, 1), "distributions", SI, None, None, "community-pool", 1_000_00),
    ]
    accounts = build_capital_accounts(moves, TERMS, Q2, investors=frozenset({"a", "b", "g"}))
    q2 = accounts.moves["2026Q2"]
    a, b, g = ("a", SI, "senior", None), ("b", SI, "senior", None), ("g", CH, "first-loss", None)
    pool = ("community-pool", None, None, None)
    assert q2[a]["distributions_return_of_capital"] == -60_000_00 and q2[a]["distributions_gains"] == -1_000_00
    assert q2[pool]["distributions_gains"] == -1_000_00
    assert [accounts.ending(p, Q2) for p in (a, b, g, pool)] == [0, 40_936_99, 17_063_01, 0]
    # The pool's distribution came out of the grant's share: shown as the grant's pool line.
    assert q2[g]["carry_and_community_pool"] == -1_000_00 and q2[pool]["carry_and_community_pool"] == 1_000_00


def test_statement_columns_and_performance_hand_checked():
    moves = base_movements() + [
        Movement(date(2026, 2, 1), "outcome_income", SI, "senior", None, "lcc", -10_000_00, None, "p1"),
        Movement(date(2026, 4, 2), "management_fees", SI, "senior", None, None, 1_000_00),
    ]
    inputs = StatementInputs(
        fund=Fund("f", "Fund"), parties=(Party("a", "A", "investor", "social_investor"),
                                         Party("b", "B", "investor", "social_investor"),
                                         Party("g", "G", "investor", "charitable_trust")),
        tranches=(Tranche("senior", "f", "Senior", 1), Tranche("junior", "f", "Junior", 2),
                  Tranche("first-loss", "f", "First loss", 3, "grant")),
        projects=(), commitments=(Commitment("c1", "f", "senior", "a", 100_000_00, date(2026, 1, 1)),),
        quarter=Q2, terms=TERMS, movements=tuple(moves), disbursed=(),
        called=((date(2026, 1, 10), "a", "senior", 60_000_00),), ledger_nav_pence=129_000_00,
        restrictions={}, impact=(),
    )
    statement = {s.investor: s for s in assemble_statements(inputs)}["a"]
    account = statement.capital_account
    # Senior capital plus its return capped at 5% a year simple: 80 days at 31 March, 171 at 30
    # June (60,000 x 5% x 171/365 = 1,405.48); the rest of the outcome payment is the pool's.
    assert account.qtd.beginning_pence == 60_657_53
    assert account.qtd.line("management_fees") == -1_000_00  # by commitment: only a has one
    assert account.itd.beginning_pence == 0 and account.itd.ending_pence == 61_405_48
    assert account.ytd.ending_pence == account.qtd.ending_pence == 61_405_48
    c = statement.commitment("qtd")
    assert (c.total_commitment_pence, c.beginning_unfunded_pence, c.ending_unfunded_pence) == (100_000_00, 40_000_00,
                                                                                                 40_000_00)
    perf = statement.performance
    assert perf.paid_in_pence == 60_000_00 and perf.nav_pence == 61_405_48
    assert str(perf.tvpi) == "1.0234" and perf.dpi + perf.rvpi == perf.tvpi
    assert perf.irr is not None and perf.irr > 0
    html = render_html(statement)
    assert "61,405.48" in html and html == render_html(statement)
    with pytest.raises(InvariantBroken):
        from dataclasses import replace

        assemble_statements(replace(inputs, ledger_nav_pence=1))


def test_no_irr_is_shown_as_na_with_a_reason():
    moves = [capital(date(2026, 1, 10), "a", SI, "senior", 100_00),
             Movement(date(2026, 1, 11), "write_downs", SI, "senior", None, None, 100_00)]
    inputs = StatementInputs(
        fund=Fund("f", "Fund"), parties=(Party("a", "A", "investor", "social_investor"),),
        tranches=(Tranche("senior", "f", "Senior", 1),), projects=(), commitments=(), quarter=Q1, terms=TERMS,
        movements=tuple(moves), disbursed=(), called=(), ledger_nav_pence=0, restrictions={}, impact=(),
    )
    perf = assemble_statements(inputs)[0].performance
    assert perf.irr is None and perf.irr_reason == "all flows have the same sign (netted by date)"
    assert "n/a (all flows have the same sign" in render_html(assemble_statements(inputs)[0])


def test_money_format_and_bad_terms():
    assert money(-123456) == "(1,234.56)" and money(5) == "0.05"
    with pytest.raises(ImportRejected) as caught:
        from ledger.capital_accounts import fund_terms_from_mapping

        fund_terms_from_mapping({"fund": "f", "allocation": {"fees": "first_loss", "nope": "by_group"}}, "t.toml", None, "")
    text = "\n".join(caught.value.problems)
    assert "t.toml.waterfall: missing" in text and "t.toml.allocation.fees: 'first_loss'" in text
    assert "t.toml.allocation.nope: unknown" in text
