"""Fund manager reports on SQLite and PostgreSQL: the example fund (fixtures/funds,
fixtures/flows) plus the lcr-housing outcomes contract's 2026Q3 claim paid, against a
versioned forecast. Golden HTML, CSV and JSON in tests/golden/reports (update on purpose with
FUEL_UPDATE_GOLDEN=1); both backends give byte-identical files."""

from __future__ import annotations

import os
import tomllib
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ledger.funds import fund_setup_from_mapping
from ledger.pbr.plans import plans_from_frame
from models import pbr_store as store
from models.flows_store import import_flows, save_setup
from tests.pbr_fund import set_up_lcr_fund
from reports import fund_reports as fr

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "reports"
PBR = ROOT / "tests" / "data" / "pbr"
AS_OF = date(2026, 12, 31)


@pytest.fixture
def fund(engine):
    setup = ROOT / "fixtures" / "funds" / "example_fund.toml"
    flows = ROOT / "fixtures" / "flows" / "example_flows.csv"
    with engine.begin() as conn:
        save_setup(conn, fund_setup_from_mapping(tomllib.loads(setup.read_text()), setup.name), "tester")
        import_flows(conn, flows.read_text(), flows.name, "tester")
        set_up_lcr_fund(conn)  # the contract's own fund, beside the example fund
        store.load_contract(conn, (PBR / "contract.toml").read_text(), "contract.toml", "tester")
        store.import_participants(conn, "lcr-housing", (PBR / "participants.csv").read_text(), "participants.csv")
        store.import_outcomes(conn, "lcr-housing", (PBR / "outcomes_q3.csv").read_text(), "outcomes_q3.csv")
        store.run_claims(conn, "lcr-housing", "2026Q3")
        store.approve(conn, "lcr-housing", "2026Q3", date(2026, 10, 20))
        store.invoice(conn, "lcr-housing", "2026Q3", "INV-1")
        store.pay(conn, "lcr-housing", "2026Q3", date(2026, 11, 2))
    frame = pd.read_csv(ROOT / "tests" / "data" / "council" / "plans.csv", dtype=str, keep_default_na=False, comment="#")
    plans = plans_from_frame(frame)[0]
    with engine.connect() as conn:
        return {
            "trial_balance": fr.trial_balance_report(conn, AS_OF),
            "sources_uses": fr.sources_uses_report(conn, AS_OF, "lcr-outcomes"),
            "restrictions": fr.restrictions_report(conn, AS_OF, "lcr-outcomes"),
            "deployment": fr.deployment_report(conn, AS_OF, "lcr-outcomes"),
            "outcome_pipeline": fr.outcome_pipeline_report(conn, {"lcr-housing": plans}, AS_OF),
            "cash": fr.cash_report(conn, AS_OF, "lcr-outcomes"),
        }


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("FUEL_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    assert path.exists(), f"{path} missing: run with FUEL_UPDATE_GOLDEN=1 once, on purpose"
    with path.open(encoding="utf-8", newline="") as handle:
        assert text == handle.read(), f"{name} differs from the golden file (FUEL_UPDATE_GOLDEN=1 to accept on purpose)"


def test_reports_match_golden_files_on_both_backends(fund):
    for name, report in fund.items():
        html = fr.render_report_html(report)
        assert html == fr.render_report_html(report), f"{name}: HTML is not deterministic"
        assert "<svg" in html, f"{name}: no chart"
        _check_golden(f"{name}.html", html)
        _check_golden(f"{name}.csv", fr.to_csv(report))
        _check_golden(f"{name}.json", fr.to_json(report))


def test_trial_balance_nets_to_zero_and_sources_equal_uses(fund):
    assert sum(r["net_pence"] for r in fund["trial_balance"].rows) == 0
    for row in fund["sources_uses"].rows:
        assert row["total_sources_pence"] == row["total_uses_pence"]


def test_outcome_pipeline_uses_the_latest_plan_and_actual_payments(fund):
    rows = {r["quarter"]: r for r in fund["outcome_pipeline"].tables[0].rows}
    assert {r["plan_version"] for r in rows.values()} == {"v2"}
    assert rows["2026Q3"]["actual_pence"] == 550_000 and rows["2026Q3"]["planned_pence"] == 520_000
    assert rows["2027Q1"]["status"] == "future" and rows["2027Q1"]["variance_pence"] == 0
    summary = fund["outcome_pipeline"].tables[1].rows[0]
    assert summary["planned_remaining_pence"] == 250_000


def test_cash_and_upcoming_drawdowns_tie_to_commitments(fund):
    from models.flows_store import commitment_status

    cash, drawdowns = fund["cash"].tables
    for r in drawdowns.rows:
        assert r["called_unpaid_pence"] == r["called_pence"] - r["received_pence"] >= 0
        assert r["unfunded_pence"] == max(r["committed_pence"] - r["called_pence"], 0)
    assert sum(r["cash_pence"] for r in cash.rows) > 0
