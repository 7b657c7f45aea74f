"""The pages after an issue: each reader sees its own issued documents with version, date and a
notice of new ones, can open the frozen bytes (and nobody else's); following a message's link
records that it was opened; the fund manager's dashboard counts sent, opened and failed."""

from __future__ import annotations

import email
import hashlib
import re
from email import policy

from tests.delivery.conftest import QUARTER
from tests.web.conftest import post_login

FUND = "lcr-blended"


def _setup(fund_db, tmp_path):
    from fastapi.testclient import TestClient

    from ledger.shell.api.app import create_app
    from ledger.shell.api.settings import Settings
    from ledger.shell.issuing import deliver, issue_quarter
    from ledger.shell.mail import MailSettings, OutboxChannel
    from models import delivery_store as store
    from models.api_store import create_token
    from models.db import make_engine

    engine = make_engine(f"sqlite:///{fund_db}")
    with engine.begin() as conn:
        store.add_contact(conn, FUND, "investor", "mersey-capital", "finance", "Finance", "f@mersey.example.org",
                          ["statement"], "attachment", "test")
        store.add_contact(conn, FUND, "investor", "dockside-trust", "grants", "Grants", "g@dockside.example.org",
                          ["statement"], "link", "test")
        tokens = {who: create_token(conn, who, role, scope)[0] for who, role, scope in (
            ("mersey", "investor", "mersey-capital"), ("dockside", "investor", "dockside-trust"),
            ("manager", "fund_manager", FUND))}
    issue_quarter(engine, FUND, QUARTER, kinds=["investor"], fmt="html", channel="outbox", by="test")
    settings = MailSettings(rate_per_second=1000, retries=0, public_url="http://testserver/ui")
    deliver(engine, FUND, OutboxChannel(tmp_path / "outbox"), settings, by="test")
    return engine, TestClient(create_app(engine, Settings()), raise_server_exceptions=False), tokens, settings


def _sign_in(client, token: str) -> None:
    client.cookies.clear()
    assert post_login(client, {"method": "token", "token": token}, follow_redirects=False).status_code == 303


def test_readers_see_their_versions_new_ones_and_only_their_own(fund_db, tmp_path):
    from ledger.shell.issuing import deliver, issue_quarter
    from ledger.shell.mail import OutboxChannel

    engine, client, tokens, settings = _setup(fund_db, tmp_path)
    _sign_in(client, tokens["mersey"])
    listing = client.get("/ui/documents")
    assert listing.status_code == 200
    assert "1 new document issued to you" in listing.text and f"Quarterly statement {QUARTER} for mersey-capital" in listing.text
    assert "dockside-trust" not in listing.text  # only its own
    [doc_id] = re.findall(r'/ui/documents/(\d+)"', listing.text)
    opened = client.get(f"/ui/documents/{doc_id}")
    assert opened.status_code == 200
    assert hashlib.sha256(opened.content).hexdigest() == opened.headers["X-Fuel-Document-SHA256"]
    assert "new document" not in client.get("/ui/documents").text  # seen now
    with engine.connect() as conn:
        from models import delivery_store as store

        others = [d["id"] for d in store.documents(conn, FUND) if d["party_id"] != "mersey-capital"]
    assert client.get(f"/ui/documents/{others[0]}").status_code == 404  # another investor's: as if missing

    # A correction: version 2 is new again; version 1 is listed as superseded and still opens.
    issue_quarter(engine, FUND, QUARTER, kinds=["investor"], fmt="html", channel="outbox", by="test",
                  parties=["mersey-capital"], reason="fee basis corrected")
    deliver(engine, FUND, OutboxChannel(tmp_path / "outbox"), settings, by="test")
    listing = client.get("/ui/documents").text
    assert "1 new document" in listing and "superseded" in listing and "fee basis corrected" in listing
    assert re.search(r'<td class="num">2</td>', listing) and re.search(r'<td class="num">1</td>', listing)
    assert client.get(f"/ui/documents/{doc_id}").status_code == 200

    # The link in dockside's message records the opening, then asks for the document (sign-in).
    [eml] = (tmp_path / "outbox" / "dockside-trust").glob("*.eml")
    body = email.message_from_bytes(eml.read_bytes(), policy=policy.default).get_body(("plain",)).get_content()
    token = re.search(r"/ui/open/(\S+)", body).group(1)
    client.cookies.clear()
    followed = client.get(f"/ui/open/{token}", follow_redirects=False)
    assert followed.status_code == 303 and "/ui/documents/" in followed.headers["location"]
    assert client.get("/ui/open/not-a-token", follow_redirects=False).status_code == 404

    _sign_in(client, tokens["manager"])
    board = client.get(f"/ui/funds/{FUND}/deliveries?quarter={QUARTER}").text
    counts = dict(re.findall(r"<dt>([^<]+)</dt><dd class=\"num\">(\d+)</dd>", board))
    # sent: mersey v1, dockside v1, mersey v2; opened: mersey v1 on the pages, dockside by its link
    assert counts["Sent"] == "3" and counts["Opened via the link or the pages"] == "2"
    assert counts["Failed (refused or bounced)"] == "0"
    engine.dispose()
