"""API load benchmark: fund flow events POSTed concurrently to `fuel serve` on PostgreSQL.

    FUEL_BENCH_POSTGRES_URL=postgresql:///postgres python bench/bench_api.py [--requests 2000] [--workers 8]

Creates a scratch database, sets up a fund and a fund manager token, starts uvicorn on
127.0.0.1 (a free port) in a child process, then worker threads POST drawdown notices (each
with its own Idempotency-Key) until the count or the time limit is reached. Prints requests per
second and p50/p99 latency beside the target (DESIGN.md section 7: p99 under 100 ms at 100
posting requests/s), then drops the database.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup(url: str) -> str:
    from ledger.accounts import load_chart_toml
    from ledger.funds import fund_setup_from_mapping
    from models.api_store import create_token
    from models.db import make_engine, migrate
    from models.flows_store import save_setup
    from models.ledger_store import load_chart

    engine = make_engine(url)
    migrate(engine)
    chart = REPO / "fixtures" / "charts" / "social_investment_fund.toml"
    setup_data = {
        "fund": {"id": "bench", "name": "Bench fund"},
        "parties": [{"id": "bench-inv", "name": "Investor", "kind": "investor", "investor_type": "social_investor"}],
        "tranches": [{"id": "bench-senior", "name": "Senior", "rank": 1}],
        "commitments": [{"id": "bench-c", "tranche": "bench-senior", "investor": "bench-inv",
                         "amount": "100000000.00", "date": "2026-01-01"}],
    }
    with engine.begin() as conn:
        load_chart(conn, load_chart_toml(chart.read_text(), "chart"))
        save_setup(conn, fund_setup_from_mapping(setup_data, "bench"), "bench")
        token, _ = create_token(conn, "bench", "fund_manager", "bench")
    engine.dispose()
    return token


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="Requests in all (at most 100,000).")
    parser.add_argument("--workers", type=int, default=8, help="Concurrent client threads (at most 64).")
    parser.add_argument("--seconds", type=float, default=60.0, help="Stop after this long in any case.")
    parser.add_argument("--server-workers", type=int, default=2, help="uvicorn worker processes.")
    args = parser.parse_args()
    total = max(1, min(args.requests, 100_000))
    workers = max(1, min(args.workers, 64))
    admin_url = os.environ.get("FUEL_BENCH_POSTGRES_URL")
    if not admin_url:
        print("set FUEL_BENCH_POSTGRES_URL (e.g. postgresql:///postgres) to run the API benchmark")
        return 0

    import httpx
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from models.db import database_url, make_engine

    name = f"fuel_bench_api_{uuid.uuid4().hex[:8]}"
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(database_url(admin_url)).set(database=name).render_as_string(hide_password=False)
    server = None
    try:
        token = setup(url)
        port = free_port()
        env = {**os.environ, "FUEL_DATABASE_URL": url}
        server = subprocess.Popen([sys.executable, "-m", "ledger.shell.cli", "serve", "--host", "127.0.0.1",
                                   "--port", str(port), "--workers", str(args.server_workers)], cwd=REPO, env=env)
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            print("the server did not start")
            return 1

        latencies: list[float] = []
        errors: list[int] = []
        lock = threading.Lock()
        counter = iter(range(total))
        deadline = time.perf_counter() + args.seconds

        def worker() -> None:
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                while time.perf_counter() < deadline:
                    with lock:
                        n = next(counter, None)
                    if n is None:
                        return
                    body = {"kind": "drawdown_notice", "effective_date": "2026-03-01", "tranche": "bench-senior",
                            "amount_pence": 100 + n}
                    start = time.perf_counter()
                    response = client.post("/funds/bench/events", json=body, headers={"Idempotency-Key": f"b-{n}"})
                    elapsed = time.perf_counter() - start
                    with lock:
                        latencies.append(elapsed)
                        if response.status_code != 201:
                            errors.append(response.status_code)

        threads = [threading.Thread(target=worker) for _ in range(workers)]
        began = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - began
        done = len(latencies)
        ordered = sorted(latencies)
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[min(done - 1, int(done * 0.99))] * 1000
        print(f"API on PostgreSQL: {done} event POSTs from {workers} threads in {wall:.1f} s; "
              f"{done / wall:.0f} requests/s; p50 {p50:.1f} ms, p99 {p99:.1f} ms; {len(errors)} non-201 answers")
        print(f"  target (DESIGN.md section 7): p99 under 100 ms at 100 posting requests/s -> "
              f"{'met' if p99 < 100 and done / wall >= 100 else 'NOT met'} in this run")
        return 1 if errors else 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
