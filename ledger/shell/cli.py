"""The ``fuel`` command: a thin layer that parses arguments, calls one service, prints.

User mistakes (every ``FuelError``) print one clear line on stderr and exit with status 1;
they never show a traceback. The app and shared helpers live in ``cli_common``; this module
holds the ledger-core commands and imports every other command module to register it.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer

from ledger.errors import FuelError, ValidationError
from ledger.periods import Period, parse_date
from ledger.shell.cli_common import (  # noqa: F401  (re-exported for callers of ledger.shell.cli)
    DEFAULT_CHART,
    FIXTURES,
    REPO_ROOT,
    AsOfOption,
    CsvFlag,
    DbOption,
    JsonFlag,
    UserOption,
    app,
    as_of_date,
    current_user,
    engine,
    load_structured,
    output_format,
    read_text,
    state,
)


# ---------------------------------------------------------------------------- ledger core


@app.command()
def init(
    chart: Annotated[Path, typer.Option(help="Chart of accounts (TOML).")] = DEFAULT_CHART,
    db: DbOption = None,
) -> None:
    """Create or upgrade the database and load a chart of accounts."""
    from ledger.accounts import load_chart_toml
    from models.db import make_engine, migrate
    from models.ledger_store import load_chart

    eng = make_engine(db or state.db_url)
    migrate(eng)
    parsed = load_chart_toml(read_text(chart), str(chart))
    with eng.begin() as conn:
        added = load_chart(conn, parsed)
    typer.echo(f"Database ready at {eng.url.render_as_string(hide_password=True)}; "
               f"{added} account(s) added from {chart.name}.")


@app.command()
def post(
    file: Annotated[Path, typer.Argument(help="JSON or TOML file with one entry or a list of entries.")],
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Post journal entries from a file, all or nothing. Re-posting the same file is a no-op."""
    from ledger.postings import draft_from_mapping
    from models.ledger_store import Ledger

    data = load_structured(file)
    items = data if isinstance(data, list) else data.get("entries", [data]) if isinstance(data, dict) else None
    if not items:
        raise ValidationError(f"{file}: no entries found")
    drafts = [draft_from_mapping(item, f"{file.name} entry {i}") for i, item in enumerate(items, start=1)]
    results = Ledger(engine()).post(drafts, current_user(user))
    rows = [
        {"entry_id": r.entry.id, "idempotency_key": r.entry.draft.idempotency_key,
         "status": "posted" if r.created else "already posted", "entry_hash": r.entry.entry_hash}
        for r in results
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
    else:
        for row in rows:
            typer.echo(f"entry {row['entry_id']} ({row['idempotency_key']}): {row['status']}")


@app.command()
def reverse(
    entry_id: Annotated[int, typer.Argument(help="Id of the entry to reverse.")],
    reason: Annotated[str, typer.Option(help="Why it is reversed (kept on the reversal).")],
    on: Annotated[Optional[str], typer.Option("--date", help="Effective date of the reversal (default: today).")] = None,
    key: Annotated[Optional[str], typer.Option(help="Idempotency key (default: reversal-of-ID).")] = None,
    user: UserOption = None,
) -> None:
    """Post the mirror of an entry, linked to it. An entry can be reversed once."""
    from models.ledger_store import Ledger

    effective = parse_date(on, "--date") if on else date.today()
    result = Ledger(engine()).reverse(entry_id, effective, reason, current_user(user), key)
    state_text = "posted" if result.created else "already posted"
    typer.echo(f"entry {result.entry.id} reverses entry {entry_id}: {state_text}")


@app.command()
def show(entry_id: Annotated[int, typer.Argument(help="Entry id.")], as_json: JsonFlag = False) -> None:
    """Show one entry with its postings and hashes."""
    from models.ledger_store import Ledger
    from reports.render import emit

    entry = Ledger(engine()).entry(entry_id)
    d = entry.draft
    header = {
        "id": entry.id, "effective_date": d.effective_date.isoformat(), "description": d.description,
        "event_kind": d.event_kind, "idempotency_key": d.idempotency_key, "reverses_id": d.reverses_id,
        "corrects_id": d.corrects_id, "recorded_at": entry.recorded_at.isoformat(), "recorded_by": entry.recorded_by,
        "entry_hash": entry.entry_hash,
    }
    lines = [{"account": p.account, "amount_pence": p.amount_pence, "currency": p.currency, **p.dimensions()} for p in d.postings]
    if as_json:
        typer.echo(json.dumps({**header, "postings": lines}, indent=2))
        return
    for name, value in header.items():
        typer.echo(f"{name:>16}: {'' if value is None else value}")
    emit(lines, ["account", "amount_pence", "currency", "fund", "source", "tranche", "restriction", "project", "counterparty"], "table")


@app.command()
def balances(
    as_of: AsOfOption = None,
    by: Annotated[str, typer.Option(help="Comma-separated grouping: account_code, currency, fund, source, tranche, restriction, project, counterparty.")] = "account_code,currency",
    where: Annotated[Optional[list[str]], typer.Option("--where", help="Filter NAME=VALUE (repeatable), e.g. --where source=charitable.")] = None,
    as_csv: CsvFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Balances as of a date, grouped by any dimensions."""
    from models.ledger_store import Ledger
    from reports.render import emit, totals

    group = [name.strip() for name in by.split(",") if name.strip()]
    filters: dict[str, str | None] = {}
    for item in where or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise ValidationError(f"--where {item!r}: expected NAME=VALUE", field="where")
        filters[name.strip()] = value.strip() or None
    day = as_of_date(as_of)
    rows = [
        {**dict(zip(group, r.key)), "debit_pence": r.debit_pence, "credit_pence": r.credit_pence, "balance_pence": r.balance_pence}
        for r in Ledger(engine()).balances(day, group, filters)
    ]
    columns = [*group, "debit_pence", "credit_pence", "balance_pence"]
    emit(rows, columns, output_format(as_csv, as_json), title=f"Balances as of {day}",
         footer=totals(rows, columns, group[0]), extra={"as_of": day.isoformat()})


@app.command("trial-balance")
def trial_balance_cmd(as_of: AsOfOption = None, as_csv: CsvFlag = False, as_json: JsonFlag = False) -> None:
    """Trial balance: per account, debits, credits and net. The net column sums to zero."""
    from models.ledger_store import Ledger
    from reports.render import emit, totals

    day = as_of_date(as_of)
    lines = Ledger(engine()).trial_balance(day)
    rows = [
        {"account": l.account_code, "name": l.account_name, "type": l.account_type, "currency": l.currency,
         "debit_pence": l.debit_pence, "credit_pence": l.credit_pence, "net_pence": l.net_pence}
        for l in lines
    ]
    columns = ["account", "name", "type", "currency", "debit_pence", "credit_pence", "net_pence"]
    emit(rows, columns, output_format(as_csv, as_json), title=f"Trial balance as of {day}",
         footer=totals(rows, columns, "account"), extra={"as_of": day.isoformat()})


@app.command("close-period")
def close_period_cmd(
    period: Annotated[str, typer.Argument(help="Quarter to close, e.g. 2026Q3. Earlier dates close with it.")],
    user: UserOption = None,
) -> None:
    """Close a quarter: no entry may be dated in it (or earlier) afterwards. Recorded with who and when."""
    from models.bank_store import guarded_close

    with engine().begin() as conn:  # warns, or with the fund's setting refuses, an unreconciled quarter end
        closed, warnings = guarded_close(conn, Period.parse(period), current_user(user))
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"closed {closed.period.name} (through {closed.period.last_day}) by {closed.closed_by} "
               f"at {closed.closed_at.isoformat(timespec='seconds')}Z; chain at entry {closed.last_entry_id}")


@app.command()
def verify(
    tip: Annotated[Optional[str], typer.Option(
        help="A tip kept from `fuel tip` (COUNT:HASH or HASH): also check the ledger still passes through it.")] = None,
) -> None:
    """Walk the hash chain and the period closes; report the first record changed behind Fuel's back."""
    from models.ledger_store import Ledger

    report = Ledger(engine()).verify(tip)
    if report.ok:
        kept = f"; the kept tip {tip} is in it" if report.tip_checked else ""
        typer.echo(f"ok: {report.entries_checked} entries verified; the hash chain is intact{kept}")
        return
    brk = report.first_break
    if brk is not None:
        typer.echo(f"BROKEN at entry {brk.entry_id}: {brk.problem}", err=True)
    for record in report.record_breaks:
        typer.echo(f"BROKEN at {record.record}: {record.problem}", err=True)
    raise typer.Exit(3)


# `fuel export` alone writes the ledger (hledger or beancount); its subcommands (cli_opendata)
# write the open-data and accountants' formats.
export_app = typer.Typer(rich_markup_mode=None, help="Export the whole ledger as an hledger journal or a beancount file (no "
                         "subcommand), or a fund's data for others: 360giving, indigo, journal.",
                         invoke_without_command=True, no_args_is_help=False)
app.add_typer(export_app, name="export")


@app.command()
def tip() -> None:
    """Print the ledger's tip (entries and period closes) for an auditor to keep elsewhere.

    `fuel verify --tip COUNT:HASH` later proves nothing up to that point was deleted or rewritten."""
    from models.ledger_store import Ledger

    now = Ledger(engine()).tip()
    typer.echo(f"tip {now.text}")
    typer.echo(f"entries {now.entry_count} (last entry hash {now.entry_hash}); "
               f"period closes {now.close_count} (last close hash {now.close_hash})")


@export_app.callback(invoke_without_command=True)
def export(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", help="hledger (also read by ledger-cli) or beancount.")] = "hledger",
    out: Annotated[Optional[Path], typer.Option(help="Output file (default: stdout).")] = None,
) -> None:
    """Export the whole ledger as an hledger journal or a beancount file; or, with a subcommand,
    a fund's grants (360giving), contracts (indigo) or journals for an accountant (journal)."""
    if ctx.invoked_subcommand is not None:
        return
    from models.ledger_store import account_types, iter_entries
    from reports.exports import write_beancount, write_hledger

    writers = {"hledger": write_hledger, "beancount": write_beancount}
    if fmt not in writers:
        raise ValidationError(f"--format {fmt!r}: choose hledger or beancount", field="format")
    from models.db import reading

    with reading(engine()) as conn:
        types = account_types(conn)
        if out is None:
            writers[fmt](iter_entries(conn), types, sys.stdout)
            return
        with out.open("w", encoding="utf-8") as handle:
            count = writers[fmt](iter_entries(conn), types, handle)
    typer.echo(f"wrote {count} entries to {out}")


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo database (demo.db) and every statement.")] = Path("out"),
    seed: Annotated[int, typer.Option(help="Seed of the generated participants, outcomes and figures.")] = 2026,
    participants: Annotated[int, typer.Option(help="Participants across the four contracts.")] = 3000,
    quarters: Annotated[int, typer.Option(help="Quarters of history from 2024Q1 (4-12).")] = 8,
) -> None:
    """Build the demo Liverpool City Region blended fund from nothing on SQLite (OUT/demo.db) and
    write every statement (investors, councils, joint-prime partners, fund manager) to OUT."""
    from ledger.shell.demo import run_demo

    run_demo(out, seed=seed, participants=participants, quarters=quarters)


@app.command()
def generate(
    participants: Annotated[int, typer.Option("--participants", help="Participants across the four contracts.")] = 3000,
    quarters: Annotated[int, typer.Option("--quarters", help="Quarters of history from 2024Q1 (4-12).")] = 8,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the generated data.")] = 2026,
    out: Annotated[Optional[Path], typer.Option("--out", help="SQLite file to create (replaced if it exists).")] = None,
) -> None:
    """Generate a synthetic fund of any size with the demo's shape (four contracts, three kinds
    of money, claims, a write-down, distributions), for scale tests. Writes to --out (a new
    SQLite file) or to the database given by --db / $FUEL_DATABASE_URL, which must be empty."""
    from ledger.shell.demo import run_generate

    run_generate(participants=participants, quarters=quarters, seed=seed, out=out, db_url=state.db_url)


# Run as `python -m ledger.shell.cli`, this file is __main__: it skips these imports and the
# block at the end imports it under its own name, which registers every command once, in order.
if __name__ != "__main__":
    from ledger.shell import cli_flows  # noqa: E402,F401  (registers the fund flows commands)
    from ledger.shell import cli_pbr  # noqa: E402,F401  (registers the payment-by-results commands)
    from ledger.shell import cli_api  # noqa: E402,F401  (registers `fuel serve` and `fuel tokens`)
    from ledger.shell import cli_statements  # noqa: E402,F401  (registers `fuel statements` and `fuel distribute`)
    from ledger.shell import cli_terms  # noqa: E402,F401  (registers `fuel terms load|show|list`)
    from ledger.shell import cli_reports  # noqa: E402,F401  (registers `fuel claims statement|verify` and `fuel report ...`)
    from ledger.shell import cli_partners  # noqa: E402,F401  (registers `fuel partners`, `claims passthrough`, `projects stage`, `report pipeline`)
    from ledger.shell import cli_web  # noqa: E402,F401  (registers `fuel users` for the web pages)
    from ledger.shell import cli_ops  # noqa: E402,F401  (registers `fuel backup`, `fuel restore`, `participants export`)
    from ledger.shell import cli_delivery  # noqa: E402,F401  (registers `fuel contacts`, `fuel issue`, `fuel deliveries`)
    from ledger.shell import cli_notices  # noqa: E402,F401  (registers `fuel notices drawdown|distribution`)
    from ledger.shell import cli_values  # noqa: E402,F401  (registers `fuel values load|list` and `fuel report value`)
    from ledger.shell import cli_bank  # noqa: E402,F401  (registers `fuel bank ...`: accounts, import, match, reconcile)
    from ledger.shell import cli_opendata  # noqa: E402,F401  (registers `fuel export 360giving|indigo|journal`)
    from ledger.shell import cli_calls  # noqa: E402,F401  (registers `fuel calls ...`: incubator calls, docs/calls.md)


def main() -> None:
    """Entry point: run the app, turning user mistakes into one clear line and exit status 1."""
    from sqlalchemy.exc import OperationalError

    try:
        result = app(standalone_mode=False)
        if isinstance(result, int):  # click returns the code of a typer.Exit here
            sys.exit(result)
    except FuelError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except OperationalError as exc:
        typer.echo(f"error: database problem: {exc.orig}", err=True)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:
        # Usage errors from click (vendored inside typer): one line, like every other user mistake.
        if hasattr(exc, "format_message") and isinstance(getattr(exc, "exit_code", None), int):
            ctx = getattr(exc, "ctx", None)
            hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
            typer.echo(f"error: {exc.format_message()}{hint}", err=True)
            sys.exit(1)
        raise


if __name__ == "__main__":
    # `python -m ledger.shell.cli` loads this file as __main__; run the module under its own
    # name instead, so the commands registered by cli_* modules and the --db option are one app.
    from ledger.shell.cli import main as canonical_main

    canonical_main()
