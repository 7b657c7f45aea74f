"""Incubator calls (migration 0031; docs/calls.md): calls in versions, their budget lines, the
applications made to them, assessors' conflicts and scores, the panel's decisions, awards and
the payments made on them, and the contracts the awarded projects went on to win.

Every table is append-only (triggers refuse UPDATE and DELETE): a call changes by a new version,
a call is closed or its decisions published by a new event, and a score or decision is corrected
by a new row that names the one it corrects.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class CallRow(SQLModel, table=True):
    __tablename__ = "calls"

    id: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    fund_id: str = Field(max_length=64, foreign_key="funds.id", index=True)
    theme: str = Field(max_length=64)
    opens_on: date
    closes_on: date
    budget_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    rules_json: str = Field(sa_column=Column(Text, nullable=False))
    content_sha256: str = Field(max_length=64)
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    recorded_by: str = Field(max_length=100)


class CallBudgetLineRow(SQLModel, table=True):
    """A call version's budget from one funding group: the amount the call reserves of it."""

    __tablename__ = "call_budget_lines"

    call_id: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    line_no: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    fund_id: str = Field(max_length=64, foreign_key="funds.id")
    source: str = Field(max_length=64)
    tranche: str | None = Field(default=None, max_length=64)
    restriction: str | None = Field(default=None, max_length=64)
    amount_pence: int = Field(sa_column=Column(BigInteger, nullable=False))


class CallEventRow(SQLModel, table=True):
    """A call closed early (``closed``) or its decisions published (``published``)."""

    __tablename__ = "call_events"

    id: int | None = Field(default=None, primary_key=True)
    call_id: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=16)
    effective_date: date
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    recorded_by: str = Field(max_length=100)


class CallApplicationRow(SQLModel, table=True):
    __tablename__ = "call_applications"
    __table_args__ = (UniqueConstraint("call_id", "org_id", "reference", name="uq_call_applications_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: str = Field(max_length=64, index=True)
    call_version: int
    reference: str = Field(max_length=64)
    org_id: str = Field(max_length=64, index=True)
    org_name: str = Field(max_length=200)
    org_type: str = Field(max_length=64)
    org_size: str = Field(max_length=64)
    area: str = Field(max_length=64)
    theme: str = Field(max_length=64)
    project: str = Field(max_length=200)
    outcomes: str = Field(sa_column=Column(Text, nullable=False))
    amount_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    submitted_on: date
    eligible: bool
    reasons: str = Field(sa_column=Column(Text, nullable=False))  # one reason a line; empty when eligible
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    recorded_by: str = Field(max_length=100)


class CallConflictRow(SQLModel, table=True):
    __tablename__ = "call_conflicts"
    __table_args__ = (UniqueConstraint("application_id", "assessor", name="uq_call_conflicts"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="call_applications.id")
    assessor: str = Field(max_length=100)
    note: str = Field(max_length=500)
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))


class CallScoreRow(SQLModel, table=True):
    """One assessor's scores of one application (all criteria, as JSON); the latest row counts."""

    __tablename__ = "call_scores"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="call_applications.id", index=True)
    assessor: str = Field(max_length=100)
    scores_json: str = Field(sa_column=Column(Text, nullable=False))
    corrects_id: int | None = Field(default=None, foreign_key="call_scores.id")
    note: str | None = Field(default=None, max_length=500)
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))


class CallDecisionRow(SQLModel, table=True):
    """The panel's decision on an application; the latest row counts."""

    __tablename__ = "call_decisions"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="call_applications.id", index=True)
    decision: str = Field(max_length=16)
    amount_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    reasons: str = Field(max_length=2000)
    decided_on: date
    corrects_id: int | None = Field(default=None, foreign_key="call_decisions.id")
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    recorded_by: str = Field(max_length=100)


class CallAwardRow(SQLModel, table=True):
    """A grant awarded to a project from one of the call's budget lines (a commitment: memo)."""

    __tablename__ = "call_awards"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="call_applications.id", unique=True)
    call_id: str = Field(max_length=64, index=True)
    project_id: str = Field(max_length=64, foreign_key="projects.id", index=True)
    fund_id: str = Field(max_length=64, foreign_key="funds.id")
    source: str = Field(max_length=64)
    tranche: str | None = Field(default=None, max_length=64)
    restriction: str | None = Field(default=None, max_length=64)
    amount_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    awarded_on: date
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    recorded_by: str = Field(max_length=100)


class CallPaymentRow(SQLModel, table=True):
    """A tranche of an award paid on its milestone: the disbursement entry that paid it."""

    __tablename__ = "call_payments"
    __table_args__ = (UniqueConstraint("award_id", "tranche_no", name="uq_call_payments_tranche"),)

    id: int | None = Field(default=None, primary_key=True)
    award_id: int = Field(foreign_key="call_awards.id")
    tranche_no: int
    milestone: str = Field(max_length=200)
    amount_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    entry_id: int = Field(foreign_key="journal_entries.id")
    paid_on: date
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))


class ProjectContractRow(SQLModel, table=True):
    """The outcomes contract a project went on to win (recorded with its move to ``contracted``)."""

    __tablename__ = "project_contracts"

    project_id: str = Field(primary_key=True, max_length=64, foreign_key="projects.id")
    contract_id: str = Field(max_length=64, foreign_key="pbr_contracts.id", index=True)
    effective_date: date
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    recorded_by: str = Field(max_length=100)


#: Append-only (no UPDATE or DELETE, enforced by triggers).
APPEND_ONLY_TABLES = ("calls", "call_budget_lines", "call_events", "call_applications", "call_conflicts",
                      "call_scores", "call_decisions", "call_awards", "call_payments", "project_contracts")
