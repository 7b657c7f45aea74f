"""Worksheets for people who use Excel: amounts in pounds with a currency format (integer pence
stay in the CSV, which is the machine-readable form), dates as dates, headers in words, widths
set, the header row frozen, an empty sheet saying why, and text that looks like a formula
neutralised as in the CSV."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from ledger.money import CURRENCY_EXPONENTS
from reports.render import spreadsheet_safe

SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}
#: columns holding a day (ISO text in the statement rows)
DATE_COLUMN = re.compile(r"(^|_)(date|on|day|start|end|exclusive|at|from|to)$")
WIDTH_MAX = 60
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def money_format(currency: str) -> str:
    symbol = SYMBOLS.get(currency)
    places = CURRENCY_EXPONENTS.get(currency, 2)
    digits = "#,##0" + ("." + "0" * places if places else "")
    if symbol:
        return f'"{symbol}"{digits};-"{symbol}"{digits}'
    return f'{digits} "{currency}";-{digits} "{currency}"'


def title(column: str, currency: str) -> str:
    """``net_pence`` -> ``Net (£)``; ``achieved_on`` -> ``Achieved on``."""
    money = column.endswith("_pence")
    words = column.removesuffix("_pence").replace("_", " ").strip()
    words = (words[:1].upper() + words[1:]) or column
    return f"{words} ({SYMBOLS.get(currency, currency)})" if money else words


def _value(column: str, value, currency: str):
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if column.endswith("_pence") and isinstance(value, int):
        # a Decimal is written to the file as its exact digits: no binary rounding on the way
        return Decimal(value).scaleb(-CURRENCY_EXPONENTS.get(currency, 2))
    if isinstance(value, (int, Decimal)):
        return value
    if isinstance(value, date):
        return value
    text = str(value)
    if DATE_COLUMN.search(column) and ISO_DAY.fullmatch(text):
        return date.fromisoformat(text)
    return spreadsheet_safe(text)


def add_sheet(book, name: str, columns: Sequence[str], rows: Sequence[Mapping], currency: str,
              empty_reason: str) -> None:
    """Append one formatted sheet; ``empty_reason`` is written when there are no rows."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(name[:31])
    sheet.append([title(c, currency) for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    if not rows:
        sheet.append([empty_reason])
        sheet.column_dimensions["A"].width = min(max(len(empty_reason), 12), WIDTH_MAX)
        return
    amount_format = money_format(currency)
    widths = [len(title(c, currency)) for c in columns]
    money_cells: list[tuple[int, int]] = []  # (row, column) of amounts a row's own key marks as money
    for number, row in enumerate(rows, start=2):
        values = [_value(c, row.get(c), currency) for c in columns]
        values, marked = _keyed_money(columns, row, values, currency)
        money_cells += [(number, i + 1) for i in marked]
        sheet.append(values)
        for i, (column, value) in enumerate(zip(columns, values)):
            shown = f"{value:,.2f}" if isinstance(value, Decimal) else str(value if value is not None else "")
            widths[i] = max(widths[i], len(shown) + (2 if column.endswith("_pence") else 0))
    for i, column in enumerate(columns, start=1):
        letter = get_column_letter(i)
        sheet.column_dimensions[letter].width = min(max(widths[i - 1], 8) + 2, WIDTH_MAX)
        if column.endswith("_pence"):
            for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = amount_format
        else:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                if isinstance(cell.value, date):
                    cell.number_format = "yyyy-mm-dd"
    for row_number, column_number in money_cells:
        sheet.cell(row_number, column_number).number_format = amount_format
    for (cell,) in sheet.iter_rows(min_row=2, min_col=len(columns), max_col=len(columns)):
        if isinstance(cell.value, date) and cell.number_format == "General":
            cell.number_format = "yyyy-mm-dd"


def _keyed_money(columns: Sequence[str], row: Mapping, values: list, currency: str) -> tuple[list, list[int]]:
    """Sheets of (field, value) pairs and of caps in mixed units say in the row what a number is:
    the field's name (``net_pence``, ``period_start``), or a ``unit`` of ``pence``."""
    marked: list[int] = []
    key = columns[0] if columns else None
    if len(columns) == 2 and key in ("field", "item") and isinstance(row.get(key), str):
        field = row[key]
        values[0] = title(field, currency)
        values[1] = _value(field, row.get(columns[1]), currency)  # the field's name says what it is
        if field.endswith("_pence") and isinstance(row.get(columns[1]), int):
            marked.append(1)
    elif row.get("unit") == "pence":
        values[columns.index("unit")] = SYMBOLS.get(currency, currency)
        for i, column in enumerate(columns):
            if column != "unit" and isinstance(row.get(column), int) and not isinstance(row.get(column), bool):
                values[i] = _value("amount_pence", row[column], currency)
                marked.append(i)
    return values, marked
