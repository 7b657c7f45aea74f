"""SQLModel tables of the web API: bearer tokens (hashed) and stored idempotent responses.
Created by the migration ``0005_api``.

A token is shown once when it is created; the database keeps only its SHA-256, so a copy of
the database does not hand out access. An idempotency row keeps the first successful response
to a POST so that a retry with the same ``Idempotency-Key`` gets the same answer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Integer, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


class ApiTokenRow(SQLModel, table=True):
    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    name: str = Field(max_length=200)
    #: hex SHA-256 of the token; the token itself is never stored.
    token_sha256: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=16)
    #: fund id (fund_manager), investor party id (investor), payer party id (commissioner),
    #: "<contract id>/<partner id>" (partner); none for auditor.
    scope: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    created_by: str = Field(max_length=100)
    expires_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=False), nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=False), nullable=True))


class IdempotencyRow(SQLModel, table=True):
    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("principal", "idempotency_key", name="uq_api_idempotency_principal_key"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    #: who sent it: "<role>:<scope>", so a retry with a new token of the same principal replays too.
    principal: str = Field(max_length=100)
    idempotency_key: str = Field(max_length=200)
    #: "POST /funds/{fund_id}/events" with the path filled in.
    request_target: str = Field(max_length=500)
    request_sha256: str = Field(max_length=64)
    status_code: int
    media_type: str = Field(max_length=100)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
