"""SQLModel table of a fund's statement terms: the terms file and its waterfall file, versioned
and dated. Created by migration ``0011_fund_terms``.

Each version holds the two files' text exactly as loaded (and their SHA-256), like a contract
(``pbr_contracts.toml_text``): the terms are re-parsed from it whenever they are read, so a
statement always follows what was loaded and what the parser makes of it today. Rows are
evidence of what the fund's statements were built on: immutable (no-update / no-delete
triggers). A change of terms is a new version with a later ``effective_from``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class FundTermsRow(SQLModel, table=True):
    __tablename__ = "fund_terms"
    __table_args__ = (UniqueConstraint("fund_id", "effective_from", name="uq_fund_terms_effective_from"),)

    fund_id: str = Field(primary_key=True, max_length=64, foreign_key="funds.id")
    version: int = Field(primary_key=True)  # 1, 2, ... per fund
    #: the first day this version applies (inclusive); the next version's date ends it
    effective_from: date
    terms_name: str = Field(max_length=500)
    terms_text: str = Field(sa_column=Column(Text, nullable=False))
    terms_sha256: str = Field(max_length=64)
    waterfall_name: str = Field(max_length=500)
    waterfall_text: str = Field(sa_column=Column(Text, nullable=False))
    waterfall_sha256: str = Field(max_length=64)
    loaded_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    loaded_by: str = Field(max_length=100)
