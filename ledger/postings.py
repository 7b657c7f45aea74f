"""Journal entries and postings: building, checking, hashing and reversing them (pure).

An entry balances to zero per currency and within each (fund, source, restriction) group, so
every source is a self-balancing set of accounts: money cannot change source or lose its
restriction except through an explicit transfer entry that balances each group on its own.

The hash chain: ``content_hash`` is SHA-256 over a canonical JSON form of what the user said
(date, description, event, links, postings); ``entry_hash`` is SHA-256 over the previous
entry's hash, this entry's id, its recorded timestamp and its content hash. Editing any stored
field of any entry or posting changes one of the two, which ``verify_chain`` reports.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Iterable, Mapping, Sequence

from ledger.errors import InvariantBroken, UnbalancedEntry, ValidationError
from ledger.money import CURRENCY_EXPONENTS, check_currency, check_pence, format_amount

#: Dimensions every posting carries as real, indexed columns.
DIMENSIONS: tuple[str, ...] = ("fund", "source", "tranche", "restriction", "project", "counterparty")
#: An entry must balance within each of these groups (per currency too).
BALANCE_GROUP: tuple[str, ...] = ("fund", "source", "restriction")
#: The money types (DESIGN.md section 2).
SOURCES: tuple[str, ...] = ("social_investment", "charitable", "public")

GENESIS_HASH = "0" * 64
DESCRIPTION_MAX_CHARS = 500
KEY_MAX_CHARS = 200
POSTINGS_MAX = 10_000
#: Largest amount on one posting: a trillion pounds. Bigger is a typo, and it keeps sums
#: well inside a signed 64-bit column.
AMOUNT_MAX_PENCE = 10**14


@dataclass(frozen=True, slots=True)
class Posting:
    """One line of an entry: a signed amount (debit positive) on an account, with dimensions."""

    account: str
    amount_pence: int
    currency: str = "GBP"
    fund: str | None = None
    source: str | None = None
    tranche: str | None = None
    restriction: str | None = None
    project: str | None = None
    counterparty: str | None = None

    def dimensions(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in DIMENSIONS}

    def negated(self) -> "Posting":
        return replace(self, amount_pence=-self.amount_pence)


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """What a caller asks to post. Becomes a :class:`PostedEntry` once stored and chained."""

    effective_date: date
    description: str
    idempotency_key: str
    postings: tuple[Posting, ...]
    event_kind: str = "manual"
    #: Parameters of the business event that produced the entry, as plain JSON-able values.
    event_data: Mapping[str, object] = field(default_factory=dict)
    reverses_id: int | None = None
    corrects_id: int | None = None


@dataclass(frozen=True, slots=True)
class PostedEntry:
    id: int
    draft: EntryDraft
    recorded_at: datetime
    recorded_by: str
    content_hash: str
    prev_hash: str
    entry_hash: str


def check_entry(draft: EntryDraft, account_codes: Iterable[str] | None = None) -> None:
    """Raise a :class:`ValidationError` naming what is wrong with ``draft``; return if it is fine."""
    key = draft.idempotency_key
    if not isinstance(key, str) or not key.strip():
        raise ValidationError("every entry needs an idempotency key", field="idempotency_key")
    if len(key) > KEY_MAX_CHARS:
        raise ValidationError(f"idempotency key is longer than {KEY_MAX_CHARS} characters", field="idempotency_key")
    where = f"entry {key!r}"
    if not isinstance(draft.effective_date, date) or isinstance(draft.effective_date, datetime):
        raise ValidationError(f"{where}: effective_date must be a date", field="effective_date")
    if not isinstance(draft.description, str) or not draft.description.strip():
        raise ValidationError(f"{where}: description is empty", field="description")
    if len(draft.description) > DESCRIPTION_MAX_CHARS:
        raise ValidationError(f"{where}: description is longer than {DESCRIPTION_MAX_CHARS} characters", field="description")
    if len(draft.postings) < 2:
        raise UnbalancedEntry(f"{where}: an entry needs at least two postings, got {len(draft.postings)}", field="postings")
    if len(draft.postings) > POSTINGS_MAX:
        raise ValidationError(f"{where}: more than {POSTINGS_MAX} postings", field="postings")
    known = account_codes if account_codes is None or isinstance(account_codes, (set, frozenset)) else set(account_codes)
    # The loop is the hot path of bulk posting: messages are only built when something is wrong.
    for line, posting in enumerate(draft.postings, start=1):
        amount = posting.amount_pence
        if type(amount) is not int:
            check_pence(amount, f"posting {line} amount_pence")  # raises with the type named
        if amount == 0:
            raise ValidationError(f"{where}, posting {line}: amount is zero", field="amount_pence")
        if amount > AMOUNT_MAX_PENCE or amount < -AMOUNT_MAX_PENCE:
            raise ValidationError(
                f"{where}, posting {line}: amount {amount} pence is larger than the limit of {AMOUNT_MAX_PENCE}",
                field="amount_pence",
            )
        if posting.currency not in CURRENCY_EXPONENTS:
            check_currency(posting.currency)
        if known is not None and posting.account not in known:
            raise ValidationError(
                f"{where}, posting {line}: account {posting.account!r} is not in the chart of accounts", field="account"
            )
        if posting.source is not None and posting.source not in SOURCES:
            raise ValidationError(
                f"{where}, posting {line}: source {posting.source!r} is not one of {', '.join(SOURCES)}", field="source"
            )
        for name in DIMENSIONS:
            value = getattr(posting, name)
            if value is not None and (type(value) is not str or not value.strip()):
                raise ValidationError(f"{where}, posting {line}: {name} must be a non-empty text or absent", field=name)
    unbalanced = imbalances(draft.postings)
    if unbalanced:
        groups = "; ".join(
            f"{currency} " + ", ".join(f"{n}={v or '-'}" for n, v in zip(BALANCE_GROUP, group))
            + f" sums to {format_amount(total, currency)}"
            for (currency, *group), total in unbalanced.items()
        )
        raise UnbalancedEntry(
            f"{where} does not balance: {groups} (debits must equal credits per currency and per "
            "fund, source and restriction)",
            field="postings",
        )


def imbalances(postings: Sequence[Posting]) -> dict[tuple, int]:
    """Non-zero sums per (currency, fund, source, restriction)."""
    totals: dict[tuple, int] = defaultdict(int)
    for posting in postings:
        totals[(posting.currency, *(getattr(posting, n) for n in BALANCE_GROUP))] += posting.amount_pence
    return {group: total for group, total in totals.items() if total != 0}


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def _json_default(value: object) -> object:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__} in an entry")


def canonical_content(draft: EntryDraft) -> list:
    """The canonical form that is hashed: a JSON array in a fixed field order.

    Order: effective date, description, idempotency key, event kind, event data (keys sorted),
    reversed entry id, corrected entry id, then each posting as [account, amount in pence,
    currency, fund, source, tranche, restriction, project, counterparty] in line order.
    """
    return [
        draft.effective_date.isoformat(),
        draft.description,
        draft.idempotency_key,
        draft.event_kind,
        dict(draft.event_data),
        draft.reverses_id,
        draft.corrects_id,
        [
            [p.account, p.amount_pence, p.currency, p.fund, p.source, p.tranche, p.restriction, p.project, p.counterparty]
            for p in draft.postings
        ],
    ]


def content_hash(draft: EntryDraft) -> str:
    """SHA-256 of what the caller asked for; also the idempotency fingerprint."""
    return hashlib.sha256(_canonical(canonical_content(draft)).encode()).hexdigest()


def format_recorded_at(recorded_at: datetime) -> str:
    # Naive UTC with microseconds: identical after a round trip through SQLite or PostgreSQL.
    if recorded_at.tzinfo is not None:
        raise InvariantBroken("recorded_at must be naive UTC")
    return recorded_at.strftime("%Y-%m-%dT%H:%M:%S.%f")


def chain_hash(prev_hash: str, entry_id: int, recorded_at: datetime, recorded_by: str, content_sha: str) -> str:
    material = f"{prev_hash}|{entry_id}|{format_recorded_at(recorded_at)}|{recorded_by}|{content_sha}"
    return hashlib.sha256(material.encode()).hexdigest()


def chain(
    drafts: Sequence[EntryDraft],
    first_id: int,
    prev_hash: str,
    recorded_at: datetime,
    recorded_by: str,
    content_hashes: Sequence[str] | None = None,
) -> list[PostedEntry]:
    """Give ``drafts`` consecutive ids from ``first_id`` and link their hashes after ``prev_hash``."""
    posted: list[PostedEntry] = []
    for offset, draft in enumerate(drafts):
        content_sha = content_hashes[offset] if content_hashes is not None else content_hash(draft)
        entry_id = first_id + offset
        entry_hash = chain_hash(prev_hash, entry_id, recorded_at, recorded_by, content_sha)
        posted.append(PostedEntry(entry_id, draft, recorded_at, recorded_by, content_sha, prev_hash, entry_hash))
        prev_hash = entry_hash
    return posted


@dataclass(frozen=True, slots=True)
class ChainBreak:
    entry_id: int
    problem: str


def verify_chain(entries: Iterable[PostedEntry], prev_hash: str = GENESIS_HASH) -> ChainBreak | None:
    """Walk entries in id order; return the first one whose stored hashes do not match, or None."""
    for entry in entries:
        if entry.prev_hash != prev_hash:
            return ChainBreak(entry.id, "its previous-hash link does not match the entry before it")
        recomputed_content = content_hash(entry.draft)
        if recomputed_content != entry.content_hash:
            return ChainBreak(entry.id, "its content (date, description, links or postings) was changed after posting")
        expected = chain_hash(prev_hash, entry.id, entry.recorded_at, entry.recorded_by, entry.content_hash)
        if expected != entry.entry_hash:
            return ChainBreak(entry.id, "its id, recorded time or hash was changed after posting")
        if imbalances(entry.draft.postings):
            return ChainBreak(entry.id, "its postings no longer balance")
        prev_hash = entry.entry_hash
    return None


def reversal_of(original: PostedEntry, effective_date: date, idempotency_key: str, reason: str) -> EntryDraft:
    """The mirror entry: every posting negated, linked to the original."""
    if original.draft.reverses_id is not None:
        raise ValidationError(
            f"entry {original.id} is itself a reversal of entry {original.draft.reverses_id}; "
            "post a new entry instead of reversing a reversal",
            field="entry_id",
        )
    if effective_date < original.draft.effective_date:
        raise ValidationError(
            f"a reversal cannot be dated {effective_date}, before the entry it reverses ({original.draft.effective_date})",
            field="effective_date",
        )
    description = f"Reversal of entry {original.id}: {reason}" if reason else f"Reversal of entry {original.id}"
    return EntryDraft(
        effective_date=effective_date,
        description=description[:DESCRIPTION_MAX_CHARS],
        idempotency_key=idempotency_key,
        postings=tuple(p.negated() for p in original.draft.postings),
        event_kind="reversal",
        event_data={"reason": reason},
        reverses_id=original.id,
    )


_ENTRY_FIELDS = {"effective_date", "description", "idempotency_key", "postings", "event_kind", "corrects_id"}
_POSTING_FIELDS = {"account", "amount_pence", "amount", "currency", *DIMENSIONS}


def draft_from_mapping(data: object, where: str) -> EntryDraft:
    """Build a draft from user input (a JSON or TOML table), naming the field at fault."""
    from ledger.money import DEFAULT_CURRENCY, parse_amount
    from ledger.periods import parse_date

    if not isinstance(data, dict):
        raise ValidationError(f"{where}: expected an object with effective_date, description, idempotency_key, postings")
    unknown = set(data) - _ENTRY_FIELDS
    if unknown:
        raise ValidationError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    for name in ("effective_date", "description", "idempotency_key", "postings"):
        if name not in data:
            raise ValidationError(f"{where}: missing field {name}", field=name)
    effective = parse_date(data["effective_date"], f"{where}: effective_date")
    raw_postings = data["postings"]
    if not isinstance(raw_postings, list):
        raise ValidationError(f"{where}: postings must be a list", field="postings")
    postings = []
    for index, raw in enumerate(raw_postings, start=1):
        at = f"{where}, posting {index}"
        if not isinstance(raw, dict):
            raise ValidationError(f"{at}: expected an object", field="postings")
        unknown = set(raw) - _POSTING_FIELDS
        if unknown:
            raise ValidationError(f"{at}: unknown field(s) {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
        currency = raw.get("currency", DEFAULT_CURRENCY)
        check_currency(currency)
        if ("amount_pence" in raw) == ("amount" in raw):
            raise ValidationError(f"{at}: give exactly one of amount_pence (integer pence) or amount (text like \"12.34\")", field="amount")
        if "amount_pence" in raw:
            amount_pence = check_pence(raw["amount_pence"], f"{at}: amount_pence")
        else:
            amount_pence = parse_amount(raw["amount"], currency, f"{at}: amount")
        account = raw.get("account")
        if not isinstance(account, str) or not account:
            raise ValidationError(f"{at}: missing account", field="account")
        dims = {}
        for name in DIMENSIONS:
            value = raw.get(name)
            if value is not None and not isinstance(value, str):
                raise ValidationError(f"{at}: {name} must be text", field=name)
            dims[name] = value or None
        postings.append(Posting(account=account, amount_pence=amount_pence, currency=currency, **dims))
    corrects = data.get("corrects_id")
    if corrects is not None and (isinstance(corrects, bool) or not isinstance(corrects, int)):
        raise ValidationError(f"{where}: corrects_id must be an entry id", field="corrects_id")
    return EntryDraft(
        effective_date=effective,
        description=data["description"],
        idempotency_key=data["idempotency_key"],
        postings=tuple(postings),
        event_kind=data.get("event_kind", "manual"),
        corrects_id=corrects,
    )
