"""End to end: `fuel distribute` and `fuel statements` run as a user would (a subprocess on SQLite)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def fuel(env, *args, ok=True):
    result = subprocess.run([sys.executable, "-m", "ledger.shell.cli", *args], capture_output=True, text=True,
                            env=env, cwd=ROOT, timeout=300)
    if ok:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    db = tmp_path_factory.mktemp("st") / "fuel.db"
    env = {**os.environ, "FUEL_DATABASE_URL": f"sqlite:///{db}", "FUEL_USER": "tester", "COLUMNS": "200"}
    fuel(env, "init")
    fuel(env, "fund", "load", str(ROOT / "fixtures" / "funds" / "example_fund.toml"))
    fuel(env, "import", "flows", str(ROOT / "fixtures" / "flows" / "example_flows.csv"))
    fuel(env, "import", "flows", str(ROOT / "tests" / "data" / "statements" / "scenario_flows.csv"))
    return env


def test_distribute_posts_once(env):
    first = json.loads(fuel(env, "distribute", "--amount", "10000.00", "--date", "2026-09-30", "--json").stdout)
    assert first["created"] is True and first["distributed_pence"] == 1_000_000
    assert sum(line["amount_pence"] for line in first["lines"]) == 1_000_000
    assert {line["kind"] for line in first["lines"]} == {"return_of_capital"}
    again = fuel(env, "distribute", "--amount", "10000.00", "--date", "2026-09-30")
    assert "already posted (same key): nothing new" in again.stdout


def test_statements_for_all_investors(env, tmp_path):
    result = fuel(env, "statements", "--quarter", "2026Q3", "--out", str(tmp_path), "--jobs", "2")
    assert "4 statement(s) for lcr-outcomes 2026Q3 written to" in result.stdout
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 16 and "lcr-outcomes_nsi_2026Q3.pdf" in names
    assert (tmp_path / "lcr-outcomes_nsi_2026Q3.pdf").read_bytes().startswith(b"%PDF")
    figures = json.loads((tmp_path / "lcr-outcomes_nsi_2026Q3.json").read_text())
    assert figures["capital_account"]["qtd"]["ending_pence"] == figures["capital_account"]["itd"]["ending_pence"]
    assert str(tmp_path / "lcr-outcomes_nsi_2026Q3.html") in result.stdout


def test_one_investor_and_format_and_mistakes(env, tmp_path):
    fuel(env, "statements", "--quarter", "2026Q3", "--investor", "nsi", "--format", "html,json", "--out", str(tmp_path))
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".html", ".json"]
    bad = fuel(env, "statements", "--quarter", "2026Q3", "--investor", "nobody", "--out", str(tmp_path), ok=False)
    assert bad.returncode == 1 and "error: unknown investor 'nobody' in fund lcr-outcomes" in bad.stderr
    bad = fuel(env, "statements", "--quarter", "2026Q9", "--out", str(tmp_path), ok=False)
    assert bad.returncode == 1 and "error:" in bad.stderr and "Traceback" not in bad.stderr
    bad = fuel(env, "statements", "--quarter", "2026Q3", "--format", "docx", "--out", str(tmp_path), ok=False)
    assert "unknown docx" in bad.stderr
    assert "Render investors' quarterly statements" in fuel(env, "statements", "--help").stdout
    assert "waterfall" in fuel(env, "distribute", "--help").stdout
