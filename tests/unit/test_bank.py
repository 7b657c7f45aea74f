"""Bank rules and statement readers (ledger/bank.py, ledger/bank_formats.py) on the fixture
statements in tests/data/bank, each written in its format's published structure."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ledger import bank
from ledger.bank_formats import CsvMapping, guess_format, read_statement
from ledger.errors import ImportRejected, ValidationError

DATA = Path(__file__).resolve().parents[1] / "data" / "bank"
NATWEST = CsvMapping(date="Date", credit="Paid in", debit="Paid out", reference="Reference",
                     description="Description", balance="Balance", txn_id="Transaction ID", date_format="%d/%m/%Y")


@pytest.mark.parametrize("name, fmt, opening, closing, count", [
    ("2026-02.camt053.xml", "camt053", 0, 49_000_000, 6),
    ("2026-02.csv", "csv", 0, 49_000_000, 7),
    ("2026-03.mt940", "mt940", 49_000_000, 27_723_500, 10),
    ("2026-04a.ofx", "ofx", 27_723_500, 27_424_734, 2),
])
def test_each_format_reads_to_balances_that_agree_with_its_lines(name, fmt, opening, closing, count):
    data = (DATA / name).read_bytes()
    assert guess_format(name, data) == fmt
    statement = read_statement(data, name, fmt, "GBP", NATWEST)
    assert (statement.opening_pence, statement.closing_pence, len(statement.lines)) == (opening, closing, count)
    kept, dupes = bank.dedupe_lines(statement.lines)
    assert bank.check_statement(statement.__class__(**{**statement.__dict__, "lines": kept}), name) == []
    assert len(dupes) == (1 if fmt == "csv" else 0)  # the CSV export repeats one transaction


def test_camt_and_csv_of_the_same_month_give_the_same_lines():
    camt = read_statement((DATA / "2026-02.camt053.xml").read_bytes(), "c", "camt053", "GBP")
    csv_lines, _ = bank.dedupe_lines(read_statement((DATA / "2026-02.csv").read_bytes(), "c", "csv", "GBP", NATWEST).lines)
    assert [(l.booked_on, l.amount_pence, l.bank_txn_id) for l in camt.lines] == \
           [(l.booked_on, l.amount_pence, l.bank_txn_id) for l in csv_lines]


def test_a_bad_line_is_named_and_nothing_is_read():
    text = (DATA / "2026-02.csv").read_text().replace("40000.00,,90000.00", "40000.001,,90000.00")
    with pytest.raises(ImportRejected) as caught:
        read_statement(text.encode(), "feb.csv", "csv", "GBP", NATWEST)
    assert "feb.csv: line 3:" in str(caught.value)


def test_a_running_balance_that_does_not_follow_names_its_line():
    text = (DATA / "2026-02.csv").read_text().replace(",390000.00,", ",390000.01,")
    statement = read_statement(text.encode(), "feb.csv", "csv", "GBP", NATWEST)
    problems = bank.check_statement(statement, "feb.csv")
    assert any(p.startswith("feb.csv: line 6: running balance 390000.01") for p in problems)


def test_camt_closing_balance_checked_and_doctype_refused():
    xml = (DATA / "2026-02.camt053.xml").read_text().replace("490000.00", "490000.50")
    statement = read_statement(xml.encode(), "feb.xml", "camt053", "GBP")
    assert "closing balance 490000.50" in bank.check_statement(statement, "feb.xml")[0]
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><Document/>'
    with pytest.raises(ImportRejected, match="DOCTYPE"):
        read_statement(evil, "evil.xml", "camt053", "GBP")


def test_mt940_reversal_and_ofx_ids():
    mt = read_statement((DATA / "2026-03.mt940").read_bytes(), "m", "mt940", "GBP")
    assert [l.amount_pence for l in mt.lines if "HF GRANT" in l.reference] == [-2_000_000, 2_000_000, -2_000_000]
    ofx = read_statement((DATA / "2026-04a.ofx").read_bytes(), "o", "ofx", "GBP")
    assert ofx.lines[0].identity == "id:202604010001"


def test_buckets_most_specific_wins_and_masking():
    accounts = [("main", [bank.parse_bucket("*")]), ("public", [bank.parse_bucket("public")]),
                ("ageing", [bank.parse_bucket("charitable/*/ageing")])]
    assert bank.account_for(accounts, "public", "junior", None) == "public"
    assert bank.account_for(accounts, "charitable", None, "ageing") == "ageing"
    assert bank.account_for(accounts, "charitable", None, None) == "main"
    assert bank.mask_account_number("31926819") == "****6819" and bank.mask_sort_code("60-16-13") == "**-**-13"
    with pytest.raises(ValidationError):
        bank.check_sort_code("6016")


def test_matching_rules_in_order():
    d = date(2026, 3, 1)
    lines = [bank.BankItem(1, d, 3_000, "INV-LCR-2026Q1 INV-LCR-2026Q2"), bank.BankItem(2, d, -500, "x"),
             bank.BankItem(3, d, 700, "a"), bank.BankItem(4, date(2026, 3, 2), 300, "b")]
    items = [bank.CashItem(10, d, 1_000, ("INV-LCR-2026Q1",)), bank.CashItem(11, d, 2_000, ("INV-LCR-2026Q2",)),
             bank.CashItem(12, date(2026, 3, 4), -500, ("k",)), bank.CashItem(13, d, 1_000, ("k2",))]
    got = {p.rule: (p.line_ids, p.entry_ids) for p in bank.propose_matches(lines, items)}
    assert got["reference"] == ((1,), (10, 11))  # a council paying two claims in one transfer
    assert got["amount_date"] == ((2,), (12,))
    assert got["many_to_one"] == ((3, 4), (13,))
    with pytest.raises(ValidationError, match="agree to the penny"):
        bank.check_match([lines[0]], [items[0]])


def test_a_reference_is_quoted_only_as_a_whole_word():
    d = date(2026, 3, 1)
    item = bank.CashItem(1, d, 500, ("FUEL-1",))
    assert bank.propose_matches([bank.BankItem(9, date(2026, 6, 1), 500, "FUEL-12")], [item]) == ()
    assert bank.propose_matches([bank.BankItem(9, date(2026, 6, 1), 500, "paid FUEL1 thanks")], [item])[0].rule == "reference"


@pytest.mark.parametrize("fmt, data, expected", [
    ("ofx", b"OFXHEADER:100\n<OFX><garbage", "not a readable OFX file"),
    ("mt940", b":20:X\r\n:25:1\r\n", "no :60F: opening or :62F: closing balance"),
    ("camt053", b"<Document><BkToCstmrStmt>", "not well-formed XML"),
    ("camt053", b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.08'/>", "expected one Document/BkToCstmrStmt/Stmt"),
    ("csv", b"\xff\xfeDate", "not UTF-8"),
    ("csv", b"When,Amount\n2026-01-01,1.00\n", "no column 'Date'"),
])
def test_malformed_files_are_refused_with_a_clear_message(fmt, data, expected):
    with pytest.raises(ImportRejected) as caught:
        read_statement(data, "bad." + fmt, fmt, "GBP", NATWEST)
    assert expected in str(caught.value) and "bad." + fmt in str(caught.value)


def test_an_amount_in_another_currency_is_refused():
    xml = (DATA / "2026-02.camt053.xml").read_text().replace('Ccy="GBP">50000.00', 'Ccy="EUR">50000.00')
    with pytest.raises(ImportRejected, match="Ntry 1: Amt is in EUR"):
        read_statement(xml.encode(), "feb.xml", "camt053", "GBP")
