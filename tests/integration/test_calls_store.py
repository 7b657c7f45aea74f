"""The calls service on SQLite and PostgreSQL: rows are immutable (triggers), a published
call's decisions are fixed, and the reservation follows the call."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from ledger.calls import parse_call
from ledger.errors import ValidationError
from models import calls_store as cs
from tests.api.world import application, call_text


@pytest.fixture
def world(engine):
    from ledger.flows import DrawdownNotice, DrawdownReceived
    from ledger.funds import fund_setup_from_mapping
    from models.flows_store import record_event, save_setup
    from tests.api.world import OWN_FUND, OWN_INVESTOR, _setup_mapping

    with engine.begin() as conn:
        save_setup(conn, fund_setup_from_mapping(_setup_mapping(OWN_FUND), OWN_FUND), "test")
        record_event(conn, DrawdownNotice(fund=OWN_FUND, effective_date=date(2026, 2, 1), tranche="senior", amount_pence=3_000_000))
        record_event(conn, DrawdownReceived(fund=OWN_FUND, effective_date=date(2026, 2, 2), tranche="senior",
                                            investor=OWN_INVESTOR, amount_pence=2_000_000))
        cs.open_call(conn, parse_call(call_text("c1", OWN_FUND, "senior")))
        app_id = cs.submit_application(conn, "c1", {**application("R1", "Sefton"), "org_id": "GB-CHC-1123456"})["id"]
        cs.score_application(conn, app_id, "bob", {"need": 4})
        cs.decide(conn, app_id, "award", "need", date(2026, 4, 1))
    return engine, app_id


@pytest.mark.parametrize("statement", ["UPDATE call_scores SET scores_json = '{}'", "DELETE FROM call_decisions",
                                       "UPDATE call_applications SET eligible = false", "DELETE FROM calls"])
def test_recorded_rows_never_change(world, statement):
    engine, _ = world
    with pytest.raises((DBAPIError, IntegrityError)):
        with engine.begin() as conn:
            conn.execute(text(statement))


def test_published_decisions_are_fixed_and_corrections_are_new_rows(world):
    engine, app_id = world
    with engine.begin() as conn:
        assert cs.reservations(conn) == {("fuel-lcr", "social_investment", "senior", None): 1_000_000}
        cs.close_call(conn, "c1", date(2026, 4, 2), "published")
        assert cs.reservations(conn) == {}
        with pytest.raises(ValidationError, match="decisions were published"):
            cs.decide(conn, app_id, "decline", "changed", date(2026, 4, 3))
        first = cs._latest_decision(conn, app_id)["id"]
        cs.decide(conn, app_id, "award", "amount corrected", date(2026, 4, 3), amount_pence=400_000, corrects_id=first)
        award = cs.award(conn, app_id, date(2026, 4, 5))
        assert award["amount_pence"] == 400_000
        assert cs.reservations(conn) == {("fuel-lcr", "social_investment", "senior", None): 400_000}
        paid = cs.pay_tranche(conn, award["award_id"], 1, date(2026, 4, 6))
        assert paid["amount_pence"] == 400_000 and cs.reservations(conn) == {}
