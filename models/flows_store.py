"""Fund flows service: reference data in and out of the database, the running position the
posting rules read, and recording events (one at a time or a whole flows file) in the
caller's transaction, all or nothing.

Every function takes a ``Connection`` already inside a transaction; the CLI opens it.
"""

from __future__ import annotations

import json
import threading
import weakref
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Iterable, Mapping, Sequence

from sqlalchemy import Connection, and_, func, select

from ledger.csv_shape import shape_problems
from ledger.errors import FuelError, IdempotencyConflict, ImportRejected, NotFound, ValidationError
from ledger.flows import (
    DrawdownNotice,
    DrawdownReceived,
    POSITION_ACCOUNTS,
    FlowEvent,
    Position,
    posting_rule,
)
from ledger.flows_import import FlowRow, column_of, parse_flows, problem, read_flows_csv
from ledger.funds import (
    Commitment,
    Fund,
    FundBook,
    FundSetup,
    Party,
    Project,
    Restriction,
    Tranche,
    unfunded_pence,
)
from ledger.postings import GENESIS_HASH, EntryDraft, Posting
from models.fund_tables import (
    CommitmentRow,
    FundRow,
    PartyRow,
    ProjectRow,
    ReferenceVersionRow,
    RestrictionRow,
    TrancheRow,
)
from models.parties_store import party_funds, save_party  # noqa: F401  (callers import them from here)
from models.ledger_store import (
    PostResult,
    chain_tip,
    check_open,
    closed_through,
    entries_t,
    key_in,
    lock_chain,
    post_entries,
    postings_t,
    utc_now,
)

funds_t = FundRow.__table__
parties_t = PartyRow.__table__
tranches_t = TrancheRow.__table__
restrictions_t = RestrictionRow.__table__
projects_t = ProjectRow.__table__
commitments_t = CommitmentRow.__table__
versions_t = ReferenceVersionRow.__table__

#: "As of the end of time" for balances that checks read (the ledger as it stands).
END_OF_TIME = date(9999, 12, 30)


# ---------------------------------------------------------------------------- reference data


def _upsert(conn: Connection, table, row: dict, fixed: Sequence[str], what: str,
            key: Sequence[str] = ("id",)) -> str:
    """Insert ``row``, or update the one with its ``key``; refuse to change the ``fixed`` fields."""
    where = [table.c[k] == row[k] for k in key]
    existing = conn.execute(select(table).where(*where)).mappings().first()
    if existing is None:
        conn.execute(table.insert().values(**row))
        return "added"
    if all(existing[name] == value for name, value in row.items()):
        return "unchanged"
    for name in fixed:
        if name == "fund_id" and existing[name] != row[name]:  # never say which fund has it
            raise ValidationError(f"{what} id {row['id']!r} is already used by another fund; choose another id",
                                  field="id")
        if existing[name] != row[name]:
            raise ValidationError(
                f"{what} {row['id']} already exists with {name} {existing[name]!r}; it cannot change to {row[name]!r}",
                field=name,
            )
    conn.execute(table.update().where(*where).values(**row))
    return "updated"


def _require(conn: Connection, table, ident: str, what: str, **conditions) -> None:
    query = select(table.c.id).where(table.c.id == ident, *(table.c[k] == v for k, v in conditions.items()))
    if conn.execute(query).first() is None:
        detail = "".join(f" with {k.removesuffix('_id')} {v}" for k, v in conditions.items())
        raise NotFound(f"unknown {what} {ident!r}{detail}", field=what)


def save_fund(conn: Connection, fund: Fund) -> str:
    return _upsert(conn, funds_t, {"id": fund.id, "name": fund.name, "currency": fund.currency}, ("currency",), "fund")


def save_tranche(conn: Connection, tranche: Tranche) -> str:
    _require(conn, funds_t, tranche.fund, "fund")
    row = {
        "id": tranche.id, "fund_id": tranche.fund, "name": tranche.name, "rank": tranche.rank, "kind": tranche.kind,
        "return_kind": tranche.return_kind,
        "return_rate": None if tranche.return_rate is None else str(tranche.return_rate),
    }
    return _upsert(conn, tranches_t, row, ("kind",), "tranche", key=("fund_id", "id"))  # ids are the fund's


def save_restriction(conn: Connection, restriction: Restriction) -> str:
    _require(conn, funds_t, restriction.fund, "fund")
    row = {
        "id": restriction.id, "fund_id": restriction.fund, "name": restriction.name, "theme": restriction.theme,
        "projects": ",".join(restriction.projects), "fees_permitted": restriction.fees_permitted,
    }
    return _upsert(conn, restrictions_t, row, (), "restriction", key=("fund_id", "id"))


def save_project(conn: Connection, project: Project) -> str:
    _require(conn, funds_t, project.fund, "fund")
    _require(conn, parties_t, project.provider, "provider", kind="provider")
    row = {
        "id": project.id, "fund_id": project.fund, "name": project.name, "provider_id": project.provider,
        "theme": project.theme, "status": project.status,
    }
    return _upsert(conn, projects_t, row, ("fund_id", "provider_id"), "project")


def add_commitment(conn: Connection, commitment: Commitment, recorded_by: str = "fuel") -> str:
    """Record a commitment (append-only). The same id with the same terms is a no-op."""
    fund = conn.execute(select(funds_t).where(funds_t.c.id == commitment.fund)).mappings().first()
    if fund is None:
        raise NotFound(f"unknown fund {commitment.fund!r}", field="fund")
    if fund["currency"] != commitment.currency:
        raise ValidationError(
            f"commitment {commitment.id}: currency {commitment.currency} is not fund {commitment.fund}'s {fund['currency']}",
            field="currency",
        )
    _require(conn, tranches_t, commitment.tranche, "tranche", fund_id=commitment.fund)
    _require(conn, parties_t, commitment.investor, "investor", kind="investor")
    row = {
        "id": commitment.id, "fund_id": commitment.fund, "tranche_id": commitment.tranche,
        "investor_id": commitment.investor, "amount_pence": commitment.amount_pence, "currency": commitment.currency,
        "commitment_date": commitment.commitment_date,
    }
    existing = conn.execute(select(commitments_t).where(commitments_t.c.id == commitment.id)).mappings().first()
    if existing is not None:
        if all(_same(existing[k], v) for k, v in row.items()):
            return "unchanged"
        raise IdempotencyConflict(
            f"commitment {commitment.id} already exists with different terms; commitments are never edited: "
            "record a new commitment with a new id",
            field="id",
        )
    conn.execute(commitments_t.insert().values(**row, recorded_at=utc_now(), recorded_by=recorded_by))
    return "added"


def _same(stored, value) -> bool:
    if isinstance(value, date) and not isinstance(stored, date):
        return str(stored) == value.isoformat()
    return stored == value


def save_setup(conn: Connection, setup: FundSetup, recorded_by: str = "fuel") -> dict[str, dict[str, int]]:
    """Save a fund's setup file: fund, parties, tranches, restrictions, projects, commitments.
    Returns counts of added / updated / unchanged per table."""
    counts: dict[str, dict[str, int]] = {}

    def tally(table: str, outcome: str) -> None:
        counts.setdefault(table, {"added": 0, "updated": 0, "unchanged": 0})[outcome] += 1

    tally("funds", save_fund(conn, setup.fund))
    for party in setup.parties:
        tally("parties", save_party(conn, party, for_fund=setup.fund.id))
    for tranche in setup.tranches:
        tally("tranches", save_tranche(conn, tranche))
    for restriction in setup.restrictions:
        tally("restrictions", save_restriction(conn, restriction))
    for project in setup.projects:
        tally("projects", save_project(conn, project))
    for commitment in setup.commitments:
        tally("commitments", add_commitment(conn, commitment, recorded_by))
    return counts


def _party(row) -> Party:
    return Party(row.id, row.name, row.kind, row.investor_type)


def load_books(conn: Connection) -> dict[str, FundBook]:
    """Every fund's reference data, keyed by fund id."""
    parties = {row.id: _party(row) for row in conn.execute(select(parties_t))}
    books: dict[str, dict] = {}
    for row in conn.execute(select(funds_t).order_by(funds_t.c.id)):
        books[row.id] = {"fund": Fund(row.id, row.name, row.currency), "tranches": {}, "restrictions": {},
                         "projects": {}, "commitments": []}
    for row in conn.execute(select(tranches_t).order_by(tranches_t.c.rank, tranches_t.c.id)):
        rate = Decimal(row.return_rate) if row.return_rate is not None else None
        books[row.fund_id]["tranches"][row.id] = Tranche(row.id, row.fund_id, row.name, row.rank, row.kind,
                                                         row.return_kind, rate)
    for row in conn.execute(select(restrictions_t).order_by(restrictions_t.c.id)):
        projects = tuple(p for p in row.projects.split(",") if p)
        books[row.fund_id]["restrictions"][row.id] = Restriction(row.id, row.fund_id, row.name, row.theme, projects,
                                                                   bool(row.fees_permitted))
    for row in conn.execute(select(projects_t).order_by(projects_t.c.id)):
        books[row.fund_id]["projects"][row.id] = Project(row.id, row.fund_id, row.name, row.provider_id, row.theme,
                                                         row.status)
    for row in conn.execute(select(commitments_t).order_by(commitments_t.c.commitment_date, commitments_t.c.id)):
        books[row.fund_id]["commitments"].append(Commitment(
            row.id, row.fund_id, row.tranche_id, row.investor_id, int(row.amount_pence),
            _as_date(row.commitment_date), row.currency))
    return {
        fund_id: FundBook(parts["fund"], parties, parts["tranches"], parts["restrictions"], parts["projects"],
                          tuple(parts["commitments"]))
        for fund_id, parts in books.items()
    }


class BooksCache:
    """Every fund's reference data, kept per process while the database's reference stamp
    (changed by triggers on every write to those tables) stays the same."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_engine: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def books(self, conn: Connection) -> dict[str, FundBook]:
        stamp = conn.execute(select(versions_t.c.stamp).where(versions_t.c.id == 1)).scalar()
        with self._lock:
            cached = self._by_engine.get(conn.engine)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        books = load_books(conn)
        with self._lock:
            self._by_engine[conn.engine] = (stamp, books)
        return books


BOOKS = BooksCache()


def book_of(conn: Connection, fund_id: str) -> FundBook:
    books = load_books(conn)
    if fund_id not in books:
        raise NotFound(f"unknown fund {fund_id!r}", field="fund")
    return books[fund_id]


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


# ---------------------------------------------------------------------------- ledger views


def origin_sums(
    conn: Connection,
    event_kind: str,
    accounts: Iterable[str],
    by: Sequence[str],
    as_of: date = END_OF_TIME,
    filters: Mapping[str, str] | None = None,
) -> list[tuple]:
    """Signed sums of postings on ``accounts`` made by events of ``event_kind`` (reversals of
    such entries included, so a reversed event nets to zero), grouped by ``by``; in SQL."""
    e = entries_t.alias("e")
    r = entries_t.alias("r")
    p = postings_t
    origin = func.coalesce(r.c.event_kind, e.c.event_kind)
    conditions = [origin == event_kind, p.c.account_code.in_(list(accounts)), p.c.effective_date <= as_of]
    conditions += [p.c[name] == value for name, value in (filters or {}).items()]
    group = [p.c[name] for name in by]
    query = (
        select(*group, func.sum(p.c.amount_pence))
        .select_from(p.join(e, e.c.id == p.c.entry_id).outerjoin(r, r.c.id == e.c.reverses_id))
        .where(and_(*conditions))
        .group_by(*group)
        .order_by(*group)
    )
    return [(*row[:-1], int(row[-1])) for row in conn.execute(query)]


def _advance(position: Position, conn: Connection, after_entry_id: int, through_entry_id: int | None = None) -> None:
    """Add to ``position`` the postings of entries after ``after_entry_id`` (through
    ``through_entry_id``), summed in SQL by every key the position uses and by the event kind
    of origin (a reversal counts as the kind it reverses, so a reversed event nets to zero)."""
    e = entries_t.alias("e")
    r = entries_t.alias("r")
    p = postings_t
    origin = func.coalesce(r.c.event_kind, e.c.event_kind)
    dims = [p.c.account_code, p.c.fund, p.c.currency, p.c.source, p.c.tranche, p.c.restriction, p.c.project,
            p.c.counterparty]
    conditions = [p.c.account_code.in_(sorted(POSITION_ACCOUNTS))]
    if through_entry_id is None:
        conditions.append(p.c.entry_id > after_entry_id)
    else:
        # Both bounds: PostgreSQL's generic plan for a prepared statement (used once it has run
        # five times) guesses a two-sided range is narrow and keeps to the entry_id index, where
        # "entry_id > $1" alone looks like a third of the ledger and gets a sequential scan.
        conditions.append(p.c.entry_id.between(after_entry_id + 1, through_entry_id))
    query = (
        select(*dims, origin, func.sum(p.c.amount_pence))
        .select_from(p.join(e, e.c.id == p.c.entry_id).outerjoin(r, r.c.id == e.c.reverses_id))
        .where(and_(*conditions))
        .group_by(*dims, origin)
    )
    for account, fund, currency, source, tranche, restriction, project, counterparty, kind, amount in conn.execute(query):
        if amount:
            position.add_posting(Posting(account, int(amount), currency, fund, source, tranche, restriction, project,
                                         counterparty), event_kind=kind)


def load_position(conn: Connection) -> Position:
    """The running position from the ledger as it stands, in SQL."""
    position = Position()
    _advance(position, conn, 0)
    return position


class PositionCache:
    """Each database's position as of a chain tip, kept per process and advanced by the entries
    after it, so recording one event reads only what was posted since the last one.

    Entries are append-only and immutable with increasing ids, so the position through entry N
    never changes. The cached tip's hash is checked on every use: a database restored from a
    backup, or a transaction that wrote the cached tip and then rolled back, shows a different
    (or no) entry at that id, and the position is rebuilt from the whole ledger. Callers hold
    the chain lock (``plan_events`` takes it), so no entry commits while the cache is read.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_engine: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def position(self, conn: Connection) -> Position:
        """A private copy of the position as the ledger stands, for the caller to advance."""
        tip_id, tip_hash = chain_tip(conn)
        with self._lock:
            cached = self._by_engine.get(conn.engine)
        if cached is not None and cached[:2] == (tip_id, tip_hash):
            return cached[2].copy()
        if cached is not None and cached[0] < tip_id and _hash_at(conn, cached[0]) == cached[1]:
            position = cached[2].copy()
            _advance(position, conn, cached[0], tip_id)
        else:
            position = Position()
            _advance(position, conn, 0, tip_id)
        with self._lock:
            self._by_engine[conn.engine] = (tip_id, tip_hash, position)
        return position.copy()


def _hash_at(conn: Connection, entry_id: int) -> str | None:
    if entry_id == 0:
        return GENESIS_HASH
    return conn.execute(select(entries_t.c.entry_hash).where(entries_t.c.id == entry_id)).scalar()


POSITIONS = PositionCache()


# ---------------------------------------------------------------------------- recording events


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int | None
    error: FuelError
    column: str | None = None

    def text(self) -> str:
        return problem(self.row, self.column or column_of(self.error), self.error.message)


@dataclass(frozen=True, slots=True)
class Plan:
    """What recording a batch of events would do: drafts to post, rows already posted."""

    drafts: tuple[tuple[FlowRow, EntryDraft], ...]
    already: tuple[FlowRow, ...]
    problems: tuple[RowProblem, ...]


def stored_events(conn: Connection, keys: Sequence[str]) -> dict[str, tuple[int, dict]]:
    found: dict[str, tuple[int, dict]] = {}
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        query = select(entries_t.c.idempotency_key, entries_t.c.id, entries_t.c.event_data).where(
            key_in(conn, entries_t.c.idempotency_key, chunk)
        )
        for key, entry_id, data in conn.execute(query):
            found[key] = (entry_id, json.loads(data))
    return found


def fund_key(event: FlowEvent) -> str:
    """The journal key of an event whose own key another fund's entry already has."""
    return f"{event.fund}/{event.idempotency_key}"


def journal_key(event: FlowEvent, stored: Mapping[str, tuple[int, dict]]) -> str:
    """Idempotency keys are the fund's: the event's key, unless an entry of another fund holds
    it; then the key under the fund's name (so one fund's key never collides with another's,
    and a replay finds the fund's own entry)."""
    key = event.idempotency_key
    hit = stored.get(key)
    if hit is not None and hit[1].get("fund") not in (None, event.fund):
        return fund_key(event)
    return key


def plan_events(conn: Connection, rows: Sequence[FlowRow], books: Mapping[str, FundBook]) -> Plan:
    """Check every event against the ledger as it stands plus the rows before it, build its
    entry with its posting rule, and collect every problem (nothing is written)."""
    lock_chain(conn)  # the position read here must not move before the post
    stored = stored_events(conn, [k for r in rows for k in (r.event.idempotency_key, fund_key(r.event))])
    lock_end = closed_through(conn)
    position = POSITIONS.position(conn)
    drafts: list[tuple[FlowRow, EntryDraft]] = []
    already: list[FlowRow] = []
    problems: list[RowProblem] = []
    planned_keys: dict[str, dict] = {}
    for item in rows:
        event = item.event
        key = journal_key(event, stored)
        if key in stored:
            entry_id, data = stored[key]
            if data == event.data():
                already.append(item)
            else:
                problems.append(RowProblem(item.row, IdempotencyConflict(
                    f"key {key!r} was already used for entry {entry_id} with different content; "
                    "use a new key for a new event", field="key")))
            continue
        if key in planned_keys:  # the same key earlier in this batch
            if planned_keys[key] == event.data():
                already.append(item)
            else:
                problems.append(RowProblem(item.row, IdempotencyConflict(
                    f"key {key!r} appears twice in this batch with different content; "
                    "use a new key for a new event", field="key")))
            continue
        try:
            check_open(event.effective_date, lock_end, event.kind)
            book = books.get(event.fund)
            if book is None:
                raise NotFound(f"unknown fund {event.fund!r}", field="fund")
            draft = posting_rule(event, book, position)
            if key != draft.idempotency_key:
                draft = replace(draft, idempotency_key=key)
        except FuelError as exc:
            problems.append(RowProblem(item.row, exc))
            continue
        position.apply(draft)
        planned_keys[key] = event.data()
        drafts.append((item, draft))
    return Plan(tuple(drafts), tuple(already), tuple(problems))


@dataclass(frozen=True, slots=True)
class Recorded:
    """The outcome of recording events: posted entries and how many were already there."""

    results: tuple[PostResult, ...]
    already: int

    @property
    def posted(self) -> int:
        return sum(1 for r in self.results if r.created)


def record_event(conn: Connection, event: FlowEvent, recorded_by: str = "fuel") -> tuple[PostResult | None, bool]:
    """Record one event. Returns (result, created); a replay of the same key returns the
    original entry with created False. A refused event raises its error."""
    plan = plan_events(conn, [FlowRow(0, event)], BOOKS.books(conn))
    if plan.problems:
        raise plan.problems[0].error
    if plan.already:
        stored = stored_events(conn, [event.idempotency_key, fund_key(event)])
        entry_id = stored[journal_key(event, stored)][0]
        from models.ledger_store import get_entry

        return PostResult(get_entry(conn, entry_id), created=False), False
    result = post_entries(conn, [plan.drafts[0][1]], recorded_by)[0]
    return result, result.created


def import_flows(conn: Connection, text: str, source_name: str, recorded_by: str = "fuel",
                 only_fund: str | None = None) -> Recorded:
    """Validate a whole flows CSV, then post every new row in the caller's transaction.

    Any problem anywhere raises :class:`ImportRejected` listing every bad row, and nothing is
    written. Rows whose key is already posted with the same content are skipped.

    ``only_fund`` (a fund manager's import) is checked on the parsed rows, so however the file
    spells its ``fund`` header, a row for any other fund is refused; other funds' reference data
    is not even consulted, so the refusal is the same whether that fund exists or not.
    """
    if not text.strip():
        raise ImportRejected(f"{source_name}: the file is empty; nothing was written",
                             ["a flows file needs a header row and at least one row"])
    shape = shape_problems(text, source_name)
    if shape:
        raise ImportRejected(f"{source_name}: {len(shape)} problem(s) found; nothing was written", shape)
    try:
        frame = read_flows_csv(text)
    except Exception as exc:  # pandas' parser errors have no common user-facing base
        raise ImportRejected(f"{source_name}: not a readable CSV file; nothing was written", [str(exc)]) from None
    books = load_books(conn)
    if only_fund is not None:
        books = {only_fund: books[only_fund]} if only_fund in books else {}
    rows, problems = parse_flows(frame, books)
    if only_fund is not None:
        problems = [_scoped_problem(p, only_fund) for p in problems]
    if not problems:
        plan = plan_events(conn, rows, books)
        problems = [p.text() for p in plan.problems]
    if problems:
        raise ImportRejected(
            f"{source_name}: {len(problems)} problem(s) found; nothing was written", problems
        )
    results = post_entries(conn, [draft for _, draft in plan.drafts], recorded_by) if plan.drafts else []
    return Recorded(tuple(results), len(plan.already))


def _scoped_problem(text: str, only_fund: str) -> str:
    """"unknown fund 'x'" in a fund manager's import: say which fund the import is for."""
    if "unknown fund " in text:
        return f"{text}: this import is for fund {only_fund!r} only"
    return text


# ---------------------------------------------------------------------------- commitments


def commitment_status(conn: Connection, fund_id: str | None = None, as_of: date = END_OF_TIME) -> list[dict]:
    """Per fund, tranche and investor: committed, called, received, and unfunded commitment
    (committed less called), as of a date. Commitments are memo figures; the called and
    received amounts come from the ledger."""
    c = commitments_t
    query = (
        select(c.c.fund_id, c.c.tranche_id, c.c.investor_id, c.c.currency, func.sum(c.c.amount_pence))
        .where(c.c.commitment_date <= as_of)
        .group_by(c.c.fund_id, c.c.tranche_id, c.c.investor_id, c.c.currency)
        .order_by(c.c.fund_id, c.c.tranche_id, c.c.investor_id)
    )
    if fund_id is not None:
        query = query.where(c.c.fund_id == fund_id)
    by = ("fund", "tranche", "counterparty")
    filters = {"fund": fund_id} if fund_id else None
    called = {tuple(r[:3]): r[3] for r in origin_sums(conn, DrawdownNotice.kind, ["called_capital_receivable"], by, as_of, filters)}
    received = {tuple(r[:3]): -r[3] for r in origin_sums(conn, DrawdownReceived.kind, ["called_capital_receivable"], by, as_of, filters)}
    rows = []
    for fund, tranche, investor, currency, committed in conn.execute(query):
        key = (fund, tranche, investor)
        rows.append({
            "fund": fund, "tranche": tranche, "investor": investor, "currency": currency,
            "committed_pence": int(committed), "called_pence": called.get(key, 0),
            "received_pence": received.get(key, 0),
            "unfunded_pence": unfunded_pence(int(committed), called.get(key, 0)),
        })
    return rows
