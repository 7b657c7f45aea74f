"""Web page users, registered onto the ``fuel`` app (one import at the end of cli.py):
``fuel users create|list|disable``. Passwords are stored only as salted scrypt hashes; the
pages (``fuel serve``, under /ui) also accept API tokens. See docs/pages.md."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Optional

import typer

from ledger.shell.cli_common import JsonFlag, UserOption, app, current_user, engine

users_app = typer.Typer(rich_markup_mode=None, help="Web page users (username and password): create, list, disable.",
                        no_args_is_help=True)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="The login name (no spaces).")],
    role: Annotated[str, typer.Option("--role", help="fund_manager, investor, commissioner, auditor or partner.")],
    scope: Annotated[Optional[str], typer.Option("--scope", help="Fund id (fund_manager), investor party id "
                                                 "(investor), payer party id (commissioner), or CONTRACT/PARTNER "
                                                 "(partner, e.g. lcr-joint-prime/sefton-carers); none for auditor.")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first line "
                                                 "of stdin instead of prompting.")] = False,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a user who signs in to the pages with a password (at least 10 characters; hashed)."""
    from models.web_store import create_user

    password = _password(password_stdin)
    with engine().begin() as conn:
        info = create_user(conn, username, password, role, scope, current_user(user))
    if as_json:
        typer.echo(json.dumps(info.as_dict(), indent=2))
        return
    typer.echo(f"user {info.username} ({info.role}{' of ' + info.scope if info.scope else ''}) created")


@users_app.command("list")
def users_list(as_json: JsonFlag = False) -> None:
    """List users: id, username, role, scope, created, disabled (never a password)."""
    from models.db import reading
    from models.web_store import list_users
    from reports.render import emit

    with reading(engine()) as conn:
        rows = [u.as_dict() for u in list_users(conn)]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    emit(rows, ["id", "username", "role", "scope", "created_at", "created_by", "disabled_at", "active"], "table",
         title="Web users")


@users_app.command("disable")
def users_disable(username: Annotated[str, typer.Argument(help="The user to disable.")]) -> None:
    """Disable a user: their sessions stop working at once."""
    from models.web_store import disable_user

    with engine().begin() as conn:
        status = disable_user(conn, username)
    typer.echo(f"user {username}: {status}")


app.add_typer(users_app, name="users")
