"""Who may open which page: one registry of every page's roles, and the API's object checks.

``PAGE_RULES`` maps ``(METHOD, path template)`` (paths inside the ``/ui`` mount) to the roles
that may open it, exactly like ``ledger.shell.api.access.RULES`` for the API. A signed-in
principal whose role is not listed gets 403; then every object named in the path is checked by
the API's own :func:`ledger.shell.api.access.check_objects`, so an object outside the caller's
scope is a 404, the same answer as a missing one. Pages never re-implement a rule.

The pages app refuses to start if a page has no rule (:func:`check_page_registry`), and the
page access-matrix test enumerates the pages from this table.

Every POST also needs the session's CSRF token in the form field ``csrf``.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from ledger.errors import InvariantBroken
from ledger.shell.api.access import ALL_ROLES, APL, AUD, COM, FM, INV, PTR, check_objects
from models.api_store import Principal

ANY = frozenset(ALL_ROLES)
FUND_READ = frozenset({FM, AUD})
STATEMENT_READ = frozenset({FM, INV, AUD})
CLAIM_READ = frozenset({FM, COM, AUD})
CLAIM_ACT = frozenset({FM, COM})  # the same roles the API gives disputes and approval
PARTNER_READ = frozenset({FM, AUD, PTR})  # the same roles the API gives partner statements

PAGE_RULES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/"): ANY,
    # fund manager
    ("GET", "/funds"): FUND_READ,
    ("GET", "/funds/{fund_id}"): FUND_READ,
    ("GET", "/funds/{fund_id}/events/new"): frozenset({FM}),
    ("POST", "/funds/{fund_id}/events"): frozenset({FM}),
    ("GET", "/funds/{fund_id}/imports/new"): frozenset({FM}),
    ("POST", "/funds/{fund_id}/imports"): frozenset({FM}),
    ("GET", "/funds/{fund_id}/closes"): FUND_READ,
    ("POST", "/funds/{fund_id}/closes"): frozenset({FM}),
    ("GET", "/funds/{fund_id}/statements"): FUND_READ,
    ("POST", "/funds/{fund_id}/statements"): frozenset({FM}),
    ("GET", "/funds/{fund_id}/value"): FUND_READ,
    ("GET", "/funds/{fund_id}/vcse"): FUND_READ,
    ("GET", "/funds/{fund_id}/value/investor"): STATEMENT_READ,
    # bank accounts and reconciliation: the fund manager acts, an auditor reads (numbers masked);
    # investors and councils have no bank pages
    ("GET", "/funds/{fund_id}/bank"): FUND_READ,
    ("GET", "/funds/{fund_id}/bank/{account_id}"): FUND_READ,
    ("GET", "/funds/{fund_id}/bank/{account_id}/reconciliation/{fmt}"): FUND_READ,
    ("POST", "/funds/{fund_id}/bank/{account_id}/matches"): frozenset({FM}),
    ("POST", "/funds/{fund_id}/bank/{account_id}/lines/{line_id}/entry"): frozenset({FM}),
    # investor
    ("GET", "/investors/{investor_id}"): STATEMENT_READ,
    ("GET", "/funds/{fund_id}/investors/{investor_id}/statements/{quarter}"): STATEMENT_READ,
    ("GET", "/funds/{fund_id}/investors/{investor_id}/statements/{quarter}/download/{fmt}"): STATEMENT_READ,
    # council (commissioner)
    ("GET", "/contracts"): CLAIM_READ,
    ("GET", "/contracts/{contract_id}"): CLAIM_READ,
    ("GET", "/contracts/{contract_id}/value"): CLAIM_READ,
    ("GET", "/contracts/{contract_id}/claims/{period}"): CLAIM_READ,
    ("GET", "/contracts/{contract_id}/claims/{period}/download/{fmt}"): CLAIM_READ,
    ("POST", "/contracts/{contract_id}/claims/{period}/disputes"): CLAIM_ACT,
    ("POST", "/contracts/{contract_id}/claims/{period}/approval"): CLAIM_ACT,
    # delivery partner (joint-prime contracts)
    ("GET", "/contracts/{contract_id}/partners/{partner_id}"): PARTNER_READ,
    ("GET", "/contracts/{contract_id}/partners/{partner_id}/statements/{period}"): PARTNER_READ,
    ("GET", "/contracts/{contract_id}/partners/{partner_id}/statements/{period}/download/{fmt}"): PARTNER_READ,
    # issued documents and their delivery (each reader its own: checked against the scope)
    ("GET", "/documents"): ANY,
    ("GET", "/documents/{document_id}"): ANY,
    ("GET", "/funds/{fund_id}/deliveries"): FUND_READ,
    ("POST", "/funds/{fund_id}/deliveries/resend"): frozenset({FM}),
    # incubator call applicants (docs/calls.md): its own applications only (the API's object checks)
    ("GET", "/applications"): frozenset({APL}),
    ("GET", "/calls/{call_id}/apply"): frozenset({APL}),
    ("POST", "/calls/{call_id}/applications"): frozenset({APL}),
}

#: Pages anyone may open (signing in and out, the stylesheet and script, a message's link:
#: it records the opening, then the document asks for a sign-in).
PUBLIC_PAGES = frozenset({("GET", "/login"), ("POST", "/login"), ("POST", "/logout"), ("GET", "/open/{token}")})

COOKIE = "fuel_session"


class LoginRequired(Exception):
    """No valid session: a GET is sent to the login page, a POST answered 401."""


class PageForbidden(Exception):
    """Signed in, but the role may not open this page, or the form's CSRF token is wrong."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def page_routes(app) -> list[tuple[str, str]]:
    """(METHOD, path) of every page the pages app serves."""
    from ledger.shell.api.access import api_routes

    return api_routes(app)  # the API's own walker (it follows included routers)


def check_page_registry(app) -> None:
    missing = [r for r in page_routes(app) if r not in PAGE_RULES and r not in PUBLIC_PAGES]
    if missing:
        raise InvariantBroken(f"pages without an access rule in ledger/shell/web/access.py: {missing}")


def csrf_token(session_value: str) -> str:
    """The session's CSRF token: derived from the session cookie, so nothing more is stored."""
    return hashlib.sha256(f"fuel-csrf:{session_value}".encode("utf-8")).hexdigest()


def current_principal(request: Request) -> Principal | None:
    """Who the session cookie stands for (cached on the request), or None."""
    if hasattr(request.state, "principal"):
        return request.state.principal
    from models.db import reading
    from models.web_store import session_principal

    with reading(request.app.state.engine) as conn:
        principal = session_principal(conn, request.cookies.get(COOKIE))
    request.state.principal = principal
    return principal


def _check(request: Request, principal: Principal) -> None:
    route = request.scope.get("route")
    path = getattr(route, "path", "")
    rule = PAGE_RULES.get((request.method, path))
    if rule is None:  # check_page_registry makes this impossible for a started app
        raise InvariantBroken(f"no page rule for {request.method} {path}")
    if principal.role not in rule:
        raise PageForbidden(f"a {principal.role.replace('_', ' ')} may not open this page")
    check_objects(request.app.state.engine, principal, request.path_params)


async def viewer(request: Request) -> Principal:
    """The page dependency: session -> role rule -> the API's object checks -> CSRF on POST."""
    principal = await run_in_threadpool(current_principal, request)
    if principal is None:
        raise LoginRequired()
    await run_in_threadpool(_check, request, principal)
    if request.method == "POST":
        from ledger.shell.web.forms import read_form

        form = await read_form(request)
        given = form.get("csrf", "")
        if not hmac.compare_digest(given.encode(), csrf_token(request.cookies.get(COOKIE, "")).encode()):
            raise PageForbidden("the form's security token is missing or out of date: reload the page and try again")
    return principal
