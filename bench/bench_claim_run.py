"""Benchmark: a claim run (pricing, all caps, payer split) over 1,000,000 outcome events.

Target (DESIGN.md section 7): under 10 s and under 2 GB for 1,000,000 events with all caps.
Run standalone: ``python bench/bench_claim_run.py [events]``.

The events are synthetic, drawn with a fixed seed for the example Greater Manchester contract
(fixtures/contracts/example_rough_sleeping.toml), with a per-participant cap and a central
top-up payer added so that every cap kind is exercised.
"""

from __future__ import annotations

import dataclasses
import resource
import sys
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from ledger.pbr.claims import apply_caps, price_events, split_payers  # noqa: E402
from ledger.pbr.contracts import Payer, load_contract_toml  # noqa: E402

CONTRACT_PATH = REPO_ROOT / "fixtures" / "contracts" / "example_rough_sleeping.toml"


def synthetic_events(contract, events_count: int, seed: int = 20240101) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    participants_count = max(events_count // 10, 1)
    term_days = (contract.end - contract.start).days
    participant = rng.integers(0, participants_count, events_count)
    outcome = rng.integers(0, len(contract.outcomes), events_count)
    day = rng.integers(0, term_days, events_count)
    return pd.DataFrame(
        {
            "participant_id": pd.Series([f"P{i:07d}" for i in range(participants_count)])[participant].to_numpy(),
            "outcome_id": np.array(contract.outcome_ids, dtype=object)[outcome],
            "achieved_on": pd.Timestamp(contract.start) + pd.to_timedelta(day, unit="D"),
            "evidence_ref": "bench",
            "row_number": np.arange(1, events_count + 1),
            "accepted": True,
            "reason": "",
        }
    )


def main() -> None:
    events_count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    contract = load_contract_toml(CONTRACT_PATH.read_text(), CONTRACT_PATH.name)
    # Every cap kind in force: a per-participant cap and a 30% central top-up with its own cap.
    contract = dataclasses.replace(
        contract,
        participant_cap_pence=820_000,
        payers=contract.payers + (Payer("central", "Central top-up fund", 60_000_000, Decimal("0.30")),),
    )
    events = synthetic_events(contract, events_count)

    started = time.perf_counter()
    priced = price_events(events, contract)
    t_price = time.perf_counter()
    capped = apply_caps(priced, contract)
    t_caps = time.perf_counter()
    lines = split_payers(capped, contract)
    t_split = time.perf_counter()

    total = t_split - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"claim run over {events_count:,} events (pricing + caps + payer split)")
    print(f"  pricing      {t_price - started:7.2f} s")
    print(f"  caps         {t_caps - t_price:7.2f} s")
    print(f"  payer split  {t_split - t_caps:7.2f} s")
    print(f"  total        {total:7.2f} s   target < 10 s")
    print(f"  throughput   {events_count / total:,.0f} events/s")
    print(f"  peak memory  {peak_mb:,.0f} MB   target < 2048 MB")
    print(f"  net paid     {int(lines['net_pence'].sum()):,} pence on {int((lines['net_pence'] > 0).sum()):,} lines")


if __name__ == "__main__":
    main()
