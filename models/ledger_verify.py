"""Verify: the journal's hash chain, the period closes (their own chain and the entry chain's
tip they recorded), the closing-balance snapshots against the postings, the evidence chain of
the records around the ledger, and a tip an auditor kept (``ledger/anchors.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from sqlalchemy import Connection, case, func, select

from ledger.anchors import close_hash, parse_tip, possible_tips
from ledger.postings import DIMENSIONS, GENESIS_HASH, ChainBreak, verify_chain
from models.evidence_store import verify_evidence
from models.ledger_store import (
    BALANCE_COLUMNS,
    _as_date,
    closes_t,
    entries_t,
    iter_entries,
    period_balances_t,
    postings_t,
)


@dataclass(frozen=True, slots=True)
class RecordBreak:
    """Something other than a journal entry found changed: ``record`` names it."""

    record: str  # "period close 2026Q1", "kept tip 213:ab12...", ...
    problem: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    entries_checked: int
    first_break: ChainBreak | None
    #: the first broken record of each other kind (period closes, snapshots, the kept tip, ...)
    record_breaks: tuple[RecordBreak, ...] = ()
    tip_checked: bool = False

    @property
    def ok(self) -> bool:
        return self.first_break is None and not self.record_breaks


def verify_ledger(conn: Connection, tip: str | None = None) -> VerifyReport:
    """Walk the chain; also check each posting still carries its entry's date, the period closes
    against the chain (and their own chain), and the ledger against a kept ``tip``."""
    kept = parse_tip(tip) if tip is not None else None
    mismatched = conn.execute(
        select(postings_t.c.entry_id)
        .join(entries_t, entries_t.c.id == postings_t.c.entry_id)
        .where(postings_t.c.effective_date != entries_t.c.effective_date)
        .order_by(postings_t.c.entry_id)
        .limit(1)
    ).scalar()
    orphan = conn.execute(
        select(postings_t.c.entry_id)
        .outerjoin(entries_t, entries_t.c.id == postings_t.c.entry_id)
        .where(entries_t.c.id.is_(None))
        .order_by(postings_t.c.entry_id)
        .limit(1)
    ).scalar()
    closes = conn.execute(select(closes_t).order_by(closes_t.c.id)).all()
    close_positions = [(int(c.last_entry_id), c.close_hash or "") for c in closes]
    wanted_at = {int(c.last_entry_id) for c in closes}
    hash_at: dict[int, str] = {0: GENESIS_HASH}
    tip_found = kept is None
    kept_count, kept_hash = kept if kept is not None else (None, None)

    def check_tip(n: int, entry_hash: str) -> bool:
        if kept_count is not None and n != kept_count:
            return False
        return any(t.hash == kept_hash for t in possible_tips(n, entry_hash, close_positions))

    if not tip_found:
        tip_found = check_tip(0, GENESIS_HASH)
    count = 0
    prev_hash = GENESIS_HASH
    first_break: ChainBreak | None = None
    expected_id = 1
    for entry in iter_entries(conn):
        count += 1
        if entry.id != expected_id:
            first_break = ChainBreak(expected_id, "it is missing: the chain skips from the entry before it")
            break
        found = verify_chain([entry], prev_hash)
        if found:
            first_break = found
            break
        prev_hash = entry.entry_hash
        if entry.id in wanted_at:
            hash_at[entry.id] = entry.entry_hash
        if not tip_found:
            tip_found = check_tip(entry.id, entry.entry_hash)
        expected_id += 1
    candidates = [b for b in (first_break,) if b]
    if mismatched is not None:
        candidates.append(ChainBreak(mismatched, "a posting's effective date differs from its entry's"))
    if orphan is not None:
        candidates.append(ChainBreak(orphan, "postings exist for an entry that is not in the chain"))
    first = min(candidates, key=lambda b: b.entry_id) if candidates else None
    chain_end = expected_id - 1 if first_break is None else None
    breaks = []
    for found_break in (_check_closes(conn, closes, hash_at, chain_end), _check_snapshots(conn, closes)):
        if found_break is not None:
            breaks.append(found_break)
    evidence = verify_evidence(conn)  # the records around the ledger (their own chain)
    if evidence is not None:
        breaks.append(RecordBreak(*evidence))
    if not tip_found and first_break is None:
        breaks.append(RecordBreak(
            f"kept tip {tip}",
            f"this ledger never had that tip: entries or period closes after it were deleted or rewritten "
            f"(the chain now ends at entry {chain_end}, with {len(closes)} period close(s))"
            if kept_count is None or kept_count <= (chain_end or 0) else
            f"the tip was taken at entry {kept_count} but the chain now ends at entry {chain_end}: "
            "entries at its end were deleted"))  # fmt: skip
    return VerifyReport(count, first, tuple(breaks), kept is not None)


def _check_snapshots(conn: Connection, closes: Sequence) -> RecordBreak | None:
    """The first close whose closing-balance snapshot differs from the postings before its end.

    One pass over the postings: each close's movements are added to the running totals."""
    p, b = postings_t, period_balances_t
    running: dict[tuple, list[int]] = {}
    since = None
    for c in closes:
        end = _as_date(c.period_end)
        conditions = [p.c.effective_date < end] + ([p.c.effective_date >= since] if since is not None else [])
        group = [p.c[name] for name in BALANCE_COLUMNS]
        for row in conn.execute(select(
                *group, func.sum(case((p.c.amount_pence > 0, p.c.amount_pence), else_=0)),
                func.sum(case((p.c.amount_pence < 0, -p.c.amount_pence), else_=0)), func.sum(p.c.amount_pence),
        ).where(*conditions).group_by(*group)):  # fmt: skip
            totals = running.setdefault(tuple(row[: len(BALANCE_COLUMNS)]), [0, 0, 0])
            for i, value in enumerate(row[len(BALANCE_COLUMNS):]):
                totals[i] += int(value)
        stored: dict[tuple, list[int]] = {}
        for row in conn.execute(select(*(b.c[name] for name in BALANCE_COLUMNS), b.c.debit_pence, b.c.credit_pence,
                                       b.c.balance_pence).where(b.c.close_id == c.id)):  # fmt: skip
            totals = stored.setdefault(tuple(row[: len(BALANCE_COLUMNS)]), [0, 0, 0])
            for i, value in enumerate(row[len(BALANCE_COLUMNS):]):
                totals[i] += int(value)
        if stored != running:
            key = min((k for k in set(stored) | set(running) if stored.get(k) != running.get(k)),
                      key=lambda k: tuple("" if v is None else str(v) for v in k))  # fmt: skip
            there, should = stored.get(key, [0, 0, 0])[2], running.get(key, [0, 0, 0])[2]
            return RecordBreak(f"closing-balance snapshot of {c.period}",
                               f"account {key[0]} {key[1]} "
                               + ", ".join(f"{n}={v}" for n, v in zip(DIMENSIONS, key[2:]) if v is not None)
                               + f" holds balance {there} pence (debits and credits included) where the "
                               f"postings before {end} give {should}: the snapshot was changed")  # fmt: skip
        since = end
    return None


def _check_closes(conn: Connection, closes: Sequence, hash_at: Mapping[int, str], chain_end: int | None
                  ) -> RecordBreak | None:
    """The first period close that no longer matches its own chain or the entry chain."""
    prev = GENESIS_HASH
    prev_end = None
    prev_last = 0
    for c in closes:
        name = f"period close {c.period}"
        period_end = _as_date(c.period_end)
        if c.prev_hash != prev:
            return RecordBreak(name, "its link to the close before it does not match: a close before it was "
                                     "deleted or changed")
        if c.close_hash != close_hash(prev, c.period, _as_date(c.period_start), period_end, c.closed_at,
                                      c.closed_by, int(c.last_entry_id), c.tip_hash or ""):
            return RecordBreak(name, "its period, dates, who, when or chain position were changed after closing")
        if (prev_end is not None and period_end <= prev_end) or int(c.last_entry_id) < prev_last:
            return RecordBreak(name, "it is out of order with the close before it")
        if chain_end is not None and int(c.last_entry_id) > chain_end:
            return RecordBreak(name, f"it was taken at entry {c.last_entry_id} but the chain now ends at entry "
                                     f"{chain_end}: entries at the chain's end were deleted")
        if int(c.last_entry_id) in hash_at and hash_at[int(c.last_entry_id)] != c.tip_hash:
            return RecordBreak(name, f"the chain's tip it recorded (entry {c.last_entry_id}) is not the chain's "
                                     "entry there any more")
        late = conn.execute(select(func.min(entries_t.c.id)).where(
            entries_t.c.id > c.last_entry_id, entries_t.c.effective_date < period_end)).scalar()  # fmt: skip
        if late is not None:
            return RecordBreak(name, f"entry {late} was posted after the close but is dated inside the closed "
                                     "period")
        prev, prev_end, prev_last = c.close_hash, period_end, int(c.last_entry_id)
    return None
