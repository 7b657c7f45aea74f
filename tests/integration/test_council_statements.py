"""Council outcome payment statements from stored claim runs, on SQLite and PostgreSQL.

The scenario (tests/data/pbr, figures hand-checked in tests/integration/test_pbr_store.py):
2026Q3 is run, line 5 disputed, approved, invoiced, paid, sampled (lines 1, 4, 3) and
re-checked (line 3 invalid: recovery 800); 2026Q4 is run and takes the 800 clawback. The
contract has two payers: the council (remainder, cap 8,000) and a central top-up fund (30%,
cap 2,500, which cuts its share of the last Q4 line by 50).

Golden files in tests/golden/council (update on purpose with FUEL_UPDATE_GOLDEN=1); both
backends must give byte-identical documents.
"""

from __future__ import annotations

import csv
import io
import os
import re
from datetime import date
from pathlib import Path

import pytest

from ledger.pbr.contracts import load_contract_toml
from ledger.pbr.plans import plans_from_frame
from ledger.pbr.verify import verify_statement_csv
from models import pbr_store as store
from reports.council import render_csv, render_html, render_json, statement_for

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "pbr"
GOLDEN = ROOT / "tests" / "golden" / "council"
C = "lcr-housing"
CONTRACT = load_contract_toml((DATA / "contract.toml").read_text(), "contract.toml")


def plans():
    import pandas as pd

    frame = pd.read_csv(ROOT / "tests" / "data" / "council" / "plans.csv", dtype=str, keep_default_na=False, comment="#")
    return plans_from_frame(frame)[0]


@pytest.fixture
def scenario(engine):
    with engine.begin() as conn:
        store.load_contract(conn, (DATA / "contract.toml").read_text(), "contract.toml", "tester")
        store.import_participants(conn, C, (DATA / "participants.csv").read_text(), "participants.csv", "tester")
        store.import_outcomes(conn, C, (DATA / "outcomes_q3.csv").read_text(), "outcomes_q3.csv", "tester")
        store.run_claims(conn, C, "2026Q3", "tester")
    with engine.begin() as conn:
        q3_validated = statement_for(conn, C, "2026Q3")
    with engine.begin() as conn:
        store.dispute_line(conn, C, "2026Q3", 5, "no tenancy evidence", "council-officer")
        store.approve(conn, C, "2026Q3", date(2026, 10, 20), "council-officer")
        store.invoice(conn, C, "2026Q3", "INV-2026Q3", "fund-manager")
        store.pay(conn, C, "2026Q3", date(2026, 11, 2), "fund-manager")
        store.draw_sample(conn, C, "2026Q3", 3, "2026", "council-officer")
        store.record_recheck(conn, C, "2026Q3", [3], "extrapolate", "council-officer")
        store.import_outcomes(conn, C, (DATA / "outcomes_q4.csv").read_text(), "outcomes_q4.csv", "tester")
        store.run_claims(conn, C, "2026Q4", "tester")
    with engine.connect() as conn:
        return {
            "q3_validated": q3_validated,
            "q3_paid": statement_for(conn, C, "2026Q3", "council"),
            "q4_council": statement_for(conn, C, "2026Q4", "council", plans()),
            "q4_central": statement_for(conn, C, "2026Q4", "central", plans()),
            "q4_all": statement_for(conn, C, "2026Q4", None, plans()),
        }


def _check_golden(name: str, text: str) -> None:
    # The footer's ledger tip hashes the entries' recorded times: its count is compared, not its hash.
    text = re.sub(r"\b(\d+):[0-9a-f]{64}\b", r"\1:TIP-HASH", text)
    path = GOLDEN / name
    if os.environ.get("FUEL_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    assert path.exists(), f"{path} missing: run with FUEL_UPDATE_GOLDEN=1 once, on purpose"
    with path.open(encoding="utf-8", newline="") as handle:
        assert text == handle.read(), f"{name} differs from the golden file (FUEL_UPDATE_GOLDEN=1 to accept on purpose)"


def test_statements_match_golden_files_on_both_backends(scenario):
    for key in ("q3_validated", "q3_paid", "q4_council"):
        statement = scenario[key]
        html = render_html(statement)
        assert html == render_html(statement), "HTML is not deterministic"
        _check_golden(f"{key}.html", html)
        _check_golden(f"{key}.csv", render_csv(statement))
    _check_golden("q4_council.json", render_json(scenario["q4_council"]))


def test_every_generated_statement_re_derives_from_the_contract(scenario):
    for key, statement in scenario.items():
        result = verify_statement_csv(render_csv(statement), CONTRACT)
        assert result.ok, f"{key}: " + "\n".join(d.text() for d in result.differences)
        assert result.lines_checked == len(statement.rows("annex"))


def _tamper(text: str, line_no: int, column: str, value: str) -> str:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    start = rows.index(["[annex]"])
    header = rows[start + 1]
    for row in rows[start + 2:]:
        if not row:
            break
        if row[0] == str(line_no):
            row[header.index(column)] = value
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def test_tampering_with_one_annex_line_is_named_by_verify(scenario):
    text = render_csv(scenario["q4_council"])
    assert verify_statement_csv(text, CONTRACT).ok
    # line 1 of Q4: P003 sustained_3m on 2026-10-10 paid 1,500; claim 1,600 instead
    tampered = _tamper(text, 1, "net_pence", "160000")
    result = verify_statement_csv(tampered, CONTRACT)
    assert [d.text() for d in result.differences] == [
        "annex line 1 (participant P003, outcome sustained_3m, achieved 2026-10-10): net_pence: "
        "statement says 160000, re-derived 150000"
    ]
    # a raised unit price on another line is named too, with the fields it changes
    result = verify_statement_csv(_tamper(text, 2, "price_pence", "60000"), CONTRACT)
    assert {d.where for d in result.differences} == {
        "annex line 2 (participant P004, outcome entry, achieved 2026-10-12)"}
    # a payer share moved between payers on a line
    moved = _tamper(_tamper(text, 2, "share_council_pence", "34000"), 2, "share_central_pence", "16000")
    fields = [(d.where.split(" (")[0], d.field) for d in verify_statement_csv(moved, CONTRACT).differences]
    assert fields == [("annex line 2", "share_council_pence"), ("annex line 2", "share_central_pence")]


def test_a_changed_total_row_is_named(scenario):
    text = render_csv(scenario["q4_council"]).replace("\r\ndue_pence,", "\r\ndue_pence,9")
    result = verify_statement_csv(text, CONTRACT)
    assert [d.where for d in result.differences] == ["totals: due_pence"]


def test_two_payers_with_a_central_top_up_each_payer_amount_and_headroom_shown(scenario):
    statement = scenario["q4_all"]
    shares = {r["payer_id"]: r for r in statement.rows("payer_shares")}
    # Hand-checked: the disputed Q3 line (P002 sustained_3m) does not count against caps, so
    # Q3 brought forward is central 1,200, P002 500, sustained_3m 1 line. Q4 lines: P003
    # sustained_3m 1,500; P004 entry 500; P004 sustained_3m 1,500 (3rd of the count cap);
    # P002 employment_13w 1,200 (P002 at 1,700 of 3,000). Central's 30%: 450 + 150 + 450 +
    # 360 = 1,410 but only 2,500 - 1,200 = 1,300 is left: the last line's central share is
    # cut by 110. Net 4,700 - 110 = 4,590; clawback 800 from the Q3 sample.
    assert shares["central"]["share"] == "0.30" and shares["council"]["share"] == "remainder"
    assert shares["central"]["payer_cap_reduction_pence"] == 11_000
    assert (shares["central"]["claimed_pence"], shares["council"]["claimed_pence"]) == (130_000, 329_000)
    assert statement.totals["net_pence"] == 459_000
    assert shares["central"]["claimed_pence"] + shares["council"]["claimed_pence"] == statement.totals["net_pence"]
    assert sum(r["clawback_pence"] for r in shares.values()) == statement.totals["clawback_pence"] == 80_000
    assert sum(r["due_pence"] for r in shares.values()) == statement.totals["due_pence"]
    for line in statement.rows("annex"):  # every line's shares add up to its net, to the penny
        assert line["share_council_pence"] + line["share_central_pence"] == line["net_pence"]
    for payer in ("council", "central"):
        line_total = sum(line[f"share_{payer}_pence"] for line in statement.rows("annex"))
        assert line_total == shares[payer]["claimed_pence"]
    headroom = {(r["scope"], r["key"]): r for r in statement.rows("headroom")}
    assert headroom[("payer", "central")]["cap"] == 250_000 and headroom[("payer", "central")]["headroom"] == 0
    assert headroom[("payer", "council")]["headroom"] == 800_000 - headroom[("payer", "council")]["cumulative"]
    html = render_html(scenario["q4_central"])
    assert "Amount due from Central top-up fund" in html
    for payer in ("council", "central"):
        row = shares[payer]
        assert f"{row['due_pence'] // 100:,}.{row['due_pence'] % 100:02d}" in html
        assert f"<td>payer</td><td>{payer}</td>" in html


def test_plan_versus_actual_uses_the_latest_plan_version(scenario):
    statement = scenario["q4_council"]
    header = statement.header
    assert (header["plan_version"], header["plan_made_on"], header["plan_as_of"]) == ("v2", "2026-06-30", "2026-12-31")
    plan = {r["quarter"]: r for r in statement.rows("plan_vs_actual")}
    assert plan["2026Q3"]["actual_pence"] == 400_000 and plan["2026Q3"]["variance_pence"] == 400_000 - 520_000
    assert plan["2027Q1"]["status"] == "future"


def test_the_narrative_states_the_statements_own_totals(scenario):
    """Each figure the council narrative states equals the statement's total or the addressed
    payer's amount due, and is linked, formatted, in its sentence."""
    from reports.council import render_html
    from reports.narrative import council_narrative

    for key, statement in scenario.items():
        totals = statement.totals
        shares = {r["payer_id"]: r for r in statement.rows("payer_shares")}
        expected = {"claimed": totals["lines_claimed"], "validated": totals["lines_validated"],
                    "rejected": totals["lines_rejected"], "gross": totals["gross_pence"],
                    "caps": totals["cap_reductions_pence"], "net": totals["net_pence"],
                    "due": shares[statement.addressee]["due_pence"] if statement.addressee else totals["due_pence"]}
        sentences = council_narrative(statement)
        stated = {f.name: f.value for s in sentences for f in s.figures}
        assert stated == expected, key
        html = render_html(statement)
        for sentence in sentences:
            assert sentence.html() in html
            assert all(f.shown in sentence.text for f in sentence.figures)
