"""The per-process position cache: recording an event reads only the entries since the last
one, and must always equal the position rebuilt from the whole ledger."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from ledger.flows import Fee
from ledger.postings import EntryDraft, Posting
from models.db import make_engine
from models.flows_store import PositionCache, import_flows, load_position, record_event, save_setup
from models.ledger_store import post_entries, reverse_entry
from tests.integration.test_flows_store import FUND, ROOT, setup_of

FLOWS = (ROOT / "fixtures" / "flows" / "example_flows.csv").read_text()


def as_dicts(position) -> dict:
    return {name: {k: v for k, v in getattr(position, name).items() if v}
            for name in ("cash", "instruments", "receivable", "called", "disbursed")}


@pytest.fixture
def flowed(engine):
    with engine.begin() as conn:
        save_setup(conn, setup_of())
        import_flows(conn, FLOWS, "example_flows.csv")
    return engine


def test_cached_position_advances_with_new_entries_and_reversals(flowed):
    cache = PositionCache()
    with flowed.begin() as conn:
        first = cache.position(conn)
        assert as_dicts(first) == as_dicts(load_position(conn))
        assert first.cash  # the example flows leave cash in the fund
    fee = Fee(fund=FUND, effective_date=date(2026, 9, 1), amount_pence=12_345, form="expense", source="public")
    with flowed.begin() as conn:
        entry = record_event(conn, fee)[0].entry
    with flowed.begin() as conn:
        advanced = cache.position(conn)
        assert as_dicts(advanced) == as_dicts(load_position(conn))
        assert as_dicts(advanced) != as_dicts(first)
        reverse_entry(conn, entry.id, date(2026, 9, 2), "posted in error")
    with flowed.begin() as conn:
        assert as_dicts(cache.position(conn)) == as_dicts(first)  # the reversal nets the fee out


def test_callers_get_a_copy_so_planned_drafts_never_leak_into_the_cache(flowed):
    cache = PositionCache()
    with flowed.begin() as conn:
        mine = cache.position(conn)
        key = next(iter(mine.cash))
        mine.cash[key] += 1_000_000
        assert cache.position(conn).cash[key] == mine.cash[key] - 1_000_000


def test_a_rolled_back_tip_is_detected_and_the_position_rebuilt(flowed):
    cache = PositionCache()
    draft = EntryDraft(date(2026, 9, 1), "rolled back", "rb-1", (
        Posting("cash", 5_000, fund=FUND, source="public"), Posting("grant_capital", -5_000, fund=FUND, source="public")))
    with pytest.raises(RuntimeError):
        with flowed.begin() as conn:
            post_entries(conn, [draft])
            cache.position(conn)  # caches a tip this transaction wrote
            raise RuntimeError("the caller's import failed later")
    other = EntryDraft(date(2026, 9, 1), "committed", "c-1", (
        Posting("cash", 7_000, fund=FUND, source="public"), Posting("grant_capital", -7_000, fund=FUND, source="public")))
    with flowed.begin() as conn:
        post_entries(conn, [other])  # takes the same id with a different hash
    with flowed.begin() as conn:
        assert as_dicts(cache.position(conn)) == as_dicts(load_position(conn))


def test_a_database_replaced_under_the_same_engine_is_rebuilt(tmp_path, sqlite_template):
    path = tmp_path / "fuel.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    cache = PositionCache()
    with engine.begin() as conn:
        save_setup(conn, setup_of())
        import_flows(conn, FLOWS, "example_flows.csv")
        full = as_dicts(cache.position(conn))
    engine.dispose()
    shutil.copyfile(sqlite_template, path)  # e.g. restored from an older backup: an empty ledger
    with engine.begin() as conn:
        assert as_dicts(cache.position(conn)) == as_dicts(load_position(conn)) != full
    engine.dispose()


# ---------------------------------------------------------------------------- reference data


def test_books_cache_sees_every_committed_change_and_no_rolled_back_one(flowed):
    from ledger.funds import Party
    from models.flows_store import BooksCache, load_books, save_party

    cache = BooksCache()
    with flowed.begin() as conn:
        before = cache.books(conn)
        assert "newcomer" not in before[FUND].parties
    with pytest.raises(RuntimeError):
        with flowed.begin() as conn:
            save_party(conn, Party("ghost", "Rolled back", "investor", "social_investor"))
            assert "ghost" in cache.books(conn)[FUND].parties  # its own transaction sees it
            raise RuntimeError("the setup file failed later")
    with flowed.begin() as conn:
        save_party(conn, Party("newcomer", "New Investor", "investor", "social_investor"))
    with flowed.begin() as conn:
        after = cache.books(conn)
        assert "newcomer" in after[FUND].parties and "ghost" not in after[FUND].parties
        assert after == load_books(conn)
        assert cache.books(conn) is after  # unchanged stamp: served from memory
