"""`fuel users` through the ``fuel`` command (a subprocess per call): create with
--password-stdin, refused passwords and scopes, list (never a password), disable; help text
and documentation for every command."""

from __future__ import annotations

import json
from pathlib import Path


REPO = Path(__file__).resolve().parents[2]
MY_COMMANDS = [("users", "create"), ("users", "list"), ("users", "disable")]


def test_users_create_list_disable(fuel):
    created = fuel("users", "create", "audrey", "--role", "auditor", "--password-stdin", "--json",
                   stdin="correct horse battery\n")
    assert json.loads(created.stdout)["role"] == "auditor"
    short = fuel("users", "create", "bo", "--role", "auditor", "--password-stdin", ok=False, stdin="short\n")
    assert short.returncode == 1 and "10 to 1000 characters" in short.stderr
    scoped = fuel("users", "create", "cy", "--role", "investor", "--scope", "nobody", "--password-stdin", ok=False,
                  stdin="correct horse battery\n")
    assert scoped.returncode == 1 and "unknown investor 'nobody'" in scoped.stderr
    again = fuel("users", "create", "audrey", "--role", "auditor", "--password-stdin", ok=False,
                 stdin="another long one\n")
    assert again.returncode == 1 and "already exists" in again.stderr
    listed = fuel("users", "list", "--json").stdout
    assert "correct horse" not in listed and "scrypt" not in listed
    assert [u["username"] for u in json.loads(listed)] == ["audrey"]
    assert "disabled" in fuel("users", "disable", "audrey").stdout
    assert json.loads(fuel("users", "list", "--json").stdout)[0]["active"] is False


def test_every_users_command_has_help_text_and_documentation():
    import typer.main

    from ledger.shell.cli import app

    root = typer.main.get_command(app)
    docs = (REPO / "docs" / "pages.md").read_text()
    for path in MY_COMMANDS:
        command = root
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        assert (command.help or "").strip(), f"fuel {' '.join(path)} has no help text"
        assert f"fuel {' '.join(path)}" in docs, f"fuel {' '.join(path)} is not documented"
