"""Crash safety: a flows import and an outcomes import through ``fuel`` are killed with SIGKILL at
random moments (seeded), several times; afterwards the database holds all of the file or none
of it, and the hash chain verifies. Then the import runs to the end and everything is there."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[2]
PBR = ROOT / "tests" / "data" / "pbr"
KILLS = 4
FLOW_ROWS = 6_000
OUTCOME_ROWS = 6_000
RUN_TIMEOUT_SECONDS = 600


def _prepare(engine) -> None:
    from ledger.funds import fund_setup_from_mapping
    from models.flows_store import import_flows, save_setup
    from models.pbr_store import import_participants, load_contract
    from tests.pbr_fund import set_up_lcr_fund

    setup = fund_setup_from_mapping(
        tomllib.loads((ROOT / "fixtures" / "funds" / "example_fund.toml").read_text()), "example_fund.toml")
    with engine.begin() as conn:
        save_setup(conn, setup)
        import_flows(conn, (ROOT / "fixtures" / "flows" / "example_flows.csv").read_text(), "example_flows.csv")
        set_up_lcr_fund(conn)  # the contract's own fund, beside the example fund
        load_contract(conn, (PBR / "contract.toml").read_text(), "contract.toml")
        import_participants(conn, "lcr-housing", (PBR / "participants.csv").read_text(), "participants.csv")


def _fuel(url: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "FUEL_DATABASE_URL": url, "FUEL_USER": "crash-test"}
    return subprocess.Popen([sys.executable, "-m", "ledger.shell.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip


def _state(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        flows = conn.execute(text("SELECT COUNT(*) FROM journal_entries WHERE idempotency_key LIKE 'crash-%'")).scalar()
        events = conn.execute(text("SELECT COUNT(*) FROM pbr_outcome_events WHERE evidence_ref LIKE 'CRASH-%'")).scalar()
    return flows, events


@pytest.mark.slow
def test_killed_imports_leave_all_or_nothing(engine, db_url, tmp_path):
    from models.ledger_store import Ledger

    _prepare(engine)
    flows_csv = tmp_path / "big_flows.csv"
    flows_csv.write_text("event,date,fund,amount,tranche,source,form,key\n" + "".join(
        f"fee,2026-04-02,lcr-outcomes,0.01,senior,social_investment,expense,crash-{i}\n" for i in range(FLOW_ROWS)))
    outcomes_csv = tmp_path / "big_outcomes.csv"
    outcomes_csv.write_text("participant_id,outcome_id,achieved_on,evidence_ref,submitted_on\n" + "".join(
        f"P00{i % 5 + 1},entry,2026-07-01,CRASH-{i},2026-10-05\n" for i in range(OUTCOME_ROWS)))
    commands = {
        "flows": ("import", "flows", str(flows_csv)),
        "outcomes": ("outcomes", "import", str(outcomes_csv), "--contract", "lcr-housing"),
    }
    rng = random.Random(20261123)
    full = {"flows": FLOW_ROWS, "outcomes": OUTCOME_ROWS}
    for attempt in range(KILLS):
        for which, args in commands.items():
            proc = _fuel(db_url, *args)
            time.sleep(rng.uniform(0.5, 6.0))  # startup is about 1-2 s; the import a few seconds more
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
            flows, events = _state(engine)
            held = flows if which == "flows" else events
            assert held in (0, full[which]), f"attempt {attempt}: {which} import left {held} of {full[which]} rows"
            report = Ledger(engine).verify()
            assert report.ok, report.first_break
    for which, args in commands.items():  # uninterrupted: the whole file, once
        proc = _fuel(db_url, *args)
        _, err = proc.communicate(timeout=RUN_TIMEOUT_SECONDS)
        assert proc.returncode == 0, err
    assert _state(engine) == (FLOW_ROWS, OUTCOME_ROWS)
    assert Ledger(engine).verify().ok
