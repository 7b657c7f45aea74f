"""Users, passwords, sessions and the page helpers: hashed at rest, ended when their source
ends, no open redirect, money in pounds, imports show every bad row, the CSV upload."""

from __future__ import annotations

import re

import pytest

from tests.api.world import OWN_FUND, OWN_INVESTOR
from tests.web.conftest import CSRF, csrf_of, post_login, sign_in


def test_password_is_hashed_with_a_salt_and_checked():
    from models.web_store import check_password, hash_password

    one, two = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert one != two and one.startswith("scrypt$") and "correct" not in one
    assert check_password("correct horse battery", one)
    assert not check_password("correct horse batterx", one)
    assert not check_password("anything", "not a hash")


def test_users_and_password_login(fresh):
    from sqlalchemy import select

    from ledger.errors import ValidationError
    from models.web_store import create_user, disable_user, users_t

    api = fresh()
    with api.engine.begin() as conn:
        create_user(conn, "ana", "a long passphrase", "investor", OWN_INVESTOR)
        with pytest.raises(ValidationError):
            create_user(conn, "ana", "another passphrase", "investor", OWN_INVESTOR)
        with pytest.raises(ValidationError):
            create_user(conn, "bo", "short", "auditor", None)
        stored = conn.execute(select(users_t.c.password_hash)).scalar()
    assert "a long passphrase" not in stored
    client = api.client
    bad = post_login(client, {"username": "ana", "password": "wrong passphrase"}, follow_redirects=False)
    assert bad.status_code == 401 and "do not match" in bad.text
    good = post_login(client, {"username": "ana", "password": "a long passphrase"}, follow_redirects=False)
    assert good.status_code == 303 and good.headers["location"] == f"/ui/investors/{OWN_INVESTOR}"
    cookie = good.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/ui" in cookie
    assert client.get(f"/ui/investors/{OWN_INVESTOR}").status_code == 200
    with api.engine.begin() as conn:
        disable_user(conn, "ana")
    assert client.get(f"/ui/investors/{OWN_INVESTOR}", follow_redirects=False).status_code == 303  # to login


def test_sessions_are_stored_hashed_and_end_with_their_token_or_logout(fresh):
    from sqlalchemy import select

    from models.api_store import revoke_token
    from models.web_store import sessions_t

    api = fresh()
    client = api.client
    sign_in(client, api.world.tokens["fund_manager"])
    value = client.cookies.get("fuel_session")
    with api.engine.connect() as conn:
        stored = conn.execute(select(sessions_t.c.session_sha256)).scalars().all()
    assert value not in stored and len(stored) == 1
    assert client.get(f"/ui/funds/{OWN_FUND}").status_code == 200
    client.post("/ui/logout")
    client.cookies.set("fuel_session", value, path="/ui")
    assert client.get(f"/ui/funds/{OWN_FUND}", follow_redirects=False).status_code == 303  # ended
    sign_in(client, api.world.tokens["fund_manager"])
    with api.engine.begin() as conn:
        revoke_token(conn, 1)
    assert client.get(f"/ui/funds/{OWN_FUND}", follow_redirects=False).status_code == 303


def test_bad_token_and_no_open_redirect(shared):
    client = shared.client
    client.cookies.clear()
    response = post_login(client, {"method": "token", "token": "fuel_nope"}, follow_redirects=False)
    assert response.status_code == 401 and 'id="token-error"' in response.text
    response = post_login(client, {"method": "token", "token": shared.world.tokens["auditor"],
                                              "next": "https://evil.example/"}, follow_redirects=False)
    assert response.headers["location"] == "/ui/funds"
    response = post_login(client, {"method": "token", "token": shared.world.tokens["auditor"],
                                              "next": "/ui/contracts"}, follow_redirects=False)
    assert response.headers["location"] == "/ui/contracts"


def test_the_login_form_needs_its_own_token_and_this_site_as_origin(shared):
    """Login CSRF (issue 16 item 16): a page elsewhere cannot sign a browser in as its author."""
    client = shared.client
    token = shared.world.tokens["auditor"]
    client.cookies.clear()
    bare = client.post("/ui/login", data={"method": "token", "token": token}, follow_redirects=False)
    assert bare.status_code == 403 and "has expired or did not come from this site" in bare.text
    assert "fuel_session" not in bare.cookies
    # an attacker's own form token, replayed from a browser holding another sign-in cookie
    client.cookies.clear()
    attacker = CSRF.search(client.get("/ui/login").text).group(1)
    client.cookies.clear()
    client.get("/ui/login")
    replayed = client.post("/ui/login", data={"method": "token", "token": token, "csrf": attacker},
                           follow_redirects=False)  # fmt: skip
    assert replayed.status_code == 403 and "fuel_session" not in replayed.cookies
    # the right token, posted from another origin
    client.cookies.clear()
    cross = post_login(client, {"method": "token", "token": token}, follow_redirects=False,
                       headers={"Origin": "https://evil.example"})  # fmt: skip
    assert cross.status_code == 403 and "sent from another site" in cross.text
    same = post_login(client, {"method": "token", "token": token}, follow_redirects=False,
                      headers={"Origin": "http://testserver"})  # fmt: skip
    assert same.status_code == 303 and "fuel_session" in same.cookies


def test_money_filter_pounds_with_separators():
    from ledger.shell.web.render import cell, money

    assert money(123_456_789) == "£1,234,567.89"
    assert money(-150) == "(£1.50)"
    assert money(0) == "£0.00"
    assert cell("net_pence", 100_000) == "£1,000.00" and cell("net_pence", None) == "\u2013"
    with pytest.raises(TypeError):
        money(1.5)


def test_every_page_has_one_h1_a_skip_link_and_labelled_inputs(shared):
    client = shared.client
    sign_in(client, shared.world.tokens["fund_manager"])
    for path in (f"/ui/funds/{OWN_FUND}", f"/ui/funds/{OWN_FUND}/events/new", f"/ui/funds/{OWN_FUND}/imports/new",
                 f"/ui/funds/{OWN_FUND}/closes", f"/ui/funds/{OWN_FUND}/statements", "/ui/contracts",
                 "/ui/contracts/lcr-housing/claims/2026Q3"):
        html = client.get(path).text
        assert html.count("<h1>") == 1, path
        assert 'href="#main"' in html and 'id="main"' in html
        ids = set(re.findall(r'<(?:input|select|textarea)[^>]*\sid="([^"]+)"', html))
        labelled = set(re.findall(r'<label for="([^"]+)"', html))
        assert ids <= labelled, (path, ids - labelled)


def test_import_shows_every_bad_row_and_accepts_an_uploaded_file(fresh):
    api = fresh()
    client = api.client
    sign_in(client, api.world.tokens["fund_manager"])
    csrf = csrf_of(client, f"/ui/funds/{OWN_FUND}/imports/new")
    bad = (f"event,date,fund,amount,tranche\ndrawdown_notice,2026-13-01,{OWN_FUND},1.00,senior\n"
           f"drawdown_notice,2026-11-01,{OWN_FUND},12.345,senior\n")
    response = client.post(f"/ui/funds/{OWN_FUND}/imports", data={"csrf": csrf, "csv_text": bad})
    assert response.status_code == 422
    rows = re.findall(r"<tr><td>([^<]+)</td><td>", response.text)
    assert rows == ["2, column date", "3, column amount"], response.text
    good = f"event,date,fund,amount,tranche\ndrawdown_notice,2026-11-01,{OWN_FUND},1.00,senior\n"
    response = client.post(f"/ui/funds/{OWN_FUND}/imports", data={"csrf": csrf},
                           files={"file": ("flows.csv", good.encode(), "text/csv")}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].endswith("imported=1")


def test_statements_zip_holds_every_investors_files(shared):
    import io
    import zipfile

    from ledger.shell.web.access import csrf_token

    client = shared.client
    sign_in(client, shared.world.tokens["fund_manager"])
    response = client.post(f"/ui/funds/{OWN_FUND}/statements",
                           data={"quarter": "2026Q3", "format_csv": "1", "format_html": "1",
                                 "csrf": csrf_token(client.cookies.get("fuel_session"))})
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert len([n for n in names if n.endswith(".csv")]) == 2 and len(names) == 4


def test_failed_logins_are_limited_like_the_api(fresh):
    api = fresh()
    client = api.client
    limit = client.app.state.settings.login_failures_max
    for _ in range(limit):
        assert post_login(client, {"method": "token", "token": "fuel_wrong"}).status_code == 401
    refused = post_login(client, {"method": "token", "token": api.world.tokens["auditor"]},
                          follow_redirects=False)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    # the same limiter as the API's bearer tokens
    assert client.get("/me", headers={"Authorization": "Bearer fuel_wrong"}).status_code == 429
