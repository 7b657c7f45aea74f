"""Participants' personal data (DESIGN.md section 8): the register refuses identifying columns,
and ``fuel participants export`` gives a data-subject request everything held about one
pseudonymous id: register row, outcome events, claim lines with payer shares, samples."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from ledger.errors import ImportRejected, NotFound
from models import pbr_store as store
from models.privacy_store import participant_export

ROOT = Path(__file__).resolve().parents[2]
PBR = ROOT / "tests" / "data" / "pbr"
C = "lcr-housing"


@pytest.fixture
def claimed(engine):
    with engine.begin() as conn:
        store.load_contract(conn, (PBR / "contract.toml").read_text(), "contract.toml")
        store.import_participants(conn, C, (PBR / "participants.csv").read_text(), "participants.csv")
        store.import_outcomes(conn, C, (PBR / "outcomes_q3.csv").read_text(), "outcomes_q3.csv")
        store.run_claims(conn, C, "2026Q3")
        store.approve(conn, C, "2026Q3", date(2026, 10, 20))
        store.invoice(conn, C, "2026Q3", "INV-1")
        store.pay(conn, C, "2026Q3", date(2026, 11, 2))
        store.draw_sample(conn, C, "2026Q3", 11, "seed")
    return engine


def test_export_holds_everything_about_one_participant_and_nothing_else(claimed, db_url, tmp_path):
    with claimed.connect() as conn:
        export = participant_export(conn, C, "P001")
        held = conn.execute(text("SELECT COUNT(*) FROM pbr_outcome_events WHERE participant_id = 'P001'")).scalar()
        lines = conn.execute(text("SELECT COUNT(*) FROM pbr_claim_lines WHERE participant_id = 'P001'")).scalar()
    assert export["register"]["start_date"] == "2026-01-10" and export["register"]["attributes"] == {"age_band": "18-24"}
    assert len(export["outcome_events"]) == held > 0
    assert len(export["claim_lines"]) == lines > 0
    assert all(line["participant_id"] == "P001" for line in export["claim_lines"])
    assert any(line["payer_shares"] for line in export["claim_lines"])
    assert export["validation_samples"] and export["validation_samples"][0]["period"] == "2026Q3"
    assert "P002" not in json.dumps(export)
    out = tmp_path / "p001.json"
    done = subprocess.run([sys.executable, "-m", "ledger.shell.cli", "participants", "export", "P001", "--contract", C,
                           "--out", str(out)], cwd=ROOT, env={**os.environ, "FUEL_DATABASE_URL": db_url},
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["outcome_events"] == export["outcome_events"]
    with claimed.connect() as conn, pytest.raises(NotFound, match="holds nothing about participant 'P999'"):
        participant_export(conn, C, "P999")


@pytest.mark.parametrize("column", ["name", "Surname", "Home Address", "postcode", "email", "NI number", "nhs_number"])
def test_the_register_refuses_identifying_columns(engine, column):
    with engine.begin() as conn:
        store.load_contract(conn, (PBR / "contract.toml").read_text(), "contract.toml")
    with pytest.raises(ImportRejected) as caught:
        with engine.begin() as conn:
            store.import_participants(conn, C, f"participant_id,start_date,{column}\nP1,2026-01-10,x\n", "p.csv")
    assert f"p.csv: column '{column}' looks like personal data that identifies a participant" in caught.value.problems[0]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM pbr_participants")).scalar() == 0
