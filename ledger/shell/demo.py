"""The demo: builds the example blended fund from nothing on SQLite and writes its reports.

It is the README's main command (``make demo``), so it must run from a fresh clone with no
setup and no network. It uses the same services as the CLI: load the chart, load the fund's
setup file, import a quarter of flows from CSV, close the quarter, then report.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from ledger.accounts import load_chart_toml
from ledger.funds import fund_setup_from_mapping
from ledger.periods import Period
from models.db import make_engine, migrate, reading
from models.flows_store import commitment_status, import_flows, save_setup
from models.ledger_store import Ledger, account_types, iter_entries, load_chart
from reports import flows_reports
from reports.exports import write_beancount, write_hledger
from reports.render import to_csv, to_json

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
DEMO_CHART = FIXTURES / "charts" / "social_investment_fund.toml"
DEMO_FUND = FIXTURES / "funds" / "example_fund.toml"
DEMO_FLOWS = FIXTURES / "flows" / "example_flows.csv"
DEMO_QUARTER = Period.parse("2026Q1")


def build_demo(out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    db_path = out_dir / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db_path}")
    migrate(engine)
    with engine.begin() as conn:
        load_chart(conn, load_chart_toml(DEMO_CHART.read_text(encoding="utf-8"), DEMO_CHART.name))
        save_setup(conn, fund_setup_from_mapping(tomllib.loads(DEMO_FUND.read_text(encoding="utf-8")), DEMO_FUND.name), "demo")
        imported = import_flows(conn, DEMO_FLOWS.read_text(encoding="utf-8"), DEMO_FLOWS.name, "demo")
    ledger = Ledger(engine)
    ledger.close(DEMO_QUARTER, closed_by="demo")
    as_of = DEMO_QUARTER.last_day

    files: list[str] = []

    def write(name: str, text: str) -> None:
        (out_dir / name).write_text(text, encoding="utf-8")
        files.append(name)

    tb = [
        {"account": l.account_code, "name": l.account_name, "type": l.account_type, "currency": l.currency,
         "debit_pence": l.debit_pence, "credit_pence": l.credit_pence, "net_pence": l.net_pence}
        for l in ledger.trial_balance(as_of)
    ]
    write("trial_balance.csv", to_csv(tb, ["account", "name", "type", "currency", "debit_pence", "credit_pence", "net_pence"]))
    write("trial_balance.json", to_json(tb, as_of=as_of.isoformat()))
    with reading(engine) as conn:
        for name, (rows, columns) in {
            "sources_uses_by_source": flows_reports.sources_uses(conn, as_of),
            "sources_uses_by_project": flows_reports.project_funding(conn, as_of),
            "restrictions": flows_reports.restrictions(conn, as_of),
        }.items():
            write(f"{name}.csv", to_csv(rows, columns))
        commitments = commitment_status(conn, as_of=as_of)
        cash = [
            {"source": row.key[0], "restriction": row.key[1], "cash_pence": row.balance_pence}
            for row in ledger.balances(as_of, by=("source", "restriction"), filters={"account_code": "cash"})
        ]
        types = account_types(conn)
        with (out_dir / "ledger.journal").open("w", encoding="utf-8") as handle:
            write_hledger(iter_entries(conn), types, handle)
        with (out_dir / "ledger.beancount").open("w", encoding="utf-8") as handle:
            write_beancount(iter_entries(conn), types, handle)
    files += ["ledger.journal", "ledger.beancount"]
    write("cash_by_source.csv", to_csv(cash, ["source", "restriction", "cash_pence"]))
    report = ledger.verify()
    engine.dispose()
    return {"database": db_path, "entries": report.entries_checked, "chain_ok": report.ok, "posted": imported.posted,
            "trial_balance": tb, "cash_by_source": cash, "commitments": commitments, "as_of": as_of,
            "period": DEMO_QUARTER, "files": files}
