"""SQLModel tables of issued documents and their delivery. Created by migration ``0019_delivery``.

* ``contacts``: who receives what for a party (investor, payer, joint-prime partner): a name,
  an e-mail address and the roles received (statement, claim, notice). Personal data of the
  contact, so kept outside the hash-chained ledger and erasable: erasing blanks the name and
  address in place and keeps the row's id, so the delivery records that name it still add up.
* ``issued_documents``: one frozen document (its exact bytes, their SHA-256, and the ledger's
  chain tip it was drawn from), versioned per (fund, kind, subject, party); a correction is a
  new version with a reason that supersedes the previous one. Immutable (triggers).
* ``deliveries``: one document to one contact by one channel; ``delivery_events``: every
  attempt and what came of it (queued, sent, deferred, failed, opened), appended only. Both
  immutable (triggers): a delivery's state is its latest event.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class ContactRow(SQLModel, table=True):
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("fund_id", "party_id", "contact_key", name="uq_contacts_party_key"),)

    id: int | None = Field(default=None, primary_key=True)
    fund_id: str = Field(max_length=64, foreign_key="funds.id", index=True)
    #: investor, payer or partner
    party_kind: str = Field(max_length=16)
    #: the investor or payer party id, or "contract/partner" for a joint-prime partner
    party_id: str = Field(max_length=130, index=True)
    #: the fund manager's handle for the contact (stable, not personal): "finance", "ceo"
    contact_key: str = Field(max_length=64)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    #: comma-separated, sorted: claim, notice, statement
    roles: str = Field(max_length=64)
    #: attachment (the PDF in the message) or link (a sign-in link to the pages)
    method: str = Field(max_length=16)
    added_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    added_by: str = Field(max_length=100)
    erased_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=False), nullable=True))


class IssuedDocumentRow(SQLModel, table=True):
    __tablename__ = "issued_documents"
    __table_args__ = (UniqueConstraint("fund_id", "kind", "subject", "party_id", "version",
                                       name="uq_issued_documents_version"),)

    id: int | None = Field(default=None, primary_key=True)
    fund_id: str = Field(max_length=64, foreign_key="funds.id", index=True)
    #: investor_statement, council_statement, partner_statement, drawdown_notice, distribution_notice
    kind: str = Field(max_length=32)
    #: what it is about: a quarter (2026Q3), "contract/period", or a notice's key
    subject: str = Field(max_length=200)
    #: the quarter the document belongs to, for the delivery dashboard
    quarter: str = Field(max_length=8, index=True)
    party_kind: str = Field(max_length=16)
    party_id: str = Field(max_length=130, index=True)
    version: int
    title: str = Field(max_length=300)
    file_name: str = Field(max_length=300)
    media_type: str = Field(max_length=100)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sha256: str = Field(max_length=64)
    size_bytes: int
    #: the ledger's last entry (id and hash) when the document was drawn
    ledger_entry_id: int
    ledger_entry_hash: str = Field(max_length=64)
    #: why this version replaced the previous one (None for version 1)
    reason: str | None = Field(default=None, max_length=1000)
    supersedes_id: int | None = Field(default=None, foreign_key="issued_documents.id")
    issued_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    issued_by: str = Field(max_length=100)


class DeliveryRow(SQLModel, table=True):
    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("document_id", "contact_id", name="uq_deliveries_document_contact"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="issued_documents.id", index=True)
    contact_id: int = Field(foreign_key="contacts.id", index=True)
    #: smtp or outbox
    channel: str = Field(max_length=16)
    #: attachment or link, as the contact asked when it was queued
    method: str = Field(max_length=16)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))


class DeliveryEventRow(SQLModel, table=True):
    __tablename__ = "delivery_events"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="deliveries.id", index=True)
    #: queued, sent, deferred (temporary failure: retried), failed (permanent), opened
    status: str = Field(max_length=16)
    attempt: int
    smtp_code: int | None = None
    detail: str = Field(sa_column=Column(Text, nullable=False))
    message_id: str | None = Field(default=None, max_length=300)
    #: SHA-256 of the sign-in link's token sent with this attempt (the token itself is never stored)
    link_token_sha256: str | None = Field(default=None, max_length=64, index=True)
    at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    by: str = Field(max_length=100)
