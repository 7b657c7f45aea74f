"""`fuel export indigo` round-trips with `fuel contracts from-indigo`: the export of the demo fund
reads back with the existing INDIGO reader without a warning, the contracts it rebuilds are the
originals (same terms, rules, rate cards, payers and shares), and a claim re-run on a rebuilt
contract comes to the same figures to the penny, line by line and payer by payer."""

from __future__ import annotations

import csv
import json
import sqlite3
import warnings
from dataclasses import replace
from pathlib import Path

import pandas as pd

from ledger.pbr.claims import run_claim, share_column
from ledger.pbr.contracts import load_contract_toml
from ledger.pbr.eligibility import validate_events
from ledger.pbr.indigo import FILES, contract_from_indigo
from models.db import make_engine
from models.pbr_store import get_contract, participant_register
from tests.opendata.conftest import FUND, in_process

CONTRACTS = ("lcr-ageing-well", "lcr-complex-needs", "lcr-leaving-homelessness", "lcr-youth-employment")


def read_export(folder: Path) -> dict[str, pd.DataFrame]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a pandas warning reading the files fails the test
        return {key: pd.read_csv(folder / name, dtype=str, keep_default_na=False) for key, name in FILES.items()}


def test_export_has_every_file_with_a_status_beside_each_value(demo, tmp_path):
    out = tmp_path / "indigo"
    result = demo("export", "indigo", "--fund", FUND, "--out", str(out))
    assert result.stderr == "" and "4 project(s)" in result.stdout
    names = {p.name for p in out.iterdir()}
    assert names == {*FILES.values(), "original_projects_outcome_payments.csv", "original_projects_investments.csv",
                     "original_projects_transactions.csv"}  # fmt: skip
    for path in out.iterdir():
        header = next(csv.reader(path.open(encoding="utf-8")))
        values = [h for h in header if h.endswith(" - (Value)")]
        assert values and all(h.removesuffix(" - (Value)") + " - (Status)" in header for h in values), path.name
    payments = pd.read_csv(out / "original_projects_outcome_payments.csv", dtype=str, keep_default_na=False)
    transactions = pd.read_csv(out / "original_projects_transactions.csv", dtype=str, keep_default_na=False)
    assert set(payments["Type - (Value)"]) == {"Actual"}
    assert set(transactions["Money - Amount - (Status)"]) == {"private"}  # the fund's deals are for the GO Lab only
    assert set(transactions["Transaction Type - (Value)"]) >= {"Drawdown", "Capital repayment"}
    with sqlite3.connect(demo.db) as db:
        paid = db.execute("select sum(paid_pence) from pbr_run_payers").fetchone()[0]
        participants = {r[0] for r in db.execute("select participant_id from pbr_participants")}
    assert sum(int(a.replace(".", "")) for a in payments["Payments - Amount - (Value)"]) == paid  # to the penny
    text = "".join(p.read_text() for p in out.iterdir())
    assert not any(p in text for p in list(participants)[:200])  # counts only, never a participant


def test_round_trip_rebuilds_the_same_contracts_and_prices_every_claim_the_same(demo, tmp_path):
    out = tmp_path / "indigo"
    demo("export", "indigo", "--fund", FUND, "--out", str(out))
    frames = read_export(out)
    engine = make_engine(f"sqlite:///{demo.db}")
    with engine.connect() as conn:
        for contract_id in CONTRACTS:
            template = contract_from_indigo(frames, f"FUEL-{contract_id}")
            assert template.lacks == (), template.lacks  # reads back without a warning
            rebuilt = load_contract_toml(template.toml_text, f"{contract_id}.toml")
            original = get_contract(conn, contract_id)
            assert rebuilt.contract_id == f"indigo-fuel-{contract_id}"
            assert replace(rebuilt, contract_id=contract_id) == original  # every term, rule, price and share
            # Price all of the contract's outcome events at once with each contract.
            events = pd.read_sql(f"select id as row_number, participant_id, outcome_id, achieved_on, evidence_ref, "
                                 f"submitted_on from pbr_outcome_events where contract_id = '{contract_id}' "
                                 # a mechanism's billed payments carry no participant: the rate card prices the rest
                                 f"and outcome_id not like 'mechanism:%' order by id", conn)
            for column in ("achieved_on", "submitted_on"):
                events[column] = pd.to_datetime(events[column]).astype("datetime64[ns]")
            register = participant_register(conn, contract_id)
            priced = []
            for contract in (original, rebuilt):
                assessed = validate_events(events, contract, register, source_name="round trip")
                priced.append(run_claim(assessed, contract, None))
            a, b = priced
            assert len(a) > 0 and int(a["net_pence"].sum()) > 0
            assert a["net_pence"].tolist() == b["net_pence"].tolist()
            assert a["gross_pence"].tolist() == b["gross_pence"].tolist()
            for payer in original.payers:
                assert a[share_column(payer.payer_id)].tolist() == b[share_column(payer.payer_id)].tolist()


def test_a_claim_re_run_through_the_commands_on_the_rebuilt_contract_gives_the_same_figures(demo, tmp_path):
    out, contract_id = tmp_path / "indigo", "lcr-youth-employment"
    demo("export", "indigo", "--fund", FUND, "--out", str(out))
    result = demo("contracts", "from-indigo", f"FUEL-{contract_id}", "--indigo-dir", str(out),
                  "--out", str(tmp_path / "rebuilt.toml"), "--json")  # fmt: skip
    assert json.loads(result.stdout)["lacks"] == [] and result.stderr == ""
    db, demo = demo.db, in_process(demo.db)  # the rest in this process: the same commands, quicker
    demo("contracts", "load", str(tmp_path / "rebuilt.toml"))
    rebuilt = f"indigo-fuel-{contract_id}"
    with sqlite3.connect(db) as conn:
        period, run_id, gross, net = conn.execute(
            "select period, id, gross_pence, net_pence from pbr_claim_runs where contract_id = ? order by period_end "
            "limit 1", (contract_id,)).fetchone()  # fmt: skip
        shares = dict(conn.execute("select payer_id, share_pence from pbr_run_payers where run_id = ?", (run_id,)).fetchall())
        people = conn.execute("select participant_id, start_date, cohort, attributes from pbr_participants "
                            "where contract_id = ?", (contract_id,)).fetchall()  # fmt: skip
        events = conn.execute("select e.participant_id, e.outcome_id, e.achieved_on, e.evidence_ref, e.submitted_on "
                            "from pbr_outcome_events e join pbr_claim_lines l on l.event_id = e.id "
                            "where l.run_id = ? order by e.id", (run_id,)).fetchall()  # fmt: skip
    extra = sorted({k for *_, attrs in people for k in json.loads(attrs)})
    with (tmp_path / "participants.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["participant_id", "start_date", "cohort", *extra])
        for pid, start, cohort, attrs in people:
            values = json.loads(attrs)
            writer.writerow([pid, start, cohort or "", *[values.get(k, "") for k in extra]])
    with (tmp_path / "outcomes.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["participant_id", "outcome_id", "achieved_on", "evidence_ref", "submitted_on"])
        writer.writerows([[p, o, a, e or "", s] for p, o, a, e, s in events])
    demo("participants", "import", str(tmp_path / "participants.csv"), "--contract", rebuilt)
    demo("outcomes", "import", str(tmp_path / "outcomes.csv"), "--contract", rebuilt)
    demo("claims", "run", "--contract", rebuilt, "--period", period)
    with sqlite3.connect(db) as conn:
        again = conn.execute("select id, gross_pence, net_pence from pbr_claim_runs where contract_id = ? and period = ?",
                           (rebuilt, period)).fetchone()  # fmt: skip
        again_shares = dict(conn.execute("select payer_id, share_pence from pbr_run_payers where run_id = ?",
                                       (again[0],)).fetchall())  # fmt: skip
    assert net > 0 and (again[1], again[2]) == (gross, net)
    assert again_shares == shares


def test_plans_are_published_as_planned_payments_and_bad_plans_are_refused(demo, tmp_path):
    plans = tmp_path / "plan.csv"
    plans.write_text("type,plan_version,made_on,quarter,amount\nPlanned,v1,2024-01-05,2024Q1,1000.00\n"
                     "Planned,v1,2024-01-05,2024Q2,2500.50\n")  # fmt: skip
    out = tmp_path / "indigo"
    demo("export", "indigo", "--fund", FUND, "--out", str(out), "--plans", f"lcr-ageing-well={plans}")
    payments = pd.read_csv(out / "original_projects_outcome_payments.csv", dtype=str, keep_default_na=False)
    planned = payments[payments["Type - (Value)"] == "Planned"]
    assert planned["Payments - Amount - (Value)"].tolist() == ["1000.00", "2500.50"]
    assert set(planned["Project ID"]) == {"FUEL-lcr-ageing-well"}
    bad = demo("export", "indigo", "--fund", FUND, "--out", str(tmp_path / "x"), "--plans", f"nope={plans}", ok=False)
    assert bad.returncode == 1 and "'nope' is not one of lcr-blended's contracts" in bad.stderr
    assert not (tmp_path / "x").exists()
    bad = demo("export", "indigo", "--fund", "nope", "--out", str(tmp_path / "y"), ok=False)
    assert bad.returncode == 1 and "fund 'nope' is not known" in bad.stderr
