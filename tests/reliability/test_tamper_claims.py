"""Issue 16, item 9: claim runs, claim lines, stored contracts and distribution lines are the
council's and investors' evidence. The database refuses to change or delete them (a contract
once a claim run uses it; a run's later steps are appended revisions), and with the triggers gone
``verify`` names the first one changed or deleted, through the evidence chain. Both backends."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from models import pbr_store as store
from models.ledger_store import Ledger
from tests.reliability.test_tamper_anchors import without_triggers

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "pbr"
C = "lcr-housing"
EVIDENCE_TABLES = ("pbr_claim_runs", "pbr_claim_lines", "pbr_run_revisions", "pbr_contracts", "distribution_lines",
                   "evidence_seals", "pbr_line_shares", "pbr_run_payers", "pbr_transitions", "pbr_clawbacks")


def _paid_run(engine) -> None:
    with engine.begin() as conn:
        store.load_contract(conn, (DATA / "contract.toml").read_text(), "contract.toml", "tester")
        store.import_participants(conn, C, (DATA / "participants.csv").read_text(), "participants.csv", "tester")
        store.import_outcomes(conn, C, (DATA / "outcomes_q3.csv").read_text(), "outcomes_q3.csv", "tester")
        store.run_claims(conn, C, "2026Q3", "tester")
        store.approve(conn, C, "2026Q3", date(2026, 10, 5), "council-officer")
        store.invoice(conn, C, "2026Q3", "INV-1", "fund-manager")
        store.pay(conn, C, "2026Q3", date(2026, 10, 20), "fund-manager")


def test_the_database_refuses_to_change_claim_evidence(engine):
    _paid_run(engine)
    from models.web_store import claim_runs

    with engine.connect() as conn:
        run = store.get_run(conn, C, "2026Q3")
        listed = claim_runs(conn, [C])
    assert run.status == "paid" and run.invoice_ref == "INV-1"  # read from the appended revisions
    assert (listed[0]["status"], listed[0]["net_pence"]) == ("paid", run.net_pence)  # the web page's list too
    refused = [
        "UPDATE pbr_claim_lines SET net_pence = 1 WHERE line_no = 1",
        "UPDATE pbr_claim_lines SET net_pence = net_pence + 100000 WHERE line_no = 2",
        "DELETE FROM pbr_claim_lines",
        "UPDATE pbr_claim_runs SET status = 'validated'",
        "DELETE FROM pbr_claim_runs",
        "UPDATE pbr_run_revisions SET status = 'validated'",
        "UPDATE pbr_contracts SET toml_text = 'forged'",
        "DELETE FROM pbr_contracts",
        "UPDATE evidence_seals SET record_hash = 'x'",
        "DELETE FROM evidence_seals",
    ]
    for statement in refused:
        with pytest.raises(DatabaseError, match="immutable"):
            with engine.begin() as conn:
                conn.execute(text(statement))
    with engine.begin() as conn:  # a distribution line: written once, never changed
        conn.execute(text("INSERT INTO distribution_lines (entry_id, line_no, fund, effective_date, party, "
                          "is_investor, kind, category, amount_pence) VALUES (1, 1, 'f', '2026-10-20', 'p', "
                          "true, 'return_of_capital', 'distribution', 5)"))  # fmt: skip
    for statement in ("UPDATE distribution_lines SET amount_pence = 6", "DELETE FROM distribution_lines"):
        with pytest.raises(DatabaseError, match="immutable"):
            with engine.begin() as conn:
                conn.execute(text(statement))


@pytest.mark.parametrize("change, named", [
    ("UPDATE pbr_claim_lines SET net_pence = 1 WHERE line_no = 3", "claim line 3 of lcr-housing 2026Q3"),
    ("UPDATE pbr_claim_lines SET net_pence = net_pence + 100000 WHERE line_no = 4", "claim line 4 of lcr-housing 2026Q3"),
    ("UPDATE pbr_contracts SET toml_text = toml_text || ' '", "contract lcr-housing"),
    ("UPDATE pbr_run_revisions SET invoice_ref = 'INV-2' WHERE revision = 2", "revision 2 of claim run lcr-housing 2026Q3"),
    ("DELETE FROM pbr_claim_runs", "claim run lcr-housing 2026Q3"),
])  # fmt: skip
def test_a_claim_record_changed_behind_fuels_back_is_reported_by_name(engine, db_url, change, named):
    _paid_run(engine)
    assert Ledger(engine).verify().ok
    with engine.begin() as conn:
        without_triggers(conn, *EVIDENCE_TABLES)
        if change.startswith("DELETE FROM pbr_claim_runs"):  # a paid claim run deleted, everything it holds too
            for table in EVIDENCE_TABLES[-4:] + ("pbr_samples", "pbr_line_disputes", "pbr_run_revisions",
                                                 "pbr_claim_lines", "pbr_passthroughs"):
                conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text(change))
    report = Ledger(engine).verify()
    assert not report.ok and report.first_break is None
    assert [b.record for b in report.record_breaks] == [named]
    assert ("deleted" if change.startswith("DELETE") else "changed after it was stored") in report.record_breaks[0].problem
    if "net_pence = 1 " not in change + " ":
        return  # the command line is the same for every record: once per backend
    env = {**os.environ, "FUEL_DATABASE_URL": db_url}
    done = subprocess.run([sys.executable, "-m", "ledger.shell.cli", "verify"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 3 and f"BROKEN at {named}:" in done.stderr
