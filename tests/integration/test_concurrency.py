"""Several processes posting at once must not break the hash chain or the balance rules."""

from __future__ import annotations

import multiprocessing
from datetime import date

from sqlalchemy import text

from models.ledger_store import Ledger

WRITERS = 4
ENTRIES_PER_WRITER = 40
SHARED_KEYS = 10  # every writer also posts these same keys: each must land exactly once


def _writer(url: str, writer: int) -> int:
    from ledger.postings import EntryDraft, Posting
    from models.db import make_engine

    ledger = Ledger(make_engine(url))
    created = 0
    for i in range(ENTRIES_PER_WRITER):
        shared = i < SHARED_KEYS
        key = f"shared-{i}" if shared else f"w{writer}-{i}"
        amount = 1_000 + i if shared else 1_000 * writer + i
        draft = EntryDraft(
            date(2026, 1, 1 + i % 28),
            "Concurrent drawdown",
            key,
            (
                Posting("cash", amount, fund="lcr", source="social_investment"),
                Posting("contributed_capital", -amount, fund="lcr", source="social_investment", counterparty=f"inv{writer}"
                        if not shared else "shared"),
            ),
        )
        # one entry at a time: the most interleaving between processes
        created += ledger.post([draft])[0].created
    return created


def test_concurrent_writers_keep_the_chain_and_lose_nothing(db_url, engine):
    context = multiprocessing.get_context("spawn")
    with context.Pool(WRITERS) as pool:
        created = pool.starmap(_writer, [(db_url, w) for w in range(WRITERS)])
    expected = WRITERS * (ENTRIES_PER_WRITER - SHARED_KEYS) + SHARED_KEYS
    assert sum(created) == expected
    report = Ledger(engine).verify()
    assert report.ok, report.first_break
    assert report.entries_checked == expected
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(DISTINCT idempotency_key) FROM journal_entries")).scalar() == expected
        assert conn.execute(text("SELECT SUM(amount_pence) FROM postings")).scalar() == 0
