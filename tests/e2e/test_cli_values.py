"""`fuel values load|list` and `fuel report value` as a user runs them: a value table stored once,
bad tables refused with the file and field named, and the demo's value report traceable to its
outcome counts and table lines (every total re-added from the lines, every ratio recomputed)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO, fuel_runner

VALUES = REPO / "fixtures" / "values"
CONTRACTS = REPO / "fixtures" / "demo" / "contracts"


def test_load_is_stored_once_and_listed(fuel):
    fuel("contracts", "load", str(CONTRACTS / "ageing_well.toml"))
    first = fuel("values", "load", str(VALUES / "ageing_well.toml")).stdout
    assert "lcr-ageing-well-values of contract lcr-ageing-well: version 1, stored" in first
    again = fuel("values", "load", str(VALUES / "ageing_well.toml")).stdout
    assert "version 1, unchanged" in again
    rows = json.loads(fuel("values", "list", "--json").stdout)
    rows = rows["rows"] if isinstance(rows, dict) else rows
    assert [(r["contract"], r["version"], r["deflator"]) for r in rows] == [("lcr-ageing-well", 1, "gdp_deflator.toml")]


def test_a_table_for_an_unknown_contract_or_outcome_is_refused(fuel, tmp_path):
    result = fuel("values", "load", str(VALUES / "ageing_well.toml"), ok=False)
    assert result.returncode != 0 and "unknown contract 'lcr-ageing-well'" in result.stderr
    fuel("contracts", "load", str(CONTRACTS / "ageing_well.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text((VALUES / "ageing_well.toml").read_text().replace('outcome = "loneliness_reduced_6m"',
                                                                     'outcome = "no_such_outcome"'))
    (tmp_path / "gdp_deflator.toml").write_text((VALUES / "gdp_deflator.toml").read_text())
    result = fuel("values", "load", str(bad), ok=False)
    assert "bad.toml: versions[0].outcomes[0].outcome: 'no_such_outcome' is not an outcome" in result.stderr
    assert json.loads(fuel("values", "list", "--json").stdout) in ([], {"rows": []})  # nothing stored


def test_the_report_without_a_table_names_the_fix(fuel):
    fuel("contracts", "load", str(CONTRACTS / "ageing_well.toml"))
    result = fuel("report", "value", "--contract", "lcr-ageing-well", "--as-of", "2025-12-31", ok=False)
    assert "has no value table" in result.stderr and "fuel values load" in result.stderr


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("value-demo")
    subprocess.run([sys.executable, "-m", "ledger.shell.cli", "demo", "--out", str(out), "--participants", "400",
                    "--quarters", "6"], cwd=REPO, check=True, capture_output=True, text=True)
    return out


def _report(demo: Path, *args: str) -> dict:
    result = subprocess.run([sys.executable, "-m", "ledger.shell.cli", "--db", f"sqlite:///{demo / 'demo.db'}", "report",
                             "value", "--as-of", "2025-06-30", "--json", *args], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["tables"]


def test_every_demo_contract_shows_payers_agencies_and_ratios(demo):
    tables = _report(demo, "--fund", "lcr-blended")
    summary = {r["contract"]: r for r in tables["value_summary"]["rows"]}
    assert set(summary) == {"lcr-ageing-well", "lcr-complex-needs", "lcr-leaving-homelessness",
                            "lcr-youth-employment", "fund"}
    payers = tables["value_payers"]["rows"]
    agencies = tables["value_agencies"]["rows"]
    lines = tables["value_lines"]["rows"]
    for contract, row in summary.items():
        if contract == "fund":
            continue
        mine = [r for r in lines if r["contract"] == contract]
        assert row["fiscal_value_pence"] == sum(r["total_pence"] for r in mine if r["kind"] == "fiscal")
        assert row["public_value_pence"] == sum(r["total_pence"] for r in mine)
        assert row["outcome_payments_pence"] == sum(r["outcome_payments_pence"] for r in payers if r["contract"] == contract)
        assert row["fiscal_value_pence"] == sum(r["fiscal_value_pence"] for r in agencies if r["contract"] == contract)
        assert row["outcome_payments_pence"] > 0 and any(r["contract"] == contract for r in agencies)
        cost = row["outcome_payments_pence"]
        assert Decimal(row["fiscal_bcr"]) == (Decimal(row["fiscal_value_pence"]) / cost).quantize(Decimal("0.01"))
        assert Decimal(row["public_value_bcr"]) == (Decimal(row["public_value_pence"]) / cost).quantize(Decimal("0.01"))
        assert Decimal(row["fiscal_roi"]) == (Decimal(row["fiscal_value_pence"] - cost) / cost).quantize(Decimal("0.01"))
        for r in mine:  # each line: count x value per outcome, rounded once
            assert abs(r["total_pence"] - Decimal(r["value_per_outcome_pence"]) * r["count"]) <= r["count"]
    fund = summary["fund"]
    assert fund["public_value_pence"] == sum(r["public_value_pence"] for c, r in summary.items() if c != "fund")


def test_outcome_counts_are_the_validated_lines_of_approved_runs(demo):
    tables = _report(demo, "--contract", "lcr-complex-needs")
    counts = {r["outcome"]: r["count"] for r in tables["value_lines"]["rows"]}
    with sqlite3.connect(demo / "demo.db") as db:
        stored = dict(db.execute(
            "SELECT l.outcome_id, count(*) FROM pbr_claim_lines l JOIN pbr_claim_runs r ON r.id = l.run_id "
            "WHERE r.contract_id = 'lcr-complex-needs' AND l.accepted AND r.period_end <= '2025-07-01' "
            "AND COALESCE((SELECT v.status FROM pbr_run_revisions v WHERE v.run_id = r.id "  # the latest revision's
            "ORDER BY v.revision DESC LIMIT 1), r.status) IN ('approved', 'invoiced', 'paid', 'sampled') "
            "GROUP BY l.outcome_id").fetchall())
    assert counts and all(counts[o] == stored.get(o, 0) for o in counts)


GOLDEN = REPO / "tests" / "golden" / "reports" / "value_narrative.txt"


def test_value_narrative_golden_and_its_figures_equal_the_reports(demo):
    """The narrative of the demo's value page (400 participants, 6 quarters, as of 2025-06-30,
    compared with 2025-03-31): golden file, and every figure equal to the report's own."""
    import os
    from datetime import date

    from ledger.shell.web.pages_value import earlier_report
    from models.db import make_engine, reading
    from reports.narrative import value_narrative
    from reports.value_reports import value_report

    engine = make_engine(f"sqlite:///{demo / 'demo.db'}")
    with reading(engine) as conn:
        report = value_report(conn, date(2025, 6, 30), "lcr-blended")
        previous = earlier_report(conn, date(2025, 6, 30), "lcr-blended")
    engine.dispose()
    assert previous is not None and previous.as_of == date(2025, 3, 31)
    sentences = value_narrative(report, previous)
    text = "\n".join(s.text for s in sentences) + "\n"
    if os.environ.get("FUEL_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8"), "value narrative differs from tests/golden/reports/value_narrative.txt"
    by_contract = {c["contract"]: c for c in report.extra["contracts"]}
    total, before = report.extra["fund_total"], previous.extra["fund_total"]
    for sentence in sentences:
        for figure in sentence.figures:
            assert figure.shown in sentence.text
            contract = figure.href.removeprefix("#value-")
            c = by_contract.get(contract)
            if figure.name.startswith("payer"):
                assert figure.value in c["payments"].values()
            elif figure.name == "outcomes":
                assert figure.value == c["outcomes"]
            elif figure.name == "fiscal":
                assert figure.value == c["by_kind"]["fiscal"]
            elif figure.name == "top":
                assert figure.value == max(c["by_agency"].values())
            elif figure.name == "bcr" and c is not None:
                assert figure.value == c["fiscal_bcr"]
            elif figure.name == "bcr":
                assert figure.value == total["public_value_bcr"]
            elif figure.name == "cost":
                assert figure.value == total["cost_pence"]
            elif figure.name == "public":
                assert figure.value == total["public_pence"]
            elif figure.name == "added_cost":
                assert figure.value == total["cost_pence"] - before["cost_pence"]
            elif figure.name == "added_value":
                assert figure.value == total["public_pence"] - before["public_pence"]
            elif figure.name == "added_outcomes":
                assert figure.value == total["outcomes"] - before["outcomes"]
            else:
                raise AssertionError(f"figure {figure.name} is not checked")


def _forecast(demo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ledger.shell.cli", "--db", f"sqlite:///{demo / 'demo.db'}", "report",
                           "forecast", "--fund", "lcr-blended", "--as-of", "2025-06-30", *args],
                          cwd=REPO, capture_output=True, text=True)


def test_forecast_back_test_brackets_the_demos_later_quarters(demo):
    """Each forecast made at an earlier quarter end (two quarters of claims or more) against what
    was approved since, cumulatively: the low-high range (5th-95th percentile) holds the realised
    payments in at least four cases in five (about one in ten should fall outside by chance)."""
    result = _forecast(demo, "--json")
    assert result.returncode == 0, result.stderr
    tables = json.loads(result.stdout)["tables"]
    rows = tables["forecast_backtest"]["rows"]
    assert {r["contract"] for r in rows} == {"lcr-ageing-well", "lcr-complex-needs", "lcr-leaving-homelessness",
                                             "lcr-youth-employment"}
    inside = [r for r in rows if r["low_pence"] <= r["actual_pence"] <= r["high_pence"]]
    assert len(inside) >= 0.8 * len(rows), [r for r in rows if r not in inside]
    for r in rows:  # plan versus actual: variance = actual - central
        assert r["variance_pence"] == r["actual_pence"] - r["central_pence"]
        assert (r["within_range"] == "yes") == (r in inside)
    # the forecast itself: every contract to the end of its term, scenarios ordered, whole pence
    quarters = tables["forecast_quarters"]["rows"]
    for r in (q for q in quarters if q["kind"] == "forecast"):
        assert isinstance(r["central_pence"], int) and r["low_pence"] <= r["central_pence"] <= r["high_pence"]
    assert {r["contract"] for r in quarters if r["kind"] == "forecast"} == {r["contract"] for r in rows}
    investors = {r["investor"] for r in tables["forecast_investors"]["rows"]}
    assert investors == {"mersey-capital", "dockside-trust", "lcr-combined", "liver-foundation"}
    again = _forecast(demo, "--json")
    assert again.stdout == result.stdout  # seeded: the same figures every run


def test_forecast_csv_and_a_fund_that_does_not_exist(demo):
    csv_out = _forecast(demo, "--csv")
    assert csv_out.returncode == 0 and "forecast_backtest" in csv_out.stdout
    missing = subprocess.run([sys.executable, "-m", "ledger.shell.cli", "--db", f"sqlite:///{demo / 'demo.db'}",
                              "report", "forecast", "--fund", "no-such-fund", "--as-of", "2025-06-30"],
                             cwd=REPO, capture_output=True, text=True)
    assert missing.returncode != 0 and "unknown fund 'no-such-fund'" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_dashboard_shows_each_contracts_fan_chart_with_the_reports_figures(demo):
    from datetime import date

    from sqlalchemy import create_engine

    from ledger.shell.web.pages_fund import dashboard_data
    from ledger.shell.web.render import environment

    engine = create_engine(f"sqlite:///{demo / 'demo.db'}")
    with engine.connect() as conn:
        data = dashboard_data(conn, "lcr-blended", date(2025, 6, 30))
    engine.dispose()
    fans = {f["contract"]: f for f in data["forecasts"]}
    assert set(fans) == {"lcr-ageing-well", "lcr-complex-needs", "lcr-leaving-homelessness", "lcr-youth-employment"}
    report = json.loads(_forecast(demo, "--json").stdout)["tables"]["forecast_quarters"]["rows"]
    for contract, fan in fans.items():
        last = [r for r in report if r["contract"] == contract][-1]
        assert (fan["low"], fan["central"], fan["high"]) == (last["low_pence"], last["central_pence"], last["high_pence"])
        assert 'class="fan-band"' in fan["svg"] and 'class="fan-actual"' in fan["svg"]
    html = environment().get_template("dashboard.html.j2").render(
        request_path="/ui/funds/lcr-blended", principal=None, csrf="", base="/ui", can_write=False, notice=None,
        title="dashboard", **data)
    assert "Forecast of outcome payments" in html and html.count('class="fan-band"') == 4


def test_vcse_report_of_the_demo_adds_up_to_the_ledgers_money(demo):
    result = subprocess.run([sys.executable, "-m", "ledger.shell.cli", "--db", f"sqlite:///{demo / 'demo.db'}", "report",
                             "vcse", "--fund", "lcr-blended", "--to", "2025-06-30", "--json"],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    tables = json.loads(result.stdout)["tables"]
    rows = tables["vcse_quarters"]["rows"]
    whole = {(r["group"], r["measure"]): r for r in rows if r["quarter"] == "all"}
    db = sqlite3.connect(demo / "demo.db")
    approved = db.execute("select sum(p.approved_pence) from pbr_run_payers p join pbr_claim_runs r on r.id = p.run_id "
                          "where COALESCE((SELECT v.status FROM pbr_run_revisions v WHERE v.run_id = r.id "  # the latest revision's
                              "ORDER BY v.revision DESC LIMIT 1), r.status) in ('approved', 'invoiced', 'paid', 'sampled')").fetchone()[0]
    passed = db.execute("select sum(share_pence + fees_pence) from pbr_partner_amounts").fetchone()[0]
    db.close()
    assert whole[("fund", "outcome")]["total_pence"] == approved  # every outcome payment, once
    recipients = tables["vcse_recipients"]["rows"]
    assert sum(r["outcome_pence"] for r in recipients) == approved
    partners = {"birkenhead-housing", "st-helens-mind", "halton-recovery"}
    assert sum(r["delivery_pence"] for r in recipients if r["recipient"] in partners) == passed
    for r in rows:
        assert r["local_vcse_pence"] <= r["total_pence"]
        assert Decimal(r["share"]) == (Decimal(r["local_vcse_pence"]) / r["total_pence"]).quantize(Decimal("0.0001"), "ROUND_HALF_UP")
    assert ("joint prime lcr-complex-needs", "outcome") in whole
    # the demo's one non-local, non-VCSE provider (a national housing partnership) keeps the share below 1
    assert Decimal(whole[("fund", "outcome")]["share"]) < 1


def test_vcse_page_shows_the_reports_tables_and_a_chart_per_group(demo):
    from datetime import date

    from sqlalchemy import create_engine

    from ledger.shell.web.render import environment
    from reports.fund_reports import _chart_svg
    from reports.vcse_reports import vcse_report

    engine = create_engine(f"sqlite:///{demo / 'demo.db'}")
    with engine.connect() as conn:
        report = vcse_report(conn, "lcr-blended", None, date(2025, 6, 30))
    engine.dispose()
    html = environment().get_template("vcse.html.j2").render(
        request_path="/ui/funds/lcr-blended/vcse", principal=None, csrf="", base="/ui", title="vcse", r=report,
        charts=[_chart_svg(spec, report.currency) for spec in report.charts])
    assert html.count("<svg") == 2  # the fund and its one joint prime
    assert "E08000012" in html and "joint prime lcr-complex-needs" in html


def test_investor_statement_summarises_the_forecast_as_the_report_makes_it(demo):
    statement = json.loads((demo / "investors" / "lcr-blended_mersey-capital_2025Q2.json").read_text())
    forecast = statement["forecast"]
    report = json.loads(_forecast(demo, "--json").stdout)
    remaining = {"low": 0, "central": 0, "high": 0}
    quarters = report["tables"]["forecast_quarters"]["rows"]
    for contract in {r["contract"] for r in quarters}:
        mine = [r for r in quarters if r["contract"] == contract]
        paid = [r for r in mine if r["kind"] == "actual"][-1]["actual_pence"]
        for k in remaining:
            remaining[k] += mine[-1][f"{k}_pence"] - paid
    assert forecast["remaining_pence"] == remaining
    mine = next(r for r in report["tables"]["forecast_investors"]["rows"] if r["investor"] == "mersey-capital")
    assert forecast["value_pence"] == {k: mine[f"value_{k}_pence"] for k in ("low", "central", "high")}
    assert forecast["tvpi"] == {k: mine[f"tvpi_{k}"] for k in ("low", "central", "high")}
    html = (demo / "investors" / "lcr-blended_mersey-capital_2025Q2.html").read_text()
    assert '<h2 id="forecast">Forecast</h2>' in html and "an upper bound, not a promise" in html
