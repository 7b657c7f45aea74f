"""The demo fund for the open-data export tests: `fuel generate` builds the demo's fund
(lcr-blended: four contracts, a joint prime with three delivery partners, claims, payments) at a
small size once per session; a test that writes gets its own copy."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO, fuel, fuel_runner  # noqa: F401  (fuel: a fresh database)

FUND = "lcr-blended"


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("opendata-demo")
    db = folder / "fuel.db"
    result = subprocess.run([sys.executable, "-m", "ledger.shell.cli", "generate", "--participants", "120",
                             "--quarters", "4", "--seed", "11", "--out", str(db)],
                            cwd=REPO, capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return db


@pytest.fixture
def demo(demo_db, tmp_path):
    """`run(*args)` against a copy of the demo fund's database, and that database's path."""
    shutil.copy(demo_db, tmp_path / "fuel.db")
    run = fuel_runner(tmp_path)
    run.db = tmp_path / "fuel.db"  # type: ignore[attr-defined]
    return run


@pytest.fixture(scope="session")
def example_db(tmp_path_factory) -> Path:
    """The README's example fund (lcr-outcomes) with its example flows, built once."""
    folder = tmp_path_factory.mktemp("opendata-example")
    run = fuel_runner(folder)
    run("init")
    run("fund", "load", str(REPO / "fixtures" / "funds" / "example_fund.toml"))
    run("import", "flows", str(REPO / "fixtures" / "flows" / "example_flows.csv"))
    return folder / "fuel.db"


@pytest.fixture
def example(example_db, tmp_path):
    shutil.copy(example_db, tmp_path / "fuel.db")
    return fuel_runner(tmp_path)


def in_process(db: Path):
    """`run(*args)`: the `fuel` app called in this process (no interpreter start-up per call)."""
    from typer.testing import CliRunner

    from ledger.shell.cli import app

    def run(*args: str):
        result = CliRunner().invoke(app, ["--db", f"sqlite:///{db}", *args])
        assert result.exit_code == 0, (result.output, result.exception)
        return result

    return run
