"""Investor statements, capital accounts and waterfall distributions.

Each handler calls the statements service (``models/statements_store.py``,
``ledger/statements.py``) and the renderers of ``reports/statements``. An investor reaches only
its own statements (``{investor_id}`` is checked against the token by ``access``); a fund
manager those of investors committed to its fund. The fund's terms are the stored version that
applies on the statement's last day or the distribution's date (``models/terms_store.py``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import Query, Request, Response

from ledger.errors import NotFound, ValidationError
from ledger.shell.api import schemas as s
from ledger.shell.api.access import Caller, EngineDep
from ledger.shell.api.common import recorded_by, router
from ledger.shell.api.routes_funds import _one_amount
from models.db import reading

api = router("statements")

MEDIA = {"json": "application/json", "html": "text/html; charset=utf-8", "pdf": "application/pdf",
         "csv": "text/csv; charset=utf-8"}


def _statement(engine, fund_id: str, investor_id: str, quarter: str):
    from ledger.periods import Period
    from ledger.statements import assemble_statements
    from models.statements_store import statement_inputs
    from models.terms_store import terms_for

    period = Period.parse(quarter)
    if period.last_day > date.today():  # its "as of" would be a day that has not come yet
        raise ValidationError(f"quarter {period.name} has not ended (it ends {period.last_day.isoformat()}): "
                              "a statement is drawn for a quarter that has ended", field="quarter")
    with reading(engine) as conn:
        inputs = statement_inputs(conn, fund_id, period, terms_for(conn, fund_id, period.last_day))
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
def statement(fund_id: str, investor_id: str, quarter: Quarter, engine: EngineDep,
              format: Annotated[Literal["json", "html", "pdf", "csv"], Query(description="json, html, pdf or csv.")] = "json"
              ) -> Response:
    """Capital account (QTD, YTD, since inception), commitment roll-forward, performance (DPI,
    RVPI, TVPI, IRR) and impact, as the CLI's `fuel statements` writes them."""
    from reports import statements as render

    built = _statement(engine, fund_id, investor_id, quarter)
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
def capital_account(fund_id: str, investor_id: str, engine: EngineDep,
                    quarter: Annotated[str, Query(min_length=6, max_length=6, description="Quarter, e.g. 2026Q3.")]
                    ) -> dict:
    """The capital account and commitment roll-forward columns and performance, as JSON figures."""
    from reports.statements import figures

    data = figures(_statement(engine, fund_id, investor_id, quarter))
    return {k: data[k] for k in ("fund", "investor", "quarter", "currency", "capital_account", "tranche_accounts",
                                 "commitments", "performance")}


@api.post("/funds/{fund_id}/distributions", response_model=s.DistributionOut, status_code=201,
          summary="Distribute cash through the waterfall")
def distribute(fund_id: str, body: s.DistributionIn, request: Request, response: Response, principal: Caller,
               engine: EngineDep) -> dict:
    """Run the fund's waterfall for an amount and post the distribution entry. The
    `Idempotency-Key` header, when given and no `key` is, becomes the entry's ledger key."""
    from models.statements_store import distribute as run
    from models.terms_store import terms_for

    header = request.headers.get("Idempotency-Key")
    key = body.key or (f"api:{header}" if header else None)
    with engine.begin() as conn:
        pence = _one_amount(body.amount_pence, body.amount, "GBP")
        if pence <= 0:
            raise ValidationError("a distribution needs an amount above zero", field="amount_pence")
        recorded = run(conn, fund_id, pence, body.on, terms_for(conn, fund_id, body.on), key=key,
                       description=body.description, recorded_by=recorded_by(principal))
    if not recorded.created:
        response.status_code = 200
    return {"entry_id": recorded.post.entry.id, "created": recorded.created, "fund": fund_id, "on": body.on,
            "distributed_pence": recorded.distributed_pence, "undistributed_pence": recorded.undistributed_pence,
            "lines": list(recorded.lines)}


@api.get("/funds/{fund_id}/terms", response_model=list[s.FundTermsVersionOut], summary="The fund's terms versions")
def list_terms(fund_id: str, engine: EngineDep) -> list:
    """Every stored version of the fund's statement terms: effective date, files and SHA-256, loaded by."""
    from models.flows_store import book_of
    from models.terms_store import list_terms as versions

    with reading(engine) as conn:
        book_of(conn, fund_id)  # an unknown fund is a 404, not an empty list
        return [v.as_dict() for v in versions(conn, fund_id)]


@api.post("/funds/{fund_id}/terms", response_model=s.FundTermsLoadOut, status_code=201,
          summary="Store a version of the fund's terms")
def load_terms(fund_id: str, body: s.FundTermsIn, principal: Caller, response: Response, engine: EngineDep) -> dict:
    """Check and store the fund's statement terms and waterfall (the API form of `fuel terms
    load`): 201 for a new version, 200 when the same texts are already stored. Terms whose
    waterfall tranches are not the fund's are refused (422)."""
    from models.terms_store import TermsSource, store_terms

    source = TermsSource(body.terms_toml, body.terms_name, body.waterfall_toml, body.waterfall_name)
    with engine.begin() as conn:
        version, status = store_terms(conn, source, effective_from=body.effective_from,
                                      loaded_by=recorded_by(principal), fund=fund_id)
    if status == "unchanged":
        response.status_code = 200
    return {**version.as_dict(), "status": status}
