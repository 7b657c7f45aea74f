"""The evidence chain (migration 0024): one seal per stored contract load, claim run, claim line,
claim run revision and distribution line, hash-chained like the journal, so ``fuel verify``
reports the first of them changed or deleted behind Fuel's back (``models/evidence_store.py``).
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class EvidenceSealRow(SQLModel, table=True):
    __tablename__ = "evidence_seals"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})  # chain order
    kind: str = Field(max_length=32)  # contract | claim_run | claim_line | run_revision | distribution_line
    record_key: str = Field(max_length=200)  # the record's key as text, e.g. "12:3" (run 12, line 3)
    record_hash: str = Field(max_length=64)  # SHA-256 of the record's stored fields
    prev_hash: str = Field(max_length=64)
    seal_hash: str = Field(max_length=64)
