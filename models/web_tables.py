"""SQLModel tables of the web pages: users (password hashed) and login sessions (hashed).
Created by the migration ``0008_web``.

A user has a role and a scope exactly like an API token (``models.api_store.ROLES``). Its
password is kept only as a salted scrypt hash. A session is a random cookie value of which the
database keeps only the SHA-256, so a copy of the database cannot be used to log in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Integer
from sqlmodel import Field, SQLModel


class WebUserRow(SQLModel, table=True):
    __tablename__ = "web_users"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    username: str = Field(max_length=100, unique=True)
    #: "scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>"; the password itself is never stored.
    password_hash: str = Field(max_length=300)
    role: str = Field(max_length=16)
    #: fund id (fund_manager), investor party id (investor), payer party id (commissioner),
    #: "<contract id>/<partner id>" (partner); none for auditor.
    scope: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    created_by: str = Field(max_length=100)
    disabled_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=False), nullable=True))


class WebSessionRow(SQLModel, table=True):
    __tablename__ = "web_sessions"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    #: hex SHA-256 of the cookie value; the cookie value itself is never stored.
    session_sha256: str = Field(max_length=64, unique=True)
    #: how the session was started: "token" (an API token) or "password" (a web user).
    via: str = Field(max_length=16)
    token_id: int | None = Field(default=None)
    user_id: int | None = Field(default=None)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=False), nullable=True))
