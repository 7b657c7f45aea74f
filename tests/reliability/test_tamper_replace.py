"""Issue 16, item 8: on SQLite, INSERT OR REPLACE cannot pass the no-update/no-delete triggers
of any immutable table; and with the triggers gone (dropped on SQLite, ``DISABLE TRIGGER ALL``
on PostgreSQL), a rewritten closing-balance snapshot or period close is reported by verify,
naming it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from ledger.periods import Period
from ledger.postings import EntryDraft, Posting
from models.ledger_store import Ledger
from tests.reliability.test_tamper_anchors import without_triggers


def _closed_ledger(engine) -> Ledger:
    ledger = Ledger(engine)
    ledger.post([EntryDraft(date(2026, 1, 5), "Grant received", key, (
        Posting("cash", pence, fund="lcr"), Posting("contributed_capital", -pence, fund="lcr")))
        for key, pence in (("a", 100_00), ("b", 250_00))])  # fmt: skip
    ledger.close(Period.parse("2026Q1"), today=date(2026, 4, 2))
    return ledger


def test_every_immutable_sqlite_table_refuses_insert_or_replace(sqlite_engine):
    _closed_ledger(sqlite_engine)
    with sqlite_engine.connect() as conn:
        triggers = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
    immutable = sorted(name.removesuffix("_no_delete") for name in triggers if name.endswith("_no_delete"))
    assert {"journal_entries", "postings", "period_closes", "period_balances", "commitments"} <= set(immutable)
    assert [t for t in immutable if f"{t}_no_replace" not in triggers] == []
    rewrites = {  # the cases: a snapshot worth £700m more cash, a reopened quarter, an entry
        "period_balances": "INSERT OR REPLACE INTO period_balances SELECT id, close_id, account_code, currency, "
                           "fund, source, tranche, restriction, project, counterparty, debit_pence, credit_pence, "
                           "balance_pence + 70000000000 FROM period_balances WHERE account_code = 'cash'",
        "period_closes": "INSERT OR REPLACE INTO period_closes SELECT id, period, period_start, '2026-01-01', "
                         "closed_at, closed_by, last_entry_id, tip_hash, prev_hash, close_hash FROM period_closes",
        "journal_entries": "REPLACE INTO journal_entries SELECT id, idempotency_key, effective_date, recorded_at, "
                           "'mallory', description, event_kind, event_data, reverses_id, corrects_id, content_hash, "
                           "prev_hash, entry_hash FROM journal_entries WHERE id = 1",
        "postings": "INSERT OR REPLACE INTO postings SELECT id, entry_id, line_no, effective_date, account_code, "
                    "amount_pence * 2, currency, fund, source, tranche, restriction, project, counterparty "
                    "FROM postings WHERE id = 1",
    }
    for table, statement in rewrites.items():
        with pytest.raises(DatabaseError, match=f"{table} rows are immutable"):
            with sqlite_engine.begin() as conn:
                conn.execute(text(statement))
    assert Ledger(sqlite_engine).verify().ok


def test_a_rewritten_snapshot_is_reported_naming_it(engine):
    ledger = _closed_ledger(engine)
    assert ledger.verify().ok
    with engine.begin() as conn:
        without_triggers(conn, "period_balances")
        for account, change in (("cash", 700_000_000_00), ("contributed_capital", -700_000_000_00)):
            conn.execute(text("UPDATE period_balances SET balance_pence = balance_pence + :c, "
                              "debit_pence = debit_pence + :d WHERE account_code = :a"),
                         {"c": change, "d": max(change, 0), "a": account})  # fmt: skip
    report = ledger.verify()
    assert not report.ok and report.first_break is None
    broken = report.record_breaks[0]
    assert broken.record == "closing-balance snapshot of 2026Q1"
    assert "account cash GBP fund=lcr holds balance 70000035000 pence" in broken.problem


def test_a_rewritten_period_close_is_reported_naming_it(engine):
    ledger = _closed_ledger(engine)
    with engine.begin() as conn:
        without_triggers(conn, "period_closes")
        conn.execute(text("UPDATE period_closes SET period_end = '2026-01-01'"))  # the quarter reopens
    ledger.post([EntryDraft(date(2026, 2, 1), "Late", "late", (Posting("cash", 1, fund="lcr"),
                                                               Posting("contributed_capital", -1, fund="lcr")))])
    report = ledger.verify()
    assert [b.record for b in report.record_breaks] == ["period close 2026Q1", "closing-balance snapshot of 2026Q1"]
    assert "changed after closing" in report.record_breaks[0].problem
