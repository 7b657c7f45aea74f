"""End to end: the ``fuel`` fund flows commands, run as a user would (a subprocess on SQLite)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUND_FILE = ROOT / "fixtures" / "funds" / "example_fund.toml"
FLOWS_FILE = ROOT / "fixtures" / "flows" / "example_flows.csv"


class Fuel:
    def __init__(self, db_path: Path) -> None:
        self.env = {**os.environ, "FUEL_DATABASE_URL": f"sqlite:///{db_path}", "FUEL_USER": "tester", "COLUMNS": "200"}

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "ledger.shell.cli", *args], capture_output=True, text=True,
                                env=self.env, cwd=ROOT, timeout=120)
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    def json(self, *args: str):
        return json.loads(self(*args, "--json").stdout)


@pytest.fixture(scope="module")
def fuel(tmp_path_factory) -> Fuel:
    """A database with the example fund loaded and the example flows imported."""
    run = Fuel(tmp_path_factory.mktemp("cli") / "fuel.db")
    run("init")
    loaded = run("fund", "load", str(FUND_FILE))
    assert "fund lcr-outcomes loaded from example_fund.toml: funds: 1 added" in loaded.stdout
    imported = run("import", "flows", str(FLOWS_FILE))
    assert imported.stdout.strip() == "example_flows.csv: 17 entries posted, 0 already posted"
    return run


def postings(result: dict) -> list[tuple]:
    return [(p["account"], p["amount_pence"], p["source"], p["tranche"], p["restriction"], p["project"],
             p["counterparty"]) for p in result["postings"]]


SI, CH, PU = "social_investment", "charitable", "public"


def test_reimport_posts_nothing(fuel):
    again = fuel.json("import", "flows", str(FLOWS_FILE))
    assert again == {"file": "example_flows.csv", "posted": 0, "already_posted": 17, "entry_ids": []}


def test_record_drawdown_notice(fuel):
    out = fuel.json("record", "drawdown-notice", "--tranche", "first-loss", "--amount", "1000.00", "--date", "2026-04-01")
    assert out["status"] == "posted" and out["event_kind"] == "drawdown_notice"
    assert postings(out) == [
        ("called_capital_receivable", 100_000, CH, "first-loss", None, None, "mersey-cf"),
        ("grant_capital", -100_000, CH, "first-loss", None, None, "mersey-cf"),
    ]
    again = fuel.json("record", "drawdown-notice", "--tranche", "first-loss", "--amount", "1000.00", "--date", "2026-04-01")
    assert again["status"] == "already posted" and again["entry_id"] == out["entry_id"]


def test_record_drawdown_received(fuel):
    out = fuel.json("record", "drawdown-received", "--investor", "mersey-cf", "--tranche", "first-loss",
                    "--amount", "1000.00", "--date", "2026-04-02")
    assert postings(out) == [
        ("cash", 100_000, CH, "first-loss", None, None, "mersey-cf"),
        ("called_capital_receivable", -100_000, CH, "first-loss", None, None, "mersey-cf"),
    ]


def test_record_grant_received(fuel):
    out = fuel.json("record", "grant-received", "--investor", "mersey-cf", "--amount", "500", "--date", "2026-04-02",
                    "--restriction", "youth-only")
    assert postings(out) == [
        ("cash", 50_000, CH, None, "youth-only", None, "mersey-cf"),
        ("grant_capital", -50_000, CH, None, "youth-only", None, "mersey-cf"),
    ]


def test_record_public_money_received(fuel):
    out = fuel.json("record", "public-money-received", "--payer", "lcr-ca", "--form", "co_investment",
                    "--tranche", "junior", "--amount", "250", "--date", "2026-04-02")
    assert postings(out) == [
        ("cash", 25_000, PU, "junior", None, None, "lcr-ca"),
        ("contributed_capital", -25_000, PU, "junior", None, None, "lcr-ca"),
    ]


def test_record_disbursement_and_its_refusals(fuel):
    out = fuel.json("record", "disbursement", "--project", "yf-mentoring", "--source", "charitable",
                    "--restriction", "youth-only", "--form", "grant", "--amount", "100", "--date", "2026-04-03")
    assert postings(out) == [
        ("project_grants", 10_000, CH, None, "youth-only", "yf-mentoring", "youth-futures"),
        ("cash", -10_000, CH, None, "youth-only", "yf-mentoring", "youth-futures"),
    ]
    refused = fuel("record", "disbursement", "--project", "aw-homecare", "--source", "charitable",
                   "--restriction", "youth-only", "--form", "grant", "--amount", "1", "--date", "2026-04-03", ok=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "error: restriction youth-only (projects yf-mentoring) does not permit project aw-homecare "
        "(theme ageing): refused to spend 1.00 GBP on it"
    )
    assert "Traceback" not in refused.stderr
    short = fuel("record", "disbursement", "--project", "yf-mentoring", "--source", "charitable",
                 "--restriction", "youth-only", "--form", "grant", "--amount", "400.01", "--date", "2026-04-03", ok=False)
    assert short.stderr.strip() == (
        "error: not enough cash in fund lcr-outcomes, source charitable, tranche -, restriction youth-only: "
        "400.01 GBP needed, 400.00 GBP available"
    )


def test_record_repayment(fuel):
    out = fuel.json("record", "repayment", "--project", "aw-homecare", "--amount", "540", "--interest", "60",
                    "--date", "2026-04-04")
    assert postings(out) == [
        ("cash", 1_000, CH, None, "ageing", "aw-homecare", "ageing-well"),
        ("interest_income", -1_000, CH, None, "ageing", "aw-homecare", "ageing-well"),
        ("cash", 59_000, SI, "senior", None, "aw-homecare", "ageing-well"),
        ("project_loans", -54_000, SI, "senior", None, "aw-homecare", "ageing-well"),
        ("interest_income", -5_000, SI, "senior", None, "aw-homecare", "ageing-well"),
    ]


def test_record_outcome_payment(fuel):
    out = fuel.json("record", "outcome-payment", "--project", "hf-tenancy", "--payer", "lcf", "--amount", "100",
                    "--date", "2026-04-05")
    assert postings(out) == [
        ("cash", 10_000, PU, None, None, "hf-tenancy", "lcf"),
        ("outcome_income", -10_000, PU, None, None, "hf-tenancy", "lcf"),
    ]


def test_record_fee(fuel):
    out = fuel.json("record", "fee", "--source", "social_investment", "--tranche", "senior", "--form", "expense",
                    "--amount", "25", "--date", "2026-04-05", "--manager", "fund-manager")
    assert postings(out) == [
        ("fund_expenses", 2_500, SI, "senior", None, None, "fund-manager"),
        ("cash", -2_500, SI, "senior", None, None, "fund-manager"),
    ]


def test_record_valuation_change(fuel):
    out = fuel.json("record", "valuation-change", "--project", "aw-homecare", "--form", "gain", "--amount", "10",
                    "--date", "2026-04-06")
    assert postings(out) == [
        ("project_loans", 1_000, SI, "senior", None, "aw-homecare", "ageing-well"),
        ("valuation_gains", -1_000, SI, "senior", None, "aw-homecare", "ageing-well"),
    ]


def test_record_distribution(fuel):
    out = fuel.json("record", "distribution", "--investor", "big-impact", "--tranche", "senior", "--amount", "20",
                    "--date", "2026-04-06")
    assert postings(out) == [
        ("distributions", 2_000, SI, "senior", None, None, "big-impact"),
        ("cash", -2_000, SI, "senior", None, None, "big-impact"),
    ]


def test_record_transfer(fuel):
    out = fuel.json("record", "transfer", "--source", "public", "--to-source", "public", "--to-tranche", "junior",
                    "--amount", "5", "--reason", "release council grant balance", "--date", "2026-04-07")
    assert postings(out) == [
        ("source_transfers", 500, PU, None, None, None, None),
        ("cash", -500, PU, None, None, None, None),
        ("cash", 500, PU, "junior", None, None, None),
        ("source_transfers", -500, PU, "junior", None, None, None),
    ]


def test_reports_tie_out_in_every_format(fuel):
    rows = fuel.json("report", "sources-uses", "--as-of", "2026-12-31")["rows"]
    tb = fuel.json("trial-balance", "--as-of", "2026-12-31")["rows"]
    assert sum(r["cash_pence"] for r in rows) == next(r["net_pence"] for r in tb if r["account"] == "cash")
    assert all(r["total_sources_pence"] == r["total_uses_pence"] for r in rows)
    table = fuel("report", "sources-uses", "--as-of", "2026-12-31").stdout
    assert "Sources and uses by source as of 2026-12-31" in table and "social_investment" in table
    by_project = list(csv.DictReader(io.StringIO(fuel("report", "sources-uses", "--by", "project", "--csv").stdout)))
    aw = [r for r in by_project if r["project"] == "aw-homecare"]
    assert {(r["source"], r["share_of_project"]) for r in aw} == {("charitable", "16.67%"), ("social_investment", "83.33%")}
    restrictions = fuel.json("report", "restrictions", "--as-of", "2026-12-31")["rows"]
    youth = next(r for r in restrictions if r["restriction"] == "youth-only")
    assert (youth["received_pence"], youth["applied_pence"], youth["unapplied_pence"]) == (50_000, 10_000, 40_000)
    early = fuel.json("report", "restrictions", "--as-of", "2026-02-28")["rows"]
    assert [r["restriction"] for r in early] == ["ageing"]


def test_reference_data_commands(fuel):
    assert fuel("investors", "add", "new-trust", "--name", "New Trust", "--type", "charitable_trust").stdout.strip() == \
        "investor new-trust: added"
    assert any(r["id"] == "new-trust" for r in fuel.json("investors", "list")["rows"])
    fuel("providers", "add", "new-cic", "--name", "New CIC")
    fuel("payers", "add", "wirral", "--name", "Wirral Council")
    assert {r["id"] for r in fuel.json("payers", "list")["rows"]} == {"lcc", "lcf", "wirral"}
    fuel("projects", "add", "new-proj", "--name", "New project", "--provider", "new-cic", "--theme", "ageing")
    assert any(r["id"] == "new-proj" and r["status"] == "active" for r in fuel.json("projects", "list")["rows"])
    fuel("tranches", "add", "mezz", "--name", "Mezzanine", "--rank", "2", "--return-kind", "target", "--return-rate", "0.06")
    fuel("restrictions", "add", "new-only", "--name", "New only", "--project", "new-proj")
    added = fuel("commitments", "add", "c-new", "--investor", "new-trust", "--tranche", "mezz", "--amount", "1000",
                 "--date", "2026-04-01")
    assert added.stdout.strip() == "commitment c-new: added"
    rows = fuel.json("commitments", "list")["rows"]
    assert {"tranche": "mezz", "investor": "new-trust", "committed_pence": 100_000, "unfunded_pence": 100_000}.items() \
        <= next(r for r in rows if r["investor"] == "new-trust").items()
    bad = fuel("investors", "add", "x", "--name", "X", "--type", "hedge_fund", ok=False)
    assert bad.returncode == 1
    assert bad.stderr.strip() == (
        "error: investor x: type 'hedge_fund' is not one of social_investor, charitable_trust, public_body"
    )


def test_import_rejection_lists_every_problem_and_exits_1(fuel, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("event,date,fund,amount,source,form\nfee,2026-04-02,lcr-outcomes,£1,public,expense\n"
                   "fee,2026/04/02,lcr-outcomes,1.00,public,expense\n")
    result = fuel("import", "flows", str(bad), ok=False)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: bad.csv: 2 problem(s) found; nothing was written",
        "  row 2, column amount: amount '£1' is not a plain amount like 1234.50 (no currency symbols, thousands "
        "separators or exponents)",
        "  row 3, column date: date '2026/04/02' is not a date in the form YYYY-MM-DD",
    ]


FLOW_COMMANDS = [
    ["fund"], ["fund", "load"], ["fund", "add"], ["fund", "list"], ["investors", "add"], ["investors", "list"],
    ["payers", "add"], ["payers", "list"], ["providers", "add"], ["providers", "list"], ["tranches", "add"],
    ["tranches", "list"], ["restrictions", "add"], ["restrictions", "list"], ["projects", "add"], ["projects", "list"],
    ["commitments", "add"], ["commitments", "list"], ["import", "flows"], ["report", "sources-uses"],
    ["report", "restrictions"],
    *(["record", kind.replace("_", "-")] for kind in (
        "drawdown_notice", "drawdown_received", "grant_received", "public_money_received", "disbursement",
        "repayment", "outcome_payment", "fee", "valuation_change", "distribution", "transfer")),
]


def test_every_flow_command_has_help_text():
    """In-process (fast): every command and sub-command has a docstring for --help."""
    import typer.main

    from ledger.shell.cli import app

    root = typer.main.get_command(app)
    for path in FLOW_COMMANDS:
        command = root
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        assert (command.help or "").strip(), f"fuel {' '.join(path)} has no help text"


@pytest.mark.parametrize("path", [["record", "transfer"], ["import", "flows"], ["report", "sources-uses"]])
def test_help_runs(fuel, path):
    out = fuel(*path, "--help").stdout
    assert "Usage: fuel " + " ".join(path) in out.replace("python -m ledger.shell.cli", "fuel")
