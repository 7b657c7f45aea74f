"""Benchmark: net IRR (XIRR) for 10,000 investors, as a statement run needs it.

Run standalone: ``python bench/bench_xirr.py [investors]``. Prints investors per second for the
vectorised :func:`ledger.returns.xirr_many`, beside the one-by-one :func:`ledger.returns.xirr`
on a sample and, when installed, ``pyxirr`` on the same sample, and the largest disagreement.

Each synthetic investor (fixed seed): quarterly drawdowns over the first 2-3 years, quarterly
distributions after that, and the NAV as a final flow on the statement date, about 20-30 flows
over 5-8 years. A few in a hundred have a later drawdown, so the flows change sign more than
once and take the scalar path.
"""

from __future__ import annotations

import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from ledger.returns import xirr, xirr_many  # noqa: E402

STATEMENT_DAY = date(2026, 6, 30)
SAMPLE_SIZE = 500


def synthetic_flows(investors_count: int, seed: int = 20260630) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows_investor: list[np.ndarray] = []
    rows_day: list[np.ndarray] = []
    rows_amount: list[np.ndarray] = []
    for investor in range(investors_count):
        years = int(rng.integers(5, 9))
        start = STATEMENT_DAY - timedelta(days=365 * years)
        quarters = years * 4
        drawn_quarters = int(rng.integers(8, 13))
        offsets = np.arange(quarters) * 91 + rng.integers(0, 20, quarters)
        amounts = np.where(
            np.arange(quarters) < drawn_quarters,
            -rng.integers(1_000_000, 5_000_000, quarters),
            rng.integers(200_000, 4_000_000, quarters),
        )
        if rng.random() < 0.03:  # a late drawdown: flows change sign again
            amounts[-2] = -int(rng.integers(1_000_000, 3_000_000))
        nav = int(rng.integers(0, 20_000_000))
        days = [start + timedelta(days=int(o)) for o in offsets] + [STATEMENT_DAY]
        rows_investor.append(np.full(len(days), investor))
        rows_day.append(np.array(days, dtype="datetime64[D]"))
        rows_amount.append(np.append(amounts, nav).astype(np.int64))
    return pd.DataFrame({
        "investor": np.concatenate(rows_investor),
        "day": np.concatenate(rows_day),
        "amount_pence": np.concatenate(rows_amount),
    })


def main(argv: list[str]) -> None:
    investors_count = int(argv[1]) if len(argv) > 1 else 10_000
    frame = synthetic_flows(investors_count)
    print(f"investors: {investors_count:,}  flows: {len(frame):,}")

    started = time.perf_counter()
    rates = xirr_many(frame)
    elapsed_s = time.perf_counter() - started
    print(f"xirr_many (vectorised):      {elapsed_s:8.3f} s  {investors_count / elapsed_s:12,.0f} investors/s"
          f"  (n/a: {int(rates['rate'].isna().sum())})")

    sample = frame[frame["investor"] < min(SAMPLE_SIZE, investors_count)]
    groups = [
        (investor, [(d.date(), int(a)) for d, a in zip(group["day"], group["amount_pence"])])
        for investor, group in sample.groupby("investor")
    ]
    started = time.perf_counter()
    scalar = {investor: xirr(flows).rate for investor, flows in groups}
    elapsed_s = time.perf_counter() - started
    print(f"xirr one by one (sample {len(groups)}): {elapsed_s:8.3f} s  {len(groups) / elapsed_s:12,.0f} investors/s")
    worst = max(
        (abs(rates.loc[i, "rate"] - r) for i, r in scalar.items() if r is not None and not np.isnan(rates.loc[i, "rate"])),
        default=0.0,
    )
    print(f"largest difference vectorised vs one by one: {worst:.2e}")

    try:
        import pyxirr
    except ImportError:
        print("pyxirr not installed: no external comparison")
        return
    started = time.perf_counter()
    external = {}
    for investor, flows in groups:
        try:
            external[investor] = pyxirr.xirr([d for d, _ in flows], [a for _, a in flows])
        except Exception:  # pyxirr raises on some inputs; the comparison only needs the rest
            external[investor] = None
    elapsed_s = time.perf_counter() - started
    print(f"pyxirr one by one (sample {len(groups)}):  {elapsed_s:8.3f} s  {len(groups) / elapsed_s:12,.0f} investors/s")
    worst = max(
        (abs(rates.loc[i, "rate"] - r) for i, r in external.items()
         if r is not None and not np.isnan(rates.loc[i, "rate"])),
        default=0.0,
    )
    print(f"largest difference vectorised vs pyxirr: {worst:.2e}")


if __name__ == "__main__":
    main(sys.argv)
