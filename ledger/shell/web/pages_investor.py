"""Investor pages: their funds and statements by quarter, performance figures and charts,
what their money achieved; one statement (view, download PDF/CSV/HTML).

Statements come from the same service and renderers as the API (``routes_statements._statement``,
``reports.statements``). ``{investor_id}`` and ``{fund_id}`` are checked by the API's object
checks: another investor's page is a 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ledger.errors import FuelError, NotFound
from ledger.shell.api.access import AUD, FM, investor_funds
from ledger.shell.web.access import viewer
from ledger.shell.web.pages_fund import fund_quarters
from ledger.shell.web.render import page
from models.api_store import Principal
from models.db import reading

pages = APIRouter()
Viewer = Annotated[Principal, Depends(viewer)]

DOWNLOADS = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8"}


def _statement(request: Request, fund_id: str, investor_id: str, quarter: str):
    from ledger.shell.api.routes_statements import _statement as build

    return build(request.app.state.engine, fund_id, investor_id, quarter)


def _percent(value) -> str:
    return "\u2013" if value is None else f"{value * 100:.2f}%"


def _multiple(value) -> str:
    return "\u2013" if value is None else f"{value:.2f}x"


@pages.get("/investors/{investor_id}")
def investor_home(investor_id: str, request: Request, principal: Viewer):
    from models.flows_store import book_of, commitment_status, parties_t
    from reports.statements import charts
    from sqlalchemy import select

    def gather():
        with reading(request.app.state.engine) as conn:
            name = conn.execute(select(parties_t.c.name).where(parties_t.c.id == investor_id)).scalar() or investor_id
            funds = sorted(investor_funds(conn, investor_id))
            if principal.role == FM:
                funds = [f for f in funds if f == principal.scope]
            rows = []
            for fund_id in funds:
                book = book_of(conn, fund_id)
                commitments = [r for r in commitment_status(conn, fund_id) if r["investor"] == investor_id]
                rows.append({"fund": book.fund, "quarters": fund_quarters(conn, fund_id), "commitments": commitments})
        for row in rows:  # performance and impact: the latest quarter's statement, if it can be built
            row["latest"], row["charts"], row["problem"] = None, {}, None
            if row["quarters"]:
                try:
                    latest = _statement(request, row["fund"].id, investor_id, row["quarters"][0])
                    row["latest"], row["charts"] = latest, charts(latest)
                except FuelError as exc:
                    row["problem"] = exc.message
        return name, rows

    name, rows = gather()
    return page(request, "investor_home.html.j2", title=f"{name}: statements and performance", investor_id=investor_id,
                investor_name=name, funds=rows, percent=_percent, multiple=_multiple)


@pages.get("/funds/{fund_id}/investors/{investor_id}/statements/{quarter}")
async def statement_page(fund_id: str, investor_id: str, quarter: str, request: Request, principal: Viewer):
    built = await run_in_threadpool(_statement, request, fund_id, investor_id, quarter)
    return page(request, "investor_statement.html.j2", title=f"Statement {built.quarter}: {built.investor_name}",
                s=built, percent=_percent, multiple=_multiple,
                back=f"{request.scope.get('root_path', '')}/investors/{investor_id}"
                if principal.role != AUD else None)


@pages.get("/funds/{fund_id}/investors/{investor_id}/statements/{quarter}/download/{fmt}")
async def statement_download(fund_id: str, investor_id: str, quarter: str, fmt: str, request: Request,
                             principal: Viewer):
    from reports import statements as render

    if fmt not in DOWNLOADS:
        raise NotFound(f"unknown format {fmt!r}", field="format")

    def run():
        built = _statement(request, fund_id, investor_id, quarter)
        if fmt == "csv":
            return render.render_csv(built), render.file_stem(built)
        html = render.render_html(built)
        return (html if fmt == "html" else render.render_pdf(html)), render.file_stem(built)

    body, stem = await run_in_threadpool(run)
    disposition = "inline" if fmt == "html" else "attachment"
    return Response(body, media_type=DOWNLOADS[fmt],
                    headers={"Content-Disposition": f'{disposition}; filename="{stem}.{fmt}"',
                             "Cache-Control": "no-store"})
