"""Council (commissioner) pages: their contracts and claims, the claim statement with its annex,
dispute a line with a reason, approve the claim, download CSV/XLSX/PDF/HTML.

The fund manager opens the same claim pages (its fund's contracts) and sees every dispute.
Services: ``models.pbr_store`` (dispute_line, approve), ``reports.pbr_reports.statement``
(the figures) and ``reports.council`` (the council statement documents).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ledger.errors import FuelError, NotFound
from ledger.shell.api.access import AUD, COM, FM, contract_visible
from ledger.shell.web.access import viewer
from ledger.shell.web.forms import read_form
from ledger.shell.web.render import page
from models.api_store import Principal
from models.db import reading

pages = APIRouter()
Viewer = Annotated[Principal, Depends(viewer)]

DOWNLOADS = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "html": "text/html; charset=utf-8"}
#: the per-outcome columns the page shows; each rejection reason and cap's reduction is in the
#: downloads (CSV, XLSX), so the table fits a desktop screen
BY_OUTCOME_COLUMNS = ("outcome_id", "rate_card_version", "unit_price_pence", "count_claimed", "count_validated",
                      "count_rejected", "count_paid", "gross_pence", "cap_reductions_pence", "net_pence")
ANNEX_COLUMNS = ("line_no", "participant_id", "outcome_id", "achieved_on", "evidence_ref", "reason", "price_pence",
                 "gross_pence", "net_pence", "cap_reason", "participant_paid_cum_pence", "participant_headroom_pence")


def _base(request: Request) -> str:
    return request.scope.get("root_path", "")


@pages.get("/contracts")
def contracts(request: Request, principal: Viewer):
    from models.pbr_store import get_contract, list_contracts
    from models.web_store import claim_runs

    with reading(request.app.state.engine) as conn:
        shown = [c for c in list_contracts(conn) if contract_visible(principal, get_contract(conn, c["id"]))]
        runs = claim_runs(conn, [c["id"] for c in shown])
    return page(request, "contracts.html.j2", title="Your outcomes contracts", contracts=shown, runs=runs)


@pages.get("/contracts/{contract_id}")
def contract(contract_id: str, request: Request, principal: Viewer):
    from models.pbr_store import get_contract
    from models.web_store import claim_runs

    with reading(request.app.state.engine) as conn:
        c = get_contract(conn, contract_id)
        runs = claim_runs(conn, [contract_id])
    # A joint-prime contract's delivery partners and their statements: the fund manager's and
    # auditors' business, not the council's (the subcontract is between prime and partner).
    partners = [p.as_dict() for p in c.partners] if principal.role in (FM, AUD) else []
    return page(request, "contract.html.j2", title=f"Contract {c.name}", c=c, runs=runs, partners=partners)


def _claim_page(request: Request, principal: Principal, contract_id: str, period: str, errors: dict | None = None,
                status: int = 200):
    from models.pbr_store import get_contract
    from reports.pbr_reports import statement

    with reading(request.app.state.engine) as conn:
        c = get_contract(conn, contract_id)
        figures = statement(conn, contract_id, period)
    run = figures["run"]
    can_act = principal.role in (FM, COM) and run["status"] == "validated"
    payers = figures["payers"]
    due = {"label": "Due", "pence": run["due_pence"]}
    if principal.role == COM:
        payers = [p for p in payers if p.get("payer_id") == principal.scope]
        # a council sees what it owes, not what the claim owes from every payer
        due = {"label": "Due from you", "pence": sum(
            p["approved_pence"] if p.get("approved_pence") is not None else p["share_pence"] - p["clawback_pence"]
            for p in payers)}
    disputed = [l for l in figures["lines"] if l.get("disputed")]
    return page(request, "claim.html.j2", status_code=status, title=f"Claim {run['period']}: {c.name}", c=c, run=run,
                figures=figures, payers=payers, lines=figures["lines"], annex_columns=ANNEX_COLUMNS,
                by_outcome=[{c: row.get(c) for c in BY_OUTCOME_COLUMNS} for row in figures["by_outcome"]],
                by_outcome_columns=BY_OUTCOME_COLUMNS,
                disputed=disputed, can_act=can_act, errors=errors or {}, due=due, today=date.today().isoformat(),
                formats=("pdf", "csv", "xlsx", "html"))


@pages.get("/contracts/{contract_id}/claims/{period}")
def claim(contract_id: str, period: str, request: Request, principal: Viewer, done: str | None = None):
    response = _claim_page(request, principal, contract_id, period)
    return response


@pages.post("/contracts/{contract_id}/claims/{period}/disputes")
async def dispute(contract_id: str, period: str, request: Request, principal: Viewer):
    from models.pbr_store import dispute_line

    form = await read_form(request)
    line = (form.get("line_no") or "").strip()

    def run():
        if not line.isdigit():
            return {"form": "Choose a line to dispute."}
        reason = (form.get("reason") or "").strip()
        if not reason:
            return {f"reason-{line}": "Give a reason for disputing this line."}
        try:
            with request.app.state.engine.begin() as conn:
                dispute_line(conn, contract_id, period, int(line), reason, f"web:{principal.name}"[:100])
        except FuelError as exc:
            return {f"reason-{line}": exc.message}
        return {}

    errors = await run_in_threadpool(run)
    if errors:
        return await run_in_threadpool(_claim_page, request, principal, contract_id, period, errors, 422)
    return RedirectResponse(f"{_base(request)}/contracts/{contract_id}/claims/{period}#line-{line}", status_code=303)


@pages.post("/contracts/{contract_id}/claims/{period}/approval")
async def approval(contract_id: str, period: str, request: Request, principal: Viewer):
    from ledger.periods import parse_date
    from models.pbr_store import approve

    form = await read_form(request)

    def run():
        try:
            on = parse_date((form.get("on") or "").strip(), "on")
            with request.app.state.engine.begin() as conn:
                approve(conn, contract_id, period, on, f"web:{principal.name}"[:100])
        except FuelError as exc:
            return {"on": exc.message}
        return {}

    errors = await run_in_threadpool(run)
    if errors:
        return await run_in_threadpool(_claim_page, request, principal, contract_id, period, errors, 422)
    return RedirectResponse(f"{_base(request)}/contracts/{contract_id}/claims/{period}", status_code=303)


@pages.get("/contracts/{contract_id}/claims/{period}/download/{fmt}")
async def download(contract_id: str, period: str, fmt: str, request: Request, principal: Viewer):
    from reports import council

    if fmt not in DOWNLOADS:
        raise NotFound(f"unknown format {fmt!r}", field="format")

    def run():
        with reading(request.app.state.engine) as conn:
            built = council.statement_for(conn, contract_id, period,
                                          payer=principal.scope if principal.role == COM else None)
        if fmt == "csv":
            body = council.render_csv(built)
        elif fmt == "xlsx":
            body = council.render_xlsx(built)
        else:
            html = council.render_html(built)
            body = html if fmt == "html" else council.render_pdf(html)
        return body, council.file_stem(built)

    body, stem = await run_in_threadpool(run)
    disposition = "inline" if fmt == "html" else "attachment"
    return Response(body, media_type=DOWNLOADS[fmt],
                    headers={"Content-Disposition": f'{disposition}; filename="{stem}.{fmt}"',
                             "Cache-Control": "no-store"})
