"""Value pages, one per audience (``docs/value.md``): the fund manager's and the investor's view of
a fund (``/funds/{fund}/value``, ``/funds/{fund}/value/investor``) and the council's view of one
contract (``/contracts/{contract}/value``). Each calls ``reports.value_reports.value_report``, the
same builder as ``fuel report value``, and renders ``value.html.j2``; access rules live in
``access.PAGE_RULES``."""

from __future__ import annotations

from datetime import date, timedelta
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


def previous_quarter_end(day: date) -> date:
    """The last day of the quarter before the one holding ``day``: "since last quarter"."""
    from ledger.periods import Period

    quarter = Period.parse(f"{day.year}Q{(day.month - 1) // 3 + 1}")
    return quarter.start - timedelta(days=1)


def earlier_report(conn, day: date, fund: str | None = None, contract: str | None = None):
    """The value report at the end of the previous quarter, or None when none can be built then
    (no table version applied yet)."""
    from ledger.errors import FuelError
    from reports.value_reports import value_report

    try:
        return value_report(conn, previous_quarter_end(day), fund, contract)
    except FuelError:
        return None


def value_story(conn, fund_id: str, day: date):
    """The fund's value narrative for the dashboard (empty when it has no value tables)."""
    from ledger.errors import FuelError
    from reports.narrative import value_narrative
    from reports.value_reports import value_report

    try:
        return value_narrative(value_report(conn, day, fund_id), earlier_report(conn, day, fund_id), f"{fund_id}/value")
    except FuelError:
        return ()


def _render(request: Request, audience: str, title: str, report, previous=None) -> object:
    from reports.narrative import value_narrative
    from reports.value_reports import flow_svg

    contracts = report.extra["contracts"]
    from ledger.values import AGENCY_NAMES

    return page(request, "value.html.j2", title=title, audience=audience, agency_names=AGENCY_NAMES, intro=INTROS[audience], r=report,
                contracts=contracts, narrative=value_narrative(report, previous), flows={c["contract"]: flow_svg(c) for c in contracts},
                summary=report.tables[0], payers=report.tables[1], agencies=report.tables[2], lines=report.tables[3])


@pages.get("/funds/{fund_id}/value")
def fund_value(fund_id: str, request: Request, principal: Viewer, as_of: str | None = None):
    from reports.value_reports import value_report

    with reading(request.app.state.engine) as conn:
        day = _as_of(as_of)
        report = value_report(conn, day, fund_id)
        previous = earlier_report(conn, day, fund_id)
    return _render(request, "fund", f"Fund {fund_id}: who pays and who benefits", report, previous)


@pages.get("/funds/{fund_id}/value/investor")
def investor_value(fund_id: str, request: Request, principal: Viewer, as_of: str | None = None):
    from reports.value_reports import value_report

    with reading(request.app.state.engine) as conn:
        day = _as_of(as_of)
        report = value_report(conn, day, fund_id)
        previous = earlier_report(conn, day, fund_id)
    return _render(request, "investor", f"Fund {fund_id}: what the outcomes are worth", report, previous)


@pages.get("/contracts/{contract_id}/value")
def contract_value(contract_id: str, request: Request, principal: Viewer, as_of: str | None = None):
    from reports.value_reports import value_report

    with reading(request.app.state.engine) as conn:
        day = _as_of(as_of)
        report = value_report(conn, day, contract=contract_id, require_table=False)
        previous = earlier_report(conn, day, contract=contract_id) if report.extra["contracts"] else None
    return _render(request, "council", f"Contract {contract_id}: who pays and who benefits", report, previous)




@pages.get("/funds/{fund_id}/vcse")
def fund_vcse(fund_id: str, request: Request, principal: Viewer, date_from: str | None = None, date_to: str | None = None):
    """Local VCSE capacity for the fund manager: the same builder as ``fuel report vcse``."""
    from ledger.periods import parse_date
    from reports.fund_reports import _chart_svg
    from reports.vcse_reports import vcse_report

    with reading(request.app.state.engine) as conn:
        start = parse_date(date_from, "date_from") if date_from else None
        report = vcse_report(conn, fund_id, start, _as_of(date_to))
    return page(request, "vcse.html.j2", title=f"Fund {fund_id}: local VCSE capacity", r=report,
                charts=[_chart_svg(spec, report.currency) for spec in report.charts])
