"""Web API commands, registered onto the ``fuel`` app (one import at the end of cli.py):
``fuel serve`` runs the API with uvicorn; ``fuel tokens create|list|revoke`` manage its
bearer tokens (stored hashed; a token is printed once, when it is made)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Optional

import typer

from ledger.shell.cli_common import JsonFlag, UserOption, app, current_user, engine, state

tokens_app = typer.Typer(rich_markup_mode=None, help="API bearer tokens: create (printed once), list, revoke.", no_args_is_help=True)


@tokens_app.command("create")
def tokens_create(
    role: Annotated[str, typer.Option("--role", help="fund_manager, investor, commissioner, auditor, partner "
                                      "(a joint-prime contract's delivery partner), applicant or assessor (incubator calls).")],
    name: Annotated[str, typer.Option("--name", help="Who or what uses the token, e.g. 'council finance system'.")],
    fund: Annotated[Optional[str], typer.Option("--fund", help="Fund id (fund_manager, assessor).")] = None,
    investor: Annotated[Optional[str], typer.Option("--investor", help="Investor party id (investor).")] = None,
    payer: Annotated[Optional[str], typer.Option("--payer", help="Payer party id (commissioner).")] = None,
    contract: Annotated[Optional[str], typer.Option("--contract", help="Joint-prime contract id (partner, with "
                                                    "--partner).")] = None,
    partner: Annotated[Optional[str], typer.Option("--partner", help="Delivery partner id in the contract's "
                                                   "[[partners]] (partner, with --contract).")] = None,
    organisation: Annotated[Optional[str], typer.Option("--organisation", help="The applicant's org-id, GB-CHC-... or "
                                                        "GB-COH-... (applicant).")] = None,
    expires_days: Annotated[Optional[int], typer.Option("--expires-days", min=1, help="Days until it expires "
                                                         "(default: never).")] = None,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Make a token for a role and scope. The token is printed once; only its hash is kept."""
    from ledger.errors import ValidationError
    from models.api_store import ROLES, create_token

    given = {"fund": fund, "investor": investor, "payer": payer, "contract": contract, "partner": partner,
             "organisation": organisation}
    needed = ROLES.get(role)
    takes = ("contract", "partner") if needed == "partner" else (needed,) if needed else ()
    extra = [f"--{k}" for k, v in given.items() if v is not None and k not in takes]
    if extra:
        wanted = " and ".join(f"--{k}" for k in takes) or "no scope"
        raise ValidationError(f"a {role} token takes {wanted}, not {', '.join(extra)}", field="scope")
    if needed == "partner":
        if not contract or not partner:
            raise ValidationError("a partner token takes --contract and --partner: the joint-prime contract and the "
                                  "partner's id in it", field="scope")
        scope = f"{contract}/{partner}"
    else:
        scope = given.get(needed) if needed else None
    expires = timedelta(days=expires_days) if expires_days else None
    with engine().begin() as conn:
        token, info = create_token(conn, name, role, scope, current_user(user), expires)
    if as_json:
        typer.echo(json.dumps({**info.as_dict(), "token": token}, indent=2))
        return
    typer.echo(f"token {info.id} ({info.role}{' of ' + info.scope if info.scope else ''}, {info.name}):")
    typer.echo(token)
    typer.echo("Keep it now: Fuel stores only its hash and cannot show it again.", err=True)


@tokens_app.command("list")
def tokens_list(as_json: JsonFlag = False) -> None:
    """List tokens: id, name, role, scope, created, expires, revoked (never the token)."""
    from models.api_store import list_tokens
    from models.db import reading
    from reports.render import emit

    with reading(engine()) as conn:
        rows = [t.as_dict() for t in list_tokens(conn)]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    emit(rows, ["id", "name", "role", "scope", "created_at", "expires_at", "revoked_at", "active"], "table",
         title="API tokens")


@tokens_app.command("revoke")
def tokens_revoke(token_id: Annotated[int, typer.Argument(help="Token id (from `fuel tokens list`).")]) -> None:
    """Revoke a token: it is refused from the next request on."""
    from models.api_store import revoke_token

    with engine().begin() as conn:
        status = revoke_token(conn, token_id)
    typer.echo(f"token {token_id}: {status}")


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Run the web API (uvicorn) on the database: see docs/api.md."""
    import os

    import uvicorn

    engine()  # refuse to start on a database that is not set up
    if state.db_url:
        os.environ["FUEL_DATABASE_URL"] = state.db_url
    # uvicorn believes X-Forwarded-For from 127.0.0.1 by default; Fuel believes it only from the
    # proxies a deployment names, or a local caller could reset the failed-login limiter with it.
    from ledger.shell.api.settings import Settings

    proxies = Settings.from_env().trusted_proxies
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"Fuel on http://{shown}:{port}: pages at /ui, API documentation at /docs; Ctrl+C stops it")
    # info: uvicorn's start line and one access line per request, so a newcomer sees it working
    uvicorn.run("ledger.shell.cli_api:asgi_app", factory=True, host=host, port=port, workers=workers,
                log_level="info", proxy_headers=bool(proxies), forwarded_allow_ips=proxies or "")


def asgi_app():
    """uvicorn's factory: the app on ``$FUEL_DATABASE_URL`` (each worker builds its own)."""
    from ledger.shell.api.app import create_app
    from ledger.shell.api.settings import Settings
    from models.db import make_engine

    settings = Settings.from_env()
    return create_app(make_engine(settings.database_url), settings)


app.add_typer(tokens_app, name="tokens")
app.command("serve")(serve)
