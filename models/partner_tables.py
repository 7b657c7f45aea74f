"""SQLModel tables of joint-prime contracts and the project pipeline. Created by migration
``0007_joint_prime_pipeline`` (which also adds ``pbr_participants.partner_id``).

* ``pbr_passthroughs``: one pass-through per contract and claim period, with what the payers
  paid for the period and the prime's retained part; written once.
* ``pbr_partner_amounts``: each partner's figures for that period (written once by the
  pass-through), the entry that booked the payable, and later the payment and its entry.
* ``project_stages``: the append-only history of each project's pipeline stage (dated, with who
  recorded it); the current stage is derived from it, never stored (triggers refuse UPDATE and
  DELETE, as for commitments).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class PbrPassThroughRow(SQLModel, table=True):
    __tablename__ = "pbr_passthroughs"
    __table_args__ = (UniqueConstraint("contract_id", "period", name="uq_pbr_passthroughs_period"),)

    id: int | None = Field(default=None, primary_key=True)
    contract_id: str = Field(max_length=64, foreign_key="pbr_contracts.id", index=True)
    period: str = Field(max_length=8)
    run_id: int = Field(foreign_key="pbr_claim_runs.id", unique=True)
    effective_date: date
    received_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    prime_own_received_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    shares_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    fees_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    prime_retained_share_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    created_by: str = Field(max_length=100)


class PbrPartnerAmountRow(SQLModel, table=True):
    __tablename__ = "pbr_partner_amounts"

    passthrough_id: int = Field(primary_key=True, foreign_key="pbr_passthroughs.id")
    partner_id: str = Field(primary_key=True, max_length=64)
    lines: int
    participants: int
    new_participants: int
    net_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    clawback_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    received_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    share_before_cap_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    fee_period_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    fee_participants_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    cap_reduction_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    cap_applied: str = Field(max_length=16)
    share_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    fees_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    payable_entry_id: int | None = Field(default=None)
    paid_pence: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    paid_on: date | None = Field(default=None)
    payment_entry_id: int | None = Field(default=None)


class ProjectStageRow(SQLModel, table=True):
    """One pipeline stage change of a project (append-only)."""

    __tablename__ = "project_stages"
    __table_args__ = (Index("ix_project_stages_project_day", "project_id", "effective_date"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(max_length=64, foreign_key="projects.id")
    stage: str = Field(max_length=32)
    effective_date: date
    #: money the fund has committed to the project from this change on (memo; ``None`` = unchanged).
    committed_pence: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    note: str | None = Field(default=None, max_length=500)
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    recorded_by: str = Field(max_length=100)


#: Append-only (no UPDATE or DELETE, enforced by triggers).
APPEND_ONLY_TABLES = ("project_stages",)
