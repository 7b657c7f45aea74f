"""The web API's repository: bearer tokens and idempotent responses.

Tokens: ``fuel_`` + 32 random bytes (url-safe base64), shown once; only the SHA-256 hex of the
token is stored, and look-ups hash what the client sends. A token is refused once revoked or
past its expiry.

Every function takes a ``Connection`` already inside a transaction (or a read connection).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ledger.errors import InvariantBroken, NotFound, ValidationError
from models.api_tables import ApiTokenRow, IdempotencyRow
from models.ledger_store import utc_now

tokens_t = ApiTokenRow.__table__
idempotency_t = IdempotencyRow.__table__

#: The roles (docs/api.md) and what their scope names. A delivery partner's scope is
#: ``<contract id>/<partner id>`` (partner ids are unique only within a contract; ids never hold "/").
ROLES: dict[str, str | None] = {
    "fund_manager": "fund",
    "investor": "investor",
    "commissioner": "payer",
    "auditor": None,
    "partner": "partner",
    "applicant": "organisation",  # an org-id (GB-CHC-... / GB-COH-...): its own applications (docs/calls.md)
    "assessor": "fund",  # the fund whose calls it assesses; it scores as its token's name
}
#: The scope column's width (migrations 0005 and 0008).
SCOPE_MAX_CHARS = 64
TOKEN_PREFIX = "fuel_"
TOKEN_BYTES = 32
TOKEN_MAX_CHARS = 200


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a role and the object it is scoped to (none for an auditor)."""

    token_id: int
    name: str
    role: str
    scope: str | None

    @property
    def partner(self) -> tuple[str, str] | None:
        """(contract id, partner id) of a delivery partner's principal; None for other roles."""
        if self.role != "partner" or not self.scope:
            return None
        return split_partner_scope(self.scope)

    @property
    def key(self) -> str:
        """Stable identity for idempotency records: ``role:scope``."""
        return f"{self.role}:{self.scope or '*'}"


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    name: str
    role: str
    scope: str | None
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None

    def as_dict(self) -> dict:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat(timespec="seconds") if value else None

        return {"id": self.id, "name": self.name, "role": self.role, "scope": self.scope,
                "created_at": iso(self.created_at), "created_by": self.created_by,
                "expires_at": iso(self.expires_at), "revoked_at": iso(self.revoked_at),
                "active": self.revoked_at is None and (self.expires_at is None or self.expires_at > utc_now())}


def split_partner_scope(scope: str) -> tuple[str, str]:
    """``"lcr-joint-prime/sefton-carers"`` -> ``("lcr-joint-prime", "sefton-carers")``."""
    contract_id, sep, partner_id = scope.partition("/")
    if not sep or not contract_id or not partner_id or "/" in partner_id:
        raise ValidationError(f"a partner scope is <contract id>/<partner id>, e.g. lcr-joint-prime/sefton-carers; "
                              f"got {scope!r}", field="scope")
    return contract_id, partner_id


def _check_partner_scope(conn: Connection, scope: str) -> None:
    from models.pbr_store import get_contract

    contract_id, partner_id = split_partner_scope(scope)
    try:
        contract = get_contract(conn, contract_id)
    except NotFound as exc:
        raise NotFound(f"scope {scope!r}: {exc.message}", field="scope") from None
    if not contract.partners:
        raise ValidationError(f"scope {scope!r}: contract {contract_id} has no delivery partners ([[partners]] in "
                              "its file)", field="scope")
    if partner_id not in contract.partner_ids:
        raise NotFound(f"scope {scope!r}: contract {contract_id} has no partner {partner_id!r} (partners: "
                       f"{', '.join(contract.partner_ids)})", field="scope")


def _check_scope(conn: Connection, role: str, scope: str | None) -> None:
    from models.fund_tables import FundRow, PartyRow

    if role not in ROLES:
        raise ValidationError(f"role {role!r} is not one of {', '.join(ROLES)}", field="role")
    needs = ROLES[role]
    if needs is None:
        if scope:
            raise ValidationError("an auditor token reads everything: give no scope", field="scope")
        return
    if not scope:
        what = "<contract id>/<partner id>" if needs == "partner" else f"the {needs} id it may see"
        raise ValidationError(f"a {role} token needs a scope: {what}", field="scope")
    if len(scope) > SCOPE_MAX_CHARS:
        raise ValidationError(f"scope {scope!r} is {len(scope)} characters; at most {SCOPE_MAX_CHARS} are kept",
                              field="scope")
    if needs == "partner":
        _check_partner_scope(conn, scope)
        return
    if needs == "organisation":
        from ledger.calls import check_org_id

        check_org_id(scope)
        return
    if needs == "fund":  # every role's scope must exist: load the fund's setup before its manager's token
        if conn.execute(select(FundRow.__table__.c.id).where(FundRow.__table__.c.id == scope)).first() is None:
            raise NotFound(f"unknown fund {scope!r}: load the fund's setup first (`fuel fund load`)", field="scope")
        return
    parties = PartyRow.__table__
    kind = conn.execute(select(parties.c.kind).where(parties.c.id == scope)).scalar()
    if kind is None:
        raise NotFound(f"unknown {needs} {scope!r}: add the party first", field="scope")
    if kind != needs:
        raise ValidationError(f"party {scope!r} is a {kind}, not a {needs}", field="scope")


def create_token(
    conn: Connection, name: str, role: str, scope: str | None, created_by: str = "fuel",
    expires_in: timedelta | None = None, now: datetime | None = None,
) -> tuple[str, TokenInfo]:
    """Make a token; returns it (the only time it is seen) and what is stored about it."""
    if not name or not name.strip() or len(name) > 200:
        raise ValidationError("a token needs a name of 1 to 200 characters", field="name")
    _check_scope(conn, role, scope)
    now = now or utc_now()
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    expires = now + expires_in if expires_in is not None else None
    row = {"name": name, "token_sha256": token_sha256(token), "role": role, "scope": scope or None,
           "created_at": now, "created_by": created_by, "expires_at": expires, "revoked_at": None}
    token_id = conn.execute(tokens_t.insert().values(**row)).inserted_primary_key[0]
    return token, TokenInfo(token_id, name, role, scope or None, now, created_by, expires, None)


def list_tokens(conn: Connection) -> list[TokenInfo]:
    rows = conn.execute(select(tokens_t).order_by(tokens_t.c.id)).mappings()
    return [TokenInfo(r["id"], r["name"], r["role"], r["scope"], r["created_at"], r["created_by"], r["expires_at"],
                      r["revoked_at"]) for r in rows]


def revoke_token(conn: Connection, token_id: int, now: datetime | None = None) -> str:
    row = conn.execute(select(tokens_t.c.revoked_at).where(tokens_t.c.id == token_id)).first()
    if row is None:
        raise NotFound(f"token {token_id} does not exist", field="id")
    if row.revoked_at is not None:
        return "already revoked"
    conn.execute(tokens_t.update().where(tokens_t.c.id == token_id).values(revoked_at=now or utc_now()))
    return "revoked"


def authenticate(conn: Connection, token: str, now: datetime | None = None) -> Principal | None:
    """The principal a token stands for, or None (unknown, revoked or expired)."""
    if not token or len(token) > TOKEN_MAX_CHARS:
        return None
    row = conn.execute(select(tokens_t).where(tokens_t.c.token_sha256 == token_sha256(token))).mappings().first()
    if row is None or row["revoked_at"] is not None:
        return None
    if row["expires_at"] is not None and row["expires_at"] <= (now or utc_now()):
        return None
    return Principal(row["id"], row["name"], row["role"], row["scope"])


# ---------------------------------------------------------------------------- idempotency


@dataclass(frozen=True, slots=True)
class StoredResponse:
    request_target: str
    request_sha256: str
    status_code: int
    media_type: str
    body: bytes


def find_response(conn: Connection, principal: str, key: str) -> StoredResponse | None:
    i = idempotency_t
    row = conn.execute(
        select(i.c.request_target, i.c.request_sha256, i.c.status_code, i.c.media_type, i.c.body)
        .where(i.c.principal == principal, i.c.idempotency_key == key)
    ).first()
    return StoredResponse(row[0], row[1], row[2], row[3], bytes(row[4])) if row else None


def store_response(conn: Connection, principal: str, key: str, stored: StoredResponse) -> StoredResponse:
    """Keep the first response for (principal, key); if another request stored one first, return it."""
    insert = (postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert)(idempotency_t)
    written = conn.execute(insert.values(
        principal=principal, idempotency_key=key, request_target=stored.request_target,
        request_sha256=stored.request_sha256, status_code=stored.status_code,
        media_type=stored.media_type, body=stored.body, created_at=utc_now(),
    ).on_conflict_do_nothing(index_elements=["principal", "idempotency_key"]).returning(idempotency_t.c.id))
    if written.first() is None:  # a concurrent request with the same key stored its response first
        existing = find_response(conn, principal, key)
        if existing is None:
            raise InvariantBroken(f"idempotency key {key!r} is taken but no response is stored")
        return existing
    return stored
