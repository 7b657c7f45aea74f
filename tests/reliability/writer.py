"""A writer process for the reliability tests: ``python tests/reliability/writer.py MODE URL N``.

``batches URL WRITER``: post the concurrency test's 1,000 entries in batches of 25 (with shared
keys and client retries) and print ``created replayed``. ``forever URL STOP_FILE``: post one
small entry after another until STOP_FILE exists (at most 120 s) and print how many.
Run as a plain subprocess (not multiprocessing) so a stuck writer can be killed by its pid.
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

ENTRIES_PER_WRITER = 1_000
SHARED_KEYS = 100  # every writer posts these same keys with the same content: each lands once
BATCH = 25
RETRIED_PER_BATCH = 3


def drawdown(key: str, pence: int, investor: str, day: int = 5):
    from ledger.postings import EntryDraft, Posting

    return EntryDraft(
        date(2026, 1, 1 + day % 28), f"Drawdown from {investor}", key,
        (Posting("cash", pence, fund="lcr", source="social_investment", tranche="senior"),
         Posting("contributed_capital", -pence, fund="lcr", source="social_investment", tranche="senior",
                 counterparty=investor)),
        event_kind="drawdown_received", event_data={"investor": investor, "amount_pence": pence},
    )  # fmt: skip


def batches(url: str, writer: int) -> tuple[int, int]:
    from models.db import make_engine
    from models.ledger_store import Ledger

    engine = make_engine(url)
    ledger = Ledger(engine)
    drafts = [drawdown(f"shared-{i}", 1_000 + i, "shared", i) if i < SHARED_KEYS
              else drawdown(f"w{writer}-{i}", 10_000 * writer + i, f"inv{writer}", i)
              for i in range(ENTRIES_PER_WRITER)]  # fmt: skip
    starts = list(range(0, ENTRIES_PER_WRITER, BATCH))
    if writer % 2:  # half the writers go backwards, so shared keys collide from both ends
        starts.reverse()
    created = replayed = 0
    for start in starts:
        batch = drafts[start : start + BATCH]
        created += sum(r.created for r in ledger.post(batch))
        replayed += sum(not r.created for r in ledger.post(batch[:RETRIED_PER_BATCH]))  # a client's retry
    engine.dispose()
    return created, replayed


def forever(url: str, stop_file: str, seconds_max: float = 120.0) -> int:
    from models.db import make_engine
    from models.ledger_store import Ledger

    ledger = Ledger(make_engine(url))
    posted, deadline = 0, time.monotonic() + seconds_max
    while not Path(stop_file).exists() and time.monotonic() < deadline:
        ledger.post([drawdown(f"bg-{posted}", 100 + posted, ("mersey", "wirral", "sefton")[posted % 3], posted)])
        posted += 1
    return posted


if __name__ == "__main__":
    mode, url, arg = sys.argv[1:4]
    if mode == "batches":
        print(*batches(url, int(arg)))
    else:
        print(forever(url, arg))
