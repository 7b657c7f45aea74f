"""Value pages, one per audience (``docs/value.md``): the fund manager's and the investor's view of
a fund (``/funds/{fund}/value``, ``/funds/{fund}/value/investor``) and the council's view of one
contract (``/contracts/{contract}/value``). Each calls ``reports.value_reports.value_report``, the
same builder as ``fuel report value``, and renders ``value.html.j2``; access rules live in
``access.PAGE_RULES``."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from ledger.shell.web.access import viewer
from ledger.shell.web.render import page
from models.api_store import Principal
from models.db import reading

pages = APIRouter()
Viewer = Annotated[Principal, Depends(viewer)]

INTROS = {
    "fund": "For each contract: what the payers paid for outcomes, beside the public money those outcomes save and "
            "who saves it, and whether the contract pays for itself.",
    "investor": "What the fund's outcomes contracts achieved for the public purse and for the people they serve, "
                "per contract and for the fund.",
    "council": "What this contract's payers paid, beside the savings its outcomes bring to each agency: who pays and "
               "who benefits.",
}


def _as_of(as_of: str | None) -> date:
    from ledger.periods import parse_date

    return parse_date(as_of, "as_of") if as_of else date.today()


def _render(request: Request, audience: str, title: str, report) -> object:
    from reports.value_reports import flow_svg

    contracts = report.extra["contracts"]
    from ledger.values import AGENCY_NAMES

    return page(request, "value.html.j2", title=title, audience=audience, agency_names=AGENCY_NAMES, intro=INTROS[audience], r=report,
                contracts=contracts, flows={c["contract"]: flow_svg(c) for c in contracts},
                summary=report.tables[0], payers=report.tables[1], agencies=report.tables[2], lines=report.tables[3])


@pages.get("/funds/{fund_id}/value")
def fund_value(fund_id: str, request: Request, principal: Viewer, as_of: str | None = None):
    from reports.value_reports import value_report

    with reading(request.app.state.engine) as conn:
        report = value_report(conn, _as_of(as_of), fund_id)
    return _render(request, "fund", f"Fund {fund_id}: who pays and who benefits", report)


@pages.get("/funds/{fund_id}/value/investor")
def investor_value(fund_id: str, request: Request, principal: Viewer, as_of: str | None = None):
    from reports.value_reports import value_report

    with reading(request.app.state.engine) as conn:
        report = value_report(conn, _as_of(as_of), fund_id)
    return _render(request, "investor", f"Fund {fund_id}: what the outcomes are worth", report)


@pages.get("/contracts/{contract_id}/value")
def contract_value(contract_id: str, request: Request, principal: Viewer, as_of: str | None = None):
    from reports.value_reports import value_report

    with reading(request.app.state.engine) as conn:
        report = value_report(conn, _as_of(as_of), contract=contract_id)
    return _render(request, "council", f"Contract {contract_id}: who pays and who benefits", report)


