"""GP clawback end to end on both backends: a deal-by-deal history in the example fund's ledger
(deal aw-homecare wins and pays the manager carry; yf-mentoring is written off), the clawback
computed from the ledger, posted once as a balanced entry with distribution lines, and seen by
the next computation and by the waterfall state."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from ledger.capital_accounts import load_fund_terms
from ledger.errors import IdempotencyConflict, ValidationError
from ledger.postings import imbalances
from models.clawback_store import clawback, clawback_key
from models.flows_store import book_of
from models.statements_store import lines_t, waterfall_state
from tests.integration.clawback_history import (
    DEAL_TERMS,
    FUND,
    FUND_END,
    ROOT,
    build_fund,
    post_winning_exit,
)


@pytest.fixture
def fund(engine):
    with engine.begin() as conn:
        build_fund(conn)
        post_winning_exit(conn)
    return engine, load_fund_terms(DEAL_TERMS)


def test_the_clawback_is_computed_from_the_ledger(fund):
    engine, terms = fund
    with engine.connect() as conn:
        result = clawback(conn, FUND, FUND_END, terms)
    c = result.clawback
    # aw-homecare: nsi's 210,000 back from 230,000; 20% of the 20,000 gain = 4,000 carry.
    assert (c.received_pence, c.whole_fund_carry_pence, c.clawback_pence) == (4_000_00, 0, 4_000_00)
    # The whole fund replays nsi's plain 3,000 distribution of 2026-03-31 (capital back pro rata
    # to the 400,000 then paid in: big-impact 900, lcr-ca 750, nsi 1,350) and the 230,000 of
    # 2026-10-01 against the 447,000 still unreturned: all capital, so no carry. big-impact would
    # get 900 + 230,000 * 139,100 / 447,000 = 72,472.71; lcr-ca 750 + 51,068.23 = 51,818.23.
    shares = {s.investor: s for s in c.shares}
    assert (shares["big-impact"].whole_fund_pence, shares["lcr-ca"].whole_fund_pence) == (7_247_271, 5_181_823)
    assert shares["nsi"].shortfall_pence == 0 and shares["mersey-cf"].whole_fund_pence == 0
    # 4,000 split 72,472.71 : 51,818.23.
    assert (shares["big-impact"].returned_pence, shares["lcr-ca"].returned_pence) == (233_236, 166_764)
    assert result.post is None


def test_posting_is_balanced_idempotent_and_seen_by_the_next_run(fund):
    engine, terms = fund
    with engine.begin() as conn:
        first = clawback(conn, FUND, FUND_END, terms, post=True, recorded_by="tester")
    assert first.created
    postings = first.post.entry.draft.postings
    assert imbalances(postings) == {}
    assert sorted((p.counterparty, p.source, p.amount_pence) for p in postings) == [
        ("big-impact", "social_investment", 233_236), ("fund-manager", "public", -166_764),
        ("fund-manager", "social_investment", -233_236), ("lcr-ca", "public", 166_764)]
    with engine.begin() as conn:
        again = clawback(conn, FUND, FUND_END, terms, post=True)
        stored = conn.execute(select(lines_t.c.party, lines_t.c.kind, lines_t.c.amount_pence)
                              .where(lines_t.c.entry_id == first.post.entry.id)).all()
        state = waterfall_state(conn, book_of(conn, FUND), terms, FUND_END)
    assert not again.created and again.post.entry.id == first.post.entry.id
    assert sorted(stored) == sorted((line["party"], "clawback", line["amount_pence"]) for line in first.lines)
    # Once recorded, nothing more is due: the carry returned counts against what was received.
    assert (again.clawback.returned_before_pence, again.clawback.clawback_pence) == (4_000_00, 0)
    manager = {r.recipient: r for r in state.recipients}["fund-manager"]
    assert sum(d.amount_pence for d in manager.distributions if d.kind == "clawback") == -4_000_00


def test_a_key_reused_for_another_date_is_refused(fund):
    engine, terms = fund
    with engine.begin() as conn:
        clawback(conn, FUND, FUND_END, terms, post=True)
    with pytest.raises(IdempotencyConflict, match="was already used for entry"):
        with engine.begin() as conn:
            clawback(conn, FUND, date(2026, 12, 30), terms, post=True, key=clawback_key(FUND, FUND_END))


def test_nothing_is_due_before_the_carry_was_paid_and_whole_fund_terms_are_refused(fund):
    engine, terms = fund
    with engine.begin() as conn:
        early = clawback(conn, FUND, date(2026, 9, 30), terms, post=True)
    assert early.clawback.clawback_pence == 0 and early.post is None
    with pytest.raises(ValidationError, match="is whole_fund: its carry is already computed over the whole fund"):
        with engine.connect() as conn:
            clawback(conn, FUND, FUND_END, load_fund_terms(ROOT / "fixtures" / "funds" / "example_fund_terms.toml"))
