"""The delivery API on a generated fund: the fund manager issues a quarter's statements to a
file outbox, lists the documents and deliveries, resends what failed; each reader downloads its
own frozen document (SHA-256 checked) and gets 404 for another's, as if it did not exist."""

from __future__ import annotations

import hashlib

from tests.delivery.conftest import QUARTER

FUND = "lcr-blended"


def test_issue_list_resend_and_readers_only_their_own(fund_db, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from ledger.shell.api.app import create_app
    from ledger.shell.api.settings import Settings
    from models import delivery_store as store
    from models.api_store import create_token
    from models.db import make_engine

    monkeypatch.setenv("FUEL_MAIL_OUTBOX", str(tmp_path / "outbox"))
    engine = make_engine(f"sqlite:///{fund_db}")
    with engine.begin() as conn:
        store.add_contact(conn, FUND, "investor", "mersey-capital", "finance", "Finance", "f@mersey.example.org",
                          ["statement"], "attachment", "test")
        store.add_contact(conn, FUND, "investor", "dockside-trust", "grants", "Grants", "g@dockside.example.org",
                          ["statement"], "attachment", "test")
        from ledger.funds import Fund
        from models.flows_store import save_fund

        save_fund(conn, Fund("another-fund", "Another fund"))  # a token's scope must exist
        tokens = {who: create_token(conn, who, role, scope)[0] for who, role, scope in (
            ("mersey", "investor", "mersey-capital"), ("dockside", "investor", "dockside-trust"),
            ("manager", "fund_manager", FUND), ("other-manager", "fund_manager", "another-fund"))}
    client = TestClient(create_app(engine, Settings()), raise_server_exceptions=False)

    def call(who: str, method: str, path: str, **kw):
        return client.request(method, path, headers={"Authorization": f"Bearer {tokens[who]}"}, **kw)

    body = {"quarter": QUARTER, "kinds": ["investor"], "format": "html"}
    assert call("mersey", "POST", f"/funds/{FUND}/statements/issue", json=body).status_code == 403
    assert call("other-manager", "POST", f"/funds/{FUND}/statements/issue", json=body).status_code == 404
    issued = call("manager", "POST", f"/funds/{FUND}/statements/issue", json=body)
    assert issued.status_code == 200, issued.text
    assert {r["status"] for r in issued.json()["sent"]} == {"sent"} and len(issued.json()["sent"]) == 2
    assert len(list((tmp_path / "outbox").rglob("*.eml"))) == 2

    docs = call("manager", "GET", f"/funds/{FUND}/documents?quarter={QUARTER}").json()
    by_party = {d["party_id"]: d for d in docs}
    assert {d["version"] for d in docs} == {1} and not any(d["superseded"] for d in docs)
    rows = call("manager", "GET", f"/funds/{FUND}/deliveries?quarter={QUARTER}").json()
    assert sorted(r["party_id"] for r in rows) == ["dockside-trust", "mersey-capital"]
    assert {r["status"] for r in rows} == {"sent"}
    assert call("manager", "POST", f"/funds/{FUND}/deliveries/resend", json={"quarter": QUARTER}).json() == {"sent": []}
    assert call("other-manager", "GET", f"/funds/{FUND}/deliveries").status_code == 404

    mine = call("mersey", "GET", "/documents").json()
    assert [d["party_id"] for d in mine] == ["mersey-capital"]  # only its own
    own = call("mersey", "GET", f"/documents/{by_party['mersey-capital']['id']}")
    assert own.status_code == 200
    assert hashlib.sha256(own.content).hexdigest() == by_party["mersey-capital"]["sha256"] == \
        own.headers["X-Fuel-Document-SHA256"]
    other = call("mersey", "GET", f"/documents/{by_party['dockside-trust']['id']}")
    missing = call("mersey", "GET", "/documents/999999")
    assert other.status_code == missing.status_code == 404  # another's document: as if missing
    assert other.json()["detail"].replace(str(by_party["dockside-trust"]["id"]), "N") == \
        missing.json()["detail"].replace("999999", "N")
    assert call("other-manager", "GET", f"/documents/{by_party['mersey-capital']['id']}").status_code == 404
    opened = call("manager", "GET", f"/funds/{FUND}/deliveries?status=opened").json()
    assert [r["party_id"] for r in opened] == ["mersey-capital"]  # the reader's download recorded

    # A distribution notice over the API: previewed, then issued to the notice contacts.
    notice = {"amount": "5000.00", "on": "2025-01-31", "notice_date": "2025-01-10", "format": "html"}
    assert call("mersey", "POST", f"/funds/{FUND}/notices/distribution", json=notice).status_code == 403
    preview = call("manager", "POST", f"/funds/{FUND}/notices/distribution", json={**notice, "dry_run": True}).json()
    assert preview["split"]["distributed_pence"] + preview["split"]["undistributed_pence"] == 500_000
    assert preview["documents"] == []
    with engine.begin() as conn:
        store.add_contact(conn, FUND, "investor", "mersey-capital", "notices", "Notices", "n@mersey.example.org",
                          ["notice"], "attachment", "test")
    issued = call("manager", "POST", f"/funds/{FUND}/notices/distribution", json=notice).json()
    assert [d["kind"] for d in issued["documents"]] == ["distribution_notice"] * len(preview["notices"])
    assert {r["contact"] for r in issued["sent"]} == {"notices"}
    mine = call("mersey", "GET", "/documents").json()
    assert {d["kind"] for d in mine} == {"investor_statement", "distribution_notice"}  # notices beside statements
    engine.dispose()
