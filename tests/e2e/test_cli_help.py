"""Help text a newcomer can read (issue 18 item 12): every command's --help, and usage mistakes."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer.main

from ledger.shell.cli import app


def command_paths() -> list[list[str]]:
    paths: list[list[str]] = []

    def walk(command, path: list[str]) -> None:
        paths.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


PATHS = command_paths()


def test_there_are_many_commands_to_check():
    assert len(PATHS) > 100


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p) or "fuel" for p in PATHS])
def test_help_has_no_type_noise_and_keeps_its_text(path):
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output
    assert "<bool>" not in result.output and "[]" not in result.output


def test_brackets_in_help_are_text_not_markup():
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["partners", "statement", "--help"], terminal_width=100)
    assert "[[partners]]" in result.output


def test_report_help_names_every_report():
    report = typer.main.get_command(app).commands["report"]
    words = report.help.replace(",", "").replace(".", "").replace("-", " ")
    for name in report.commands:
        assert name.replace("-", " ").replace("sources uses", "sources and uses") in words, name


def test_group_listings_join_a_wrapped_first_sentence():
    from typer.testing import CliRunner

    listing = CliRunner().invoke(app, ["report", "--help"], terminal_width=200).output
    line = next(text for text in listing.splitlines() if text.strip().startswith("outcome-pipeline"))
    assert "(latest plan version)" in line  # the docstring's second line, on the same line


@pytest.mark.parametrize(("args", "message"), [
    (["claims", "show", "--nope"], "error: No such option: --nope"),
    (["nope"], "error: No such command 'nope'"),
    (["claims", "show"], "error: Missing option '--contract'"),
])  # fmt: skip
def test_a_usage_mistake_is_one_error_line_and_exit_1(args, message):
    result = subprocess.run([sys.executable, "-m", "ledger.shell.cli", *args], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
    assert "--help" in result.stderr and "Traceback" not in result.stderr
