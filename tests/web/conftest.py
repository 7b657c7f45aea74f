"""Page fixtures: the API tests' world (tests/api/world.py) and TestClients signed in as each role.

``world_file``, ``fresh`` and ``shared`` are the API tests' own fixtures (imported, not copied).
"""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import fresh, shared, world_file  # noqa: F401  (the API tests' world fixtures)

CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


def post_login(client, data: dict, **options):
    """POST the sign-in form as a browser does: open the form first (its cookie and CSRF token)."""
    session = client.cookies.pop("fuel_session", None)  # a signed-in GET /login only redirects
    form = client.get("/ui/login")
    assert form.status_code == 200, form.text
    if session is not None:
        client.cookies.set("fuel_session", session)
    return client.post("/ui/login", data={**data, "csrf": CSRF.search(form.text).group(1)}, **options)


def sign_in(client, token: str) -> None:
    """Sign a TestClient in with an API token (the session cookie stays in the client)."""
    client.cookies.clear()
    response = post_login(client, {"method": "token", "token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text


def csrf_of(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return CSRF.search(response.text).group(1)
