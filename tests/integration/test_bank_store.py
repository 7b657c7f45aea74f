"""Bank accounts, statement import, matching and reconciliation against a real database, on
SQLite and PostgreSQL, with the fixture statements of tests/data/bank (one per format)."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.errors import ImportRejected, NotFound, ValidationError
from ledger.funds import fund_setup_from_mapping
from ledger.periods import Period
from models import bank_store as bank
from models.flows_store import import_flows, save_setup
from models.ledger_store import verify

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "bank"
FUND = "lcr-outcomes"
BY = "fm"
Q1_END = date(2026, 3, 31)


def _data(name: str) -> bytes:
    return (DATA / name).read_bytes()


@pytest.fixture
def funded(engine):
    with engine.begin() as conn:
        save_setup(conn, fund_setup_from_mapping(
            tomllib.loads((ROOT / "fixtures" / "funds" / "example_fund.toml").read_text()), "example_fund.toml"))
        import_flows(conn, (ROOT / "fixtures" / "flows" / "example_flows.csv").read_text(), "example_flows.csv")
        bank.add_account(conn, fund=FUND, account_id="main", name="Client account", sort_code="601613",
                         account_number="31926819", currency="GBP", holds=["*"], bank=None, by=BY)
    return engine


def _import(engine, name: str, fmt: str, account: str = "main") -> dict:
    with engine.begin() as conn:
        return bank.import_statement(conn, account, _data(name), name, fmt, BY)


@pytest.fixture
def imported(funded):
    _import(funded, "2026-02.camt053.xml", "camt053")
    _import(funded, "2026-03.mt940", "mt940")
    return funded


def test_import_is_idempotent_and_an_overlapping_statement_adds_only_new_lines(imported):
    again = _import(imported, "2026-02.camt053.xml", "camt053")
    assert (again["lines_added"], again["lines_skipped"]) == (0, 6)
    assert _import(imported, "2026-04a.ofx", "ofx")["lines_added"] == 2
    overlap = _import(imported, "2026-04b-overlapping.ofx", "ofx")
    assert (overlap["lines_added"], overlap["lines_skipped"]) == (1, 1)
    with imported.connect() as conn:
        assert len(bank.bank_lines(conn, "main")) == 6 + 10 + 3


def test_an_opening_balance_that_does_not_follow_is_refused_and_nothing_is_written(funded):
    _import(funded, "2026-02.camt053.xml", "camt053")
    with pytest.raises(ImportRejected) as caught:
        _import(funded, "2026-03-bad-opening.mt940", "mt940")
    assert "opening balance 489000.00 on 2026-03-01 does not follow" in str(caught.value)
    assert "490000.00" in str(caught.value)
    with funded.connect() as conn:
        assert len(bank.bank_lines(conn, "main")) == 6
        assert len(bank.statements(conn, "main")) == 1


def test_csv_with_a_duplicated_line_imports_the_same_lines_as_camt(engine, funded):
    from ledger.bank_formats import CsvMapping

    with funded.begin() as conn:
        bank.save_csv_mapping(conn, "natwest", CsvMapping(date="Date", credit="Paid in", debit="Paid out",
                                                          reference="Reference", description="Description",
                                                          balance="Balance", txn_id="Transaction ID",
                                                          date_format="%d/%m/%Y"), BY)
        bank.add_account(conn, fund=FUND, account_id="csv", name="Reserve", sort_code="601613",
                         account_number="11112222", currency="GBP", holds=["public"], bank="natwest", by=BY)
    result = _import(funded, "2026-02.csv", "csv", account="csv")
    assert (result["lines_added"], result["duplicates_in_file"]) == (6, 1)
    assert result["closing_pence"] == 49_000_000
    long_ref = "Date,Paid in,Paid out,Reference,Description,Balance,Transaction ID\n" \
        f"01/03/2026,1.00,,{'R' * 480},x,490001.00,\n"
    mapping = {"lines_added": 1}
    for added in (1, 0):  # a long reference without a bank id: stored by its hash, re-import adds nothing
        with funded.begin() as conn:
            mapping = bank.import_statement(conn, "csv", long_ref.encode(), "long.csv", "csv", BY)
        assert mapping["lines_added"] == added


def test_matching_reconciliation_and_posting_a_bank_fee(imported):
    with imported.begin() as conn:
        proposals = bank.propose(conn, "main")
        rules = {p.rule for p in proposals}
        assert {"reference", "amount_date", "many_to_one", "bank_reversal"} <= rules
        split = next(p for p in proposals if p.rule == "many_to_one")
        assert len(split.line_ids) == 2 and split.amount_pence == 10_000_000  # paid over two days
        ids = bank.confirm_proposals(conn, "main", BY)
        assert len(ids) == len(proposals)
        assert bank.propose(conn, "main") == []
    with imported.connect() as conn:
        _, recon = bank.reconciliation(conn, "main", Q1_END)
    assert recon.ledger_cash_pence == 27_425_000 and recon.bank_balance_pence == 27_723_500
    assert recon.unexplained_pence == 0
    kinds = sorted((i.kind, i.amount_pence) for i in recon.items)
    assert kinds == [("bank_not_in_ledger", -1500), ("payment_not_cleared", -300_000)]  # fee; distribution clears 1 April
    fee_line = next(i.ref for i in recon.items if i.kind == "bank_not_in_ledger")
    with imported.begin() as conn:
        posted = bank.post_line(conn, "main", fee_line, BY, source="social_investment", tranche="senior")
        with pytest.raises(ValidationError, match="already matched"):
            bank.post_line(conn, "main", fee_line, BY, source="social_investment", tranche="senior")
    assert posted["kind"] == "bank_fee"
    with imported.connect() as conn:
        _, recon = bank.reconciliation(conn, "main", Q1_END)
        assert [i.kind for i in recon.items] == ["payment_not_cleared"] and recon.unexplained_pence == 0
        assert verify(conn).ok


def test_a_match_is_never_edited_and_unmatching_is_a_new_record(imported):
    with imported.begin() as conn:
        match_id = bank.confirm_proposals(conn, "main", BY)[0]
        with pytest.raises(ValidationError, match="already matched"):
            m = next(x for x in bank.active_matches(conn, "main") if x.match_id == match_id)
            bank.confirm(conn, "main", list(m.line_ids), list(m.entry_ids), BY)
        undo = bank.unmatch(conn, match_id, "wrong payer", BY)
        with pytest.raises(ValidationError, match="already unmatched"):
            bank.unmatch(conn, match_id, "again", BY)
        assert match_id not in {x.match_id for x in bank.active_matches(conn, "main")}
        history = bank.match_history(conn, "main")
        assert [r["action"] for r in history if r["id"] in (match_id, undo)] == ["confirm", "unmatch"]
        assert all(r["recorded_by"] == BY for r in history)
    with pytest.raises(DBAPIError):
        with imported.begin() as conn:
            conn.execute(text("UPDATE bank_matches SET note = 'edited' WHERE id = :i"), {"i": match_id})
    with pytest.raises(DBAPIError):
        with imported.begin() as conn:
            conn.execute(text("DELETE FROM bank_lines"))


def test_a_match_must_balance_and_accounts_of_another_fund_are_not_found(imported):
    with imported.begin() as conn:
        with pytest.raises(ValidationError, match="must agree to the penny"):
            bank.confirm(conn, "main", [1], [7], BY)
        with pytest.raises(NotFound):
            bank.account(conn, "main", fund="another-fund")


def test_quarter_close_warns_and_with_the_setting_refuses_when_not_reconciled(imported):
    q1 = Period.parse("2026Q1")
    with imported.begin() as conn:
        warnings, refusals = bank.close_check(conn, q1)
    assert refusals == [] and len(warnings) == 1 and "neither matched nor in the ledger" in warnings[0]
    with imported.begin() as conn:
        bank.set_require_reconciled(conn, FUND, True, BY)
    with pytest.raises(ValidationError, match="2026Q1 is not reconciled"):
        with imported.begin() as conn:
            bank.guarded_close(conn, q1, BY, today=date(2026, 4, 1))
    with imported.begin() as conn:
        bank.confirm_proposals(conn, "main", BY)
        fee = next(l["id"] for l in bank.bank_lines(conn, "main") if "SERVICE CHARGE" in l["description"])
        bank.post_line(conn, "main", fee, BY, source="social_investment", tranche="senior")
        closed, warnings = bank.guarded_close(conn, q1, BY, today=date(2026, 4, 1))
    assert closed.period.name == "2026Q1" and warnings == []
    with pytest.raises(ValidationError, match="statements reach 2026-03-31, not 2026-06-30"):
        with imported.begin() as conn:
            bank.guarded_close(conn, Period.parse("2026Q2"), BY, today=date(2026, 7, 1))


def test_masked_in_every_output_but_the_fund_managers(funded):
    with funded.connect() as conn:
        acct = bank.account(conn, "main")
    assert acct.public(reveal=False)["account_number"] == "****6819"
    assert acct.public(reveal=False)["sort_code"] == "**-**-13"
    assert acct.public(reveal=True)["account_number"] == "31926819"
