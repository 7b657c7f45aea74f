"""The ledger core against a real database, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.errors import AlreadyReversed, ClosedPeriodError, IdempotencyConflict, NotFound, ValidationError
from ledger.periods import Period
from ledger.postings import EntryDraft, Posting
from models.ledger_store import Ledger, account_balance, balances, post_entries

TODAY = date(2026, 11, 23)


def drawdown(key: str, pence: int, day: date = date(2026, 1, 5), investor: str = "mersey",
             source: str = "social_investment", tranche: str = "senior") -> EntryDraft:
    return EntryDraft(
        day,
        f"Drawdown from {investor}",
        key,
        (
            Posting("cash", pence, fund="lcr", source=source, tranche=tranche),
            Posting("contributed_capital", -pence, fund="lcr", source=source, tranche=tranche, counterparty=investor),
        ),
        event_kind="drawdown_received",
        event_data={"investor": investor, "amount_pence": pence},
    )


def test_post_and_read_back_keeps_every_pence_and_dimension(engine):
    ledger = Ledger(engine)
    [result] = ledger.post([drawdown("d1", 12_345_678_901)])
    assert result.created and result.entry.id == 1
    again = ledger.entry(1)
    assert again.draft == result.entry.draft
    assert again.entry_hash == result.entry.entry_hash
    assert again.draft.postings[1].counterparty == "mersey"
    assert again.draft.postings[0].amount_pence == 12_345_678_901


def test_idempotency_same_content_returns_original(engine):
    ledger = Ledger(engine)
    first = ledger.post([drawdown("d1", 500)])[0]
    replay = ledger.post([drawdown("d1", 500)])[0]
    assert not replay.created
    assert replay.entry.id == first.entry.id
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM journal_entries")).scalar() == 1


def test_idempotency_conflict_names_the_key(engine):
    ledger = Ledger(engine)
    ledger.post([drawdown("d1", 500)])
    with pytest.raises(IdempotencyConflict, match="idempotency key 'd1' was already used for entry 1"):
        ledger.post([drawdown("d1", 501)])


def test_a_batch_is_all_or_nothing(engine):
    ledger = Ledger(engine)
    ledger.post([drawdown("d0", 100)])
    bad = EntryDraft(date(2026, 1, 6), "bad", "bad", (Posting("cash", 5), Posting("nope", -5)))
    with pytest.raises(ValidationError, match="account 'nope' is not in the chart"):
        ledger.post([drawdown("d1", 100), bad])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM journal_entries")).scalar() == 1
        assert conn.execute(text("SELECT COUNT(*) FROM postings")).scalar() == 2


def test_reversal_mirrors_and_can_happen_once(engine):
    ledger = Ledger(engine)
    ledger.post([drawdown("d1", 700)])
    reversal = ledger.reverse(1, date(2026, 1, 9), "wrong investor")
    assert reversal.entry.draft.reverses_id == 1
    assert account_balance_of(engine, "cash") == 0
    assert not ledger.reverse(1, date(2026, 1, 9), "wrong investor").created  # idempotent replay
    with pytest.raises(AlreadyReversed, match="entry 1 was already reversed by entry 2"):
        ledger.reverse(1, date(2026, 1, 9), "again", idempotency_key="another-key")
    with pytest.raises(NotFound, match="entry 99 does not exist"):
        ledger.reverse(99, date(2026, 1, 9), "x")


def account_balance_of(engine, code: str, as_of: date = date(2026, 12, 31)) -> int:
    with engine.connect() as conn:
        return account_balance(conn, code, as_of)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE postings SET amount_pence = 1",
        "DELETE FROM postings",
        "UPDATE journal_entries SET description = 'edited'",
        "DELETE FROM journal_entries",
        "UPDATE period_closes SET period_end = '2020-01-01'",
        "DELETE FROM period_closes",
    ],
)
def test_database_refuses_update_and_delete(engine, statement):
    ledger = Ledger(engine)
    ledger.post([drawdown("d1", 700)])
    ledger.close(Period.parse("2026Q1"), today=TODAY)
    with pytest.raises(DBAPIError, match="immutable"):
        with engine.begin() as conn:
            conn.execute(text(statement))
    assert ledger.verify().ok


def test_database_refuses_an_unbalanced_entry_written_behind_fuels_back(engine):
    Ledger(engine).post([drawdown("d1", 700)])
    with pytest.raises(DBAPIError, match="unbalanced entry"):
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO postings (entry_id, line_no, effective_date, account_code, amount_pence, currency, source) "
                "VALUES (2, 1, '2026-02-01', 'cash', 100, 'GBP', 'public'), "
                "(2, 2, '2026-02-01', 'grant_capital', -99, 'GBP', 'public')"
            ))
            conn.execute(text(
                "INSERT INTO journal_entries (id, idempotency_key, effective_date, recorded_at, recorded_by, description, "
                "event_kind, event_data, content_hash, prev_hash, entry_hash) VALUES "
                "(2, 'sneak', '2026-02-01', '2026-02-01 00:00:00', 'x', 'x', 'manual', '{}', 'h', 'h', 'h')"
            ))


def test_database_refuses_adding_postings_to_a_posted_entry(engine):
    Ledger(engine).post([drawdown("d1", 700)])
    with pytest.raises(DBAPIError, match="already posted"):
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO postings (entry_id, line_no, effective_date, account_code, amount_pence, currency) "
                "VALUES (1, 3, '2026-01-05', 'cash', 100, 'GBP')"
            ))


def test_closed_period_refuses_entries_in_code_and_in_the_database(engine):
    ledger = Ledger(engine)
    ledger.post([drawdown("d1", 700, date(2026, 3, 31))])
    closed = ledger.close(Period.parse("2026Q1"), "finance lead", today=TODAY)
    assert closed.closed_by == "finance lead" and closed.last_entry_id == 1
    with pytest.raises(ClosedPeriodError, match="effective date 2026-03-31 is in closed period 2026Q1"):
        ledger.post([drawdown("late", 5, date(2026, 3, 31))])
    # an earlier quarter is closed with it
    with pytest.raises(ClosedPeriodError, match="in closed period 2025Q4"):
        ledger.post([drawdown("older", 5, date(2025, 12, 1))])
    ledger.post([drawdown("ok", 5, date(2026, 4, 1))])
    with pytest.raises(ClosedPeriodError, match="2026Q1 is already closed"):
        ledger.close(Period.parse("2026Q1"), today=TODAY)
    with pytest.raises(ValidationError, match="cannot be closed before it has ended"):
        ledger.close(Period.parse("2026Q4"), today=TODAY)
    # the database itself refuses a back-dated entry
    with pytest.raises(DBAPIError, match="closed period"):
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO postings (entry_id, line_no, effective_date, account_code, amount_pence, currency) "
                "VALUES (3, 1, '2026-01-10', 'cash', 100, 'GBP'), (3, 2, '2026-01-10', 'grant_capital', -100, 'GBP')"
            ))
            conn.execute(text(
                "INSERT INTO journal_entries (id, idempotency_key, effective_date, recorded_at, recorded_by, description, "
                "event_kind, event_data, content_hash, prev_hash, entry_hash) VALUES "
                "(3, 'sneak', '2026-01-10', '2026-02-01 00:00:00', 'x', 'x', 'manual', '{}', 'h', 'h', 'h')"
            ))


def test_balances_as_of_and_grouped_by_dimension(engine):
    ledger = Ledger(engine)
    ledger.post([
        drawdown("a", 1_000, date(2026, 1, 5), "mersey", "social_investment", "senior"),
        drawdown("b", 2_000, date(2026, 2, 5), "wirral-trust", "charitable", "junior"),
        drawdown("c", 4_000, date(2026, 5, 5), "mersey", "social_investment", "senior"),
    ])
    with engine.connect() as conn:
        by_source = balances(conn, date(2026, 3, 31), by=("account_code", "source"))
        assert [(r.key, r.balance_pence) for r in by_source] == [
            (("cash", "charitable"), 2_000),
            (("cash", "social_investment"), 1_000),
            (("contributed_capital", "charitable"), -2_000),
            (("contributed_capital", "social_investment"), -1_000),
        ]
        investor = balances(conn, date(2026, 12, 31), by=("counterparty",), filters={"account_code": "contributed_capital"})
        assert [(r.key, r.balance_pence) for r in investor] == [(("mersey",), -5_000), (("wirral-trust",), -2_000)]
        assert account_balance(conn, "cash", date(2026, 1, 4)) == 0
        assert account_balance(conn, "cash", date(2026, 1, 5)) == 1_000
    with pytest.raises(ValidationError, match="cannot group balances by 'colour'"):
        ledger.balances(date(2026, 1, 1), by=("colour",))


def test_closing_snapshots_give_the_same_balances_as_raw_history(engine):
    ledger = Ledger(engine)
    days = [date(2026, 1, 5), date(2026, 3, 31), date(2026, 4, 1), date(2026, 6, 30), date(2026, 8, 1)]
    ledger.post([drawdown(f"k{i}", 100 * (i + 1), day, f"inv{i % 2}") for i, day in enumerate(days)])
    checkpoints = [date(2026, 2, 1), date(2026, 3, 31), date(2026, 4, 1), date(2026, 7, 1), date(2026, 12, 31)]
    before = {d: ledger.balances(d, by=("account_code", "counterparty")) for d in checkpoints}
    ledger.close(Period.parse("2026Q1"), today=TODAY)
    ledger.close(Period.parse("2026Q2"), today=TODAY)
    after = {d: ledger.balances(d, by=("account_code", "counterparty")) for d in checkpoints}
    assert before == after
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM period_balances")).scalar() > 0
        # One account's balance (snapshot + open postings, its own fast path) agrees at every checkpoint.
        cash = [account_balance(conn, "cash", d) for d in checkpoints]
        assert cash == [sum(r.balance_pence for r in before[d] if r.key[0] == "cash") for d in checkpoints]
        assert cash == [100, 300, 600, 1_000, 1_500]


def test_trial_balance_sums_to_zero_with_turnover(engine):
    ledger = Ledger(engine)
    ledger.post([drawdown("a", 1_000), drawdown("b", 250)])
    ledger.reverse(2, date(2026, 1, 6), "duplicate")
    lines = ledger.trial_balance(date(2026, 12, 31))
    cash = next(l for l in lines if l.account_code == "cash")
    assert (cash.debit_pence, cash.credit_pence, cash.net_pence) == (1_250, 250, 1_000)
    assert sum(l.net_pence for l in lines) == 0
    assert sum(l.debit_pence for l in lines) == sum(l.credit_pence for l in lines)


def _disable_triggers(conn) -> None:
    if conn.dialect.name == "postgresql":
        for table in ("postings", "journal_entries"):
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    else:
        names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all()
        for name in names:
            conn.execute(text(f"DROP TRIGGER {name}"))


@pytest.mark.parametrize(
    "tamper, problem",
    [
        ("UPDATE postings SET amount_pence = amount_pence * 10 WHERE entry_id = 2", "content"),
        ("UPDATE journal_entries SET description = 'Drawdown from someone else' WHERE id = 2", "content"),
        ("UPDATE journal_entries SET effective_date = '2026-02-02', recorded_at = recorded_at WHERE id = 2", "content"),
        ("UPDATE postings SET effective_date = '2026-02-02' WHERE entry_id = 2", "effective date differs"),
        ("UPDATE postings SET counterparty = 'someone-else' WHERE entry_id = 2 AND line_no = 2", "content"),
        ("UPDATE journal_entries SET recorded_by = 'mallory' WHERE id = 2", "recorded time or hash"),
        ("DELETE FROM postings WHERE entry_id = 2; DELETE FROM journal_entries WHERE id = 2", "missing"),
    ],
)
def test_verify_reports_the_first_entry_changed_behind_fuels_back(engine, tamper, problem):
    ledger = Ledger(engine)
    ledger.post([drawdown("a", 100), drawdown("b", 200), drawdown("c", 300)])
    assert ledger.verify().ok
    with engine.begin() as conn:
        _disable_triggers(conn)
        for statement in tamper.split(";"):
            conn.execute(text(statement))
    report = ledger.verify()
    assert not report.ok
    assert report.first_break.entry_id == 2
    assert problem in report.first_break.problem


def test_post_entries_inside_a_callers_transaction_rolls_back_together(engine):
    with pytest.raises(RuntimeError):
        with engine.begin() as conn:
            post_entries(conn, [drawdown("x", 100)])
            raise RuntimeError("the import failed later")
    assert Ledger(engine).verify().entries_checked == 0


def test_migrations_and_models_agree(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from models.all_tables import metadata

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_database_refuses_a_posting_to_an_unknown_account(engine):
    with pytest.raises(DBAPIError, match="unknown account"):
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO postings (entry_id, line_no, effective_date, account_code, amount_pence, currency) "
                "VALUES (1, 1, '2026-02-01', 'cash', 100, 'GBP'), (1, 2, '2026-02-01', 'no_such_account', -100, 'GBP')"
            ))
            conn.execute(text(
                "INSERT INTO journal_entries (id, idempotency_key, effective_date, recorded_at, recorded_by, description, "
                "event_kind, event_data, content_hash, prev_hash, entry_hash) VALUES "
                "(1, 'sneak', '2026-02-01', '2026-02-01 00:00:00', 'x', 'x', 'manual', '{}', 'h', 'h', 'h')"
            ))


def test_verify_reports_postings_without_an_entry(engine):
    Ledger(engine).post([drawdown("a", 100)])
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO postings (entry_id, line_no, effective_date, account_code, amount_pence, currency) "
            "VALUES (9, 1, '2026-02-01', 'cash', 100, 'GBP')"
        ))
    report = Ledger(engine).verify()
    assert report.first_break.entry_id == 9
    assert "not in the chain" in report.first_break.problem
