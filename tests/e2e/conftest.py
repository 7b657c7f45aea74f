"""The ``fuel`` command run as a user runs it: a subprocess per call on its own SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parents[2]


def fuel_runner(db_dir: Path, cwd: Path = REPO) -> Callable[..., subprocess.CompletedProcess]:
    """``run(*args, ok=True, stdin="")``: never a traceback; exit 0 unless ``ok=False``."""
    env = {**os.environ, "FUEL_DATABASE_URL": f"sqlite:///{db_dir / 'fuel.db'}", "FUEL_USER": "tester"}

    def run(*args: str, ok: bool = True, stdin: str = "") -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "ledger.shell.cli", *args], cwd=cwd, env=env, input=stdin,
                                capture_output=True, text=True)  # fmt: skip
        assert "Traceback" not in result.stderr, result.stderr
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    return run


@pytest.fixture
def fuel(tmp_path):
    """A fresh, initialised database and the command to run against it."""
    run = fuel_runner(tmp_path)
    run("init")
    return run
