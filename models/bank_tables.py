"""SQLModel tables of bank accounts, imported statements and their lines, matches and the
fund's reconciliation setting (``docs/bank.md``). Created by migration ``0027_bank``.

Statements, lines, matches and match members are evidence: immutable (no-update / no-delete
triggers). A match is undone by a new ``unmatch`` row naming it, never by an edit.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class BankCsvMappingRow(SQLModel, table=True):
    __tablename__ = "bank_csv_mappings"

    bank: str = Field(primary_key=True, max_length=64)
    mapping_json: str = Field(sa_column=Column(Text, nullable=False))
    saved_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    saved_by: str = Field(max_length=100)


class BankAccountRow(SQLModel, table=True):
    __tablename__ = "bank_accounts"
    __table_args__ = (UniqueConstraint("fund_id", "sort_code", "account_number"),)

    id: str = Field(primary_key=True, max_length=64)
    fund_id: str = Field(max_length=64, foreign_key="funds.id", index=True)
    name: str = Field(max_length=200)
    sort_code: str = Field(max_length=8)  # 12-34-56; shown masked to everyone but the fund manager
    account_number: str = Field(max_length=8)
    currency: str = Field(max_length=3)
    holds_json: str = Field(sa_column=Column(Text, nullable=False))  # buckets: ["*"] or ["public", "charitable/*/x"]
    bank: str | None = Field(default=None, max_length=64)  # the CSV mapping its exports use
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    created_by: str = Field(max_length=100)


class BankStatementRow(SQLModel, table=True):
    __tablename__ = "bank_statements"

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(max_length=64, foreign_key="bank_accounts.id", index=True)
    file_name: str = Field(max_length=500)
    file_format: str = Field(max_length=16)
    file_sha256: str = Field(max_length=64)
    opening_pence: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    opening_on: date | None = None
    closing_pence: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    closing_on: date
    lines_added: int
    lines_skipped: int
    imported_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    imported_by: str = Field(max_length=100)


class BankLineRow(SQLModel, table=True):
    __tablename__ = "bank_lines"
    __table_args__ = (UniqueConstraint("account_id", "identity"),)  # a line is stored once

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(max_length=64, foreign_key="bank_accounts.id", index=True)
    statement_id: int = Field(foreign_key="bank_statements.id")
    line_no: int
    booked_on: date
    amount_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    reference: str = Field(max_length=500)
    description: str = Field(max_length=500)
    bank_txn_id: str | None = Field(default=None, max_length=500)
    balance_after_pence: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    identity: str = Field(max_length=700)


class BankMatchRow(SQLModel, table=True):
    __tablename__ = "bank_matches"

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(max_length=64, foreign_key="bank_accounts.id", index=True)
    action: str = Field(max_length=16)  # confirm | unmatch
    rule: str = Field(max_length=32)  # the proposing rule, or manual / posted
    unmatches_id: int | None = Field(default=None, unique=True)  # a match is unmatched at most once
    amount_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    note: str = Field(max_length=500)
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    recorded_by: str = Field(max_length=100)


class BankMatchMemberRow(SQLModel, table=True):
    __tablename__ = "bank_match_members"

    match_id: int = Field(primary_key=True, foreign_key="bank_matches.id")
    kind: str = Field(primary_key=True, max_length=8)  # line | entry
    ref_id: int = Field(primary_key=True)


class BankSettingRow(SQLModel, table=True):
    __tablename__ = "bank_settings"

    fund_id: str = Field(primary_key=True, max_length=64, foreign_key="funds.id")
    require_reconciled: bool = False  # a quarter close refuses (not just warns) when not reconciled
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    updated_by: str = Field(max_length=100)
