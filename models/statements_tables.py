"""Waterfall distribution lines: how each distribution entry splits per party and kind.

Created by migration ``0006_distribution_lines``. One row per posting of ``distributions`` that
a waterfall run (``fuel distribute``) made, with the waterfall kind and its statement category
(return of capital, income, gains), so capital accounts can split distributions with SQL
aggregation. Rows are written in the same transaction as their entry and never changed; a
reversed entry's rows are left out by the queries (the reversal is the correction).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel


class DistributionLineRow(SQLModel, table=True):
    __tablename__ = "distribution_lines"

    entry_id: int = Field(primary_key=True)
    line_no: int = Field(primary_key=True)
    fund: str = Field(max_length=64, index=True)
    effective_date: date
    party: str = Field(max_length=64)
    is_investor: bool
    source: str | None = Field(default=None, max_length=32)
    tranche: str | None = Field(default=None, max_length=64)
    restriction: str | None = Field(default=None, max_length=64)
    kind: str = Field(max_length=32)
    category: str = Field(max_length=32)
    amount_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
