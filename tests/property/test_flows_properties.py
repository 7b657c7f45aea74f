"""Property tests for fund flows: any sequence of valid events keeps every (fund, source,
restriction) group balanced, never overdraws a cash bucket, never spends restricted money on a
project its restriction forbids, and the sources-and-uses report reconciles to the trial balance."""

from __future__ import annotations

import tomllib
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

from hypothesis import event, given, settings
from hypothesis import strategies as st

from ledger.errors import FuelError
from ledger.flows import (
    Disbursement,
    Distribution,
    DrawdownNotice,
    DrawdownReceived,
    Fee,
    GrantReceived,
    OutcomePayment,
    Position,
    PublicMoneyReceived,
    Repayment,
    Transfer,
    ValuationChange,
    posting_rule,
)
from ledger.flows_import import FlowRow
from ledger.funds import book_of_setup, fund_setup_from_mapping
from ledger.postings import check_entry, imbalances

ROOT = Path(__file__).resolve().parents[2]
SETUP = fund_setup_from_mapping(
    tomllib.loads((ROOT / "fixtures" / "funds" / "example_fund.toml").read_text()), "example_fund.toml"
)
BOOK = book_of_setup(SETUP)
FUND = BOOK.fund.id
SOURCES = ("social_investment", "charitable", "public")

dates = st.integers(0, 300).map(lambda n: date(2026, 2, 1) + timedelta(days=n))
amounts = st.integers(1, 5_000_000)
projects = st.sampled_from(sorted(BOOK.projects))
tranches = st.sampled_from([None, *sorted(BOOK.tranches)])
restrictions = st.sampled_from([None, *sorted(BOOK.restrictions)])
#: Mostly the (source, tranche, restriction) buckets the seed funds, sometimes any at all.
FUNDED = [("social_investment", "senior", None), ("public", "junior", None), ("charitable", None, "ageing"),
          ("charitable", None, "youth-only"), ("public", None, None)]
buckets = st.one_of(st.sampled_from(FUNDED), st.tuples(st.sampled_from(SOURCES), tranches, restrictions))
investors = st.sampled_from(sorted(p.id for p in BOOK.parties.values() if p.kind == "investor"))


def common(d):
    return dict(fund=FUND, effective_date=d)


events = st.one_of(
    st.builds(lambda d, t, a: DrawdownNotice(**common(d), tranche=t, amount_pence=a),
              dates, st.sampled_from(sorted(BOOK.tranches)), amounts),
    st.builds(lambda d, t, i, a: DrawdownReceived(**common(d), tranche=t, investor=i, amount_pence=a),
              dates, st.sampled_from(sorted(BOOK.tranches)), investors, amounts),
    st.builds(lambda d, a, r, t: GrantReceived(**common(d), investor="mersey-cf", amount_pence=a, restriction=r, tranche=t),
              dates, amounts, restrictions, tranches),
    st.builds(lambda d, a, f, t, r: PublicMoneyReceived(**common(d), payer="lcc", amount_pence=a, form=f,
                                                        tranche=t or "junior", restriction=r),
              dates, amounts, st.sampled_from(["co_investment", "grant"]), tranches, restrictions),
    st.builds(lambda d, p, a, f, b: Disbursement(**common(d), project=p, amount_pence=a, form=f, source=b[0],
                                                 tranche=b[1], restriction=b[2]),
              dates, projects, amounts, st.sampled_from(["loan", "working_capital", "grant"]), buckets),
    st.builds(lambda d, p, a, i, f: Repayment(**common(d), project=p, principal_pence=a, interest_pence=i, form=f),
              dates, projects, st.integers(0, 5_000_000), st.integers(1, 500_000), st.sampled_from(["loan", "working_capital"])),
    st.builds(lambda d, p, a: OutcomePayment(**common(d), project=p, payer="lcc", amount_pence=a), dates, projects, amounts),
    st.builds(lambda d, a, b: Fee(**common(d), amount_pence=a, form="management_fee", source=b[0], tranche=b[1],
                                  restriction=b[2]),
              dates, st.integers(1, 1_000_000), buckets),
    st.builds(lambda d, p, a, f, i: ValuationChange(**common(d), project=p, amount_pence=a, form=f, instrument=i),
              dates, projects, st.integers(1, 5_000_000), st.sampled_from(["gain", "write_down", "write_off"]),
              st.sampled_from(["loan", "working_capital"])),
    st.builds(lambda d, t, i, a: Distribution(**common(d), tranche=t, investor=i, amount_pence=a),
              dates, st.sampled_from(sorted(BOOK.tranches)), investors, st.integers(1, 1_000_000)),
    st.tuples(dates, st.integers(1, 5_000_000), buckets, st.sampled_from(SOURCES), tranches, restrictions)
    .map(lambda v: (v[0], v[1], *v[2], *v[3:]))
    .filter(lambda v: v[2:5] != v[5:8])
    .map(lambda v: Transfer(**common(v[0]), amount_pence=v[1], source=v[2], tranche=v[3], restriction=v[4],
                            to_source=v[5], to_tranche=v[6], to_restriction=v[7], reason="test")),
)


D0 = date(2026, 1, 31)
#: Money in and out first, so the random events that follow have cash and projects to act on.
SEED = (
    DrawdownNotice(**common(D0), tranche="senior", amount_pence=50_000_000),
    DrawdownReceived(**common(D0), tranche="senior", investor="nsi", amount_pence=30_000_000),
    DrawdownReceived(**common(D0), tranche="senior", investor="big-impact", amount_pence=20_000_000),
    DrawdownNotice(**common(D0), tranche="junior", amount_pence=10_000_000),
    DrawdownReceived(**common(D0), tranche="junior", investor="lcr-ca", amount_pence=10_000_000),
    GrantReceived(**common(D0), investor="mersey-cf", amount_pence=5_000_000, restriction="ageing"),
    GrantReceived(**common(D0), investor="mersey-cf", amount_pence=2_000_000, restriction="youth-only"),
    PublicMoneyReceived(**common(D0), payer="lcc", amount_pence=4_000_000, form="grant"),
    Disbursement(**common(D0), project="aw-homecare", amount_pence=10_000_000, form="loan", source="social_investment",
                 tranche="senior"),
    Disbursement(**common(D0), project="yf-mentoring", amount_pence=5_000_000, form="working_capital", source="public",
                 tranche="junior"),
    Disbursement(**common(D0), project="yf-mentoring", amount_pence=1_000_000, form="grant", source="charitable",
                 restriction="youth-only"),
)


def run(sequence) -> list:
    """Post what the rules accept after the seed, skipping refused events (as a user would be
    told no)."""
    position = Position()
    drafts = []
    for event in (*SEED, *sequence):
        try:
            draft = posting_rule(event, BOOK, position)
        except FuelError:
            continue
        position.apply(draft)
        drafts.append(draft)
    return drafts


@given(st.lists(events, min_size=3, max_size=40))
def test_valid_events_keep_every_group_balanced_and_no_bucket_overdrawn(sequence):
    drafts = run(sequence)
    event(f"random entries posted: {min(len(drafts) - len(SEED), 10)}{'+' if len(drafts) - len(SEED) >= 10 else ''}")
    totals: dict[tuple, int] = defaultdict(int)
    cash: dict[tuple, int] = defaultdict(int)
    for draft in drafts:
        check_entry(draft)
        assert imbalances(draft.postings) == {}
        for p in draft.postings:
            totals[(p.fund, p.source, p.restriction)] += p.amount_pence
            if p.account == "cash":
                cash[(p.source, p.tranche, p.restriction)] += p.amount_pence
                assert cash[(p.source, p.tranche, p.restriction)] >= 0, "a cash bucket was overdrawn"
            if p.restriction and p.account in ("project_loans", "working_capital_advances", "project_grants") \
                    and draft.event_kind == "disbursement":
                assert BOOK.restrictions[p.restriction].permits(BOOK.projects[p.project])
    assert all(total == 0 for total in totals.values())


@given(st.lists(events, min_size=1, max_size=40))
def test_income_and_losses_are_attributed_conserving_pence(sequence):
    for draft in run(sequence):
        if draft.event_kind in ("outcome_payment", "valuation_change"):
            moved = sum(p.amount_pence for p in draft.postings if p.amount_pence > 0)
            assert moved == draft.event_data["amount_pence"]
        if draft.event_kind == "repayment":
            cash_in = sum(p.amount_pence for p in draft.postings if p.account == "cash")
            assert cash_in == draft.event_data["principal_pence"] + draft.event_data["interest_pence"]


@settings(max_examples=15)
@given(st.lists(events, min_size=1, max_size=25))
def test_sources_and_uses_reconciles_to_the_trial_balance(sqlite_engine, sequence):
    from models.flows_store import plan_events, save_setup
    from models.ledger_store import post_entries, trial_balance
    from reports import flows_reports

    with sqlite_engine.begin() as conn:
        save_setup(conn, SETUP)
    for item in (*SEED, *sequence):  # one at a time, as `fuel record` would: refused events write nothing
        with sqlite_engine.begin() as conn:
            plan = plan_events(conn, [FlowRow(0, item)], {FUND: BOOK})
            if plan.drafts:
                post_entries(conn, [plan.drafts[0][1]])
    as_of = date(2027, 1, 1)
    with sqlite_engine.connect() as conn:
        assert flows_reports.reconciliation_problems(conn, as_of) == []
        assert sum(line.net_pence for line in trial_balance(conn, as_of)) == 0
        rows, _ = flows_reports.sources_uses(conn, as_of)
        restricted, _ = flows_reports.restrictions(conn, as_of)
    for row in rows:
        assert row["total_sources_pence"] == row["total_uses_pence"]
    for r in restricted:
        assert r["received_pence"] + r["transferred_pence"] + r["income_pence"] == (
            r["applied_pence"] + r["other_uses_pence"] + r["unapplied_pence"]
        )
