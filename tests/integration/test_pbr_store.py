"""The payment-by-results service on SQLite and PostgreSQL, with hand-checked figures.

tests/data/pbr/contract.toml: per-participant cap 3,000; contract cap 10,000; council takes
the remainder (cap 8,000); central pays 30% (cap 2,500); sustained_3m has a count cap of 3.

2026Q3 (outcomes_q3.csv), in claim order:
  1 P001 entry 500 | 2 P002 entry 500 | 3 P003 entry 500 | 4 P001 sustained_3m 1,500 |
  5 P002 sustained_3m 1,500 | 6 P004 sustained_3m: prerequisite_missing |
  7 P001 employment_13w 1,200 -> 1,000 (participant cap: 500 + 1,500 + 1,200 > 3,000) |
  8 P001 self_employment_13w: mutually_exclusive | 9 P009: unknown_participant |
  10 P003 sustained_3m: evidence_missing | 11 P002 entry again: already_claimed.
  Gross 5,700, net 5,500; central 30% = 150 x 3 + 450 x 2 + 300 = 1,650; council 3,850.
2026Q4 (outcomes_q4.csv):
  P003 sustained_3m 1,500 (3rd of the count cap) | P004 entry 500 | P004 sustained_3m: count
  cap, 0 | P002 employment_13w 1,200 -> 1,000 (participant cap) | P005 entry: referral_window.
  Net before payer caps 3,000; central 450 + 150 + 300 = 900 but only 2,500 - 1,650 = 850 is
  left under its cap, so the last line's central share is cut by 50: net 2,950, central 850,
  council 2,100.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ledger.errors import ValidationError
from models import pbr_store as store
from models.ledger_store import Ledger

DATA = Path(__file__).resolve().parents[1] / "data" / "pbr"
C = "lcr-housing"


def load(conn):
    store.load_contract(conn, (DATA / "contract.toml").read_text(), "contract.toml", "tester")
    store.import_participants(conn, C, (DATA / "participants.csv").read_text(), "participants.csv", "tester")


def q3(engine):
    with engine.begin() as conn:
        load(conn)
        store.import_outcomes(conn, C, (DATA / "outcomes_q3.csv").read_text(), "outcomes_q3.csv", "tester")
        return store.run_claims(conn, C, "2026Q3", "tester")


def lifecycle(engine, period, approve_on, pay_on, ref):
    with engine.begin() as conn:
        store.approve(conn, C, period, approve_on, "council-officer")
        store.invoice(conn, C, period, ref, "fund-manager")
        return store.pay(conn, C, period, pay_on, "fund-manager")


def balance(engine, account, **where):
    rows = Ledger(engine).balances(date(2030, 1, 1), ["account_code"], {"account_code": account, **where})
    return sum(r.balance_pence for r in rows)


def test_q3_claim_run_hand_checked(engine):
    run = q3(engine)
    assert (run.line_count, run.gross_pence, run.net_pence, run.status) == (11, 570_000, 550_000, "validated")
    with engine.connect() as conn:
        contract = store.get_contract(conn, C)
        lines = store.claim_lines(conn, run, contract)
        payers = {r["payer_id"]: r["share_pence"] for r in store.run_payers(conn, run)}
        steps = [t["status"] for t in store.transitions(conn, run)]
    assert lines["reason"].tolist() == [
        "", "", "", "", "", "prerequisite_missing", "", "mutually_exclusive", "unknown_participant",
        "evidence_missing", "already_claimed",
    ]  # fmt: skip
    assert lines["net_pence"].tolist() == [50_000, 50_000, 50_000, 150_000, 150_000, 0, 100_000, 0, 0, 0, 0]
    assert lines.loc[6, "cap_applied"] == "participant_cap"
    assert lines.loc[6, "reduction_participant_cap_pence"] == 20_000
    assert lines.loc[6, "participant_paid_cum_pence"] == 300_000 and lines.loc[6, "participant_headroom_pence"] == 0
    assert payers == {"central": 165_000, "council": 385_000}
    assert (lines["share_central_pence"] + lines["share_council_pence"] == lines["net_pence"]).all()
    assert steps == ["submitted", "validated"]


def test_rerunning_a_claim_run_returns_the_stored_run_unchanged(engine):
    first = q3(engine)
    with engine.begin() as conn:
        store.import_outcomes(conn, C, (DATA / "outcomes_q4.csv").read_text(), "outcomes_q4.csv")
        again = store.run_claims(conn, C, "2026Q3")
        lines = conn.execute(select(func.count()).select_from(store.lines_t)).scalar_one()
    assert again == store.ClaimRun(**{**first.__dict__, "created": False})
    assert lines == 11


def test_reimporting_the_same_files_adds_nothing(engine):
    q3(engine)
    with engine.begin() as conn:
        p = store.import_participants(conn, C, (DATA / "participants.csv").read_text(), "participants.csv")
        o = store.import_outcomes(conn, C, (DATA / "outcomes_q3.csv").read_text(), "outcomes_q3.csv")
        events = conn.execute(select(func.count()).select_from(store.events_t)).scalar_one()
    assert (p.status, p.added, o.status, o.added, events) == ("already imported", 0, "already imported", 0, 11)


def test_lifecycle_posts_receivable_income_and_cash(engine):
    q3(engine)
    with engine.begin() as conn:
        assert store.dispute_line(conn, C, "2026Q3", 5, "no tenancy evidence", "council-officer") == "disputed"
    run = lifecycle(engine, "2026Q3", date(2026, 10, 20), date(2026, 11, 2), "INV-2026Q3")
    assert (run.status, run.net_pence, run.invoice_ref) == ("paid", 400_000, "INV-2026Q3")
    # Line 5 (1,500: central 450, council 1,050) is disputed and left out.
    assert balance(engine, "outcome_income", project="PRJ-LCR-1", source="public") == -400_000
    assert balance(engine, "outcome_income", counterparty="central") == -120_000
    assert balance(engine, "outcome_payments_receivable") == 0
    assert balance(engine, "cash", source="public", fund="fuel-lcr") == 400_000
    with engine.connect() as conn:
        steps = [(t["status"], t["payer_id"], t["by"]) for t in store.transitions(conn, run)]
    assert steps[:3] == [("submitted", None, "tester"), ("validated", None, "tester"),
                         ("disputed", None, "council-officer")]  # fmt: skip
    assert ("approved", "council", "council-officer") in steps and ("invoiced", None, "fund-manager") in steps
    assert steps[-1] == ("paid", None, "fund-manager")
    # Approving or paying again posts nothing new.
    entries = Ledger(engine).verify().entries_checked
    lifecycle(engine, "2026Q3", date(2026, 12, 1), date(2026, 12, 2), "INV-2026Q3")
    assert Ledger(engine).verify().entries_checked == entries == 4


def test_caps_are_cumulative_and_a_sample_recovery_is_taken_from_the_next_run(engine):
    q3(engine)
    lifecycle(engine, "2026Q3", date(2026, 10, 20), date(2026, 11, 2), "INV-Q3")
    with engine.begin() as conn:
        sample = store.draw_sample(conn, C, "2026Q3", 3, "2026")
        # Paid lines 1..7 except 6; the seed picks lines 1 (500), 4 (1,500) and 3 (500): 2,500.
        assert sample["sampled_lines"] == [1, 4, 3]
        checked = store.record_recheck(conn, C, "2026Q3", [3], "extrapolate", "auditor")
    # Error rate 500 / 2,500 = 1/5; extrapolated over the 5,500 paid: 1,100.
    assert (checked["error_rate"], checked["recovery_pence"]) == ("1/5", 110_000)
    with engine.begin() as conn:
        store.import_outcomes(conn, C, (DATA / "outcomes_q4.csv").read_text(), "outcomes_q4.csv")
        run = store.run_claims(conn, C, "2026Q4")
        contract = store.get_contract(conn, C)
        lines = store.claim_lines(conn, run, contract)
        payers = {r["payer_id"]: (r["share_pence"], r["clawback_pence"]) for r in store.run_payers(conn, run)}
    assert lines["reason"].tolist() == ["", "", "", "", "referral_window"]
    assert lines["net_pence"].tolist() == [150_000, 50_000, 0, 95_000, 0]
    assert lines.loc[2, "cap_applied"] == "outcome_count_cap"
    assert lines.loc[3, "cap_applied"] == "participant_cap;payer_cap"
    assert (run.net_pence, run.clawback_pence, run.due_pence) == (295_000, 110_000, 185_000)
    # 110,000 pence split pro rata to 2,100 : 850 by largest remainder: 78,305.08 -> 78,305 and
    # 31,694.92 -> 31,694 + the leftover penny (larger remainder) = 31,695.
    assert payers == {"council": (210_000, 78_305), "central": (85_000, 31_695)}
    lifecycle(engine, "2026Q4", date(2027, 1, 20), date(2027, 2, 1), "INV-Q4")
    assert balance(engine, "outcome_income") == -(550_000 + 295_000 - 110_000)
    assert balance(engine, "cash") == 550_000 + 185_000
    assert balance(engine, "outcome_payments_receivable") == 0
    with engine.connect() as conn:
        assert store.sample_status(conn, C, "2026Q3")["outstanding_pence"] == 0
        prior = store.prior_paid(conn, C)
    assert prior.by_payer["central"] <= 250_000 and prior.contract_pence <= 1_000_000


def test_runs_go_forward_and_need_events(engine):
    q3(engine)
    with engine.begin() as conn:
        with pytest.raises(ValidationError, match="no outcome events achieved before 2027-04-01"):
            store.run_claims(conn, C, "2027Q1")
    with engine.begin() as conn:
        store.import_outcomes(conn, C, (DATA / "outcomes_q4.csv").read_text(), "outcomes_q4.csv")
        store.run_claims(conn, C, "2026Q4")
    with engine.begin() as conn:
        with pytest.raises(ValidationError, match="already has a claim run for 2026Q4; runs go forward"):
            store.run_claims(conn, C, "2026Q2")


def test_a_contract_with_runs_cannot_change(engine):
    q3(engine)
    changed = (DATA / "contract.toml").read_text().replace('price = "500.00"', 'price = "550.00"')
    with engine.begin() as conn:
        with pytest.raises(ValidationError, match="already has 1 claim run"):
            store.load_contract(conn, changed, "contract.toml")
        assert store.load_contract(conn, (DATA / "contract.toml").read_text(), "contract.toml")[1] == "unchanged"


def test_participant_register_is_outside_the_ledger_and_lines_carry_only_the_id(engine):
    q3(engine)
    with engine.connect() as conn:
        row = conn.execute(select(store.participants_t).where(store.participants_t.c.participant_id == "P001")).mappings().one()
        columns = set(store.lines_t.c.keys())
    assert json.loads(row["attributes"]) == {"age_band": "18-24"} and row["cohort"] == "A"
    assert not columns & {"start_date", "cohort", "attributes"}


def test_plan_versus_actual_through_the_store(engine):
    from ledger.pbr.plans import PlanVersion, plan_vs_actual

    q3(engine)
    lifecycle(engine, "2026Q3", date(2026, 10, 20), date(2026, 11, 2), "INV-Q3")
    with engine.connect() as conn:
        actuals = store.actuals_by_quarter(conn, C)
    assert actuals == {"2026Q3": 550_000}
    plan = PlanVersion.of("plan1", date(2026, 1, 1), {"2026Q3": 600_000, "2026Q4": 400_000})
    table = plan_vs_actual([plan], actuals, date(2026, 12, 31)).set_index("quarter")
    assert table.loc["2026Q3", "variance_pence"] == -50_000
    assert table.loc["2026Q4", "cumulative_variance_pence"] == -50_000 - 400_000


def test_mechanism_result_is_recorded_once(engine):
    from ledger.pbr.mechanism_inputs import compute_mechanism
    from ledger.periods import Period

    text = (DATA / "contract.toml").read_text() + (
        '\n[[mechanisms]]\nkind = "baseline_reduction"\nbaseline_units = 10000\nprice_per_unit = "120.50"\ncap = "80000.00"\n'
    )
    with engine.begin() as conn:
        contract, _ = store.load_contract(conn, text, "contract.toml")
        kind, params = contract.mechanisms[0]
        payment, result = compute_mechanism(kind, dict(params), {"actual_units": 9200}, Period.parse("2026Q3"))
        assert (payment, result["gross_pence"]) == (8_000_000, 9_640_000)
        assert store.record_mechanism(conn, C, "2026Q3", 0, kind, "actual_units = 9200", payment, result) == "recorded"
        assert store.record_mechanism(conn, C, "2026Q3", 0, kind, "actual_units = 9200", payment, result) == "unchanged"
        earlier = store.mechanism_results(conn, C, 0, "2026Q4")
        again, _ = compute_mechanism(kind, dict(params), {"actual_units": 9000}, Period.parse("2026Q4"), earlier)
    assert again == 0  # the 80,000 cap was reached in 2026Q3
