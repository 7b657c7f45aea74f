"""Tamper evidence for every dimension of a posting (amount, date and counterparty are in
tests/integration/test_ledger_store.py): a direct SQL change with the triggers bypassed is
reported by verify, and ``fuel verify`` names the entry (exit status 3), on both backends."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from ledger.postings import EntryDraft, Posting
from models.ledger_store import Ledger

ROOT = Path(__file__).resolve().parents[2]


def _entry(key: str, pence: int) -> EntryDraft:
    dims = dict(fund="lcr", source="charitable", tranche="junior", restriction="ageing", project="p1")
    return EntryDraft(date(2026, 1, 5), "Grant received", key,
                      (Posting("cash", pence, **dims),
                       Posting("contributed_capital", -pence, **dims, counterparty="trust")))  # fmt: skip


def _without_triggers(conn) -> None:
    if conn.dialect.name == "postgresql":
        for table in ("postings", "journal_entries"):
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    else:
        for name in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all():
            conn.execute(text(f"DROP TRIGGER {name}"))


@pytest.mark.parametrize("column", ["fund", "source", "tranche", "restriction", "project", "counterparty",
                                    "amount_pence", "effective_date"])
def test_a_changed_dimension_amount_or_date_is_reported_naming_the_entry(engine, db_url, column):
    ledger = Ledger(engine)
    ledger.post([_entry("a", 100), _entry("b", 200), _entry("c", 300)])
    assert ledger.verify().ok
    new_value = {"amount_pence": "amount_pence + 1", "effective_date": "'2026-01-06'"}.get(column, "'tampered'")
    with engine.begin() as conn:
        _without_triggers(conn)
        conn.execute(text(f"UPDATE postings SET {column} = {new_value} WHERE entry_id = 2 AND line_no = 1"))
    report = ledger.verify()
    assert not report.ok and report.first_break.entry_id == 2
    if column != "fund":
        return  # the command-line run below is the same for every column: once per backend is enough
    env = {**os.environ, "FUEL_DATABASE_URL": db_url}
    done = subprocess.run([sys.executable, "-m", "ledger.shell.cli", "verify"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 3
    assert "BROKEN at entry 2:" in done.stderr and "Traceback" not in done.stderr
