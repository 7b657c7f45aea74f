"""Fund flows against a real database, on SQLite and PostgreSQL."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from ledger.errors import IdempotencyConflict, ValidationError
from ledger.flows import Disbursement, Fee, Transfer
from ledger.funds import Commitment, Project, fund_setup_from_mapping
from models.flows_store import (
    add_commitment,
    commitment_status,
    import_flows,
    load_books,
    record_event,
    save_project,
    save_setup,
)
from models.ledger_store import entries_t, trial_balance, verify
from reports import flows_reports

ROOT = Path(__file__).resolve().parents[2]
FUND = "lcr-outcomes"
AS_OF = date(2026, 12, 31)


def setup_of():
    return fund_setup_from_mapping(
        tomllib.loads((ROOT / "fixtures" / "funds" / "example_fund.toml").read_text()), "example_fund.toml"
    )


@pytest.fixture
def fund(engine):
    with engine.begin() as conn:
        save_setup(conn, setup_of())
    return engine


@pytest.fixture
def flowed(fund):
    with fund.begin() as conn:
        import_flows(conn, (ROOT / "fixtures" / "flows" / "example_flows.csv").read_text(), "example_flows.csv")
    return fund


def test_setup_round_trips_and_reloading_changes_nothing(fund):
    with fund.begin() as conn:
        counts = save_setup(conn, setup_of())
        books = load_books(conn)
    assert all(c["added"] == 0 and c["updated"] == 0 for c in counts.values())
    book = books[FUND]
    assert book.fund.currency == "GBP"
    assert list(book.tranches) == ["senior", "junior", "first-loss"]
    assert str(book.tranches["senior"].return_rate) == "0.05"
    assert book.restrictions["youth-only"].projects == ("yf-mentoring",)
    assert {c.id: c.amount_pence for c in book.commitments}["c-nsi-senior"] == 60_000_000


def test_reference_data_is_updatable_but_fixed_fields_are_not(fund):
    with fund.begin() as conn:
        assert save_project(conn, Project("yf-mentoring", FUND, "Youth Futures mentoring", "youth-futures", "youth",
                                          "closed")) == "updated"
        assert load_books(conn)[FUND].projects["yf-mentoring"].status == "closed"
    with pytest.raises(ValidationError, match="project yf-mentoring already exists with provider_id 'youth-futures'"):
        with fund.begin() as conn:
            save_project(conn, Project("yf-mentoring", FUND, "x", "homes-first", "youth"))


def test_commitments_are_append_only(fund):
    changed = Commitment("c-nsi-senior", FUND, "senior", "nsi", 1, date(2026, 1, 15))
    with pytest.raises(IdempotencyConflict, match="commitment c-nsi-senior already exists with different terms"):
        with fund.begin() as conn:
            add_commitment(conn, changed)
    with pytest.raises(DBAPIError, match="immutable"):
        with fund.begin() as conn:
            conn.execute(text("UPDATE commitments SET amount_pence = 1"))


def test_import_posts_everything_once_and_reimport_posts_nothing(flowed):
    with flowed.connect() as conn:
        n = conn.execute(select(func.count()).select_from(entries_t)).scalar()
    assert n == 17
    with flowed.begin() as conn:
        again = import_flows(conn, (ROOT / "fixtures" / "flows" / "example_flows.csv").read_text(), "again.csv")
    assert (again.posted, again.already) == (0, 17)
    with flowed.connect() as conn:
        assert conn.execute(select(func.count()).select_from(entries_t)).scalar() == 17
        assert verify(conn).ok


def test_unfunded_commitment_is_derived(flowed):
    with flowed.connect() as conn:
        rows = {(r["tranche"], r["investor"]): r for r in commitment_status(conn, FUND)}
        early = {(r["tranche"], r["investor"]): r for r in commitment_status(conn, FUND, date(2026, 2, 1))}
    assert rows[("senior", "nsi")]["called_pence"] == 18_000_000
    assert rows[("senior", "nsi")]["unfunded_pence"] == 42_000_000
    assert rows[("junior", "lcr-ca")]["received_pence"] == 10_000_000
    assert early[("senior", "nsi")]["unfunded_pence"] == 60_000_000


def test_record_event_is_idempotent_and_checks_running_cash(flowed):
    event = Fee(fund=FUND, effective_date=date(2026, 4, 1), amount_pence=100, form="expense", source="public")
    with flowed.begin() as conn:
        first, created = record_event(conn, event)
    with flowed.begin() as conn:
        second, created_again = record_event(conn, event)
    assert created and not created_again and first.entry.id == second.entry.id
    too_much = Disbursement(fund=FUND, effective_date=date(2026, 4, 1), project="hf-tenancy", amount_pence=1_899_901,
                            form="grant", source="public")
    with pytest.raises(ValidationError, match="1,899,901|18999.01 GBP needed, 18999.00 GBP available"):
        with flowed.begin() as conn:
            record_event(conn, too_much)


def test_reports_reconcile_to_the_trial_balance(flowed):
    with flowed.begin() as conn:
        record_event(conn, Transfer(fund=FUND, effective_date=date(2026, 4, 1), amount_pence=50_000, source="charitable",
                                    restriction="ageing", to_source="charitable", reason="donor released part"))
    with flowed.connect() as conn:
        assert flows_reports.reconciliation_problems(conn, AS_OF) == []
        rows, _ = flows_reports.sources_uses(conn, AS_OF, FUND)
        total_cash = sum(r["cash_pence"] for r in rows)
        tb_cash = next(l.net_pence for l in trial_balance(conn, AS_OF) if l.account_code == "cash")
        restricted, _ = flows_reports.restrictions(conn, AS_OF, FUND)
        projects, _ = flows_reports.project_funding(conn, AS_OF, FUND)
    assert total_cash == tb_cash
    ageing = next(r for r in restricted if r["restriction"] == "ageing")
    assert ageing == {
        "fund": FUND, "currency": "GBP", "restriction": "ageing", "received_pence": 5_000_000,
        "transferred_pence": -50_000, "income_pence": 620_833, "applied_pence": 3_000_000, "other_uses_pence": 0,
        "unapplied_pence": 2_570_833,
    }
    aw = {(r["source"], r["tranche"]): r for r in projects if r["project"] == "aw-homecare"}
    assert aw[("social_investment", "senior")]["disbursed_pence"] == 15_000_000
    assert aw[("social_investment", "senior")]["share_of_project"] == "83.33%"
    assert aw[("charitable", None)]["income_pence"] == 620_833  # 1/6 of 36,000 + 1,250 interest


def test_reports_as_of_an_earlier_date(flowed):
    with flowed.connect() as conn:
        rows, _ = flows_reports.restrictions(conn, date(2026, 2, 28), FUND)
    assert rows[0]["received_pence"] == 5_000_000 and rows[0]["applied_pence"] == 0
    assert rows[0]["unapplied_pence"] == 5_000_000
