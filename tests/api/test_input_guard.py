"""Issue 16 items 12, 13, 14 and 16 on the API: ids and dates out of range, oversized bodies,
NUL bytes, repeated JSON keys and headers are each a problem detail (422, 413 or 401), never a
500, and the body is never parsed (or even read) when the request is refused first."""

from __future__ import annotations

import pytest

from tests.api.world import OWN_FUND, auth

PROBLEM = "application/problem+json"


def _problem(response, status: int, needle: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert needle in response.text, response.text
    assert "Traceback" not in response.text


@pytest.mark.parametrize("method,path", [
    ("GET", f"/funds/{OWN_FUND}/entries/{2**64 + 5}"),
    ("GET", f"/funds/{OWN_FUND}/entries/{2**63}"),
    ("GET", f"/funds/{OWN_FUND}/entries/0"),
    ("POST", f"/funds/{OWN_FUND}/entries/{2**70}/reversal"),
])
def test_an_entry_id_beyond_64_bits_is_a_422(shared, method, path):
    body = {"effective_date": "2026-09-30", "reason": "test"} if method == "POST" else None
    response = shared.client.request(method, path, json=body, headers=auth(shared.world.tokens["fund_manager"]))
    _problem(response, 422, "entry_id")


@pytest.mark.parametrize("path", ["balances", "trial-balance", "reports/restrictions", "reports/sources-uses"])
@pytest.mark.parametrize("day", ["9999-12-31", "1066-10-14"])
def test_an_implausible_as_of_is_a_422(shared, path, day):
    response = shared.client.get(f"/funds/{OWN_FUND}/{path}", params={"as_of": day},
                                 headers=auth(shared.world.tokens["fund_manager"]))
    _problem(response, 422, "as_of")


def test_a_body_over_the_route_limit_is_refused_before_it_is_read(fresh):
    api = fresh()
    big = b'{"description": "' + b"x" * 1_100_000 + b'"}'
    response = api.client.post(f"/funds/{OWN_FUND}/entries", content=big,
                               headers=auth(api.world.tokens["fund_manager"], **{"Content-Type": "application/json"}))
    _problem(response, 413, "larger than this route's limit of 1,000,000 bytes")


def test_a_write_without_a_token_is_refused_before_its_body_is_read(shared):
    response = shared.client.post(f"/funds/{OWN_FUND}/entries", content=b"{" * 10_000,
                                  headers={"Content-Type": "application/json"})
    _problem(response, 401, "send a valid bearer token")


def test_the_guard_reads_no_body_it_refuses():
    """Pure ASGI check: a refused request's receive() is never called."""
    import asyncio

    from ledger.shell.api.guard import RequestGuard
    from ledger.shell.api.settings import Settings

    called = []

    async def app(scope, receive, send):  # pragma: no cover - must not run
        called.append("app")

    async def receive():
        called.append("receive")
        return {"type": "http.request", "body": b"{}", "more_body": False}

    sent = []

    async def send(message):
        sent.append(message)

    guard = RequestGuard(app, Settings())
    for headers in ([(b"content-length", b"200000000"), (b"authorization", b"Bearer x")], []):
        called.clear()
        scope = {"type": "http", "method": "POST", "path": "/funds/f/entries", "raw_path": b"/funds/f/entries",
                 "query_string": b"", "headers": headers}
        asyncio.run(guard(scope, receive, send))
        assert called == [], headers
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [413, 401]


@pytest.mark.parametrize("body", [b'{"description": "a\\u0000b"}', b'{"description": "a\x00b"}'])
def test_a_nul_byte_in_a_body_is_a_422(shared, body):
    response = shared.client.post(f"/funds/{OWN_FUND}/entries", content=body,
                                  headers=auth(shared.world.tokens["fund_manager"], **{"Content-Type": "application/json"}))
    _problem(response, 422, "NUL")


def test_a_nul_byte_in_the_query_is_a_422(shared):
    response = shared.client.get(f"/funds/{OWN_FUND}/entries?description=a%00b",
                                 headers=auth(shared.world.tokens["fund_manager"]))
    _problem(response, 422, "NUL")


def test_a_repeated_json_key_is_a_422(shared):
    body = b'{"effective_date": "2026-09-30", "effective_date": "2026-09-01", "reason": "x"}'
    response = shared.client.post(f"/funds/{OWN_FUND}/entries/1/reversal", content=body,
                                  headers=auth(shared.world.tokens["fund_manager"], **{"Content-Type": "application/json"}))
    _problem(response, 422, "'effective_date' appears twice")


def test_two_idempotency_key_headers_are_a_422(shared):
    headers = [("Authorization", f"Bearer {shared.world.tokens['fund_manager']}"), ("Content-Type", "application/json"),
               ("Idempotency-Key", "a"), ("Idempotency-Key", "b")]
    response = shared.client.post(f"/funds/{OWN_FUND}/entries/1/reversal",
                                  content=b'{"effective_date": "2026-09-30", "reason": "x"}', headers=headers)
    _problem(response, 422, "two Idempotency-Key headers")


def test_an_auditor_asking_for_a_fund_that_does_not_exist_gets_404_like_a_fund_manager(shared):
    for role in ("auditor", "fund_manager"):
        response = shared.client.get("/funds/no-such-fund/balances", headers=auth(shared.world.tokens[role]))
        _problem(response, 404, "unknown fund 'no-such-fund'")
    response = shared.client.get(f"/funds/{OWN_FUND}/balances", headers=auth(shared.world.tokens["auditor"]))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("path", ["/applications/9223372036854775808/payments", "/applications/0/payments"])
def test_an_application_id_beyond_any_row_is_not_found_not_a_500(path, shared):
    """Found by schemathesis after the calls merge: an id past 64 bits overflowed the SQLite driver."""
    from tests.api.world import auth

    response = shared.client.post(path, json={"on": "2026-01-01", "tranche": 1},
                                  headers=auth(shared.world.tokens["fund_manager"]))
    assert response.status_code == 404 and response.json()["status"] == 404
