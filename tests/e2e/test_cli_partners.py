"""Joint-prime contracts and the project pipeline end to end through the ``fuel`` command (a
subprocess per command): load the example joint-prime contract with three partners, claim,
pass through, pay, write a partner statement in three formats; stage projects and report the
pipeline. Figures as hand-checked in tests/integration/test_joint_prime_store.py."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path


REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "joint_prime"
C = ["--contract", "lcr-joint-prime"]
Q3 = ["--period", "2026Q3"]


def test_joint_prime_contract_end_to_end(fuel, tmp_path):
    fuel("contracts", "load", str(REPO / "fixtures" / "contracts" / "joint_prime_example.toml"))
    fuel("participants", "import", str(DATA / "participants.csv"), *C)
    listed = json.loads(fuel("partners", "list", *C, "--json").stdout)
    assert [(p["partner_id"], p["kind"], p["participants"]) for p in listed] == [
        ("bridge-housing", "share", 3), ("wirral-works", "fee", 2), ("sefton-carers", "mixed", 2)]
    fuel("outcomes", "import", str(DATA / "outcomes_q3.csv"), *C)
    fuel("claims", "run", *C, *Q3)
    early = fuel("claims", "passthrough", *C, *Q3, "--date", "2026-11-05", ok=False)
    assert early.returncode == 1 and "its outcome payment must be received" in early.stderr
    fuel("claims", "approve", *C, *Q3, "--date", "2026-10-20")
    fuel("claims", "invoice", *C, *Q3, "--ref", "INV-Q3")
    fuel("claims", "pay", *C, *Q3, "--date", "2026-11-02")

    summary = json.loads(fuel("claims", "passthrough", *C, *Q3, "--date", "2026-11-05", "--json").stdout)
    assert (summary["received_pence"], summary["partners_total_pence"], summary["prime_net_pence"]) == (
        770_000, 557_000, 213_000)
    table = fuel("claims", "passthrough", *C, *Q3).stdout
    assert "3,000.00" in table and "the prime keeps 2,130.00" in table
    fuel("partners", "pay", *C, *Q3, "--date", "2026-11-10", "--partner", "bridge-housing")
    rows = json.loads(fuel("balances", "--as-of", "2030-01-01", "--by", "account_code,counterparty", "--json").stdout)["rows"]
    payable = {r["counterparty"]: r["balance_pence"] for r in rows if r["account_code"] == "partner_payables"}
    assert payable == {"bridge-housing": 0, "sefton-carers": -127_000, "wirral-works": -130_000}

    out = tmp_path / "statements"
    written = fuel("partners", "statement", *C, "--partner", "bridge-housing", *Q3, "--out", str(out)).stdout
    assert written.count("wrote") == 3
    stem = out / "partner-statement_lcr-joint-prime_bridge-housing_2026Q3"
    figures = json.loads(stem.with_suffix(".json").read_text())
    assert figures["period_figures"]["cap_applied"] == "total" and figures["to_date"]["paid_pence"] == 300_000
    assert "Bridge Housing Co-operative" in stem.with_suffix(".html").read_text()
    csv_rows = list(csv.DictReader(io.StringIO(stem.with_suffix(".csv").read_text())))
    assert {r["item"]: r["amount_pence"] for r in csv_rows if r["section"] == "to_date"}["outstanding"] == "0"
    bad = fuel("partners", "statement", *C, "--partner", "bridge-housing", *Q3, "--out", str(out), "--format", "pdf",
               ok=False)  # fmt: skip
    assert bad.returncode == 1 and "choose from html, csv, json" in bad.stderr


def test_project_pipeline_end_to_end(fuel):
    fuel("fund", "load", str(REPO / "fixtures" / "funds" / "example_fund.toml"))
    fuel("import", "flows", str(REPO / "fixtures" / "flows" / "example_flows.csv"))
    fuel("projects", "stage", "aw-homecare", "idea", "--date", "2025-06-01")
    fuel("projects", "stage", "aw-homecare", "contracted", "--date", "2026-02-01", "--committed", "200000.00",
         "--user", "investment-committee")  # fmt: skip
    back = fuel("projects", "stage", "aw-homecare", "idea", "--date", "2026-02-02", ok=False)
    assert back.returncode == 1 and "needs a reason (--note)" in back.stderr
    history = json.loads(fuel("projects", "history", "aw-homecare", "--json").stdout)["rows"]
    assert [(h["stage"], h["recorded_by"]) for h in history] == [("idea", "tester"), ("contracted", "investment-committee")]
    report = json.loads(fuel("report", "pipeline", "--as-of", "2026-12-31", "--json").stdout)
    assert report["rows"][0] == {"stage": "contracted", "theme": "ageing", "projects": 1, "committed_pence": 20_000_000,
                                 "deployed_pence": 18_000_000, "undeployed_pence": 2_000_000}  # fmt: skip
    unstaged = [row for row in report["rows"] if row["stage"] == "unstaged"]
    assert unstaged and all(row["committed_pence"] is None and row["undeployed_pence"] is None for row in unstaged)
    assert any(row["deployed_pence"] > 0 for row in unstaged)  # disbursed, with no commitment on record
    assert fuel("report", "pipeline", "--as-of", "2026-12-31", "--csv").stdout.startswith(
        "stage,theme,projects,committed_pence,deployed_pence,undeployed_pence\n")
    assert "Project pipeline as of 2026-12-31" in fuel("report", "pipeline", "--as-of", "2026-12-31").stdout


MY_COMMANDS = [["claims", "passthrough"], ["partners", "list"], ["partners", "pay"], ["partners", "statement"],
               ["projects", "stage"], ["projects", "history"], ["report", "pipeline"]]


def test_every_joint_prime_and_pipeline_command_has_help_text_and_documentation():
    """In-process (fast): each command has help text and is shown in docs/joint-prime.md."""
    import typer.main

    from ledger.shell.cli import app

    root = typer.main.get_command(app)
    assert (root.commands["partners"].help or "").strip()
    docs = (REPO / "docs" / "joint-prime.md").read_text()
    for path in MY_COMMANDS:
        command = root
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        assert (command.help or "").strip(), f"fuel {' '.join(path)} has no help text"
        assert f"fuel {' '.join(path)} " in docs, f"fuel {' '.join(path)} is not in docs/joint-prime.md"
