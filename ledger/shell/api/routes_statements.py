"""Investor statements, capital accounts and waterfall distributions.

Each handler calls the statements service (``models/statements_store.py``,
``ledger/statements.py``) and the renderers of ``reports/statements``. An investor reaches only
its own statements (``{investor_id}`` is checked against the token by ``access``); a fund
manager those of investors committed to its fund.
"""

from __future__ import annotations

import tomllib
from typing import Annotated, Literal

from fastapi import Query, Request, Response

from ledger.errors import FuelError, NotFound, ValidationError
from ledger.shell.api import schemas as s
from ledger.shell.api.access import Caller, EngineDep
from ledger.shell.api.common import recorded_by, router
from ledger.shell.api.routes_funds import _one_amount
from models.db import reading

api = router("statements")

MEDIA = {"json": "application/json", "html": "text/html; charset=utf-8", "pdf": "application/pdf",
         "csv": "text/csv; charset=utf-8"}


def fund_terms(request: Request, fund_id: str):
    """The fund's statement terms: the ``*_terms.toml`` in the settings' terms folder naming it."""
    from ledger.capital_accounts import load_fund_terms

    folder = request.app.state.settings.terms_dir
    for path in sorted(folder.glob("*_terms.toml")):
        try:
            if tomllib.loads(path.read_text(encoding="utf-8")).get("fund") == fund_id:
                return load_fund_terms(path)
        except tomllib.TOMLDecodeError:
            continue
    raise FuelError(f"fund {fund_id} has no statement terms file (*_terms.toml in the API's terms folder; "
                    "format: docs/statements.md)")


def _statement(request: Request, engine, fund_id: str, investor_id: str, quarter: str):
    from ledger.periods import Period
    from ledger.statements import assemble_statements
    from models.statements_store import statement_inputs

    period = Period.parse(quarter)
    terms = fund_terms(request, fund_id)
    with reading(engine) as conn:
        inputs = statement_inputs(conn, fund_id, period, terms)
    built = assemble_statements(inputs, [investor_id])
    if not built:
        raise NotFound(f"investor {investor_id!r} has no capital in fund {fund_id} by the end of {period.name}",
                       field="investor")
    return built[0]


Quarter = Annotated[str, "quarter, e.g. 2026Q3"]


@api.get("/funds/{fund_id}/investors/{investor_id}/statements/{quarter}", summary="An investor's quarterly statement",
         response_class=Response,
         responses={200: {"description": "The statement as JSON figures, HTML, PDF or CSV.",
                          "content": {"application/json": {"schema": {"type": "object"}},
                                      "text/html": {"schema": {"type": "string"}},
                                      "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                                      "text/csv": {"schema": {"type": "string"}}}}})
def statement(fund_id: str, investor_id: str, quarter: Quarter, request: Request, engine: EngineDep,
              format: Annotated[Literal["json", "html", "pdf", "csv"], Query(description="json, html, pdf or csv.")] = "json"
              ) -> Response:
    """Capital account (QTD, YTD, since inception), commitment roll-forward, performance (DPI,
    RVPI, TVPI, IRR) and impact, as the CLI's `fuel statements` writes them."""
    from reports import statements as render

    built = _statement(request, engine, fund_id, investor_id, quarter)
    if format == "json":
        body: str | bytes = render.render_json(built)
    elif format == "csv":
        body = render.render_csv(built)
    else:
        html = render.render_html(built)
        body = html if format == "html" else render.render_pdf(html)
    return Response(body, media_type=MEDIA[format])


@api.get("/funds/{fund_id}/investors/{investor_id}/capital-account", response_model=s.CapitalAccountOut,
         summary="An investor's capital account")
def capital_account(fund_id: str, investor_id: str, request: Request, engine: EngineDep,
                    quarter: Annotated[str, Query(min_length=6, max_length=6, description="Quarter, e.g. 2026Q3.")]
                    ) -> dict:
    """The capital account and commitment roll-forward columns and performance, as JSON figures."""
    from reports.statements import figures

    data = figures(_statement(request, engine, fund_id, investor_id, quarter))
    return {k: data[k] for k in ("fund", "investor", "quarter", "currency", "capital_account", "tranche_accounts",
                                 "commitments", "performance")}


@api.post("/funds/{fund_id}/distributions", response_model=s.DistributionOut, status_code=201,
          summary="Distribute cash through the waterfall")
def distribute(fund_id: str, body: s.DistributionIn, request: Request, response: Response, principal: Caller,
               engine: EngineDep) -> dict:
    """Run the fund's waterfall for an amount and post the distribution entry. The
    `Idempotency-Key` header, when given and no `key` is, becomes the entry's ledger key."""
    from models.statements_store import distribute as run

    terms = fund_terms(request, fund_id)
    header = request.headers.get("Idempotency-Key")
    key = body.key or (f"api:{header}" if header else None)
    with engine.begin() as conn:
        pence = _one_amount(body.amount_pence, body.amount, "GBP")
        if pence <= 0:
            raise ValidationError("a distribution needs an amount above zero", field="amount_pence")
        recorded = run(conn, fund_id, pence, body.on, terms, key=key, description=body.description,
                       recorded_by=recorded_by(principal))
    if not recorded.created:
        response.status_code = 200
    return {"entry_id": recorded.post.entry.id, "created": recorded.created, "fund": fund_id, "on": body.on,
            "distributed_pence": recorded.distributed_pence, "undistributed_pence": recorded.undistributed_pence,
            "lines": list(recorded.lines)}
