"""Issue 16 item 12 through the CLI: an entry id beyond 64 bits and an implausible --as-of are
an ``error:`` line and exit status 1, never a traceback."""

from __future__ import annotations

import shutil

import pytest

from tests.integration.test_bad_input_corpus import base_db, run_cli  # noqa: F401 (fixture)


@pytest.mark.parametrize("args,needle", [
    (["show", str(2**70)], "entry 1180591620717411303424 does not exist (entry ids are 1 to"),
    (["show", str(2**63)], "does not exist (entry ids are 1 to 9223372036854775807)"),
    (["show", "0"], "does not exist"),
    (["reverse", str(2**64), "--reason", "x"], "does not exist"),
    (["balances", "--as-of", "9999-12-31"], "--as-of 9999-12-31 is outside the plausible dates 1990-01-01 to 2100-12-31"),
    (["trial-balance", "--as-of", "9999-12-31"], "is outside the plausible dates"),
    (["trial-balance", "--as-of", "1989-12-31"], "is outside the plausible dates"),
])
def test_out_of_range_ids_and_dates_are_an_error_line(args, needle, base_db, tmp_path, monkeypatch, capsys):  # noqa: F811
    db = tmp_path / "fuel.db"
    shutil.copyfile(base_db[0], db)
    code, stderr = run_cli(["--db", f"sqlite:///{db}", *args], monkeypatch, capsys)
    assert "Traceback" not in stderr
    assert code == 1, stderr
    assert stderr.startswith("error: ") and needle in stderr, stderr
