"""The council statement built from plain frames (no database): the CSV re-derives through
``verify``; tampering is named; formula-looking text is neutralised in CSV and XLSX (read back
with openpyxl) while numbers stay numbers."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from ledger.pbr.claims import PriorPaid, run_claim
from ledger.pbr.contracts import load_contract_toml
from ledger.pbr.statement import build_statement
from ledger.pbr.verify import parse_sections, verify_statement_csv
from ledger.periods import Period
from reports.council import render_csv, render_html, render_xlsx

DATA = Path(__file__).resolve().parents[2] / "data" / "pbr"
CONTRACT = load_contract_toml((DATA / "contract.toml").read_text(), "contract.toml")

HOSTILE = ['=HYPERLINK("http://evil.example","click")', "+1+2", "-cmd|' /C calc'!A0", "@SUM(A1:A9)", "\tTAB", "\rCR"]


def statement_of(events: pd.DataFrame, addressee: str | None = None):
    lines = run_claim(events, CONTRACT)
    lines["line_no"] = range(1, len(lines) + 1)
    lines["achieved_on"] = lines["achieved_on"].dt.strftime("%Y-%m-%d")
    lines["disputed"] = False
    lines["dispute_reason"] = None
    run = {"run_id": 1, "status": "validated", "invoice_ref": None, "clawback_pence": 0}
    return build_statement(CONTRACT, Period.parse("2026Q3"), run, lines, PriorPaid(), [], addressee=addressee)


def hostile_events() -> pd.DataFrame:
    return pd.DataFrame({
        "participant_id": HOSTILE,
        "outcome_id": ["entry"] * len(HOSTILE),
        "achieved_on": [f"2026-07-0{i + 1}" for i in range(len(HOSTILE))],
        "evidence_ref": list(reversed(HOSTILE)),
    })


def test_formula_text_is_neutralised_in_csv_and_numbers_stay_numbers():
    statement = statement_of(hostile_events())
    text = render_csv(statement)
    import csv

    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    for bad in HOSTILE:
        assert bad not in cells, f"{bad!r} left live in the CSV"
        assert "'" + bad in cells
    assert not any(c.startswith(("=", "+", "@", "\t", "\r")) for c in cells)
    assert not any(c.startswith("-") and not c.lstrip("-").isdigit() for c in cells)
    annex = parse_sections(text)["annex"][1]
    assert annex[0]["net_pence"] == "50000"  # numbers are written as plain numbers
    # the quote is undone on reading: the statement still verifies
    assert verify_statement_csv(text, CONTRACT).ok


def test_formula_text_is_neutralised_in_xlsx_read_back_with_openpyxl():
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(render_xlsx(statement_of(hostile_events()))))
    sheet = book["annex"]
    header = [c.value for c in sheet[1]]
    values = [c for row in sheet.iter_rows(min_row=2) for c in row]
    assert all(c.data_type != "f" for c in values), "a formula cell in the workbook"
    texts = {c.value for c in values if isinstance(c.value, str)}
    for bad in HOSTILE:
        # XML turns a stored carriage return into a line feed when read back: still quoted, inert
        assert bad not in texts and ("'" + bad in texts or "'" + bad.replace("\r", "\n") in texts)
    assert not any(t.startswith(("=", "+", "-", "@", "\t", "\r")) for t in texts)
    net = [row[header.index("Net (£)")] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in net] == [500] * len(HOSTILE)  # pounds, as an Excel user reads them
    assert all(c.number_format == '"£"#,##0.00;-"£"#,##0.00' for c in net)


def test_xlsx_is_for_excel_users_dates_widths_frozen_header_and_empty_sheets_say_why():
    from datetime import datetime

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(render_xlsx(statement_of(hostile_events()))))
    annex = book["annex"]
    header = [c.value for c in annex[1]]
    assert "Achieved on" in header and all("_" not in h for h in header)  # words, not column names
    achieved = annex.cell(row=2, column=header.index("Achieved on") + 1)
    assert isinstance(achieved.value, datetime) and achieved.number_format == "yyyy-mm-dd"
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert all((sheet.column_dimensions[c.column_letter].width or 0) >= 8 for c in sheet[1])
        if sheet.max_row == 2 and sheet.cell(2, 1).value and str(sheet.cell(2, 1).value).startswith("No "):
            assert sheet.cell(2, 1).value.endswith("for this claim period.")
    assert any(str(s.cell(2, 1).value).startswith("No ") for s in book.worksheets), "an empty section says why"


def test_html_escapes_data_and_is_deterministic():
    statement = statement_of(hostile_events())
    first, second = render_html(statement), render_html(statement_of(hostile_events()))
    assert first == second
    assert "&#34;http://evil.example&#34;" in first or "&quot;http://evil.example&quot;" in first
    # the narrative's own links point within the document; no data becomes a link
    assert all(href.startswith('"#') for href in first.split("<a href=")[1:])


def test_a_tampered_line_is_named_and_nothing_else():
    events = pd.DataFrame({"participant_id": ["P1", "P2", "P1"], "outcome_id": ["entry", "entry", "sustained_3m"],
                           "achieved_on": ["2026-07-01", "2026-07-02", "2026-08-01"], "evidence_ref": ["a", "b", "c"]})
    text = render_csv(statement_of(events))
    assert verify_statement_csv(text, CONTRACT).ok
    tampered = text.replace("2,P2,entry,2026-07-02,b,accepted,,,,2026,50000,50000", "2,P2,entry,2026-07-02,b,accepted,,,,2026,55000,55000")
    assert tampered != text
    result = verify_statement_csv(tampered, CONTRACT)
    assert not result.ok
    assert {d.where for d in result.differences} == {"annex line 2 (participant P2, outcome entry, achieved 2026-07-02)"}
    assert [d.field for d in result.differences] == ["price_pence", "gross_pence"]


def test_a_missing_section_is_reported():
    result = verify_statement_csv("[statement]\nfield,value\n", CONTRACT)
    assert not result.ok and result.differences[0].where == "layout"
