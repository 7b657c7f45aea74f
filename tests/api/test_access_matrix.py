"""Every endpoint x every role x own/other object: the expected status, from the access
registry. A route the app serves that is not in ``tests/api/cases.py`` (or not in the
registry) fails ``test_every_route_is_listed``."""

from __future__ import annotations

import pytest

from ledger.shell.api.access import ALL_ROLES, RULES, api_routes
from tests.api.cases import CASES, Case
from tests.api.world import auth


def _matrix():
    for (method, path), case in sorted(CASES.items()):
        for role in ALL_ROLES:
            for which in ("own", "other"):
                if which == "other" and case.other is None:
                    continue
                yield pytest.param(method, path, role, which, id=f"{method} {path} {role} {which}")


def expected(method: str, path: str, role: str, which: str, case: Case) -> int:
    if role not in RULES[(method, path)]:
        return 403
    if which == "other" and role != "auditor" and role not in case.sees_all:
        return 404
    return case.success


def test_every_route_is_listed(shared):
    routes = set(api_routes(shared.client.app))
    assert routes - set(CASES) == set(), "add the new route to tests/api/cases.py"
    assert set(CASES) - routes == set(), "cases.py lists a route the app does not serve"
    assert routes == set(RULES), "access.RULES and the app's routes differ"


@pytest.mark.parametrize(("method", "path", "role", "which"), list(_matrix()))
def test_access(method, path, role, which, shared, fresh):
    case = CASES[(method, path)]
    status = expected(method, path, role, which, case)
    writes = method != "GET" and status == case.success
    api = fresh(f"{role}-{which}") if writes else shared
    if writes and case.prepare is not None:
        case.prepare(api.engine)
    call = (case.own if which == "own" else case.other)(api.world, role)
    response = api.client.request(method, call.path, json=call.json, headers=auth(api.world.tokens[role]))
    assert response.status_code == status, response.text
    if status >= 400:
        assert response.headers["content-type"] == "application/problem+json"
    if status == 404:
        # The answer is the same as for an object that does not exist: nothing about it leaks.
        assert "unknown" in response.json()["detail"] or "does not exist" in response.json()["detail"]


@pytest.mark.parametrize("method,path", sorted(CASES))
def test_no_token_is_401(method, path, shared):
    case = CASES[(method, path)]
    call = case.own(shared.world, "auditor")
    response = shared.client.request(method, call.path, json=call.json)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["type"] == "urn:fuel:problem:unauthenticated"
