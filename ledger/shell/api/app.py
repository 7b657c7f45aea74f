"""The app factory: ``create_app(engine)`` wires routers, problem handlers and OpenAPI.

Nothing here knows a business rule: routers call the services, ``problems`` maps errors,
``access`` decides who may call what, ``idempotency`` replays POSTs.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from sqlalchemy import Engine

from ledger.shell.api import problems
from ledger.shell.api.access import PUBLIC_PATHS, RULES, check_registry
from ledger.shell.api.settings import Settings

DESCRIPTION = """Fuel's web API: the ledger, fund flows, payment by results and reports, for fund
managers', providers' and councils' systems. Authenticate with `Authorization: Bearer <token>`
(tokens are made with `fuel tokens create`). Amounts are integer pence. Errors are RFC 9457
problem details (`application/problem+json`). Every POST accepts an `Idempotency-Key` header.
See docs/api.md."""

#: Error responses documented on every operation, beside its own.
ERRORS: dict[int, str] = {
    401: "No valid bearer token (missing, unknown, revoked or expired).",
    403: "The token's role may not call this endpoint.",
    404: "Not found, or outside the token's scope (the two are not told apart).",
    409: "Conflict: idempotency key reused for another request, entry already reversed, period closed.",
    422: "The request is invalid (a float amount, a missing field, a rule of the ledger); `errors` lists each problem.",
    429: "Too many failed logins from this address; wait `Retry-After` seconds.",
}


#: where the Swagger UI and ReDoc scripts are served from (fastapi-offline's copies)
DOCS_ASSETS = "/docs-assets"


def create_app(engine: Engine, settings: Settings | None = None) -> FastAPI:
    from ledger.shell.api import routes_calls, routes_funds, routes_partners, routes_pbr
    from models.event_writer import EventWriter

    settings = settings or Settings.from_env()
    from fastapi_offline import FastAPIOffline

    # /docs and /redoc from assets in the package: a CDN is unreachable on many fund networks.
    app = FastAPIOffline(title="Fuel API", version="1", description=DESCRIPTION, static_url=DOCS_ASSETS,
                  openapi_tags=[{"name": "auth"}, {"name": "funds"}, {"name": "ledger"},
                                {"name": "payment by results"}, {"name": "statements"}])
    app.state.engine = engine
    app.state.event_writer = EventWriter(engine)
    app.state.settings = settings
    problems.install(app)

    @app.get("/health", summary="Liveness", tags=["auth"], response_model=dict[str, str])
    def health() -> dict[str, str]:
        """Answers `{"status": "ok"}` without a token (for load balancers)."""
        return {"status": "ok"}

    app.include_router(routes_funds.api)
    app.include_router(routes_funds.ledger_api)
    app.include_router(routes_pbr.api)
    app.include_router(routes_partners.api)
    from ledger.shell.api import routes_delivery  # issuing and delivery (docs/delivery.md)

    app.include_router(routes_delivery.api)
    app.include_router(routes_calls.api)
    try:  # investor statements, once their service has landed
        from ledger.shell.api import routes_statements
    except ImportError:  # pragma: no cover - depends on the statements module
        routes_statements = None
    if routes_statements is not None and getattr(routes_statements, "api", None) is not None:
        app.include_router(routes_statements.api)
    from ledger.shell.web import mount_pages  # the web pages under /ui (docs/pages.md)

    mount_pages(app, engine, settings)
    check_registry(app)
    app.openapi = lambda: openapi(app)  # type: ignore[method-assign]
    from ledger.shell.api.guard import RequestGuard  # size, NUL, repeated keys, auth before the body

    app.add_middleware(RequestGuard, settings=settings)
    return app


def openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with problem details as every error response and the bearer scheme."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes,
                         tags=app.openapi_tags)
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = problems.Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schemas["Problem"].pop("$defs", {}).items():
        schemas[name] = definition
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer",
                                                "description": "A token from `fuel tokens create`."}}
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            codes = [] if path in PUBLIC_PATHS else list(ERRORS)
            if (method.upper(), path) in RULES:
                operation["security"] = [{"bearer": []}]
                operation["description"] = (operation.get("description", "") + "\n\nRoles: "
                                            + ", ".join(sorted(RULES[(method.upper(), path)]))).strip()
            if "201" in responses and "200" not in responses:
                responses["200"] = {**responses["201"], "description": "Already there: the stored object or run "
                                                                       "(a replay of the same request)."}
            for code in codes:
                responses[str(code)] = {"description": ERRORS[code], "content": problem}
            if path not in PUBLIC_PATHS and "Idempotency-Key" not in str(operation.get("parameters")) and method == "post":
                operation.setdefault("parameters", []).append({
                    "name": "Idempotency-Key", "in": "header", "required": False,
                    "description": "Replays the first successful response for the same request; 409 for another.",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                })
    app.openapi_schema = schema
    return schema
