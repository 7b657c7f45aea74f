"""What every ``fuel`` command module shares: the one typer app, the --db state, option types,
and small helpers. It imports no command module, so any of them can be imported first (by
uvicorn, multiprocessing or a test) without a circular import; ``ledger.shell.cli`` imports
them all to register their commands.
"""

from __future__ import annotations

import getpass
import json
import os
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer

from ledger.errors import FuelError, ValidationError
from ledger.periods import parse_date
app = typer.Typer(rich_markup_mode=None, 
    name="fuel",
    help="Fuel: a social investment fund and outcomes-tracking ledger.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "fixtures"
DEFAULT_CHART = FIXTURES / "charts" / "social_investment_fund.toml"

DbOption = Annotated[
    Optional[str],
    typer.Option("--db", help="Database URL (default: $FUEL_DATABASE_URL, else sqlite:///fuel.db).", show_default=False),
]
CsvFlag = Annotated[bool, typer.Option("--csv", help="Write CSV to stdout.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Write JSON to stdout.")]
AsOfOption = Annotated[
    Optional[str], typer.Option("--as-of", help="Effective date, YYYY-MM-DD, inclusive (default: today).")
]
SheetOption = Annotated[
    Optional[str], typer.Option("--sheet", help="For an .xlsx file: the sheet to read (default: the first).")
]
UserOption = Annotated[
    Optional[str], typer.Option("--user", help="Who is recording this (default: $FUEL_USER or your login).")
]


class State:
    db_url: str | None = None


state = State()


@app.callback()
def _main(db: DbOption = None) -> None:
    """Fuel keeps a double-entry ledger of blended social investment money."""
    state.db_url = db


def engine():
    from models.db import is_initialised, make_engine

    eng = make_engine(state.db_url)
    if not is_initialised(eng):
        raise FuelError(f"database {eng.url.render_as_string(hide_password=True)} is not set up: run `fuel init` first")
    return eng


def current_user(user: str | None) -> str:
    if user:
        return user
    try:
        return os.environ.get("FUEL_USER") or getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "fuel"


def write_scope(conn, user: str | None) -> str | None:
    """The fund the recording user may write to (None: the operator, unconfined); see
    ``models.web_store.write_scope``."""
    from models.web_store import write_scope as scope_of

    return scope_of(conn, current_user(user))


def refuse_other_fund(scope: str | None, fund: str) -> None:
    """A scoped user naming another fund is answered as if that fund did not exist."""
    from ledger.errors import NotFound

    if scope is not None and fund != scope:
        raise NotFound(f"unknown fund {fund!r}: user's fund is {scope!r}", field="fund")


def output_format(as_csv: bool, as_json: bool) -> str:
    if as_csv and as_json:
        raise ValidationError("choose one of --csv or --json")
    return "csv" if as_csv else "json" if as_json else "table"


def as_of_date(value: str | None) -> date:
    return parse_date(value, "--as-of") if value else date.today()




def read_text(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FuelError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise FuelError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    refuse_nul(text, str(path))
    return text


def refuse_nul(text: str, source_name: str) -> None:
    """A NUL byte is refused in every text input: PostgreSQL cannot store it, SQLite would."""
    at = text.find("\x00")
    if at >= 0:
        line = text.count("\n", 0, at) + 1
        raise FuelError(f"{source_name}: line {line} contains a NUL byte (\\0); remove it (is this a binary or "
                        "UTF-16 file? save it as UTF-8 text)")


class Table:
    """A CSV file, or one sheet of an .xlsx workbook read as CSV text (ledger/shell/xlsx_in.py)."""

    def __init__(self, path: Path, sheet: str | None, date_columns: frozenset[str]) -> None:
        from ledger.shell.xlsx_in import is_workbook, read_sheet

        self.sheet_text = None
        if is_workbook(path):
            self.sheet_text = read_sheet(path, sheet, date_columns)
            self.text, self.source_name = self.sheet_text.text, self.sheet_text.source_name
        else:
            if sheet is not None:
                raise ValidationError(f"{path.name}: --sheet is for .xlsx workbooks; this is a CSV file", field="sheet")
            if path.suffix.lower() == ".xls":
                raise FuelError(f"{path.name}: the old .xls format is not read; save it as .xlsx or CSV UTF-8")
            self.text, self.source_name = read_text(path), path.name

    def explain(self, exc: FuelError) -> FuelError:
        """The importer's error, with Excel's column letters when the file was a workbook."""
        return self.sheet_text.explain(exc) if self.sheet_text is not None else exc


def load_structured(path: Path):
    text = read_text(path)
    try:
        if path.suffix.lower() == ".toml":
            return tomllib.loads(text)
        return json.loads(text, parse_float=_refuse_float)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise FuelError(f"{path}: not valid {'TOML' if path.suffix.lower() == '.toml' else 'JSON'}: {exc}") from None


def _refuse_float(text: str):
    raise ValidationError(
        f"amount {text} is a floating-point number; give amount_pence as an integer or amount as text like \"{text}\""
    )
