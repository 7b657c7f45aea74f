"""Tables of local VCSE capacity (``docs/value.md``, "Local VCSE capacity"), migration ``0030``.

``vcse_organisations``: per organisation that delivers (a project's provider or a joint prime's
delivery partner), keyed by its party or partner id, its organisation type, size band and local
authority area (ONS code). Kept apart from ``parties`` so the parties' write rules stay theirs.
``vcse_fund_areas``: the local authority areas a fund counts as local.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel


class VcseOrganisationRow(SQLModel, table=True):
    __tablename__ = "vcse_organisations"

    party_id: str = Field(primary_key=True, max_length=64)
    org_type: str = Field(max_length=16)
    size_band: str = Field(max_length=16)
    la_code: str = Field(max_length=9)
    source: str = Field(max_length=500)
    loaded_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    loaded_by: str = Field(max_length=100)


class VcseFundAreaRow(SQLModel, table=True):
    __tablename__ = "vcse_fund_areas"

    fund_id: str = Field(primary_key=True, max_length=64, foreign_key="funds.id")
    la_code: str = Field(primary_key=True, max_length=9)
