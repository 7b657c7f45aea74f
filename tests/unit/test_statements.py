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


def test_income_by_group_is_pro_rata_to_paid_in_and_conserves():
    moves = base_movements() + [Movement(date(2026, 2, 1), "interest_income", SI, "senior", None, None, -1_000_01)]
    accounts = build_capital_accounts(moves, TERMS, Q1)
    q1 = accounts.moves["2026Q1"]
    assert q1[("a", SI, "senior", None)]["interest_income"] == 600_01  # 60% of 1,000.01, the odd penny to a
    assert q1[("b", SI, "senior", None)]["interest_income"] == 400_00
    assert "interest_income" not in q1[("g", CH, "first-loss", None)]


def test_first_loss_absorbs_a_write_down_before_senior():
    moves = base_movements() + [Movement(date(2026, 3, 1), "write_downs", SI, "senior", None, None, 25_000_00)]
    q1 = build_capital_accounts(moves, TERMS, Q1).moves["2026Q1"]
    # The grant's £20,000 goes first; the remaining £5,000 falls on senior 60:40.
    assert q1[("g", CH, "first-loss", None)]["unrealised_gains_losses"] == -20_000_00
    assert q1[("a", SI, "senior", None)]["unrealised_gains_losses"] == -3_000_00
    assert q1[("b", SI, "senior", None)]["unrealised_gains_losses"] == -2_000_00


def test_a_plain_distribution_is_capital_first_then_gains_and_carry_is_allocated():
    moves = base_movements() + [
        Movement(date(2026, 5, 1), "distributions", SI, "senior", None, "a", 61_000_00),
        Movement(date(2026, 5, 1), "distributions", SI, None, None, "community-pool", 1_000_00),
    ]
    accounts = build_capital_accounts(moves, TERMS, Q2, investors=frozenset({"a", "b", "g"}))
    q2 = accounts.moves["2026Q2"]
    assert q2[("a", SI, "senior", None)]["distributions_return_of_capital"] == -60_000_00
    assert q2[("a", SI, "senior", None)]["distributions_gains"] == -1_000_00
    # The pool's £1,000 is charged to everyone pro rata to paid-in (60:40:20).
    assert [q2[(h, s, t, None)]["carry_and_community_pool"] for h, s, t in
            (("a", SI, "senior"), ("b", SI, "senior"), ("g", CH, "first-loss"))] == [-500_00, -333_33, -166_67]


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
    assert account.qtd.beginning_pence == 66_000_00  # 60,000 + 60% of the 10,000 outcome payment
    assert account.qtd.line("fees_and_expenses") == -600_00
    assert account.itd.beginning_pence == 0 and account.itd.ending_pence == 65_400_00
    assert account.ytd.ending_pence == account.qtd.ending_pence == 65_400_00
    c = statement.commitment("qtd")
    assert (c.total_commitment_pence, c.beginning_unfunded_pence, c.ending_unfunded_pence) == (100_000_00, 40_000_00,
                                                                                                 40_000_00)
    perf = statement.performance
    assert perf.paid_in_pence == 60_000_00 and perf.nav_pence == 65_400_00
    assert str(perf.tvpi) == "1.0900" and perf.dpi + perf.rvpi == perf.tvpi
    assert perf.irr is not None and perf.irr > 0
    html = render_html(statement)
    assert "65,400.00" in html and html == render_html(statement)
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
