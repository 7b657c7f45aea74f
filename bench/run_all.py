"""Run every benchmark under bench/ in one go (what `make bench` does), each in its own process.

Set FUEL_BENCH_POSTGRES_URL (e.g. postgresql:///postgres) to include the PostgreSQL figures.
Each benchmark prints its own figures and, where a peer exists, the ratio.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def main() -> int:
    failures = 0
    for script in sorted(BENCH.glob("bench_*.py")):
        print(f"== {script.name}", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(script)], cwd=BENCH.parent)
        print(f"   ({time.perf_counter() - started:.0f} s)\n", flush=True)
        failures += result.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
