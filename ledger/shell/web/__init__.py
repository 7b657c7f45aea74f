"""Fuel's web pages: server-rendered HTML for fund managers, investors, councils and delivery partners.

A thin layer over the same services as the API, with the same roles and object checks
(``ledger.shell.web.access`` reuses ``ledger.shell.api.access``). ``mount_pages`` mounts the
pages app under ``/ui`` on the API app that ``create_app`` builds, so ``fuel serve`` serves both.
See docs/pages.md.
"""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.errors import FuelError
from ledger.shell.web.access import LoginRequired, PageForbidden, check_page_registry

PREFIX = "/ui"
STATIC = Path(__file__).parent / "static"


def create_pages_app(engine: Engine, settings) -> FastAPI:
    from ledger.shell.web import pages_auth, pages_calls, pages_council, pages_documents, pages_fund, pages_investor, pages_partner, pages_value
    from ledger.shell.web import pages_bank

    pages = FastAPI(title="Fuel pages", docs_url=None, redoc_url=None, openapi_url=None)
    pages.state.engine = engine
    pages.state.settings = settings
    pages.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (pages_auth, pages_fund, pages_investor, pages_council, pages_partner, pages_documents, pages_value,
                   pages_bank, pages_calls):
        pages.include_router(module.pages)
    _install_errors(pages)
    check_page_registry(pages)
    return pages


def mount_pages(app: FastAPI, engine: Engine, settings) -> None:
    """Serve the pages under ``/ui`` on the API app (a mount, so the API's route registry and
    OpenAPI schema are untouched); ``/`` redirects there."""
    from ledger.shell.api.login_limit import login_limiter

    pages = create_pages_app(engine, settings)
    app.state.settings = settings
    # One failed-login limiter for the API's bearer tokens and the pages' login form.
    pages.state.login_limiter = login_limiter(_StateOnly(app))
    app.mount(PREFIX, pages)

    async def root(request: Request) -> RedirectResponse:
        return RedirectResponse(PREFIX + "/", status_code=303)

    # A plain Starlette route: not an API operation, so not in the API's registry or schema.
    app.router.add_route("/", root, methods=["GET"], include_in_schema=False)


class _StateOnly:
    """What ``login_limiter`` reads from a request: ``.app.state``."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app


def _error_page(request: Request, status: int, detail: str) -> HTMLResponse:
    from ledger.shell.web.render import page

    return page(request, "error.html.j2", status_code=status, status=status, title=HTTPStatus(status).phrase,
                detail=detail)


def _install_errors(pages: FastAPI) -> None:
    from ledger.shell.api.problems import ApiProblem, status_of

    @pages.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        if request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{request.scope.get('root_path', '')}/login?next={quote(target)}", status_code=303)
        return _error_page(request, 401, "Your session has ended. Sign in again.")

    @pages.exception_handler(ApiProblem)
    async def refused(request: Request, exc: ApiProblem):
        response = _error_page(request, exc.status, exc.detail)
        response.headers.update(exc.headers or {})
        return response

    @pages.exception_handler(PageForbidden)
    async def forbidden(request: Request, exc: PageForbidden):
        return _error_page(request, 403, exc.detail)

    @pages.exception_handler(FuelError)
    async def fuel_error(request: Request, exc: FuelError):
        status = status_of(exc)
        return _error_page(request, status, exc.message if status != 404 else "There is no such page, or it is "
                           "not yours to see.")

    @pages.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        detail = "There is no such page." if exc.status_code == 404 else str(exc.detail)
        return _error_page(request, exc.status_code, detail)
