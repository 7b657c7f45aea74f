"""One way to turn report rows into a terminal table, CSV or JSON.

Rows are dicts of plain values. Columns whose name ends in ``_pence`` are money: JSON and CSV
keep integer pence (exact, machine-readable); the terminal table shows pounds with separators.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Iterable, Sequence

from ledger.money import format_amount

_PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """Neutralise text a spreadsheet would run as a formula by prefixing a quote.

    Plain numbers (``-12.34``) are left alone: they are data, not formulas.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def to_csv(rows: Sequence[dict], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # Python 3.11's csv quotes "\n" but not a bare "\r" inside a cell, which would split the
    # row in a spreadsheet: a row holding one is written with every cell quoted.
    quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(columns)
    for row in rows:
        cells = ["" if row.get(c) is None else spreadsheet_safe(row.get(c)) for c in columns]
        (quoted if any(isinstance(cell, str) and "\r" in cell for cell in cells) else writer).writerow(cells)
    return buffer.getvalue()


def to_json(rows: Sequence[dict] | dict, **extra) -> str:
    payload = {"rows": list(rows), **extra} if not isinstance(rows, dict) else rows
    return json.dumps(payload, indent=2, sort_keys=False, default=str) + "\n"


def display_value(column: str, value: object, currency: str = "GBP") -> str:
    if value is None:
        return ""
    if column.endswith("_pence") and isinstance(value, int):
        return format_amount(value, currency, separators=True)
    return str(value)


def column_title(column: str) -> str:
    return column.removesuffix("_pence").replace("_", " ")


def print_table(rows: Sequence[dict], columns: Sequence[str], title: str | None = None, console=None,
                footer: dict | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    if console is None:
        console = Console()
        if not console.is_terminal:  # piped or captured: do not squeeze tables into 80 columns
            console = Console(width=max(console.width, 200))
    if _natural_width(rows, columns, footer) > console.width:
        _print_records(rows, columns, title, footer, console)
        return
    table = Table(title=title, show_footer=footer is not None)
    for column in columns:
        money = column.endswith("_pence")
        footer_text = display_value(column, footer.get(column)) if footer else ""
        table.add_column(column_title(column), justify="right" if money else "left", footer=footer_text,
                         no_wrap=money)
    for row in rows:
        currency = row.get("currency", "GBP") or "GBP"
        table.add_row(*(display_value(c, row.get(c), currency) for c in columns))
    console.print(table)


def _natural_width(rows: Sequence[dict], columns: Sequence[str], footer: dict | None) -> int:
    """The width a table needs without squeezing any column below its longest word or figure."""
    total = 1
    for column in columns:
        words = max((len(w) for w in column_title(column).split()), default=1)
        values = [display_value(column, r.get(column), r.get("currency", "GBP") or "GBP") for r in rows[:2000]]
        if footer:
            values.append(display_value(column, footer.get(column)))
        widest = max((max((len(w) for w in str(v).split()), default=0) if not column.endswith("_pence") else len(v)
                      for v in values), default=0)
        total += max(words, widest) + 3  # padding and the rule
    return total


def _print_records(rows: Sequence[dict], columns: Sequence[str], title: str | None, footer: dict | None,
                   console) -> None:
    """A table too wide for the terminal, one record per block (as psql's expanded display)."""
    names = [column_title(c) for c in columns]
    width = max(len(n) for n in names)
    out = [title] if title else []
    blocks = [*rows, *([footer] if footer else [])]
    for number, row in enumerate(blocks, start=1):
        currency = row.get("currency", "GBP") or "GBP"
        label = "Total" if footer is not None and number == len(blocks) else f"{number} of {len(rows)}"
        out.append(f"-[ {label} ]" + "-" * max(0, min(console.width, 60) - len(label) - 5))
        out += [f"{name.ljust(width)} | {display_value(c, row.get(c), currency)}" for name, c in zip(names, columns)]
    console.file.write("\n".join(out) + "\n")


def emit(rows: Sequence[dict], columns: Sequence[str], fmt: str, title: str | None = None,
         footer: dict | None = None, extra: dict | None = None) -> None:
    """Print rows in the chosen format: ``table`` (default), ``csv`` or ``json``."""
    import sys

    if fmt == "csv":
        sys.stdout.write(to_csv(rows, columns))
    elif fmt == "json":
        sys.stdout.write(to_json([{c: r.get(c) for c in columns} for r in rows], **(extra or {})))
    else:
        print_table(rows, columns, title, footer=footer)


def totals(rows: Iterable[dict], columns: Sequence[str], label_column: str, label: str = "Total") -> dict:
    rows = list(rows)
    result: dict = {label_column: label}
    for column in columns:
        if column.endswith("_pence"):
            known = [int(r[column]) for r in rows if r.get(column) is not None]
            result[column] = sum(known) if known or not rows else None  # unknown stays unknown
    return result
