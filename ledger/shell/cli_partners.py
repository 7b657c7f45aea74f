"""Joint-prime and pipeline commands, registered onto the ``fuel`` app (one import in cli.py).

``fuel claims passthrough``, ``fuel partners list|pay|statement``, ``fuel projects
stage|history`` and ``fuel report pipeline``. Each parses its arguments, calls one service of
``models/partners_store.py`` or ``models/pipeline_store.py`` in one transaction, and prints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ledger.errors import ValidationError
from ledger.periods import parse_date
from ledger.shell.cli_common import AsOfOption, CsvFlag, JsonFlag, UserOption, app, as_of_date, current_user, engine, output_format
from ledger.shell.cli_flows import projects_app, report_app
from ledger.shell.cli_pbr import ContractOption, DateOption, PeriodOption, _day, claims_app

partners_app = typer.Typer(rich_markup_mode=None, help="Delivery partners of joint-prime contracts: terms, payments, statements.",
                           no_args_is_help=True)
app.add_typer(partners_app, name="partners")

PartnerOption = Annotated[str, typer.Option("--partner", help="Partner id, as in the contract's [[partners]].")]


def _amount_lines(summary: dict) -> list[str]:
    from ledger.money import format_amount as f

    return [f"pass-through {summary['contract']} {summary['period']} on {summary['effective_date']}: received "
            f"{f(summary['received_pence'], separators=True)}; partners' shares {f(summary['shares_pence'], separators=True)}"
            f" and fees {f(summary['fees_pence'], separators=True)}; the prime keeps "
            f"{f(summary['prime_net_pence'], separators=True)}"]


PARTNER_COLUMNS = ["partner_id", "kind", "participants", "received_pence", "share_before_cap_pence", "fee_period_pence",
                   "fee_participants_pence", "cap_reduction_pence", "cap_applied", "share_pence", "fees_pence",
                   "total_pence", "paid_pence", "outstanding_pence"]  # fmt: skip


def _show(summary: dict, as_json: bool) -> None:
    from reports.render import emit

    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    for line in _amount_lines(summary):
        typer.echo(line)
    emit(summary["partners"], PARTNER_COLUMNS, "table", title=f"Partners, {summary['contract']} {summary['period']}")


@claims_app.command("passthrough")
def claims_passthrough(
    contract: ContractOption, period: PeriodOption, on: DateOption = None, user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Pass a paid claim run on to the delivery partners by their terms: posts each partner's
    payable (Dr partner_outcome_share / partner_fees, Cr partner_payables). Once per period."""
    from models.partners_store import run_pass_through

    with engine().begin() as conn:
        summary = run_pass_through(conn, contract, period, _day(on), current_user(user))
    _show(summary, as_json)


@partners_app.command("list")
def partners_list(contract: ContractOption, as_json: JsonFlag = False) -> None:
    """List a contract's delivery partners, their subcontract terms and participants."""
    from models.partners_store import list_partners
    from reports.render import emit

    with engine().connect() as conn:
        rows = list_partners(conn, contract)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    emit(rows, ["partner_id", "name", "kind", "share", "fee_per_period_pence", "fee_per_participant_pence",
                "cap_pence", "cap_per_period_pence", "rounding", "participants"], "table",
         title=f"Delivery partners of {contract}")  # fmt: skip


@partners_app.command("pay")
def partners_pay(
    contract: ContractOption, period: PeriodOption,
    on: Annotated[str, typer.Option("--date", help="Payment date, YYYY-MM-DD.")],
    partner: Annotated[Optional[str], typer.Option("--partner", help="Pay one partner only (default: all).")] = None,
    user: UserOption = None, as_json: JsonFlag = False,
) -> None:
    """Pay the partners what the period's pass-through booked (Dr partner_payables, Cr cash)."""
    from models.partners_store import pay_partners

    with engine().begin() as conn:
        summary = pay_partners(conn, contract, period, parse_date(on, "--date"), current_user(user), partner)
    if not as_json:
        typer.echo(f"paid now: {', '.join(summary['paid_now']) or 'nothing (already paid)'}")
    _show(summary, as_json)


@partners_app.command("statement")
def partners_statement(
    contract: ContractOption, partner: PartnerOption, period: PeriodOption,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the statement into.")],
    formats: Annotated[str, typer.Option("--format", help="Comma-separated: html, csv, json.")] = "html,csv,json",
) -> None:
    """Write one partner's statement for a period: outcomes its participants achieved, what the
    prime was paid for them, its share and fees, paid to date and outstanding."""
    from models.db import reading
    from models.partners_store import partner_statement
    from reports.partner_reports import STATEMENT_FORMATS, render_statement, statement_file_name

    chosen = [f.strip() for f in formats.split(",") if f.strip()]
    bad = [f for f in chosen if f not in STATEMENT_FORMATS]
    if bad or not chosen:
        raise ValidationError(f"--format {formats!r}: choose from {', '.join(STATEMENT_FORMATS)}", field="format")
    with reading(engine()) as conn:
        figures = partner_statement(conn, contract, partner, period)
    out.mkdir(parents=True, exist_ok=True)
    for fmt in chosen:
        path = out / statement_file_name(figures, fmt)
        path.write_text(render_statement(figures, fmt), encoding="utf-8")
        typer.echo(f"wrote {path}")


@projects_app.command("stage")
def projects_stage(
    project: Annotated[str, typer.Argument(help="Project id.")],
    stage: Annotated[str, typer.Argument(help="idea, incubation, acceleration, contracted, delivering, "
                                              "service_delivery_complete, complete or closed.")],
    on: Annotated[str, typer.Option("--date", help="Date of the change, YYYY-MM-DD.")],
    committed: Annotated[Optional[str], typer.Option("--committed", help="Money the fund commits to the project from "
                                                     "now on, in pounds (memo figure), e.g. 250000.00.")] = None,
    note: Annotated[Optional[str], typer.Option("--note", help="Why (required to move a project back).")] = None,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Move a project to a pipeline stage (dated, recorded with who made it; history is kept)."""
    from ledger.money import parse_amount
    from ledger.pipeline import StageChange
    from models.pipeline_store import record_stage

    amount = parse_amount(committed, "GBP", "--committed") if committed is not None else None
    change = StageChange(project, stage, parse_date(on, "--date"), amount, note)
    with engine().begin() as conn:
        result = record_stage(conn, change, current_user(user))
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        typer.echo(f"project {project}: {stage} from {result['effective_date']} ({result['kind']})")


@projects_app.command("history")
def projects_history(project: Annotated[str, typer.Argument(help="Project id.")], as_csv: CsvFlag = False,
                     as_json: JsonFlag = False) -> None:
    """A project's pipeline stage changes, oldest first, with who recorded each."""
    from models.pipeline_store import stage_history
    from reports.render import emit

    with engine().connect() as conn:
        rows = stage_history(conn, project)
    emit(rows, ["effective_date", "stage", "committed_pence", "note", "recorded_by", "recorded_at"],
         output_format(as_csv, as_json), title=f"Pipeline history of {project}")


@report_app.command("pipeline")
def report_pipeline(
    fund: Annotated[Optional[str], typer.Option("--fund", help="Fund id (default: every fund).")] = None,
    as_of: AsOfOption = None, as_csv: CsvFlag = False, as_json: JsonFlag = False,
) -> None:
    """The project pipeline per stage and theme: projects, money committed, deployed (disbursed)."""
    from models.pipeline_store import PIPELINE_COLUMNS, pipeline
    from reports.render import emit, totals

    day = as_of_date(as_of)
    with engine().connect() as conn:
        rows = pipeline(conn, day, fund)
    footer = totals(rows, PIPELINE_COLUMNS, "stage")
    footer["projects"] = sum(r["projects"] for r in rows)
    emit(rows, PIPELINE_COLUMNS, output_format(as_csv, as_json), title=f"Project pipeline as of {day}",
         footer=footer, extra={"as_of": day.isoformat()})
