"""SQLModel table of value tables (``docs/value.md``): each load of a contract's value table and
its deflator file, text exactly as loaded. Created by migration ``0023_value_tables``.

Like fund terms, the texts are re-parsed whenever they are read; rows are evidence of what a
value report was built on, so they are immutable (no-update / no-delete triggers). Loading a
changed table adds a new stored version; the table's own ``[[versions]]`` carry its dates.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Text
from sqlmodel import Field, SQLModel


class ValueTableRow(SQLModel, table=True):
    __tablename__ = "value_tables"

    contract_id: str = Field(primary_key=True, max_length=64, foreign_key="pbr_contracts.id")
    version: int = Field(primary_key=True)  # 1, 2, ... per contract: the latest is used
    table_id: str = Field(max_length=64)
    table_name: str = Field(max_length=500)
    table_text: str = Field(sa_column=Column(Text, nullable=False))
    deflator_name: str = Field(max_length=500)
    deflator_text: str = Field(sa_column=Column(Text, nullable=False))
    content_sha256: str = Field(max_length=64)
    loaded_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    loaded_by: str = Field(max_length=100)
