"""SQLModel tables of a fund's reference data: parties, funds, tranches, restrictions,
projects and commitments. Created by migration ``0002_fund_flows``.

Reference data may be corrected (a project's status changes, a name is fixed); the money
itself lives only in the immutable ledger tables. Commitments are memo figures (never ledger
accounts) and are append-only: a changed commitment is a new row.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, DateTime, ForeignKeyConstraint
from sqlmodel import Field, SQLModel


class FundRow(SQLModel, table=True):
    __tablename__ = "funds"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    currency: str = Field(max_length=3)


class PartyRow(SQLModel, table=True):
    """Investors, payers (commissioners), providers and the fund manager."""

    __tablename__ = "parties"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16, index=True)
    investor_type: str | None = Field(default=None, max_length=32)
    # The fund whose setup (or manager) created it; None: added by the operator, shared. Only
    # that fund may change it, and only while no other fund uses it (models/flows_store.py).
    owner_fund: str | None = Field(default=None, max_length=64, index=True)


class TrancheRow(SQLModel, table=True):
    __tablename__ = "tranches"

    id: str = Field(primary_key=True, max_length=64)
    # ids are the fund's: a second fund may have its own "senior" (migration 0025)
    fund_id: str = Field(primary_key=True, max_length=64, foreign_key="funds.id", index=True)
    name: str = Field(max_length=200)
    rank: int
    kind: str = Field(max_length=16)
    return_kind: str = Field(max_length=16)
    return_rate: str | None = Field(default=None, max_length=32)  # Decimal as text


class RestrictionRow(SQLModel, table=True):
    __tablename__ = "restrictions"

    id: str = Field(primary_key=True, max_length=64)
    # ids are the fund's: a second fund may have its own "senior" (migration 0025)
    fund_id: str = Field(primary_key=True, max_length=64, foreign_key="funds.id", index=True)
    name: str = Field(max_length=200)
    theme: str | None = Field(default=None, max_length=200)
    projects: str = Field(default="")  # permitted project ids, comma-separated
    fees_permitted: bool = Field(default=False)  # the donor's terms allow fees charged to this money


class ProjectRow(SQLModel, table=True):
    __tablename__ = "projects"

    id: str = Field(primary_key=True, max_length=64)
    fund_id: str = Field(max_length=64, foreign_key="funds.id", index=True)
    name: str = Field(max_length=200)
    provider_id: str = Field(max_length=64, foreign_key="parties.id")
    theme: str = Field(max_length=200)
    status: str = Field(max_length=16)


class CommitmentRow(SQLModel, table=True):
    __tablename__ = "commitments"
    __table_args__ = (ForeignKeyConstraint(["fund_id", "tranche_id"], ["tranches.fund_id", "tranches.id"]),)

    id: str = Field(primary_key=True, max_length=64)
    fund_id: str = Field(max_length=64, foreign_key="funds.id", index=True)
    tranche_id: str = Field(max_length=64, index=True)  # the fund's tranche: see __table_args__
    investor_id: str = Field(max_length=64, foreign_key="parties.id", index=True)
    amount_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    commitment_date: date
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    recorded_by: str = Field(max_length=100)


#: Append-only reference tables (no UPDATE or DELETE, enforced by triggers).
APPEND_ONLY_TABLES = ("commitments",)


class ReferenceVersionRow(SQLModel, table=True):
    """One row whose stamp the database changes on every write to the tables above (migration
    ``0010_reference_version``), so a process may keep the reference data until it changes."""

    __tablename__ = "reference_versions"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    stamp: str = Field(max_length=40)
