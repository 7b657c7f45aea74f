"""Trial balance over 1,000,000 postings: Fuel vs a raw SQL GROUP BY vs hledger (and beancount).

Builds a SQLite ledger of ENTRIES two-posting entries through the bulk posting path
(``post_entries`` in large batches, every rule in force), then times:

* Fuel's trial balance (``Ledger.trial_balance``) against a raw ``GROUP BY`` on the same
  postings table (best of 3 each), asserting the same totals;
* ``hledger balance`` on Fuel's own hledger export of the whole ledger (one run, as a user would
  run it), asserting hledger's per-account totals equal Fuel's to the penny;
* ``bean-query`` (beancount), if installed, on a documented subset (the first BEANCOUNT_ENTRIES
  entries: beancount needs minutes and gigabytes for the whole ledger), against the raw GROUP BY
  over the same entries.

    python bench/bench_trial_balance.py [--entries 500000] [--batch 10000] [--beancount-entries 20000]
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
import subprocess
import sys
import tempfile
import time
from itertools import takewhile
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import text  # noqa: E402

from bench_ledger import CHART, best_of, synthetic_drafts  # noqa: E402
from ledger.accounts import load_chart_toml  # noqa: E402
from models.db import make_engine, migrate  # noqa: E402
from models.ledger_store import Ledger, account_types, iter_entries, load_chart, post_entries  # noqa: E402
from reports.exports import beancount_account, hledger_account, write_beancount, write_hledger  # noqa: E402

# The same figures as Fuel's trial balance (debit and credit turnover and net, per account and
# currency), written by hand against the postings table: the fair peer for "within 2x".
RAW = ("SELECT account_code, SUM(amount_pence), SUM(CASE WHEN amount_pence > 0 THEN amount_pence ELSE 0 END), "
       "SUM(CASE WHEN amount_pence < 0 THEN -amount_pence ELSE 0 END), currency "
       "FROM postings WHERE effective_date <= :as_of {extra}GROUP BY account_code, currency ORDER BY account_code")
TIMEOUT_S = 240


def pence(text_amount: str) -> int:
    value = Decimal(text_amount.replace(",", "").replace("GBP", "").strip() or "0")
    return int(value * 100)


def hledger_totals(journal: Path) -> tuple[dict[str, int], float]:
    started = time.perf_counter()
    result = subprocess.run(["hledger", "-f", str(journal), "balance", "--flat", "--no-total", "-O", "csv"],
                            capture_output=True, text=True, timeout=TIMEOUT_S, check=True)
    seconds = time.perf_counter() - started
    rows = list(csv.reader(io.StringIO(result.stdout)))
    return {row[0]: pence(row[1]) for row in rows[1:] if row}, seconds


def beancount_totals(ledger_file: Path) -> tuple[dict[str, int], float]:
    started = time.perf_counter()
    result = subprocess.run(["bean-query", "-f", "csv", str(ledger_file),
                             "SELECT account, sum(number) AS total GROUP BY account ORDER BY account"],
                            capture_output=True, text=True, timeout=TIMEOUT_S, check=True)
    seconds = time.perf_counter() - started
    rows = list(csv.reader(io.StringIO(result.stdout)))
    return {row[0].strip(): pence(row[1]) for row in rows[1:] if row and row[0].strip()}, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=500_000, help="two postings each (default: 1,000,000 postings)")
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--hledger-entries", type=int, default=50_000,
                        help="entries exported for hledger (0 = all); hledger needs minutes for 1,000,000 postings")
    parser.add_argument("--beancount-entries", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/tb.db")
        migrate(engine)
        chart = load_chart_toml(CHART.read_text(), "chart")
        with engine.begin() as conn:
            load_chart(conn, chart)
        codes = [a.code for a in chart.accounts]
        started = time.perf_counter()
        for offset in range(0, args.entries, args.batch):
            with engine.begin() as conn:
                post_entries(conn, synthetic_drafts(min(args.batch, args.entries - offset), offset), "bench",
                             known_accounts=codes)
        build_s = time.perf_counter() - started
        postings = args.entries * 2
        print(f"built {postings:,} postings ({args.entries:,} entries) on SQLite in {build_s:.1f} s "
              f"({postings / build_s:,.0f} postings/s, every rule in force)", flush=True)

        ledger, as_of = Ledger(engine), date(2030, 1, 1)
        fuel_s = best_of(3, lambda: ledger.trial_balance(as_of))
        fuel = {line.account_code: line.net_pence for line in ledger.trial_balance(as_of)}
        with engine.connect() as conn:
            query = text(RAW.format(extra=""))
            raw_s = best_of(3, lambda: conn.execute(query, {"as_of": as_of}).all())
            raw = {row[0]: int(row[1]) for row in conn.execute(query, {"as_of": as_of})}
            types = account_types(conn)
        if fuel != raw or sum(fuel.values()) != 0:
            raise SystemExit("Fuel's trial balance and the raw GROUP BY disagree (or do not sum to zero)")
        print(f"Fuel trial balance {fuel_s * 1000:.0f} ms | raw SQL GROUP BY {raw_s * 1000:.0f} ms | "
              f"ratio {fuel_s / raw_s:.2f} (target: within 2x) | totals agree", flush=True)

        failures = 0
        if shutil.which("hledger"):
            journal = Path(folder) / "ledger.journal"
            subset = min(args.hledger_entries or args.entries, args.entries)
            started = time.perf_counter()
            with engine.connect() as conn, journal.open("w", encoding="utf-8") as handle:
                write_hledger(takewhile(lambda e: e.id <= subset, iter_entries(conn, chunk_size=5000)), types, handle)
                query = text(RAW.format(extra="AND entry_id <= :subset "))
                wanted = {row[0]: int(row[1]) for row in conn.execute(query, {"as_of": as_of, "subset": subset})}
            export_s = time.perf_counter() - started
            label = "whole ledger" if subset == args.entries else f"SUBSET: first {subset:,} entries"
            try:
                theirs, hledger_s = hledger_totals(journal)
            except subprocess.TimeoutExpired:
                print(f"hledger balance: did not finish within {TIMEOUT_S} s on {subset * 2:,} postings "
                      f"(Fuel on {postings:,} postings is at least {TIMEOUT_S / fuel_s:,.0f}x faster)")
            else:
                expected = {hledger_account(code, types[code]): amount for code, amount in wanted.items() if amount}
                agree = {k: v for k, v in theirs.items() if v} == expected
                failures += not agree
                scale = args.entries / subset
                print(f"hledger balance on Fuel's export ({label}, {subset * 2:,} postings; export {export_s:.0f} s): "
                      f"{hledger_s:.1f} s | Fuel's trial balance on all {postings:,} postings is {hledger_s / fuel_s:,.0f}x "
                      f"faster than hledger on {subset * 2:,} (about {hledger_s * scale / fuel_s:,.0f}x at equal size, "
                      f"linear extrapolation; target: at least 20x) | totals {'agree' if agree else 'DISAGREE'}",
                      flush=True)
        else:
            print("hledger: not installed, skipped")

        if shutil.which("bean-query"):
            subset = min(args.beancount_entries, args.entries)
            ledger_file = Path(folder) / "subset.beancount"
            with engine.connect() as conn, ledger_file.open("w", encoding="utf-8") as handle:
                write_beancount(takewhile(lambda e: e.id <= subset, iter_entries(conn, chunk_size=5000)), types, handle)
                query = text(RAW.format(extra="AND entry_id <= :subset "))
                sub_raw_s = best_of(3, lambda: conn.execute(query, {"as_of": as_of, "subset": subset}).all())
                sub = {row[0]: int(row[1]) for row in conn.execute(query, {"as_of": as_of, "subset": subset})}
            try:
                theirs, bean_s = beancount_totals(ledger_file)
            except (subprocess.TimeoutExpired, subprocess.CalledProcessError) as exc:
                print(f"bean-query: failed on the {subset:,}-entry subset ({type(exc).__name__})")
            else:
                expected = {beancount_account(code, types[code]): amount for code, amount in sub.items() if amount}
                agree = {k: v for k, v in theirs.items() if v} == expected
                failures += not agree
                print(f"bean-query on a subset (first {subset:,} entries, {subset * 2:,} postings): {bean_s:.1f} s "
                      f"vs raw GROUP BY on the same entries {sub_raw_s * 1000:.0f} ms | totals "
                      f"{'agree' if agree else 'DISAGREE'}", flush=True)
        else:
            print("beancount (bean-query): not installed, skipped")
        engine.dispose()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
