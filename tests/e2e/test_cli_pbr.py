"""Payment by results end to end through the ``fuel`` command (a subprocess per command):
load -> participants -> outcomes -> claims run -> dispute -> approve -> invoice -> pay, the
ledger after, sampling with a clawback carried to the next run, and from-indigo."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "pbr"
C = ["--contract", "lcr-housing"]


def as_json(result) -> dict:
    return json.loads(result.stdout)


def balances(fuel, by: str) -> dict:
    rows = as_json(fuel("balances", "--as-of", "2030-01-01", "--by", by, "--json"))["rows"]
    keys = by.split(",")
    return {tuple(r[k] for k in keys): r["balance_pence"] for r in rows}


def test_claim_lifecycle_and_ledger_end_to_end(fuel):
    assert as_json(fuel("contracts", "load", str(DATA / "contract.toml"), "--json"))["status"] == "added"
    assert as_json(fuel("contracts", "load", str(DATA / "contract.toml"), "--json"))["status"] == "unchanged"
    shown = as_json(fuel("contracts", "show", "lcr-housing", "--json"))
    assert shown["contract_cap_pence"] == 1_000_000 and shown["payers"][1]["share"] == "0.30"
    assert as_json(fuel("participants", "import", str(DATA / "participants.csv"), *C, "--json"))["added"] == 5
    report = as_json(fuel("outcomes", "import", str(DATA / "outcomes_q3.csv"), *C, "--json"))
    assert report["rejected_by_reason"] == {"prerequisite_missing": 1, "mutually_exclusive": 1,
                                            "unknown_participant": 1, "evidence_missing": 1, "already_claimed": 1}
    again = as_json(fuel("outcomes", "import", str(DATA / "outcomes_q3.csv"), *C, "--json"))
    assert (again["status"], again["added"]) == ("already imported", 0)

    run = as_json(fuel("claims", "run", *C, "--period", "2026Q3", "--json"))
    assert (run["status"], run["net_pence"], run["created"]) == ("validated", 550_000, True)
    rerun = as_json(fuel("claims", "run", *C, "--period", "2026Q3", "--json"))
    assert rerun | {"created": True} == run and rerun["created"] is False

    statement = as_json(fuel("claims", "show", *C, "--period", "2026Q3", "--json"))
    by_outcome = {r["outcome_id"]: r for r in statement["by_outcome"]}
    assert by_outcome["entry"]["count_claimed"] == 5 and by_outcome["entry"]["net_pence"] == 150_000
    assert by_outcome["employment_13w"]["reduction_participant_cap_pence"] == 20_000
    assert statement["lines"][6]["participant_headroom_pence"] == 0
    csv_lines = fuel("claims", "show", *C, "--period", "2026Q3", "--lines", "--csv").stdout.splitlines()
    assert csv_lines[0].startswith("line_no,participant_id,outcome_id,achieved_on") and len(csv_lines) == 12

    fuel("claims", "dispute", *C, "--period", "2026Q3", "--line", "5", "--reason", "no tenancy evidence")
    approved = as_json(fuel("claims", "approve", *C, "--period", "2026Q3", "--date", "2026-10-20", "--json"))
    assert {p["payer_id"]: p["approved_pence"] for p in approved["payers"]} == {"central": 120_000, "council": 280_000}
    after_approval = balances(fuel, "account_code,counterparty")
    assert after_approval[("outcome_payments_receivable", "council")] == 280_000
    assert after_approval[("outcome_income", "central")] == -120_000
    fuel("claims", "invoice", *C, "--period", "2026Q3", "--ref", "INV-2026Q3")
    paid = as_json(fuel("claims", "pay", *C, "--period", "2026Q3", "--date", "2026-11-02", "--json"))
    assert paid["status"] == "paid"

    ledger = balances(fuel, "account_code,source,project")
    assert ledger[("outcome_payments_receivable", "public", "PRJ-LCR-1")] == 0
    assert ledger[("outcome_income", "public", "PRJ-LCR-1")] == -400_000
    assert ledger[("cash", "public", "PRJ-LCR-1")] == 400_000
    assert "ok: 4 entries verified" in fuel("verify").stdout

    # Sampling: lines 1, 4 and 3 (2,500 of the 4,000 paid); line 3 (500) fails: 1/5 of 4,000 = 800.
    sample = as_json(fuel("claims", "sample", *C, "--period", "2026Q3", "--size", "3", "--seed", "2026", "--json"))
    assert sample["sampled_lines"] == [1, 4, 3]
    checked = as_json(fuel("claims", "recheck", *C, "--period", "2026Q3", "--invalid", "3", "--json"))
    assert (checked["error_rate"], checked["recovery_pence"]) == ("1/5", 80_000)

    fuel("outcomes", "import", str(DATA / "outcomes_q4.csv"), *C)
    q4 = as_json(fuel("claims", "run", *C, "--period", "2026Q4", "--json"))
    # P002's disputed 3-month line does not count against caps (the undisputed figures are in
    # tests/integration/test_pbr_store.py); the 800 recovery is taken from this run.
    assert q4["clawback_pence"] == 80_000 and q4["due_pence"] == q4["net_pence"] - 80_000
    fuel("claims", "approve", *C, "--period", "2026Q4", "--date", "2027-01-20")
    fuel("claims", "invoice", *C, "--period", "2026Q4", "--ref", "INV-2026Q4")
    fuel("claims", "pay", *C, "--period", "2026Q4", "--date", "2027-02-01")
    ledger = balances(fuel, "account_code")
    assert ledger[("outcome_payments_receivable",)] == 0
    assert ledger[("cash",)] == 400_000 + q4["net_pence"] - 80_000
    assert ledger[("outcome_income",)] == -(400_000 + q4["net_pence"] - 80_000)
    status = as_json(fuel("claims", "sample", *C, "--period", "2026Q3", "--size", "3", "--seed", "2026", "--json"))
    assert status["outstanding_pence"] == 0


def test_bad_input_prints_one_error_line_and_writes_nothing(fuel):
    fuel("contracts", "load", str(DATA / "contract.toml"))
    result = fuel("participants", "import", str(DATA / "bad" / "participants_uk_date.csv"), *C, ok=False)
    assert result.returncode == 1
    assert result.stderr.startswith("error: participants_uk_date.csv: participant register rejected (1 problem)")
    assert as_json(fuel("participants", "import", str(DATA / "participants.csv"), *C, "--json"))["added"] == 5
    bad = fuel("contracts", "load", str(DATA / "bad" / "contract_float_price.toml"), ok=False)
    assert "error: contract_float_price.toml: contract rejected (1 problem)" in bad.stderr


@pytest.mark.parametrize("command", [
    [], ["contracts"], ["contracts", "load"], ["contracts", "show"], ["contracts", "from-indigo"],
    ["participants", "import"], ["outcomes", "import"], ["claims", "run"], ["claims", "approve"],
    ["claims", "dispute"], ["claims", "invoice"], ["claims", "pay"], ["claims", "sample"], ["claims", "recheck"],
    ["claims", "mechanism"], ["claims", "show"], ["claims", "plan"], ["templates"],
])  # fmt: skip
def test_every_pbr_command_has_help(command):
    from typer.testing import CliRunner

    from ledger.shell.cli import app

    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.stdout
    if command:
        assert "--json" in result.stdout or command in (["contracts"], ["claims"])


def test_from_indigo_greater_manchester(fuel, tmp_path):
    out = tmp_path / "gm.toml"
    result = as_json(fuel("contracts", "from-indigo", "INDIGO-POJ-0154", "--out", str(out), "--json"))
    assert result["contract_cap_pence"] == 262_900_000
    assert result["payers"] == [{"id": "INDIGO-ORG-0088", "cap_pence": 262_900_000}]
    assert "no referral window in the data" in result["lacks"]
    data = tomllib.loads(out.read_text())
    prices = {p["id"]: p["price"] for p in data["rate_cards"][0]["outcomes"]}
    # GO Lab INDIGO pricings for 0154: outcomemetric1 600, ...4 2,600, ...22 2,200; 22 prices summing to 25,520.
    assert (prices["outcomemetric1"], prices["outcomemetric4"], prices["outcomemetric22"]) == ("600.00", "2600.00", "2200.00")
    assert sum(float(p) for p in prices.values()) == 25_520
    assert {o["id"]: o["value_cap"] for o in data["outcomes"]}["outcomemetric1"] == "180000.00"
    assert (data["start"].isoformat(), data["end"].isoformat()) == ("2017-12-01", "2021-04-01")
    assert as_json(fuel("contracts", "load", str(out), "--json"))["status"] == "added"


def test_from_indigo_local_solutions_reads_a_users_export_folder(fuel, tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    for path in (REPO / "fixtures" / "indigo").glob("original_*.csv"):
        (folder / path.name).write_text(path.read_text())
    result = fuel("contracts", "from-indigo", "INDIGO-POJ-0136", "--indigo-dir", str(folder))
    data = tomllib.loads(result.stdout)
    prices = {p["id"]: p["price"] for p in data["rate_cards"][0]["outcomes"]}
    assert len(prices) == 21 and prices["outcomemetric16"] == "4500.00" and prices["outcomemetric20"] == "250.00"
    assert [p["id"] for p in data["payers"]] == ["INDIGO-ORG-0088"]
    assert "no maximum potential outcome payment: no contract cap" in result.stderr
    assert "INDIGO-ORG-0171 left as comments to complete" in result.stderr
    missing = fuel("contracts", "from-indigo", "INDIGO-POJ-0136", "--indigo-dir", str(tmp_path / "nowhere"), ok=False)
    assert missing.returncode == 1 and "original_projects.csv: file not found" in missing.stderr
