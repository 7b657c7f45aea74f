"""Local VCSE capacity in the database (models/vcse_store.py, reports/vcse_reports.py) on SQLite
and PostgreSQL: the example fund's disbursements, by its providers' profiles, pinned to the penny;
profiles replaced by a later load; areas checked."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest

from ledger.errors import ImportRejected, NotFound
from ledger.funds import fund_setup_from_mapping
from ledger.vcse import Organisation
from models.flows_store import import_flows, save_setup
from models.vcse_store import fund_areas, organisations, set_fund_areas, store_organisations
from reports.vcse_reports import vcse_report

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fund(engine):
    setup = ROOT / "fixtures" / "funds" / "example_fund.toml"
    flows = ROOT / "fixtures" / "flows" / "example_flows.csv"
    with engine.begin() as conn:
        save_setup(conn, fund_setup_from_mapping(tomllib.loads(setup.read_text()), setup.name), "tester")
        import_flows(conn, flows.read_text(), flows.name, "tester")
        store_organisations(conn, [Organisation("ageing-well", "charity", "small", "E08000012"),
                                   Organisation("youth-futures", "cic", "medium", "E08000011"),
                                   Organisation("homes-first", "private", "large", "E08000012")], "t.csv", "tester")
        set_fund_areas(conn, "lcr-outcomes", ["E08000012", "e08000011"])
    return engine


def test_disbursements_to_local_vcse_providers_to_the_penny(fund):
    with fund.connect() as conn:
        report = vcse_report(conn, "lcr-outcomes", None, date(2026, 12, 31))
    rows = {(r["group"], r["quarter"], r["measure"]): r for r in report.tables[0].rows}
    q1 = rows[("fund", "2026Q1", "delivery")]
    # aw-homecare 150,000.00 + 30,000.00 (ageing-well: local charity), yf-mentoring 60,000.00
    # (youth-futures: local CIC), hf-tenancy 20,000.00 (homes-first: private)
    assert (q1["total_pence"], q1["local_vcse_pence"], q1["share"]) == (26_000_000, 24_000_000, "0.9231")
    sizes = {(r["measure"], r["size_band"]): r["local_vcse_pence"] for r in report.tables[1].rows}
    assert sizes == {("delivery", "small"): 18_000_000, ("delivery", "medium"): 6_000_000}
    assert not any(r["measure"] == "outcome" for r in report.tables[0].rows)  # no claims paid in this fund


def test_a_later_load_replaces_a_profile_and_areas_are_checked(fund):
    with fund.begin() as conn:
        store_organisations(conn, [Organisation("homes-first", "charity", "large", "E08000012")], "u.csv", "tester")
        assert organisations(conn)["homes-first"].org_type == "charity"
        assert fund_areas(conn, "lcr-outcomes") == ["E08000011", "E08000012"]
        with pytest.raises(ImportRejected):
            set_fund_areas(conn, "lcr-outcomes", ["Liverpool"])
        with pytest.raises(NotFound):
            set_fund_areas(conn, "no-such-fund", ["E08000012"])
    with fund.connect() as conn:
        report = vcse_report(conn, "lcr-outcomes", date(2026, 1, 1), date(2026, 12, 31))
    q1 = next(r for r in report.tables[0].rows if r["quarter"] == "2026Q1" and r["measure"] == "delivery")
    assert q1["local_vcse_pence"] == q1["total_pence"] == 26_000_000
