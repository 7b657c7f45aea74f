"""8 processes each post 1,000 entries at once on PostgreSQL, some to the same accounts and some
with the same idempotency keys (and every batch's first entries retried): every entry balances,
nothing is lost or duplicated, and the hash chain verifies. The writers are plain subprocesses
(tests/reliability/writer.py) with a time limit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

WRITER = Path(__file__).with_name("writer.py")
WRITERS = 8
TIMEOUT_SECONDS = 900


@pytest.mark.slow
@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_eight_writers_post_a_thousand_entries_each(db_url):
    from models.db import make_engine
    from models.ledger_store import Ledger

    sys.path.insert(0, str(WRITER.parent))
    import writer as w  # the constants the writers use

    procs = [subprocess.Popen([sys.executable, str(WRITER), "batches", db_url, str(n)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for n in range(WRITERS)]  # fmt: skip
    results = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=TIMEOUT_SECONDS)
            assert proc.returncode == 0, err
            results.append(tuple(int(x) for x in out.split()))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    expected = WRITERS * (w.ENTRIES_PER_WRITER - w.SHARED_KEYS) + w.SHARED_KEYS
    assert sum(created for created, _ in results) == expected
    retries = w.RETRIED_PER_BATCH * (w.ENTRIES_PER_WRITER // w.BATCH)
    assert all(replayed == retries for _, replayed in results)

    engine = make_engine(db_url)
    try:
        report = Ledger(engine).verify()
        assert report.ok, report.first_break
        assert report.entries_checked == expected
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(DISTINCT idempotency_key) FROM journal_entries")).scalar() == expected
            assert conn.execute(text("SELECT MAX(id) FROM journal_entries")).scalar() == expected  # no gaps
            unbalanced = conn.execute(text(
                "SELECT entry_id FROM postings GROUP BY entry_id HAVING SUM(amount_pence) <> 0")).all()
            assert unbalanced == []
            assert conn.execute(text("SELECT COUNT(*) FROM postings")).scalar() == 2 * expected
            shared = conn.execute(text("SELECT SUM(amount_pence) FROM postings WHERE counterparty = 'shared'")).scalar()
            assert shared == -sum(1_000 + i for i in range(w.SHARED_KEYS))
    finally:
        engine.dispose()
