"""Joint-prime delivery partners: a contract's partners and their terms, and each partner's
statement per claim period (docs/joint-prime.md).

Thin: each handler calls one service of ``models/partners_store.py`` and, for a statement,
``reports.partner_reports.render_statement`` (the same figures and bytes as ``fuel partners
statement``). Who may see what is decided before the handler runs (``access.authorise``): a
partner token reaches only its own partner on its own contract (anything else is a 404, like
a missing one); a fund manager its fund's contracts' partners; an auditor any. Commissioners
are not given partner statements: the subcontract terms are between the prime and the partner.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query, Response

from ledger.periods import Period
from ledger.shell.api import schemas as s
from ledger.shell.api.access import EngineDep
from ledger.shell.api.common import router
from models.db import reading

api = router("payment by results")

MEDIA = {"json": "application/json", "html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8"}
ClaimPeriod = Annotated[str, "claim period, e.g. 2026Q3"]


@api.get("/contracts/{contract_id}/partners", response_model=list[s.PartnerOut],
         summary="A joint-prime contract's delivery partners")
def list_partners(contract_id: str, engine: EngineDep) -> list:
    """Each partner's subcontract terms (share, fees, caps, rounding) and how many participants
    it has in the register. A contract without partners is refused (422)."""
    from models.partners_store import list_partners as partners

    with reading(engine) as conn:
        return partners(conn, contract_id)


@api.get("/contracts/{contract_id}/partners/{partner_id}/statements", response_model=list[s.PartnerPeriodOut],
         summary="The periods passed through to one partner")
def partner_periods(contract_id: str, partner_id: str, engine: EngineDep) -> list:
    """Oldest first: for each claim period passed through, the partner's share, fees, total,
    what was paid (and when) and what is outstanding. Each has a statement."""
    from models.partners_store import partner_periods as periods

    with reading(engine) as conn:
        return periods(conn, contract_id, partner_id)


@api.get("/contracts/{contract_id}/partners/{partner_id}/statements/{period}",
         summary="A delivery partner's statement for a claim period", response_class=Response,
         responses={200: {"description": "The statement as JSON figures, HTML or CSV.",
                          "content": {"application/json": {"schema": {"type": "object"}},
                                      "text/html": {"schema": {"type": "string"}},
                                      "text/csv": {"schema": {"type": "string"}}}}})
def partner_statement(contract_id: str, partner_id: str, period: ClaimPeriod, engine: EngineDep,
                      format: Annotated[Literal["json", "html", "csv"], Query(description="json, html or csv.")] = "json"
                      ) -> Response:
    """The outcomes the partner's participants achieved (by outcome, and line by line with
    pseudonymous ids), what the prime was paid for them, the partner's share and fees (with any
    cap), paid and outstanding, and the same to date: exactly what `fuel partners statement`
    writes. CSV columns: section, item, outcome_id, participant_id, count, amount_pence, value."""
    from models.partners_store import partner_statement as statement
    from reports.partner_reports import render_statement, statement_file_name

    name = Period.parse(period).name  # a bad period is a 422 naming `period`, before anything is read
    with reading(engine) as conn:
        figures = statement(conn, contract_id, partner_id, name)
    headers = {}
    if format != "json":
        disposition = "attachment" if format == "csv" else "inline"
        headers["Content-Disposition"] = f'{disposition}; filename="{statement_file_name(figures, format)}"'
    return Response(render_statement(figures, format), media_type=MEDIA[format], headers=headers)
