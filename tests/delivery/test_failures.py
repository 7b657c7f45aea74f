"""Failures against a real SMTP server: a server that is down for a while, an address it
refuses; nothing is lost, the fund manager sees what failed, and a resend delivers each once."""

from __future__ import annotations

import json

from sqlalchemy import text

from tests.delivery.conftest import QUARTER

FUND = "lcr-blended"
ADDRESSES = {"mersey-capital": "finance@mersey.example.org", "dockside-trust": "grants@dockside.example.org",
             "liver-foundation": "finance@liver.example.org", "lcr-combined": "team@combined.example.org"}


def _rows(stdout: str) -> list[dict]:
    data = json.loads(stdout)
    return data["rows"] if isinstance(data, dict) else data


def test_server_down_then_one_address_refused_then_resend_delivers_each_once(fuel, smtp):
    for party, address in ADDRESSES.items():
        fuel("contacts", "add", party, "--key", "finance", "--name", f"Finance {party}", "--email", address)
    down = fuel("issue", "statements", "--quarter", QUARTER, "--kind", "investor", "--format", "html")
    assert down.stdout.count("DEFERRED") == 4 and "server unreachable" in down.stdout
    failed = _rows(fuel("deliveries", "list", "--status", "failed", "--json").stdout)
    assert sorted(r["party_id"] for r in failed) == sorted(ADDRESSES)  # every one visible, none lost
    assert all(r["status"] == "deferred" and r["attempts"] == 2 for r in failed)  # first try and one retry

    smtp.box.refuse["finance@liver.example.org"] = "550 5.1.1 <finance@liver.example.org>: no such mailbox"
    smtp.start()
    first = fuel("deliveries", "resend", "--quarter", QUARTER)
    assert "1 failed, 3 sent" in first.stdout and "550" in first.stdout
    rows = {r["party_id"]: r for r in _rows(fuel("deliveries", "list", "--json").stdout)}
    assert rows["liver-foundation"]["status"] == "failed" and "no such mailbox" in rows["liver-foundation"]["detail"]
    assert rows["liver-foundation"]["attempts"] == 3  # a permanent failure is not retried
    assert {r["status"] for p, r in rows.items() if p != "liver-foundation"} == {"sent"}

    again = fuel("deliveries", "resend", "--quarter", QUARTER)  # only the failed one is tried again
    assert "1 failed" in again.stdout and "sent" not in again.stdout.split("Deliveries:")[1]

    fuel("contacts", "add", "liver-foundation", "--key", "finance", "--name", "Finance liver-foundation",
         "--email", "accounts@liver.example.org")  # the fund manager corrects the address
    fixed = fuel("deliveries", "resend", "--quarter", QUARTER)
    assert "Deliveries: 1 sent" in fixed.stdout
    assert "nothing due" in fuel("deliveries", "resend", "--quarter", QUARTER).stdout
    for party, address in {**ADDRESSES, "liver-foundation": "accounts@liver.example.org"}.items():
        assert len(smtp.box.to(address)) == 1, address  # each delivered exactly once
    assert len(smtp.box.messages) == 4


def test_a_server_back_during_the_back_off_is_retried_and_every_attempt_is_recorded(fund_db, smtp):
    from ledger.shell.issuing import deliver, issue_quarter
    from ledger.shell.mail import MailSettings, SmtpChannel
    from models import delivery_store as store
    from models.db import make_engine

    engine = make_engine(f"sqlite:///{fund_db}")
    with engine.begin() as conn:
        store.add_contact(conn, FUND, "investor", "mersey-capital", "finance", "Finance", ADDRESSES["mersey-capital"],
                          ["statement"], "attachment", "test")
        store.add_contact(conn, FUND, "investor", "dockside-trust", "grants", "Grants", ADDRESSES["dockside-trust"],
                          ["statement"], "attachment", "test")
    result = issue_quarter(engine, FUND, QUARTER, kinds=["investor"], fmt="html", channel="smtp", by="test")
    assert len(result.queued) == 2
    smtp.box.refuse[ADDRESSES["dockside-trust"]] = "451 4.7.1 greylisted, try again later"
    settings = MailSettings.from_env({**smtp.env(), "FUEL_MAIL_RETRIES": "3", "FUEL_MAIL_BACKOFF_SECONDS": "5"})
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the back-off: the server comes up during the first wait
        waits.append(seconds)
        if smtp.controller is None:
            smtp.start()
        elif seconds >= 10:
            smtp.box.refuse.clear()  # the greylisting ends during the second wait

    outcomes = deliver(engine, FUND, SmtpChannel(settings), settings, by="test", sleep=sleep)
    assert [o["status"] for o in outcomes] == ["sent", "sent"]
    assert [w for w in waits if w >= 1] == [5.0, 10.0]  # exponential back-off from 5 s (the rest: rate limit)
    with engine.connect() as conn:
        history = conn.execute(text(
            "SELECT c.party_id, e.status, e.smtp_code FROM delivery_events e JOIN deliveries d ON d.id = e.delivery_id "
            "JOIN contacts c ON c.id = d.contact_id ORDER BY e.id")).all()
    by_party: dict[str, list] = {}
    for party, status, code in history:
        by_party.setdefault(party, []).append((status, code))
    assert by_party == {"dockside-trust": [("queued", None), ("deferred", None), ("deferred", 451), ("sent", 250)],
                        "mersey-capital": [("queued", None), ("sent", 250)]}
    assert len(smtp.box.messages) == 2
    engine.dispose()
