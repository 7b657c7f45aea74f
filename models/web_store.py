"""The web pages' repository: users with hashed passwords, and login sessions.

Passwords: scrypt (``hashlib.scrypt``, n=2**14, r=8, p=1) with a 16-byte random salt per
user, stored as ``scrypt$n$r$p$salt$hash``; compared in constant time. Sessions: the cookie
value is ``fuel_s_`` + 32 random bytes; only its SHA-256 is stored. A session started with an
API token ends when that token is revoked or expires; one started with a password ends when
the user is disabled. Either ends at its own expiry or at logout.

A session stands for the same :class:`models.api_store.Principal` as a token, so pages make
exactly the API's role and object checks.

Every function takes a ``Connection`` already inside a transaction (or a read connection).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from ledger.errors import NotFound, ValidationError
from models.api_store import Principal, _check_scope, authenticate, tokens_t
from models.ledger_store import utc_now
from models.web_tables import WebSessionRow, WebUserRow

users_t = WebUserRow.__table__
sessions_t = WebSessionRow.__table__

SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_BYTES = 2**14, 8, 1, 32
SALT_BYTES = 16
PASSWORD_MIN_CHARS, PASSWORD_MAX_CHARS = 10, 1000
USERNAME_MAX_CHARS = 100
SESSION_PREFIX = "fuel_s_"
SESSION_HOURS_DEFAULT = 12
#: user principals get negative ids so they never collide with token ids
USER_ID_SIGN = -1


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash`` of a password, with a fresh random salt unless one is given."""
    if not isinstance(password, str) or not PASSWORD_MIN_CHARS <= len(password) <= PASSWORD_MAX_CHARS:
        raise ValidationError(f"a password needs {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters",
                              field="password")
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            dklen=SCRYPT_BYTES)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a stored hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r),
                                p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    username: str
    role: str
    scope: str | None
    created_at: datetime
    created_by: str
    disabled_at: datetime | None

    def as_dict(self) -> dict:
        return {"id": self.id, "username": self.username, "role": self.role, "scope": self.scope,
                "created_at": self.created_at.isoformat(timespec="seconds"), "created_by": self.created_by,
                "disabled_at": self.disabled_at.isoformat(timespec="seconds") if self.disabled_at else None,
                "active": self.disabled_at is None}


def _user(row) -> UserInfo:
    return UserInfo(row["id"], row["username"], row["role"], row["scope"], row["created_at"], row["created_by"],
                    row["disabled_at"])


def create_user(conn: Connection, username: str, password: str, role: str, scope: str | None,
                created_by: str = "fuel", now: datetime | None = None) -> UserInfo:
    """Add a web user with a role and scope (checked like a token's); the password is hashed."""
    username = (username or "").strip()
    if not username or len(username) > USERNAME_MAX_CHARS or any(c.isspace() for c in username):
        raise ValidationError(f"a username needs 1 to {USERNAME_MAX_CHARS} characters and no spaces",
                              field="username")
    _check_scope(conn, role, scope)
    row = {"username": username, "password_hash": hash_password(password), "role": role, "scope": scope or None,
           "created_at": now or utc_now(), "created_by": created_by, "disabled_at": None}
    try:
        with conn.begin_nested():
            new_id = conn.execute(users_t.insert().values(**row)).inserted_primary_key[0]
    except IntegrityError:
        raise ValidationError(f"user {username!r} already exists", field="username") from None
    return _user({**row, "id": new_id})


def list_users(conn: Connection) -> list[UserInfo]:
    return [_user(r) for r in conn.execute(select(users_t).order_by(users_t.c.id)).mappings()]


def disable_user(conn: Connection, username: str, now: datetime | None = None) -> str:
    """Disable a user: its sessions stop working at once."""
    row = conn.execute(select(users_t.c.id, users_t.c.disabled_at).where(users_t.c.username == username)).first()
    if row is None:
        raise NotFound(f"user {username!r} does not exist", field="username")
    if row.disabled_at is not None:
        return "already disabled"
    conn.execute(users_t.update().where(users_t.c.id == row.id).values(disabled_at=now or utc_now()))
    return "disabled"


def write_scope(conn: Connection, username: str) -> str | None:
    """The fund a CLI write by ``username`` is confined to: a web user who is a fund manager
    writes only to its fund, any other role not at all; a name that is no web user (the
    operator at the console) is not confined (None)."""
    row = conn.execute(select(users_t.c.role, users_t.c.scope, users_t.c.disabled_at)
                       .where(users_t.c.username == username)).first()
    if row is None:
        return None
    if row.disabled_at is not None:
        raise ValidationError(f"user {username!r} is disabled and cannot write", field="user")
    if row.role != "fund_manager" or not row.scope:
        raise ValidationError(f"user {username!r} is a {row.role}: only a fund manager writes", field="user")
    return str(row.scope)


def _user_principal(row) -> Principal:
    return Principal(USER_ID_SIGN * int(row["id"]), str(row["username"]), str(row["role"]), row["scope"])


def authenticate_password(conn: Connection, username: str, password: str) -> Principal | None:
    """The principal of an active user whose password matches, or None."""
    if not username or not password or len(password) > PASSWORD_MAX_CHARS or len(username) > USERNAME_MAX_CHARS:
        return None
    row = conn.execute(select(users_t).where(users_t.c.username == username.strip())).mappings().first()
    if row is None:
        hash_password("x" * PASSWORD_MIN_CHARS)  # spend the same time as for a real user
        return None
    if not check_password(password, row["password_hash"]) or row["disabled_at"] is not None:
        return None
    return _user_principal(row)


# ---------------------------------------------------------------------------- sessions


def session_sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def start_session(conn: Connection, principal: Principal, hours: int = SESSION_HOURS_DEFAULT,
                  now: datetime | None = None) -> str:
    """A new session for a principal (from a token or a password); returns the cookie value."""
    now = now or utc_now()
    value = SESSION_PREFIX + secrets.token_urlsafe(32)
    via_user = principal.token_id < 0
    conn.execute(sessions_t.insert().values(
        session_sha256=session_sha256(value), via="password" if via_user else "token",
        token_id=None if via_user else principal.token_id,
        user_id=USER_ID_SIGN * principal.token_id if via_user else None,
        created_at=now, expires_at=now + timedelta(hours=hours), ended_at=None))
    return value


def session_principal(conn: Connection, value: str | None, now: datetime | None = None) -> Principal | None:
    """Who a session cookie stands for, or None (unknown, ended, expired, token revoked, user disabled)."""
    if not value or len(value) > 200 or not value.startswith(SESSION_PREFIX):
        return None
    now = now or utc_now()
    row = conn.execute(select(sessions_t).where(sessions_t.c.session_sha256 == session_sha256(value))).mappings().first()
    if row is None or row["ended_at"] is not None or row["expires_at"] <= now:
        return None
    if row["via"] == "password":
        user = conn.execute(select(users_t).where(users_t.c.id == row["user_id"])).mappings().first()
        if user is None or user["disabled_at"] is not None:
            return None
        return _user_principal(user)
    token = conn.execute(select(tokens_t).where(tokens_t.c.id == row["token_id"])).mappings().first()
    if token is None or token["revoked_at"] is not None:
        return None
    if token["expires_at"] is not None and token["expires_at"] <= now:
        return None
    return Principal(token["id"], token["name"], token["role"], token["scope"])


def end_session(conn: Connection, value: str | None, now: datetime | None = None) -> None:
    if not value:
        return
    conn.execute(sessions_t.update().where(sessions_t.c.session_sha256 == session_sha256(value),
                                           sessions_t.c.ended_at.is_(None)).values(ended_at=now or utc_now()))


def login_with_token(conn: Connection, token: str) -> Principal | None:
    """The principal of an API token (the same check as the API's bearer authentication)."""
    return authenticate(conn, token.strip()) if token else None


# ---------------------------------------------------------------------------- read views for pages


RECENT_ENTRIES_MAX = 50


def claim_runs(conn: Connection, contract_ids: list[str]) -> list[dict]:
    """Every claim run of the given contracts, newest period first, with its disputed lines counted."""
    from sqlalchemy import func

    from models.pbr_store import current, disputes_t, runs_t

    if not contract_ids:
        return []
    disputed = (select(disputes_t.c.run_id, func.count().label("disputed")).group_by(disputes_t.c.run_id)
                .subquery())
    query = (select(runs_t.c.contract_id, runs_t.c.period, current("status").label("status"), runs_t.c.line_count,
                    current("net_pence").label("net_pence"), runs_t.c.gross_pence,
                    func.coalesce(disputed.c.disputed, 0).label("disputed"))
             .select_from(runs_t.outerjoin(disputed, disputed.c.run_id == runs_t.c.id))
             .where(runs_t.c.contract_id.in_(contract_ids))
             .order_by(runs_t.c.period.desc(), runs_t.c.contract_id))
    return [{"contract": r.contract_id, "period": r.period, "status": r.status, "lines": int(r.line_count),
             "gross_pence": int(r.gross_pence), "net_pence": int(r.net_pence), "disputed": int(r.disputed)}
            for r in conn.execute(query)]  # fmt: skip


def recent_entries(conn: Connection, fund: str, limit: int = 10) -> list[dict]:
    """The fund's latest entries (by chain order), each with its amount moved into or out of cash."""
    from sqlalchemy import case, func

    from models.ledger_store import entries_t, postings_t

    limit = max(1, min(limit, RECENT_ENTRIES_MAX))
    p, e = postings_t, entries_t
    query = (select(e.c.id, e.c.effective_date, e.c.description, e.c.event_kind, e.c.recorded_by,
                    func.sum(case((p.c.account_code == "cash", p.c.amount_pence), else_=0)).label("cash_pence"))
             .select_from(e.join(p, p.c.entry_id == e.c.id)).where(p.c.fund == fund)
             .group_by(e.c.id, e.c.effective_date, e.c.description, e.c.event_kind, e.c.recorded_by)
             .order_by(e.c.id.desc()).limit(limit))
    return [{"id": int(r.id), "effective_date": str(r.effective_date)[:10], "description": r.description,
             "event_kind": r.event_kind, "recorded_by": r.recorded_by, "cash_pence": int(r.cash_pence)}
            for r in conn.execute(query)]


def last_reported_day(conn: Connection, fund_id: str, today: date) -> date | None:
    """The day a fund's pages report to unless asked otherwise: the end of the last closed
    quarter, else the last day the fund has an entry; never after ``today``. None: no entries."""
    from sqlalchemy import func

    from models.ledger_store import closes_t, postings_t

    closed_end = conn.execute(select(func.max(closes_t.c.period_end))).scalar()  # exclusive
    if closed_end is not None:
        return min(_as_date(closed_end) - timedelta(days=1), today)
    last = conn.execute(select(func.max(postings_t.c.effective_date)).where(postings_t.c.fund == fund_id)).scalar()
    return None if last is None else min(_as_date(last), today)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
