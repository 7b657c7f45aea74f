"""Council statements and fund manager reports, registered onto the ``fuel`` app (one import
line in cli.py).

``fuel claims statement`` writes a claim run's outcome payment statement (HTML, PDF, CSV,
XLSX); ``fuel claims verify`` re-derives a statement CSV from the contract file alone.
``fuel report trial-balance|deployment|outcome-pipeline|cash`` are the fund manager reports (table,
``--csv``, ``--json``, ``--html FILE``); ``sources-uses`` and ``restrictions`` live in
cli_flows and take ``--html`` too.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ledger.errors import ValidationError
from ledger.shell.cli_common import AsOfOption, CsvFlag, JsonFlag, as_of_date, engine, output_format, read_text
from ledger.shell.cli_flows import report_app
from ledger.shell.cli_pbr import ContractOption, PeriodOption, claims_app

HtmlOption = Annotated[Optional[Path], typer.Option("--html", help="Also write the report as HTML (with charts) to FILE.")]
FundOption = Annotated[Optional[str], typer.Option("--fund", help="Fund id (default: every fund).")]


def _plans(path: Path | None):
    """Plan versions from a ``fuel claims plan`` CSV (type, plan_version, made_on, quarter, amount)."""
    if path is None:
        return None
    import pandas as pd

    from ledger.pbr.plans import plans_from_frame

    frame = pd.read_csv(io.StringIO(read_text(path)), dtype=str, keep_default_na=False, comment="#")
    if "type" not in frame.columns:
        raise ValidationError(f"{path}: a plan file needs the columns type, plan_version, made_on, quarter, amount")
    versions, _ = plans_from_frame(frame[frame["type"].str.strip() == "Planned"])
    return versions


# ---------------------------------------------------------------------------- council statements


def read_csv_exactly(path: Path) -> str:
    """A CSV's text with its line endings kept (a carriage return inside a quoted cell is data)."""
    from ledger.errors import FuelError

    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return handle.read()
    except FileNotFoundError:
        raise FuelError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise FuelError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


@claims_app.command("statement")
def claims_statement(
    contract: ContractOption,
    period: PeriodOption,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the statement files to.")],
    payer: Annotated[Optional[str], typer.Option("--payer", help="Address the statement to one payer (default: all payers).")] = None,
    formats: Annotated[str, typer.Option("--format", help="Comma-separated: html,pdf,csv,xlsx.")] = "html,pdf,csv,xlsx",
    plans: Annotated[Optional[Path], typer.Option("--plans", help="Forecast CSV for plan versus actual (as for `fuel claims plan`).")] = None,
    as_of: AsOfOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Write the outcome payment statement of a claim run: totals, payer shares, per outcome
    figures, cap headroom, sampling and clawbacks, plan versus actual, and the participant annex."""
    from ledger.periods import Period
    from reports.council import FORMATS, statement_for, write_statement

    chosen = [f.strip().lower() for f in formats.split(",") if f.strip()]
    unknown = sorted(set(chosen) - set(FORMATS))
    if unknown or not chosen:
        raise ValidationError(f"--format: unknown {', '.join(unknown) or 'empty'} (choose from {', '.join(FORMATS)})",
                              field="format")  # fmt: skip
    versions = _plans(plans)
    day = as_of_date(as_of) if as_of else Period.parse(period).last_day
    with engine().connect() as conn:
        statement = statement_for(conn, contract, period, payer, versions, day)
    written = write_statement(statement, out, chosen)
    totals = statement.totals
    if as_json:
        typer.echo(json.dumps({"contract": contract, "period": statement.period, "payer": payer,
                               "files": [str(p) for p in written], "totals": totals}, indent=2))  # fmt: skip
        return
    from ledger.money import format_amount

    typer.echo(f"statement {contract} {statement.period} for {payer or 'all payers'}: net "
               f"{format_amount(totals['net_pence'], statement.currency, separators=True)}, due "
               f"{format_amount(totals['due_pence'], statement.currency, separators=True)}")
    for path in written:
        typer.echo(f"wrote {path}")


@claims_app.command("verify")
def claims_verify(
    statement: Annotated[Path, typer.Argument(help="Statement CSV written by `fuel claims statement`.")],
    contract_file: Annotated[Path, typer.Option("--contract", help="The contract file (TOML) the statement is under.")],
    as_json: JsonFlag = False,
) -> None:
    """Re-derive every total of a statement CSV from its annex and the contract file alone, and
    list each difference (exit 1). Needs no database."""
    from ledger.pbr.contracts import load_contract_toml
    from ledger.pbr.verify import verify_statement_csv

    contract = load_contract_toml(read_text(contract_file), contract_file.name)
    result = verify_statement_csv(read_csv_exactly(statement), contract)
    if as_json:
        typer.echo(json.dumps({"ok": result.ok, "lines_checked": result.lines_checked,
                               "figures_checked": result.figures_checked,
                               "differences": [d.text() for d in result.differences],
                               "taken_as_stated": list(result.taken_as_stated)}, indent=2))  # fmt: skip
    elif result.ok:
        typer.echo(f"ok: every total re-derived ({result.lines_checked} annex lines, {result.figures_checked} figures "
                   f"checked against {contract_file.name})")
        typer.echo("taken as stated: " + "; ".join(result.taken_as_stated))
    else:
        typer.echo(f"{len(result.differences)} difference(s) between {statement.name} and what "
                   f"{contract_file.name} gives:", err=True)
        for difference in result.differences[:500]:
            typer.echo(f"  {difference.text()}", err=True)
    if not result.ok:
        raise typer.Exit(1)


# ---------------------------------------------------------------------------- fund manager reports


def _emit(report, as_csv: bool, as_json: bool, html_file: Path | None) -> None:
    """Print the report (every table; CSV sections when there are several) and write the HTML."""
    import sys

    from reports.fund_reports import to_csv, to_json
    from reports.render import print_table

    fmt = output_format(as_csv, as_json)
    if fmt == "csv":
        sys.stdout.write(to_csv(report))
    elif fmt == "json":
        sys.stdout.write(to_json(report))
    else:
        for table in report.tables:
            print_table([dict(r) for r in table.rows], list(table.columns), f"{report.title}: {table.title}",
                        footer=dict(table.footer) if table.footer else None)
        for note in report.notes:
            typer.echo(note)
    if html_file is not None:
        write_html(report, html_file)


def write_html(report, path: Path) -> None:
    """Write a fund manager report as HTML with charts (also used by cli_flows' --html)."""
    from reports.fund_reports import render_report_html

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report_html(report), encoding="utf-8")
    typer.echo(f"wrote {path}", err=True)


@report_app.command("trial-balance")
def report_trial_balance(as_of: AsOfOption = None, as_csv: CsvFlag = False, as_json: JsonFlag = False,
                         html_file: HtmlOption = None) -> None:
    """Trial balance per account and currency: debits, credits, net (sums to zero)."""
    from reports.fund_reports import trial_balance_report

    with engine().connect() as conn:
        report = trial_balance_report(conn, as_of_date(as_of))
    _emit(report, as_csv, as_json, html_file)


@report_app.command("deployment")
def report_deployment(fund: FundOption = None, as_of: AsOfOption = None, as_csv: CsvFlag = False,
                      as_json: JsonFlag = False, html_file: HtmlOption = None) -> None:
    """Deployment by project: disbursed per project and funding source, with each one's share."""
    from reports.fund_reports import deployment_report

    with engine().connect() as conn:
        report = deployment_report(conn, as_of_date(as_of), fund)
    _emit(report, as_csv, as_json, html_file)


@report_app.command("outcome-pipeline")
def report_outcome_pipeline(
    plans: Annotated[Optional[list[str]], typer.Option("--plans", help="CONTRACT=FILE: a forecast CSV for a contract "
                     "(repeatable; as for `fuel claims plan`).")] = None,
    as_of: AsOfOption = None, as_csv: CsvFlag = False, as_json: JsonFlag = False, html_file: HtmlOption = None,
) -> None:
    """Outcome pipeline: per contract and quarter, forecast (latest plan version) versus actual
    outcome payments, with the plan version used."""
    from reports.fund_reports import outcome_pipeline_report

    by_contract = {}
    for item in plans or []:
        contract, sep, file = item.partition("=")
        if not sep or not contract.strip() or not file.strip():
            raise ValidationError(f"--plans {item!r}: expected CONTRACT=FILE", field="plans")
        by_contract[contract.strip()] = _plans(Path(file.strip()))
    with engine().connect() as conn:
        report = outcome_pipeline_report(conn, by_contract, as_of_date(as_of))
    _emit(report, as_csv, as_json, html_file)


@report_app.command("cash")
def report_cash(fund: FundOption = None, as_of: AsOfOption = None, as_csv: CsvFlag = False,
                as_json: JsonFlag = False, html_file: HtmlOption = None) -> None:
    """Cash position by source and restriction, and upcoming drawdowns: capital called and not yet
    received, and unfunded commitments still to call."""
    from reports.fund_reports import cash_report

    with engine().connect() as conn:
        report = cash_report(conn, as_of_date(as_of), fund)
    _emit(report, as_csv, as_json, html_file)
