"""Fund flows commands, registered onto the ``fuel`` app (see the import at the end of cli.py).

Reference data: ``fuel fund``, ``fuel investors``, ``fuel payers``, ``fuel providers``,
``fuel tranches``, ``fuel restrictions``, ``fuel projects``, ``fuel commitments``.
Events: ``fuel record <event>``; files: ``fuel import flows FILE``; reports:
``fuel report sources-uses`` and ``fuel report restrictions``. Each command parses its
arguments, calls one service in ``models/flows_store.py`` or ``reports/flows_reports.py``
in one transaction, and prints.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer

from ledger.errors import FuelError, ValidationError
from ledger.periods import parse_date
from ledger.shell.cli_common import (
    AsOfOption,
    CsvFlag,
    JsonFlag,
    SheetOption,
    Table,
    UserOption,
    app,
    as_of_date,
    refuse_other_fund,
    write_scope,
    current_user,
    engine,
    output_format,
    read_text,
)

fund_app = typer.Typer(rich_markup_mode=None, help="Funds: load a fund's setup file, add or list funds.", no_args_is_help=True)
investors_app = typer.Typer(rich_markup_mode=None, help="Investors: social investors, charitable trusts, public bodies.", no_args_is_help=True)
payers_app = typer.Typer(rich_markup_mode=None, help="Payers: councils and central outcome funds that pay for outcomes.", no_args_is_help=True)
providers_app = typer.Typer(rich_markup_mode=None, help="Providers: charities, community groups, social enterprises.", no_args_is_help=True)
tranches_app = typer.Typer(rich_markup_mode=None, help="Tranches: classes of capital with a rank in the waterfall.", no_args_is_help=True)
restrictions_app = typer.Typer(rich_markup_mode=None, help="Restrictions: what restricted money may be spent on.", no_args_is_help=True)
projects_app = typer.Typer(rich_markup_mode=None, help="Projects: what the fund disburses to (provider, theme, status).", no_args_is_help=True)
commitments_app = typer.Typer(rich_markup_mode=None, help="Commitments: investors' promises of capital, and what is unfunded.", no_args_is_help=True)
record_app = typer.Typer(rich_markup_mode=None, help="Record one business event as a balanced ledger entry.", no_args_is_help=True)
import_app = typer.Typer(rich_markup_mode=None, help="Import files of business events.", no_args_is_help=True)
report_app = typer.Typer(rich_markup_mode=None, help="Reports: sources and uses, restrictions, trial balance, deployment, outcome pipeline, cash, "
                                                       "project pipeline, value, forecast, vcse.", no_args_is_help=True)



for _name, _sub in (
    ("fund", fund_app), ("investors", investors_app), ("payers", payers_app), ("providers", providers_app),
    ("tranches", tranches_app), ("restrictions", restrictions_app), ("projects", projects_app),
    ("commitments", commitments_app), ("record", record_app), ("import", import_app), ("report", report_app),
):
    app.add_typer(_sub, name=_name)

FundOption = Annotated[
    Optional[str], typer.Option("--fund", help="Fund id (default: the only fund in the database).")
]
IdArg = Annotated[str, typer.Argument(help="Id: letters, digits, _ . - (at most 64).")]
NameOption = Annotated[str, typer.Option("--name", help="Display name.")]
DateOption = Annotated[str, typer.Option("--date", help="Effective date, YYYY-MM-DD.")]
AmountOption = Annotated[str, typer.Option("--amount", help="Amount in pounds as plain text, e.g. 1234.50.")]
KeyOption = Annotated[
    Optional[str], typer.Option("--key", help="Idempotency key (default: derived from the event, so a repeat is a no-op).")
]
DescriptionOption = Annotated[Optional[str], typer.Option("--description", help="Description (default: generated).")]
TrancheOption = Annotated[Optional[str], typer.Option("--tranche", help="Tranche id.")]
RestrictionOption = Annotated[Optional[str], typer.Option("--restriction", help="Restriction id (restricted money).")]
SourceOption = Annotated[str, typer.Option("--source", help="Money type: social_investment, charitable or public.")]


# ---------------------------------------------------------------------------- helpers


def _resolve_fund(conn, fund: str | None) -> str:
    from models.flows_store import funds_t
    from sqlalchemy import select

    if fund:
        return fund
    ids = list(conn.execute(select(funds_t.c.id).order_by(funds_t.c.id)).scalars())
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise FuelError("no fund yet: run `fuel fund load FILE.toml` or `fuel fund add` first")
    raise ValidationError(f"several funds ({', '.join(ids)}): choose one with --fund", field="fund")


def _save(saver: Callable, value, what: str) -> None:
    from models.flows_store import save_party

    with engine().begin() as conn:
        scope = write_scope(conn, None)  # $FUEL_USER: a fund manager changes only its fund's parties
        outcome = saver(conn, value, for_fund=scope) if saver is save_party and scope else saver(conn, value)
    typer.echo(f"{what} {value.id}: {outcome}")


def _amount(text: str, what: str = "--amount") -> int:
    from ledger.money import parse_amount

    return parse_amount(text, "GBP", what)


def _list(rows: list[dict], columns: list[str], as_csv: bool, as_json: bool, title: str) -> None:
    from reports.render import emit

    emit(rows, columns, output_format(as_csv, as_json), title=title)


# ---------------------------------------------------------------------------- funds


@fund_app.command("load")
def fund_load(
    file: Annotated[Path, typer.Argument(help="Fund setup file (TOML), e.g. fixtures/funds/example_fund.toml.")],
    user: UserOption = None,
) -> None:
    """Load a fund's setup: the fund, parties, tranches, restrictions, projects, commitments, and
    the statement terms its [fund] table names (terms = "FILE"). Loading the same file again
    changes nothing."""
    from ledger.funds import fund_setup_from_mapping
    from ledger.shell.cli_terms import describe, store_setup_terms
    from models.flows_store import save_setup

    try:
        data = tomllib.loads(read_text(file))
    except tomllib.TOMLDecodeError as exc:
        raise FuelError(f"{file}: not valid TOML: {exc}") from None
    setup = fund_setup_from_mapping(data, file.name)
    with engine().begin() as conn:
        refuse_other_fund(write_scope(conn, user), setup.fund.id)
        counts = save_setup(conn, setup, current_user(user))
        terms = store_setup_terms(conn, setup, file, current_user(user))
    summary = "; ".join(
        f"{table}: {c['added']} added, {c['updated']} updated, {c['unchanged']} unchanged" for table, c in counts.items()
    )
    typer.echo(f"fund {setup.fund.id} loaded from {file.name}: {summary}")
    if terms is not None:
        typer.echo(describe(*terms))


@fund_app.command("add")
def fund_add(
    fund_id: IdArg,
    name: NameOption,
    currency: Annotated[str, typer.Option(help="ISO currency of the fund.")] = "GBP",
) -> None:
    """Add a fund (or rename one)."""
    from ledger.funds import Fund
    from models.flows_store import save_fund

    _save(save_fund, Fund(fund_id, name, currency), "fund")


@fund_app.command("list")
def fund_list(as_csv: CsvFlag = False, as_json: JsonFlag = False) -> None:
    """List funds."""
    from models.flows_store import load_books

    with engine().connect() as conn:
        books = load_books(conn)
    rows = [{"id": b.fund.id, "name": b.fund.name, "currency": b.fund.currency,
             "tranches": len(b.tranches), "projects": len(b.projects), "commitments": len(b.commitments)}
            for b in books.values()]
    _list(rows, ["id", "name", "currency", "tranches", "projects", "commitments"], as_csv, as_json, "Funds")


# ---------------------------------------------------------------------------- parties


def _party_rows(kind: str) -> list[dict]:
    from sqlalchemy import select

    from models.flows_store import parties_t

    with engine().connect() as conn:
        rows = conn.execute(select(parties_t).where(parties_t.c.kind == kind).order_by(parties_t.c.id)).mappings()
        return [{"id": r["id"], "name": r["name"], "kind": r["kind"], "investor_type": r["investor_type"]} for r in rows]


@investors_app.command("add")
def investors_add(
    investor_id: IdArg,
    name: NameOption,
    investor_type: Annotated[str, typer.Option("--type", help="social_investor, charitable_trust or public_body.")],
) -> None:
    """Add an investor (or rename one). Its type sets the source its money carries."""
    from ledger.funds import Party
    from models.flows_store import save_party

    _save(save_party, Party(investor_id, name, "investor", investor_type), "investor")


@investors_app.command("list")
def investors_list(as_csv: CsvFlag = False, as_json: JsonFlag = False) -> None:
    """List investors with their type."""
    _list(_party_rows("investor"), ["id", "name", "investor_type"], as_csv, as_json, "Investors")


def _simple_party_commands(sub: typer.Typer, kind: str, label: str) -> None:
    @sub.command("add")
    def add(party_id: IdArg, name: NameOption) -> None:
        from ledger.funds import Party
        from models.flows_store import save_party

        _save(save_party, Party(party_id, name, kind), kind)

    add.__doc__ = f"Add a {label} (or rename one)."

    @sub.command("list")
    def list_(as_csv: CsvFlag = False, as_json: JsonFlag = False) -> None:
        _list(_party_rows(kind), ["id", "name"], as_csv, as_json, f"{label.capitalize()}s")

    list_.__doc__ = f"List {label}s."


_simple_party_commands(payers_app, "payer", "payer")
_simple_party_commands(providers_app, "provider", "provider")


# ---------------------------------------------------------------------------- tranches, restrictions, projects


@tranches_app.command("add")
def tranches_add(
    tranche_id: IdArg,
    name: NameOption,
    rank: Annotated[int, typer.Option(help="Rank in the waterfall: 1 is paid first.")],
    fund: FundOption = None,
    kind: Annotated[str, typer.Option(help="repayable or grant.")] = "repayable",
    return_kind: Annotated[str, typer.Option(help="none, target or capped.")] = "none",
    return_rate: Annotated[Optional[str], typer.Option(help="Annual rate as text, e.g. 0.05.")] = None,
) -> None:
    """Add a tranche to a fund (or rename one)."""
    from ledger.funds import Tranche
    from ledger.money import to_decimal
    from models.flows_store import save_tranche

    with engine().begin() as conn:
        fund_id = _resolve_fund(conn, fund)
        rate = to_decimal(return_rate, "--return-rate") if return_rate is not None else None
        tranche = Tranche(tranche_id, fund_id, name, rank, kind, return_kind, rate)
        typer.echo(f"tranche {tranche.id}: {save_tranche(conn, tranche)}")


@tranches_app.command("list")
def tranches_list(fund: FundOption = None, as_csv: CsvFlag = False, as_json: JsonFlag = False) -> None:
    """List a fund's tranches in rank order."""
    from models.flows_store import book_of

    with engine().connect() as conn:
        book = book_of(conn, _resolve_fund(conn, fund))
    rows = [{"id": t.id, "name": t.name, "rank": t.rank, "kind": t.kind, "return_kind": t.return_kind,
             "return_rate": None if t.return_rate is None else str(t.return_rate)} for t in book.tranches.values()]
    _list(rows, ["id", "name", "rank", "kind", "return_kind", "return_rate"], as_csv, as_json, f"Tranches of {book.fund.id}")


@restrictions_app.command("add")
def restrictions_add(
    restriction_id: IdArg,
    name: NameOption,
    fund: FundOption = None,
    theme: Annotated[Optional[str], typer.Option(help="Projects with this theme are permitted.")] = None,
    project: Annotated[Optional[list[str]], typer.Option("--project", help="A permitted project (repeatable).")] = None,
) -> None:
    """Add a restriction: a theme and/or a list of permitted projects."""
    from ledger.funds import Restriction
    from models.flows_store import save_restriction

    with engine().begin() as conn:
        value = Restriction(restriction_id, _resolve_fund(conn, fund), name, theme, tuple(project or ()))
        typer.echo(f"restriction {value.id}: {save_restriction(conn, value)}")


@restrictions_app.command("list")
def restrictions_list(fund: FundOption = None, as_csv: CsvFlag = False, as_json: JsonFlag = False) -> None:
    """List a fund's restrictions and what each permits."""
    from models.flows_store import book_of

    with engine().connect() as conn:
        book = book_of(conn, _resolve_fund(conn, fund))
    rows = [{"id": r.id, "name": r.name, "theme": r.theme, "projects": ",".join(r.projects)}
            for r in book.restrictions.values()]
    _list(rows, ["id", "name", "theme", "projects"], as_csv, as_json, f"Restrictions of {book.fund.id}")


@projects_app.command("add")
def projects_add(
    project_id: IdArg,
    name: NameOption,
    provider: Annotated[str, typer.Option(help="Provider id.")],
    theme: Annotated[str, typer.Option(help="Theme, e.g. ageing, youth, housing.")],
    fund: FundOption = None,
    status: Annotated[str, typer.Option(help="pipeline, active, closed or written_off.")] = "active",
) -> None:
    """Add a project (or update its name, theme or status)."""
    from ledger.funds import Project
    from models.flows_store import save_project

    with engine().begin() as conn:
        value = Project(project_id, _resolve_fund(conn, fund), name, provider, theme, status)
        typer.echo(f"project {value.id}: {save_project(conn, value)}")


@projects_app.command("list")
def projects_list(fund: FundOption = None, as_csv: CsvFlag = False, as_json: JsonFlag = False) -> None:
    """List a fund's projects."""
    from models.flows_store import book_of

    with engine().connect() as conn:
        book = book_of(conn, _resolve_fund(conn, fund))
    rows = [{"id": p.id, "name": p.name, "provider": p.provider, "theme": p.theme, "status": p.status}
            for p in book.projects.values()]
    _list(rows, ["id", "name", "provider", "theme", "status"], as_csv, as_json, f"Projects of {book.fund.id}")


# ---------------------------------------------------------------------------- commitments


@commitments_app.command("add")
def commitments_add(
    commitment_id: IdArg,
    investor: Annotated[str, typer.Option(help="Investor id.")],
    tranche: Annotated[str, typer.Option(help="Tranche id.")],
    amount: AmountOption,
    on: DateOption,
    fund: FundOption = None,
    user: UserOption = None,
) -> None:
    """Record an investor's commitment to a tranche. Commitments are never edited."""
    from ledger.funds import Commitment
    from models.flows_store import add_commitment, book_of

    with engine().begin() as conn:
        book = book_of(conn, _resolve_fund(conn, fund))
        currency = book.fund.currency
        from ledger.money import parse_amount

        value = Commitment(commitment_id, book.fund.id, tranche, investor, parse_amount(amount, currency, "--amount"),
                           parse_date(on, "--date"), currency)
        typer.echo(f"commitment {value.id}: {add_commitment(conn, value, current_user(user))}")


@commitments_app.command("list")
def commitments_list(
    fund: FundOption = None, as_of: AsOfOption = None, as_csv: CsvFlag = False, as_json: JsonFlag = False
) -> None:
    """Commitments per investor and tranche: committed, called, received, unfunded."""
    from models.flows_store import commitment_status
    from reports.render import emit, totals

    day = as_of_date(as_of)
    with engine().connect() as conn:
        rows = commitment_status(conn, _resolve_fund(conn, fund), day)
    columns = ["fund", "tranche", "investor", "currency", "committed_pence", "called_pence", "received_pence",
               "unfunded_pence"]
    emit(rows, columns, output_format(as_csv, as_json), title=f"Commitments as of {day}",
         footer=totals(rows, columns, "fund"), extra={"as_of": day.isoformat()})


# ---------------------------------------------------------------------------- record <event>


def _record(fund: str | None, make: Callable[[str], object], user: str | None, as_json: bool) -> None:
    """Build the event for the fund, record it in one transaction, and print its entry."""
    from models.flows_store import record_event
    from reports.render import emit

    with engine().begin() as conn:
        scope = write_scope(conn, user)
        event = make(_resolve_fund(conn, fund or scope))
        refuse_other_fund(scope, event.fund)
        result, created = record_event(conn, event, current_user(user))
    entry = result.entry
    status = "posted" if created else "already posted"
    lines = [{"account": p.account, "amount_pence": p.amount_pence, "currency": p.currency, **p.dimensions()}
             for p in entry.draft.postings]
    if as_json:
        typer.echo(json.dumps({"entry_id": entry.id, "status": status, "idempotency_key": entry.draft.idempotency_key,
                               "event_kind": entry.draft.event_kind, "postings": lines}, indent=2))
        return
    typer.echo(f"entry {entry.id} ({entry.draft.event_kind}, key {entry.draft.idempotency_key}): {status}")
    emit(lines, ["account", "amount_pence", "currency", "source", "tranche", "restriction", "project", "counterparty"],
         "table", title=entry.draft.description)


def _common(fund: str, on: str, description: str | None, key: str | None) -> dict:
    return dict(fund=fund, effective_date=parse_date(on, "--date"), description=description, key=key)


@record_app.command("drawdown-notice")
def record_drawdown_notice(
    tranche: Annotated[str, typer.Option(help="Tranche to call.")], amount: AmountOption, on: DateOption,
    fund: FundOption = None, key: KeyOption = None, description: DescriptionOption = None,
    user: UserOption = None, as_json: JsonFlag = False,
) -> None:
    """Call capital on a tranche, pro rata across its commitments (pence conserved)."""
    from ledger.flows import DrawdownNotice

    _record(fund, lambda f: DrawdownNotice(**_common(f, on, description, key), tranche=tranche,
                                                    amount_pence=_amount(amount)), user, as_json)


@record_app.command("drawdown-received")
def record_drawdown_received(
    investor: Annotated[str, typer.Option(help="Investor who paid.")],
    tranche: Annotated[str, typer.Option(help="Tranche the call was on.")], amount: AmountOption, on: DateOption,
    fund: FundOption = None, key: KeyOption = None, description: DescriptionOption = None,
    user: UserOption = None, as_json: JsonFlag = False,
) -> None:
    """An investor pays called capital (not more than it owes)."""
    from ledger.flows import DrawdownReceived

    _record(fund, lambda f: DrawdownReceived(**_common(f, on, description, key), tranche=tranche,
                                                      investor=investor, amount_pence=_amount(amount)), user, as_json)


@record_app.command("grant-received")
def record_grant_received(
    investor: Annotated[str, typer.Option(help="The charitable trust or foundation.")], amount: AmountOption,
    on: DateOption, restriction: RestrictionOption = None, tranche: TrancheOption = None,
    fund: FundOption = None, key: KeyOption = None, description: DescriptionOption = None,
    user: UserOption = None, as_json: JsonFlag = False,
) -> None:
    """A charitable grant paid in, with its restriction if it has one."""
    from ledger.flows import GrantReceived

    _record(fund, lambda f: GrantReceived(**_common(f, on, description, key), investor=investor,
                                                   amount_pence=_amount(amount), restriction=restriction,
                                                   tranche=tranche), user, as_json)


@record_app.command("public-money-received")
def record_public_money_received(
    payer: Annotated[str, typer.Option(help="Council, central fund or public-body investor.")], amount: AmountOption,
    on: DateOption, form: Annotated[str, typer.Option(help="co_investment or grant.")],
    tranche: TrancheOption = None, restriction: RestrictionOption = None,
    fund: FundOption = None, key: KeyOption = None, description: DescriptionOption = None,
    user: UserOption = None, as_json: JsonFlag = False,
) -> None:
    """Public money paid in: co-investment (capital in a tranche) or a grant."""
    from ledger.flows import PublicMoneyReceived

    _record(fund, lambda f: PublicMoneyReceived(**_common(f, on, description, key), payer=payer,
                                                         amount_pence=_amount(amount), form=form, tranche=tranche,
                                                         restriction=restriction), user, as_json)


@record_app.command("disbursement")
def record_disbursement(
    project: Annotated[str, typer.Option(help="Project receiving the money.")], amount: AmountOption, on: DateOption,
    form: Annotated[str, typer.Option(help="loan, working_capital or grant.")], source: SourceOption,
    tranche: TrancheOption = None, restriction: RestrictionOption = None,
    fund: FundOption = None, key: KeyOption = None, description: DescriptionOption = None,
    user: UserOption = None, as_json: JsonFlag = False,
) -> None:
    """Disburse to a project from one source (refused if the restriction forbids it or cash is short)."""
    from ledger.flows import Disbursement

    _record(fund, lambda f: Disbursement(**_common(f, on, description, key), project=project,
                                                  amount_pence=_amount(amount), form=form, source=source,
                                                  tranche=tranche, restriction=restriction), user, as_json)


@record_app.command("repayment")
def record_repayment(
    project: Annotated[str, typer.Option(help="Project repaying.")], amount: AmountOption, on: DateOption,
    interest: Annotated[str, typer.Option(help="Interest included, in pounds.")] = "0",
    form: Annotated[str, typer.Option(help="loan or working_capital.")] = "loan",
    fund: FundOption = None, key: KeyOption = None, description: DescriptionOption = None,
    user: UserOption = None, as_json: JsonFlag = False,
) -> None:
    """Principal (--amount) and interest repaid by a project, attributed to its funders."""
    from ledger.flows import Repayment

    _record(fund, lambda f: Repayment(**_common(f, on, description, key), project=project,
                                               principal_pence=_amount(amount),
                                               interest_pence=_amount(interest, "--interest"), form=form),
            user, as_json)


@record_app.command("outcome-payment")
def record_outcome_payment(
    project: Annotated[str, typer.Option(help="Project whose outcomes are paid for.")],
    payer: Annotated[str, typer.Option(help="Payer (commissioner).")], amount: AmountOption, on: DateOption,
    fund: FundOption = None, key: KeyOption = None, description: DescriptionOption = None,
    user: UserOption = None, as_json: JsonFlag = False,
) -> None:
    """Outcome payment received (cash side), attributed to the project's funders."""
    from ledger.flows import OutcomePayment

    _record(fund, lambda f: OutcomePayment(**_common(f, on, description, key), project=project, payer=payer,
                                                    amount_pence=_amount(amount)), user, as_json)


@record_app.command("fee")
def record_fee(
    amount: AmountOption, on: DateOption, source: SourceOption,
    form: Annotated[str, typer.Option(help="management_fee or expense.")] = "management_fee",
    tranche: TrancheOption = None, restriction: RestrictionOption = None,
    manager: Annotated[Optional[str], typer.Option(help="Fund manager party id.")] = None,
    fund: FundOption = None, key: KeyOption = None, description: DescriptionOption = None,
    user: UserOption = None, as_json: JsonFlag = False,
) -> None:
    """A management fee or fund expense paid from one source's cash."""
    from ledger.flows import Fee

    _record(fund, lambda f: Fee(**_common(f, on, description, key), amount_pence=_amount(amount), form=form,
                                         source=source, tranche=tranche, restriction=restriction, manager=manager),
            user, as_json)


@record_app.command("valuation-change")
def record_valuation_change(
    project: Annotated[str, typer.Option(help="Project whose investment is revalued.")], amount: AmountOption,
    on: DateOption, form: Annotated[str, typer.Option(help="gain, write_down or write_off.")],
    instrument: Annotated[str, typer.Option(help="loan or working_capital.")] = "loan",
    fund: FundOption = None, key: KeyOption = None, description: DescriptionOption = None,
    user: UserOption = None, as_json: JsonFlag = False,
) -> None:
    """Revalue a project investment: a gain, a write-down, or a write-off (realised loss)."""
    from ledger.flows import ValuationChange

    _record(fund, lambda f: ValuationChange(**_common(f, on, description, key), project=project,
                                                     amount_pence=_amount(amount), form=form,
                                                     instrument=instrument), user, as_json)


@record_app.command("exit")
def record_exit(
    project: Annotated[str, typer.Option(help="Project whose investment is sold or repaid early.")],
    amount: Annotated[str, typer.Option("--proceeds", help="Proceeds received, in pounds (e.g. 160000.00).")],
    on: DateOption,
    instrument: Annotated[str, typer.Option(help="loan or working_capital.")] = "loan",
    fund: FundOption = None, key: KeyOption = None, description: DescriptionOption = None,
    user: UserOption = None, as_json: JsonFlag = False,
) -> None:
    """An exit: the investment leaves the books for its proceeds; above its carrying amount the
    difference is a realised gain, below it a realised loss."""
    from ledger.flows import ProjectExit

    _record(fund, lambda f: ProjectExit(**_common(f, on, description, key), project=project,
                                                 amount_pence=_amount(amount), instrument=instrument), user, as_json)


@record_app.command("distribution")
def record_distribution(
    investor: Annotated[str, typer.Option(help="Investor paid.")], tranche: Annotated[str, typer.Option(help="Tranche.")],
    amount: AmountOption, on: DateOption,
    fund: FundOption = None, key: KeyOption = None, description: DescriptionOption = None,
    user: UserOption = None, as_json: JsonFlag = False,
) -> None:
    """A distribution to an investor (an amount given; the waterfall computes it elsewhere)."""
    from ledger.flows import Distribution

    _record(fund, lambda f: Distribution(**_common(f, on, description, key), investor=investor,
                                                  tranche=tranche, amount_pence=_amount(amount)), user, as_json)


@record_app.command("transfer")
def record_transfer(
    amount: AmountOption, on: DateOption, source: SourceOption,
    to_source: Annotated[str, typer.Option("--to-source", help="Source the money moves to.")],
    reason: Annotated[str, typer.Option(help="Why (kept on the entry).")],
    tranche: TrancheOption = None, restriction: RestrictionOption = None,
    to_tranche: Annotated[Optional[str], typer.Option("--to-tranche", help="Tranche the money moves to.")] = None,
    to_restriction: Annotated[Optional[str], typer.Option("--to-restriction", help="Restriction it moves to.")] = None,
    fund: FundOption = None, key: KeyOption = None, description: DescriptionOption = None,
    user: UserOption = None, as_json: JsonFlag = False,
) -> None:
    """Move cash between sources, tranches or restrictions: the only way money changes group."""
    from ledger.flows import Transfer

    _record(fund, lambda f: Transfer(**_common(f, on, description, key), amount_pence=_amount(amount),
                                              source=source, to_source=to_source, reason=reason, tranche=tranche,
                                              restriction=restriction, to_tranche=to_tranche,
                                              to_restriction=to_restriction), user, as_json)


# ---------------------------------------------------------------------------- import and reports


@import_app.command("flows")
def import_flows_cmd(
    file: Annotated[Path, typer.Argument(help="Flows CSV or .xlsx: one row per event (columns in docs/fund-flows.md).")],
    sheet: SheetOption = None,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Import a flows CSV or workbook: every row is checked first; any problem rejects the whole file."""
    from models.flows_store import import_flows

    table = Table(file, sheet, frozenset({"date"}))
    try:
        with engine().begin() as conn:
            result = import_flows(conn, table.text, table.source_name, current_user(user),
                                  only_fund=write_scope(conn, user))
    except FuelError as exc:
        raise table.explain(exc) from None
    summary = {"file": file.name, "posted": result.posted, "already_posted": result.already,
               "entry_ids": [r.entry.id for r in result.results if r.created]}
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        typer.echo(f"{file.name}: {summary['posted']} entries posted, {summary['already_posted']} already posted")


@report_app.command("sources-uses")
def report_sources_uses(
    fund: Annotated[Optional[str], typer.Option("--fund", help="Fund id (default: every fund).")] = None,
    by: Annotated[str, typer.Option(help="source: per source, tranche and restriction; project: per project and funder.")] = "source",
    as_of: AsOfOption = None, as_csv: CsvFlag = False, as_json: JsonFlag = False,
    html_file: Annotated[Optional[Path], typer.Option("--html", help="Also write the report as HTML (with charts) to FILE.")] = None,
) -> None:
    """Who is paying for what: where each source's money came from and went, or each project's funders."""
    from reports import flows_reports
    from reports.render import emit, totals

    day = as_of_date(as_of)
    if by not in ("source", "project"):
        raise ValidationError(f"--by {by!r}: choose source or project", field="by")
    with engine().connect() as conn:
        if by == "source":
            rows, columns = flows_reports.sources_uses(conn, day, fund)
        else:
            rows, columns = flows_reports.project_funding(conn, day, fund)
    title = f"Sources and uses by {by} as of {day}"
    fmt = output_format(as_csv, as_json)
    if fmt == "table":
        columns = _compact(rows, columns)
    emit(rows, columns, fmt, title=title, footer=totals(rows, columns, columns[0]),
         extra={"as_of": day.isoformat(), "by": by})
    if html_file is not None:
        from ledger.shell.cli_reports import write_html
        from reports.fund_reports import deployment_report, sources_uses_report

        with engine().connect() as conn:
            write_html((sources_uses_report if by == "source" else deployment_report)(conn, day, fund), html_file)


def _compact(rows: list[dict], columns: list[str]) -> list[str]:
    """For the terminal: drop money columns that are zero on every row, and fund and currency
    when there is only one of each (CSV and JSON keep every column)."""
    keep = []
    for column in columns:
        values = {row.get(column) for row in rows}
        if column.endswith("_pence") and values <= {0} and not column.startswith("total_"):
            continue
        if column in ("fund", "currency") and len(values) <= 1:
            continue
        keep.append(column)
    return keep


@report_app.command("restrictions")
def report_restrictions(
    fund: Annotated[Optional[str], typer.Option("--fund", help="Fund id (default: every fund).")] = None,
    as_of: AsOfOption = None, as_csv: CsvFlag = False, as_json: JsonFlag = False,
    html_file: Annotated[Optional[Path], typer.Option("--html", help="Also write the report as HTML (with charts) to FILE.")] = None,
) -> None:
    """Per restriction: received, transferred, income, applied, other uses and unapplied balance."""
    from reports import flows_reports
    from reports.render import emit, totals

    day = as_of_date(as_of)
    with engine().connect() as conn:
        rows, columns = flows_reports.restrictions(conn, day, fund)
    emit(rows, columns, output_format(as_csv, as_json), title=f"Restricted money as of {day}",
         footer=totals(rows, columns, "fund"), extra={"as_of": day.isoformat()})
    if html_file is not None:
        from ledger.shell.cli_reports import write_html
        from reports.fund_reports import restrictions_report

        with engine().connect() as conn:
            write_html(restrictions_report(conn, day, fund), html_file)
