"""Group commit (models/event_writer.py): events from concurrent requests share a transaction
but each gets exactly the answer it would get alone."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from ledger.errors import FuelError
from ledger.flows import DrawdownNotice, Fee
from models.event_writer import EventWriter
from models.flows_store import import_flows, save_setup
from models.ledger_store import lock_chain, verify
from tests.integration.test_flows_store import FUND, ROOT, setup_of


@pytest.fixture
def flowed(engine):
    with engine.begin() as conn:
        save_setup(conn, setup_of())
        import_flows(conn, (ROOT / "fixtures" / "flows" / "example_flows.csv").read_text(), "example_flows.csv")
    return engine


def fee(key: str, pence: int) -> Fee:
    return Fee(fund=FUND, effective_date=date(2026, 9, 1), amount_pence=pence, form="expense", source="public", key=key)


def test_concurrent_events_each_get_their_own_answer(flowed):
    writer = EventWriter(flowed)
    events = [fee(f"g-{i}", 1_000 + i) for i in range(40)]
    events += [fee("g-3", 1_003)]  # a replay of an event in the same burst: already posted
    events += [fee("g-5", 9_999)]  # the same key with other content: a conflict
    events += [DrawdownNotice(fund=FUND, effective_date=date(2026, 9, 1), tranche="no-such-tranche",
                              amount_pence=100, key="g-bad")]  # refused by its rule
    # Hold the chain lock while the requests arrive, so they queue and share transactions.
    with flowed.begin() as blocker, ThreadPoolExecutor(max_workers=len(events)) as pool:
        lock_chain(blocker)
        futures = [pool.submit(writer.record, event, "tester") for event in events]
        time.sleep(0.5)
        blocker.rollback()
    outcomes = []
    for future in futures:
        try:
            result, created = future.result()
            outcomes.append((result.entry.draft.idempotency_key, created))
        except FuelError as exc:
            outcomes.append(type(exc).__name__)
    created = [o for o in outcomes[:40] if isinstance(o, tuple) and o[1]]
    assert len(created) == 40  # every distinct event posted exactly once
    batches = {futures[i].result()[0].entry.recorded_at for i in range(40)}
    assert len(batches) <= 3  # group commit: at most the first one or two alone, then the rest together
    assert outcomes[40] == ("g-3", False)
    assert outcomes[41] == "IdempotencyConflict"
    assert outcomes[42] == "NotFound"
    with flowed.connect() as conn:
        report = verify(conn)
    assert report.ok


def test_a_replay_after_the_fact_returns_the_stored_entry(flowed):
    writer = EventWriter(flowed)
    first, created = writer.record(fee("once", 500), "tester")
    again, created_again = writer.record(fee("once", 500), "tester")
    assert created and not created_again
    assert again.entry.id == first.entry.id
