"""Value tables and the value report, registered onto the ``fuel`` app (one import line in
cli.py): ``fuel values load FILE``, ``fuel values list``, ``fuel report value``. Format, method and
sources: ``docs/value.md``; storage: ``models/values_store.py``; arithmetic: ``ledger/values.py``."""

from __future__ import annotations

import tomllib
from pathlib import Path
from datetime import date
from typing import Annotated, Optional

import typer

from ledger.errors import ImportRejected
from ledger.shell.cli_common import AsOfOption, CsvFlag, JsonFlag, UserOption, app, as_of_date, current_user, engine
from ledger.shell.cli_common import output_format, read_text
from ledger.shell.cli_flows import report_app
from ledger.shell.cli_reports import HtmlOption, _emit

values_app = typer.Typer(rich_markup_mode=None, help="Value tables of outcomes (fiscal, economic, social values with sources): load, list.",
                         no_args_is_help=True)
app.add_typer(values_app, name="values")


def read_value_file(path: Path):
    """A value table and the deflator file it names (``deflator = "..."``, relative to it), as text."""
    from models.values_store import ValueSource

    text = read_text(path)
    try:
        deflator = tomllib.loads(text).get("deflator")
    except tomllib.TOMLDecodeError as exc:
        raise ImportRejected(f"{path.name}: not valid TOML", [f"{path.name}: {exc}"]) from None
    if not isinstance(deflator, str) or not deflator:
        raise ImportRejected(f"{path.name}: value table rejected",
                             [f"{path.name}: table.deflator: names the deflator file (e.g. \"gdp_deflator.toml\")"])
    try:
        deflator_text = (path.parent / deflator).read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        raise ImportRejected(f"{path.name}: value table rejected",
                             [f"{path.name}: table.deflator: file {deflator!r} not found next to the table"]) from None
    return ValueSource(text, path.name, deflator_text, deflator)


def store_value_file(conn, path: Path, loaded_by: str):
    from models.values_store import store_value_table

    return store_value_table(conn, read_value_file(path), loaded_by)


@values_app.command("load")
def values_load(
    file: Annotated[Path, typer.Argument(help="Value table (TOML, docs/value.md), e.g. fixtures/values/ageing_well.toml; "
                                         "the deflator file it names is read too.")],
    user: UserOption = None,
) -> None:
    """Store a contract's value table (and its deflator) as a new version. Loading the same files
    again changes nothing."""
    with engine().begin() as conn:
        version, table, outcome = store_value_file(conn, file, current_user(user))
    verb = {"added": "stored", "unchanged": "unchanged (the same table is already stored)"}[outcome]
    typer.echo(f"value table {table.id} of contract {table.contract}: version {version}, {verb}")


@values_app.command("list")
def values_list(as_csv: CsvFlag = False, as_json: JsonFlag = False) -> None:
    """Every stored value table version, by contract."""
    from reports.render import emit
    from models.values_store import list_value_tables

    with engine().connect() as conn:
        rows = list_value_tables(conn)
    emit(rows, ["contract", "version", "table", "file", "deflator", "sha256", "loaded_at", "loaded_by"],
         output_format(as_csv, as_json), "Value tables")


@report_app.command("value")
def report_value(
    fund: Annotated[Optional[str], typer.Option("--fund", help="Fund id (default: every fund).")] = None,
    contract: Annotated[Optional[str], typer.Option("--contract", help="One contract (default: every contract "
                                                                       "with a value table).")] = None,
    as_of: AsOfOption = None, as_csv: CsvFlag = False, as_json: JsonFlag = False, html_file: HtmlOption = None,
) -> None:
    """Who pays and who benefits: outcome payments by payer beside the fiscal value to each agency,
    economic and social value, benefit-cost ratios, cost per outcome, ROI and payback."""
    from reports.value_reports import value_report

    with engine().connect() as conn:
        report = value_report(conn, as_of_date(as_of), fund, contract)
    _emit(report, as_csv, as_json, html_file)


@report_app.command("forecast")
def report_forecast(
    fund: Annotated[str, typer.Option("--fund", help="Fund id.")],
    as_of: AsOfOption = None, as_csv: CsvFlag = False, as_json: JsonFlag = False, html_file: HtmlOption = None,
) -> None:
    """Outcome payments projected to the end of each contract's term (low, central, high; seeded),
    the quarter each cap is reached, each earlier forecast against what happened, and each
    investor's projected TVPI and IRR under the fund's waterfall (method: docs/value.md)."""
    from reports.forecast_reports import forecast_report

    with engine().connect() as conn:
        report = forecast_report(conn, fund, as_of_date(as_of))
    _emit(report, as_csv, as_json, html_file)


vcse_app = typer.Typer(rich_markup_mode=None, no_args_is_help=True,
                       help="Local VCSE capacity: organisations' type, size band and area; a fund's local areas.")
app.add_typer(vcse_app, name="vcse")


@vcse_app.command("load")
def vcse_load(
    file: Annotated[Path, typer.Argument(help="CSV with party_id, org_type, size_band, la_code "
                                         "(e.g. fixtures/demo/vcse.csv).")],
    user: UserOption = None,
) -> None:
    """Store each organisation's profile (a later load replaces an organisation's profile)."""
    with engine().begin() as conn:
        count = store_vcse_file(conn, file, current_user(user))
    typer.echo(f"{count} organisation profiles stored from {file.name}")


#: The Liverpool City Region's six local authorities (ONS codes): the demo fund's local areas.
LCR_AREAS = ("E06000006", "E08000011", "E08000012", "E08000013", "E08000014", "E08000015")


def store_vcse_file(conn, path: Path, loaded_by: str) -> int:
    import csv
    import io

    from ledger.vcse import organisations_from_rows
    from models.vcse_store import store_organisations

    rows = list(csv.DictReader(io.StringIO(read_text(path))))
    return store_organisations(conn, organisations_from_rows(rows, path.name), path.name, loaded_by)


@vcse_app.command("areas")
def vcse_areas(
    fund: Annotated[str, typer.Option("--fund", help="Fund id.")],
    codes: Annotated[list[str], typer.Argument(help="ONS codes of the local authorities the fund counts as local.")],
) -> None:
    """Set the fund's local areas (replaces the list)."""
    from models.vcse_store import set_fund_areas

    with engine().begin() as conn:
        stored = set_fund_areas(conn, fund, codes)
    typer.echo(f"fund {fund}: local areas {', '.join(stored)}")


@report_app.command("vcse")
def report_vcse(
    fund: Annotated[str, typer.Option("--fund", help="Fund id.")],
    date_from: Annotated[Optional[str], typer.Option("--from", help="First day (YYYY-MM-DD; default: the start).")] = None,
    date_to: Annotated[Optional[str], typer.Option("--to", help="Last day (YYYY-MM-DD; default: today).")] = None,
    as_csv: CsvFlag = False, as_json: JsonFlag = False, html_file: HtmlOption = None,
) -> None:
    """The share of delivery money and of outcome payments reaching local VCSE organisations, per
    quarter, by size band and area, for the fund and each joint prime."""
    from reports.vcse_reports import vcse_report

    with engine().connect() as conn:
        report = vcse_report(conn, fund, _day_option(date_from, "--from"), _day_option(date_to, "--to") or date.today())
    _emit(report, as_csv, as_json, html_file)


def _day_option(value: str | None, option: str):
    from ledger.periods import parse_date

    return parse_date(value, option) if value else None
