"""Tamper evidence a truncation cannot forge (issue 16, item 7), on SQLite and PostgreSQL:
deleting the last entries or a period close (triggers bypassed) is reported by verify, through
the period closes' record of the chain's tip and their own chain, or against a tip an auditor
kept from ``fuel tip`` (CLI and API)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import text

from ledger.periods import Period
from ledger.postings import EntryDraft, Posting
from models.ledger_store import Ledger

ROOT = Path(__file__).resolve().parents[2]


def _entry(key: str, pence: int, day: date = date(2026, 1, 5)) -> EntryDraft:
    return EntryDraft(day, "Grant received", key, (Posting("cash", pence, fund="lcr"),
                                                   Posting("contributed_capital", -pence, fund="lcr")))


def without_triggers(conn, *tables: str) -> None:
    """Bypass the database's guards, as someone with the database's password could."""
    if conn.dialect.name == "postgresql":
        for table in tables:
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER ALL"))
    else:
        for name in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all():
            conn.execute(text(f"DROP TRIGGER {name}"))


def _delete_last_entry(engine) -> None:
    with engine.begin() as conn:
        without_triggers(conn, "journal_entries", "postings")
        last = conn.execute(text("SELECT MAX(id) FROM journal_entries")).scalar()
        conn.execute(text("DELETE FROM postings WHERE entry_id = :id"), {"id": last})
        conn.execute(text("DELETE FROM journal_entries WHERE id = :id"), {"id": last})


def _delete_close(engine, period: str) -> None:
    with engine.begin() as conn:
        without_triggers(conn, "period_closes", "period_balances")
        close_id = conn.execute(text("SELECT id FROM period_closes WHERE period = :p"), {"p": period}).scalar()
        conn.execute(text("DELETE FROM period_balances WHERE close_id = :id"), {"id": close_id})
        conn.execute(text("DELETE FROM period_closes WHERE id = :id"), {"id": close_id})


def _fuel(db_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "FUEL_DATABASE_URL": db_url}
    return subprocess.run([sys.executable, "-m", "ledger.shell.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_deleting_the_last_entries_is_reported_against_a_kept_tip(engine, db_url):
    ledger = Ledger(engine)
    ledger.post([_entry("a", 100), _entry("b", 200), _entry("c", 300)])
    shown = _fuel(db_url, "tip")
    assert shown.returncode == 0, shown.stderr
    kept = shown.stdout.split()[1]
    assert kept == ledger.tip().text and kept.startswith("3:")
    ledger.post([_entry("d", 400)])
    assert ledger.verify(kept).ok  # the ledger grew past the kept tip: fine
    _delete_last_entry(engine)
    _delete_last_entry(engine)  # now entries d and c are gone: the chain left still links
    assert ledger.verify().entries_checked == 2 and ledger.verify().ok
    report = ledger.verify(kept)
    assert not report.ok and report.record_breaks[0].record == f"kept tip {kept}"
    assert "chain now ends at entry 2" in report.record_breaks[0].problem
    bare_hash = kept.split(":")[1]  # the hash alone is enough too
    assert not ledger.verify(bare_hash).ok
    done = _fuel(db_url, "verify", "--tip", kept)
    assert done.returncode == 3 and f"BROKEN at kept tip {kept}:" in done.stderr and "Traceback" not in done.stderr
    bad = _fuel(db_url, "verify", "--tip", "not-a-tip")
    assert bad.returncode != 0 and "error:" in bad.stderr and "Traceback" not in bad.stderr


def test_deleting_entries_a_period_close_recorded_is_reported_naming_the_close(engine):
    ledger = Ledger(engine)
    ledger.post([_entry("a", 100), _entry("b", 200)])
    ledger.close(Period.parse("2026Q1"), today=date(2026, 4, 2))
    _delete_last_entry(engine)
    report = ledger.verify()
    assert not report.ok and report.first_break is None
    assert report.record_breaks[0].record == "period close 2026Q1"
    assert "taken at entry 2 but the chain now ends at entry 1" in report.record_breaks[0].problem


def test_deleting_a_period_close_is_reported_by_the_next_close_or_the_kept_tip(engine):
    ledger = Ledger(engine)
    ledger.post([_entry("a", 100)])
    ledger.close(Period.parse("2026Q1"), today=date(2026, 7, 2))
    ledger.post([_entry("b", 200, date(2026, 4, 5))])
    ledger.close(Period.parse("2026Q2"), today=date(2026, 7, 2))
    kept = ledger.tip().text
    assert kept.startswith("2:") and ledger.verify(kept).ok
    _delete_close(engine, "2026Q2")  # the last close: its quarter reopens
    ledger.post([_entry("late", 50, date(2026, 5, 1))])  # and takes a new entry
    assert not ledger.verify(kept).ok
    assert ledger.verify(kept).record_breaks[0].record == f"kept tip {kept}"


def test_a_middle_close_deleted_breaks_the_chain_of_closes(engine):
    ledger = Ledger(engine)
    ledger.post([_entry("a", 100)])
    for quarter in ("2026Q1", "2026Q2", "2026Q3"):
        ledger.close(Period.parse(quarter), today=date(2026, 10, 2))
    _delete_close(engine, "2026Q2")
    report = ledger.verify()
    assert [b.record for b in report.record_breaks] == ["period close 2026Q3"]
    assert "close before it was deleted or changed" in report.record_breaks[0].problem


def test_the_api_verifies_against_a_kept_tip(engine):
    from fastapi.testclient import TestClient

    from ledger.shell.api.app import create_app
    from ledger.shell.api.settings import Settings
    from models.api_store import create_token

    ledger = Ledger(engine)
    ledger.post([_entry("a", 100), _entry("b", 200)])
    kept = ledger.tip().text
    with engine.begin() as conn:
        token = create_token(conn, "aud", "auditor", None)[0]
    client = TestClient(create_app(engine, Settings()), raise_server_exceptions=False)
    headers = {"Authorization": f"Bearer {token}"}
    good = client.get("/ledger/verify", params={"tip": kept}, headers=headers).json()
    assert good["ok"] and good["tip_checked"]
    _delete_last_entry(engine)
    bad = client.get("/ledger/verify", params={"tip": kept}, headers=headers).json()
    assert not bad["ok"] and bad["breaks"][0]["record"] == f"kept tip {kept}"
    assert client.get("/ledger/verify", params={"tip": "zz"}, headers=headers).status_code == 422
