"""Excel workbooks in: a provider's .xlsx sheet read as the CSV text the importers already check.

The importers (participants, outcomes, flows) validate text, all or nothing. This adapter turns
one sheet of a workbook into that text, so every rule and message stays in one place, and adds
what only a workbook can get wrong: formulas (we import values, never a recalculation we cannot
see), merged cells (one value spread over several rows), hidden rows and columns (data the
provider cannot see on screen). Each of those refuses the file, naming the cell as Excel shows it.

Row numbers survive unchanged: the header is row 1 and the first data row is row 2, exactly as
the CSV importers count, so "row 7" in an error is row 7 in Excel. ``column_names`` rewrites the
importers' messages to add the column letter beside the header name.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from ledger.errors import FuelError, ImportRejected

#: a workbook bigger than this is refused before it is opened (a zip bomb or the wrong file)
WORKBOOK_BYTES_MAX = 30_000_000
#: rows read from one sheet; the importers' own row limits are lower
SHEET_ROWS_MAX = 100_002
PROBLEMS_MAX = 50
#: Excel's day zero for serial dates (the 1900 system, with its leap-year bug before March 1900)
EXCEL_EPOCH = date(1899, 12, 30)


def is_workbook(path: Path) -> bool:
    return path.suffix.lower() in (".xlsx", ".xlsm")


@dataclass(frozen=True)
class SheetText:
    """A sheet as CSV text, the name to show in messages, and the header's column letters."""

    text: str
    source_name: str
    letters: tuple[tuple[str, str], ...]  # (header name, column letter)

    def explain(self, exc: FuelError) -> FuelError:
        """The importer's error with each "row N: column" place given as Excel shows it."""
        if not isinstance(exc, ImportRejected):
            return exc
        return ImportRejected(self._place(exc.message), [self._place(p) for p in exc.problems])

    def explain_any(self, exc: FuelError) -> FuelError:
        """``explain`` for any error whose message names "row N: column" places."""
        if isinstance(exc, ImportRejected):
            return self.explain(exc)
        return type(exc)(self._place(exc.message), field=exc.field) if hasattr(exc, "field") else exc

    def _place(self, message: str) -> str:
        letters = dict(self.letters)

        def flows_style(match: re.Match) -> str:  # "row 2, column amount: ..."
            name = match.group(2)
            letter = letters.get(name) or letters.get(name.lower())
            return f"row {match.group(1)}, column {letter} ({name}):" if letter else match.group(0)

        def pbr_style(match: re.Match) -> str:  # "row 2: achieved_on: ..."
            name = match.group(2)
            letter = letters.get(name)
            return f"row {match.group(1)}, column {letter} ({name}):" if letter else match.group(0)

        message = re.sub(r"row (\d+), column ([^:,;]+):", flows_style, message)
        return re.sub(r"row (\d+): ([^:,;]+):", pbr_style, message)


def excel_serial_to_date(serial: float) -> date:
    """A date typed as a number in Excel's 1900 system (46204 = 2026-07-01)."""
    return EXCEL_EPOCH + timedelta(days=int(serial))


def _cell_text(value, is_date_column: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, (int, float)):
        if is_date_column and float(value).is_integer() and 1 <= value <= 2_958_465:  # 9999-12-31
            return excel_serial_to_date(value).isoformat()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)  # Python's shortest repr is the decimal the provider typed
    return str(value).strip()


def read_sheet(path: Path, sheet: str | None, date_columns: frozenset[str] = frozenset()) -> SheetText:
    """Read the first sheet (or the named one) of an .xlsx file as CSV text.

    Numbers in a column named in ``date_columns`` are Excel serial dates; Excel date cells
    become YYYY-MM-DD; text stays exactly as typed (so '07/01/2026' is refused as in a CSV).
    """
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.exceptions import InvalidFileException
    from openpyxl.worksheet.formula import ArrayFormula

    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise FuelError(f"{path}: file not found") from None
    if size > WORKBOOK_BYTES_MAX:
        raise FuelError(f"{path.name}: {size} bytes is more than {WORKBOOK_BYTES_MAX}; split the workbook")
    try:
        book = load_workbook(path, data_only=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise FuelError(f"{path.name}: not a readable Excel .xlsx workbook ({exc.__class__.__name__}); "
                        "save it from Excel as .xlsx, or as CSV UTF-8") from None
    if sheet is None:
        ws = book.worksheets[0]
    elif sheet in book.sheetnames:
        ws = book[sheet]
    else:
        raise FuelError(f"{path.name}: no sheet named {sheet!r} (sheets: {', '.join(book.sheetnames)})")
    source = f"{path.name}, sheet {ws.title!r}"
    if ws.max_row > SHEET_ROWS_MAX:
        raise ImportRejected(f"{source}: file rejected (1 problem)",
                             [f"{source}: {ws.max_row} rows is more than {SHEET_ROWS_MAX - 2}; split the file"])

    rows = [list(r) for r in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=ws.max_column)]
    while rows and all(c.value in (None, "") for c in rows[-1]):
        rows.pop()  # formatted but empty rows at the bottom are not data
    if not rows:
        return SheetText("", source, ())
    header_cells = rows[0]
    width = len(header_cells)
    while width and header_cells[width - 1].value in (None, "") and all(
            r[width - 1].value in (None, "") for r in rows):
        width -= 1  # empty columns on the right
    header = [_cell_text(c.value, False) for c in header_cells[:width]]
    dates = {i for i, name in enumerate(header) if name.strip().lower() in date_columns}

    problems: list[str] = []
    for merged in sorted(ws.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col)):
        if merged.min_row <= len(rows):
            problems.append(f"{source}: cells {merged.coord} are merged; unmerge them so each row has its own value")
    for number in range(1, len(rows) + 1):
        if ws.row_dimensions[number].hidden:
            problems.append(f"{source}: row {number} is hidden; unhide it (every row is imported) or delete it")
    for index in range(1, width + 1):
        letter = get_column_letter(index)
        if ws.column_dimensions[letter].hidden:
            problems.append(f"{source}: column {letter} ({header[index - 1]}) is hidden; unhide it or delete it")
    for index in [i for i, name in enumerate(header) if not name.strip()]:
        filled = next((r[index] for r in rows[1:] if r[index].value not in (None, "")), None)
        if filled is not None:  # a value under a blank header cell
            letter = get_column_letter(index + 1)
            problems.append(f"{source}: column {letter} has values (first in row {filled.row}) but no header in "
                            f"row 1; name the column or delete it")
    for row in rows:
        for cell in row[:width]:
            formula = cell.value.text if isinstance(cell.value, ArrayFormula) else cell.value
            if cell.data_type == "f" or isinstance(cell.value, ArrayFormula):
                name = header[cell.column - 1] if cell.column - 1 < len(header) else ""
                problems.append(f"{source}: row {cell.row}, column {cell.column_letter} ({name}): "
                                f"a formula ({formula}); paste values only (Paste Special > Values)")
    if problems:
        count = len(problems)
        raise ImportRejected(f"{source}: workbook rejected ({count} problem{'s' if count != 1 else ''})",
                             problems[:PROBLEMS_MAX])

    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for row in rows:
        writer.writerow([_cell_text(c.value, i in dates) for i, c in enumerate(row[:width])])
    letters = tuple((name.strip(), get_column_letter(i + 1)) for i, name in enumerate(header) if name.strip())
    return SheetText(out.getvalue(), source, letters)
