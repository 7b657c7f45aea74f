"""Delivery partner pages (joint-prime contracts): a partner's statements by claim period, one
statement (view, download HTML/CSV/JSON).

A partner signs in (API token or web user whose scope is ``<contract id>/<partner id>``) and
lands on its own page; the fund manager opens the same pages for the partners of its fund's
contracts (linked from the contract page), an auditor any. ``{contract_id}`` and
``{partner_id}`` are checked by the API's object checks: another partner's page is a 404.
Figures come from ``models.partners_store`` and downloads from ``reports.partner_reports``,
the same as ``fuel partners statement`` and the API.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ledger.errors import NotFound
from ledger.periods import Period
from ledger.shell.api.access import PTR
from ledger.shell.web.access import viewer
from ledger.shell.web.render import page
from models.api_store import Principal
from models.db import reading

pages = APIRouter()
Viewer = Annotated[Principal, Depends(viewer)]

DOWNLOADS = {"html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8", "json": "application/json"}


def _statement(request: Request, contract_id: str, partner_id: str, period: str) -> dict:
    from models.partners_store import partner_statement

    name = Period.parse(period).name
    with reading(request.app.state.engine) as conn:
        return partner_statement(conn, contract_id, partner_id, name)


@pages.get("/contracts/{contract_id}/partners/{partner_id}")
def partner_home(contract_id: str, partner_id: str, request: Request, principal: Viewer):
    from models.partners_store import partner_periods
    from models.pbr_store import get_contract

    with reading(request.app.state.engine) as conn:
        contract = get_contract(conn, contract_id)
        periods = list(reversed(partner_periods(conn, contract_id, partner_id)))  # newest first
    terms = contract.partner(partner_id)
    back = None if principal.role == PTR else f"{request.scope.get('root_path', '')}/contracts/{contract_id}"
    return page(request, "partner_home.html.j2", title=f"{terms.name}: partner statements", c=contract,
                terms=terms.as_dict(), periods=periods, back=back)


@pages.get("/contracts/{contract_id}/partners/{partner_id}/statements/{period}")
async def statement_page(contract_id: str, partner_id: str, period: str, request: Request, principal: Viewer):
    s = await run_in_threadpool(_statement, request, contract_id, partner_id, period)
    return page(request, "partner_statement.html.j2", title=f"Partner statement {s['period']}: {s['partner']['name']}",
                s=s, back=f"{request.scope.get('root_path', '')}/contracts/{contract_id}/partners/{partner_id}")


@pages.get("/contracts/{contract_id}/partners/{partner_id}/statements/{period}/download/{fmt}")
async def statement_download(contract_id: str, partner_id: str, period: str, fmt: str, request: Request,
                             principal: Viewer):
    from reports.partner_reports import render_statement, statement_file_name

    if fmt not in DOWNLOADS:
        raise NotFound(f"unknown format {fmt!r}", field="format")
    s = await run_in_threadpool(_statement, request, contract_id, partner_id, period)
    disposition = "inline" if fmt == "html" else "attachment"
    return Response(render_statement(s, fmt), media_type=DOWNLOADS[fmt],
                    headers={"Content-Disposition": f'{disposition}; filename="{statement_file_name(s, fmt)}"',
                             "Cache-Control": "no-store"})
