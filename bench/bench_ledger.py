"""Bulk posting, trial balance and one account's balance, with every ledger rule in force.

Posts ENTRIES entries of two postings each, in batches, through the same code path as
`fuel post` (checks, idempotency look-up, hash chain, triggers), then times the trial balance
against a raw SQL GROUP BY over the same postings table, then closes every quarter but the last
and times one account's balance as of a day in the open quarter and in closed history.

    python bench/bench_ledger.py [--entries 100000] [--batch 1000]
    FUEL_BENCH_POSTGRES_URL=postgresql:///postgres python bench/bench_ledger.py   # adds PostgreSQL
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from ledger.accounts import load_chart_toml  # noqa: E402
from ledger.postings import SOURCES, EntryDraft, Posting  # noqa: E402
from models.db import make_engine, migrate  # noqa: E402
from ledger.periods import Period  # noqa: E402
from models.ledger_store import Ledger, account_balance, balances, load_chart, post_entries  # noqa: E402

CHART = Path(__file__).resolve().parents[1] / "fixtures" / "charts" / "social_investment_fund.toml"
PAIRS = [("cash", "contributed_capital"), ("project_loans", "cash"), ("management_fees", "cash"),
         ("cash", "outcome_income"), ("cash", "grant_capital")]


def synthetic_drafts(count: int, start: int = 0) -> list[EntryDraft]:
    drafts = []
    for i in range(start, start + count):
        debit, credit = PAIRS[i % len(PAIRS)]
        source = SOURCES[i % 3]
        dims = dict(fund="bench", source=source, tranche=f"t{i % 3}", project=f"p{i % 40}")
        amount = 100 + (i * 7919) % 1_000_000
        drafts.append(EntryDraft(
            date(2024, 1, 1) + timedelta(days=i % 730),
            "bench entry",
            f"bench-{i}",
            (Posting(debit, amount, counterparty=f"c{i % 50}", **dims), Posting(credit, -amount, **dims)),
        ))
    return drafts


def run(url: str, label: str, entries: int, batch: int) -> dict:
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        load_chart(conn, load_chart_toml(CHART.read_text(), "chart"))
    accounts = [a.code for a in load_chart_toml(CHART.read_text(), "chart").accounts]
    # The drafts are made before the clock starts: what is timed is posting them (checks,
    # idempotency look-up, hash chain, inserts, triggers), not the benchmark's own generator.
    batches = [synthetic_drafts(min(batch, entries - offset), offset) for offset in range(0, entries, batch)]
    started = time.perf_counter()
    for drafts in batches:
        with engine.begin() as conn:
            post_entries(conn, drafts, "bench", known_accounts=accounts)
    post_seconds = time.perf_counter() - started
    del batches
    postings = entries * 2

    ledger = Ledger(engine)
    as_of = date(2030, 1, 1)
    tb_seconds = best_of(3, lambda: ledger.trial_balance(as_of))
    raw_sql = text(
        "SELECT account_code, currency, SUM(CASE WHEN amount_pence > 0 THEN amount_pence ELSE 0 END), "
        "SUM(CASE WHEN amount_pence < 0 THEN -amount_pence ELSE 0 END), SUM(amount_pence) "
        "FROM postings WHERE effective_date <= :as_of GROUP BY account_code, currency ORDER BY account_code, currency"
    )
    with engine.connect() as conn:
        raw_seconds = best_of(3, lambda: conn.execute(raw_sql, {"as_of": as_of}).all())
        raw = conn.execute(raw_sql, {"as_of": as_of}).all()
    ours = ledger.trial_balance(as_of)
    if [(l.account_code, l.net_pence) for l in ours] != [(r[0], int(r[4])) for r in raw]:
        raise SystemExit("trial balance and raw GROUP BY disagree")
    if sum(l.net_pence for l in ours) != 0:
        raise SystemExit("trial balance does not sum to zero")
    verify_started = time.perf_counter()
    report = ledger.verify()
    verify_seconds = time.perf_counter() - verify_started
    if not report.ok or report.entries_checked != entries:
        raise SystemExit(f"verify failed: {report}")
    balance = account_balance_figures(engine)
    engine.dispose()
    result = {
        "backend": label, "entries": entries, "postings": postings,
        "postings_per_s": postings / post_seconds, "post_s": post_seconds,
        "tb_ms": tb_seconds * 1000, "raw_group_by_ms": raw_seconds * 1000,
        "tb_vs_raw": tb_seconds / raw_seconds, "verify_entries_per_s": entries / verify_seconds,
    }
    print(
        f"{label:<10} posted {entries:,} entries ({postings:,} postings) in {post_seconds:.1f} s: "
        f"{result['postings_per_s']:,.0f} postings/s | trial balance {result['tb_ms']:.0f} ms vs raw GROUP BY "
        f"{result['raw_group_by_ms']:.0f} ms (ratio {result['tb_vs_raw']:.2f}) | verify {result['verify_entries_per_s']:,.0f} entries/s",
        flush=True,
    )
    print(f"{'':<10} one account's balance (cash), quarters closed through {balance['closed']}: as of "
          f"{balance['open_day']} (open quarter) {balance['open_ms']:.1f} ms, as of {balance['closed_day']} "
          f"(closed history) {balance['closed_ms']:.1f} ms; closing {balance['quarters']} quarters took "
          f"{balance['close_s']:.1f} s | target under 10 ms", flush=True)
    return result


def account_balance_figures(engine) -> dict:
    """Close every quarter but the last the synthetic entries reach, then time one account's
    balance as of a day in the open quarter and as of a day deep in closed history (best of 20)."""
    ledger = Ledger(engine)
    with engine.connect() as conn:
        last_day = conn.execute(text("SELECT MAX(effective_date) FROM postings")).scalar()
    last_day = last_day if isinstance(last_day, date) else date.fromisoformat(str(last_day))
    open_quarter = Period.containing(last_day)
    quarters = []
    period = Period.containing(date(2024, 1, 1))
    while period.start < open_quarter.start:
        quarters.append(period)
        period = Period.containing(period.end)
    started = time.perf_counter()
    for quarter in quarters:
        ledger.close(quarter, closed_by="bench", today=open_quarter.end)
    close_s = time.perf_counter() - started
    open_day, closed_day = last_day, quarters[len(quarters) // 2].last_day
    with engine.connect() as conn:
        for day in (open_day, closed_day):  # the fast path must agree with the general one
            general = balances(conn, day, by=("account_code",), filters={"account_code": "cash", "currency": "GBP"})
            if account_balance(conn, "cash", day) != general[0].balance_pence:
                raise SystemExit(f"account_balance and balances disagree as of {day}")
        open_ms = best_of(20, lambda: account_balance(conn, "cash", open_day)) * 1000
        closed_ms = best_of(20, lambda: account_balance(conn, "cash", closed_day)) * 1000
    return {"closed": quarters[-1].name, "quarters": len(quarters), "close_s": close_s, "open_day": open_day,
            "closed_day": closed_day, "open_ms": open_ms, "closed_ms": closed_ms}


def best_of(times: int, func) -> float:
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run(f"sqlite:///{folder}/bench.db", "SQLite", args.entries, args.batch)
    pg_url = os.environ.get("FUEL_BENCH_POSTGRES_URL")
    if pg_url:
        admin = make_engine(pg_url).execution_options(isolation_level="AUTOCOMMIT")
        name = f"fuel_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            from sqlalchemy.engine import make_url

            from models.db import database_url

            run(make_url(database_url(pg_url)).set(database=name).render_as_string(hide_password=False),
                "PostgreSQL", args.entries, args.batch)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        print("PostgreSQL  skipped (set FUEL_BENCH_POSTGRES_URL to include it)")


if __name__ == "__main__":
    main()
