"""Benchmark: 1,000 investor statements, HTML and PDF (DESIGN.md section 7: HTML under 20 s,
PDF under 3 minutes, both cores used).

Run standalone: ``python bench/bench_statements.py [investors] [--pdf-sample N]``. Builds a
SQLite fund with ``investors`` investors (default 1,000) spread over senior, junior and
first-loss tranches, through the fund-flows layer: capital calls and receipts, loans, outcome
payments, fees, a write-down and a waterfall distribution. Then it times, each printed beside
its target: reading and allocating the figures (SQL + pure allocation, identities checked),
HTML for every investor, and PDF for every investor on all cores (``--pdf-sample N`` renders N
and extrapolates, labelled as such).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from ledger.accounts import load_chart_toml  # noqa: E402
from ledger.funds import fund_setup_from_mapping  # noqa: E402
from ledger.periods import Period  # noqa: E402
from ledger.shell.cli_terms import read_terms_file  # noqa: E402
from ledger.statements import assemble_statements  # noqa: E402
from models.db import make_engine, migrate  # noqa: E402
from models.flows_store import import_flows, save_setup  # noqa: E402
from models.ledger_store import load_chart  # noqa: E402
from models.statements_store import distribute, statement_inputs  # noqa: E402
from models.terms_store import store_terms, terms_for  # noqa: E402
from reports.statements import write_statements  # noqa: E402

FUND = "bench-fund"
TERMS_TEXT = (REPO_ROOT / "fixtures" / "funds" / "example_fund_terms.toml").read_text().replace(
    'fund = "lcr-outcomes"', f'fund = "{FUND}"').replace(
    '"../waterfalls/', f'"{REPO_ROOT}/fixtures/waterfalls/')
TRANCHES = (("senior", SI := "social_investor", 60), ("junior", "public_body", 25), ("first-loss", "charitable_trust", 15))


def setup(investors: int) -> dict:
    parties = [{"id": "lcc", "name": "Council", "kind": "payer"}, {"id": "prov", "name": "Provider", "kind": "provider"}]
    commitments, counts = [], {}
    for i in range(investors):
        tranche, kind, _ = TRANCHES[0] if i % 20 < 12 else TRANCHES[1] if i % 20 < 17 else TRANCHES[2]
        parties.append({"id": f"inv{i:04d}", "name": f"Investor {i:04d}", "kind": "investor", "investor_type": kind})
        amount = 50_000 + (i * 7919) % 150_000
        commitments.append({"id": f"c{i:04d}", "tranche": tranche, "investor": f"inv{i:04d}",
                            "amount": f"{amount}.00", "date": "2026-01-05"})
        counts[tranche] = counts.get(tranche, 0) + amount
    return {
        "fund": {"id": FUND, "name": "Benchmark Outcomes Fund", "currency": "GBP"},
        "tranches": [{"id": "senior", "name": "Senior", "rank": 1}, {"id": "junior", "name": "Junior", "rank": 2},
                     {"id": "first-loss", "name": "First loss", "rank": 3, "kind": "grant"}],
        "parties": parties,
        "projects": [{"id": f"p{j}", "name": f"Project {j}", "provider": "prov", "theme": "housing"} for j in range(5)],
        "commitments": commitments,
    }, counts


def flows_csv(setup_data: dict, committed: dict) -> str:
    header = "event,date,fund,amount,tranche,investor,payer,project,source,form,instrument\n"
    rows = []
    source = {"senior": "social_investment", "junior": "public", "first-loss": "charitable"}
    for tranche, total in committed.items():
        rows.append(f"drawdown_notice,2026-02-01,{FUND},{total // 2}.00,{tranche},,,,,,")
    for c in setup_data["commitments"]:
        amount = int(c["amount"].split(".")[0])
        rows.append(f"drawdown_received,2026-02-15,{FUND},{amount // 2}.00,{c['tranche']},{c['investor']},,,,,")
    for j, (tranche, total) in enumerate(committed.items()):
        rows.append(f"disbursement,2026-03-01,{FUND},{total // 4}.00,{tranche},,,p{j},{source[tranche]},loan,")
    for q, day in enumerate(("2026-05-15", "2026-08-14")):
        for j in range(3):
            rows.append(f"outcome_payment,{day},{FUND},{25_000 + 1_000 * j + q}.00,,,lcc,p{j},,,")
    rows.append(f"fee,2026-06-30,{FUND},20000.00,senior,,,,social_investment,management_fee,")
    rows.append(f"valuation_change,2026-07-20,{FUND},150000.00,,,,p0,,write_down,loan")
    return header + "\n".join(rows) + "\n"


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    investors = int(args[0]) if args else 1000
    sample = None
    if "--pdf-sample" in sys.argv:
        sample = int(sys.argv[sys.argv.index("--pdf-sample") + 1])
        args = [a for a in args if a != str(sample)]
    jobs = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        engine = make_engine(f"sqlite:///{tmp_path / 'bench.db'}")
        migrate(engine)
        data, committed = setup(investors)
        started = time.perf_counter()
        with engine.begin() as conn:
            load_chart(conn, load_chart_toml((REPO_ROOT / "fixtures/charts/social_investment_fund.toml").read_text(), "c"))
            save_setup(conn, fund_setup_from_mapping(data, "bench"))
            import_flows(conn, flows_csv(data, committed), "bench.csv")
        terms_path = tmp_path / "bench_terms.toml"
        terms_path.write_text(TERMS_TEXT)
        with engine.begin() as conn:  # the fund's terms are stored with it, as `fuel terms load` does
            store_terms(conn, read_terms_file(terms_path))
            distribute(conn, FUND, 250_000_00, date(2026, 9, 30), terms_for(conn, FUND, date(2026, 9, 30)))
        print(f"setup: {investors} investors, fund built through the flows layer in {time.perf_counter() - started:.1f} s")

        quarter = Period.parse("2026Q3")
        started = time.perf_counter()
        with engine.connect() as conn:
            inputs = statement_inputs(conn, FUND, quarter, terms_for(conn, FUND, quarter.last_day))
        statements = assemble_statements(inputs)
        figures_s = time.perf_counter() - started
        print(f"figures: {len(statements)} statements read (SQL), allocated and identity-checked in {figures_s:.2f} s")

        started = time.perf_counter()
        write_statements(statements, tmp_path / "html", ["html"], jobs=jobs)
        html_s = time.perf_counter() - started
        print(f"HTML:  {len(statements)} statements in {html_s:.1f} s ({jobs} processes); target < 20 s "
              f"-> {'OK' if html_s < 20 else 'MISSED'}")

        chosen = statements if sample is None else statements[:sample]
        started = time.perf_counter()
        write_statements(chosen, tmp_path / "pdf", ["pdf"], jobs=jobs)
        pdf_s = time.perf_counter() - started
        if sample is None:
            print(f"PDF:   {len(chosen)} statements in {pdf_s:.1f} s ({jobs} processes); target < 180 s "
                  f"-> {'OK' if pdf_s < 180 else 'MISSED'}")
        else:
            estimate = pdf_s * len(statements) / len(chosen)
            print(f"PDF:   {len(chosen)} statements in {pdf_s:.1f} s ({jobs} processes); EXTRAPOLATED to "
                  f"{len(statements)}: {estimate:.0f} s; target < 180 s")
        engine.dispose()


if __name__ == "__main__":
    main()
