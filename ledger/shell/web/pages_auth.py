"""Signing in (with an API token, or a username and password), out, and the home redirect."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from ledger.shell.api.access import AUD, COM, FM, INV, PTR
from ledger.shell.web.access import COOKIE, csrf_token, current_principal, viewer
from ledger.shell.web.forms import read_form
from ledger.shell.web.render import page
from models.api_store import Principal

pages = APIRouter()
Viewer = Annotated[Principal, Depends(viewer)]


def home_of(base: str, principal: Principal) -> str:
    if principal.role == FM:
        return f"{base}/funds/{principal.scope}"
    if principal.role == INV:
        return f"{base}/investors/{principal.scope}"
    if principal.role == COM:
        return f"{base}/contracts"
    if principal.role == PTR and principal.partner is not None:
        contract_id, partner_id = principal.partner
        return f"{base}/contracts/{contract_id}/partners/{partner_id}"
    if principal.role == "applicant":
        return f"{base}/applications"
    return f"{base}/funds"


def _safe_next(base: str, target: str | None) -> str | None:
    """Only a path inside the pages (never another site) may be the place to go after login."""
    if target and target.startswith(base + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@pages.get("/", include_in_schema=False)
def home(request: Request, principal: Viewer) -> RedirectResponse:
    return RedirectResponse(home_of(request.scope.get("root_path", ""), principal), status_code=303)


#: Before there is a session, the login form's CSRF token is derived from this cookie's nonce, so a
#: page on another site cannot sign a browser in as someone else (login CSRF).
LOGIN_COOKIE = "fuel_login"


def _login_page(request: Request, status_code: int = 200, **context):
    base = request.scope.get("root_path", "")
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    response = page(request, "login.html.j2", title="Sign in to Fuel", status_code=status_code,
                    login_csrf=csrf_token(f"login:{nonce}"), **context)
    response.set_cookie(LOGIN_COOKIE, nonce, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        path=base or "/")
    return response


def _cross_site(request: Request) -> bool:
    """True when the browser says the form was posted from another origin (Origin, else Referer)."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if claimed is None:
        return False  # not sent by every client; the token still has to match
    parts = urlsplit(claimed)
    return (parts.scheme, parts.netloc) != (request.url.scheme, request.url.netloc)


def _login_refusal(request: Request) -> str | None:
    if _cross_site(request):
        return "This sign-in form was sent from another site. Open the sign-in page of this site and try again."
    return None


@pages.get("/login")
def login_form(request: Request, next: str | None = None):
    principal = current_principal(request)
    base = request.scope.get("root_path", "")
    if principal is not None:
        return RedirectResponse(_safe_next(base, next) or home_of(base, principal), status_code=303)
    return _login_page(request, next=_safe_next(base, next) or "", errors={}, values={})


@pages.post("/login")
async def login(request: Request):
    from models.web_store import authenticate_password, login_with_token, start_session

    from ledger.shell.api.login_limit import note_failed_login, note_successful_login, refuse_if_limited

    refuse_if_limited(request)  # the API's limit: 429 after too many failed logins from this address
    form = await read_form(request)
    base = request.scope.get("root_path", "")
    method = form.get("method", "password")
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    expected = csrf_token(f"login:{nonce}") if nonce else ""
    refused = _login_refusal(request) or (
        None if expected and hmac.compare_digest(form.get("csrf", "").encode(), expected.encode())
        else "The sign-in form has expired or did not come from this site: it has been reloaded, sign in again.")
    if refused:
        return _login_page(request, status_code=403, next=_safe_next(base, form.get("next")) or "",
                           errors={"form": refused}, values={"username": form.get("username", ""), "method": method})
    engine = request.app.state.engine

    def attempt():
        with engine.begin() as conn:
            if method == "token":
                principal = login_with_token(conn, form.get("token", ""))
            else:
                principal = authenticate_password(conn, form.get("username", ""), form.get("password", ""))
            return (principal, start_session(conn, principal)) if principal is not None else (None, None)

    principal, session = await run_in_threadpool(attempt)
    if principal is None:
        note_failed_login(request)
        field = "token" if method == "token" else "password"
        message = ("That token is not valid (unknown, revoked or expired)." if method == "token"
                   else "That username and password do not match an active user.")
        return _login_page(request, status_code=401, next=_safe_next(base, form.get("next")) or "",
                           errors={field: message}, values={"username": form.get("username", ""), "method": method})
    note_successful_login(request)
    response = RedirectResponse(_safe_next(base, form.get("next")) or home_of(base, principal), status_code=303)
    response.set_cookie(COOKIE, session, httponly=True, samesite="lax", secure=request.url.scheme == "https",
                        path=base or "/")
    response.delete_cookie(LOGIN_COOKIE, path=base or "/")
    return response


@pages.post("/logout")
async def logout(request: Request):
    from models.web_store import end_session

    engine = request.app.state.engine
    value = request.cookies.get(COOKIE)

    def end():
        with engine.begin() as conn:
            end_session(conn, value)

    await run_in_threadpool(end)
    base = request.scope.get("root_path", "")
    response = RedirectResponse(f"{base}/login", status_code=303)
    response.delete_cookie(COOKIE, path=base or "/")
    return response
