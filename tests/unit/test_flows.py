"""Posting rules: one test per event kind with the exact postings expected, plus the checks."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest

from ledger.errors import MoneyError, NotFound, ValidationError
from ledger.flows import (
    EVENT_KINDS,
    RULES,
    Disbursement,
    Distribution,
    DrawdownNotice,
    DrawdownReceived,
    Fee,
    GrantReceived,
    OutcomePayment,
    Position,
    ProjectExit,
    PublicMoneyReceived,
    Repayment,
    Transfer,
    ValuationChange,
    check_cash,
    derived_key,
    event_from_data,
    posting_rule,
)
from ledger.funds import book_of_setup, fund_setup_from_mapping
from ledger.postings import Posting, check_entry, imbalances
from ledger.sources_uses import FundingGroup, attribute

ROOT = Path(__file__).resolve().parents[2]
FUND = "lcr-outcomes"
D = date(2026, 3, 2)
SI, CH, PU = "social_investment", "charitable", "public"


@pytest.fixture(scope="module")
def book():
    data = tomllib.loads((ROOT / "fixtures" / "funds" / "example_fund.toml").read_text())
    return book_of_setup(fund_setup_from_mapping(data, "example_fund.toml"))


def P(account, amount, **dims):  # noqa: N802 - reads like a table row
    return Posting(account, amount, "GBP", fund=FUND, **dims)


def funded_position(book) -> Position:
    """Senior called and paid 300,000.00; ageing grant 50,000.00; aw-homecare funded by a senior
    loan of 150,000.00 and an ageing grant of 30,000.00."""
    position = Position()
    for event in (
        DrawdownNotice(fund=FUND, effective_date=D, tranche="senior", amount_pence=30_000_000),
        DrawdownReceived(fund=FUND, effective_date=D, tranche="senior", investor="nsi", amount_pence=18_000_000),
        DrawdownReceived(fund=FUND, effective_date=D, tranche="senior", investor="big-impact", amount_pence=12_000_000),
        GrantReceived(fund=FUND, effective_date=D, investor="mersey-cf", amount_pence=5_000_000, restriction="ageing"),
        Disbursement(fund=FUND, effective_date=D, project="aw-homecare", amount_pence=15_000_000, form="loan",
                     source=SI, tranche="senior"),
        Disbursement(fund=FUND, effective_date=D, project="aw-homecare", amount_pence=3_000_000, form="grant",
                     source=CH, restriction="ageing"),
    ):
        position.apply(posting_rule(event, book, position))
    return position


def test_every_event_kind_has_one_rule():
    assert set(RULES) == set(EVENT_KINDS)
    assert len(EVENT_KINDS) == 12


def test_drawdown_notice_splits_pro_rata_to_commitments_conserving_pence(book):
    event = DrawdownNotice(fund=FUND, effective_date=D, tranche="senior", amount_pence=100_001)
    draft = posting_rule(event, book, Position())
    # nsi 600,000 : big-impact 400,000 -> 60,000.6 : 40,000.4 pence; the spare penny goes to nsi.
    assert draft.postings == (
        P("called_capital_receivable", 60_001, source=SI, tranche="senior", counterparty="nsi"),
        P("contributed_capital", -60_001, source=SI, tranche="senior", counterparty="nsi"),
        P("called_capital_receivable", 40_000, source=SI, tranche="senior", counterparty="big-impact"),
        P("contributed_capital", -40_000, source=SI, tranche="senior", counterparty="big-impact"),
    )
    assert draft.event_kind == "drawdown_notice"
    assert draft.idempotency_key == derived_key(event.data())
    check_entry(draft)


def test_drawdown_notice_on_a_grant_tranche_credits_grant_capital(book):
    draft = posting_rule(DrawdownNotice(fund=FUND, effective_date=D, tranche="first-loss", amount_pence=500), book, Position())
    assert draft.postings == (
        P("called_capital_receivable", 500, source=CH, tranche="first-loss", counterparty="mersey-cf"),
        P("grant_capital", -500, source=CH, tranche="first-loss", counterparty="mersey-cf"),
    )


def test_drawdown_notice_refuses_more_than_unfunded(book):
    position = Position()
    position.called[(FUND, "junior", "lcr-ca")] = 20_000_000
    with pytest.raises(ValidationError) as err:
        posting_rule(DrawdownNotice(fund=FUND, effective_date=D, tranche="junior", amount_pence=5_000_001), book, position)
    assert str(err.value) == (
        "drawdown of 50,000.01 GBP on tranche junior is more than its unfunded commitments of 50,000.00 GBP"
    )


def test_drawdown_received(book):
    position = Position()
    position.receivable[(FUND, "GBP", "senior", "nsi")] = 1_000
    draft = posting_rule(
        DrawdownReceived(fund=FUND, effective_date=D, tranche="senior", investor="nsi", amount_pence=1_000), book, position
    )
    assert draft.postings == (
        P("cash", 1_000, source=SI, tranche="senior", counterparty="nsi"),
        P("called_capital_receivable", -1_000, source=SI, tranche="senior", counterparty="nsi"),
    )
    with pytest.raises(ValidationError, match="investor nsi owes 10.00 GBP called on tranche senior; a receipt of 10.01 GBP"):
        posting_rule(DrawdownReceived(fund=FUND, effective_date=D, tranche="senior", investor="nsi", amount_pence=1_001),
                     book, position)


def test_grant_received_carries_its_restriction(book):
    draft = posting_rule(
        GrantReceived(fund=FUND, effective_date=D, investor="mersey-cf", amount_pence=5_000, restriction="ageing"),
        book, Position(),
    )
    assert draft.postings == (
        P("cash", 5_000, source=CH, restriction="ageing", counterparty="mersey-cf"),
        P("grant_capital", -5_000, source=CH, restriction="ageing", counterparty="mersey-cf"),
    )
    with pytest.raises(ValidationError, match="investor nsi is a social_investor, not a charitable trust"):
        posting_rule(GrantReceived(fund=FUND, effective_date=D, investor="nsi", amount_pence=5), book, Position())


def test_public_money_received_co_investment_and_grant(book):
    co = posting_rule(
        PublicMoneyReceived(fund=FUND, effective_date=D, payer="lcr-ca", amount_pence=700, form="co_investment",
                            tranche="junior"), book, Position(),
    )
    assert co.postings == (
        P("cash", 700, source=PU, tranche="junior", counterparty="lcr-ca"),
        P("contributed_capital", -700, source=PU, tranche="junior", counterparty="lcr-ca"),
    )
    grant = posting_rule(
        PublicMoneyReceived(fund=FUND, effective_date=D, payer="lcc", amount_pence=300, form="grant"), book, Position()
    )
    assert grant.postings == (
        P("cash", 300, source=PU, counterparty="lcc"),
        P("grant_capital", -300, source=PU, counterparty="lcc"),
    )


@pytest.mark.parametrize("form,account", [("loan", "project_loans"), ("working_capital", "working_capital_advances"),
                                          ("grant", "project_grants")])
def test_disbursement(book, form, account):
    position = funded_position(book)
    draft = posting_rule(
        Disbursement(fund=FUND, effective_date=D, project="hf-tenancy", amount_pence=2_500, form=form, source=SI,
                     tranche="senior"), book, position,
    )
    dims = dict(source=SI, tranche="senior", project="hf-tenancy", counterparty="homes-first")
    assert draft.postings == (P(account, 2_500, **dims), P("cash", -2_500, **dims))


def test_disbursement_of_restricted_money_to_a_project_it_does_not_permit_is_refused(book):
    position = funded_position(book)
    event = Disbursement(fund=FUND, effective_date=D, project="yf-mentoring", amount_pence=1_234_56, form="grant",
                         source=CH, restriction="ageing")
    with pytest.raises(ValidationError) as err:
        posting_rule(event, book, position)
    assert str(err.value) == (
        "restriction ageing (theme ageing) does not permit project yf-mentoring (theme youth): "
        "refused to spend 1234.56 GBP on it"
    )
    assert err.value.field == "restriction"


def test_disbursement_from_a_source_without_the_cash_is_refused(book):
    position = funded_position(book)  # ageing has 50,000 - 30,000 = 20,000.00 left
    event = Disbursement(fund=FUND, effective_date=D, project="aw-homecare", amount_pence=2_000_001, form="grant",
                         source=CH, restriction="ageing")
    with pytest.raises(ValidationError) as err:
        posting_rule(event, book, position)
    assert str(err.value) == (
        "not enough cash in fund lcr-outcomes, source charitable, tranche -, restriction ageing: "
        "20000.01 GBP needed, 20000.00 GBP available"
    )


def test_repayment_principal_by_carrying_and_interest_by_disbursed_capital(book):
    position = funded_position(book)
    draft = posting_rule(
        Repayment(fund=FUND, effective_date=D, project="aw-homecare", principal_pence=10_000, interest_pence=1_000),
        book, position,
    )
    # principal: only the senior loan is outstanding; interest: 150,000 : 30,000 = 5 : 1 -> 833.33 : 166.67
    ch = dict(source=CH, restriction="ageing", project="aw-homecare", counterparty="ageing-well")
    si = dict(source=SI, tranche="senior", project="aw-homecare", counterparty="ageing-well")
    assert draft.postings == (
        P("cash", 167, **ch),
        P("interest_income", -167, **ch),
        P("cash", 10_833, **si),
        P("project_loans", -10_000, **si),
        P("interest_income", -833, **si),
    )


def test_repayment_refuses_more_than_outstanding(book):
    with pytest.raises(ValidationError, match="project aw-homecare has 150,000.00 GBP of loan outstanding"):
        posting_rule(Repayment(fund=FUND, effective_date=D, project="aw-homecare", principal_pence=15_000_001),
                     book, funded_position(book))


def test_outcome_payment_attributed_pro_rata_to_disbursed_capital(book):
    draft = posting_rule(
        OutcomePayment(fund=FUND, effective_date=D, project="aw-homecare", payer="lcc", amount_pence=3_600_001),
        book, funded_position(book),
    )
    ch = dict(source=CH, restriction="ageing", project="aw-homecare", counterparty="lcc")
    si = dict(source=SI, tranche="senior", project="aw-homecare", counterparty="lcc")
    assert draft.postings == (
        P("cash", 600_000, **ch),
        P("outcome_income", -600_000, **ch),
        P("cash", 3_000_001, **si),
        P("outcome_income", -3_000_001, **si),
    )


def test_outcome_payment_needs_disbursed_capital(book):
    with pytest.raises(ValidationError, match="project hf-tenancy has no disbursed capital to attribute this to"):
        posting_rule(OutcomePayment(fund=FUND, effective_date=D, project="hf-tenancy", payer="lcc", amount_pence=1),
                     book, funded_position(book))


@pytest.mark.parametrize("form,account", [("management_fee", "management_fees"), ("expense", "fund_expenses")])
def test_fee(book, form, account):
    draft = posting_rule(
        Fee(fund=FUND, effective_date=D, amount_pence=400, form=form, source=SI, tranche="senior", manager="fund-manager"),
        book, funded_position(book),
    )
    dims = dict(source=SI, tranche="senior", counterparty="fund-manager")
    assert draft.postings == (P(account, 400, **dims), P("cash", -400, **dims))


@pytest.mark.parametrize(
    "form,debit,credit",
    [("gain", "project_loans", "valuation_gains"), ("write_down", "write_downs", "project_loans"),
     ("write_off", "realised_losses", "project_loans")],
)
def test_valuation_change(book, form, debit, credit):
    draft = posting_rule(
        ValuationChange(fund=FUND, effective_date=D, project="aw-homecare", amount_pence=900, form=form),
        book, funded_position(book),
    )
    dims = dict(source=SI, tranche="senior", project="aw-homecare", counterparty="ageing-well")
    assert draft.postings == (P(debit, 900, **dims), P(credit, -900, **dims))


def test_write_down_larger_than_carrying_amount_is_refused(book):
    with pytest.raises(ValidationError, match="a write-down of 150,000.01 GBP is more than the 150,000.00 GBP carrying"):
        posting_rule(ValuationChange(fund=FUND, effective_date=D, project="aw-homecare", amount_pence=15_000_001,
                                     form="write_down"), book, funded_position(book))


@pytest.mark.parametrize("proceeds,line,amount", [(16_000_000, "realised_gains", -1_000_000),
                                                  (14_000_000, "realised_losses", 1_000_000)])
def test_exit_derecognises_the_loan_and_realises_the_difference(book, proceeds, line, amount):
    """aw-homecare's £150,000 senior loan is sold for £160,000 (a £10,000 realised gain) or
    £140,000 (a £10,000 realised loss)."""
    draft = posting_rule(ProjectExit(fund=FUND, effective_date=D, project="aw-homecare", amount_pence=proceeds),
                         book, funded_position(book))
    dims = dict(source=SI, tranche="senior", project="aw-homecare", counterparty="ageing-well")
    assert draft.postings == (P("cash", proceeds, **dims), P("project_loans", -15_000_000, **dims),
                              P(line, amount, **dims))
    assert not imbalances(draft.postings)


def test_exit_needs_an_investment(book):
    with pytest.raises(ValidationError, match="no working capital outstanding to exit"):
        posting_rule(ProjectExit(fund=FUND, effective_date=D, project="aw-homecare", amount_pence=100,
                                 instrument="working_capital"), book, funded_position(book))


def test_a_service_fee_is_an_expense_of_the_project(book):
    draft = posting_rule(Disbursement(fund=FUND, effective_date=D, project="aw-homecare", amount_pence=700,
                                      form="service_fee", source=SI, tranche="senior"), book, funded_position(book))
    dims = dict(source=SI, tranche="senior", project="aw-homecare", counterparty="ageing-well")
    assert draft.postings == (P("service_fees", 700, **dims), P("cash", -700, **dims))


def test_a_fee_from_restricted_money_is_refused_unless_the_restriction_permits_it(book):
    fee = Fee(fund=FUND, effective_date=D, amount_pence=100, form="management_fee", source=CH, restriction="ageing")
    with pytest.raises(ValidationError, match="restriction ageing .* does not permit fees"):
        posting_rule(fee, book, funded_position(book))
    from dataclasses import replace

    permissive = replace(book, restrictions={**book.restrictions,
                                             "ageing": replace(book.restrictions["ageing"], fees_permitted=True)})
    draft = posting_rule(fee, permissive, funded_position(book))
    assert draft.postings[0].account == "management_fees" and draft.postings[0].restriction == "ageing"


def test_distribution(book):
    draft = posting_rule(
        Distribution(fund=FUND, effective_date=D, tranche="senior", investor="nsi", amount_pence=250),
        book, funded_position(book),
    )
    dims = dict(source=SI, tranche="senior", counterparty="nsi")
    assert draft.postings == (P("distributions", 250, **dims), P("cash", -250, **dims))


def test_transfer_balances_each_group_through_source_transfers(book):
    draft = posting_rule(
        Transfer(fund=FUND, effective_date=D, amount_pence=100, source=CH, restriction="ageing", to_source=CH,
                 reason="restriction released by the donor"), book, funded_position(book),
    )
    assert draft.postings == (
        P("source_transfers", 100, source=CH, restriction="ageing"),
        P("cash", -100, source=CH, restriction="ageing"),
        P("cash", 100, source=CH),
        P("source_transfers", -100, source=CH),
    )
    assert draft.description == "Transfer: restriction released by the donor"
    assert not imbalances(draft.postings)


def test_transfer_needs_a_reason_and_a_change():
    with pytest.raises(ValidationError, match="a transfer needs a reason"):
        Transfer(fund=FUND, effective_date=D, amount_pence=1, source=SI, to_source=PU, reason=" ")
    with pytest.raises(ValidationError, match="must change the source, tranche or restriction"):
        Transfer(fund=FUND, effective_date=D, amount_pence=1, source=SI, to_source=SI, reason="x")


def test_events_refuse_bad_amounts():
    with pytest.raises(ValidationError, match="amount must be more than zero, got -1.00"):
        Fee(fund=FUND, effective_date=D, amount_pence=-100, form="expense", source=SI)
    with pytest.raises(MoneyError, match="must be a whole number of pence"):
        Fee(fund=FUND, effective_date=D, amount_pence=1.5, form="expense", source=SI)  # type: ignore[arg-type]


def test_unknown_references_are_named(book):
    with pytest.raises(NotFound, match="unknown project 'nope' in fund lcr-outcomes"):
        posting_rule(OutcomePayment(fund=FUND, effective_date=D, project="nope", payer="lcc", amount_pence=1),
                     book, Position())
    with pytest.raises(NotFound, match="unknown investor 'lcc'"):
        posting_rule(Distribution(fund=FUND, effective_date=D, tranche="senior", investor="lcc", amount_pence=1),
                     book, Position())


def test_event_data_round_trips_and_keys_are_deterministic():
    event = Repayment(fund=FUND, effective_date=D, project="p", principal_pence=5, interest_pence=2, key="k1")
    assert event_from_data(event.data()) == Repayment(fund=FUND, effective_date=D, project="p", principal_pence=5,
                                                      interest_pence=2)
    assert event.idempotency_key == "k1"
    same = Repayment(fund=FUND, effective_date=D, project="p", principal_pence=5, interest_pence=2)
    assert same.idempotency_key == derived_key(same.data()) and same.idempotency_key.startswith("flows:")
    assert same.idempotency_key != Repayment(fund=FUND, effective_date=D, project="p", principal_pence=6).idempotency_key


def test_attribution_conserves_pence_and_breaks_ties_by_group_order():
    a, b, c = FundingGroup("charitable", None, "x"), FundingGroup("public", None, None), FundingGroup("public", "j", None)
    assert attribute(100, {c: 1, b: 1, a: 1}) == {a: 34, b: 33, c: 33}
    assert attribute(7, {a: 0, b: 3}) == {b: 7}


def test_check_cash_message():
    with pytest.raises(ValidationError, match="not enough cash in here: 1.00 GBP needed, 0.00 GBP available"):
        check_cash(-5, 100, "GBP", "here")
    check_cash(100, 100, "GBP", "here")
