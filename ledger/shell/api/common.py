"""Helpers every router shares: routers with the idempotent POST route, the caller's name."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ledger.shell.api.access import authorise
from ledger.shell.api.idempotency import IdempotentRoute
from models.api_store import Principal


def router(tag: str) -> APIRouter:
    """A router whose every route needs a token and passes the access registry."""
    return APIRouter(tags=[tag], dependencies=[Depends(authorise)], route_class=IdempotentRoute)


def recorded_by(principal: Principal) -> str:
    """What the ledger records as the author: ``api:<token name>``."""
    return f"api:{principal.name}"[:100]


def postings_out(postings) -> list[dict]:
    return [{"account": p.account, "amount_pence": p.amount_pence, "currency": p.currency, **p.dimensions()}
            for p in postings]


def entry_out(entry) -> dict:
    d = entry.draft
    return {
        "id": entry.id, "effective_date": d.effective_date, "description": d.description, "event_kind": d.event_kind,
        "event_data": dict(d.event_data), "idempotency_key": d.idempotency_key, "reverses_id": d.reverses_id,
        "corrects_id": d.corrects_id, "recorded_at": entry.recorded_at.isoformat(), "recorded_by": entry.recorded_by,
        "entry_hash": entry.entry_hash, "postings": postings_out(d.postings),
    }
