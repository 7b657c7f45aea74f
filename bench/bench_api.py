"""API load benchmark: fund flow events POSTed concurrently to `fuel serve` on PostgreSQL.

    FUEL_BENCH_POSTGRES_URL=postgresql:///postgres python bench/bench_api.py [--rate 100] [--seconds 20]

Creates a scratch database, sets up a fund and a fund manager token, starts `fuel serve`
(uvicorn) on 127.0.0.1 in a child process, then, from one asyncio client process:

1. the target run: drawdown notices POSTed at a fixed rate (default 100 a second, each with its
   own Idempotency-Key), latency measured from when each request was due; prints p50/p99
   beside the target (DESIGN.md section 7: p99 under 100 ms at 100 posting requests/s);
2. the capacity run: ``--workers`` requests always in flight, for the most it sustains.

A 3-second warm-up (not measured) comes first: each server worker's first requests import
modules and build its in-memory position and reference data.

Then it drops the database. The client shares the machine's cores with the server and
PostgreSQL, so the figures are for all three on one box.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
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


@dataclass
class Run:
    latencies_s: list[float] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def achieved_rate(self) -> float:
        return len(self.latencies_s) / self.wall_s if self.wall_s else 0.0

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies_s)
        return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000 if ordered else float("nan")

    @property
    def p99_ms(self) -> float:
        return self.percentile_ms(0.99)


def report(label: str, run: Run) -> None:
    print(f"API on PostgreSQL, {label}: {len(run.latencies_s)} event POSTs in {run.wall_s:.1f} s = "
          f"{run.achieved_rate:.0f} requests/s; p50 {run.percentile_ms(0.5):.1f} ms, p99 {run.p99_ms:.1f} ms, "
          f"max {run.percentile_ms(1.0):.1f} ms; {len(run.errors)} non-201 answers"
          + (f" (status: count {dict(Counter(run.errors))}; 0 = no answer)" if run.errors else ""), flush=True)


def event_body(n: int) -> dict:
    return {"kind": "drawdown_notice", "effective_date": "2026-03-01", "tranche": "bench-senior", "amount_pence": 100 + n}


class LoadClient:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams, up to ``connections`` sockets.

    The load generator shares the 2 cores with the server and PostgreSQL; httpx spent 2-5 ms
    of CPU per request, a tenth to a third of the whole budget, so the benchmark writes the
    requests itself (the server's answers are still read in full and their status checked)."""

    def __init__(self, base: str, token: str, connections: int) -> None:
        host_port = base.removeprefix("http://")
        self.host, port = host_port.split(":")
        self.port = int(port)
        self.token = token
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.slots = asyncio.Semaphore(connections)

    async def post_event(self, n: int) -> int:
        body = json.dumps(event_body(n)).encode()
        head = (f"POST /funds/bench/events HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Authorization: Bearer {self.token}\r\nIdempotency-Key: b-{n}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        async with self.slots:
            while True:  # a kept-alive socket the server has since closed is dropped and the request retried
                reused = bool(self.idle)
                reader, writer = self.idle.pop() if reused else await asyncio.open_connection(self.host, self.port)
                try:
                    writer.write(head + body)
                    status_line = await asyncio.wait_for(reader.readline(), 30)
                    if not status_line:
                        raise ConnectionResetError("closed by the server")
                    length = 0
                    while (line := await reader.readline()) not in (b"\r\n", b""):
                        name, _, value = line.partition(b":")
                        if name.strip().lower() == b"content-length":
                            length = int(value)
                    await reader.readexactly(length)
                except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError):
                    writer.close()
                    if reused:
                        continue
                    return 0
                self.idle.append((reader, writer))
                return int(status_line.split()[1])

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


async def _post(client: LoadClient, n: int, run: Run, started: float) -> None:
    status = await client.post_event(n)
    run.latencies_s.append(time.perf_counter() - started)
    if status != 201:
        run.errors.append(status)


async def open_loop(base: str, token: str, rate: float, seconds: float, first_key: int) -> Run:
    """Requests sent on a fixed schedule whatever the answers: latency counts from the moment a
    request was due, so a slow server cannot hide its queue (no coordinated omission)."""
    run = Run()
    client = LoadClient(base, token, 256)
    began = time.perf_counter()
    tasks = []
    for i in range(int(rate * seconds)):
        due = began + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_post(client, first_key + i, run, due)))
    await asyncio.gather(*tasks)
    run.wall_s = time.perf_counter() - began
    client.close()
    return run


async def closed_loop(base: str, token: str, workers: int, seconds: float, first_key: int) -> Run:
    """``workers`` requests always in flight: the most the server sustains."""
    run = Run()
    counter = iter(range(first_key, first_key + 10_000_000))
    client = LoadClient(base, token, workers)
    began = time.perf_counter()
    deadline = began + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            await _post(client, next(counter), run, time.perf_counter())

    await asyncio.gather(*(worker() for _ in range(workers)))
    run.wall_s = time.perf_counter() - began
    client.close()
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="Paced requests per second (default 100).")
    parser.add_argument("--seconds", type=float, default=20.0, help="How long to send at that rate.")
    parser.add_argument("--workers", type=int, default=8, help="Concurrent requests in the capacity run (at most 64).")
    parser.add_argument("--capacity-seconds", type=float, default=10.0, help="How long the capacity run lasts.")
    parser.add_argument("--server-workers", type=int, default=2, help="uvicorn worker processes.")
    args = parser.parse_args()
    args.workers = max(1, min(args.workers, 64))
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

        # Warm-up, not measured: each worker's first requests import modules and build its caches.
        asyncio.run(closed_loop(base, token, 4, 3.0, first_key=2_000_000))
        paced = asyncio.run(open_loop(base, token, args.rate, args.seconds, first_key=0))
        report(f"paced at {args.rate:.0f}/s", paced)
        met = paced.p99_ms < 100 and paced.achieved_rate >= 0.95 * args.rate and not paced.errors
        print(f"  target (DESIGN.md section 7): p99 under 100 ms at 100 posting requests/s -> "
              f"{'met' if met and args.rate >= 100 else 'NOT met'} in this run")
        capacity = asyncio.run(closed_loop(base, token, args.workers, args.capacity_seconds,
                                           first_key=1_000_000))
        report(f"capacity ({args.workers} in flight)", capacity)
        errors = paced.errors + capacity.errors
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
