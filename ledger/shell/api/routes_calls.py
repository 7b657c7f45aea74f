"""Incubator calls through the API (docs/calls.md): applicants apply and see their own
applications and decisions; assessors declare conflicts and score; the fund manager decides.

Who may see what is decided before the handler runs (``access.authorise``): an applicant token
is scoped to its organisation's org-id and reaches only its own applications (another's is a 404,
like a missing one), and never the scores; an assessor token is scoped to a fund and scores as
its token's name, refused on an application it declared a conflict on; a fund manager reaches
its fund's calls.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from ledger.shell.api.access import APL, Caller, EngineDep
from ledger.shell.api.common import recorded_by, router
from models.db import reading

api = router("incubator calls")


class ApplicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: str = Field(description="The applicant's own reference (an id).")
    org_name: str
    org_type: str
    org_size: str
    area: str
    theme: str
    project: str
    outcomes: str = Field(description="The outcomes the project aims at.")
    amount: str = Field(description="Asked, in pounds as text, e.g. 8000.00.")
    submitted_on: date


class ApplicationOut(BaseModel):
    id: int
    call: str
    reference: str
    org_id: str
    org_name: str
    org_type: str
    org_size: str
    area: str
    theme: str
    project: str
    outcomes: str
    amount_pence: int
    submitted_on: str
    eligible: bool
    reasons: list[str]
    decision: str | None = None
    decision_reasons: str | None = None
    decided_on: str | None = None
    award_id: int | None = None
    project_id: str | None = None
    #: absent for an applicant: it sees its decision, never the assessors' scores
    assessors: int | None = None
    score_hundredths: int | None = None


class ConflictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(description="What the conflict of interest is.")


class ScoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scores: dict[str, int] = Field(description="Criterion id -> score, every criterion of the call.")
    note: str | None = None
    corrects: int | None = None


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: str = Field(description="award or decline")
    reasons: str
    on: date
    amount: str | None = Field(default=None, description="Award in pounds (default: the amount asked).")
    corrects: int | None = None


class RecordOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    application: int


def _for(principal, application: dict) -> dict:
    if principal.role == APL:
        application = {k: v for k, v in application.items() if k not in ("assessors", "score_hundredths", "decided_by")}
    return application


@api.get("/calls/{call_id}/applications", response_model=list[ApplicationOut], response_model_exclude_unset=True,
         summary="A call's applications (an applicant: its own)")
def list_applications(call_id: str, principal: Caller, engine: EngineDep) -> list:
    from models.calls_store import list_applications as apps

    with reading(engine) as conn:
        rows = apps(conn, call_id, principal.scope if principal.role == APL else None)
    return [_for(principal, r) for r in rows]


@api.post("/calls/{call_id}/applications", response_model=ApplicationOut, response_model_exclude_unset=True,
          status_code=201, summary="Apply to a call (an applicant, as its organisation)")
def apply(call_id: str, body: ApplicationIn, principal: Caller, engine: EngineDep) -> dict:
    """Checked against the call's rules: an ineligible application is kept with its reasons."""
    from models.calls_store import submit_application

    values = {**body.model_dump(), "org_id": principal.scope, "submitted_on": body.submitted_on.isoformat()}
    with engine.begin() as conn:
        result = submit_application(conn, call_id, values, recorded_by(principal))
    return _for(principal, result)


@api.get("/applications/{application_id}", response_model=ApplicationOut, response_model_exclude_unset=True,
         summary="One application, its decision (and, except for the applicant, its score)")
def get_application(application_id: int, principal: Caller, engine: EngineDep) -> dict:
    from models.calls_store import get_application as one

    with reading(engine) as conn:
        return _for(principal, one(conn, application_id))


@api.post("/applications/{application_id}/conflicts", response_model=RecordOut, status_code=201,
          summary="Declare a conflict of interest (the assessor stays off the application)")
def conflict(application_id: int, body: ConflictIn, principal: Caller, engine: EngineDep) -> dict:
    from models.calls_store import declare_conflict

    with engine.begin() as conn:
        return declare_conflict(conn, application_id, principal.name, body.note)


@api.post("/applications/{application_id}/scores", response_model=RecordOut, status_code=201,
          summary="Score an application against its call's criteria")
def score(application_id: int, body: ScoreIn, principal: Caller, engine: EngineDep) -> dict:
    """Refused (422) for an assessor that declared a conflict on the application."""
    from models.calls_store import score_application

    with engine.begin() as conn:
        return score_application(conn, application_id, principal.name, body.scores, body.note, body.corrects)


@api.post("/applications/{application_id}/decisions", response_model=RecordOut, status_code=201,
          summary="The panel's decision: award or decline, with reasons")
def decision(application_id: int, body: DecisionIn, principal: Caller, engine: EngineDep) -> dict:
    from ledger.money import parse_amount
    from models.calls_store import decide

    pence = None if body.amount is None else parse_amount(body.amount, "GBP", "amount")
    with engine.begin() as conn:
        return decide(conn, application_id, body.decision, body.reasons, body.on, recorded_by(principal), pence, body.corrects)




class OnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: date


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tranche: int = Field(description="Tranche number: 1 is the call's first milestone.")
    on: date


class CallEventOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    call: str
    status: str


class AwardOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    award_id: int
    project: str
    amount_pence: int
    status: str


class PaymentOut(BaseModel):
    award: int
    tranche_no: int
    entry_id: int
    amount_pence: int
    status: str


@api.post("/calls/{call_id}/publication", response_model=CallEventOut, status_code=201,
          summary="Publish a call's decisions (scores and decisions are fixed from then)")
def publish(call_id: str, body: OnIn, principal: Caller, engine: EngineDep) -> dict:
    from models.calls_store import close_call

    with engine.begin() as conn:
        return close_call(conn, call_id, body.on, "published", recorded_by(principal))


@api.post("/applications/{application_id}/award", response_model=AwardOut, status_code=201,
          summary="Commit the grant a published award decision made (the project enters incubation)")
def award(application_id: int, body: OnIn, principal: Caller, engine: EngineDep) -> dict:
    from models.calls_store import award as do_award

    with engine.begin() as conn:
        return do_award(conn, application_id, body.on, recorded_by(principal))


@api.post("/applications/{application_id}/payments", response_model=PaymentOut, status_code=201,
          summary="Pay a tranche of the application's award: a grant disbursement in the ledger")
def pay(application_id: int, body: PaymentIn, principal: Caller, engine: EngineDep) -> dict:
    from models.calls_store import award_of, pay_tranche

    with engine.begin() as conn:
        return pay_tranche(conn, award_of(conn, application_id), body.tranche, body.on, recorded_by(principal))
