"""`fuel export journal --format xero|sage`: one journal per ledger entry in the column layout
Xero's manual journal import and Sage 50's audit trail import read, each journal balancing to
the penny, every line of the fund there once, Xero's 300-line files never splitting a journal,
tracking for source and project, the account map as data, and bad input refused with nothing
written."""

from __future__ import annotations

import csv
import sqlite3
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from reports import journal_export as je
from tests.e2e.conftest import REPO
from tests.opendata.conftest import FUND

MAP = REPO / "fixtures" / "journal" / "account_map.toml"


def rows_of(paths: list[Path]) -> list[dict]:
    out = []
    for path in paths:
        with path.open(encoding="utf-8", newline="") as handle:
            out.append(list(csv.DictReader(handle)))
    return out


def pence(text: str) -> int:
    return int(Decimal(text) * 100)


def fund_balances(db: Path, fund: str) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {a: int(v) for a, v in conn.execute("select account_code, sum(amount_pence) from postings where fund = ? "
                                                   "group by account_code", (fund,))}  # fmt: skip


def test_xero_journals_balance_track_source_and_project_and_fit_in_300_line_files(demo, tmp_path):
    result = demo("export", "journal", "--format", "xero", "--fund", FUND, "--out", str(tmp_path / "xero.csv"))
    assert result.stderr == "" and "each balancing" in result.stdout
    paths = sorted(tmp_path.glob("xero*.csv"))
    # Over 300 lines the export is xero-001.csv, xero-002.csv, ... (the full demo is; this one may not be).
    assert paths == [tmp_path / "xero.csv"] or paths[0].name == "xero-001.csv"
    files = rows_of(paths)
    header = next(csv.reader(paths[0].open(encoding="utf-8")))
    assert tuple(header) == je.XERO_COLUMNS
    codes = {t["xero"] for t in je.parse_account_map(MAP.read_text(), "map").codes.values()}
    journals: dict[tuple[str, str], int] = defaultdict(int)
    file_of: dict[tuple[str, str], int] = {}
    by_code: dict[str, int] = defaultdict(int)
    for index, rows in enumerate(files):
        assert len(rows) <= je.XERO_LINES_MAX
        for row in rows:
            key = (row["*Narration"], row["*Date"])
            assert file_of.setdefault(key, index) == index  # a journal is never split across files
            journals[key] += pence(row["*Amount"])
            by_code[row["*AccountCode"]] += pence(row["*Amount"])
            assert row["*AccountCode"] in codes and row["*TaxRate"] == "No VAT"
            assert row["*Narration"].startswith(f"{FUND} #")
            day, month, year = row["*Date"].split("/")
            assert len(day) == 2 and len(month) == 2 and len(year) == 4
            assert row["*Amount"].lstrip("-").count(".") == 1 and len(row["*Amount"].split(".")[1]) == 2
            if row["TrackingOption1"]:
                assert row["TrackingName1"] == "Source of money"
                assert row["TrackingOption1"] in ("social_investment", "charitable", "public")
            if row["TrackingOption2"]:
                assert row["TrackingName2"] == "Project"
    assert journals and all(total == 0 for total in journals.values())  # each journal balances
    mapping = je.parse_account_map(MAP.read_text(), "map")
    expected: dict[str, int] = defaultdict(int)
    for account, total in fund_balances(demo.db, FUND).items():
        expected[mapping.codes[account]["xero"]] += total
    assert dict(by_code) == {k: v for k, v in expected.items() if v or k in by_code}  # every line, to the penny
    assert any(r["TrackingOption2"] for rows in files for r in rows)


def test_sage_journals_are_jd_jc_pairs_that_balance_with_departments_from_the_map(demo, tmp_path):
    custom = tmp_path / "map.toml"
    custom.write_text(MAP.read_text().replace("departments = {}", 'departments = { "complex-needs" = 7 }'))
    demo("export", "journal", "--format", "sage", "--fund", FUND, "--map", str(custom), "--out", str(tmp_path / "sage.csv"))
    (rows,) = rows_of([tmp_path / "sage.csv"])
    assert tuple(next(csv.reader((tmp_path / "sage.csv").open()))) == je.SAGE_COLUMNS
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        assert row["Type"] in ("JD", "JC") and pence(row["Net Amount"]) > 0 and row["Tax Code"] == "T9"
        totals[row["Reference"]] += pence(row["Net Amount"]) * (1 if row["Type"] == "JD" else -1)
        assert len(row["Details"]) <= 60 and len(row["Reference"]) <= 30 and len(row["Extra Reference"]) <= 30
        if row["Extra Reference"].endswith("/complex-needs"):
            assert row["Department Code"] == "7"
    assert totals and all(v == 0 for v in totals.values())
    assert any(r["Department Code"] == "7" for r in rows)


def test_text_from_the_ledger_cannot_run_as_a_formula_and_a_date_range_selects_journals(example, tmp_path):
    example("record", "fee", "--amount", "10.00", "--source", "social_investment", "--tranche", "senior", "--form",
            "expense", "--date", "2026-04-02", "--fund", "lcr-outcomes", "--description", "=HYPERLINK(\"x\")")  # fmt: skip
    out = tmp_path / "j.csv"
    example("export", "journal", "--format", "xero", "--fund", "lcr-outcomes", "--from", "2026-04-01", "--out", str(out))
    (rows,) = rows_of([out])
    assert rows and all(r["*Date"] == "02/04/2026" for r in rows)
    assert all(r["*Narration"].startswith("lcr-outcomes #") for r in rows)
    assert not any(cell.startswith("=") for r in rows for cell in r.values())


@pytest.mark.parametrize("args, message", [
    (["--format", "quickbooks"], "choose xero or sage"),
    (["--out", "j.txt"], "must end in .csv"),
    (["--out", "missing/j.csv"], "does not exist"),
    (["--fund", "nope"], "fund 'nope' is not known"),
    (["--from", "2031-01-01"], "no entries from 2031-01-01"),
    (["--map", "nocash.toml"], "Fuel account 'cash' has no xero code"),
    (["--map", "badtracking.toml"], "xero.tracking must be two of fund, source, project"),
    (["--map", "broken.toml"], "not valid TOML"),
])  # fmt: skip
def test_bad_input_is_one_line_and_writes_nothing(example, tmp_path, args, message):
    text = MAP.read_text()
    (tmp_path / "nocash.toml").write_text("\n".join(l for l in text.splitlines() if not l.startswith("cash ")))
    (tmp_path / "badtracking.toml").write_text(text.replace('tracking = ["source", "project"]', 'tracking = ["source"]'))
    (tmp_path / "broken.toml").write_text("[accounts\n")
    options = {"--format": "xero", "--fund": "lcr-outcomes", "--out": "j.csv"}
    for flag, value in zip(args[::2], args[1::2]):
        options[flag] = str(tmp_path / value) if "." in value and not value[0].isdigit() else value
    result = example("export", "journal", *[x for kv in options.items() for x in kv], ok=False)
    assert result.returncode == 1 and message in result.stderr, result.stderr
    assert not list(tmp_path.glob("j*.csv")) and not (REPO / "j.csv").exists()


def test_files_pack_whole_journals():
    journals = [[["a"]] * 2, [["b"]] * 2, [["c"]] * 1]
    assert [len(f) for f in je.split_files(journals, 3)] == [2, 3]
    with pytest.raises(Exception, match="more than one file may hold"):
        je.split_files([[["big"]] * 4], 3)


def test_more_lines_than_a_xero_file_holds_are_numbered_files_of_whole_journals(demo, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from ledger.shell.cli import app

    monkeypatch.setattr(je, "XERO_LINES_MAX", 40)
    result = CliRunner().invoke(app, ["--db", f"sqlite:///{demo.db}", "export", "journal", "--format", "xero",
                                      "--fund", FUND, "--out", str(tmp_path / "x.csv")])  # fmt: skip
    assert result.exit_code == 0, result.output
    paths = sorted(tmp_path.glob("x-*.csv"))
    assert len(paths) > 2 and not (tmp_path / "x.csv").exists()
    seen: dict[str, Path] = {}
    for path, rows in zip(paths, rows_of(paths)):
        assert 0 < len(rows) <= 40
        for row in rows:
            assert seen.setdefault(row["*Narration"], path) == path
