"""Notices on SQLite and PostgreSQL: a capital call and a distribution drafted from the stored
fund (the API tests' world), frozen and queued to the notice contacts in one transaction; the
call's shares are what the drawdown rule posts, the bank details only in the investor's own."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.errors import ValidationError


def test_call_and_distribution_notices_freeze_and_queue(engine):
    from ledger.shell.notices import distribution_notices, drawdown_notices, issue_notices
    from models import delivery_store as store
    from models.bank_store import add_account
    from tests.api.world import OTHER_INVESTOR, OWN_FUND, OWN_INVESTOR, build

    build(engine)

    def call(conn):
        return drawdown_notices(conn, OWN_FUND, "senior", 3_000_000, date(2027, 2, 1), notice_day=date(2027, 1, 10),
                                fmt="html")

    with engine.begin() as conn:
        with pytest.raises(ValidationError, match="no bank account"):
            call(conn)
        add_account(conn, fund=OWN_FUND, account_id="main", name="Client account", sort_code="601613",
                    account_number="31926819", currency="GBP", holds=["*"], bank=None, by="test")
        for investor in (OWN_INVESTOR, OTHER_INVESTOR):
            store.add_contact(conn, OWN_FUND, "investor", investor, "n", "N", f"n@{investor}.example.org", ["notice"],
                              "attachment", "test")
    notices, result = issue_notices(engine, OWN_FUND, call, channel="outbox", by="test")
    shares = {f["investor"]["id"]: f["amount_pence"] for f in notices.figures}
    assert shares == {OWN_INVESTOR: 2_000_000, OTHER_INVESTOR: 1_000_000}  # 100,000 : 50,000 committed
    assert len(result.queued) == 2 and not result.missing_contacts
    for draft in notices.drafts:
        assert b"60-16-13" in draft.content and b"31926819" in draft.content
        assert draft.party_id.encode() in draft.content
    _, again = issue_notices(engine, OWN_FUND, call, channel="outbox", by="test")
    assert again.queued == () and {d["created"] for d in again.documents} == {False}

    with engine.connect() as conn:
        distribution = distribution_notices(conn, OWN_FUND, 100_000, date(2027, 1, 31), notice_day=date(2027, 1, 10),
                                            fmt="html")
    split = distribution.split
    assert split["distributed_pence"] + split["undistributed_pence"] == 100_000
    assert sum(f["own_total_pence"] for f in distribution.figures) + \
        sum(r["paid_pence"] for r in split["recipients"]) == split["distributed_pence"]
    assert all(b"31926819" not in d.content for d in distribution.drafts)
    with engine.connect() as conn:
        kinds = sorted({d["kind"] for d in store.documents(conn, OWN_FUND)})
    assert "drawdown_notice" in kinds
