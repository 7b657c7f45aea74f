"""A small generated fund (four quarters, all closed) built once per session and copied for each
test, the fuel command against the copy, and a real SMTP server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.delivery.smtp_server import SmtpServer

REPO = Path(__file__).resolve().parents[2]
QUARTER = "2024Q4"


@pytest.fixture(scope="session")
def generated_fund(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fund") / "fund.db"
    result = subprocess.run([sys.executable, "-m", "ledger.shell.cli", "generate", "--participants", "200",
                             "--quarters", "4", "--out", str(path)], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return path


@pytest.fixture
def smtp():
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def fund_db(generated_fund, tmp_path) -> Path:
    path = tmp_path / "fund.db"
    shutil.copy(generated_fund, path)
    return path


@pytest.fixture
def fuel(fund_db, smtp, tmp_path):
    """``fuel(*args, ok=True)`` on the copied fund, with the test SMTP server's settings."""
    env = {**os.environ, "FUEL_DATABASE_URL": f"sqlite:///{fund_db}", "FUEL_USER": "manager", **smtp.env()}

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "ledger.shell.cli", *args], cwd=tmp_path, env=env,
                                capture_output=True, text=True)
        assert "Traceback" not in result.stderr, result.stderr
        if ok:
            assert result.returncode == 0, result.stderr + result.stdout
        return result

    return run
