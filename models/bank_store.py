"""Bank accounts, statement import, matches and reconciliations: storage and the service calls
the CLI and the pages make. The rules are ``ledger/bank.py``; the file readers
``ledger/bank_formats.py``. Every write here is one transaction: a statement is stored whole or
not at all; a match is confirmed (or unmatched) as one new record with who and when.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import Connection, func, select

from ledger import bank as rules
from ledger.bank_formats import CsvMapping, read_statement
from ledger.errors import ImportRejected, NotFound, ValidationError
from ledger.funds import check_id
from ledger.money import check_currency, format_amount
from ledger.periods import Period
from models.bank_tables import (BankAccountRow, BankCsvMappingRow, BankLineRow, BankMatchMemberRow, BankMatchRow,
                                BankSettingRow, BankStatementRow)
from models.fund_tables import FundRow
from models.ledger_store import entries_t, lock_chain, post_entries, postings_t, utc_now

accounts_t = BankAccountRow.__table__
mappings_t = BankCsvMappingRow.__table__
statements_t = BankStatementRow.__table__
lines_t = BankLineRow.__table__
matches_t = BankMatchRow.__table__
members_t = BankMatchMemberRow.__table__
settings_t = BankSettingRow.__table__
funds_t = FundRow.__table__

CASH_ACCOUNT = "cash"


# ---------------------------------------------------------------------------- accounts


def save_csv_mapping(conn: Connection, bank: str, mapping: CsvMapping, by: str) -> str:
    check_id(bank, "bank")
    text = json.dumps({**mapping.columns(), "date_format": mapping.date_format}, sort_keys=True)
    old = conn.execute(select(mappings_t.c.mapping_json).where(mappings_t.c.bank == bank)).scalar()
    if old == text:
        return "unchanged"
    if old is None:
        conn.execute(mappings_t.insert().values(bank=bank, mapping_json=text, saved_at=utc_now(), saved_by=by))
        return "added"
    conn.execute(mappings_t.update().where(mappings_t.c.bank == bank)
                 .values(mapping_json=text, saved_at=utc_now(), saved_by=by))
    return "changed"


def csv_mapping(conn: Connection, bank: str) -> CsvMapping:
    text = conn.execute(select(mappings_t.c.mapping_json).where(mappings_t.c.bank == bank)).scalar()
    if text is None:
        raise NotFound(f"no CSV mapping for bank {bank!r} (`fuel bank csv-mapping {bank} ...`)", field="bank")
    return CsvMapping(**json.loads(text))


def add_account(conn: Connection, *, fund: str, account_id: str, name: str, sort_code: str, account_number: str,
                currency: str, holds: list[str], bank: str | None, by: str) -> str:
    """Add a bank account (``added``), or ``unchanged`` for the same again."""
    check_id(account_id, "account")
    if conn.execute(select(funds_t.c.id).where(funds_t.c.id == fund)).first() is None:
        raise NotFound(f"fund {fund!r} does not exist", field="fund")
    buckets = [rules.parse_bucket(h) for h in (holds or ["*"])]
    values = dict(fund_id=fund, name=name.strip()[:200], sort_code=rules.check_sort_code(sort_code),
                  account_number=rules.check_account_number(account_number), currency=check_currency(currency),
                  holds_json=json.dumps([b.label for b in buckets]), bank=bank)
    if not values["name"]:
        raise ValidationError("a bank account needs a name", field="name")
    if bank is not None:
        csv_mapping(conn, bank)
    old = conn.execute(select(accounts_t).where(accounts_t.c.id == account_id)).mappings().first()
    if old is not None:
        if all(old[k] == v for k, v in values.items()):
            return "unchanged"
        raise ValidationError(f"bank account {account_id} already exists with other details", field="account")
    for other in account_rows(conn, fund):
        clash = {b.label for b in buckets} & {b.label for b in other.buckets}
        if clash:
            raise ValidationError(f"bank account {other.id} already holds {', '.join(sorted(clash))}: each bucket of "
                                  "cash belongs to one account", field="holds")
    conn.execute(accounts_t.insert().values(id=account_id, created_at=utc_now(), created_by=by, **values))
    return "added"


@dataclass(frozen=True)
class Account:
    id: str
    fund: str
    name: str
    sort_code: str
    account_number: str
    currency: str
    buckets: tuple[rules.Bucket, ...]
    bank: str | None

    def public(self, reveal: bool) -> dict:
        """The account as a row; sort code and number masked unless ``reveal`` (fund manager)."""
        return {"account": self.id, "fund": self.fund, "name": self.name,
                "sort_code": self.sort_code if reveal else rules.mask_sort_code(self.sort_code),
                "account_number": self.account_number if reveal else rules.mask_account_number(self.account_number),
                "currency": self.currency, "holds": ", ".join(b.label for b in self.buckets), "bank": self.bank or ""}


def account_rows(conn: Connection, fund: str | None = None) -> list[Account]:
    query = select(accounts_t).order_by(accounts_t.c.created_at, accounts_t.c.id)
    if fund is not None:
        query = query.where(accounts_t.c.fund_id == fund)
    return [Account(r.id, r.fund_id, r.name, r.sort_code, r.account_number, r.currency,
                    tuple(rules.parse_bucket(b) for b in json.loads(r.holds_json)), r.bank)
            for r in conn.execute(query)]


def account(conn: Connection, account_id: str, fund: str | None = None) -> Account:
    """One account; with ``fund``, only if it is that fund's (another fund's is not found)."""
    for a in account_rows(conn, fund):
        if a.id == account_id:
            return a
    raise NotFound(f"no bank account {account_id!r}" + (f" in fund {fund}" if fund else ""), field="account")


# ---------------------------------------------------------------------------- import


def _stored_balance_before(conn: Connection, account_id: str, day: date) -> tuple[int, date] | None:
    """(the bank balance at the start of ``day`` from what is stored, first statement's date)."""
    first = conn.execute(select(statements_t.c.opening_pence, statements_t.c.opening_on)
                         .where(statements_t.c.account_id == account_id).order_by(statements_t.c.id).limit(1)).first()
    if first is None:
        return None
    moved = conn.execute(select(func.coalesce(func.sum(lines_t.c.amount_pence), 0))
                         .where(lines_t.c.account_id == account_id, lines_t.c.booked_on < day)).scalar()
    return (first.opening_pence or 0) + int(moved), first.opening_on


def _stored_key(identity: str) -> str:
    """A line's identity as stored: long ones (a long reference) as their SHA-256, so the
    unique index holds them whole."""
    return identity if len(identity) <= 300 else "sha256:" + hashlib.sha256(identity.encode()).hexdigest()


def import_statement(conn: Connection, account_id: str, data: bytes, name: str, fmt: str, by: str,
                     fund: str | None = None) -> dict:
    """Store a statement's new lines, all or nothing. Lines already stored (a re-import, an
    overlapping statement) are skipped; the opening balance must follow from what is stored."""
    acct = account(conn, account_id, fund)
    mapping = csv_mapping(conn, acct.bank) if fmt == "csv" and acct.bank else None
    statement = read_statement(data, name, fmt, acct.currency, mapping)
    kept, dupes = rules.dedupe_lines(statement.lines)
    problems = rules.check_statement(replace(statement, lines=kept), name)
    if problems:
        raise ImportRejected(f"{name}: statement rejected ({len(problems)} problem(s); nothing imported)", problems)
    lock_chain(conn)  # one import per account at a time (the chain lock is held to commit)
    keys = [_stored_key(k) for k in rules.identities(kept)]
    stored = {r.identity for r in conn.execute(select(lines_t.c.identity).where(
        lines_t.c.account_id == acct.id, lines_t.c.identity.in_(keys)))} if keys else set()
    new = [(k, l) for k, l in zip(keys, kept) if k not in stored]
    last_closing = conn.execute(select(func.max(statements_t.c.closing_on))
                                .where(statements_t.c.account_id == acct.id)).scalar()
    problems = []
    start = statement.opening_on or (kept[0].booked_on if kept else None)
    before = _stored_balance_before(conn, acct.id, start) if start else None
    if before is not None:
        if start < before[1]:
            problems.append(f"{name}: starts on {start}, before the first statement imported ({before[1]})")
        elif statement.opening_pence is not None and statement.opening_pence != before[0]:
            problems.append(
                f"{name}: opening balance {format_amount(statement.opening_pence, acct.currency)} on {start} does not "
                f"follow from the statements already imported: the bank balance they give at the start of {start} is "
                f"{format_amount(before[0], acct.currency)} (a statement missing in between, or the wrong account?)")
    for key, line in new:
        if last_closing is not None and line.booked_on <= last_closing:
            problems.append(f"{name}: line {line.line_no}: dated {line.booked_on}, within a statement already imported "
                            f"(through {last_closing}) but not in it: the two statements disagree")
    if problems:
        raise ImportRejected(f"{name}: statement rejected ({len(problems)} problem(s); nothing imported)", problems)
    if statement.closing_on is None:
        raise ImportRejected(f"{name}: statement rejected", [f"{name}: no closing date"])
    if new or last_closing is None or statement.closing_on > last_closing:
        statement_id = conn.execute(statements_t.insert().values(
            account_id=acct.id, file_name=name[:500], file_format=fmt, file_sha256=hashlib.sha256(data).hexdigest(),
            opening_pence=statement.opening_pence, opening_on=statement.opening_on, closing_pence=statement.closing_pence,
            closing_on=statement.closing_on, lines_added=len(new), lines_skipped=len(kept) - len(new) + len(dupes),
            imported_at=utc_now(), imported_by=by)).inserted_primary_key[0]
        if new:
            conn.execute(lines_t.insert(), [dict(
                account_id=acct.id, statement_id=statement_id, line_no=l.line_no, booked_on=l.booked_on,
                amount_pence=l.amount_pence, reference=l.reference[:500], description=l.description[:500],
                bank_txn_id=l.bank_txn_id, balance_after_pence=l.balance_after_pence, identity=k)
                for k, l in new])
    else:
        statement_id = None
    return {"account": acct.id, "file": name, "format": fmt, "statement_id": statement_id, "lines_added": len(new),
            "lines_skipped": len(kept) - len(new), "duplicates_in_file": len(dupes),
            "opening_pence": statement.opening_pence, "closing_pence": statement.closing_pence,
            "closing_on": statement.closing_on.isoformat()}


def statements(conn: Connection, account_id: str) -> list[dict]:
    return [dict(r) for r in conn.execute(select(statements_t).where(statements_t.c.account_id == account_id)
                                          .order_by(statements_t.c.id)).mappings()]


# ---------------------------------------------------------------------------- the two sides


def bank_items(conn: Connection, account_id: str, as_of: date | None = None) -> list[rules.BankItem]:
    query = select(lines_t.c.id, lines_t.c.booked_on, lines_t.c.amount_pence, lines_t.c.reference,
                   lines_t.c.description).where(lines_t.c.account_id == account_id)
    if as_of is not None:
        query = query.where(lines_t.c.booked_on <= as_of)
    return [rules.BankItem(r.id, r.booked_on, int(r.amount_pence), " ".join(x for x in (r.reference, r.description) if x))
            for r in conn.execute(query.order_by(lines_t.c.booked_on, lines_t.c.id))]


def bank_lines(conn: Connection, account_id: str) -> list[dict]:
    return [dict(r) for r in conn.execute(select(lines_t).where(lines_t.c.account_id == account_id)
                                          .order_by(lines_t.c.booked_on, lines_t.c.id)).mappings()]


def cash_items(conn: Connection, acct: Account, as_of: date | None = None) -> list[rules.CashItem]:
    """Each entry's cash postings that belong to this account (set-based: one grouped query)."""
    mapping = [(a.id, a.buckets) for a in account_rows(conn, acct.fund)]
    query = (select(postings_t.c.entry_id, postings_t.c.effective_date, postings_t.c.source, postings_t.c.tranche,
                    postings_t.c.restriction, func.sum(postings_t.c.amount_pence).label("amount_pence"))
             .where(postings_t.c.account_code == CASH_ACCOUNT, postings_t.c.fund == acct.fund,
                    postings_t.c.currency == acct.currency)
             .group_by(postings_t.c.entry_id, postings_t.c.effective_date, postings_t.c.source, postings_t.c.tranche,
                       postings_t.c.restriction))
    if as_of is not None:
        query = query.where(postings_t.c.effective_date <= as_of)
    amounts: dict[int, int] = defaultdict(int)
    dates: dict[int, date] = {}
    for r in conn.execute(query):
        if rules.account_for(mapping, r.source, r.tranche, r.restriction) == acct.id:
            amounts[r.entry_id] += int(r.amount_pence)
            dates[r.entry_id] = r.effective_date
    ids = [e for e, v in amounts.items() if v != 0]
    info = {}
    for chunk in range(0, len(ids), 500):
        part = ids[chunk:chunk + 500]
        for r in conn.execute(select(entries_t.c.id, entries_t.c.idempotency_key, entries_t.c.description,
                                     entries_t.c.event_data).where(entries_t.c.id.in_(part))):
            info[r.id] = r
    out = []
    for entry_id in sorted(ids):
        row = info[entry_id]
        data = json.loads(row.event_data or "{}")
        refs = [rules.entry_reference(entry_id), row.idempotency_key]
        refs += [str(data[k]) for k in ("invoice_ref", "notice", "reference", "distribution") if data.get(k)]
        out.append(rules.CashItem(entry_id, dates[entry_id], amounts[entry_id], tuple(refs), row.description))
    return out


def _members(conn: Connection, match_ids: list[int]) -> dict[int, tuple[list[int], list[int]]]:
    out: dict[int, tuple[list[int], list[int]]] = {m: ([], []) for m in match_ids}
    if match_ids:
        for r in conn.execute(select(members_t).where(members_t.c.match_id.in_(match_ids))):
            out[r.match_id][0 if r.kind == "line" else 1].append(r.ref_id)
    return out


def active_matches(conn: Connection, account_id: str) -> list[rules.Match]:
    undone = select(matches_t.c.unmatches_id).where(matches_t.c.unmatches_id.is_not(None))
    ids = [r.id for r in conn.execute(select(matches_t.c.id).where(
        matches_t.c.account_id == account_id, matches_t.c.action == "confirm", matches_t.c.id.not_in(undone))
        .order_by(matches_t.c.id))]
    members = _members(conn, ids)
    return [rules.Match(m, tuple(sorted(members[m][0])), tuple(sorted(members[m][1]))) for m in ids]


def match_history(conn: Connection, account_id: str) -> list[dict]:
    rows = [dict(r) for r in conn.execute(select(matches_t).where(matches_t.c.account_id == account_id)
                                          .order_by(matches_t.c.id)).mappings()]
    members = _members(conn, [r["id"] for r in rows])
    for r in rows:
        r["lines"] = " ".join(map(str, sorted(members[r["id"]][0])))
        r["entries"] = " ".join(map(str, sorted(members[r["id"]][1])))
    return rows


# ---------------------------------------------------------------------------- matching


def propose(conn: Connection, account_id: str, fund: str | None = None) -> list[rules.Proposal]:
    acct = account(conn, account_id, fund)
    matched = active_matches(conn, acct.id)
    used_lines = {l for m in matched for l in m.line_ids}
    used_entries = {e for m in matched for e in m.entry_ids}
    lines = [l for l in bank_items(conn, acct.id) if l.line_id not in used_lines]
    items = [i for i in cash_items(conn, acct) if i.entry_id not in used_entries]
    return list(rules.propose_matches(lines, items))


@dataclass
class _Sides:
    """An account's lines, ledger items and active matches, loaded once for several confirms."""

    lines: dict[int, rules.BankItem]
    items: dict[int, rules.CashItem]
    matches: list[rules.Match]


def _sides(conn: Connection, acct: Account) -> _Sides:
    return _Sides({l.line_id: l for l in bank_items(conn, acct.id)}, {i.entry_id: i for i in cash_items(conn, acct)},
                  active_matches(conn, acct.id))


def confirm(conn: Connection, account_id: str, line_ids: list[int], entry_ids: list[int], by: str, *,
            rule: str = "manual", note: str = "", fund: str | None = None, sides: _Sides | None = None) -> int:
    """Record a confirmed match (who, when); refused unless it balances and none of its lines or
    entries is in another confirmed match."""
    acct = account(conn, account_id, fund)
    lock_chain(conn)
    sides = sides or _sides(conn, acct)
    lines, items = sides.lines, sides.items
    missing = [str(l) for l in line_ids if l not in lines]
    if missing:
        raise NotFound(f"bank account {acct.id} has no line {', '.join(missing)}", field="lines")
    missing = [str(e) for e in entry_ids if e not in items]
    if missing:
        raise NotFound(f"entry {', '.join(missing)} has no cash in bank account {acct.id}", field="entries")
    rules.check_match([lines[l] for l in line_ids], [items[e] for e in entry_ids], acct.currency)
    for m in sides.matches:
        if set(m.line_ids) & set(line_ids) or set(m.entry_ids) & set(entry_ids):
            raise ValidationError(f"already matched in match {m.match_id}: unmatch it first "
                                  f"(`fuel bank unmatch {m.match_id} --reason ...`)", field="lines")
    match_id = conn.execute(matches_t.insert().values(
        account_id=acct.id, action="confirm", rule=rule[:32], unmatches_id=None,
        amount_pence=sum(lines[l].amount_pence for l in line_ids), note=note[:500], recorded_at=utc_now(),
        recorded_by=by)).inserted_primary_key[0]
    conn.execute(members_t.insert(), [{"match_id": match_id, "kind": "line", "ref_id": l} for l in line_ids]
                 + [{"match_id": match_id, "kind": "entry", "ref_id": e} for e in entry_ids])
    sides.matches.append(rules.Match(match_id, tuple(sorted(line_ids)), tuple(sorted(entry_ids))))
    return match_id


def confirm_proposals(conn: Connection, account_id: str, by: str, fund: str | None = None) -> list[int]:
    """Confirm every current proposal (each checked as a hand-made match would be)."""
    acct = account(conn, account_id, fund)
    sides = _sides(conn, acct)
    used_lines = {l for m in sides.matches for l in m.line_ids}
    used_entries = {e for m in sides.matches for e in m.entry_ids}
    proposals = rules.propose_matches([l for l in sides.lines.values() if l.line_id not in used_lines],
                                      [i for i in sides.items.values() if i.entry_id not in used_entries])
    return [confirm(conn, acct.id, list(p.line_ids), list(p.entry_ids), by, rule=p.rule, fund=fund, sides=sides)
            for p in proposals]


def unmatch(conn: Connection, match_id: int, reason: str, by: str, fund: str | None = None) -> int:
    row = conn.execute(select(matches_t).where(matches_t.c.id == match_id)).first()
    if row is None or row.action != "confirm":
        raise NotFound(f"no confirmed match {match_id}", field="match")
    if fund:
        account(conn, row.account_id, fund)
    if not reason.strip():
        raise ValidationError("say why the match is undone (--reason)", field="reason")
    if conn.execute(select(matches_t.c.id).where(matches_t.c.unmatches_id == match_id)).first() is not None:
        raise ValidationError(f"match {match_id} is already unmatched", field="match")
    return conn.execute(matches_t.insert().values(
        account_id=row.account_id, action="unmatch", rule="unmatch", unmatches_id=match_id, amount_pence=row.amount_pence,
        note=reason.strip()[:500], recorded_at=utc_now(), recorded_by=by)).inserted_primary_key[0]


def post_line(conn: Connection, account_id: str, line_id: int, by: str, *, source: str | None = None,
              tranche: str | None = None, restriction: str | None = None, on: date | None = None,
              fund: str | None = None) -> dict:
    """An unmatched bank line becomes a ledger event and is matched to it, in one step: a
    payment out is a fund expense (the ``fee`` rule, form ``expense``); money in is interest
    (Dr cash / Cr interest_income). The bucket is the account's, unless given."""
    from ledger.flows import Fee
    from models.flows_store import record_event

    acct = account(conn, account_id, fund)
    line = next((l for l in bank_items(conn, acct.id) if l.line_id == line_id), None)
    if line is None:
        raise NotFound(f"bank account {acct.id} has no line {line_id}", field="line")
    if any(line_id in m.line_ids for m in active_matches(conn, acct.id)):
        raise ValidationError(f"bank line {line_id} is already matched", field="line")
    if source is None:
        specific = [b for b in acct.buckets if b.source is not None]
        if len(acct.buckets) != 1 or not specific:
            raise ValidationError(f"bank account {acct.id} holds {', '.join(b.label for b in acct.buckets)}: name the "
                                  "bucket the line belongs to (--source, and --tranche/--restriction if any)",
                                  field="source")
        source, tranche, restriction = specific[0].source, specific[0].tranche, specific[0].restriction
    if rules.account_for([(a.id, a.buckets) for a in account_rows(conn, acct.fund)], source, tranche,
                         restriction) != acct.id:
        raise ValidationError(f"cash of {source}/{tranche or '*'}/{restriction or '*'} is not held in bank account "
                              f"{acct.id}", field="source")
    day = on or line.booked_on
    key = f"bank-line:{acct.id}:{line_id}"
    text = line.text[:200] or f"bank line {line_id}"
    if line.amount_pence < 0:
        result, _ = record_event(conn, Fee(fund=acct.fund, effective_date=day, amount_pence=-line.amount_pence,
                                           form="expense", source=source, tranche=tranche, restriction=restriction,
                                           description=f"Bank charge: {text}", key=key), by)
        kind = "bank_fee"
    else:
        draft = rules.interest_draft(fund=acct.fund, currency=acct.currency, day=day, amount_pence=line.amount_pence,
                                     source=source, tranche=tranche, restriction=restriction, key=key,
                                     description=f"Bank interest: {text}")
        result = post_entries(conn, [draft], by)[0]
        kind = "bank_interest"
    match_id = confirm(conn, acct.id, [line_id], [result.entry.id], by, rule="posted", note=kind, fund=fund)
    return {"line": line_id, "entry_id": result.entry.id, "kind": kind, "match_id": match_id}


# ---------------------------------------------------------------------------- reconciliation


def covered_through(conn: Connection, account_id: str) -> date | None:
    return conn.execute(select(func.max(statements_t.c.closing_on)).where(statements_t.c.account_id == account_id)).scalar()


def reconciliation(conn: Connection, account_id: str, as_of: date, fund: str | None = None) -> tuple[Account, rules.Reconciliation]:
    acct = account(conn, account_id, fund)
    first = conn.execute(select(statements_t.c.opening_pence).where(statements_t.c.account_id == acct.id)
                         .order_by(statements_t.c.id).limit(1)).scalar()
    recon = rules.reconcile(as_of, int(first or 0), bank_items(conn, acct.id, as_of), cash_items(conn, acct, as_of),
                            active_matches(conn, acct.id))
    return acct, recon


def set_require_reconciled(conn: Connection, fund: str, require: bool, by: str) -> None:
    values = dict(require_reconciled=require, updated_at=utc_now(), updated_by=by)
    if conn.execute(select(settings_t.c.fund_id).where(settings_t.c.fund_id == fund)).first() is None:
        conn.execute(settings_t.insert().values(fund_id=fund, **values))
    else:
        conn.execute(settings_t.update().where(settings_t.c.fund_id == fund).values(**values))


def close_check(conn: Connection, period: Period) -> tuple[list[str], list[str]]:
    """(warnings, refusals) for closing ``period``: each bank account whose quarter end is not
    reconciled warns, and refuses when its fund requires reconciled quarter ends."""
    strict = {r.fund_id for r in conn.execute(select(settings_t.c.fund_id).where(settings_t.c.require_reconciled))}
    warnings, refusals = [], []
    for acct in account_rows(conn):
        reach = covered_through(conn, acct.id)
        recon = reconciliation(conn, acct.id, period.last_day)[1] if reach and reach >= period.last_day else None
        problem = rules.quarter_end_problem(recon, reach, period.last_day, acct.id)
        if problem:
            (refusals if acct.fund in strict else warnings).append(f"{period.name} is not reconciled: {problem}")
    return warnings, refusals


def guarded_close(conn: Connection, period: Period, closed_by: str, today: date | None = None):
    """Close a quarter as ``close_period`` does, after the bank check: refused when a fund
    requires reconciled quarter ends and one is not; otherwise the warnings are returned."""
    from models.ledger_store import close_period

    warnings, refusals = close_check(conn, period)
    if refusals:
        raise ValidationError("; ".join(refusals) + " (the fund requires reconciled quarter ends: "
                              "`fuel bank reconcile`, or `fuel bank settings --no-require-reconciled`)", field="period")
    return close_period(conn, period, closed_by, today=today), warnings

