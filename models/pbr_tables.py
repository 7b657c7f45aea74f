"""SQLModel tables of payment by results: contracts, the participant register, outcome events,
claim runs and their lines, payer shares, disputes, lifecycle transitions, validation samples
and mechanism results. Created by migration ``0003_pbr``.

Personal data (DESIGN.md section 8): a participant's start date, cohort and attributes live
only in ``pbr_participants``, a plain (correctable, erasable) register outside the hash-chained
ledger. Claim lines, shares and ledger postings carry the pseudonymous ``participant_id`` only.

Claim lines are written once by a claim run and never changed; what happens to a claim later
(disputes, approval, invoice, payment, samples) is recorded in its own rows.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class PbrContractRow(SQLModel, table=True):
    __tablename__ = "pbr_contracts"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    project: str = Field(max_length=64)
    provider: str = Field(max_length=200)
    #: fund the income is booked in; ``None`` = no fund dimension on the postings.
    fund: str | None = Field(default=None, max_length=64)
    currency: str = Field(max_length=3)
    source_name: str = Field(max_length=500)
    #: the contract file exactly as loaded: the contract is re-read from it.
    toml_text: str = Field(sa_column=Column(Text, nullable=False))
    content_hash: str = Field(max_length=64)
    loaded_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    loaded_by: str = Field(max_length=100)


class PbrImportRow(SQLModel, table=True):
    """One participants or outcomes file accepted; its hash makes a re-import a no-op."""

    __tablename__ = "pbr_imports"
    __table_args__ = (UniqueConstraint("contract_id", "kind", "file_hash", name="uq_pbr_imports_file"),)

    id: int | None = Field(default=None, primary_key=True)
    contract_id: str = Field(max_length=64, foreign_key="pbr_contracts.id", index=True)
    kind: str = Field(max_length=16)  # participants | outcomes
    file_name: str = Field(max_length=500)
    file_hash: str = Field(max_length=64)
    row_count: int
    imported_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    imported_by: str = Field(max_length=100)


class PbrParticipantRow(SQLModel, table=True):
    """The participant register (personal data; never hash-chained)."""

    __tablename__ = "pbr_participants"

    contract_id: str = Field(primary_key=True, max_length=64, foreign_key="pbr_contracts.id")
    participant_id: str = Field(primary_key=True, max_length=64)
    start_date: date
    cohort: str | None = Field(default=None, max_length=64)
    #: the delivery partner the participant belongs to (joint-prime contracts, migration 0007);
    #: ``None`` = the prime's own participant.
    partner_id: str | None = Field(default=None, max_length=64, index=True)
    attributes: str = Field(sa_column=Column(Text, nullable=False))  # JSON object of the other columns
    import_id: int = Field(foreign_key="pbr_imports.id")


class PbrOutcomeEventRow(SQLModel, table=True):
    """An outcome event as a provider submitted it (row of an outcomes file)."""

    __tablename__ = "pbr_outcome_events"
    __table_args__ = (Index("ix_pbr_outcome_events_contract_day", "contract_id", "achieved_on"),)

    id: int | None = Field(default=None, primary_key=True)
    contract_id: str = Field(max_length=64, foreign_key="pbr_contracts.id")
    import_id: int = Field(foreign_key="pbr_imports.id", index=True)
    row_number: int
    participant_id: str = Field(max_length=64)
    outcome_id: str = Field(max_length=64)
    achieved_on: date
    evidence_ref: str | None = Field(default=None, max_length=200)
    submitted_on: date  # as the provider's file (or the importer) says
    #: when Fuel received the row (its clock at import, migration 0024): a late outcome's claim
    #: deadline is judged on this day, never on a ``submitted_on`` the file could backdate
    received_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=False), nullable=True))
    #: reason code the import found (``""``: acceptable then); the claim run decides finally.
    import_reason: str = Field(max_length=32)


class PbrClaimRunRow(SQLModel, table=True):
    __tablename__ = "pbr_claim_runs"
    __table_args__ = (UniqueConstraint("contract_id", "period", name="uq_pbr_claim_runs_period"),)

    id: int | None = Field(default=None, primary_key=True)
    contract_id: str = Field(max_length=64, foreign_key="pbr_contracts.id", index=True)
    period: str = Field(max_length=8)
    period_end: date  # exclusive
    status: str = Field(max_length=16)
    line_count: int
    gross_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    net_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    #: clawback from earlier samples taken from this statement (>= 0; shown negative).
    clawback_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    invoice_ref: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    created_by: str = Field(max_length=100)


class PbrRunRevisionRow(SQLModel, table=True):
    """A claim run's state after a step of its life (approved, invoiced, paid, a clawback taken):
    claim runs are immutable (migration 0024), so a change is a new revision; the latest is the
    run's current status, net, clawback and invoice reference."""

    __tablename__ = "pbr_run_revisions"

    run_id: int = Field(primary_key=True, foreign_key="pbr_claim_runs.id")
    revision: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})  # 1.. per run
    status: str = Field(max_length=16)
    net_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    clawback_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    invoice_ref: str | None = Field(default=None, max_length=100)
    revised_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    revised_by: str = Field(max_length=100)


class PbrClaimLineRow(SQLModel, table=True):
    __tablename__ = "pbr_claim_lines"

    run_id: int = Field(primary_key=True, foreign_key="pbr_claim_runs.id")
    line_no: int = Field(primary_key=True)  # 1.. in claim order
    event_id: int = Field(foreign_key="pbr_outcome_events.id", unique=True)
    participant_id: str = Field(max_length=64, index=True)
    outcome_id: str = Field(max_length=64)
    achieved_on: date
    evidence_ref: str | None = Field(default=None, max_length=200)
    accepted: bool
    reason: str = Field(max_length=32)
    rate_card_version: str | None = Field(default=None, max_length=64)
    price_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    gross_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    reduction_participant_cap_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    reduction_outcome_count_cap_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    reduction_outcome_value_cap_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    reduction_contract_cap_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    reduction_payer_cap_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    net_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    cap_reason: str = Field(max_length=16)
    cap_applied: str = Field(max_length=200)
    participant_paid_cum_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    participant_headroom_pence: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class PbrLineShareRow(SQLModel, table=True):
    """Each payer's share of a claim line, after that payer's cap."""

    __tablename__ = "pbr_line_shares"

    run_id: int = Field(primary_key=True, foreign_key="pbr_claim_runs.id")
    line_no: int = Field(primary_key=True)
    payer_id: str = Field(primary_key=True, max_length=64)
    share_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    cap_reduction_pence: int = Field(sa_column=Column(BigInteger, nullable=False))


class PbrRunPayerRow(SQLModel, table=True):
    """Per payer of a claim run: what it owes, and the entries that booked and settled it."""

    __tablename__ = "pbr_run_payers"

    run_id: int = Field(primary_key=True, foreign_key="pbr_claim_runs.id")
    payer_id: str = Field(primary_key=True, max_length=64)
    share_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    clawback_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    approved_pence: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    approval_entry_id: int | None = Field(default=None)
    paid_pence: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    payment_entry_id: int | None = Field(default=None)


class PbrLineDisputeRow(SQLModel, table=True):
    __tablename__ = "pbr_line_disputes"

    run_id: int = Field(primary_key=True, foreign_key="pbr_claim_runs.id")
    line_no: int = Field(primary_key=True)
    reason: str = Field(max_length=500)
    disputed_by: str = Field(max_length=100)
    disputed_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))


class PbrTransitionRow(SQLModel, table=True):
    """Every lifecycle step of a claim run, with who and when (append-only)."""

    __tablename__ = "pbr_transitions"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="pbr_claim_runs.id", index=True)
    status: str = Field(max_length=16)
    payer_id: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=500)
    at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    by: str = Field(max_length=100)


class PbrSampleRow(SQLModel, table=True):
    """A validation sample of a claim run's paid lines and, once re-checked, its recovery."""

    __tablename__ = "pbr_samples"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="pbr_claim_runs.id", unique=True)
    seed: str = Field(max_length=100)
    sample_size: int
    sampled_lines: str = Field(sa_column=Column(Text, nullable=False))  # JSON list of line numbers
    invalid_lines: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    method: str | None = Field(default=None, max_length=16)
    error_rate: str | None = Field(default=None, max_length=100)  # exact fraction "n/d"
    sampled_value_pence: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    invalid_value_pence: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    recovery_pence: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    selected_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    selected_by: str = Field(max_length=100)
    checked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=False), nullable=True))
    checked_by: str | None = Field(default=None, max_length=100)


class PbrClawbackRow(SQLModel, table=True):
    """A recovery taken from a later claim run's statement (never below its net)."""

    __tablename__ = "pbr_clawbacks"

    sample_id: int = Field(primary_key=True, foreign_key="pbr_samples.id")
    run_id: int = Field(primary_key=True, foreign_key="pbr_claim_runs.id")
    amount_pence: int = Field(sa_column=Column(BigInteger, nullable=False))


class PbrMechanismResultRow(SQLModel, table=True):
    """A comparison mechanism computed for a contract and period (idempotent by input hash).

    Recording it also adds one outcome event per payment of the result (outcome id
    ``mechanism:<index>:<kind>``, no participant), so the next claim run bills it like any
    outcome (``ledger/pbr/mechanism_claims.py``)."""

    __tablename__ = "pbr_mechanism_results"
    __table_args__ = (UniqueConstraint("contract_id", "period", "mechanism_index", name="uq_pbr_mechanism_period"),)

    id: int | None = Field(default=None, primary_key=True)
    contract_id: str = Field(max_length=64, foreign_key="pbr_contracts.id")
    period: str = Field(max_length=8)
    mechanism_index: int
    kind: str = Field(max_length=32)
    input_hash: str = Field(max_length=64)
    payment_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    result_json: str = Field(sa_column=Column(Text, nullable=False))
    #: the figures file exactly as imported (migration 0026; ``None`` for results recorded before)
    input_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    file_name: str | None = Field(default=None, max_length=500)
    computed_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    computed_by: str = Field(max_length=100)


import models.partner_tables  # noqa: E402,F401  (joint-prime and pipeline tables, migration 0007: one metadata)
