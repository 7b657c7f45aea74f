"""Flows CSV: parse and validate every row into typed events (pure; pandas).

One row per event. Every problem in the file is collected as ``row N, column C: problem``
(row 1 is the header, as a spreadsheet numbers it) and nothing is returned half-checked: the
caller gets either events for every row or the full list of problems. Checks that need the
ledger (cash, restrictions, closed periods, keys already used) happen in the service layer,
which reports them in the same form. Columns are documented in ``docs/fund-flows.md``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Mapping

import pandas as pd

from ledger.errors import FuelError
from ledger.flows import EVENT_TYPES, FlowEvent
from ledger.funds import FundBook
from ledger.money import check_currency, parse_amount
from ledger.periods import parse_date

REQUIRED_COLUMNS: tuple[str, ...] = ("event", "date", "fund", "amount")
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "key", "currency", "description", "investor", "payer", "project", "tranche", "source", "restriction",
    "form", "instrument", "interest", "manager", "to_source", "to_tranche", "to_restriction", "reason",
)
ALL_COLUMNS: tuple[str, ...] = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
#: Columns every event may use.
COMMON_COLUMNS: frozenset[str] = frozenset({"event", "date", "fund", "amount", "key", "currency", "description"})
#: Per event kind: (required columns, optional columns), beyond the common ones.
EVENT_COLUMNS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "drawdown_notice": (("tranche",), ()),
    "drawdown_received": (("tranche", "investor"), ()),
    "grant_received": (("investor",), ("restriction", "tranche")),
    "public_money_received": (("payer", "form"), ("tranche", "restriction")),
    "disbursement": (("project", "form", "source"), ("tranche", "restriction")),
    "repayment": (("project",), ("interest", "form")),
    "outcome_payment": (("project", "payer"), ()),
    "fee": (("form", "source"), ("tranche", "restriction", "manager")),
    "valuation_change": (("project", "form"), ("instrument",)),
    "exit": (("project",), ("instrument",)),
    "distribution": (("tranche", "investor"), ()),
    "transfer": (("source", "to_source", "reason"), ("tranche", "restriction", "to_tranche", "to_restriction")),
}
#: Which party kinds a reference column must name.
REFERENCE_COLUMNS: Mapping[str, str] = {
    "investor": "investor", "payer": "payer", "manager": "manager",
    "project": "project", "tranche": "tranche", "restriction": "restriction",
    "to_tranche": "tranche", "to_restriction": "restriction",
}
ROWS_MAX = 100_000
FIELD_TO_COLUMN: Mapping[str, str] = {"effective_date": "date", "amount_pence": "amount", "interest_pence": "interest"}


@dataclass(frozen=True, slots=True)
class FlowRow:
    """A validated row: its row number in the file and its event."""

    row: int
    event: FlowEvent


def problem(row: int | None, column: str | None, text: str) -> str:
    where = ", ".join(part for part in (f"row {row}" if row else "", f"column {column}" if column else "") if part)
    return f"{where}: {text}" if where else text


def read_flows_csv(text: str) -> pd.DataFrame:
    """Read every cell as text (no type guessing: "1234.5" must not become a float)."""
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    # the header as written: pandas renames a repeated column ("amount.1"), which would hide it
    header = next(csv.reader(io.StringIO(text.removeprefix("\ufeff").splitlines()[0])))
    if len(header) == len(frame.columns):
        frame.columns = [str(c).strip().lower() for c in header]
    else:
        frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame.apply(lambda column: column.str.strip())


def parse_flows(frame: pd.DataFrame, books: Mapping[str, FundBook]) -> tuple[list[FlowRow], list[str]]:
    """Turn a flows frame into events, or collect every problem. Pure: ``books`` is the
    reference data of every fund, keyed by fund id."""
    problems: list[str] = []
    columns = list(frame.columns)
    for column in REQUIRED_COLUMNS:
        if column not in columns:
            problems.append(problem(None, column, "required column is missing"))
    for column in columns:
        if column not in ALL_COLUMNS:
            problems.append(problem(None, column, f"unknown column (known: {', '.join(ALL_COLUMNS)})"))
    for column in sorted({c for c in columns if columns.count(c) > 1}):
        problems.append(problem(None, column, "appears more than once in the header"))
    if problems:
        return [], problems
    if frame.empty:
        return [], [problem(None, None, "the file has no rows")]
    if len(frame) > ROWS_MAX:
        return [], [problem(None, None, f"more than {ROWS_MAX} rows; split the file")]

    frame = frame.reindex(columns=list(ALL_COLUMNS), fill_value="")
    frame.index = range(2, len(frame) + 2)  # row numbers as a spreadsheet shows them

    # Vectorised checks first: event kinds and references to reference data.
    bad_kind = ~frame["event"].isin(list(EVENT_TYPES))
    for row, value in frame.loc[bad_kind, "event"].items():
        text = "missing" if value == "" else f"unknown event {value!r}"
        problems.append(problem(row, "event", f"{text} (one of {', '.join(EVENT_TYPES)})"))
    known_fund = frame["fund"].isin(list(books))
    for row, value in frame.loc[~known_fund, "fund"].items():
        problems.append(problem(row, "fund", "missing" if value == "" else f"unknown fund {value!r}"))
    bad_rows = set(frame.index[bad_kind | ~known_fund])

    for column, kind in REFERENCE_COLUMNS.items():
        for row, fund_id, value in zip(frame.index, frame["fund"], frame[column]):
            if value == "" or fund_id not in books:
                continue
            if not _known(books[fund_id], kind, value):
                problems.append(problem(row, column, f"unknown {kind} {value!r} in fund {fund_id}"))
                bad_rows.add(row)

    rows: list[FlowRow] = []
    for row, record in zip(frame.index, frame.to_dict("records")):
        if record["event"] not in EVENT_TYPES:
            continue
        row_problems = _row_problems(row, record, books)
        if row_problems:
            problems += row_problems
            continue
        if row in bad_rows:
            continue
        try:
            rows.append(FlowRow(row, build_event(record, books[record["fund"]])))
        except FuelError as exc:
            problems.append(problem(row, column_of(exc), exc.message))
    problems += _duplicate_problems(rows)
    problems.sort(key=_row_order)
    return (rows if not problems else []), problems


def _row_order(text: str) -> int:
    """Problems in file order: file-level ones first, then by row number (stable)."""
    if not text.startswith("row "):
        return 0
    return int(text[4:].split(",", 1)[0].split(":", 1)[0])


def column_of(exc: FuelError) -> str | None:
    field = exc.field
    return FIELD_TO_COLUMN.get(field, field) if field else None


def _known(book: FundBook, kind: str, value: str) -> bool:
    if kind in ("investor", "payer", "manager"):
        party = book.parties.get(value)
        return party is not None and party.kind == kind
    table = {"project": book.projects, "tranche": book.tranches, "restriction": book.restrictions}[kind]
    return value in table


def _row_problems(row: int, record: dict, books: Mapping[str, FundBook]) -> list[str]:
    kind = record["event"]
    required, optional = EVENT_COLUMNS[kind]
    found = []
    for column in required:
        if record[column] == "":
            found.append(problem(row, column, f"required for {kind} events"))
    allowed = COMMON_COLUMNS | set(required) | set(optional)
    for column in ALL_COLUMNS:
        if column not in allowed and record[column] != "":
            found.append(problem(row, column, f"not used by {kind} events; leave it empty"))
    if record["date"] == "":
        found.append(problem(row, "date", "missing"))
    else:
        try:
            parse_date(record["date"], "date")
        except FuelError as exc:
            found.append(problem(row, "date", exc.message))
    book = books.get(record["fund"])
    currency = record["currency"] or (book.fund.currency if book else "GBP")
    currency_ok = True
    try:
        check_currency(currency)
    except FuelError as exc:
        found.append(problem(row, "currency", exc.message))
        currency_ok = False
    if currency_ok and book is not None and currency != book.fund.currency:
        found.append(problem(row, "currency", f"{currency} is not the currency of fund {book.fund.id} ({book.fund.currency})"))
        currency_ok = False
    for column in ("amount", "interest"):
        value = record[column]
        if column == "amount" and value == "":
            found.append(problem(row, "amount", "missing"))
        elif value != "" and currency_ok:
            try:
                parse_amount(value, currency, column)
            except FuelError as exc:
                found.append(problem(row, column, exc.message))
    return found


def _opt(value: str) -> str | None:
    return value or None


def build_event(record: Mapping[str, str], book: FundBook) -> FlowEvent:
    """One row's event. Assumes :func:`_row_problems` found nothing."""
    kind = record["event"]
    currency = record.get("currency") or book.fund.currency
    amount = parse_amount(record["amount"], currency, "amount")
    common = dict(
        fund=record["fund"],
        effective_date=parse_date(record["date"], "date"),
        description=_opt(record.get("description", "")),
        key=_opt(record.get("key", "")),
    )
    required, optional = EVENT_COLUMNS[kind]
    values: dict[str, object] = {}
    for column in (*required, *optional):
        if column == "interest":
            values["interest_pence"] = parse_amount(record["interest"], currency, "interest") if record["interest"] else 0
        elif record.get(column, "") != "":
            values[column] = record[column]
    if kind == "repayment":
        values["principal_pence"] = amount
    else:
        values["amount_pence"] = amount
    return EVENT_TYPES[kind](**common, **values)  # type: ignore[arg-type]


def _duplicate_problems(rows: list[FlowRow]) -> list[str]:
    """The same key twice: with different content is a conflict; the same derived key twice
    means two identical rows, which would post once, so Fuel asks for a key column instead."""
    found = []
    first: dict[str, FlowRow] = {}
    for item in rows:
        key = item.event.idempotency_key
        if key not in first:
            first[key] = item
            continue
        earlier = first[key]
        if item.event.key is None:
            found.append(problem(
                item.row, None,
                f"repeats row {earlier.row} exactly, so it would be posted once; give each a distinct value in a key column",
            ))
        elif earlier.event.data() != item.event.data():
            found.append(problem(item.row, "key", f"key {key!r} is also used by row {earlier.row} with different content"))
    return found
