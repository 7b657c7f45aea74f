"""Applicant pages (incubator calls, docs/calls.md): an applicant organisation's calls and
applications with their decisions, and the form to apply to a call.

An applicant signs in (API token or web user whose scope is its org-id) and sees only its own
applications: the list is filtered by the scope, and the API's object checks make another's a
404. It never sees the assessors' scores. The form goes through ``models.calls_store``'s
``submit_application``, the same as the API and ``fuel calls apply``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from ledger.errors import FuelError
from ledger.shell.web.access import viewer
from ledger.shell.web.forms import read_form
from ledger.shell.web.render import page
from models.api_store import Principal
from models.db import reading

pages = APIRouter()
Viewer = Annotated[Principal, Depends(viewer)]
FIELDS = ("reference", "org_name", "org_type", "org_size", "area", "theme", "project", "outcomes", "amount", "submitted_on")


def _base(request: Request) -> str:
    return request.scope.get("root_path", "")


@pages.get("/applications")
def my_applications(request: Request, principal: Viewer):
    from models.calls_store import list_applications, list_calls

    with reading(request.app.state.engine) as conn:
        calls = list_calls(conn)
        mine = list_applications(conn, None, principal.scope)
    return page(request, "applicant_home.html.j2", title="Your applications", calls=calls, applications=mine)


def _form(request: Request, call_id: str, principal: Principal, values: dict, errors: dict, status: int = 200):
    from models.calls_store import list_applications, load_call

    with reading(request.app.state.engine) as conn:
        state = load_call(conn, call_id)
        mine = list_applications(conn, call_id, principal.scope)
    return page(request, "apply_form.html.j2", status_code=status, title=f"Apply to {state.call.name}",
                call=state.call, closed_on=state.closed_on, applications=mine, values=values, errors=errors,
                org_id=principal.scope, submitted=request.query_params.get("submitted"))


@pages.get("/calls/{call_id}/apply")
async def apply_form(call_id: str, request: Request, principal: Viewer):
    return await run_in_threadpool(_form, request, call_id, principal, {}, {})


@pages.post("/calls/{call_id}/applications")
async def apply(call_id: str, request: Request, principal: Viewer):
    from models.calls_store import submit_application

    form = await read_form(request)
    values = {k: form.get(k, "") for k in FIELDS}

    def run():
        try:
            with request.app.state.engine.begin() as conn:
                return submit_application(conn, call_id, {**values, "org_id": principal.scope}, f"web:{principal.name}"[:100]), {}
        except FuelError as exc:
            return None, {(exc.field if exc.field in FIELDS else "form"): exc.message}

    result, errors = await run_in_threadpool(run)
    if errors:
        return await run_in_threadpool(_form, request, call_id, principal, values, errors, 422)
    return RedirectResponse(f"{_base(request)}/calls/{call_id}/apply?submitted={result['id']}", status_code=303)
