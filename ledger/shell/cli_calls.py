"""Incubator calls commands (docs/calls.md): ``fuel calls open|list|show|close|apply|
applications|conflict|score|decide|publish|award|pay|contract|report|cost-to-contract|conversion``.
Each parses its arguments, calls one service of ``models/calls_store.py`` or
``reports/calls_reports.py`` in one transaction, and prints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ledger.errors import ValidationError
from ledger.periods import parse_date
from ledger.shell.cli_common import AsOfOption, CsvFlag, JsonFlag, UserOption, app, as_of_date, current_user, engine, output_format, read_text

calls_app = typer.Typer(rich_markup_mode=None, no_args_is_help=True,
                        help="Incubator calls: open a call, take applications, assess, decide, award, pay, link contracts.")
app.add_typer(calls_app, name="calls")

CallArg = Annotated[str, typer.Argument(help="Call id.")]
AppArg = Annotated[int, typer.Argument(help="Application id (from `fuel calls applications`).")]
DateOption = Annotated[str, typer.Option("--date", help="Date, YYYY-MM-DD.")]


def _out(result, as_json: bool, text: str) -> None:
    typer.echo(json.dumps(result, indent=2, default=str) if as_json else text)


def _emit(rows, columns, as_csv: bool, as_json: bool, title: str) -> None:
    from reports.render import emit

    emit(rows, columns, output_format(as_csv, as_json), title=title)


@calls_app.command("open")
def calls_open(path: Annotated[Path, typer.Argument(help="The call's TOML file (docs/calls.md).")],
               user: UserOption = None, as_json: JsonFlag = False) -> None:
    """Open a call from its file; opening a changed file records a new version."""
    from ledger.calls import parse_call
    from models.calls_store import open_call

    call = parse_call(read_text(path), str(path))
    with engine().begin() as conn:
        result = open_call(conn, call, current_user(user))
    _out(result, as_json, f"call {result['call']} version {result['version']}: {result['status']} "
                          f"(budget {call.budget_pence / 100:.2f} {call.currency} reserved)")


@calls_app.command("list")
def calls_list(fund: Annotated[Optional[str], typer.Option("--fund", help="Fund id.")] = None,
               as_csv: CsvFlag = False, as_json: JsonFlag = False) -> None:
    """Every call: theme, dates, budget, applications, when closed and published."""
    from models.calls_store import list_calls

    with engine().connect() as conn:
        rows = list_calls(conn, fund)
    _emit(rows, ["call", "version", "fund", "theme", "opens_on", "closes_on", "budget_pence", "applications",
                 "closed_on", "published_on"], as_csv, as_json, "Calls")


@calls_app.command("show")
def calls_show(call: CallArg, as_json: JsonFlag = False) -> None:
    """One call's rules: budget lines, eligibility, criteria and milestones."""
    from models.calls_store import load_call

    with engine().connect() as conn:
        state = load_call(conn, call)
    data = {"call": call, "version": state.version, "fund": state.call.fund, **state.call.rules(),
            "closed_on": state.closed_on and str(state.closed_on), "published_on": state.published_on and str(state.published_on)}
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        typer.echo(f"{key}: {value}")


@calls_app.command("close")
def calls_close(call: CallArg, on: DateOption, user: UserOption = None, as_json: JsonFlag = False) -> None:
    """Close a call early: from that date it accepts nothing."""
    from models.calls_store import close_call

    with engine().begin() as conn:
        result = close_call(conn, call, parse_date(on, "--date"), "closed", current_user(user))
    _out(result, as_json, f"call {call}: closed on {result['closed']} ({result['status']})")


@calls_app.command("apply")
def calls_apply(path: Annotated[Path, typer.Argument(help="CSV of applications (docs/calls.md).")],
                call: Annotated[str, typer.Option("--call", help="Call id.")], user: UserOption = None,
                as_json: JsonFlag = False) -> None:
    """Import applications: each checked against the call's rules, with reasons."""
    from models.calls_store import import_applications

    with engine().begin() as conn:
        result = import_applications(conn, call, read_text(path), str(path), current_user(user))
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(f"call {call}: {result['submitted']} application(s) submitted, {result['already']} already there")
    for a in result["applications"]:
        typer.echo(f"  {a['id']} {a['org_id']} {a['reference']}: " + ("eligible" if a["eligible"] else "not eligible: " + "; ".join(a["reasons"])))


@calls_app.command("applications")
def calls_applications(call: CallArg, org: Annotated[Optional[str], typer.Option("--org", help="Only this org-id's.")] = None,
                       as_csv: CsvFlag = False, as_json: JsonFlag = False) -> None:
    """A call's applications: eligibility, score, decision, award."""
    from models.calls_store import list_applications

    with engine().connect() as conn:
        rows = list_applications(conn, call, org)
    for r in rows:
        r["reasons"] = "; ".join(r["reasons"])
    _emit(rows, ["id", "org_id", "reference", "org_type", "org_size", "area", "amount_pence", "eligible", "reasons",
                 "assessors", "score_hundredths", "decision", "award_id", "project_id"], as_csv, as_json, f"Applications to {call}")


@calls_app.command("conflict")
def calls_conflict(application: AppArg, assessor: Annotated[str, typer.Option("--assessor", help="Assessor's name.")],
                   note: Annotated[str, typer.Option("--note", help="What the conflict of interest is.")],
                   as_json: JsonFlag = False) -> None:
    """Declare an assessor's conflict of interest: it keeps the assessor off the application."""
    from models.calls_store import declare_conflict

    with engine().begin() as conn:
        result = declare_conflict(conn, application, assessor, note)
    _out(result, as_json, f"application {application}: conflict of {assessor} {result['status']}")


def _scores(pairs: list[str]) -> dict[str, int]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not value.strip().isdigit():
            raise ValidationError(f"--score {pair!r}: write CRITERION=WHOLE_NUMBER, e.g. need=4", field="score")
        out[name.strip()] = int(value)
    return out


@calls_app.command("score")
def calls_score(application: AppArg, assessor: Annotated[str, typer.Option("--assessor", help="Assessor's name.")],
                score: Annotated[list[str], typer.Option("--score", help="CRITERION=SCORE, once per criterion.")],
                corrects: Annotated[Optional[int], typer.Option("--corrects", help="Score id this corrects.")] = None,
                note: Annotated[Optional[str], typer.Option("--note", help="Why (a correction).")] = None,
                as_json: JsonFlag = False) -> None:
    """Score an application against every criterion of its call."""
    from models.calls_store import score_application

    with engine().begin() as conn:
        result = score_application(conn, application, assessor, _scores(score), note, corrects)
    _out(result, as_json, f"application {application}: scored by {assessor}, {result['score_hundredths'] / 100:.2f} of 100")


@calls_app.command("decide")
def calls_decide(application: AppArg, decision: Annotated[str, typer.Option("--decision", help="award or decline.")],
                 reasons: Annotated[str, typer.Option("--reasons", help="The panel's reasons.")], on: DateOption,
                 amount: Annotated[Optional[str], typer.Option("--amount", help="Award, pounds (default: the amount asked).")] = None,
                 corrects: Annotated[Optional[int], typer.Option("--corrects", help="Decision id this corrects.")] = None,
                 user: UserOption = None, as_json: JsonFlag = False) -> None:
    """Record the panel's decision on an application, with who and when."""
    from ledger.money import parse_amount
    from models.calls_store import decide

    pence = parse_amount(amount, "GBP", "--amount") if amount is not None else None
    with engine().begin() as conn:
        result = decide(conn, application, decision, reasons, parse_date(on, "--date"), current_user(user), pence, corrects)
    _out(result, as_json, f"application {application}: {decision} ({result['amount_pence'] / 100:.2f}), decision {result['id']}")


@calls_app.command("publish")
def calls_publish(call: CallArg, on: DateOption, user: UserOption = None, as_json: JsonFlag = False) -> None:
    """Publish a call's decisions: scores and decisions are fixed from now (corrections are new records)."""
    from models.calls_store import close_call

    with engine().begin() as conn:
        result = close_call(conn, call, parse_date(on, "--date"), "published", current_user(user))
    _out(result, as_json, f"call {call}: decisions published on {result['published']} ({result['status']})")


@calls_app.command("award")
def calls_award(application: AppArg, on: DateOption,
                project: Annotated[Optional[str], typer.Option("--project", help="Project id (default: CALL-APPLICATION_ID).")] = None,
                user: UserOption = None, as_json: JsonFlag = False) -> None:
    """Commit an awarded grant: the project enters the pipeline at incubation."""
    from models.calls_store import award

    with engine().begin() as conn:
        result = award(conn, application, parse_date(on, "--date"), current_user(user), project)
    _out(result, as_json, f"award {result['award_id']}: {result['amount_pence'] / 100:.2f} to project {result['project']} "
                          f"from {result['source']}/{result['tranche'] or '-'}/{result['restriction'] or '-'} ({result['status']}); "
                          f"tranches: " + ", ".join(f"{t['tranche_no']} {t['milestone']} {t['amount_pence'] / 100:.2f}" for t in result["tranches"]))


@calls_app.command("pay")
def calls_pay(award_id: Annotated[int, typer.Argument(help="Award id.")],
              tranche: Annotated[int, typer.Option("--tranche", help="Tranche number (1 = first milestone).")],
              on: DateOption, user: UserOption = None, as_json: JsonFlag = False) -> None:
    """Pay a tranche of an award on its milestone: a grant disbursement in the ledger."""
    from models.calls_store import pay_tranche

    with engine().begin() as conn:
        result = pay_tranche(conn, award_id, tranche, parse_date(on, "--date"), current_user(user))
    _out(result, as_json, f"award {award_id} tranche {tranche}: {result['amount_pence'] / 100:.2f} in entry {result['entry_id']} ({result['status']})")


@calls_app.command("contract")
def calls_contract(project: Annotated[str, typer.Argument(help="Project id.")],
                   contract: Annotated[str, typer.Argument(help="The outcomes contract it won.")], on: DateOption,
                   user: UserOption = None, as_json: JsonFlag = False) -> None:
    """Move a project to contracted and link the outcomes contract it won."""
    from models.calls_store import link_contract

    with engine().begin() as conn:
        result = link_contract(conn, project, contract, parse_date(on, "--date"), current_user(user))
    _out(result, as_json, f"project {project}: contracted on {result['effective_date']}, contract {contract}")


@calls_app.command("report")
def calls_report(call: CallArg, as_of: AsOfOption = None, as_csv: CsvFlag = False, as_json: JsonFlag = False) -> None:
    """Per call: applications, eligible, awards and amounts, by organisation type, size and area."""
    from models.calls_store import load_call
    from reports.calls_reports import GROUP_COLUMNS, call_summary

    with engine().connect() as conn:
        load_call(conn, call)
        rows = call_summary(conn, call, as_of_date(as_of))
    _emit(rows, GROUP_COLUMNS, as_csv, as_json, f"Call {call}")


@calls_app.command("cost-to-contract")
def calls_cost(as_of: AsOfOption = None, as_csv: CsvFlag = False, as_json: JsonFlag = False) -> None:
    """For every contract an awarded project won: the grants awarded and paid on the way."""
    from reports.calls_reports import COST_COLUMNS, cost_to_contract

    with engine().connect() as conn:
        rows = cost_to_contract(conn, as_of_date(as_of))
    _emit(rows, COST_COLUMNS, as_csv, as_json, "What each contract cost to get to")


@calls_app.command("conversion")
def calls_conversion(as_of: AsOfOption = None, as_csv: CsvFlag = False, as_json: JsonFlag = False) -> None:
    """Projects incubated each year, and how many went on to acceleration and a contract."""
    from reports.calls_reports import CONVERSION_COLUMNS, conversion

    with engine().connect() as conn:
        rows = conversion(conn, as_of_date(as_of))
    _emit(rows, CONVERSION_COLUMNS, as_csv, as_json, "Incubation to contract")
