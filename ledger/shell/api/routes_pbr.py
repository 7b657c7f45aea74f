"""Payment by results: contracts, the participant register, outcome events (bulk), claim
runs and their lifecycle, the claim statement, sampling, mechanisms, plan versus actual.

Each handler calls one service of ``models/pbr_store.py`` or ``reports/pbr_reports.py`` in one
transaction. Object checks (a contract of the caller's fund, or one the caller pays for) are
made from the path by ``access.authorise`` before the handler runs.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import Query, Response

from ledger.errors import NotFound, ValidationError
from ledger.periods import DATE_MAX, DATE_MIN
from ledger.shell.api import schemas as s
from ledger.shell.api.access import COM, FM, Caller, EngineDep, contract_visible
from ledger.shell.api.common import recorded_by, router
from ledger.shell.api.routes_funds import csv_text
from models.db import reading

api = router("payment by results")
Period = Annotated[str, "claim period, e.g. 2026Q3"]


@api.get("/contracts", response_model=list[s.ContractSummaryOut], summary="List contracts the caller may see")
def list_contracts(principal: Caller, engine: EngineDep) -> list:
    """A fund manager sees its fund's contracts; a commissioner those it pays for; an auditor all."""
    from models.pbr_store import get_contract, list_contracts as contracts

    with reading(engine) as conn:
        return [c for c in contracts(conn) if contract_visible(principal, get_contract(conn, c["id"]))]


@api.post("/contracts", response_model=s.ContractLoadOut, status_code=201, summary="Load an outcomes contract")
def load_contract(body: s.ContractIn, principal: Caller, engine: EngineDep) -> dict:
    """Check and store a contract file (TOML text). It must be for the caller's fund. Loading
    the same text again changes nothing; a contract with claim runs cannot change (422)."""
    from models.pbr_store import load_contract as load

    only_fund = principal.scope if principal.role == FM else None
    with engine.begin() as conn:  # the fund is checked before anything is stored
        contract, status = load(conn, body.toml, body.source_name, recorded_by(principal), only_fund=only_fund)
    return {"contract": contract.contract_id, "status": status, "fund": contract.fund,
            "outcomes": len(contract.outcomes), "payers": list(contract.payer_ids),
            "rate_card_versions": [v.version for v in contract.rate_cards],
            "mechanisms": [k for k, _ in contract.mechanisms]}


@api.get("/contracts/{contract_id}", response_model=s.ContractOut, summary="One contract")
def get_contract(contract_id: str, engine: EngineDep) -> dict:
    """Term, caps, payers, outcomes and every rate card version's prices."""
    from models.pbr_store import get_contract as get

    with reading(engine) as conn:
        c = get(conn, contract_id)
    prices = [
        {"version": v.version, "effective_from": v.effective_from.isoformat(),
         "effective_to": v.effective_to.isoformat() if v.effective_to else None, "outcome_id": p.outcome_id,
         "price_pence": p.price_pence, "count_cap": c.outcome(p.outcome_id).count_cap,
         "value_cap_pence": c.outcome(p.outcome_id).value_cap_pence,
         "once_only": c.outcome(p.outcome_id).once_only, "requires": list(c.outcome(p.outcome_id).requires)}
        for v in c.rate_cards for p in v.prices
    ]
    return {
        "id": c.contract_id, "name": c.name, "project": c.project, "provider": c.provider, "fund": c.fund,
        "currency": c.currency, "rounding": c.rounding, "start": c.start, "end": c.end,
        "participant_cap_pence": c.participant_cap_pence, "contract_cap_pence": c.contract_cap_pence,
        "payers": [{"id": p.payer_id, "name": p.name, "cap_pence": p.cap_pence,
                    "share": str(p.share) if p.share is not None else "remainder"} for p in c.payers],
        "exclusive_groups": [list(g) for g in c.exclusive_groups], "mechanisms": [k for k, _ in c.mechanisms],
        "prices": prices,
    }


@api.post("/contracts/{contract_id}/participants", response_model=s.ImportReportOut, status_code=201,
          summary="Import participants (bulk)")
def import_participants(contract_id: str, body: s.CsvFileIn, principal: Caller, engine: EngineDep) -> dict:
    """Add participants to the contract's register (participant_id, start_date, optional cohort,
    other attributes), all or nothing. Re-sending the same file adds nothing."""
    from models.pbr_store import import_participants as run_import

    with engine.begin() as conn:
        return run_import(conn, contract_id, csv_text(body), body.file_name, recorded_by(principal)).as_dict()


@api.post("/contracts/{contract_id}/outcomes", response_model=s.ImportReportOut, status_code=201,
          summary="Import outcome events (bulk)")
def import_outcomes(contract_id: str, body: s.CsvFileIn, principal: Caller, engine: EngineDep,
                    submitted_on: Annotated[date | None, Query(ge=DATE_MIN, le=DATE_MAX, description="Submission date for rows without one.")] = None
                    ) -> dict:
    """A provider's outcome events (participant_id, outcome_id, achieved_on, evidence_ref,
    submitted_on), all or nothing, with the rows the contract's rules will reject."""
    from models.pbr_store import import_outcomes as run_import

    with engine.begin() as conn:
        return run_import(conn, contract_id, csv_text(body), body.file_name, recorded_by(principal),
                          submitted_on).as_dict()


def _run_out(conn, run) -> dict:
    from models.pbr_store import run_payers

    return run.as_dict() | {"payers": run_payers(conn, run)}


@api.post("/contracts/{contract_id}/claims", response_model=s.ClaimRunOut, status_code=201, summary="Run a claim")
def run_claim(contract_id: str, body: s.ClaimRunIn, response: Response, principal: Caller, engine: EngineDep) -> dict:
    """Price, cap and split the waiting outcome events of a period. Running it again returns the
    stored run (200, `created` false)."""
    from models.pbr_store import run_claims

    with engine.begin() as conn:
        run = run_claims(conn, contract_id, body.period, recorded_by(principal))
        out = _run_out(conn, run)
    if not run.created:
        response.status_code = 200
    return out


@api.get("/contracts/{contract_id}/claims/{period}", response_model=s.ClaimStatementOut,
         summary="Claim statement (outcome payment statement)")
def claim_statement(contract_id: str, period: Period, engine: EngineDep) -> dict:
    """Everything a council needs to recompute the run: per outcome counts, prices, cap
    reductions and net; every line (pseudonymous ids only); payers' shares; headroom; history."""
    from reports.pbr_reports import statement

    with reading(engine) as conn:
        return statement(conn, contract_id, period)


@api.get("/contracts/{contract_id}/claims/{period}/lines", summary="Claim lines (the annex)",
         response_class=Response,
         responses={200: {"description": "The lines, as JSON rows or CSV.",
                          "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                                      "text/csv": {"schema": {"type": "string"}}}}})
def claim_lines(contract_id: str, period: Period, engine: EngineDep,
                format: Annotated[Literal["json", "csv"], Query(description="json or csv.")] = "json") -> Response:
    """One row per participant outcome: dates, evidence reference, price, caps, amount,
    cumulative paid and headroom, each payer's share; as JSON or CSV."""
    from reports.pbr_reports import statement
    from reports.render import to_csv

    with reading(engine) as conn:
        lines = statement(conn, contract_id, period)["lines"]
    if format == "csv":
        columns = list(lines[0]) if lines else []
        return Response(to_csv(lines, columns), media_type="text/csv")
    import json

    return Response(json.dumps(lines, default=str), media_type="application/json")


@api.post("/contracts/{contract_id}/claims/{period}/disputes", response_model=s.DisputeOut, status_code=201,
          summary="Dispute a claim line")
def dispute(contract_id: str, period: Period, body: s.DisputeIn, principal: Caller, engine: EngineDep) -> dict:
    """A payer disputes one line before approval: it is left out of the approved amount."""
    from models.pbr_store import dispute_line

    with engine.begin() as conn:
        status = dispute_line(conn, contract_id, period, body.line_no, body.reason, recorded_by(principal))
    return {"contract": contract_id, "period": period, "line_no": body.line_no, "status": status}


@api.post("/contracts/{contract_id}/claims/{period}/approval", response_model=s.ClaimRunOut, status_code=201,
          summary="Approve a claim run")
def approve(contract_id: str, period: Period, body: s.ApprovalIn, principal: Caller, engine: EngineDep) -> dict:
    """The payers approve the run: posts outcome payments receivable and outcome income per payer.
    A commissioner approves only its own share; the run is approved once every payer has."""
    from models.pbr_store import approve as do_approve

    payer = principal.scope if principal.role == COM else None
    with engine.begin() as conn:
        return _run_out(conn, do_approve(conn, contract_id, period, body.on, recorded_by(principal), payer=payer))


@api.post("/contracts/{contract_id}/claims/{period}/invoice", response_model=s.ClaimRunOut, status_code=201,
          summary="Invoice a claim run")
def invoice(contract_id: str, period: Period, body: s.InvoiceIn, principal: Caller, engine: EngineDep) -> dict:
    """Mark an approved run as invoiced to its payers."""
    from models.pbr_store import invoice as do_invoice

    with engine.begin() as conn:
        return _run_out(conn, do_invoice(conn, contract_id, period, body.ref, recorded_by(principal)))


@api.post("/contracts/{contract_id}/claims/{period}/payments", response_model=s.ClaimRunOut, status_code=201,
          summary="Record the payers' payment")
def pay(contract_id: str, period: Period, body: s.PaymentIn, principal: Caller, engine: EngineDep) -> dict:
    """Record cash from the payers (or one payer): posts cash against outcome payments receivable."""
    from models.pbr_store import pay as do_pay

    with engine.begin() as conn:
        return _run_out(conn, do_pay(conn, contract_id, period, body.on, recorded_by(principal), body.payer))


@api.post("/contracts/{contract_id}/claims/{period}/sample", response_model=s.SampleOut, status_code=201,
          summary="Draw a validation sample")
def sample(contract_id: str, period: Period, body: s.SampleIn, principal: Caller, engine: EngineDep) -> dict:
    """Choose the paid lines to re-check (deterministic by seed; drawn once)."""
    from models.pbr_store import draw_sample

    with engine.begin() as conn:
        return draw_sample(conn, contract_id, period, body.size, body.seed, recorded_by(principal))


@api.get("/contracts/{contract_id}/claims/{period}/sample", response_model=s.SampleOut, summary="The sample's status")
def sample_status(contract_id: str, period: Period, engine: EngineDep) -> dict:
    """Sampled lines, the re-check, error rate, recovery and what is outstanding."""
    from models.pbr_store import sample_status as status

    with reading(engine) as conn:
        return status(conn, contract_id, period)


@api.post("/contracts/{contract_id}/claims/{period}/recheck", response_model=s.SampleOut, status_code=201,
          summary="Record the re-check of the sample")
def recheck(contract_id: str, period: Period, body: s.RecheckIn, principal: Caller, engine: EngineDep) -> dict:
    """Which sampled lines failed; the recovery is carried to the next claim run."""
    from models.pbr_store import record_recheck

    with engine.begin() as conn:
        return record_recheck(conn, contract_id, period, body.invalid_lines, body.method, recorded_by(principal))


@api.post("/contracts/{contract_id}/mechanisms", response_model=s.MechanismOut, status_code=201,
          summary="Compute a comparison mechanism")
def mechanism(contract_id: str, body: s.MechanismIn, principal: Caller, engine: EngineDep) -> dict:
    """Compute one of the contract's mechanisms (cohort comparison, baseline, savings share...)
    for a period from its figures, and record the result with the figures; the next claim run
    bills it (``POST /contracts/{id}/claims``) like any outcome."""
    import tomllib

    from ledger.pbr.mechanism_inputs import compute_mechanism
    from ledger.periods import Period as Quarter
    from models.pbr_store import get_contract as get, mechanism_results, record_mechanism

    try:
        figures = tomllib.loads(body.figures_toml)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"figures_toml is not valid TOML: {exc}", field="figures_toml") from None
    with engine.begin() as conn:
        c = get(conn, contract_id)
        if not 0 <= body.index < len(c.mechanisms):
            raise ValidationError(f"contract {contract_id} has {len(c.mechanisms)} mechanism(s); index {body.index} "
                                  "is not one", field="index")
        kind, params = c.mechanisms[body.index]
        quarter = Quarter.parse(body.period)
        payment, result = compute_mechanism(kind, dict(params), figures, quarter,
                                            mechanism_results(conn, contract_id, body.index, quarter.name))
        status = record_mechanism(conn, contract_id, quarter.name, body.index, kind, body.figures_toml, payment,
                                  result, recorded_by(principal))
    return {"contract": contract_id, "period": quarter.name, "kind": kind, "payment_pence": payment,
            "status": status, "result": result}


@api.post("/contracts/{contract_id}/plan-vs-actual", response_model=s.PlanOut, summary="Planned versus actual")
def plan_vs_actual(contract_id: str, body: s.PlanIn, engine: EngineDep) -> dict:
    """Planned outcome payments (a plans CSV) against what the payers actually paid per period.
    Nothing is stored."""
    import io

    import pandas as pd

    from ledger.pbr.plans import plan_vs_actual as compare, plans_from_frame
    from models.pbr_store import actuals_by_quarter

    try:
        frame = pd.read_csv(io.StringIO(body.csv), dtype=str, keep_default_na=False, comment="#")
    except Exception as exc:  # pandas' parser errors have no common base
        raise ValidationError(f"csv is not a readable CSV: {exc}", field="csv") from None
    if "type" not in frame.columns:
        raise ValidationError("csv needs the columns type, plan_version, made_on, quarter, amount", field="csv")
    versions, _ = plans_from_frame(frame[frame["type"].str.strip() == "Planned"])
    with reading(engine) as conn:
        actuals = actuals_by_quarter(conn, contract_id)
    table = compare(versions, actuals, body.as_of or date.today())
    rows = [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in table.to_dict("records")]
    return {"contract": contract_id, "rows": rows}
