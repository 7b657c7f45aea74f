"""Contacts, issued documents and deliveries in the database (``models/delivery_tables.py``).

Issuing freezes a document: its bytes, their SHA-256 and the ledger's chain tip are stored once
and never changed. Issuing the same bytes again is a no-op (the version already issued); other
bytes need a reason and become the next version, which supersedes the previous one. Each
(document, contact) pair is one delivery; every attempt at it is an appended event, so nothing
is lost if a send fails or the process stops half way: what is not ``sent`` is still due.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Connection, and_, func, select

from ledger.errors import NotFound, ValidationError
from models.delivery_tables import ContactRow, DeliveryEventRow, DeliveryRow, IssuedDocumentRow
from models.ledger_store import chain_tip

contacts_t = ContactRow.__table__
documents_t = IssuedDocumentRow.__table__
deliveries_t = DeliveryRow.__table__
events_t = DeliveryEventRow.__table__

ROLES = ("claim", "notice", "statement")
PARTY_KINDS = ("investor", "payer", "partner")
METHODS = ("attachment", "link")
#: the role a contact needs to receive each kind of document
ROLE_OF_KIND = {"investor_statement": "statement", "council_statement": "claim", "partner_statement": "statement",
                "drawdown_notice": "notice", "distribution_notice": "notice"}
#: a delivery in one of these states needs no further sending
DONE = ("sent", "opened")


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


# ---------------------------------------------------------------------------- contacts


def add_contact(conn: Connection, fund_id: str, party_kind: str, party_id: str, key: str, name: str, email: str,
                roles: list[str], method: str, added_by: str, where: str = "contact") -> tuple[int, bool]:
    """Add a contact (or change an existing one's name, address, roles and method); returns
    (id, created). The address is checked for shape only."""
    if party_kind not in PARTY_KINDS:
        raise ValidationError(f"{where}: party kind {party_kind!r}: choose from {', '.join(PARTY_KINDS)}", field="party_kind")
    bad = sorted(set(roles) - set(ROLES))
    if bad or not roles:
        raise ValidationError(f"{where}: roles {', '.join(bad) or '(none)'}: choose from {', '.join(ROLES)}", field="roles")
    if method not in METHODS:
        raise ValidationError(f"{where}: method {method!r}: choose attachment or link", field="method")
    local, at, domain = email.partition("@")
    if not local or not at or "." not in domain or any(c in email for c in " <>,\r\n"):
        raise ValidationError(f"{where}: e-mail {email!r} is not an address like name@example.org", field="email")
    if not key or len(key) > 64:
        raise ValidationError(f"{where}: contact key must be 1-64 characters", field="key")
    values = {"party_kind": party_kind, "name": name, "email": email, "roles": ",".join(sorted(set(roles))),
              "method": method, "erased_at": None}
    existing = conn.execute(select(contacts_t.c.id).where(
        contacts_t.c.fund_id == fund_id, contacts_t.c.party_id == party_id, contacts_t.c.contact_key == key)).scalar()
    if existing is not None:
        conn.execute(contacts_t.update().where(contacts_t.c.id == existing).values(**values))
        return existing, False
    new_id = conn.execute(contacts_t.insert().values(fund_id=fund_id, party_id=party_id, contact_key=key,
                                                     added_at=utc_now(), added_by=added_by, **values)).inserted_primary_key[0]
    return new_id, True


def list_contacts(conn: Connection, fund_id: str, party_id: str | None = None) -> list[dict]:
    query = select(contacts_t).where(contacts_t.c.fund_id == fund_id)
    if party_id is not None:
        query = query.where(contacts_t.c.party_id == party_id)
    return [dict(r) for r in conn.execute(query.order_by(contacts_t.c.party_id, contacts_t.c.contact_key)).mappings()]


def erase_contact(conn: Connection, fund_id: str, contact_id: int) -> dict:
    """Blank the contact's name and address (a data-subject erasure); the id stays, so the
    delivery records naming it still show that a delivery was made, to an erased contact."""
    row = conn.execute(select(contacts_t).where(contacts_t.c.fund_id == fund_id, contacts_t.c.id == contact_id)).first()
    if row is None:
        raise NotFound(f"no contact {contact_id} in fund {fund_id}")
    conn.execute(contacts_t.update().where(contacts_t.c.id == contact_id)
                 .values(name=None, email=None, roles="", erased_at=utc_now()))
    return {"id": contact_id, "party_id": row.party_id, "erased": True}


def recipients(conn: Connection, fund_id: str, party_id: str, kind: str) -> list[dict]:
    """The live contacts of a party who receive this kind of document."""
    role = ROLE_OF_KIND[kind]
    return [c for c in list_contacts(conn, fund_id, party_id)
            if c["erased_at"] is None and role in c["roles"].split(",")]


# ---------------------------------------------------------------------------- documents


@dataclass(frozen=True)
class Draft:
    """A document ready to freeze: what it is, for whom, and its exact bytes."""

    kind: str
    subject: str
    quarter: str
    party_kind: str
    party_id: str
    title: str
    file_name: str
    media_type: str
    content: bytes


def latest_document(conn: Connection, fund_id: str, kind: str, subject: str, party_id: str) -> dict | None:
    row = conn.execute(select(documents_t).where(
        documents_t.c.fund_id == fund_id, documents_t.c.kind == kind, documents_t.c.subject == subject,
        documents_t.c.party_id == party_id).order_by(documents_t.c.version.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def freeze(conn: Connection, fund_id: str, draft: Draft, issued_by: str, reason: str | None) -> tuple[dict, bool]:
    """Store a document version; returns (document, created). Same bytes as the latest version
    and no reason: that version, nothing new. Different bytes: a reason is required."""
    sha = hashlib.sha256(draft.content).hexdigest()
    latest = latest_document(conn, fund_id, draft.kind, draft.subject, draft.party_id)
    if latest is not None and reason is None:
        if latest["sha256"] == sha:
            return latest, False
        raise ValidationError(
            f"{draft.title}: differs from version {latest['version']} issued {latest['issued_at']:%Y-%m-%d} "
            f"(SHA-256 {latest['sha256'][:12]} -> {sha[:12]}); re-issue it with --reason saying what was corrected",
            field="reason")
    if reason is not None and latest is None:
        reason = None  # a first version replaces nothing; the reason would explain nothing
    entry_id, entry_hash = chain_tip(conn)
    values = {"fund_id": fund_id, "kind": draft.kind, "subject": draft.subject, "quarter": draft.quarter,
              "party_kind": draft.party_kind, "party_id": draft.party_id,
              "version": 1 if latest is None else latest["version"] + 1, "title": draft.title,
              "file_name": draft.file_name, "media_type": draft.media_type, "content": draft.content, "sha256": sha,
              "size_bytes": len(draft.content), "ledger_entry_id": entry_id, "ledger_entry_hash": entry_hash,
              "reason": reason, "supersedes_id": None if latest is None else latest["id"],
              "issued_at": utc_now(), "issued_by": issued_by}
    values["id"] = conn.execute(documents_t.insert().values(**values)).inserted_primary_key[0]
    return values, True


def superseded_ids(conn: Connection, fund_id: str) -> set[int]:
    return {r for (r,) in conn.execute(select(documents_t.c.supersedes_id).where(
        documents_t.c.fund_id == fund_id, documents_t.c.supersedes_id.is_not(None)))}


def documents(conn: Connection, fund_id: str | None = None, *, party_id: str | None = None,
              quarter: str | None = None) -> list[dict]:
    """Issued documents (without their bytes), newest version first within each subject, each
    marked ``superseded`` when a later version replaced it."""
    cols = [c for c in documents_t.c if c.name != "content"]
    query = select(*cols)
    if fund_id is not None:
        query = query.where(documents_t.c.fund_id == fund_id)
    if party_id is not None:
        query = query.where(documents_t.c.party_id == party_id)
    if quarter is not None:
        query = query.where(documents_t.c.quarter == quarter)
    rows = [dict(r) for r in conn.execute(query.order_by(
        documents_t.c.quarter.desc(), documents_t.c.kind, documents_t.c.subject, documents_t.c.party_id,
        documents_t.c.version.desc())).mappings()]
    replaced = {r["supersedes_id"] for r in rows if r["supersedes_id"] is not None}
    if fund_id is not None:
        replaced |= superseded_ids(conn, fund_id)
    for r in rows:
        r["superseded"] = r["id"] in replaced
    return rows


def document(conn: Connection, document_id: int) -> dict:
    row = conn.execute(select(documents_t).where(documents_t.c.id == document_id)).mappings().first()
    if row is None:
        raise NotFound(f"no issued document {document_id}")
    out = dict(row)
    out["superseded"] = conn.execute(select(documents_t.c.id).where(
        documents_t.c.supersedes_id == document_id)).first() is not None
    return out


# ---------------------------------------------------------------------------- deliveries


def queue(conn: Connection, document_id: int, contact: dict, channel: str, by: str) -> tuple[int, bool]:
    """The delivery of a document to a contact, created with a ``queued`` event (once)."""
    existing = conn.execute(select(deliveries_t.c.id).where(
        deliveries_t.c.document_id == document_id, deliveries_t.c.contact_id == contact["id"])).scalar()
    if existing is not None:
        return existing, False
    now = utc_now()
    delivery_id = conn.execute(deliveries_t.insert().values(
        document_id=document_id, contact_id=contact["id"], channel=channel, method=contact["method"],
        created_at=now)).inserted_primary_key[0]
    record(conn, delivery_id, "queued", 0, f"queued for {channel}", by)
    return delivery_id, True


def record(conn: Connection, delivery_id: int, status: str, attempt: int, detail: str, by: str, *,
           smtp_code: int | None = None, message_id: str | None = None, link_token_sha256: str | None = None) -> None:
    conn.execute(events_t.insert().values(delivery_id=delivery_id, status=status, attempt=attempt, smtp_code=smtp_code,
                                          detail=detail[:2000], message_id=message_id,
                                          link_token_sha256=link_token_sha256, at=utc_now(), by=by))


def _latest_events():
    latest = select(events_t.c.delivery_id, func.max(events_t.c.id).label("event_id")).where(
        events_t.c.status != "opened").group_by(events_t.c.delivery_id).subquery()
    opened = select(events_t.c.delivery_id, func.min(events_t.c.at).label("opened_at")).where(
        events_t.c.status == "opened").group_by(events_t.c.delivery_id).subquery()
    attempts = select(events_t.c.delivery_id, func.max(events_t.c.attempt).label("attempts")).group_by(
        events_t.c.delivery_id).subquery()
    return latest, opened, attempts


def deliveries(conn: Connection, fund_id: str, *, quarter: str | None = None, party_id: str | None = None,
               delivery_ids: list[int] | None = None) -> list[dict]:
    """Every delivery with its document, contact, latest state (queued, sent, deferred, failed),
    attempts, and when the reader first opened the document through the link or the pages."""
    latest, opened, attempts = _latest_events()
    d, doc, c, e = deliveries_t, documents_t, contacts_t, events_t
    query = (select(d.c.id, d.c.channel, d.c.method, d.c.document_id, d.c.contact_id, doc.c.kind, doc.c.subject,
                    doc.c.quarter, doc.c.party_id, doc.c.version, doc.c.title, doc.c.sha256, c.c.contact_key,
                    c.c.name, c.c.email, c.c.erased_at, e.c.status, e.c.smtp_code, e.c.detail, e.c.at.label("status_at"),
                    attempts.c.attempts, opened.c.opened_at)
             .select_from(d.join(doc, doc.c.id == d.c.document_id).join(c, c.c.id == d.c.contact_id)
                          .join(latest, latest.c.delivery_id == d.c.id).join(e, e.c.id == latest.c.event_id)
                          .join(attempts, attempts.c.delivery_id == d.c.id)
                          .outerjoin(opened, opened.c.delivery_id == d.c.id))
             .where(doc.c.fund_id == fund_id))
    if quarter is not None:
        query = query.where(doc.c.quarter == quarter)
    if party_id is not None:
        query = query.where(doc.c.party_id == party_id)
    if delivery_ids is not None:
        query = query.where(d.c.id.in_(delivery_ids))
    return [dict(r) for r in conn.execute(query.order_by(doc.c.kind, doc.c.party_id, doc.c.version, d.c.id)).mappings()]


def due(conn: Connection, fund_id: str, quarter: str | None = None, delivery_ids: list[int] | None = None) -> list[dict]:
    """Deliveries still to send: latest state queued, deferred or failed, to a live contact."""
    return [r for r in deliveries(conn, fund_id, quarter=quarter, delivery_ids=delivery_ids)
            if r["status"] not in DONE and r["erased_at"] is None]


def record_open(conn: Connection, delivery_ids: list[int], by: str, detail: str) -> int:
    """An ``opened`` event for each delivery not yet opened; returns how many were new."""
    if not delivery_ids:
        return 0
    seen = {r for (r,) in conn.execute(select(events_t.c.delivery_id).where(
        and_(events_t.c.delivery_id.in_(delivery_ids), events_t.c.status == "opened")))}
    for delivery_id in delivery_ids:
        if delivery_id not in seen:
            record(conn, delivery_id, "opened", 0, detail, by)
    return len(set(delivery_ids) - seen)


def delivery_for_token(conn: Connection, token: str) -> tuple[int, int] | None:
    """(delivery id, document id) a sign-in link's token was sent for, or None."""
    sha = hashlib.sha256(token.encode()).hexdigest()
    row = conn.execute(select(deliveries_t.c.id, deliveries_t.c.document_id).join(
        events_t, events_t.c.delivery_id == deliveries_t.c.id).where(events_t.c.link_token_sha256 == sha)).first()
    return (row.id, row.document_id) if row else None


def deliveries_of_document(conn: Connection, document_id: int) -> list[int]:
    return [r for (r,) in conn.execute(select(deliveries_t.c.id).where(deliveries_t.c.document_id == document_id))]


def opened_documents(conn: Connection, document_ids: list[int]) -> set[int]:
    """Documents some delivery of which was opened (by a link, or on the reader's pages)."""
    if not document_ids:
        return set()
    return {r for (r,) in conn.execute(select(deliveries_t.c.document_id).join(
        events_t, events_t.c.delivery_id == deliveries_t.c.id).where(
        deliveries_t.c.document_id.in_(document_ids), events_t.c.status == "opened"))}


def dashboard(conn: Connection, fund_id: str, quarter: str) -> dict:
    """Per quarter: counts of deliveries by state (and opened), and each one's row."""
    rows = deliveries(conn, fund_id, quarter=quarter)
    counts = {s: 0 for s in ("queued", "sent", "deferred", "failed")}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    counts["opened"] = sum(1 for r in rows if r["opened_at"] is not None)
    return {"quarter": quarter, "counts": counts, "deliveries": rows,
            "documents": documents(conn, fund_id, quarter=quarter)}
