"""``fuel bank`` end to end: accounts, imports in three formats, a refused statement, matching,
a bank fee posted in one step, the reconciliation in HTML, PDF and CSV, and the quarter close."""

from __future__ import annotations

import csv
import io
import json
import sys
from types import SimpleNamespace

import pytest

from tests.e2e.conftest import REPO

DATA = "tests/data/bank"


@pytest.fixture
def fuel(tmp_path, capsys, monkeypatch):
    """The ``fuel`` entry point run in this process (a subprocess per call would take this test
    past CI's time budget): exit status, stdout and stderr of each call, never a traceback."""
    from ledger.shell import cli

    monkeypatch.chdir(REPO)
    monkeypatch.setenv("FUEL_DATABASE_URL", f"sqlite:///{tmp_path / 'fuel.db'}")
    monkeypatch.setenv("FUEL_USER", "tester")

    def run(*args: str, ok: bool = True):
        monkeypatch.setattr(sys, "argv", ["fuel", *args])
        code = 0
        try:
            cli.main()
        except SystemExit as exc:
            code = exc.code or 0
        out = capsys.readouterr()
        assert "Traceback" not in out.err, out.err
        if ok:
            assert code == 0, out.err
        return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)

    run("init")
    return run


def test_bank_import_match_post_reconcile_close(fuel, tmp_path):
    fuel("fund", "load", "fixtures/funds/example_fund.toml")
    fuel("import", "flows", "fixtures/flows/example_flows.csv")
    fuel("bank", "account", "add", "main", "--name", "Client account", "--sort-code", "60-16-13",
         "--number", "31926819")
    listed = json.loads(fuel("bank", "account", "list", "--json").stdout)["rows"]
    assert listed[0]["account_number"] == "31926819"  # the fund manager's own tool shows it whole
    fuel("bank", "import", f"{DATA}/2026-02.camt053.xml", "--account", "main")
    bad = fuel("bank", "import", f"{DATA}/2026-03-bad-opening.mt940", "--account", "main", ok=False)
    assert bad.returncode == 1 and "does not follow" in bad.stderr
    fuel("bank", "import", f"{DATA}/2026-03.mt940", "--account", "main")
    again = fuel("bank", "import", f"{DATA}/2026-03.mt940", "--account", "main", "--json")
    assert json.loads(again.stdout)["lines_added"] == 0
    fuel("bank", "import", f"{DATA}/2026-04a.ofx", "--account", "main")
    fuel("bank", "settings", "--require-reconciled")
    refused = fuel("close-period", "2026Q1", ok=False)
    assert refused.returncode == 1 and "2026Q1 is not reconciled" in refused.stderr
    proposals = list(csv.DictReader(io.StringIO(fuel("bank", "match", "--account", "main", "--confirm", "--csv").stdout)))
    assert all(p["match"] for p in proposals) and len(proposals) >= 14
    lines = json.loads(fuel("bank", "lines", "--account", "main", "--json").stdout)["rows"]
    fee = next(l for l in lines if "SERVICE CHARGE" in l["description"])
    assert fee["match"] == ""
    fuel("bank", "post", str(fee["line"]), "--account", "main", "--source", "social_investment", "--tranche", "senior")
    out = tmp_path / "recon"
    result = fuel("bank", "reconcile", "--account", "main", "--as-of", "2026-03-31", "--out", str(out), "--json")
    recon = json.loads(result.stdout)
    assert recon["unexplained_pence"] == 0
    assert [(i["kind"], i["amount_pence"]) for i in recon["items"]] == [("payment_not_cleared", -300_000)]
    stem = out / "reconciliation_main_2026-03-31"
    assert "Reconciled" in stem.with_suffix(".html").read_text()
    assert stem.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    assert "payment_not_cleared" in stem.with_suffix(".csv").read_text()
    closed = fuel("close-period", "2026Q1")
    assert "closed 2026Q1" in closed.stdout and "warning" not in closed.stderr


def test_every_bank_command_has_help_text_and_documentation():
    import typer.main

    from ledger.shell.cli import app

    bank = typer.main.get_command(app).commands["bank"]
    docs = (REPO / "docs" / "bank.md").read_text(encoding="utf-8")
    paths = [(name,) for name in bank.commands if name != "account"] + \
            [("account", name) for name in bank.commands["account"].commands]
    assert len(paths) >= 11
    for path in paths:
        command = bank
        for name in path:
            command = command.commands[name]
        assert (command.help or "").strip(), f"fuel bank {' '.join(path)} has no help text"
        assert f"fuel bank {' '.join(path)} " in docs, f"fuel bank {' '.join(path)} is not in docs/bank.md"
