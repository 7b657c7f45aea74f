"""Store-level properties of claim runs (SQLite): re-running changes nothing; caps hold."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from models import pbr_store as store

DATA = Path(__file__).resolve().parents[1] / "data" / "pbr"
C = "lcr-housing"
OUTCOMES = ["entry", "sustained_3m", "employment_13w", "self_employment_13w"]

events = st.lists(
    st.tuples(st.sampled_from(["P001", "P002", "P003", "P004"]), st.sampled_from(OUTCOMES),
              st.integers(min_value=1, max_value=28), st.sampled_from([7, 8, 9])),
    min_size=1, max_size=25,
)  # fmt: skip


def snapshot(conn):
    tables = (store.runs_t, store.lines_t, store.shares_t, store.run_payers_t, store.transitions_t, store.events_t)
    return [conn.execute(select(t).order_by(*t.primary_key.columns)).all() for t in tables]


@settings(max_examples=10, deadline=None)
@given(rows=events)
def test_rerunning_a_claim_run_changes_nothing_and_caps_hold(sqlite_template, tmp_path_factory, rows):
    import shutil

    from models.db import make_engine

    # a fresh copy per example: claim runs and lines are immutable, so nothing can be cleared between them
    path = tmp_path_factory.mktemp("claims") / "claims.db"
    shutil.copyfile(sqlite_template, path)
    sqlite_engine = make_engine(f"sqlite:///{path}")
    with sqlite_engine.begin() as conn:
        store.load_contract(conn, (DATA / "contract.toml").read_text(), "contract.toml")
        store.import_participants(conn, C, (DATA / "participants.csv").read_text(), "participants.csv")
        text = "participant_id,outcome_id,achieved_on,evidence_ref,submitted_on\n" + "".join(
            f"{p},{o},2026-{m:02d}-{d:02d},DOC-{i},2026-10-01\n" for i, (p, o, d, m) in enumerate(rows)
        )
        store.import_outcomes(conn, C, text, "outcomes.csv")
        first = store.run_claims(conn, C, "2026Q3")
        before = snapshot(conn)
    with sqlite_engine.begin() as conn:
        again = store.run_claims(conn, C, "2026Q3")
        assert snapshot(conn) == before
    assert again.id == first.id and again.net_pence == first.net_pence
    with sqlite_engine.connect() as conn:
        prior = store.prior_paid(conn, C)
        share_sums = conn.execute(
            select(store.shares_t.c.line_no, func.sum(store.shares_t.c.share_pence)).group_by(store.shares_t.c.line_no)
        ).all()
        nets = dict(conn.execute(select(store.lines_t.c.line_no, store.lines_t.c.net_pence)).all())
    assert all(v <= 300_000 for v in prior.by_participant.values())
    assert prior.contract_pence <= 1_000_000 and prior.by_payer.get("central", 0) <= 250_000
    assert prior.by_outcome_count.get("sustained_3m", 0) <= 3
    assert all(nets[line] == total for line, total in share_sums)
    sqlite_engine.dispose()
