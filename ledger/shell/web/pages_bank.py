"""Bank pages of a fund: its accounts, each account's proposed matches (confirmed by the fund
manager), unmatched bank lines (a charge or interest turned into an entry in one step) and the
reconciliation as of a date (HTML, PDF, CSV). The fund manager sees sort codes and account
numbers whole; an auditor sees them masked; investors and councils have no bank pages at all
(``access.PAGE_RULES``). Services: ``models.bank_store``; documents: ``reports.bank_reports``."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ledger.errors import FuelError, NotFound
from ledger.periods import parse_date
from ledger.shell.api.access import FM
from ledger.shell.web.access import viewer
from ledger.shell.web.forms import read_form
from ledger.shell.web.render import page
from models.api_store import Principal
from models.db import reading

pages = APIRouter()
Viewer = Annotated[Principal, Depends(viewer)]


def _as_of(text: str | None) -> date:
    return parse_date(text, "as_of") if text else date.today()


def _account_page(request: Request, fund_id: str, account_id: str, principal: Principal, as_of: date,
                  error: str | None = None, status: int = 200):
    from models import bank_store as bank
    from models.flows_store import book_of

    with reading(request.app.state.engine) as conn:
        book = book_of(conn, fund_id)
        acct, recon = bank.reconciliation(conn, account_id, as_of, fund=fund_id)
        proposals = bank.propose(conn, account_id, fund=fund_id)
        matched = {l for m in bank.active_matches(conn, account_id) for l in m.line_ids}
        unmatched = [l for l in bank.bank_lines(conn, account_id) if l["id"] not in matched]
        lines = {l["id"]: l for l in bank.bank_lines(conn, account_id)}
        entries = {i.entry_id: i for i in bank.cash_items(conn, acct)}
    rows = [{"lines": [lines[i] for i in p.line_ids], "entries": [entries[e] for e in p.entry_ids], "rule": p.rule,
             "amount_pence": p.amount_pence, "line_ids": ",".join(map(str, p.line_ids)),
             "entry_ids": ",".join(map(str, p.entry_ids))} for p in proposals]
    return page(request, "bank_account.html.j2", status_code=status, title=f"Bank account {acct.name}",
                fund=book.fund, account=acct.public(reveal=principal.role == FM), recon=recon, proposals=rows,
                unmatched=unmatched, as_of=as_of, error=error, can_write=principal.role == FM)


@pages.get("/funds/{fund_id}/bank")
def bank_accounts(fund_id: str, request: Request, principal: Viewer):
    from models import bank_store as bank
    from models.flows_store import book_of

    with reading(request.app.state.engine) as conn:
        book = book_of(conn, fund_id)
        accounts = [a.public(reveal=principal.role == FM) for a in bank.account_rows(conn, fund_id)]
    return page(request, "bank_accounts.html.j2", title="Bank accounts", fund=book.fund, accounts=accounts)


@pages.get("/funds/{fund_id}/bank/{account_id}")
def bank_account(fund_id: str, account_id: str, request: Request, principal: Viewer, as_of: str | None = None):
    return _account_page(request, fund_id, account_id, principal, _as_of(as_of))


@pages.post("/funds/{fund_id}/bank/{account_id}/matches")
async def confirm_match(fund_id: str, account_id: str, request: Request, principal: Viewer):
    from ledger.shell.cli_bank import _ids
    from models import bank_store as bank

    form = await read_form(request)

    def run():
        try:
            with request.app.state.engine.begin() as conn:
                bank.confirm(conn, account_id, _ids(form.get("lines", ""), "lines"),
                             _ids(form.get("entries", ""), "entries"), f"web:{principal.name}"[:100],
                             rule=(form.get("rule") or "manual")[:32], fund=fund_id)
        except NotFound:
            raise
        except FuelError as exc:
            return exc.message
        return None

    error = await run_in_threadpool(run)
    if error:
        return await run_in_threadpool(_account_page, request, fund_id, account_id, principal,
                                       _as_of(form.get("as_of")), error, 422)
    return RedirectResponse(f"{request.scope.get('root_path', '')}/funds/{fund_id}/bank/{account_id}"
                            f"?as_of={form.get('as_of', '')}", status_code=303)


@pages.post("/funds/{fund_id}/bank/{account_id}/lines/{line_id}/entry")
async def post_line(fund_id: str, account_id: str, line_id: int, request: Request, principal: Viewer):
    from models import bank_store as bank

    form = await read_form(request)

    def run():
        try:
            with request.app.state.engine.begin() as conn:
                bank.post_line(conn, account_id, line_id, f"web:{principal.name}"[:100],
                               source=form.get("source") or None, tranche=form.get("tranche") or None,
                               restriction=form.get("restriction") or None,
                               on=parse_date(form["date"], "date") if form.get("date") else None, fund=fund_id)
        except NotFound:
            raise
        except FuelError as exc:
            return exc.message
        return None

    error = await run_in_threadpool(run)
    if error:
        return await run_in_threadpool(_account_page, request, fund_id, account_id, principal,
                                       _as_of(form.get("as_of")), error, 422)
    return RedirectResponse(f"{request.scope.get('root_path', '')}/funds/{fund_id}/bank/{account_id}"
                            f"?as_of={form.get('as_of', '')}", status_code=303)


@pages.get("/funds/{fund_id}/bank/{account_id}/reconciliation/{fmt}")
def reconciliation_download(fund_id: str, account_id: str, fmt: str, request: Request, principal: Viewer,
                            as_of: str | None = None):
    from models import bank_store as bank
    from reports import bank_reports

    day = _as_of(as_of)
    with reading(request.app.state.engine) as conn:
        acct, recon = bank.reconciliation(conn, account_id, day, fund=fund_id)
    public = acct.public(reveal=principal.role == FM)
    name = f"reconciliation_{acct.id}_{day.isoformat()}.{fmt}"
    if fmt == "html":
        body, media = bank_reports.reconciliation_html(recon, public).encode(), "text/html; charset=utf-8"
    elif fmt == "csv":
        body, media = bank_reports.reconciliation_csv(recon).encode(), "text/csv; charset=utf-8"
    elif fmt == "pdf":
        body, media = bank_reports.reconciliation_pdf(recon, public), "application/pdf"
    else:
        raise NotFound(f"no {fmt!r} download: html, pdf or csv", field="fmt")
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                     "Cache-Control": "no-store"})
