"""``fuel bank``: bank accounts, statement import, matching and the reconciliation, registered
onto the ``fuel`` app (one import line in cli.py). The CLI is the fund manager's tool, so it
shows sort codes and account numbers in full; every other audience sees them masked.
Rules: ``ledger/bank.py``; storage: ``models/bank_store.py``; guide: ``docs/bank.md``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ledger.errors import ValidationError
from ledger.periods import parse_date
from ledger.shell.cli_common import AsOfOption, CsvFlag, JsonFlag, UserOption, app, as_of_date, current_user, engine
from ledger.shell.cli_common import output_format

bank_app = typer.Typer(rich_markup_mode=None, help="Bank accounts, statement import, matching and reconciliation (docs/bank.md).",
                       no_args_is_help=True)
app.add_typer(bank_app, name="bank")
account_app = typer.Typer(rich_markup_mode=None, help="Bank accounts of a fund: add, list.", no_args_is_help=True)
bank_app.add_typer(account_app, name="account")

AccountOption = Annotated[str, typer.Option("--account", help="Bank account id (`fuel bank account list`).")]
FundOption = Annotated[Optional[str], typer.Option("--fund", help="Fund id (default: the only fund).")]


def _fund(conn, fund: str | None) -> str:
    from ledger.shell.cli_flows import _resolve_fund

    return _resolve_fund(conn, fund)


def _ids(text: str, what: str) -> list[int]:
    try:
        return [int(x) for x in text.replace(",", " ").split()]
    except ValueError:
        raise ValidationError(f"--{what} takes ids like 12,13 (got {text!r})", field=what) from None


@bank_app.command("csv-mapping")
def csv_mapping_set(
    bank: Annotated[str, typer.Argument(help="Name of the bank whose CSV exports this reads, e.g. natwest.")],
    date: Annotated[str, typer.Option("--date", help="Header of the date column.")],
    amount: Annotated[Optional[str], typer.Option(help="Header of the signed amount column (money in positive).")] = None,
    credit: Annotated[Optional[str], typer.Option(help="Header of the money-in column (with --debit).")] = None,
    debit: Annotated[Optional[str], typer.Option(help="Header of the money-out column (with --credit).")] = None,
    reference: Annotated[Optional[str], typer.Option(help="Header of the reference column.")] = None,
    description: Annotated[Optional[str], typer.Option(help="Header of the description column.")] = None,
    balance: Annotated[Optional[str], typer.Option(help="Header of the running balance column (checked).")] = None,
    txn_id: Annotated[Optional[str], typer.Option("--txn-id", help="Header of the bank's transaction id column.")] = None,
    date_format: Annotated[str, typer.Option(help="strptime format of the dates, e.g. %d/%m/%Y.")] = "%Y-%m-%d",
    user: UserOption = None,
) -> None:
    """Save the column mapping of one bank's CSV exports (used by every account with --bank BANK)."""
    from ledger.bank_formats import CsvMapping
    from models.bank_store import save_csv_mapping

    mapping = CsvMapping(date=date, amount=amount, credit=credit, debit=debit, reference=reference,
                         description=description, balance=balance, txn_id=txn_id, date_format=date_format)
    with engine().begin() as conn:
        outcome = save_csv_mapping(conn, bank, mapping, current_user(user))
    typer.echo(f"CSV mapping for {bank}: {outcome}")


@account_app.command("add")
def account_add(
    account_id: Annotated[str, typer.Argument(help="Id for the account, e.g. lcr-main.")],
    name: Annotated[str, typer.Option(help="Name, e.g. 'Client account, NatWest'.")],
    sort_code: Annotated[str, typer.Option("--sort-code", help="Six digits, e.g. 60-16-13.")],
    number: Annotated[str, typer.Option("--number", help="Eight-digit account number.")],
    holds: Annotated[Optional[list[str]], typer.Option(
        "--holds", help="A bucket of cash it holds: '*' (everything, the default), 'source', 'source/tranche' or "
                        "'source/tranche/restriction' ('*' for any part). Repeat for several.")] = None,
    currency: Annotated[str, typer.Option(help="Currency.")] = "GBP",
    bank: Annotated[Optional[str], typer.Option(help="The bank's CSV mapping (`fuel bank csv-mapping`).")] = None,
    fund: FundOption = None, user: UserOption = None,
) -> None:
    """Add a bank account of a fund and the cash postings it holds."""
    from models.bank_store import add_account

    with engine().begin() as conn:
        outcome = add_account(conn, fund=_fund(conn, fund), account_id=account_id, name=name, sort_code=sort_code,
                              account_number=number, currency=currency, holds=holds or ["*"], bank=bank,
                              by=current_user(user))
    typer.echo(f"bank account {account_id}: {outcome}")


@account_app.command("list")
def account_list(fund: FundOption = None, as_csv: CsvFlag = False, as_json: JsonFlag = False) -> None:
    """A fund's bank accounts, in full (this command is the fund manager's)."""
    from models.bank_store import account_rows
    from reports.render import emit

    with engine().connect() as conn:
        rows = [a.public(reveal=True) for a in account_rows(conn, _fund(conn, fund))]
    emit(rows, ["account", "fund", "name", "sort_code", "account_number", "currency", "holds", "bank"],
         output_format(as_csv, as_json), "Bank accounts")


@bank_app.command("import")
def bank_import(
    file: Annotated[Path, typer.Argument(help="Statement file: CSV, OFX, MT940 or CAMT.053 XML.")],
    account: AccountOption,
    fmt: Annotated[Optional[str], typer.Option("--format", help="csv, ofx, mt940 or camt053 (default: from the file).")] = None,
    user: UserOption = None, as_json: JsonFlag = False,
) -> None:
    """Import a bank statement, all or nothing. Lines already imported are skipped; the opening
    and closing balances are checked."""
    from ledger.bank_formats import guess_format
    from models.bank_store import import_statement

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise ValidationError(f"{file}: cannot read ({exc.strerror})", field="file") from None
    with engine().begin() as conn:
        result = import_statement(conn, account, data, file.name, fmt or guess_format(file.name, data),
                                  current_user(user))
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(f"{file.name} ({result['format']}) into {account}: {result['lines_added']} line(s) added, "
               f"{result['lines_skipped']} already imported, {result['duplicates_in_file']} duplicate(s) in the file; "
               f"statement through {result['closing_on']}")


@bank_app.command("lines")
def bank_lines(account: AccountOption, as_csv: CsvFlag = False, as_json: JsonFlag = False) -> None:
    """Every imported line of an account, with the match it is in."""
    from models.bank_store import active_matches, bank_lines as lines
    from reports.render import emit

    with engine().connect() as conn:
        rows = lines(conn, account)
        matched = {l: m.match_id for m in active_matches(conn, account) for l in m.line_ids}
    out = [{"line": r["id"], "booked_on": r["booked_on"].isoformat(), "amount_pence": r["amount_pence"],
            "reference": r["reference"], "description": r["description"], "match": matched.get(r["id"], "")}
           for r in rows]
    emit(out, ["line", "booked_on", "amount_pence", "reference", "description", "match"],
         output_format(as_csv, as_json), f"Bank lines of {account}")


@bank_app.command("match")
def bank_match(
    account: AccountOption,
    confirm: Annotated[bool, typer.Option("--confirm", help="Confirm every proposal shown (recorded with who and when).")] = False,
    lines: Annotated[Optional[str], typer.Option("--lines", help="Confirm one match by hand: bank line ids, e.g. 4,5.")] = None,
    entries: Annotated[Optional[str], typer.Option("--entries", help="... and the entry ids it settles.")] = None,
    user: UserOption = None, as_csv: CsvFlag = False, as_json: JsonFlag = False,
) -> None:
    """Propose matches of bank lines to ledger cash (reference, then amount and date, then one to
    many and many to one); --confirm records them, or --lines/--entries confirms one by hand."""
    from models.bank_store import confirm as confirm_one, propose
    from reports.render import emit

    if lines is not None:
        with engine().begin() as conn:
            match_id = confirm_one(conn, account, _ids(lines, "lines"), _ids(entries or "", "entries"),
                                   current_user(user))
        typer.echo(f"match {match_id} confirmed")
        return
    from models.bank_store import confirm_proposals

    with engine().begin() as conn:
        proposals = propose(conn, account)
        ids = confirm_proposals(conn, account, current_user(user)) if confirm else []
    rows = [{"lines": " ".join(map(str, p.line_ids)), "entries": " ".join(map(str, p.entry_ids)), "rule": p.rule,
             "amount_pence": p.amount_pence, "match": ids[i] if ids else ""} for i, p in enumerate(proposals)]
    emit(rows, ["lines", "entries", "rule", "amount_pence", "match"], output_format(as_csv, as_json),
         "Confirmed matches" if confirm else "Proposed matches (confirm with --confirm)")


@bank_app.command("unmatch")
def bank_unmatch(
    match_id: Annotated[int, typer.Argument(help="The confirmed match to undo.")],
    reason: Annotated[str, typer.Option(help="Why (kept on the record).")],
    user: UserOption = None,
) -> None:
    """Undo a confirmed match by recording an unmatch (the match itself is never edited)."""
    from models.bank_store import unmatch

    with engine().begin() as conn:
        record = unmatch(conn, match_id, reason, current_user(user))
    typer.echo(f"match {match_id} unmatched (record {record})")


@bank_app.command("post")
def bank_post(
    line: Annotated[int, typer.Argument(help="An unmatched bank line: a charge becomes a fund expense, money in interest.")],
    account: AccountOption,
    source: Annotated[Optional[str], typer.Option(help="Bucket it belongs to (default: the account's only one).")] = None,
    tranche: Annotated[Optional[str], typer.Option()] = None,
    restriction: Annotated[Optional[str], typer.Option()] = None,
    on: Annotated[Optional[str], typer.Option("--date", help="Entry date (default: the line's; a closed quarter's "
                                                             "line goes in an open date).")] = None,
    user: UserOption = None,
) -> None:
    """Turn an unmatched bank line into a ledger entry and match it, in one step."""
    from models.bank_store import post_line

    with engine().begin() as conn:
        result = post_line(conn, account, line, current_user(user), source=source, tranche=tranche,
                           restriction=restriction, on=parse_date(on, "--date") if on else None)
    typer.echo(f"bank line {line}: entry {result['entry_id']} ({result['kind']}), match {result['match_id']}")


@bank_app.command("matches")
def bank_matches(account: AccountOption, as_csv: CsvFlag = False, as_json: JsonFlag = False) -> None:
    """Every confirm and unmatch record of an account, with who and when."""
    from models.bank_store import match_history
    from reports.render import emit

    with engine().connect() as conn:
        rows = match_history(conn, account)
    for r in rows:
        r["recorded_at"] = r["recorded_at"].isoformat(timespec="seconds")
    emit(rows, ["id", "action", "rule", "unmatches_id", "lines", "entries", "amount_pence", "note", "recorded_at",
                "recorded_by"], output_format(as_csv, as_json), f"Matches of {account}")


@bank_app.command("reconcile")
def bank_reconcile(
    account: AccountOption, as_of: AsOfOption = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Write HTML, PDF and CSV here.")] = None,
    as_csv: CsvFlag = False, as_json: JsonFlag = False,
) -> None:
    """The reconciliation statement: ledger cash, the bank balance and the reconciling items
    between them, to the penny."""
    from models.bank_store import reconciliation
    from reports import bank_reports

    day = as_of_date(as_of)
    with engine().connect() as conn:
        acct, recon = reconciliation(conn, account, day)
    public = acct.public(reveal=True)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        stem = out / f"reconciliation_{acct.id}_{day.isoformat()}"
        Path(f"{stem}.html").write_text(bank_reports.reconciliation_html(recon, public), encoding="utf-8")
        Path(f"{stem}.csv").write_text(bank_reports.reconciliation_csv(recon), encoding="utf-8")
        Path(f"{stem}.pdf").write_bytes(bank_reports.reconciliation_pdf(recon, public))
    if as_json:
        typer.echo(json.dumps(bank_reports.reconciliation_json(recon, public), indent=2))
    elif as_csv:
        typer.echo(bank_reports.reconciliation_csv(recon), nl=False)
    else:
        from reports.render import print_table

        print_table(bank_reports.summary_rows(recon), ["line", "amount_pence"],
                    f"Bank reconciliation of {acct.id} as of {day}")
        print_table(bank_reports.reconciliation_rows(recon)[5:], ["section", "date", "ref", "description", "amount_pence"],
                    "Reconciling items")
    if recon.unexplained_pence != 0:
        raise typer.Exit(4)


@bank_app.command("settings")
def bank_settings(
    require_reconciled: Annotated[bool, typer.Option("--require-reconciled/--no-require-reconciled",
                                                     help="Refuse (not just warn about) closing a quarter whose end "
                                                          "is not reconciled.")],
    fund: FundOption = None, user: UserOption = None,
) -> None:
    """A fund's reconciliation setting for quarter closes."""
    from models.bank_store import set_require_reconciled

    with engine().begin() as conn:
        fund_id = _fund(conn, fund)
        set_require_reconciled(conn, fund_id, require_reconciled, current_user(user))
    typer.echo(f"fund {fund_id}: quarter close {'refuses' if require_reconciled else 'warns'} when the quarter end "
               "is not reconciled")
