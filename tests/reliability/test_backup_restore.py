"""``fuel backup`` while a writer keeps posting, then ``fuel restore`` into an empty database: the
restored trial balance equals the source's over the entries the backup holds, and the chain
verifies. Restoring into a non-empty database is refused. Both backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("writer.py")


def _fuel(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "FUEL_DATABASE_URL": url}
    done = subprocess.run([sys.executable, "-m", "ledger.shell.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done


def _balances(conn, through_entry: int) -> dict[tuple[str, str], int]:
    rows = conn.execute(text(
        "SELECT account_code, COALESCE(counterparty, ''), SUM(amount_pence) FROM postings "
        "WHERE entry_id <= :n GROUP BY account_code, COALESCE(counterparty, '')"), {"n": through_entry})
    return {(a, c): int(total) for a, c, total in rows}


def _empty_target(backend: str, request, tmp_path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'restored.db'}"
    from tests.conftest import _with_database  # noqa: PLC0415

    admin, admin_url, _ = request.getfixturevalue("postgres_template")
    name = f"fuel_r_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    request.addfinalizer(drop)
    return _with_database(admin_url, name)


def test_backup_while_writing_then_restore_into_an_empty_database(backend, engine, db_url, request, tmp_path):
    from models.db import make_engine
    from models.ledger_store import Ledger

    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, str(WRITER), "forever", db_url, str(stop)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while Ledger(engine).verify().entries_checked < 20 and time.monotonic() < deadline:
            time.sleep(0.2)  # let the writer get going
        backup = tmp_path / ("fuel.backup" if backend == "sqlite" else "fuel.dump")
        made = _fuel(db_url, "backup", str(backup), "--json")
        assert made.returncode == 0, made.stderr
        time.sleep(0.5)  # and it keeps writing after the backup
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=180)
    assert writer.returncode == 0, err
    info = json.loads(made.stdout)
    assert info["entries"] >= 20
    with engine.connect() as conn:
        total = conn.execute(text("SELECT COUNT(*) FROM journal_entries")).scalar()
        expected = _balances(conn, info["entries"])
        tip = conn.execute(text("SELECT entry_hash FROM journal_entries WHERE id = :n"), {"n": info["entries"]}).scalar()
    assert total > info["entries"], "the writer should have gone on writing after the backup"
    assert info["chain_tip_hash"] == tip  # the backup is the ledger at one chain position

    target = _empty_target(backend, request, tmp_path)
    restored = _fuel(target, "restore", str(backup), "--json")
    assert restored.returncode == 0, restored.stderr
    assert json.loads(restored.stdout)["chain_ok"] is True
    restored_engine = make_engine(target)
    try:
        with restored_engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM journal_entries")).scalar() == info["entries"]
            assert _balances(conn, info["entries"]) == expected
        assert Ledger(restored_engine).verify().ok
        assert sum(line.net_pence for line in Ledger(restored_engine).trial_balance(date(2030, 1, 1))) == 0
    finally:
        restored_engine.dispose()
    again = _fuel(target, "restore", str(backup))
    assert again.returncode == 1 and "is not empty" in again.stderr and "restore only into a new" in again.stderr
    assert _fuel(db_url, "backup", str(backup)).stderr.strip().endswith(
        "already exists; choose a new file (a backup never overwrites)")
