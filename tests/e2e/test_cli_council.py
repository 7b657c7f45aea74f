"""Council statements and fund manager reports through the ``fuel`` command (a subprocess per
command): statement in every format, verify (ok, then a tampered annex line named, exit 1),
each report as table, CSV, JSON and HTML; every new command has help text and documentation."""

from __future__ import annotations

import json
from pathlib import Path


REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "pbr"
PLANS = REPO / "tests" / "data" / "council" / "plans.csv"
C = ["--contract", "lcr-housing"]


def test_statement_every_format_then_verify_and_a_tampered_line(fuel, tmp_path):
    fuel("contracts", "load", str(DATA / "contract.toml"))
    fuel("participants", "import", str(DATA / "participants.csv"), *C)
    fuel("outcomes", "import", str(DATA / "outcomes_q3.csv"), *C)
    fuel("claims", "run", *C, "--period", "2026Q3")
    out = tmp_path / "out"
    made = json.loads(fuel("claims", "statement", *C, "--period", "2026Q3", "--payer", "central", "--out", str(out),
                           "--plans", str(PLANS), "--json").stdout)  # fmt: skip
    stem = out / "lcr-housing_2026Q3_central"
    assert made["files"] == [str(stem.with_suffix(s)) for s in (".html", ".pdf", ".csv", ".xlsx")]
    assert made["totals"]["net_pence"] == 550_000
    assert stem.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    assert stem.with_suffix(".xlsx").read_bytes().startswith(b"PK")
    assert "Amount due from Central top-up fund" in stem.with_suffix(".html").read_text()

    csv_path = stem.with_suffix(".csv")
    ok = fuel("claims", "verify", str(csv_path), "--contract", str(DATA / "contract.toml"))
    assert ok.stdout.startswith("ok: every total re-derived (11 annex lines")

    # line 4: P001 sustained_3m on 2026-08-01, 1,500.00 claimed as 1,600.00 (net and central's share)
    text = csv_path.read_bytes().decode()
    line = "4,P001,sustained_3m,2026-08-01,DOC-4,accepted,,,,2026,150000,150000,0,0,0,0,0,,150000,105000,45000,"
    assert line in text
    tampered = tmp_path / "tampered.csv"
    tampered.write_bytes(text.replace(line, line.replace(",150000,105000,45000,", ",160000,105000,55000,")).encode())
    bad = fuel("claims", "verify", str(tampered), "--contract", str(DATA / "contract.toml"), ok=False)
    assert bad.returncode == 1
    assert ("annex line 4 (participant P001, outcome sustained_3m, achieved 2026-08-01): net_pence: "
            "statement says 160000, re-derived 150000") in bad.stderr
    assert "share_central_pence: statement says 55000, re-derived 45000" in bad.stderr
    wrong = fuel("claims", "statement", *C, "--period", "2026Q3", "--out", str(out), "--payer", "mayor", ok=False)
    assert wrong.returncode == 1 and "has no payer 'mayor'" in wrong.stderr


def test_fund_manager_reports_as_table_csv_json_and_html(fuel, tmp_path):
    fuel("fund", "load", str(REPO / "fixtures" / "funds" / "example_fund.toml"))
    fuel("import", "flows", str(REPO / "fixtures" / "flows" / "example_flows.csv"))
    day = ["--as-of", "2026-03-31"]
    tb = json.loads(fuel("report", "trial-balance", *day, "--json").stdout)
    assert sum(r["net_pence"] for r in tb["tables"]["trial_balance"]["rows"]) == 0
    html = tmp_path / "cash.html"
    csv_text = fuel("report", "cash", *day, "--csv", "--html", str(html)).stdout
    assert csv_text.startswith("[cash]") and "[drawdowns]" in csv_text and "mersey-cf" in csv_text
    assert html.read_text().startswith("<!DOCTYPE html>") and html.read_text().count("<svg") == 2
    # the existing sources-uses report takes --html too
    table = fuel("report", "sources-uses", "--by", "project", *day, "--html", str(tmp_path / "deployment.html"))
    assert "aw-homecare" in table.stdout and "<svg" in (tmp_path / "deployment.html").read_text()
    bad = fuel("report", "outcome-pipeline", "--plans", "nonsense", ok=False)
    assert "--plans 'nonsense': expected CONTRACT=FILE" in bad.stderr


MY_COMMANDS = [["claims", "statement"], ["claims", "verify"], ["report", "trial-balance"], ["report", "deployment"],
               ["report", "outcome-pipeline"], ["report", "cash"]]


def test_every_new_command_has_help_text_and_documentation():
    import typer.main

    from ledger.shell.cli import app

    root = typer.main.get_command(app)
    docs = (REPO / "docs" / "council-statements.md").read_text() + (REPO / "docs" / "reports.md").read_text()
    for path in MY_COMMANDS:
        command = root
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        assert (command.help or "").strip(), f"fuel {' '.join(path)} has no help text"
        assert f"fuel {' '.join(path)} " in docs, f"fuel {' '.join(path)} is not documented"
