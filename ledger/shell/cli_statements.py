"""Investor statements and waterfall distributions, registered onto the ``fuel`` app (one import
line in cli.py). ``fuel statements`` renders every investor's quarterly statement;
``fuel distribute`` runs the fund's waterfall for an amount and posts the distribution;
``fuel clawback`` tests deal-by-deal carry against the whole fund and posts the clawback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ledger.errors import ValidationError
from ledger.periods import Period, parse_date
from ledger.shell.cli_common import app, current_user, engine


def _resolve_fund(conn, fund):
    from ledger.shell.cli_flows import _resolve_fund as resolve

    return resolve(conn, fund)


FundOption = Annotated[Optional[str], typer.Option("--fund", help="Fund id (default: the only fund in the database).")]


def statements(
    quarter: Annotated[str, typer.Option("--quarter", help="Quarter, e.g. 2026Q3.")],
    out: Annotated[Path, typer.Option("--out", help="Directory to write the statements to.")],
    investor: Annotated[Optional[str], typer.Option("--investor", help="One investor id (default: all).")] = None,
    fund: FundOption = None,
    formats: Annotated[str, typer.Option("--format", help="Comma-separated: html,pdf,csv,json.")] = "html,pdf,csv,json",
    jobs: Annotated[int, typer.Option("--jobs", help="Worker processes for rendering (PDF is CPU-bound).")] = 2,
) -> None:
    """Render investors' quarterly statements (capital account, commitment, performance, impact),
    by the fund's stored terms that apply on the quarter's last day (`fuel terms`)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ledger.statements import assemble_statements
    from models.statements_store import statement_inputs
    from models.terms_store import terms_for
    from reports.statements import FORMATS, write_statements

    period = Period.parse(quarter)
    chosen = [f.strip().lower() for f in formats.split(",") if f.strip()]
    unknown = sorted(set(chosen) - set(FORMATS))
    if unknown or not chosen:
        raise ValidationError(f"--format: unknown {', '.join(unknown) or 'empty'} (choose from {', '.join(FORMATS)})")
    if jobs < 1 or jobs > 64:
        raise ValidationError("--jobs must be between 1 and 64")
    with engine().connect() as conn:
        fund_id = _resolve_fund(conn, fund)
        inputs = statement_inputs(conn, fund_id, period, terms_for(conn, fund_id, period.last_day))
    investors = None
    if investor is not None:
        known = {p.id for p in inputs.parties if p.kind == "investor"}
        if investor not in known:
            raise ValidationError(f"unknown investor {investor!r} in fund {fund_id}", field="investor")
        investors = [investor]
    built = assemble_statements(inputs, investors)
    if not built:
        typer.echo(f"No investor has capital in fund {fund_id} by the end of {period.name}; nothing written.")
        return
    with Progress(TextColumn("Rendering statements"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True) as progress:
        task = progress.add_task("render", total=len(built))
        written = write_statements(built, out, chosen, jobs=jobs, progress=lambda: progress.advance(task))
    typer.echo(f"{len(built)} statement(s) for {fund_id} {period.name} written to {out.resolve()}:")
    for path in sorted(written):
        typer.echo(f"  {path}")


def distribute(
    amount: Annotated[str, typer.Option("--amount", help="Cash to distribute, in pounds as text, e.g. 1234.50.")],
    day: Annotated[str, typer.Option("--date", help="Distribution date, YYYY-MM-DD.")],
    fund: FundOption = None,
    key: Annotated[Optional[str], typer.Option("--key", help="Idempotency key (default: derived from fund, amount, date).")] = None,
    description: Annotated[Optional[str], typer.Option("--description", help="Description (default: generated).")] = None,
    user: Annotated[Optional[str], typer.Option("--user", help="Who is recording this.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Write JSON to stdout.")] = False,
) -> None:
    """Run the fund's distribution waterfall (its stored terms on that date, `fuel terms`) for an
    amount and post the distribution entry."""
    from ledger.money import format_amount, parse_amount
    from models.statements_store import distribute as run
    from models.terms_store import terms_for

    when = parse_date(day, "--date")
    with engine().begin() as conn:
        fund_id = _resolve_fund(conn, fund)
        pence = parse_amount(amount, "GBP", "--amount")
        recorded = run(conn, fund_id, pence, when, terms_for(conn, fund_id, when), key=key, description=description,
                       recorded_by=current_user(user))
    entry = recorded.post.entry
    if as_json:
        typer.echo(json.dumps({
            "entry_id": entry.id, "created": recorded.created, "fund": fund_id, "date": when.isoformat(),
            "distributed_pence": recorded.distributed_pence, "undistributed_pence": recorded.undistributed_pence,
            "lines": list(recorded.lines),
        }, indent=2, sort_keys=True))
        return
    verb = "posted" if recorded.created else "already posted (same key): nothing new"
    typer.echo(f"Distribution of {format_amount(recorded.distributed_pence, 'GBP', separators=True)} through the "
               f"waterfall: entry {entry.id} {verb}")
    for line in recorded.lines:
        typer.echo(f"  {line['party']:<20} {line['tranche'] or '-':<12} {line['kind']:<18} "
                   f"{format_amount(line['amount_pence'], 'GBP', separators=True):>16}")
    if recorded.undistributed_pence:
        typer.echo(f"  undistributed (every tier capped): "
                   f"{format_amount(recorded.undistributed_pence, 'GBP', separators=True)}")


def clawback(
    day: Annotated[str, typer.Option("--date", help="Test date, YYYY-MM-DD: the fund's end, or any date on demand.")],
    post: Annotated[bool, typer.Option("--post", help="Record the clawback due as one ledger entry (idempotent).")] = False,
    fund: FundOption = None,
    key: Annotated[Optional[str], typer.Option("--key", help="Idempotency key (default: derived from fund and date).")] = None,
    user: Annotated[Optional[str], typer.Option("--user", help="Who is recording this.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Write JSON to stdout.")] = False,
) -> None:
    """Test deal-by-deal carry against a whole-fund run of the same cash; show (and --post) the clawback."""
    from models.clawback_store import clawback as run
    from models.terms_store import terms_for

    when = parse_date(day, "--date")
    with engine().begin() as conn:
        fund_id = _resolve_fund(conn, fund)
        terms = terms_for(conn, fund_id, when)
        recorded = run(conn, fund_id, when, terms, post=post, key=key, recorded_by=current_user(user))
    c = recorded.clawback
    entry = recorded.post.entry if recorded.post else None
    if as_json:
        typer.echo(json.dumps({
            "fund": fund_id, "date": when.isoformat(), "waterfall": c.terms_name, "recipient": c.recipient,
            "carry_by_deal": [{"project": project, "carry_pence": amount} for project, amount in c.carry_by_deal],
            "received_pence": c.received_pence, "returned_before_pence": c.returned_before_pence,
            "deal_by_deal_carry_pence": c.deal_by_deal_carry_pence, "whole_fund_carry_pence": c.whole_fund_carry_pence,
            "distributions_replayed": len(c.replay), "excess_carry_pence": c.excess_carry_pence,
            "tax_rate": str(c.tax_rate), "tax_cap_pence": c.tax_cap_pence,
            "investors_shortfall_pence": c.investors_shortfall_pence, "clawback_pence": c.clawback_pence,
            "shares": [{"investor": s.investor, "tranche": s.tranche, "deal_by_deal_pence": s.deal_by_deal_pence,
                        "whole_fund_pence": s.whole_fund_pence, "shortfall_pence": s.shortfall_pence,
                        "returned_pence": s.returned_pence} for s in c.shares],
            "entry_id": entry.id if entry else None, "created": recorded.created, "lines": list(recorded.lines),
        }, indent=2, sort_keys=True))
        return
    money = _pounds
    typer.echo(f"Clawback test for {fund_id} on {when.isoformat()} ({c.terms_name}, recipient {c.recipient})")
    for project, amount in c.carry_by_deal:
        typer.echo(f"  carry received on {project or 'deals (untagged)':<30} {money(amount)}")
    rows = [("returned by earlier clawbacks", -c.returned_before_pence),
            ("deal-by-deal carry, net", c.deal_by_deal_carry_pence),
            (f"whole-fund carry ({len(c.replay)} distribution days replayed)", c.whole_fund_carry_pence),
            ("excess carry", c.excess_carry_pence)]
    if c.tax_cap_pence is not None:
        rows.append((f"net-of-tax cap (tax rate {c.tax_rate})", c.tax_cap_pence))
    rows += [("investors' shortfall", c.investors_shortfall_pence), ("clawback due", c.clawback_pence)]
    for label, amount in rows:
        typer.echo(f"  {label:<48} {money(amount)}")
    for s in c.shares:
        typer.echo(f"    {s.investor:<20} {s.tranche:<12} deal by deal {money(s.deal_by_deal_pence)}  whole fund "
                   f"{money(s.whole_fund_pence)}  returned {money(s.returned_pence)}")
    if entry is not None:
        verb = "posted" if recorded.created else "already posted (same key): nothing new"
        typer.echo(f"Clawback entry {entry.id} {verb}")
    elif post:
        typer.echo("No clawback due: nothing posted")
    elif c.clawback_pence:
        typer.echo("Not posted: add --post to record it")


def _pounds(pence: int) -> str:
    from ledger.money import format_amount

    return f"{format_amount(pence, 'GBP', separators=True):>16}"


app.command("statements")(statements)
app.command("distribute")(distribute)
app.command("clawback")(clawback)
