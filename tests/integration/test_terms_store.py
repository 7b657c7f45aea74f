"""Fund statement terms in the database (models/terms_store.py), on SQLite and PostgreSQL:
versions and their dates, idempotent loads, immutable rows, and refusals (a waterfall whose
tranches are not the fund's, a fund that does not exist, a date that would rewrite history)."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from ledger.capital_accounts import load_fund_terms
from ledger.errors import IdempotencyConflict, NotFound, ValidationError
from ledger.funds import fund_setup_from_mapping
from ledger.periods import Period
from ledger.shell.cli_terms import read_terms_file, store_setup_terms
from models.flows_store import save_setup
from models.ledger_store import close_period
from models.terms_store import applicable_terms, list_terms, store_terms, terms_for, terms_t

ROOT = Path(__file__).resolve().parents[2]
FUND_FILE = ROOT / "fixtures" / "funds" / "example_fund.toml"
TERMS_FILE = ROOT / "fixtures" / "funds" / "example_fund_terms.toml"
FUND = "lcr-outcomes"


@pytest.fixture
def fund(engine):
    """The example fund's setup, without its terms."""
    setup = fund_setup_from_mapping(tomllib.loads(FUND_FILE.read_text()), FUND_FILE.name)
    with engine.begin() as conn:
        save_setup(conn, setup)
    return engine


def _rows(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(terms_t)).scalar_one()


def _changed(source, **allocation):
    """The example terms with other allocation methods (a second version)."""
    lines = "".join(f'{key} = "{method}"\n' for key, method in allocation.items())
    text_ = source.terms_text
    for key in allocation:
        text_ = "\n".join(line for line in text_.splitlines() if not line.startswith(f"{key} = ")) + "\n"
    return replace(source, terms_text=text_.replace("[allocation]\n", "[allocation]\n" + lines))


def test_a_fund_without_terms_is_told_how_to_load_them(fund):
    with fund.connect() as conn:
        with pytest.raises(ValidationError, match=r"fund lcr-outcomes has no statement terms: load them with "
                                                  r"`fuel terms load FILE`"):
            terms_for(conn, FUND, date(2026, 9, 30))
        with pytest.raises(NotFound, match="unknown fund 'nope'"):
            terms_for(conn, "nope", date(2026, 9, 30))


def test_first_version_applies_from_the_funds_start_and_reads_back_as_parsed(fund):
    with fund.begin() as conn:
        version, outcome = store_terms(conn, read_terms_file(TERMS_FILE), loaded_by="tester")
    assert outcome == "added"
    assert (version.fund, version.version, version.effective_from, version.loaded_by) == (
        FUND, 1, date(2026, 1, 15), "tester")  # the example fund's first commitment
    assert version.waterfall_name == "../waterfalls/lcr_outcomes_fund.toml"
    assert len(version.terms_sha256) == len(version.waterfall_sha256) == 64
    with fund.connect() as conn:
        stored = terms_for(conn, FUND, date(2026, 9, 30))
        with pytest.raises(ValidationError, match="terms apply from 2026-01-15; none apply on 2026-01-14"):
            terms_for(conn, FUND, date(2026, 1, 14))
    # The stored texts re-parse to exactly what the files parse to.
    assert stored == load_fund_terms(TERMS_FILE)


def test_loading_the_same_terms_again_changes_nothing(fund):
    source = read_terms_file(TERMS_FILE)
    with fund.begin() as conn:
        first, _ = store_terms(conn, source)
    with fund.begin() as conn:
        again, outcome = store_terms(conn, source)
    assert outcome == "unchanged" and again == first and _rows(fund) == 1
    with pytest.raises(IdempotencyConflict, match="already fund lcr-outcomes's version 1, effective from 2026-01-15"):
        with fund.begin() as conn:
            store_terms(conn, source, effective_from=date(2026, 4, 1))
    assert _rows(fund) == 1


def test_a_new_version_applies_from_its_effective_date(fund):
    source = read_terms_file(TERMS_FILE)
    second = _changed(source, income="by_group", fees="pro_rata_paid_in")
    with fund.begin() as conn:
        store_terms(conn, source)
        version, outcome = store_terms(conn, second, effective_from=date(2026, 7, 1), loaded_by="tester")
    assert (version.version, version.effective_from, outcome) == (2, date(2026, 7, 1), "added")
    with fund.connect() as conn:
        q2, q3 = terms_for(conn, FUND, date(2026, 6, 30)), terms_for(conn, FUND, date(2026, 7, 1))
        assert [v.version for v in list_terms(conn, FUND)] == [1, 2]
        assert applicable_terms(conn, FUND, date(2027, 1, 1))[0].version == 2
    assert (q2.method("income"), q2.method("fees")) == ("by_project", "by_commitment")
    assert (q3.method("income"), q3.method("fees")) == ("by_group", "pro_rata_paid_in")
    # Going back to the first version's text is a third version, not a rewrite.
    with fund.begin() as conn:
        third, outcome = store_terms(conn, source, effective_from=date(2026, 10, 1))
    assert (third.version, outcome) == (3, "added")


def test_a_new_version_may_not_rewrite_history(fund):
    source = read_terms_file(TERMS_FILE)
    with fund.begin() as conn:
        store_terms(conn, source, effective_from=date(2026, 3, 1))
    with pytest.raises(ValidationError, match="version 1 applies from 2026-03-01; a new version must apply from a "
                                              "later date, not 2026-02-01"):
        with fund.begin() as conn:
            store_terms(conn, _changed(source, fees="pro_rata_paid_in"), effective_from=date(2026, 2, 1))
    with fund.begin() as conn:
        close_period(conn, Period.parse("2026Q2"), "tester", today=date(2026, 7, 2))
    with pytest.raises(ValidationError, match=r"effective from 2026-05-01 is inside a closed period \(closed through "
                                              r"2026-07-01\)"):
        with fund.begin() as conn:
            store_terms(conn, _changed(source, fees="pro_rata_paid_in"), effective_from=date(2026, 5, 1))
    assert _rows(fund) == 1


def test_terms_whose_waterfall_tranches_are_not_the_funds_are_refused(fund):
    blended = (ROOT / "fixtures" / "waterfalls" / "blended_fund.toml").read_text()
    source = replace(read_terms_file(TERMS_FILE), waterfall_text=blended, waterfall_name="blended_fund.toml")
    with pytest.raises(ValidationError, match=r"waterfall tranches .*'grant'.* do not match fund lcr-outcomes's "
                                              r"tranches .*'first-loss'"):
        with fund.begin() as conn:
            store_terms(conn, source)
    assert _rows(fund) == 0


def test_terms_for_a_fund_that_does_not_exist_are_refused(fund):
    source = read_terms_file(TERMS_FILE)
    other = replace(source, terms_text=source.terms_text.replace('fund = "lcr-outcomes"', 'fund = "ghost-fund"'))
    with pytest.raises(NotFound, match="fund 'ghost-fund' does not exist: load the fund first"):
        with fund.begin() as conn:
            store_terms(conn, other)
    with pytest.raises(ValidationError, match="the terms are for fund lcr-outcomes, not other"):
        with fund.begin() as conn:
            store_terms(conn, source, fund="other")
    assert _rows(fund) == 0


def test_stored_terms_are_immutable(fund):
    with fund.begin() as conn:
        store_terms(conn, read_terms_file(TERMS_FILE))
    for statement in ("UPDATE fund_terms SET effective_from = '2020-01-01'", "DELETE FROM fund_terms"):
        with pytest.raises(DBAPIError, match="immutable"):
            with fund.begin() as conn:
                conn.execute(text(statement))
    assert _rows(fund) == 1


def test_a_fund_file_naming_its_terms_stores_them_with_the_fund(engine):
    setup = fund_setup_from_mapping(tomllib.loads(FUND_FILE.read_text()), FUND_FILE.name)
    assert setup.terms_file == "example_fund_terms.toml"
    with engine.begin() as conn:
        save_setup(conn, setup)
        version, outcome = store_setup_terms(conn, setup, FUND_FILE, "tester")
    assert (version.version, outcome) == (1, "added")
    with engine.begin() as conn:
        assert store_setup_terms(conn, setup, FUND_FILE, "tester")[1] == "unchanged"
        assert store_setup_terms(conn, replace(setup, terms_file=None), FUND_FILE, "tester") is None
