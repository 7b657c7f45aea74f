"""Issue 16, item 10: Fuel records when it received an outcome (its own clock, not the file's
``submitted_on``), refuses a submission dated before the outcome or in the future, and judges a
late outcome's claim deadline on the day Fuel received it, so a backdated ``submitted_on`` cannot
bring an outcome of a paid, closed quarter into a later claim. Both backends."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from ledger.errors import ImportRejected
from ledger.periods import Period
from models import pbr_store as store
from models.ledger_store import Ledger
from tests.reliability.test_tamper_claims import C, DATA

Q3_RECEIVED = datetime(2026, 10, 5, 9, 0)


def _contract(conn) -> None:
    store.load_contract(conn, (DATA / "contract.toml").read_text(), "contract.toml", "tester")
    store.import_participants(conn, C, (DATA / "participants.csv").read_text(), "participants.csv", "tester")


def test_fuel_records_when_it_received_each_outcome(engine):
    with engine.begin() as conn:
        _contract(conn)
        store.import_outcomes(conn, C, (DATA / "outcomes_q3.csv").read_text(), "outcomes_q3.csv", "tester",
                              received_at=Q3_RECEIVED)  # fmt: skip
    with engine.connect() as conn:
        stored = conn.execute(select(store.events_t.c.received_at, store.events_t.c.submitted_on).distinct()).all()
    assert [(r.received_at, r.submitted_on) for r in stored] == [(Q3_RECEIVED, date(2026, 10, 5))]


@pytest.mark.parametrize("row, message", [
    ("P001,entry,2026-07-10,DOC-1,2026-07-01", "row 2: submitted_on: 2026-07-01 is before achieved_on 2026-07-10"),
    ("P001,entry,2026-07-10,DOC-1,2026-10-06", "row 2: submitted_on: 2026-10-06 is after today (2026-10-05"),
])  # fmt: skip
def test_impossible_submission_dates_are_refused_and_nothing_is_written(engine, row, message):
    with engine.begin() as conn:
        _contract(conn)
    text = "participant_id,outcome_id,achieved_on,evidence_ref,submitted_on\n" + row + "\n"
    with pytest.raises(ImportRejected) as refused, engine.begin() as conn:
        store.import_outcomes(conn, C, text, "o.csv", "tester", received_at=Q3_RECEIVED)
    assert message in "\n".join(refused.value.problems)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(store.events_t)).scalar_one() == 0
    with pytest.raises(ImportRejected, match="before achieved_on"), engine.begin() as conn:  # the option too
        store.import_outcomes(conn, C, "participant_id,outcome_id,achieved_on\nP001,entry,2026-07-10\n", "o.csv",
                              "tester", submitted_on=date(2026, 7, 1), received_at=Q3_RECEIVED)  # fmt: skip


@pytest.mark.parametrize("received, accepted", [
    (datetime(2026, 11, 20, 9, 0), True),    # received within the 60-day deadline: paid in the next claim
    (datetime(2027, 1, 10, 9, 0), False),    # received after it, though the file says 2026-10-06
])  # fmt: skip
def test_a_backdated_submission_cannot_bring_a_late_outcome_in(engine, received, accepted):
    with engine.begin() as conn:
        _contract(conn)
        store.import_outcomes(conn, C, (DATA / "outcomes_q3.csv").read_text(), "outcomes_q3.csv", "tester",
                              received_at=Q3_RECEIVED)  # fmt: skip
        store.run_claims(conn, C, "2026Q3", "tester")
        store.approve(conn, C, "2026Q3", date(2026, 10, 10), "council-officer")
        store.invoice(conn, C, "2026Q3", "INV-1", "fund-manager")
        store.pay(conn, C, "2026Q3", date(2026, 10, 20), "fund-manager")
    Ledger(engine).close(Period.parse("2026Q3"), today=date(2026, 10, 21))
    late = "participant_id,outcome_id,achieved_on,evidence_ref,submitted_on\nP004,entry,2026-09-15,DOC-L,2026-10-06\n"
    with engine.begin() as conn:
        store.import_outcomes(conn, C, late, "late.csv", "tester", received_at=received)
        store.run_claims(conn, C, "2026Q4", "tester")
    with engine.connect() as conn:
        line = conn.execute(select(store.lines_t.c.accepted, store.lines_t.c.reason)
                            .where(store.lines_t.c.participant_id == "P004", store.lines_t.c.outcome_id == "entry")).one()  # fmt: skip
    assert (line.accepted, line.reason) == ((True, "") if accepted else (False, "after_deadline"))
