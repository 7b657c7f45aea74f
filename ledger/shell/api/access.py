"""Who may call what: one registry of every endpoint's roles, and the object-level checks.

``RULES`` maps ``(METHOD, path template)`` to the roles that may call it. A role not listed
gets 403. Then every object named in the path is checked against the caller's scope, and an
object outside it is reported exactly like a missing one (404), so a caller cannot learn that
another fund, contract or investor exists:

* ``{fund_id}``: a fund manager's own fund; an investor's fund only if it holds a commitment in
  it (for the public figures); an auditor any;
* ``{contract_id}``: a fund manager's contracts are those of its fund; a commissioner's are
  those it is a payer of; an auditor any;
* ``{investor_id}``: an investor itself; a fund manager an investor committed to its fund; an
  auditor any;
* ``{party_id}``: an investor or commissioner only itself; a fund manager and an auditor any;
* ``{call_id}``: a fund manager's or assessor's are its fund's calls; an applicant may name any
  call (it applies to calls, and sees only its own applications to them); an auditor any;
* ``{application_id}``: a fund manager's or assessor's are those to its fund's calls; an
  applicant's only its own organisation's; an auditor any;
* ``{partner_id}`` (with ``{contract_id}``): a delivery partner only itself on its own contract
  (its token's scope is ``<contract id>/<partner id>``); a fund manager the partners of its
  fund's contracts; an auditor any. A partner token sees nothing else: every other route
  refuses its role (403).

The app refuses to start if a route has no rule (``check_registry``), and the access-matrix
test enumerates the routes from the same table.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy import Engine, select

from ledger.errors import InvariantBroken, NotFound
from ledger.shell.api.login_limit import note_failed_login, refuse_if_limited
from ledger.shell.api.problems import ApiProblem
from models.api_store import Principal, authenticate

FM, INV, COM, AUD, PTR = "fund_manager", "investor", "commissioner", "auditor", "partner"
APL, ASR = "applicant", "assessor"  # incubator calls (docs/calls.md)
ALL_ROLES = (FM, INV, COM, AUD, PTR, APL, ASR)
READ_ALL = frozenset({FM, AUD})  # fund data: the fund's manager and auditors
ANY = frozenset(ALL_ROLES)
#: every role but a delivery partner, which sees only its own partner statements
PARTIES = frozenset({FM, INV, COM, AUD})
PARTNER_READ = frozenset({FM, AUD, PTR})  # a partner's statements: not the commissioners (prime-partner terms)

RULES: dict[tuple[str, str], frozenset[str]] = {
    # who am I
    ("GET", "/me"): ANY,
    # parties (reference data shared by every fund)
    ("GET", "/parties"): READ_ALL,
    ("POST", "/parties"): frozenset({FM}),
    ("GET", "/parties/{party_id}"): PARTIES,
    # funds and their reference data
    ("GET", "/funds"): PARTIES,
    ("POST", "/funds"): frozenset({FM}),
    ("POST", "/funds/{fund_id}/setup"): frozenset({FM}),
    ("GET", "/funds/{fund_id}"): READ_ALL,
    ("GET", "/funds/{fund_id}/public"): frozenset({FM, INV, AUD}),
    ("GET", "/funds/{fund_id}/tranches"): READ_ALL,
    ("POST", "/funds/{fund_id}/tranches"): frozenset({FM}),
    ("GET", "/funds/{fund_id}/restrictions"): READ_ALL,
    ("POST", "/funds/{fund_id}/restrictions"): frozenset({FM}),
    ("GET", "/funds/{fund_id}/projects"): READ_ALL,
    ("POST", "/funds/{fund_id}/projects"): frozenset({FM}),
    ("GET", "/funds/{fund_id}/commitments"): READ_ALL,
    ("POST", "/funds/{fund_id}/commitments"): frozenset({FM}),
    # fund flows and the fund's ledger
    ("POST", "/funds/{fund_id}/events"): frozenset({FM}),
    ("POST", "/funds/{fund_id}/imports/flows"): frozenset({FM}),
    ("GET", "/funds/{fund_id}/entries"): READ_ALL,
    ("POST", "/funds/{fund_id}/entries"): frozenset({FM}),
    ("GET", "/funds/{fund_id}/entries/{entry_id}"): READ_ALL,
    ("POST", "/funds/{fund_id}/entries/{entry_id}/reversal"): frozenset({FM}),
    ("GET", "/funds/{fund_id}/balances"): READ_ALL,
    ("GET", "/funds/{fund_id}/trial-balance"): READ_ALL,
    ("GET", "/funds/{fund_id}/reports/sources-uses"): READ_ALL,
    ("GET", "/funds/{fund_id}/reports/restrictions"): READ_ALL,
    # the whole ledger
    ("GET", "/ledger/entries"): frozenset({AUD}),
    ("GET", "/ledger/entries/{entry_id}"): frozenset({AUD}),
    ("GET", "/ledger/trial-balance"): frozenset({AUD}),
    ("GET", "/ledger/verify"): READ_ALL,
    ("GET", "/ledger/period-closes"): READ_ALL,
    ("POST", "/ledger/period-closes"): frozenset({FM}),
    # investor statements
    ("GET", "/funds/{fund_id}/investors/{investor_id}/statements/{quarter}"): frozenset({FM, INV, AUD}),
    ("GET", "/funds/{fund_id}/investors/{investor_id}/capital-account"): frozenset({FM, INV, AUD}),
    ("POST", "/funds/{fund_id}/distributions"): frozenset({FM}),
    ("GET", "/funds/{fund_id}/terms"): READ_ALL,
    ("POST", "/funds/{fund_id}/terms"): frozenset({FM}),
    # issued documents and their delivery (docs/delivery.md); a reader's own via /documents
    ("POST", "/funds/{fund_id}/statements/issue"): frozenset({FM}),
    ("GET", "/funds/{fund_id}/documents"): READ_ALL,
    ("GET", "/funds/{fund_id}/deliveries"): READ_ALL,
    ("POST", "/funds/{fund_id}/deliveries/resend"): frozenset({FM}),
    ("POST", "/funds/{fund_id}/notices/drawdown"): frozenset({FM}),
    ("POST", "/funds/{fund_id}/notices/distribution"): frozenset({FM}),
    # the readers Fuel issues documents to (statements, notices), the fund manager and auditors
    ("GET", "/documents"): frozenset({FM, INV, COM, AUD, PTR}),
    ("GET", "/documents/{document_id}"): frozenset({FM, INV, COM, AUD, PTR}),
    # payment by results
    ("GET", "/contracts"): frozenset({FM, COM, AUD}),
    ("POST", "/contracts"): frozenset({FM}),
    ("GET", "/contracts/{contract_id}"): frozenset({FM, COM, AUD}),
    ("POST", "/contracts/{contract_id}/participants"): frozenset({FM}),
    ("POST", "/contracts/{contract_id}/outcomes"): frozenset({FM}),
    ("POST", "/contracts/{contract_id}/claims"): frozenset({FM}),
    ("GET", "/contracts/{contract_id}/claims/{period}"): frozenset({FM, COM, AUD}),
    ("GET", "/contracts/{contract_id}/claims/{period}/lines"): frozenset({FM, COM, AUD}),
    ("POST", "/contracts/{contract_id}/claims/{period}/disputes"): frozenset({FM, COM}),
    ("POST", "/contracts/{contract_id}/claims/{period}/approval"): frozenset({FM, COM}),
    ("POST", "/contracts/{contract_id}/claims/{period}/invoice"): frozenset({FM}),
    ("POST", "/contracts/{contract_id}/claims/{period}/payments"): frozenset({FM}),
    ("POST", "/contracts/{contract_id}/claims/{period}/sample"): frozenset({FM, COM}),
    ("GET", "/contracts/{contract_id}/claims/{period}/sample"): frozenset({FM, COM, AUD}),
    ("POST", "/contracts/{contract_id}/claims/{period}/recheck"): frozenset({FM, COM}),
    ("POST", "/contracts/{contract_id}/mechanisms"): frozenset({FM}),
    ("POST", "/contracts/{contract_id}/plan-vs-actual"): frozenset({FM, COM, AUD}),
    # joint-prime delivery partners (docs/joint-prime.md)
    ("GET", "/contracts/{contract_id}/partners"): READ_ALL,
    ("GET", "/contracts/{contract_id}/partners/{partner_id}/statements"): PARTNER_READ,
    ("GET", "/contracts/{contract_id}/partners/{partner_id}/statements/{period}"): PARTNER_READ,
    # incubator calls (docs/calls.md)
    ("GET", "/calls/{call_id}/applications"): frozenset({FM, AUD, ASR, APL}),
    ("POST", "/calls/{call_id}/applications"): frozenset({APL}),
    ("GET", "/applications/{application_id}"): frozenset({FM, AUD, ASR, APL}),
    ("POST", "/applications/{application_id}/conflicts"): frozenset({ASR}),
    ("POST", "/applications/{application_id}/scores"): frozenset({ASR}),
    ("POST", "/applications/{application_id}/decisions"): frozenset({FM}),
    ("POST", "/calls/{call_id}/publication"): frozenset({FM}),
    ("POST", "/applications/{application_id}/award"): frozenset({FM}),
    ("POST", "/applications/{application_id}/payments"): frozenset({FM}),
}

#: Routes that need no token (documentation and health).
PUBLIC_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/health"})


def api_routes(app) -> list[tuple[str, str]]:
    """(METHOD, path) of every API operation the app serves (docs routes excluded)."""
    found = []

    def walk(routes) -> None:
        for route in routes:
            included = getattr(route, "original_router", None)  # FastAPI keeps included routers as branches
            if included is not None:
                walk(included.routes)
            elif isinstance(route, APIRoute) and route.path not in PUBLIC_PATHS:
                found.extend((method, route.path) for method in sorted(route.methods - {"HEAD", "OPTIONS"}))

    walk(app.routes)
    return found


def check_registry(app) -> None:
    missing = [r for r in api_routes(app) if r not in RULES]
    if missing:
        raise InvariantBroken(f"routes without an access rule in ledger/shell/api/access.py: {missing}")


# ---------------------------------------------------------------------------- dependencies


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


EngineDep = Annotated[Engine, Depends(get_engine)]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def principal_of(request: Request, engine: Engine, conn=None) -> Principal | None:
    """The bearer token's principal, looked up once per request (on ``conn`` if given)."""
    from models.db import reading

    token = bearer_token(request)
    if token is None:
        return None
    known = getattr(request.state, "authenticated", None)
    if known is not None and known[0] == token:
        return known[1]  # the Idempotency-Key wrapper already looked this token up
    if conn is None:
        with reading(engine) as own:
            principal = authenticate(own, token)
    else:
        principal = authenticate(conn, token)
    request.state.authenticated = (token, principal)
    return principal


def authorise(request: Request, engine: EngineDep) -> Principal:
    """Authenticate, check the route's roles, then check every object in the path."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    refuse_if_limited(request)  # 429 after too many failed logins from this address
    principal = principal_of(request, engine)
    if principal is None:
        if bearer_token(request) is not None:
            note_failed_login(request)
        raise ApiProblem(401, "unauthenticated", "send a valid bearer token: Authorization: Bearer <token>",
                         headers={"WWW-Authenticate": "Bearer"})
    route = request.scope.get("route")
    rule = RULES.get((request.method, getattr(route, "path", "")))
    if rule is None:  # check_registry makes this impossible for a started app
        raise InvariantBroken(f"no access rule for {request.method} {getattr(route, 'path', '?')}")
    if principal.role not in rule:
        raise ApiProblem(403, "forbidden", f"{principal.role} tokens may not {request.method} "
                                           f"{getattr(route, 'path', '')}")
    check_objects(engine, principal, request.path_params)
    request.state.principal = principal
    return principal


Caller = Annotated[Principal, Depends(authorise)]


def check_objects(engine: Engine, principal: Principal, params: dict) -> None:
    from models.db import reading

    if principal.role == AUD:
        if "call_id" in params or "application_id" in params:
            with reading(engine) as conn:  # an auditor sees every call, but a missing one is a 404 for all
                if "call_id" in params:
                    require_call(conn, principal, params["call_id"])
                if "application_id" in params:
                    require_application(conn, principal, params["application_id"])
        if "fund_id" in params:  # an auditor sees every fund, but a fund that does not exist is a 404 for all
            from models.flows_store import funds_t

            with reading(engine) as conn:
                if conn.execute(select(funds_t.c.id).where(funds_t.c.id == params["fund_id"])).first() is None:
                    raise _hidden("fund", params["fund_id"])
        return
    if principal.role == FM and params.keys() <= {"fund_id", "entry_id"} and params.get("fund_id") == principal.scope:
        return  # a fund manager's own fund needs no look-up (the hot path: recording events)
    with reading(engine) as conn:
        if "fund_id" in params:
            require_fund(conn, principal, params["fund_id"])
        if "contract_id" in params:
            require_contract(conn, principal, params["contract_id"])
        if "investor_id" in params:
            require_investor(conn, principal, params["investor_id"])
        if "party_id" in params:
            require_party(principal, params["party_id"])
        if "partner_id" in params:
            require_partner(principal, params.get("contract_id", ""), params["partner_id"])
        if "call_id" in params:
            require_call(conn, principal, params["call_id"])
        if "application_id" in params:
            require_application(conn, principal, params["application_id"])


def _hidden(what: str, ident: str) -> NotFound:
    return NotFound(f"unknown {what} {ident!r}", field=what)


def investor_funds(conn, investor_id: str) -> set[str]:
    from models.flows_store import commitments_t

    query = select(commitments_t.c.fund_id).where(commitments_t.c.investor_id == investor_id).distinct()
    return set(conn.execute(query).scalars())


def fund_investors(conn, fund_id: str) -> set[str]:
    from models.flows_store import commitments_t

    query = select(commitments_t.c.investor_id).where(commitments_t.c.fund_id == fund_id).distinct()
    return set(conn.execute(query).scalars())


def require_fund(conn, principal: Principal, fund_id: str) -> None:
    if principal.role == AUD:
        return
    if principal.role == FM and fund_id == principal.scope:
        return
    if principal.role == INV and fund_id in investor_funds(conn, principal.scope or ""):
        return
    raise _hidden("fund", fund_id)


def contract_visible(principal: Principal, contract) -> bool:
    if principal.role == AUD:
        return True
    if principal.role == FM:
        return contract.fund == principal.scope
    if principal.role == COM:
        return principal.scope in contract.payer_ids
    if principal.role == PTR:  # its own contract only (and, by RULES, only its own partner statements)
        return principal.partner is not None and principal.partner[0] == contract.contract_id
    return False


def require_contract(conn, principal: Principal, contract_id: str):
    from models.pbr_store import get_contract

    try:
        contract = get_contract(conn, contract_id)
    except NotFound:
        raise _hidden("contract", contract_id) from None
    if not contract_visible(principal, contract):
        raise _hidden("contract", contract_id)
    return contract


def require_investor(conn, principal: Principal, investor_id: str) -> None:
    if principal.role == AUD:
        return
    if principal.role == INV and investor_id == principal.scope:
        return
    if principal.role == FM and investor_id in fund_investors(conn, principal.scope or ""):
        return
    raise _hidden("investor", investor_id)


def require_party(principal: Principal, party_id: str) -> None:
    if principal.role in (AUD, FM):
        return
    if party_id == principal.scope:
        return
    raise _hidden("party", party_id)


def require_partner(principal: Principal, contract_id: str, partner_id: str) -> None:
    """A delivery partner reaches only itself on its own contract; anyone else who passed the
    contract check may name any partner of it (the service names an unknown one)."""
    if principal.role != PTR:
        return
    if principal.partner == (contract_id, partner_id):
        return
    raise _hidden("partner", partner_id)


def require_call(conn, principal: Principal, call_id: str) -> None:
    from models.calls_store import calls_t

    fund = conn.execute(select(calls_t.c.fund_id).where(calls_t.c.id == call_id).limit(1)).scalar()
    if fund is None or (principal.role in (FM, ASR) and fund != principal.scope) or principal.role in (INV, COM, PTR):
        raise _hidden("call", call_id)


def _row_id(value) -> bool:
    """An id a database row can have (1 to 2^63-1); anything else is simply not found."""
    return str(value).isdigit() and 1 <= int(value) <= 2**63 - 1


def require_application(conn, principal: Principal, application_id: str) -> None:
    from models.calls_store import apps_t, calls_t

    query = (select(apps_t.c.org_id, calls_t.c.fund_id).select_from(apps_t.join(calls_t, calls_t.c.id == apps_t.c.call_id))
             .where(apps_t.c.id == int(application_id) if _row_id(application_id) else False).limit(1))  # fmt: skip
    row = conn.execute(query).first()
    if row is None or principal.role in (INV, COM, PTR):
        raise _hidden("application", str(application_id))
    if (principal.role in (FM, ASR) and row.fund_id != principal.scope) or (principal.role == APL and row.org_id != principal.scope):
        raise _hidden("application", str(application_id))
