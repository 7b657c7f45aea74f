"""Issued documents on the pages: each reader's own documents with version, date and a notice
of new ones; one document's frozen bytes; the sign-in link's landing; the fund manager's
delivery dashboard per quarter (sent, opened, failed) with a resend button.

A reader (investor, commissioner, partner) sees only documents issued to its own party (its
scope); a fund manager those of its fund; an auditor all. Someone else's document is a 404,
like a missing one. Opening a document on the pages, or following the link in its message,
records ``opened`` on its deliveries (``models.delivery_store``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ledger.errors import NotFound
from ledger.shell.api.access import AUD, FM
from ledger.shell.web.access import viewer
from ledger.shell.web.render import page
from models.api_store import Principal
from models.db import reading

pages = APIRouter()
Viewer = Annotated[Principal, Depends(viewer)]


def visible(principal: Principal, doc: dict) -> bool:
    if principal.role == AUD:
        return True
    if principal.role == FM:
        return doc["fund_id"] == principal.scope
    return doc["party_id"] == principal.scope


def _readers_documents(engine, principal: Principal) -> list[dict]:
    from models import delivery_store as store

    with reading(engine) as conn:
        if principal.role == AUD:
            rows = store.documents(conn)
        elif principal.role == FM:
            rows = store.documents(conn, principal.scope)
        else:
            rows = store.documents(conn, party_id=principal.scope or "")
        opened = store.opened_documents(conn, [r["id"] for r in rows])
    for r in rows:
        r["new"] = r["id"] not in opened and not r["superseded"]
    return rows


@pages.get("/documents")
async def documents_page(request: Request, principal: Viewer):
    rows = await run_in_threadpool(_readers_documents, request.app.state.engine, principal)
    return page(request, "documents.html.j2", title="Issued documents", rows=rows,
                new=sum(1 for r in rows if r["new"]))


def _open(engine, principal: Principal, document_id: int) -> dict:
    from models import delivery_store as store

    with engine.begin() as conn:
        try:
            doc = store.document(conn, document_id)
        except NotFound:
            doc = None
        if doc is None or not visible(principal, doc):
            raise NotFound(f"no issued document {document_id}", field="document")
        if principal.role not in (FM, AUD):  # the reader itself has seen it
            store.record_open(conn, store.deliveries_of_document(conn, document_id), principal.name, "opened on the pages")
    return doc


@pages.get("/documents/{document_id}")
async def document_download(document_id: int, request: Request, principal: Viewer):
    doc = await run_in_threadpool(_open, request.app.state.engine, principal, document_id)
    disposition = "inline" if doc["media_type"] != "application/pdf" else "attachment"
    return Response(bytes(doc["content"]), media_type=doc["media_type"],
                    headers={"Content-Disposition": f'{disposition}; filename="{doc["file_name"]}"',
                             "X-Fuel-Document-SHA256": doc["sha256"], "X-Fuel-Document-Version": str(doc["version"]),
                             "Cache-Control": "no-store"})


def _follow_link(engine, token: str) -> int | None:
    from models import delivery_store as store

    with engine.begin() as conn:
        found = store.delivery_for_token(conn, token)
        if found is None:
            return None
        store.record_open(conn, [found[0]], "link", "opened through the link in the message")
        return found[1]


@pages.get("/open/{token}")
async def open_link(token: str, request: Request):
    """The sign-in link of a message: records that it was opened, then the document (which asks
    the reader to sign in). An unknown token is a 404 naming nothing."""
    document_id = await run_in_threadpool(_follow_link, request.app.state.engine, token[:200])
    if document_id is None:
        raise NotFound("this link is not valid: ask the fund manager to send the document again", field="token")
    return RedirectResponse(f"{request.scope.get('root_path', '')}/documents/{document_id}", status_code=303)


def _dashboard(engine, fund_id: str, quarter: str | None) -> dict:
    from models import delivery_store as store
    from models.delivery_tables import IssuedDocumentRow
    from sqlalchemy import select

    t = IssuedDocumentRow.__table__
    with reading(engine) as conn:
        quarters = [q for (q,) in conn.execute(select(t.c.quarter).where(t.c.fund_id == fund_id).distinct()
                                               .order_by(t.c.quarter.desc()))]
        chosen = quarter if quarter in quarters else (quarters[0] if quarters else None)
        board = store.dashboard(conn, fund_id, chosen) if chosen else None
    return {"quarters": quarters, "quarter": chosen, "board": board}


@pages.get("/funds/{fund_id}/deliveries")
async def deliveries_page(fund_id: str, request: Request, principal: Viewer, quarter: str | None = None):
    data = await run_in_threadpool(_dashboard, request.app.state.engine, fund_id, quarter)
    return page(request, "deliveries.html.j2", title="Deliveries", fund_id=fund_id, can_write=principal.role == FM,
                **data)


def _resend(engine, fund_id: str, quarter: str | None, by: str) -> list[dict]:
    from ledger.shell.issuing import channel_for, deliver
    from ledger.shell.mail import MailSettings
    from models import delivery_store as store
    from pathlib import Path

    with reading(engine) as conn:
        if not store.due(conn, fund_id, quarter):
            return []
    settings = MailSettings.from_env()
    channel = channel_for("outbox", Path(settings.outbox), settings) if settings.outbox else channel_for("smtp", None, settings)
    return deliver(engine, fund_id, channel, settings, by=by, quarter=quarter)


@pages.post("/funds/{fund_id}/deliveries/resend")
async def resend(fund_id: str, request: Request, principal: Viewer):
    from ledger.shell.web.forms import read_form

    form = await read_form(request)
    quarter = (form.get("quarter") or "").strip() or None
    await run_in_threadpool(_resend, request.app.state.engine, fund_id, quarter, principal.name)
    suffix = f"?quarter={quarter}" if quarter else ""
    return RedirectResponse(f"{request.scope.get('root_path', '')}/funds/{fund_id}/deliveries{suffix}", status_code=303)
