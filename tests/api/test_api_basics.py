"""Problem details, float amounts, tokens (hashed, revoked, expired), OpenAPI completeness."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from tests.api.world import auth

EVENT = {"kind": "drawdown_notice", "effective_date": "2026-03-01", "tranche": "senior", "amount_pence": 1000}
PROBLEM_KEYS = {"type", "title", "status", "detail", "field"}


def _problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert PROBLEM_KEYS <= set(body) and body["status"] == status
    assert body["type"] == f"urn:fuel:problem:{code}"
    return body


def test_float_amount_is_422_with_a_clear_message(api):
    fm = auth(api.world.tokens["fund_manager"])
    body = _problem(api.client.post("/funds/fuel-lcr/events", json={**EVENT, "amount_pence": 1000.0}, headers=fm),
                    422, "request-validation")
    assert body["detail"] == "amount_pence must be an integer number of pence, not a float"
    assert body["field"].endswith("amount_pence") and body["errors"][0]["message"] == body["detail"]
    entry = {"entries": [{"effective_date": "2026-03-05", "description": "x", "idempotency_key": "f",
                          "postings": [{"account": "cash", "amount_pence": 1.5}, {"account": "cash", "amount_pence": -1.5}]}]}
    body = _problem(api.client.post("/funds/fuel-lcr/entries", json=entry, headers=fm), 422, "request-validation")
    assert "not a float" in body["detail"] and len(body["errors"]) == 2


def test_domain_errors_map_to_problem_details(api):
    fm = auth(api.world.tokens["fund_manager"])
    c = api.client
    _problem(c.get("/funds/fuel-lcr/entries/999999", headers=fm), 404, "not-found")
    body = _problem(c.post("/funds/fuel-lcr/events", json={**EVENT, "amount_pence": 0}, headers=fm), 422, "validation")
    assert "more than zero" in body["detail"]
    _problem(c.post("/funds/fuel-lcr/events", json={**EVENT, "tranche": "nope"}, headers=fm), 404, "not-found")
    reversal = {"effective_date": "2026-03-01", "reason": "typo"}
    assert c.post(f"/funds/fuel-lcr/entries/{api.world.own_entry}/reversal", json=reversal, headers=fm).status_code == 201
    # A new key for the same entry: the ledger refuses a second reversal.
    _problem(c.post(f"/funds/fuel-lcr/entries/{api.world.own_entry}/reversal", json={**reversal, "reason": "again"},
                    headers={**fm, "Idempotency-Key": "second"}), 409, "already-reversed")
    assert c.post("/ledger/period-closes", json={"period": "2026Q1"}, headers=fm).status_code == 201
    body = _problem(c.post("/funds/fuel-lcr/events", json={**EVENT, "effective_date": "2026-02-01"}, headers=fm),
                    409, "closed-period")
    assert body["field"] == "effective_date"
    flows = {"csv": "event,date,fund,amount,tranche\ndrawdown_notice,2026-05-01,fuel-lcr,-1,senior\n"
                    "drawdown_notice,2026-13-01,fuel-lcr,1.00,senior\n"}
    body = _problem(c.post("/funds/fuel-lcr/imports/flows", json=flows, headers=fm), 422, "import-rejected")
    assert len(body["errors"]) >= 2
    _problem(c.get("/no/such/path", headers=fm), 404, "not-found")
    _problem(c.post("/funds/fuel-lcr/events", content=b"{not json", headers={**fm, "content-type": "application/json"}),
             422, "request-validation")


def test_the_database_never_holds_a_token(api):
    from models.api_store import token_sha256

    with api.engine.connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(text("SELECT * FROM api_tokens")) for v in row)
    for token in api.world.tokens.values():
        assert token not in dump
        assert token_sha256(token) in dump


def test_revoked_and_expired_tokens_are_refused(api):
    from models.api_store import create_token, list_tokens, revoke_token

    with api.engine.begin() as conn:
        token, info = create_token(conn, "short", "auditor", None, expires_in=timedelta(seconds=-1))
        live, live_info = create_token(conn, "live", "auditor", None)
    assert api.client.get("/me", headers=auth(token)).status_code == 401
    assert api.client.get("/me", headers=auth(live)).status_code == 200
    with api.engine.begin() as conn:
        assert revoke_token(conn, live_info.id) == "revoked"
        assert revoke_token(conn, live_info.id) == "already revoked"
        assert not [t for t in list_tokens(conn) if t.id == live_info.id][0].as_dict()["active"]
    _problem(api.client.get("/me", headers=auth(live)), 401, "unauthenticated")
    _problem(api.client.get("/me", headers={"Authorization": "Basic abc"}), 401, "unauthenticated")


def test_token_scopes_are_checked(api):
    from ledger.errors import NotFound, ValidationError
    from models.api_store import create_token

    with api.engine.begin() as conn:
        with pytest.raises(ValidationError):
            create_token(conn, "x", "investor", None)
        with pytest.raises(ValidationError):
            create_token(conn, "x", "investor", "council")  # a payer, not an investor
        with pytest.raises(NotFound):
            create_token(conn, "x", "commissioner", "nobody")
        with pytest.raises(ValidationError):
            create_token(conn, "x", "auditor", "fuel-lcr")
        with pytest.raises(ValidationError):
            create_token(conn, "x", "superuser", None)


def test_lists_show_only_the_callers_objects(shared):
    c, t = shared.client, shared.world.tokens
    assert [f["id"] for f in c.get("/funds", headers=auth(t["fund_manager"])).json()] == ["fuel-lcr"]
    assert [f["id"] for f in c.get("/funds", headers=auth(t["investor"])).json()] == ["fuel-lcr"]
    assert sorted(f["id"] for f in c.get("/funds", headers=auth(t["auditor"])).json()) == ["fuel-lcr", "other-fund"]
    own = ["lcr-housing", "lcr-joint-prime"]  # the council pays for both of the fund's contracts
    assert [x["id"] for x in c.get("/contracts", headers=auth(t["commissioner"])).json()] == own
    assert [x["id"] for x in c.get("/contracts", headers=auth(t["fund_manager"])).json()] == own
    page = c.get("/funds/fuel-lcr/entries?limit=2", headers=auth(t["fund_manager"])).json()
    assert len(page["items"]) == 2 and page["next_after"] == page["items"][-1]["id"]
    rest = c.get(f"/funds/fuel-lcr/entries?limit=500&after={page['next_after']}", headers=auth(t["fund_manager"])).json()
    ids = [e["id"] for e in page["items"] + rest["items"]]
    assert ids == sorted(set(ids)) and rest["next_after"] is None
    for entry in page["items"] + rest["items"]:
        assert any(p["fund"] == "fuel-lcr" for p in entry["postings"])
    dated = c.get("/funds/fuel-lcr/entries?from=2026-02-10&to=2026-02-10", headers=auth(t["fund_manager"])).json()
    assert [e["effective_date"] for e in dated["items"]] == ["2026-02-10"]


def test_statement_formats(shared):
    fm = auth(shared.world.tokens["investor"])
    base = "/funds/fuel-lcr/investors/inv-a/statements/2026Q1"
    as_json = shared.client.get(base, headers=fm)
    assert as_json.status_code == 200 and as_json.json()["investor"] == "inv-a"
    assert shared.client.get(base + "?format=csv", headers=fm).headers["content-type"].startswith("text/csv")
    assert "<html" in shared.client.get(base + "?format=html", headers=fm).text.lower()
    pdf = shared.client.get(base + "?format=pdf", headers=fm)
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_openapi_is_complete(shared):
    from ledger.shell.api.access import RULES

    schema = shared.client.get("/openapi.json").json()
    operations = [(m.upper(), p, op) for p, item in schema["paths"].items() for m, op in item.items()]
    assert {(m, p) for m, p, _ in operations} >= set(RULES)
    problem = {"$ref": "#/components/schemas/Problem"}
    for method, path, op in operations:
        where = f"{method} {path}"
        assert op.get("summary"), where
        assert op.get("description"), where
        if method == "POST":
            assert op["requestBody"]["content"]["application/json"]["schema"], where
        ok = [code for code in op["responses"] if code.startswith("2")]
        assert ok, where
        for code in ok:
            assert all(media.get("schema") for media in op["responses"][code]["content"].values()), where
        if (method, path) in RULES:
            for code in ("401", "403", "404", "409", "422"):
                assert op["responses"][code]["content"]["application/problem+json"]["schema"] == problem, where
            assert op["security"] == [{"bearer": []}], where
