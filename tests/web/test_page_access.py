"""Every page x every role x own/other object: the expected status, from the page registry
(``ledger.shell.web.access.PAGE_RULES``), exactly like the API's access matrix. Signed in with
each role's API token; POSTs carry the session's CSRF token."""

from __future__ import annotations

import pytest

from ledger.shell.api.access import ALL_ROLES
from ledger.shell.web.access import PAGE_RULES, PUBLIC_PAGES, csrf_token, page_routes
from tests.web.cases import CASES, Case
from tests.web.conftest import sign_in


def _pages_app(client):
    from starlette.routing import Mount

    return next(r.app for r in client.app.routes if isinstance(r, Mount) and r.path == "/ui")


def test_every_page_is_listed(shared):
    routes = set(page_routes(_pages_app(shared.client))) - PUBLIC_PAGES
    assert routes - set(CASES) == set(), "add the new page to tests/web/cases.py"
    assert set(CASES) - routes == set(), "cases.py lists a page the app does not serve"
    assert routes == set(PAGE_RULES), "PAGE_RULES and the pages served differ"


def _matrix():
    for (method, path), case in sorted(CASES.items()):
        for role in ALL_ROLES:
            for which in ("own", "other"):
                if which == "other" and case.other is None:
                    continue
                yield pytest.param(method, path, role, which, id=f"{method} {path} {role} {which}")


def expected(method: str, path: str, role: str, which: str, case: Case) -> int:
    if role not in PAGE_RULES[(method, path)]:
        return 403
    if which == "other" and role != "auditor" and role not in case.sees_all:
        return 404
    return case.success


def _session(client) -> str:
    return client.cookies.get("fuel_session")


@pytest.mark.parametrize(("method", "path", "role", "which"), list(_matrix()))
def test_page_access(method, path, role, which, shared, fresh):
    case = CASES[(method, path)]
    status = expected(method, path, role, which, case)
    writes = method == "POST" and status == case.success
    api = fresh(f"{role}-{which}") if writes else shared
    if writes and case.prepare is not None:
        case.prepare(api.engine)
    client = api.client
    sign_in(client, api.world.tokens[role])
    call = (case.own if which == "own" else case.other)(role)
    if method == "POST":
        form = {**(call.form or {}), "csrf": csrf_token(_session(client))}
        response = client.post("/ui" + call.path, data=form, follow_redirects=False)
    else:
        response = client.get("/ui" + call.path, follow_redirects=False)
    assert response.status_code == status, response.text[:2000]
    if status == 404:  # the same page as for an object that does not exist: nothing leaks
        assert "There is no such page, or it is not yours to see." in response.text


@pytest.mark.parametrize("method,path", sorted(CASES))
def test_no_session(method, path, shared):
    """Without a session a GET goes to the login page (coming back after) and a POST is 401."""
    shared.client.cookies.clear()
    call = CASES[(method, path)].own("auditor")
    if method == "GET":
        response = shared.client.get("/ui" + call.path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/ui/login?next=")
    else:
        response = shared.client.post("/ui" + call.path, data=call.form or {}, follow_redirects=False)
        assert response.status_code == 401


@pytest.mark.parametrize("method,path", sorted(k for k in CASES if k[0] == "POST"))
def test_post_without_csrf_is_refused(method, path, shared):
    from ledger.shell.web.access import PAGE_RULES

    role = "fund_manager" if "fund_manager" in PAGE_RULES[(method, path)] else sorted(PAGE_RULES[(method, path)])[0]
    sign_in(shared.client, shared.world.tokens[role])
    call = CASES[(method, path)].own(role)
    for form in (call.form or {}, {**(call.form or {}), "csrf": "0" * 64}):
        response = shared.client.post("/ui" + call.path, data=form, follow_redirects=False)
        assert response.status_code == 403
        assert "security token" in response.text
