"""The demo: builds a small blended fund's ledger from nothing on SQLite and writes its reports.

It is the README's main command (``make demo``), so it must run from a fresh clone with no
setup and no network.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from ledger.accounts import load_chart_toml
from ledger.periods import Period
from ledger.postings import draft_from_mapping
from models.db import make_engine, migrate
from models.ledger_store import Ledger, account_types, iter_entries, load_chart
from reports.exports import write_beancount, write_hledger
from reports.render import to_csv, to_json

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
DEMO_ENTRIES = FIXTURES / "demo" / "ledger_core_entries.json"
DEMO_CHART = FIXTURES / "charts" / "social_investment_fund.toml"


def build_demo(out_dir: Path, echo=print) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    db_path = out_dir / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db_path}")
    migrate(engine)
    with engine.begin() as conn:
        load_chart(conn, load_chart_toml(DEMO_CHART.read_text(encoding="utf-8"), DEMO_CHART.name))
    ledger = Ledger(engine)

    raw = json.loads(DEMO_ENTRIES.read_text(encoding="utf-8"))
    drafts = [draft_from_mapping(item, f"{DEMO_ENTRIES.name} entry {i}") for i, item in enumerate(raw, start=1)]
    ledger.post(drafts, recorded_by="demo")
    ledger.close(Period.parse("2026Q1"), closed_by="demo")
    as_of = date(2026, 6, 30)

    tb = [
        {"account": l.account_code, "name": l.account_name, "type": l.account_type, "currency": l.currency,
         "debit_pence": l.debit_pence, "credit_pence": l.credit_pence, "net_pence": l.net_pence}
        for l in ledger.trial_balance(as_of)
    ]
    tb_columns = ["account", "name", "type", "currency", "debit_pence", "credit_pence", "net_pence"]
    (out_dir / "trial_balance.csv").write_text(to_csv(tb, tb_columns), encoding="utf-8")
    (out_dir / "trial_balance.json").write_text(to_json(tb, as_of=as_of.isoformat()), encoding="utf-8")

    by_source = [
        {"source": key[0], "restriction": key[1], "cash_pence": row.balance_pence}
        for row in ledger.balances(as_of, by=("source", "restriction"), filters={"account_code": "cash"})
        for key in [row.key]
    ]
    (out_dir / "cash_by_source.csv").write_text(to_csv(by_source, ["source", "restriction", "cash_pence"]), encoding="utf-8")

    with engine.connect() as conn:
        types = account_types(conn)
        with (out_dir / "ledger.journal").open("w", encoding="utf-8") as handle:
            write_hledger(iter_entries(conn), types, handle)
        with (out_dir / "ledger.beancount").open("w", encoding="utf-8") as handle:
            write_beancount(iter_entries(conn), types, handle)
    report = ledger.verify()
    engine.dispose()
    return {"database": db_path, "entries": report.entries_checked, "chain_ok": report.ok,
            "trial_balance": tb, "cash_by_source": by_source, "as_of": as_of}
