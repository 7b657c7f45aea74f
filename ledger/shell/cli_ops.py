"""Operations commands, registered onto the ``fuel`` app (one import at the end of cli.py).

``fuel backup OUT``: a consistent copy of the database while writers carry on: SQLite through
sqlite3's online backup API (one read snapshot), PostgreSQL through ``pg_dump -Fc`` (one
repeatable-read snapshot). ``fuel restore IN``: into an empty database only, then the hash
chain is verified. ``fuel participants export``: a data-subject access request.

The work is in :mod:`models.backup` and :mod:`models.privacy_store`; this module parses,
calls one of them and prints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ledger.shell.cli_common import DbOption, JsonFlag, app, engine, state
from ledger.shell.cli_pbr import ContractOption, participants_app


@app.command()
def backup(
    out: Annotated[Path, typer.Argument(help="Backup file to write (refused if it exists). SQLite: a database "
                                             "file; PostgreSQL: a pg_dump custom-format archive.")],
    as_json: JsonFlag = False,
) -> None:
    """Write a consistent copy of the database while others keep writing; report its chain position."""
    from models.backup import backup_database

    result = backup_database(engine(), out)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2))
        return
    typer.echo(f"backed up to {out} ({result.kind}, {result.size_bytes} bytes): {result.entries} entries, "
               f"chain tip {result.chain_tip_hash[:16]}")


@app.command()
def restore(
    backup_file: Annotated[Path, typer.Argument(help="A file written by `fuel backup`.")],
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Restore a backup into an EMPTY database (a new SQLite file, or a PostgreSQL database with no
    tables), then verify its hash chain."""
    from models.backup import restore_database
    from models.db import make_engine

    target = make_engine(db or state.db_url)
    try:
        result = restore_database(target, backup_file)
    finally:
        target.dispose()
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2))
    else:
        typer.echo(f"restored {backup_file} into {result.database}: {result.entries} entries; "
                   + ("hash chain verified" if result.chain_ok else f"hash chain BROKEN at entry {result.break_entry}"))
    if not result.chain_ok:
        raise typer.Exit(3)


@participants_app.command("export")
def participants_export(
    participant_id: Annotated[str, typer.Argument(help="The pseudonymous participant id.")],
    contract: ContractOption,
    out: Annotated[Optional[Path], typer.Option("--out", help="Write the JSON here (default: stdout).")] = None,
) -> None:
    """Data-subject request: everything Fuel holds about one participant (register row, outcome
    events, claim lines with payer shares, validation samples), as JSON."""
    from models.db import reading
    from models.privacy_store import participant_export

    with reading(engine()) as conn:
        payload = participant_export(conn, contract, participant_id)
    text = json.dumps(payload, indent=2, ensure_ascii=False, default=str)
    if out is None:
        typer.echo(text)
        return
    out.write_text(text + "\n", encoding="utf-8")
    typer.echo(f"wrote {out}: {len(payload['outcome_events'])} outcome events, {len(payload['claim_lines'])} "
               f"claim lines for participant {participant_id} of {contract}")
