"""The ``fuel`` command end to end, as a user runs it (a subprocess per command)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.conftest import fuel_runner


@pytest.fixture
def fuel(tmp_path):
    run = fuel_runner(tmp_path, cwd=tmp_path)  # relative paths are the test folder's
    run("init")
    return run


def write_entry(path: Path, key: str, pounds: str, day: str = "2026-01-05") -> Path:
    path.write_text(json.dumps({
        "effective_date": day,
        "description": "Drawdown from Mersey Wholesale",
        "idempotency_key": key,
        "postings": [
            {"account": "cash", "amount": pounds, "fund": "lcr", "source": "social_investment", "tranche": "senior"},
            {"account": "contributed_capital", "amount": f"-{pounds}", "fund": "lcr", "source": "social_investment",
             "tranche": "senior", "counterparty": "mersey"},
        ],
    }))
    return path


def test_post_balance_close_reverse_verify(fuel, tmp_path):
    entry = write_entry(tmp_path / "e.json", "dd-1", "250000.00")
    assert "entry 1 (dd-1): posted" in fuel("post", str(entry)).stdout
    assert "already posted" in fuel("post", str(entry)).stdout

    tb = json.loads(fuel("trial-balance", "--as-of", "2026-12-31", "--json").stdout)
    nets = {row["account"]: row["net_pence"] for row in tb["rows"]}
    assert nets == {"cash": 25_000_000, "contributed_capital": -25_000_000}

    csv_text = fuel("balances", "--as-of", "2026-12-31", "--by", "counterparty", "--csv",
                    "--where", "account_code=contributed_capital").stdout
    assert csv_text.splitlines() == ["counterparty,debit_pence,credit_pence,balance_pence", "mersey,0,25000000,-25000000"]

    table = fuel("trial-balance", "--as-of", "2026-12-31").stdout
    assert "250,000.00" in table and "Total" in table

    assert "closed 2026Q1" in fuel("close-period", "2026Q1").stdout
    late = fuel("post", str(write_entry(tmp_path / "late.json", "dd-late", "1.00", "2026-02-01")), ok=False)
    assert late.returncode == 1
    assert "error: entry 'dd-late': effective date 2026-02-01 is in closed period 2026Q1" in late.stderr

    assert "entry 2 reverses entry 1" in fuel("reverse", "1", "--reason", "wrong tranche", "--date", "2026-04-02").stdout
    again = fuel("reverse", "1", "--reason", "twice", "--date", "2026-04-02", "--key", "k2", ok=False)
    assert "entry 1 was already reversed by entry 2" in again.stderr
    assert "ok: 2 entries verified" in fuel("verify").stdout
    shown = json.loads(fuel("show", "2", "--json").stdout)
    assert shown["reverses_id"] == 1 and shown["postings"][0]["amount_pence"] == -25_000_000


def test_user_mistakes_get_one_clear_line(fuel, tmp_path):
    conflict = write_entry(tmp_path / "c.json", "dd-1", "10.00")
    fuel("post", str(conflict))
    result = fuel("post", str(write_entry(tmp_path / "c2.json", "dd-1", "11.00")), ok=False)
    assert result.stderr.strip() == (
        "error: idempotency key 'dd-1' was already used for entry 1 with different content; use a new key for a new entry"
    )
    floaty = tmp_path / "f.json"
    floaty.write_text('{"effective_date": "2026-01-05", "description": "x", "idempotency_key": "f", '
                      '"postings": [{"account": "cash", "amount_pence": 12.5}]}')
    assert "is a floating-point number" in fuel("post", str(floaty), ok=False).stderr
    assert "file not found" in fuel("post", "missing.json", ok=False).stderr
    assert "is not a quarter like 2026Q3" in fuel("close-period", "Q3", ok=False).stderr
    assert "choose hledger or beancount" in fuel("export", "--format", "xero", ok=False).stderr


def test_commands_on_an_uninitialised_database_say_what_to_do(tmp_path):
    env = {**os.environ, "FUEL_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    result = subprocess.run([sys.executable, "-m", "ledger.shell.cli", "verify"], env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert "run `fuel init` first" in result.stderr


def test_every_command_has_help(fuel):
    from ledger.shell.cli import app
    import typer.main

    commands = typer.main.get_command(app).commands
    assert {"init", "post", "reverse", "balances", "trial-balance", "close-period", "verify", "export"} <= set(commands)
    for name, command in commands.items():
        assert (command.help or "").strip(), f"fuel {name} has no help text"


def _hledger_balances(journal: Path) -> dict[str, int]:
    out = subprocess.run(["hledger", "-f", str(journal), "balance", "-N", "-O", "csv"],
                         capture_output=True, text=True, check=True).stdout
    result = {}
    for line in out.splitlines()[1:]:
        account, amount = [cell.strip('"') for cell in line.split('","')]
        value, _currency = amount.split()
        result[account] = int(Decimal(value) * 100)
    return result


@pytest.mark.skipif(shutil.which("hledger") is None and os.environ.get("CI") != "true", reason="hledger not installed")
def test_hledger_re_adds_the_export_to_the_penny(fuel, tmp_path):
    entries = []
    for i, (source, pounds) in enumerate([("social_investment", "1000.01"), ("charitable", "333.33"), ("public", "0.07")]):
        entries.append({
            "effective_date": f"2026-0{i + 1}-15", "description": f"Money in; {source}, \"quoted\"", "idempotency_key": f"m{i}",
            "postings": [
                {"account": "cash", "amount": pounds, "fund": "lcr", "source": source},
                {"account": "grant_capital", "amount": f"-{pounds}", "fund": "lcr", "source": source, "counterparty": f"funder, {i}"},
            ],
        })
    (tmp_path / "many.json").write_text(json.dumps(entries))
    fuel("post", str(tmp_path / "many.json"))
    fuel("reverse", "2", "--reason", "wrong funder", "--date", "2026-03-01")
    fuel("export", "--out", str(tmp_path / "fuel.journal"))
    ours = {row["account"]: row["net_pence"] for row in json.loads(fuel("trial-balance", "--as-of", "2030-01-01", "--json").stdout)["rows"]}
    theirs = _hledger_balances(tmp_path / "fuel.journal")
    assert theirs == {"assets:cash": ours["cash"], "equity:grant_capital": ours["grant_capital"]}
    assert ours["cash"] == 100_001 + 7


@pytest.mark.skipif(shutil.which("bean-check") is None and os.environ.get("CI") != "true", reason="beancount not installed")
def test_beancount_accepts_the_export(fuel, tmp_path):
    fuel("post", str(write_entry(tmp_path / "e.json", "dd-1", "99.99")))
    fuel("export", "--format", "beancount", "--out", str(tmp_path / "fuel.beancount"))
    check = subprocess.run(["bean-check", str(tmp_path / "fuel.beancount")], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    text = (tmp_path / "fuel.beancount").read_text()
    assert "Assets:Cash  99.99 GBP" in text and "Equity:ContributedCapital  -99.99 GBP" in text
