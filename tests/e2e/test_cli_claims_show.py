"""`fuel claims show` reads in a terminal of any width and when piped (issue 18 item 6): money in
pounds in the header, the per-outcome table when it fits, and every claim line as a record (like
psql's expanded display) when the lines table would not; --csv and --json stay complete."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "pbr"
C = ("--contract", "lcr-housing")


def claimed(fuel):
    fuel("contracts", "load", str(DATA / "contract.toml"))
    fuel("participants", "import", str(DATA / "participants.csv"), *C)
    fuel("outcomes", "import", str(DATA / "outcomes_q3.csv"), *C)
    fuel("claims", "run", *C, "--period", "2026Q3")
    return fuel


def test_the_summary_header_is_in_pounds_and_the_table_keeps_every_column(fuel):
    out = claimed(fuel)("claims", "show", *C, "--period", "2026Q3").stdout
    assert "net 5,500.00 GBP, clawback 0.00 GBP, due 5,500.00 GBP" in out.splitlines()[0]
    assert "pence" not in out.splitlines()[0]
    for heading in ("outcome id", "unit price", "count validated", "cap reductions", "net"):
        assert heading in out  # a table that fits: no column squeezed to nothing
    assert "1,500.00" in out


def test_lines_too_wide_for_the_screen_are_shown_as_records_and_csv_json_stay_complete(fuel):
    fuel = claimed(fuel)
    out = fuel("claims", "show", *C, "--period", "2026Q3", "--lines").stdout
    records = [line for line in out.splitlines() if line.startswith("-[ ")]
    assert records[0].startswith("-[ 1 of 11 ]") and len(records) == 11
    first = out.split("-[ 2 of 11 ]")[0]
    for name, value in (("participant id", "P001"), ("outcome id", "entry"), ("achieved on", "2026-07-01"),
                        ("net", "500.00"), ("participant headroom", "2,500.00")):
        assert any(line.startswith(name) and line.rstrip().endswith(value) for line in first.splitlines()), name
    table = list(csv.DictReader(io.StringIO(fuel("claims", "show", *C, "--period", "2026Q3", "--lines", "--csv").stdout)))
    payload = json.loads(fuel("claims", "show", *C, "--period", "2026Q3", "--json").stdout)
    assert len(table) == 11 and set(table[0]) == set(payload["lines"][0])  # every column, in pence
    assert table[0]["net_pence"] == "50000"
