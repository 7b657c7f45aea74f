"""The ledger's repository: posting, reversing, closing, balances and verify, set-based in SQL.

Every function takes a SQLAlchemy ``Connection`` that is already inside a transaction, so a
caller (an import, a claim run) can post many entries all-or-nothing. ``Ledger`` wraps an
engine for the common one-call-one-transaction case.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Iterable, Iterator, Mapping, Sequence

from sqlalchemy import Connection, Engine, String, and_, any_, bindparam, case, func, literal, select, text, union_all
from sqlalchemy.dialects.postgresql import ARRAY

from ledger.accounts import Chart
from ledger.anchors import Tip, close_hash
from ledger.errors import (
    AlreadyReversed,
    ClosedPeriodError,
    IdempotencyConflict,
    NotFound,
    ValidationError,
)
from ledger.periods import Period
from ledger.postings import (
    DIMENSIONS,
    GENESIS_HASH,
    EntryDraft,
    Posting,
    PostedEntry,
    chain,
    check_entry,
    content_hash,
    reversal_of,
)
from models.db import reading
from models.tables import AccountRow, JournalEntryRow, PeriodBalanceRow, PeriodCloseRow, PostingRow

accounts_t = AccountRow.__table__
entries_t = JournalEntryRow.__table__
postings_t = PostingRow.__table__
closes_t = PeriodCloseRow.__table__
period_balances_t = PeriodBalanceRow.__table__

#: Any constant works; it names the one lock that serialises hash-chain appends on PostgreSQL.
CHAIN_LOCK_ID = 0x6675656C  # "fuel"
BALANCE_COLUMNS = ("account_code", "currency", *DIMENSIONS)


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


# ---------------------------------------------------------------------------- chart


def load_chart(conn: Connection, chart: Chart) -> int:
    """Add the chart's accounts that are not there yet; refuse to change an existing one's type."""
    existing = {row.code: row for row in conn.execute(select(accounts_t))}
    new_rows = []
    for account in chart.accounts:
        row = existing.get(account.code)
        if row is None:
            new_rows.append(
                {"code": account.code, "name": account.name, "type": account.type.value, "parent_code": account.parent}
            )
        elif row.type != account.type.value:
            raise ValidationError(
                f"account {account.code} already exists as {row.type}; the chart says {account.type.value}",
                field="type",
            )
    if new_rows:
        conn.execute(accounts_t.insert(), new_rows)
    return len(new_rows)


def account_types(conn: Connection) -> dict[str, str]:
    return {code: kind for code, kind in conn.execute(select(accounts_t.c.code, accounts_t.c.type))}


# ---------------------------------------------------------------------------- posting


@dataclass(frozen=True, slots=True)
class PostResult:
    entry: PostedEntry
    created: bool  # False when an idempotent replay returned the existing entry


def lock_chain(conn: Connection) -> None:
    """Serialise chain appends. SQLite already holds its write lock (BEGIN IMMEDIATE).
    Taken once per transaction: PostgreSQL holds it until commit or rollback."""
    if _locked(conn) is not None:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:lock_id)"), {"lock_id": CHAIN_LOCK_ID})
    conn.info["fuel_chain"] = {"transaction": conn.get_transaction()}


def _locked(conn: Connection) -> dict | None:
    """What this transaction has read of the chain while holding its lock (the tip, the close
    date): nobody else can change either until it ends, so it need not read them twice."""
    state = conn.info.get("fuel_chain")
    if state is not None and state["transaction"] is conn.get_transaction() is not None:
        return state
    return None


def closed_through(conn: Connection) -> date | None:
    """The exclusive end of the last closed period: nothing may be dated before it."""
    state = _locked(conn)
    if state is not None and "closed_through" in state:
        return state["closed_through"]
    value = conn.execute(select(func.max(closes_t.c.period_end))).scalar()
    if state is not None:
        state["closed_through"] = value
    return value


def check_open(effective_date: date, lock_end: date | None, where: str) -> None:
    if lock_end is not None and effective_date < lock_end:
        period = Period.containing(effective_date)
        last_closed = Period.containing(lock_end - timedelta(days=1))
        raise ClosedPeriodError(
            f"{where}: effective date {effective_date} is in closed period {period.name} "
            f"(books are closed through {last_closed.name}); date it on or after {lock_end} "
            "and reference the entry it corrects",
            field="effective_date",
        )


def check_dimensions(conn: Connection, drafts: Sequence[EntryDraft]) -> None:
    """Every posting's fund exists and its tranche, restriction and project are that fund's
    (once the database has a fund; migration 0025's trigger enforces the same). One query per
    table for the whole batch; a refusal names only the posting's own fund."""
    from models.fund_tables import FundRow, ProjectRow, RestrictionRow, TrancheRow

    funds = set(conn.execute(select(FundRow.__table__.c.id)).scalars())
    if not funds:
        return
    owned: dict[str, set[tuple[str, str]]] = {}
    for what, row in (("tranche", TrancheRow), ("restriction", RestrictionRow), ("project", ProjectRow)):
        wanted = {getattr(p, what) for d in drafts for p in d.postings if getattr(p, what) is not None}
        table = row.__table__
        owned[what] = set(conn.execute(select(table.c.fund_id, table.c.id).where(table.c.id.in_(wanted)))) \
            if wanted else set()
    for draft in drafts:
        for n, posting in enumerate(draft.postings, start=1):
            where = f"entry {draft.idempotency_key!r}, posting {n}"
            if posting.fund is not None and posting.fund not in funds:
                raise NotFound(f"{where}: unknown fund {posting.fund!r}", field="fund")
            for what in ("tranche", "restriction", "project"):
                value = getattr(posting, what)
                if value is not None and (posting.fund, value) not in owned[what]:
                    raise NotFound(f"{where}: {what} {value!r} is not a {what} of fund {posting.fund}", field=what)


def post_entries(
    conn: Connection,
    drafts: Sequence[EntryDraft],
    recorded_by: str = "fuel",
    *,
    known_accounts: Iterable[str] | None = None,
    recorded_at: datetime | None = None,
) -> list[PostResult]:
    """Post ``drafts`` in order, all in the caller's transaction. Idempotent per key."""
    lock_chain(conn)
    accounts = set(known_accounts) if known_accounts is not None else set(account_types(conn))
    for draft in drafts:
        check_entry(draft, accounts)
    check_dimensions(conn, drafts)
    existing = _existing_by_key(conn, [d.idempotency_key for d in drafts])
    lock_end = closed_through(conn)

    results: list[PostResult | None] = []
    to_post: list[EntryDraft] = []
    to_post_hashes: list[str] = []
    seen_in_batch: dict[str, tuple[str, int]] = {}
    for draft in drafts:
        key = draft.idempotency_key
        fingerprint = content_hash(draft)
        if key in existing:
            stored = existing[key]
            if stored.content_hash != fingerprint:
                ours = {p.fund for p in draft.postings} >= {p.fund for p in stored.draft.postings}
                which = f"for entry {stored.id} " if ours else ""  # never name another fund's entry
                raise IdempotencyConflict(
                    f"idempotency key {key!r} was already used {which}with different "
                    "content; use a new key for a new entry",
                    field="idempotency_key",
                )
            results.append(PostResult(stored, created=False))
            continue
        if key in seen_in_batch:
            if seen_in_batch[key][0] != fingerprint:
                raise IdempotencyConflict(
                    f"idempotency key {key!r} appears twice in this batch with different content",
                    field="idempotency_key",
                )
            results.append(None)  # filled in below from the first occurrence
            continue
        check_open(draft.effective_date, lock_end, f"entry {key!r}")
        seen_in_batch[key] = (fingerprint, len(to_post))
        to_post.append(draft)
        to_post_hashes.append(fingerprint)
        results.append(None)

    _check_links(conn, to_post)
    last_id, last_hash = chain_tip(conn)
    posted = chain(to_post, last_id + 1, last_hash, recorded_at or utc_now(), recorded_by, to_post_hashes)
    _insert(conn, posted)
    if posted:
        _locked(conn)["tip"] = (posted[-1].id, posted[-1].entry_hash)

    filled: list[PostResult] = []
    for draft, result in zip(drafts, results):
        if result is None:
            result = PostResult(posted[seen_in_batch[draft.idempotency_key][1]], created=True)
        filled.append(result)
    return filled


def _check_links(conn: Connection, drafts: Sequence[EntryDraft]) -> None:
    reversed_ids = [d.reverses_id for d in drafts if d.reverses_id is not None]
    if len(reversed_ids) != len(set(reversed_ids)):
        raise AlreadyReversed("the same entry is reversed twice in one batch")
    if reversed_ids:
        already = conn.execute(
            select(entries_t.c.reverses_id, entries_t.c.id).where(entries_t.c.reverses_id.in_(reversed_ids))
        ).first()
        if already:
            raise AlreadyReversed(
                f"entry {already[0]} was already reversed by entry {already[1]}; an entry can be reversed once",
                field="entry_id",
            )
    linked = {i for d in drafts for i in (d.reverses_id, d.corrects_id) if i is not None}
    if linked:
        found = set(conn.execute(select(entries_t.c.id).where(entries_t.c.id.in_(linked))).scalars())
        missing = sorted(linked - found)
        if missing:
            raise NotFound(f"entry {missing[0]} does not exist", field="entry_id")


def chain_tip(conn: Connection) -> tuple[int, str]:
    """The last entry's id and hash (0 and the genesis hash on an empty ledger)."""
    state = _locked(conn)
    if state is not None and "tip" in state:
        return state["tip"]
    row = conn.execute(select(entries_t.c.id, entries_t.c.entry_hash).order_by(entries_t.c.id.desc()).limit(1)).first()
    tip = (row.id, row.entry_hash) if row else (0, GENESIS_HASH)
    if state is not None:
        state["tip"] = tip
    return tip


POSTING_COLUMNS = ("entry_id", "line_no", "effective_date", "account_code", "amount_pence", "currency", *DIMENSIONS)
ENTRY_COLUMNS = (
    "id", "idempotency_key", "effective_date", "recorded_at", "recorded_by", "description", "event_kind",
    "event_data", "reverses_id", "corrects_id", "content_hash", "prev_hash", "entry_hash",
)


def _insert_sql(conn: Connection, table: str, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['?'] * len(columns))})"


def _insert(conn: Connection, posted: Sequence[PostedEntry]) -> None:
    """Bulk insert as plain tuples through the driver: the hot path of every posting."""
    if not posted:
        return
    posting_rows = []
    entry_rows = []
    for entry in posted:
        draft = entry.draft
        day = draft.effective_date
        for line_no, p in enumerate(draft.postings, start=1):
            posting_rows.append((entry.id, line_no, day, p.account, p.amount_pence, p.currency,
                                 p.fund, p.source, p.tranche, p.restriction, p.project, p.counterparty))
        entry_rows.append((
            entry.id, draft.idempotency_key, day, entry.recorded_at, entry.recorded_by, draft.description,
            draft.event_kind, json.dumps(dict(draft.event_data), sort_keys=True, separators=(",", ":"), default=str),
            draft.reverses_id, draft.corrects_id, entry.content_hash, entry.prev_hash, entry.entry_hash,
        ))
    if conn.dialect.name == "sqlite":
        # Store dates and times exactly as SQLAlchemy's SQLite types do, so reads agree.
        posting_rows = [(*r[:2], r[2].isoformat(), *r[3:]) for r in posting_rows]
        entry_rows = [(*r[:2], r[2].isoformat(), r[3].strftime("%Y-%m-%d %H:%M:%S.%f"), *r[4:]) for r in entry_rows]
    # Postings first: the entry rows' insert trigger checks their postings balance.
    if conn.dialect.name == "postgresql":
        # COPY: one statement per table, so the statement-level triggers run once per batch.
        cursor = conn.connection.dbapi_connection.cursor()
        for table, columns, rows in (("postings", POSTING_COLUMNS, posting_rows),
                                     ("journal_entries", ENTRY_COLUMNS, entry_rows)):
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    conn.exec_driver_sql(_insert_sql(conn, "postings", POSTING_COLUMNS), posting_rows)
    conn.exec_driver_sql(_insert_sql(conn, "journal_entries", ENTRY_COLUMNS), entry_rows)


# ---------------------------------------------------------------------------- reading entries


def key_in(conn: Connection, column, keys: Sequence[str]):
    """``column IN keys`` for a batch of up to a few hundred string keys."""
    if conn.dialect.name == "postgresql":
        # One array parameter, not one per key: psycopg prepares repeated statements, and the
        # generic plan for a 500-item IN list becomes a sequential scan once the table has been
        # analysed (seen at 30,000 entries: 1 s per batch of posting, growing with the ledger).
        return column == any_(bindparam("keys", list(keys), type_=ARRAY(String)))
    return column.in_(keys)


def _existing_by_key(conn: Connection, keys: Sequence[str]) -> dict[str, PostedEntry]:
    found: dict[str, PostedEntry] = {}
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        rows = conn.execute(select(entries_t).where(key_in(conn, entries_t.c.idempotency_key, chunk))).all()
        if rows:
            for entry in _hydrate(conn, rows):
                found[entry.draft.idempotency_key] = entry
    return found


def _hydrate(conn: Connection, entry_rows: Sequence) -> list[PostedEntry]:
    ids = [row.id for row in entry_rows]
    by_entry: dict[int, list[Posting]] = {i: [] for i in ids}
    posting_rows = conn.execute(
        select(postings_t).where(postings_t.c.entry_id.in_(ids)).order_by(postings_t.c.entry_id, postings_t.c.line_no)
    )
    for row in posting_rows:
        by_entry[row.entry_id].append(_posting_from_row(row))
    return [_entry_from_row(row, by_entry[row.id]) for row in entry_rows]


def _posting_from_row(row) -> Posting:
    return Posting(
        account=row.account_code,
        amount_pence=int(row.amount_pence),
        currency=row.currency,
        fund=row.fund,
        source=row.source,
        tranche=row.tranche,
        restriction=row.restriction,
        project=row.project,
        counterparty=row.counterparty,
    )


def _entry_from_row(row, postings: list[Posting]) -> PostedEntry:
    draft = EntryDraft(
        effective_date=_as_date(row.effective_date),
        description=row.description,
        idempotency_key=row.idempotency_key,
        postings=tuple(postings),
        event_kind=row.event_kind,
        event_data=json.loads(row.event_data),
        reverses_id=row.reverses_id,
        corrects_id=row.corrects_id,
    )
    return PostedEntry(
        id=row.id,
        draft=draft,
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
        content_hash=row.content_hash,
        prev_hash=row.prev_hash,
        entry_hash=row.entry_hash,
    )


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


#: Entry ids are 64-bit in the database; a larger one cannot exist, and must not reach the driver.
ENTRY_ID_MAX = 2**63 - 1


def get_entry(conn: Connection, entry_id: int) -> PostedEntry:
    if not 1 <= entry_id <= ENTRY_ID_MAX:
        raise NotFound(f"entry {entry_id} does not exist (entry ids are 1 to {ENTRY_ID_MAX})", field="entry_id")
    rows = conn.execute(select(entries_t).where(entries_t.c.id == entry_id)).all()
    if not rows:
        raise NotFound(f"entry {entry_id} does not exist", field="entry_id")
    return _hydrate(conn, rows)[0]


def iter_entries(conn: Connection, chunk_size: int = 2000) -> Iterator[PostedEntry]:
    """Every entry with its postings, in chain order, a chunk at a time."""
    after = 0
    while True:
        rows = conn.execute(
            select(entries_t).where(entries_t.c.id > after).order_by(entries_t.c.id).limit(chunk_size)
        ).all()
        if not rows:
            return
        yield from _hydrate(conn, rows)
        after = rows[-1].id


# ---------------------------------------------------------------------------- reversal and periods


def reverse_entry(
    conn: Connection,
    entry_id: int,
    effective_date: date,
    reason: str,
    recorded_by: str = "fuel",
    idempotency_key: str | None = None,
) -> PostResult:
    original = get_entry(conn, entry_id)
    key = idempotency_key or f"reversal-of-{entry_id}"
    draft = reversal_of(original, effective_date, key, reason)
    return post_entries(conn, [draft], recorded_by)[0]


@dataclass(frozen=True, slots=True)
class PeriodClose:
    period: Period
    closed_at: datetime
    closed_by: str
    last_entry_id: int


def close_period(
    conn: Connection, period: Period, closed_by: str, *, today: date | None = None
) -> PeriodClose:
    """Close ``period`` and every earlier date; snapshot cumulative balances at its end."""
    lock_chain(conn)
    today = today or utc_now().date()
    if today < period.end:
        raise ValidationError(
            f"period {period.name} ends on {period.last_day}; it cannot be closed before it has ended",
            field="period",
        )
    previous = conn.execute(select(closes_t).order_by(closes_t.c.period_end.desc()).limit(1)).first()
    if previous is not None and _as_date(previous.period_end) >= period.end:
        raise ClosedPeriodError(
            f"period {period.name} is already closed (books are closed through {previous.period})",
            field="period",
        )
    last_id, last_hash = chain_tip(conn)
    closed_at = utc_now()
    _locked(conn).pop("closed_through", None)
    prev_close = _last_close_hash(conn)
    sealed = close_hash(prev_close, period.name, period.start, period.end, closed_at, closed_by, last_id, last_hash)
    close_id = conn.execute(
        closes_t.insert().values(
            period=period.name,
            period_start=period.start,
            period_end=period.end,
            closed_at=closed_at,
            closed_by=closed_by,
            last_entry_id=last_id,
            tip_hash=last_hash,
            prev_hash=prev_close,
            close_hash=sealed,
        )
    ).inserted_primary_key[0]
    # The new snapshot is the previous one plus the postings between the two closes.
    since = _as_date(previous.period_end) if previous is not None else None
    movements = _movement_rows(previous.id if previous is not None else None, since, period.end - timedelta(days=1), {})
    group_cols = [movements.c[name] for name in BALANCE_COLUMNS]
    snapshot = select(
        literal(close_id).label("close_id"),
        *group_cols,
        func.sum(movements.c.debit_pence),
        func.sum(movements.c.credit_pence),
        func.sum(movements.c.balance_pence),
    ).group_by(*group_cols)
    conn.execute(
        period_balances_t.insert().from_select(
            ["close_id", *BALANCE_COLUMNS, "debit_pence", "credit_pence", "balance_pence"], snapshot
        )
    )
    return PeriodClose(period, closed_at, closed_by, last_id)


def _last_close_hash(conn: Connection) -> str:
    value = conn.execute(select(closes_t.c.close_hash).order_by(closes_t.c.id.desc()).limit(1)).scalar()
    return value or GENESIS_HASH


def current_tip(conn: Connection) -> Tip:
    """The ledger's tip now (entries and period closes), for an auditor to keep (`fuel tip`)."""
    entry_id, entry_hash = chain_tip(conn)
    closes = conn.execute(select(func.count()).select_from(closes_t)).scalar_one()
    return Tip(entry_id, entry_hash, int(closes), _last_close_hash(conn))


def list_closes(conn: Connection) -> list[PeriodClose]:
    rows = conn.execute(select(closes_t).order_by(closes_t.c.period_end)).all()
    return [PeriodClose(Period.parse(r.period), r.closed_at, r.closed_by, r.last_entry_id) for r in rows]


# ---------------------------------------------------------------------------- balances


def _movement_rows(base_close_id: int | None, since: date | None, as_of: date, filters: Mapping[str, str | None],
                   columns: Sequence[str] = BALANCE_COLUMNS):
    """Union of a close snapshot and the postings after it up to ``as_of`` (inclusive), with
    only ``columns`` of the balance columns: a trial balance by account and currency is then
    read from the covering (account, date, currency, amount) index alone."""
    p = postings_t
    posting_conditions = [p.c.effective_date <= as_of]
    if since is not None:
        posting_conditions.append(p.c.effective_date >= since)
    posting_conditions += _filter_conditions(p, filters)
    from_postings = select(
        *(p.c[name] for name in columns),
        case((p.c.amount_pence > 0, p.c.amount_pence), else_=0).label("debit_pence"),
        case((p.c.amount_pence < 0, -p.c.amount_pence), else_=0).label("credit_pence"),
        p.c.amount_pence.label("balance_pence"),
    ).where(and_(*posting_conditions))
    if base_close_id is None:
        return from_postings.subquery("movements")
    s = period_balances_t
    from_snapshot = select(
        *(s.c[name] for name in columns),
        s.c.debit_pence,
        s.c.credit_pence,
        s.c.balance_pence,
    ).where(and_(s.c.close_id == base_close_id, *_filter_conditions(s, filters)))
    return union_all(from_snapshot, from_postings).subquery("movements")


def _filter_conditions(table, filters: Mapping[str, str | None]) -> list:
    conditions = []
    for name, value in filters.items():
        if name not in BALANCE_COLUMNS:
            raise ValidationError(f"cannot filter balances by {name!r}; use one of {', '.join(BALANCE_COLUMNS)}", field=name)
        column = table.c[name]
        conditions.append(column.is_(None) if value is None else column == value)
    return conditions


def _base_close(conn: Connection, as_of: date):
    """The latest close whose end is on or before the day after ``as_of``."""
    return conn.execute(
        select(closes_t.c.id, closes_t.c.period_end)
        .where(closes_t.c.period_end <= as_of + timedelta(days=1))
        .order_by(closes_t.c.period_end.desc())
        .limit(1)
    ).first()


@dataclass(frozen=True, slots=True)
class BalanceRow:
    key: tuple  # values of the grouping columns, in the order asked for
    debit_pence: int
    credit_pence: int
    balance_pence: int


def balances(
    conn: Connection,
    as_of: date,
    by: Sequence[str] = ("account_code", "currency"),
    filters: Mapping[str, str | None] | None = None,
) -> list[BalanceRow]:
    """Balances as of ``as_of`` (inclusive), grouped by any of the balance columns, in SQL."""
    filters = dict(filters or {})
    for name in by:
        if name not in BALANCE_COLUMNS:
            raise ValidationError(f"cannot group balances by {name!r}; use any of {', '.join(BALANCE_COLUMNS)}", field="by")
    base = _base_close(conn, as_of)
    movements = _movement_rows(
        base.id if base else None, _as_date(base.period_end) if base else None, as_of, filters, tuple(dict.fromkeys(by))
    )
    group_cols = [movements.c[name] for name in by]
    query = (
        select(
            *group_cols,
            func.coalesce(func.sum(movements.c.debit_pence), 0),
            func.coalesce(func.sum(movements.c.credit_pence), 0),
            func.coalesce(func.sum(movements.c.balance_pence), 0),
        )
        .group_by(*group_cols)
        .order_by(*group_cols)
    )
    return [
        BalanceRow(tuple(row[: len(by)]), int(row[-3]), int(row[-2]), int(row[-1])) for row in conn.execute(query)
    ]


def account_balance(conn: Connection, account_code: str, as_of: date, currency: str = "GBP") -> int:
    """One account's balance as of a date: a close snapshot plus the open periods' postings.

    Two plain sums rather than ``balances``: the postings' sum is read from the covering
    (account, date, currency, amount) index alone, so the cost is the open periods' postings of
    this one account, however long the ledger's history."""
    base = _base_close(conn, as_of)
    p, s = postings_t, period_balances_t
    conditions = [p.c.account_code == account_code, p.c.currency == currency, p.c.effective_date <= as_of]
    snapshot = 0
    if base is not None:
        conditions.append(p.c.effective_date >= _as_date(base.period_end))
        snapshot = conn.execute(select(func.coalesce(func.sum(s.c.balance_pence), 0)).where(
            s.c.close_id == base.id, s.c.account_code == account_code, s.c.currency == currency)).scalar()
    movements = conn.execute(select(func.coalesce(func.sum(p.c.amount_pence), 0)).where(and_(*conditions))).scalar()
    return int(snapshot) + int(movements)


@dataclass(frozen=True, slots=True)
class TrialBalanceLine:
    account_code: str
    account_name: str
    account_type: str
    currency: str
    debit_pence: int
    credit_pence: int
    net_pence: int


def trial_balance(conn: Connection, as_of: date) -> list[TrialBalanceLine]:
    names = {r.code: (r.name, r.type) for r in conn.execute(select(accounts_t))}
    lines = []
    for row in balances(conn, as_of, by=("account_code", "currency")):
        code, currency = row.key
        name, kind = names.get(code, (code, "?"))
        lines.append(TrialBalanceLine(code, name, kind, currency, row.debit_pence, row.credit_pence, row.balance_pence))
    return lines


# ---------------------------------------------------------------------------- verify


def verify(conn: Connection, tip: str | None = None):
    """Walk the chain, the period closes, the snapshots and the evidence chain; also against a
    kept ``tip`` (``models/ledger_verify.py``). Returns a ``VerifyReport``."""
    from models.ledger_verify import verify_ledger  # it reads the tables through this module

    return verify_ledger(conn, tip)


class Ledger:
    """Convenience over an engine: each call is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def post(self, drafts: Sequence[EntryDraft], recorded_by: str = "fuel") -> list[PostResult]:
        with self.engine.begin() as conn:
            return post_entries(conn, drafts, recorded_by)

    def reverse(self, entry_id: int, effective_date: date, reason: str, recorded_by: str = "fuel",
                idempotency_key: str | None = None) -> PostResult:
        with self.engine.begin() as conn:
            return reverse_entry(conn, entry_id, effective_date, reason, recorded_by, idempotency_key)

    def close(self, period: Period, closed_by: str = "fuel", today: date | None = None) -> PeriodClose:
        with self.engine.begin() as conn:
            return close_period(conn, period, closed_by, today=today)

    def balances(self, as_of: date, by: Sequence[str] = ("account_code", "currency"),
                 filters: Mapping[str, str | None] | None = None) -> list[BalanceRow]:
        with reading(self.engine) as conn:
            return balances(conn, as_of, by, filters)

    def trial_balance(self, as_of: date) -> list[TrialBalanceLine]:
        with reading(self.engine) as conn:
            return trial_balance(conn, as_of)

    def verify(self, tip: str | None = None):
        with reading(self.engine) as conn:
            return verify(conn, tip)

    def tip(self) -> Tip:
        with reading(self.engine) as conn:
            return current_tip(conn)

    def entry(self, entry_id: int) -> PostedEntry:
        with reading(self.engine) as conn:
            return get_entry(conn, entry_id)
