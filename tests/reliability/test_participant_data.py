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


# Issue 16 item 11: identifying *values*, whatever the column is called, and dates of birth.
IDENTIFYING_CELLS = [
    ("participant_id,start_date\njane.doe@example.org,2026-01-10\n", 2, "participant_id", "an e-mail address"),
    ("participant_id,start_date\nQQ 12 34 56 C,2026-01-10\n", 2, "participant_id", "a National Insurance number"),
    ("participant_id,start_date,cohort\nP1,2026-01-10,A\nP2,2026-01-11,QQ123456C\n", 3, "cohort",
     "a National Insurance number"),
    ("participant_id,start_date,contact\nP1,2026-01-10,07700 900123\n", 2, "contact", "a UK phone number"),
    ("participant_id,start_date,contact\nP1,2026-01-10,+44 151 496 0123\n", 2, "contact", "a UK phone number"),
    ("participant_id,start_date,area\nP1,2026-01-10,L2 2DH\n", 2, "area", "a full postcode"),
    ("participant_id,start_date,area\nP1,2026-01-10,sw1a1aa\n", 2, "area", "a full postcode"),
    ("participant_id,start_date,referrer\nP1,2026-01-10,Ask j.smith@council.gov.uk\n", 2, "referrer", "an e-mail address"),
]


@pytest.mark.parametrize(("csv_text", "row", "column", "kind"), IDENTIFYING_CELLS)
def test_the_register_refuses_identifying_values_naming_row_and_column(engine, csv_text, row, column, kind):
    with engine.begin() as conn:
        store.load_contract(conn, (PBR / "contract.toml").read_text(), "contract.toml")
    with pytest.raises(ImportRejected) as caught:
        with engine.begin() as conn:
            store.import_participants(conn, C, csv_text, "p.csv")
    message = caught.value.problems[0]
    assert f"p.csv: row {row}: column '{column}': the value looks like {kind}" in message
    assert "@" not in message and "QQ" not in message, "the identifying value is not repeated in the message"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM pbr_participants")).scalar() == 0


@pytest.mark.parametrize("column", ["date_of_birth", "DOB", "Date of Birth", "birth_date", "year_of_birth"])
def test_the_register_refuses_a_date_of_birth_and_suggests_an_age_band(engine, column):
    with engine.begin() as conn:
        store.load_contract(conn, (PBR / "contract.toml").read_text(), "contract.toml")
    with pytest.raises(ImportRejected) as caught:
        with engine.begin() as conn:
            store.import_participants(conn, C, f"participant_id,start_date,{column}\nP1,2026-01-10,1990-02-03\n", "p.csv")
    assert f"p.csv: column '{column}' holds a date of birth" in caught.value.problems[0]
    assert "age band" in caught.value.problems[0]


def test_outcome_files_refuse_identifying_values_in_the_evidence_reference(engine):
    with engine.begin() as conn:
        store.load_contract(conn, (PBR / "contract.toml").read_text(), "contract.toml")
        store.import_participants(conn, C, (PBR / "participants.csv").read_text(), "participants.csv")
    csv_text = ("participant_id,outcome_id,achieved_on,evidence_ref\n"
                "P001,entry,2026-07-01,EV-1\n"
                "P002,entry,2026-07-02,Letter to jo@example.org NI QQ123456C\n")
    with pytest.raises(ImportRejected) as caught:
        with engine.begin() as conn:
            store.import_outcomes(conn, C, csv_text, "o.csv", submitted_on=date(2026, 10, 5))
    assert "o.csv: row 3: column 'evidence_ref': the value looks like an e-mail address" in caught.value.problems[0]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM pbr_outcome_events")).scalar() == 0


def test_the_shipped_registers_and_outcome_files_hold_no_identifying_values():
    """The patterns are wide; the fixtures and demo data (pseudonymous ids, outcome ids, evidence
    references, dates) must still pass, or the refusal would be noise."""
    from ledger.pbr.personal_data import identifying_value

    files = [*ROOT.glob("tests/data/pbr/*.csv"), *ROOT.glob("fixtures/**/*.csv")]
    assert files
    for path in files:
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for cell in line.split(","):
                assert identifying_value(cell) is None, f"{path}:{line_no}: {cell!r}"
