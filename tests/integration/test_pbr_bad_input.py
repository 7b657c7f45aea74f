"""Bad contract files and participant/outcome CSVs: each refused with its exact message, and
nothing written (both backends). Files are in tests/data/pbr/bad/."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from ledger.errors import FuelError, NotFound
from models import pbr_store as store

DATA = Path(__file__).resolve().parents[1] / "data" / "pbr"
BAD = DATA / "bad"
C = "lcr-housing"

CASES = [
    ("contract_float_price.toml",
     "contract_float_price.toml: rate_cards[0].outcomes[0].price: must be text like \"1234.50\", not the TOML float "
     "500.0 (floats are binary and cannot hold every pence value exactly)"),
    ("contract_float_threshold.toml",
     'contract_float_threshold.toml: mechanisms[0].cohort_threshold: is a TOML float (0.1); write rates as a string '
     'like "0.1" to keep them exact'),
    ("contract_misspelt_field.toml",
     "contract_misspelt_field.toml: providor: unknown field (known: caps, claim_deadline, currency, end, "
     "exclusive_groups, fund, id, mechanisms, name, outcomes, partners, payers, prime, project, provider, rate_cards, "
     "referral_window, rounding, start)"),
    ("contract_not_toml.toml",
     "contract_not_toml.toml: not valid TOML: Expected newline or end of document after a statement "
     "(at line 9, column 13)"),
    ("contract_overlap.toml",
     "contract_overlap.toml: rate_cards[1].effective_from: 2026-06-01 overlaps rate_cards[0] (2026, from "
     "2026-01-01 to 2026-07-01)"),
    ("contract_shares_over_one.toml", "contract_shares_over_one.toml: payers: fixed shares sum to 1.10, more than 1"),
    ("contract_unknown_mechanism.toml",
     "contract_unknown_mechanism.toml: mechanisms[0].kind: 'lottery' is not a mechanism (known: cohort_comparison, "
     "baseline_reduction, per_day, tiered_bands, savings_share)"),
    ("contract_unknown_prerequisite.toml",
     'contract_unknown_prerequisite.toml: outcomes[1].requires[0]: unknown outcome "entry_ok"'),
    ("participants_missing_start.csv", "participants_missing_start.csv: missing column 'start_date'"),
    ("participants_uk_date.csv",
     "participants_uk_date.csv: row 2: start_date: must be a date like 2026-01-31, got '03/04/2026'"),
    ("participants_duplicate.csv", "participants_duplicate.csv: row 4: participant_id: duplicate of row 2 ('P001')"),
    ("participants_changed.csv",
     "participants_changed.csv: row 2: participant_id: 'P001' is already registered with start_date 2026-01-10, "
     "cohort A and other details; a re-import cannot change a registered participant"),
    ("outcomes_missing_achieved.csv", "outcomes_missing_achieved.csv: missing column 'achieved_on'"),
    ("outcomes_bad_date.csv",
     "outcomes_bad_date.csv: row 3: achieved_on: must be a date like 2026-01-31, got '1 July 2026'"),
    ("outcomes_blank_outcome.csv", "outcomes_blank_outcome.csv: row 2: outcome_id: is blank"),
    ("outcomes_blank_submitted.csv", "outcomes_blank_submitted.csv: row 2: submitted_on: must be a date like 2026-01-31"),
    ("outcomes_personal_data.csv",
     "outcomes_personal_data.csv: unknown column 'name' (known: participant_id, outcome_id, achieved_on, "
     "evidence_ref, submitted_on); outcome files carry no personal data: put participant details in the "
     "participant register"),
    ("outcomes_empty.csv", "outcomes_empty.csv: the file is empty"),
    ("outcomes_long_evidence.csv", "outcomes_long_evidence.csv: row 2: evidence_ref: longer than 200 characters"),
    ("outcomes_duplicate_column.csv",
     "outcomes_duplicate_column.csv: column 'outcome_id' appears more than once in the header"),
    ("outcomes_unnamed_column.csv", "outcomes_unnamed_column.csv: column 2 of the header has no name"),
]  # fmt: skip

TABLES = ("contracts_t", "imports_t", "participants_t", "events_t", "runs_t", "lines_t")


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {name: conn.execute(select(func.count()).select_from(getattr(store, name))).scalar_one() for name in TABLES}


def submit(conn, path: Path) -> None:
    text = path.read_text()
    if path.suffix == ".toml":
        store.load_contract(conn, text, path.name)
    elif path.name.startswith("participants"):
        store.import_participants(conn, C, text, path.name)
    else:
        store.import_outcomes(conn, C, text, path.name)


@pytest.fixture
def loaded(engine):
    with engine.begin() as conn:
        store.load_contract(conn, (DATA / "contract.toml").read_text(), "contract.toml")
        store.import_participants(conn, C, (DATA / "participants.csv").read_text(), "participants.csv")
    return engine


def test_every_bad_file_is_in_the_suite():
    assert sorted(p.name for p in BAD.iterdir()) == sorted(name for name, _ in CASES)
    assert len(CASES) >= 15


@pytest.mark.parametrize(("name", "problem"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_with_its_message_and_nothing_is_written(loaded, name, problem):
    before = counts(loaded)
    with pytest.raises(FuelError) as caught:
        with loaded.begin() as conn:
            submit(conn, BAD / name)
    assert problem in caught.value.problems
    assert str(caught.value).startswith(f"{name}: ")
    assert counts(loaded) == before


def test_unknown_contract_is_refused(loaded):
    with pytest.raises(NotFound, match=r"unknown contract 'lcr-housin' \(known: lcr-housing\)"):
        with loaded.begin() as conn:
            store.import_outcomes(conn, "lcr-housin", (DATA / "outcomes_q3.csv").read_text(), "outcomes_q3.csv")
