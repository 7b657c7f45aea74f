"""SQLModel tables of the ledger core. The schema itself is created by Alembic migrations
(``models/migrations``); a test checks these classes and the migrations agree."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, Text
from sqlmodel import Field, SQLModel


class AccountRow(SQLModel, table=True):
    __tablename__ = "accounts"

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    type: str = Field(max_length=16)
    parent_code: str | None = Field(default=None, max_length=64)


class JournalEntryRow(SQLModel, table=True):
    __tablename__ = "journal_entries"

    # Assigned by Fuel under the chain lock: id order is chain order.
    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    idempotency_key: str = Field(max_length=200, unique=True)
    effective_date: date = Field(index=True)
    # Naive UTC: hashed as text, so it must round-trip identically on SQLite and PostgreSQL.
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    recorded_by: str = Field(max_length=100)
    description: str = Field(max_length=500)
    event_kind: str = Field(max_length=64, index=True)
    event_data: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON of the business event's parameters
    reverses_id: int | None = Field(default=None, unique=True)  # an entry is reversed at most once
    corrects_id: int | None = Field(default=None)
    content_hash: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64)
    entry_hash: str = Field(max_length=64)


class PostingRow(SQLModel, table=True):
    __tablename__ = "postings"
    # Covering: one account's balance as of a date is read from the index alone (migration 0009).
    __table_args__ = (Index("ix_postings_account_date", "account_code", "effective_date", "currency", "amount_pence"),)

    id: int | None = Field(default=None, primary_key=True)
    # Postings are written first and the entry row seals them: its insert trigger checks they
    # balance, and a trigger refuses postings for an entry that already exists. There is no
    # foreign key to the entry, since a posting necessarily precedes its entry; `fuel verify`
    # reports any posting whose entry is missing.
    entry_id: int = Field(index=True)
    line_no: int
    effective_date: date  # copied from the entry so as-of sums need no join
    # Checked by the entry's insert trigger (with the balance) rather than by a foreign key,
    # so the postings table has no per-row checks beyond its seal.
    account_code: str = Field(max_length=64)
    amount_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    # No index per dimension: reads filter by account and date, then group by these, and every
    # extra index slows each insert (migration 0009).
    fund: str | None = Field(default=None, max_length=64)
    source: str | None = Field(default=None, max_length=32)
    tranche: str | None = Field(default=None, max_length=64)
    restriction: str | None = Field(default=None, max_length=64)
    project: str | None = Field(default=None, max_length=64)
    counterparty: str | None = Field(default=None, max_length=64)


class PeriodCloseRow(SQLModel, table=True):
    """A quarter closed: everything dated before ``period_end`` is locked from then on."""

    __tablename__ = "period_closes"

    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(max_length=8, unique=True)
    period_start: date
    period_end: date = Field(index=True)  # exclusive
    closed_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    closed_by: str = Field(max_length=100)
    last_entry_id: int  # the chain position at close, so a later verify can tie them
    # The entry chain's tip at close and the chain of closes (migration 0024, ledger/anchors.py):
    # deleting the last entries or a close is then seen by verify, or against a kept tip.
    tip_hash: str | None = Field(default=None, max_length=64)
    prev_hash: str | None = Field(default=None, max_length=64)
    close_hash: str | None = Field(default=None, max_length=64)


class PeriodBalanceRow(SQLModel, table=True):
    """Cumulative balances at a close, by account, currency and every dimension, so balances
    as of later dates add only the open periods' postings."""

    __tablename__ = "period_balances"
    __table_args__ = (Index("ix_period_balances_close_account", "close_id", "account_code"),)

    id: int | None = Field(default=None, primary_key=True)
    close_id: int = Field(foreign_key="period_closes.id")
    account_code: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    fund: str | None = Field(default=None, max_length=64)
    source: str | None = Field(default=None, max_length=32)
    tranche: str | None = Field(default=None, max_length=64)
    restriction: str | None = Field(default=None, max_length=64)
    project: str | None = Field(default=None, max_length=64)
    counterparty: str | None = Field(default=None, max_length=64)
    debit_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    credit_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    balance_pence: int = Field(sa_column=Column(BigInteger, nullable=False))


#: Tables whose rows may never be updated or deleted once written.
IMMUTABLE_TABLES = ("journal_entries", "postings", "period_closes", "period_balances")
