"""Issuing and delivery over the API: what `fuel issue`, `fuel deliveries` and the pages do.

* ``POST /funds/{fund_id}/statements/issue``: freeze a closed quarter's statements and queue
  their deliveries (``ledger/shell/issuing.py``), and send them unless ``send`` is false;
* ``GET /funds/{fund_id}/documents``, ``GET /funds/{fund_id}/deliveries``: issued documents
  (versions, SHA-256, superseded) and their deliveries (state, attempts, opened) per quarter;
* ``POST /funds/{fund_id}/deliveries/resend``: send every due delivery once;
* ``POST /funds/{fund_id}/notices/drawdown|distribution``: capital call and distribution
  notices (``ledger/shell/notices.py``), previewed (``dry_run``) or issued and sent;
* ``GET /documents``, ``GET /documents/{document_id}``: a reader's own issued documents and one
  version's frozen bytes (any version, superseded or not).

Roles are in ``access.RULES``: the fund routes are the fund manager's of that fund (auditors
read). A reader (investor, commissioner, partner) sees only documents issued to its own party;
another party's document is a 404, exactly like one that does not exist. Delivery goes to
``FUEL_MAIL_OUTBOX`` when set, else SMTP (``FUEL_SMTP_*``), as the pages' resend does.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Literal, Optional

from fastapi import Query, Response
from pydantic import BaseModel, ConfigDict, Field

from ledger.errors import NotFound
from ledger.shell.api.access import AUD, FM, Caller, EngineDep
from ledger.shell.api.common import recorded_by, router
from models.api_store import Principal
from models.db import reading

api = router("delivery")


class IssueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quarter: str = Field(min_length=6, max_length=6, description="A closed quarter, e.g. 2026Q3.")
    kinds: list[Literal["investor", "council", "partner"]] = Field(
        default=["investor", "council", "partner"], min_length=1, max_length=3)
    parties: Optional[list[str]] = Field(default=None, max_length=1000, description="Only these parties.")
    format: Literal["pdf", "html"] = "pdf"
    reason: Optional[str] = Field(default=None, min_length=1, max_length=1000,
                                  description="Re-issue changed documents as a new version, saying why.")
    send: bool = Field(default=True, description="Send now, or only freeze and queue.")


class ResendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quarter: Optional[str] = Field(default=None, min_length=6, max_length=6)
    delivery_ids: Optional[list[int]] = Field(default=None, max_length=10000)


def _plain(row: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items() if k != "content"}


def _send(engine, fund_id: str, by: str, quarter: str | None, ids: list[int] | None) -> list[dict]:
    from ledger.shell.issuing import channel_for, deliver
    from ledger.shell.mail import MailSettings

    settings = MailSettings.from_env()
    channel = (channel_for("outbox", Path(settings.outbox), settings) if settings.outbox
               else channel_for("smtp", None, settings))
    return deliver(engine, fund_id, channel, settings, by=by, quarter=quarter, delivery_ids=ids)


@api.post("/funds/{fund_id}/statements/issue", summary="Issue a closed quarter's statements")
def issue(fund_id: str, body: IssueIn, principal: Caller, engine: EngineDep) -> dict:
    """Freeze each statement (bytes, SHA-256, ledger tip), queue one delivery per contact with the
    right role, and send them. The same bytes again: the version already issued, nothing new."""
    from ledger.shell.issuing import issue_quarter

    by = recorded_by(principal)
    result = issue_quarter(engine, fund_id, body.quarter, kinds=body.kinds, fmt=body.format, channel="smtp",
                           by=by, reason=body.reason, parties=body.parties)
    sent = _send(engine, fund_id, by, None, list(result.queued)) if body.send and result.queued else []
    return {"documents": [_plain(d) for d in result.documents], "queued": list(result.queued),
            "missing_contacts": list(result.missing_contacts), "sent": sent}


@api.get("/funds/{fund_id}/documents", summary="Issued documents of a fund")
def fund_documents(fund_id: str, engine: EngineDep,
                   quarter: Annotated[Optional[str], Query(min_length=6, max_length=6)] = None) -> list[dict]:
    """Every issued version (without its bytes): kind, party, version, SHA-256, ledger tip,
    reason, and whether a later version superseded it."""
    from models import delivery_store as store

    with reading(engine) as conn:
        return [_plain(d) for d in store.documents(conn, fund_id, quarter=quarter)]


@api.get("/funds/{fund_id}/deliveries", summary="Deliveries of a fund's issued documents")
def fund_deliveries(fund_id: str, engine: EngineDep,
                    quarter: Annotated[Optional[str], Query(min_length=6, max_length=6)] = None,
                    status: Annotated[Optional[Literal["queued", "sent", "deferred", "failed", "opened"]],
                                      Query(description="failed: permanent and temporary failures")] = None
                    ) -> list[dict]:
    """Each delivery: document, version, contact, channel, state, attempts, the server's reply."""
    from models import delivery_store as store

    with reading(engine) as conn:
        rows = store.deliveries(conn, fund_id, quarter=quarter)
    if status == "failed":
        rows = [r for r in rows if r["status"] in ("failed", "deferred")]
    elif status == "opened":
        rows = [r for r in rows if r["opened_at"] is not None]
    elif status:
        rows = [r for r in rows if r["status"] == status]
    for r in rows:
        if r["erased_at"]:
            r["email"] = None
    return [_plain(r) for r in rows]


@api.post("/funds/{fund_id}/deliveries/resend", summary="Send every due delivery once")
def resend(fund_id: str, body: ResendIn, principal: Caller, engine: EngineDep) -> dict:
    """Queued, deferred and failed deliveries (of a quarter, or the ones named) are sent once;
    sent ones are never sent again."""
    return {"sent": _send(engine, fund_id, recorded_by(principal), body.quarter, body.delivery_ids)}


class NoticeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_pence: Optional[int] = Field(default=None, gt=0, le=10**15, description="The whole amount, in pence.")
    amount: Optional[str] = Field(default=None, max_length=32, description='Or as text, "45000.00".')
    notice_date: Optional[date] = Field(default=None, description="Date on the notice (default today).")
    investors: Optional[list[str]] = Field(default=None, max_length=1000, description="Only these investors.")
    format: Literal["pdf", "html"] = "pdf"
    reason: Optional[str] = Field(default=None, min_length=1, max_length=1000)
    dry_run: bool = Field(default=False, description="Preview the figures only: freeze and send nothing.")
    send: bool = True


class DrawdownNoticeIn(NoticeIn):
    tranche: str = Field(min_length=1, max_length=64)
    due: date = Field(description="Date the investors must pay by.")
    account: Optional[str] = Field(default=None, max_length=64, description="Bank account to pay into.")


class DistributionNoticeIn(NoticeIn):
    on: date = Field(description="Distribution date.")


def _notices(engine, fund_id: str, body: NoticeIn, principal: Principal, build) -> dict:
    from ledger.shell.notices import issue_notices

    if body.dry_run:
        with reading(engine) as conn:
            notices = build(conn)
        return {"kind": notices.kind, "subject": notices.subject, "notices": list(notices.figures),
                "split": notices.split, "documents": [], "sent": []}
    by = recorded_by(principal)
    notices, result = issue_notices(engine, fund_id, build, channel="smtp", by=by, reason=body.reason)
    sent = _send(engine, fund_id, by, None, list(result.queued)) if body.send and result.queued else []
    return {"kind": notices.kind, "subject": notices.subject, "notices": list(notices.figures), "split": notices.split,
            "documents": [_plain(d) for d in result.documents], "missing_contacts": list(result.missing_contacts),
            "sent": sent}


@api.post("/funds/{fund_id}/notices/drawdown", summary="Capital call notices: preview or issue")
def drawdown_notice(fund_id: str, body: DrawdownNoticeIn, principal: Caller, engine: EngineDep) -> dict:
    """Each investor's share of a call on a tranche (as the drawdown event will post it), the due
    date and the fund's bank account to pay to (in full, in that investor's notice only)."""
    from ledger.shell.api.routes_funds import _one_amount
    from ledger.shell.notices import drawdown_notices

    pence = _one_amount(body.amount_pence, body.amount, "GBP")
    day = body.notice_date or date.today()
    return _notices(engine, fund_id, body, principal, lambda conn: drawdown_notices(
        conn, fund_id, body.tranche, pence, body.due, notice_day=day, investors=body.investors, fmt=body.format,
        account_id=body.account))


@api.post("/funds/{fund_id}/notices/distribution", summary="Distribution notices: preview or issue")
def distribution_notice(fund_id: str, body: DistributionNoticeIn, principal: Caller, engine: EngineDep) -> dict:
    """The waterfall's split of a distribution (per tier, tranche, recipient) and each paid
    investor's own share: the lines `POST /funds/{fund_id}/distributions` will then post."""
    from ledger.shell.api.routes_funds import _one_amount
    from ledger.shell.notices import distribution_notices

    pence = _one_amount(body.amount_pence, body.amount, "GBP")
    day = body.notice_date or min(date.today(), body.on)
    return _notices(engine, fund_id, body, principal, lambda conn: distribution_notices(
        conn, fund_id, pence, body.on, notice_day=day, investors=body.investors, fmt=body.format))


def _readers(engine, principal: Principal) -> list[dict]:
    from models import delivery_store as store

    with reading(engine) as conn:
        if principal.role == AUD:
            return store.documents(conn)
        if principal.role == FM:
            return store.documents(conn, principal.scope)
        return store.documents(conn, party_id=principal.scope or "")


def document_visible(principal: Principal, doc: dict) -> bool:
    """A reader its own party's documents; a fund manager its fund's; an auditor every one."""
    if principal.role == AUD:
        return True
    if principal.role == FM:
        return doc["fund_id"] == principal.scope
    return doc["party_id"] == principal.scope


@api.get("/documents", summary="The caller's issued documents")
def my_documents(principal: Caller, engine: EngineDep) -> list[dict]:
    """Documents issued to the caller's own party (a fund manager: its fund's), newest first,
    each with its version and whether it was superseded."""
    return [_plain(d) for d in _readers(engine, principal)]


@api.get("/documents/{document_id}", summary="One issued version's frozen bytes", response_class=Response,
         responses={200: {"description": "The document exactly as frozen (PDF or HTML).",
                          "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}},
                                      "text/html": {"schema": {"type": "string"}}}}})
def download(document_id: int, principal: Caller, engine: EngineDep) -> Response:
    """The frozen bytes, with headers naming the version and SHA-256. A reader downloading its
    own document records that it was opened."""
    from models import delivery_store as store

    with engine.begin() as conn:
        try:
            doc = store.document(conn, document_id)
        except NotFound:
            doc = None
        if doc is None or not document_visible(principal, doc):
            raise NotFound(f"unknown document {document_id!r}", field="document")
        if principal.role not in (FM, AUD):
            store.record_open(conn, store.deliveries_of_document(conn, document_id), principal.name,
                              "downloaded through the API")
    return Response(bytes(doc["content"]), media_type=doc["media_type"],
                    headers={"Content-Disposition": f'attachment; filename="{doc["file_name"]}"',
                             "X-Fuel-Document-SHA256": doc["sha256"], "X-Fuel-Document-Version": str(doc["version"]),
                             "X-Fuel-Document-Superseded": "true" if doc["superseded"] else "false"})
