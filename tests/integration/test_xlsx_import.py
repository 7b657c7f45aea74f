"""Excel workbooks in (ledger/shell/xlsx_in.py): every CSV case of the bad-input corpus for
flows, outcomes and participants, typed into a workbook made by openpyxl, is refused with the
same message, placed as Excel shows it (sheet, row, column letter and header); plus what only a
workbook can get wrong: formulas, merged cells, hidden rows, dates as serial numbers, the sheet.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sys
import tomllib
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, table

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "bad_inputs"
PBR = ROOT / "tests" / "data" / "pbr"
CONTRACT = "lcr-housing"
SHEET = "Data"
KINDS = ("flows", "outcomes", "participants")


def csv_cases() -> list[tuple[str, Path]]:
    """The corpus's CSV cases that a workbook can also carry (text encodings and CSV quoting
    are properties of CSV files, not of cells)."""
    cases = []
    for kind in KINDS:
        for path in sorted((CORPUS / kind).glob("*.csv")):
            try:
                text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
            except UnicodeDecodeError:
                continue
            if "\x00" in text or path.stem == "unclosed_quote":
                continue
            cases.append((kind, path))
    return cases


CASES = csv_cases()


@pytest.fixture(scope="module")
def base_db(sqlite_template, tmp_path_factory) -> Path:
    from ledger.funds import fund_setup_from_mapping
    from models.db import make_engine
    from models.flows_store import import_flows, save_setup
    from models.pbr_store import import_participants, load_contract
    from tests.pbr_fund import set_up_lcr_fund

    path = tmp_path_factory.mktemp("xlsx") / "base.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    setup = fund_setup_from_mapping(
        tomllib.loads((ROOT / "fixtures" / "funds" / "example_fund.toml").read_text()), "example_fund.toml")
    with engine.begin() as conn:
        save_setup(conn, setup)
        import_flows(conn, (ROOT / "fixtures" / "flows" / "example_flows.csv").read_text(), "example_flows.csv")
        set_up_lcr_fund(conn)  # the contract's own fund, beside the example fund
        load_contract(conn, (PBR / "contract.toml").read_text(), "contract.toml")
        import_participants(conn, CONTRACT, (PBR / "participants.csv").read_text(), "participants.csv")
    engine.dispose()
    return path


@pytest.fixture
def db(base_db, tmp_path):
    from models.db import make_engine

    path = tmp_path / "fuel.db"
    shutil.copyfile(base_db, path)
    engine = make_engine(f"sqlite:///{path}")
    yield f"sqlite:///{path}", engine
    engine.dispose()


def row_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {name: conn.execute(select(func.count()).select_from(table(name))).scalar_one()
                for name in sorted(inspect(conn).get_table_names())}  # fmt: skip


def run_cli(args: list[str], monkeypatch, capsys) -> tuple[int, str, str]:
    from ledger.shell.cli import main

    monkeypatch.setattr(sys, "argv", ["fuel", *args])
    capsys.readouterr()
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


def workbook(path: Path, rows: list[list], sheet: str = SHEET, as_text: bool = True, extra_sheets=()):
    """A workbook whose first sheet holds ``rows``; with ``as_text`` every cell is text, as a
    provider typing '=TODAY() (with Excel's leading apostrophe) would store it."""
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = sheet
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c, value=value)
            if as_text and isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"
    for name, extra_rows in extra_sheets:
        other = book.create_sheet(name)
        for values in extra_rows:
            other.append(values)
    book.save(path)
    return path


def command(kind: str, path: Path, url: str, *more: str) -> list[str]:
    return ["--db", url, *{
        "flows": ["import", "flows", str(path)],
        "outcomes": ["outcomes", "import", str(path), "--contract", CONTRACT, "--submitted-on", "2026-10-05"],
        "participants": ["participants", "import", str(path), "--contract", CONTRACT],
    }[kind], *more]


def letter(header: list[str], name: str) -> str:
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[[h.strip().lower() for h in header].index(name.lower())]


#: CSV cases whose mistake a workbook cannot make, or makes differently (the workbook's own
#: message is pinned beside it); ``None``: a workbook holding the same cells is valid input.
WORKBOOK_FORM: dict[str, str | None] = {
    # an empty column with an empty header is simply not there in a sheet
    "header_trailing_comma": None,
    # a value in a column with no header: Excel has no commas, so the message names the column letter
    "row_wider_than_header": "has values (first in row 2) but no header in row 1",
}


def as_workbook_message(line: str, stem: str, header: list[str]) -> str:
    """The CSV case's expected line as the same problem reads for the workbook."""
    line = line.replace(f"{stem}.csv", f"{stem}.xlsx, sheet {SHEET!r}")
    line = re.sub(r"row (\d+), column (\w+)(:|$)",
                  lambda m: f"row {m[1]}, column {letter(header, m[2])} ({m[2]}){m[3]}", line)
    return re.sub(r"row (\d+): (\w+):", lambda m: f"row {m[1]}, column {letter(header, m[2])} ({m[2]}):", line)


def test_the_workbook_corpus_covers_every_kind():
    assert len(CASES) >= 25
    assert {kind for kind, _ in CASES} == set(KINDS)


@pytest.mark.parametrize(("kind", "path"), CASES, ids=[f"{k}/{p.name}" for k, p in CASES])
def test_each_csv_bad_input_typed_into_a_workbook_is_refused_alike(kind, path, db, tmp_path, monkeypatch, capsys):
    url, engine = db
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8").removeprefix("\ufeff"))))
    submitted = workbook(tmp_path / f"{path.stem}.xlsx", rows)
    before = row_counts(engine)
    code, _, stderr = run_cli(command(kind, submitted, url), monkeypatch, capsys)
    assert "Traceback" not in stderr
    if path.stem in WORKBOOK_FORM and WORKBOOK_FORM[path.stem] is None:
        assert "no name" not in stderr  # the blank column is not there; whatever follows is not about it
        return
    assert code == 1, stderr
    assert stderr.startswith("error: ")
    header = rows[0] if rows else []
    expected = [line for line in path.with_suffix(".expected").read_text(encoding="utf-8").splitlines() if line.strip()]
    if path.stem in WORKBOOK_FORM:
        expected = [WORKBOOK_FORM[path.stem]]
    for line in expected:
        if line.startswith("re:"):
            assert re.search(line[3:], stderr), f"expected /{line[3:]}/ in:\n{stderr}"
            continue
        wanted = as_workbook_message(line, path.stem, header)
        assert wanted in stderr, f"expected {wanted!r} in:\n{stderr}"
    assert row_counts(engine) == before


OUTCOME_HEADER = ["participant_id", "outcome_id", "achieved_on", "evidence_ref", "submitted_on"]


def outcomes_frame(engine):
    import pandas as pd

    with engine.connect() as conn:
        return pd.read_sql("SELECT participant_id, outcome_id, achieved_on, evidence_ref FROM pbr_outcome_events "
                           "ORDER BY participant_id", conn)


def test_dates_as_excel_dates_serial_numbers_and_text_are_all_read(db, tmp_path, monkeypatch, capsys):
    url, engine = db
    path = workbook(tmp_path / "outcomes.xlsx", [
        OUTCOME_HEADER,
        ["P001", "entry", datetime(2026, 7, 1), "DOC-1", 46300],  # an Excel date cell; a serial number
        ["P002", "entry", 46205, "DOC-2", "2026-10-05"],  # 46205 is 2026-07-02
        ["P003", "entry", "2026-07-03", 3, date(2026, 10, 5)],  # text; a number as evidence stays "3"
    ], as_text=False)
    code, out, err = run_cli(command("outcomes", path, url, "--json"), monkeypatch, capsys)
    assert code == 0, err
    assert json.loads(out)["added"] == 3
    frame = outcomes_frame(engine)
    assert [str(d)[:10] for d in frame["achieved_on"]] == ["2026-07-01", "2026-07-02", "2026-07-03"]
    assert list(frame["evidence_ref"]) == ["DOC-1", "DOC-2", "3"]


def test_reimporting_the_same_workbook_adds_nothing(db, tmp_path, monkeypatch, capsys):
    url, _ = db
    path = workbook(tmp_path / "outcomes.xlsx", [OUTCOME_HEADER, ["P001", "entry", "2026-07-01", "DOC-1", "2026-10-05"]])
    assert run_cli(command("outcomes", path, url), monkeypatch, capsys)[0] == 0
    code, out, err = run_cli(command("outcomes", path, url, "--json"), monkeypatch, capsys)
    assert code == 0, err
    assert json.loads(out)["status"] == "already imported"


def test_a_formula_is_refused_naming_the_cell(db, tmp_path, monkeypatch, capsys):
    url, engine = db
    path = workbook(tmp_path / "outcomes.xlsx", [
        OUTCOME_HEADER, ["P001", "entry", "=TODAY()", "DOC-1", "2026-10-05"],
        ["P002", "entry", "2026-07-02", '=CONCAT("DOC-","2")', "2026-10-05"],
    ], as_text=False)
    before = row_counts(engine)
    code, _, err = run_cli(command("outcomes", path, url), monkeypatch, capsys)
    assert code == 1
    assert "outcomes.xlsx, sheet 'Data': row 2, column C (achieved_on): a formula (=TODAY()); paste values only" in err
    assert "row 3, column D (evidence_ref): a formula" in err
    assert row_counts(engine) == before


def test_merged_cells_and_hidden_rows_and_columns_are_reported(db, tmp_path, monkeypatch, capsys):
    from openpyxl import load_workbook

    url, engine = db
    path = workbook(tmp_path / "outcomes.xlsx", [
        OUTCOME_HEADER, ["P001", "entry", "2026-07-01", "DOC-1", "2026-10-05"],
        ["P002", "entry", "2026-07-02", "DOC-2", "2026-10-05"], ["P003", "entry", "2026-07-03", "DOC-3", "2026-10-05"],
    ])
    book = load_workbook(path)
    ws = book.active
    ws.merge_cells("E2:E3")
    ws.row_dimensions[4].hidden = True
    ws.column_dimensions["D"].hidden = True
    book.save(path)
    before = row_counts(engine)
    code, _, err = run_cli(command("outcomes", path, url), monkeypatch, capsys)
    assert code == 1
    assert "workbook rejected (3 problems)" in err
    assert "cells E2:E3 are merged" in err
    assert "row 4 is hidden" in err
    assert "column D (evidence_ref) is hidden" in err
    assert row_counts(engine) == before


def test_the_sheet_option_reads_the_second_sheet_and_names_unknown_ones(db, tmp_path, monkeypatch, capsys):
    url, engine = db
    path = workbook(tmp_path / "outcomes.xlsx", [["Notes"], ["fill in the Outcomes sheet"]], sheet="Read me",
                    extra_sheets=[("Outcomes", [OUTCOME_HEADER, ["P001", "entry", "2026-07-01", "DOC-1", "2026-10-05"]])])
    code, _, err = run_cli(command("outcomes", path, url, "--sheet", "Nope"), monkeypatch, capsys)
    assert code == 1 and "no sheet named 'Nope' (sheets: Read me, Outcomes)" in err
    code, _, err = run_cli(command("outcomes", path, url), monkeypatch, capsys)
    assert code == 1 and "sheet 'Read me'" in err  # the first sheet by default
    code, out, err = run_cli(command("outcomes", path, url, "--sheet", "Outcomes", "--json"), monkeypatch, capsys)
    assert code == 0, err
    assert json.loads(out)["added"] == 1


def test_a_file_that_is_not_a_workbook_is_refused(db, tmp_path, monkeypatch, capsys):
    url, _ = db
    path = tmp_path / "outcomes.xlsx"
    path.write_text("participant_id,outcome_id\n")
    code, _, err = run_cli(command("outcomes", path, url), monkeypatch, capsys)
    assert code == 1 and "outcomes.xlsx: not a readable Excel .xlsx workbook" in err and "Traceback" not in err
    old = tmp_path / "outcomes.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    code, _, err = run_cli(command("outcomes", old, url), monkeypatch, capsys)
    assert code == 1 and "the old .xls format is not read" in err


def test_flows_from_a_workbook_with_numbers_and_dates_post(db, tmp_path, monkeypatch, capsys):
    url, engine = db
    rows = list(csv.reader(io.StringIO((ROOT / "fixtures" / "flows" / "example_flows.csv").read_text())))
    header = rows[0]
    typed = [header, [datetime(2026, 9, 1) if h == "date" else 250.5 if h == "amount" else ""
                      for h in header]]  # fmt: skip
    for h, v in {"event": "fee", "fund": "lcr-outcomes", "source": "social_investment", "form": "expense", "tranche": "senior",
                 "description": "typed in Excel"}.items():
        typed[1][header.index(h)] = v
    path = workbook(tmp_path / "flows.xlsx", typed, as_text=False)
    code, out, err = run_cli(command("flows", path, url, "--json"), monkeypatch, capsys)
    assert code == 0, err
    assert json.loads(out)["posted"] == 1
    from sqlalchemy import text

    with engine.connect() as conn:
        pence = conn.execute(text("SELECT MAX(amount_pence) FROM postings WHERE entry_id = "
                                  "(SELECT MAX(id) FROM journal_entries)")).scalar_one()
    assert pence == 25050


def test_a_bad_amount_in_a_workbook_names_the_column_letter(db, tmp_path, monkeypatch, capsys):
    url, _ = db
    header = ["event", "date", "fund", "amount", "source", "form"]
    path = workbook(tmp_path / "flows.xlsx", [header, ["fee", "2026-09-01", "lcr-outcomes", "£10.00",
                                                       "social_investment", "expense"]])
    code, _, err = run_cli(command("flows", path, url), monkeypatch, capsys)
    assert code == 1
    assert "row 2, column D (amount): amount '£10.00' is not a plain amount" in err


MECHANISMS = ('\n[[mechanisms]]\nkind = "baseline_reduction"\nbaseline_units = 10000\nprice_per_unit = "120.50"\n'
              'cap = "80000.00"\n\n[[mechanisms]]\nkind = "cohort_comparison"\nprice_per_event = "5000.00"\n'
              'cohort_threshold = "0.1"\noverall_threshold = "0.075"\n')


def test_mechanism_figures_from_a_workbook_price_like_the_toml(db, tmp_path, monkeypatch, capsys):
    from ledger.pbr.mechanism_inputs import compute_mechanism
    from ledger.periods import Period
    from models.pbr_store import get_contract, load_contract

    url, engine = db
    text = (PBR / "contract.toml").read_text().replace('id = "lcr-housing"', 'id = "lcr-mech"', 1) + MECHANISMS
    with engine.begin() as conn:
        load_contract(conn, text, "contract.toml")
        mechanisms = get_contract(conn, "lcr-mech").mechanisms
    units = workbook(tmp_path / "units.xlsx", [["actual_units"], [9200]], as_text=False)
    args = ["--db", url, "claims", "mechanism", "--contract", "lcr-mech", "--period", "2026Q3", "--json"]
    code, out, err = run_cli([*args, "--data", str(units)], monkeypatch, capsys)
    assert code == 0, err
    assert json.loads(out)["payment_pence"] == 8_000_000  # 800 units at 120.50 = 96,400.00, capped at 80,000.00

    cohorts = [["name", "intervention_size", "intervention_events", "comparison_size", "comparison_events"],
               ["c1", 1000, 720, 1000, 800], ["c2", 500, 300, 500, 400]]
    path = workbook(tmp_path / "cohorts.xlsx", cohorts, as_text=False)
    code, out, err = run_cli([*args, "--index", "1", "--data", str(path)], monkeypatch, capsys)
    assert code == 0, err
    figures = {"cohorts": [dict(zip(cohorts[0], row)) for row in cohorts[1:]]}
    kind, params = mechanisms[1]
    assert json.loads(out)["payment_pence"] == compute_mechanism(kind, dict(params), figures, Period.parse("2026Q3"))[0]

    bad = workbook(tmp_path / "bad.xlsx", [cohorts[0], ["c1", 1000, "lots", 1000, 800]])
    code, _, err = run_cli([*args, "--index", "1", "--period", "2026Q4", "--data", str(bad)], monkeypatch, capsys)
    assert code == 1
    assert "bad.xlsx, sheet 'Data': row 2, column C (intervention_events): must be a whole number, got 'lots'" in err


def test_templates_are_blank_workbooks_with_outcome_lists_and_notes_that_import(db, tmp_path, monkeypatch, capsys):
    from openpyxl import load_workbook

    url, _ = db
    code, out, err = run_cli(["--db", url, "templates", "--contract", CONTRACT, "--out", str(tmp_path / "t")],
                             monkeypatch, capsys)
    assert code == 0, err
    book = load_workbook(tmp_path / "t" / "outcomes.xlsx")
    assert book.sheetnames == ["Outcomes", "Outcome ids", "Notes"]
    assert [c.value for c in book["Outcomes"][1]] == OUTCOME_HEADER
    ids = [row[0] for row in book["Outcome ids"].iter_rows(min_row=2, values_only=True)]
    assert ids == ["entry", "sustained_3m", "employment_13w", "self_employment_13w"]
    (check,) = book["Outcomes"].data_validations.dataValidation
    assert check.type == "list" and check.formula1 == "'Outcome ids'!$A$2:$A$5" and "B2" in str(check.sqref)
    notes = [row[0] for row in book["Notes"].iter_rows(values_only=True)]
    assert "achieved_on" in notes and any("formulas" in (n or "") for n in notes)
    # a provider fills it in: the first sheet imports as it is
    ws = book["Outcomes"]
    for column, value in enumerate(["P001", "entry", datetime(2026, 7, 1), "DOC-1", datetime(2026, 10, 5)], start=1):
        ws.cell(row=2, column=column, value=value)  # the rows below stay formatted but empty
    book.save(tmp_path / "t" / "outcomes.xlsx")
    code, out, err = run_cli(command("outcomes", tmp_path / "t" / "outcomes.xlsx", url, "--json"), monkeypatch, capsys)
    assert code == 0, err
    assert json.loads(out)["added"] == 1
    participants = load_workbook(tmp_path / "t" / "participants.xlsx")
    assert [c.value for c in participants.active[1]] == ["participant_id", "start_date", "cohort"]
