"""Bank accounts, statements, matching and reconciliation: the rules, as pure functions.

A bank statement is a list of :class:`StatementLine` values with an opening and a closing
balance (``ledger/bank_formats.py`` reads CSV, OFX, MT940 and CAMT.053 into one). The ledger's
side is a list of :class:`CashItem` values: one entry's cash postings that belong to one bank
account (an entry touching several funding buckets of the same account is one item, since the
bank sees one payment). Matching pairs them (:func:`propose_matches`); the reconciliation
(:func:`reconcile`) explains the difference between the ledger's cash and the bank's balance
as of a date. Nothing here touches a database: ``models/bank_store.py`` loads, calls, stores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from itertools import combinations
from typing import Iterable, Sequence

from ledger.errors import InvariantBroken, ValidationError
from ledger.money import format_amount
from ledger.postings import EntryDraft, Posting, imbalances

#: Days either side of a bank line's date within which a ledger posting may match it by amount.
WINDOW_DAYS = 7
#: At most this many postings (or lines) in one one-to-many (many-to-one) match, and at most
#: this many candidates searched for one: a limit on the combinations tried (C(12, 3) = 220).
GROUP_MAX = 3
CANDIDATES_MAX = 12
#: References shorter than this are too likely to occur by chance in a bank line's text.
REFERENCE_MIN_CHARS = 5


# ---------------------------------------------------------------------------- accounts


@dataclass(frozen=True)
class Bucket:
    """Which cash postings a bank account holds: ``None`` matches anything."""

    source: str | None = None
    tranche: str | None = None
    restriction: str | None = None

    @property
    def specificity(self) -> int:
        return sum(v is not None for v in (self.source, self.tranche, self.restriction))

    def holds(self, source: str | None, tranche: str | None, restriction: str | None) -> bool:
        return all(want is None or want == got for want, got in
                   ((self.source, source), (self.tranche, tranche), (self.restriction, restriction)))

    @property
    def label(self) -> str:
        if self.specificity == 0:
            return "*"
        return "/".join(v or "*" for v in (self.source, self.tranche, self.restriction)).rstrip("/*") or "*"


def parse_bucket(text: str) -> Bucket:
    """``*`` (everything), ``source``, ``source/tranche`` or ``source/tranche/restriction``;
    ``*`` in a place matches anything there (``public/*/lcr-region``)."""
    parts = [p.strip() for p in text.strip().split("/")]
    if not parts or len(parts) > 3 or any(not p for p in parts):
        raise ValidationError(f"bucket {text!r} is not '*', 'source', 'source/tranche' or "
                              "'source/tranche/restriction'", field="holds")
    parts += ["*"] * (3 - len(parts))
    return Bucket(*(None if p == "*" else p for p in parts))


def account_for(accounts: Sequence[tuple[str, Sequence[Bucket]]], source: str | None, tranche: str | None,
                restriction: str | None) -> str | None:
    """The account holding a cash posting of this bucket: the most specific bucket that holds it
    wins; between equally specific ones, the account listed first (added first)."""
    best: tuple[int, int] | None = None
    chosen = None
    for order, (account_id, buckets) in enumerate(accounts):
        for bucket in buckets:
            if bucket.holds(source, tranche, restriction):
                rank = (-bucket.specificity, order)
                if best is None or rank < best:
                    best, chosen = rank, account_id
    return chosen


def mask_sort_code(sort_code: str) -> str:
    digits = re.sub(r"\D", "", sort_code)
    return f"**-**-{digits[-2:]}" if len(digits) >= 2 else "**-**-**"


def mask_account_number(number: str) -> str:
    digits = re.sub(r"\s", "", number)
    return "****" + digits[-4:] if len(digits) > 4 else "****"


def check_sort_code(text: str) -> str:
    digits = re.sub(r"[\s-]", "", text)
    if not re.fullmatch(r"\d{6}", digits):
        raise ValidationError(f"sort code {text!r} is not six digits (like 04-00-04)", field="sort_code")
    return f"{digits[:2]}-{digits[2:4]}-{digits[4:]}"


def check_account_number(text: str) -> str:
    digits = re.sub(r"\s", "", text)
    if not re.fullmatch(r"\d{8}", digits):
        raise ValidationError(f"account number {text!r} is not eight digits", field="account_number")
    return digits


# ---------------------------------------------------------------------------- statements


@dataclass(frozen=True)
class StatementLine:
    """One bank line. ``amount_pence`` is signed from the fund's side: credits (money in) are
    positive. ``line_no`` is where it is in the file (row, transaction number) for errors."""

    line_no: int
    booked_on: date
    amount_pence: int
    reference: str = ""
    description: str = ""
    bank_txn_id: str | None = None
    balance_after_pence: int | None = None

    @property
    def identity(self) -> str:
        """What makes a re-imported line the same line: the bank's transaction id, else date,
        amount, reference and running balance."""
        if self.bank_txn_id:
            return f"id:{self.bank_txn_id}"
        balance = "" if self.balance_after_pence is None else str(self.balance_after_pence)
        return f"dar:{self.booked_on.isoformat()}|{self.amount_pence}|{self.reference.strip().upper()}|{balance}"


@dataclass(frozen=True)
class Statement:
    currency: str
    lines: tuple[StatementLine, ...]
    opening_pence: int | None = None  # balance at the start of opening_on (before its lines)
    opening_on: date | None = None
    closing_pence: int | None = None  # balance at the end of closing_on
    closing_on: date | None = None
    account_hint: str | None = None  # the account the file names (IBAN, number), if any


def _pounds(pence: int, currency: str) -> str:
    return f"{format_amount(pence, currency)} {currency}"


def dedupe_lines(lines: Sequence[StatementLine]) -> tuple[tuple[StatementLine, ...], tuple[StatementLine, ...]]:
    """(kept, duplicates): a line whose identity already occurred earlier in the same file is a
    duplicate (a bank's export repeating a transaction). Lines without a bank id or running
    balance that repeat date, amount and reference are counted apart (``#2``) since two equal
    payments on one day are real; the balance check tells a repeated line from a real one."""
    kept, dupes, seen = [], [], set()
    for line in lines:
        key = line.identity
        if line.bank_txn_id is None and line.balance_after_pence is None:
            n = 1
            while f"{key}#{n}" in seen:
                n += 1
            key = f"{key}#{n}"
        if key in seen:
            dupes.append(line)
        else:
            seen.add(key)
            kept.append(line)
    return tuple(kept), tuple(dupes)


def identities(lines: Sequence[StatementLine]) -> list[str]:
    """Each kept line's stored identity (with its ``#n`` for repeats), in order."""
    out, seen = [], set()
    for line in lines:
        key = line.identity
        if line.bank_txn_id is None and line.balance_after_pence is None:
            n = 1
            while f"{key}#{n}" in seen:
                n += 1
            key = f"{key}#{n}"
        seen.add(key)
        out.append(key)
    return out


def check_statement(statement: Statement, where: str) -> list[str]:
    """Every way the statement disagrees with itself, each naming its line: running balances
    that do not follow, lines outside the statement's dates, closing != opening + lines."""
    problems: list[str] = []
    cur = statement.currency
    running = statement.opening_pence
    for line in statement.lines:
        if statement.opening_on and line.booked_on < statement.opening_on:
            problems.append(f"{where}: line {line.line_no}: dated {line.booked_on}, before the statement's opening "
                            f"date {statement.opening_on}")
        if statement.closing_on and line.booked_on > statement.closing_on:
            problems.append(f"{where}: line {line.line_no}: dated {line.booked_on}, after the statement's closing "
                            f"date {statement.closing_on}")
        if running is not None:
            running += line.amount_pence
            if line.balance_after_pence is not None and line.balance_after_pence != running:
                problems.append(f"{where}: line {line.line_no}: running balance {_pounds(line.balance_after_pence, cur)}"
                                f" does not follow from the one before: expected {_pounds(running, cur)}")
                running = line.balance_after_pence
    if statement.opening_pence is not None and statement.closing_pence is not None:
        total = statement.opening_pence + sum(line.amount_pence for line in statement.lines)
        if total != statement.closing_pence:
            problems.append(f"{where}: closing balance {_pounds(statement.closing_pence, cur)} is not the opening "
                            f"balance {_pounds(statement.opening_pence, cur)} plus the lines "
                            f"({_pounds(total, cur)})")
    return problems


# ---------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class BankItem:
    """A stored bank line, as matching sees it."""

    line_id: int
    booked_on: date
    amount_pence: int
    text: str  # reference and description


@dataclass(frozen=True)
class CashItem:
    """One entry's cash in one bank account, as matching sees it."""

    entry_id: int
    effective_date: date
    amount_pence: int
    references: tuple[str, ...]  # the invoice reference, drawdown notice, FUEL-<entry id>, key
    description: str = ""


@dataclass(frozen=True)
class Proposal:
    line_ids: tuple[int, ...]
    entry_ids: tuple[int, ...]
    rule: str  # reference | amount_date | one_to_many | many_to_one | bank_reversal
    amount_pence: int


def _norm(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def entry_reference(entry_id: int) -> str:
    """The reference Fuel asks payments it makes to carry (and a bank line may quote)."""
    return f"FUEL-{entry_id}"


def _refers(line: BankItem, item: CashItem) -> bool:
    """The line quotes one of the item's references as a whole word (``FUEL-1`` is not quoted
    by ``FUEL-12``), with or without its separators (banks drop hyphens)."""
    upper = line.text.upper()
    words = {_norm(w) for w in upper.split()}
    for ref in item.references:
        ref_norm = _norm(ref)
        if len(ref_norm) < REFERENCE_MIN_CHARS:
            continue
        if ref_norm in words or re.search(rf"(?<![A-Z0-9]){re.escape(ref.upper())}(?![A-Z0-9])", upper):
            return True
    return False


def _near(a: date, b: date, window_days: int) -> bool:
    return abs((a - b).days) <= window_days


def propose_matches(lines: Iterable[BankItem], items: Iterable[CashItem], *,
                    window_days: int = WINDOW_DAYS) -> tuple[Proposal, ...]:
    """Proposed matches, in the order the rules run: a reference the line quotes (one posting,
    or several the line names whose amounts sum to it); equal amount within the date window
    (nearest date, then lowest id); one line to several postings; several lines to one posting
    (a payment split over days); a bank payment and its return cancelling out. Every proposal
    uses each line and each posting at most once and its lines sum to its postings."""
    lines = sorted(lines, key=lambda l: (l.booked_on, l.line_id))
    items = sorted(items, key=lambda i: (i.effective_date, i.entry_id))
    used_lines: set[int] = set()
    used_items: set[int] = set()
    out: list[Proposal] = []

    def take(ls: Sequence[BankItem], its: Sequence[CashItem], rule: str) -> None:
        total = sum(l.amount_pence for l in ls)
        if total != sum(i.amount_pence for i in its):
            raise InvariantBroken("a proposed bank match does not balance")
        used_lines.update(l.line_id for l in ls)
        used_items.update(i.entry_id for i in its)
        out.append(Proposal(tuple(l.line_id for l in ls), tuple(i.entry_id for i in its), rule, total))

    def free_items(line: BankItem) -> list[CashItem]:
        return [i for i in items if i.entry_id not in used_items]

    # 1. reference
    for line in lines:
        if line.line_id in used_lines or line.amount_pence == 0:
            continue
        named = [i for i in free_items(line) if _refers(line, i)]
        exact = [i for i in named if i.amount_pence == line.amount_pence]
        if exact:
            best = min(exact, key=lambda i: (abs((i.effective_date - line.booked_on).days), i.entry_id))
            take([line], [best], "reference")
        elif len(named) > 1 and len(named) <= CANDIDATES_MAX and sum(i.amount_pence for i in named) == line.amount_pence:
            take([line], named, "reference")
    # 2. amount and date
    for line in lines:
        if line.line_id in used_lines or line.amount_pence == 0:
            continue
        near = [i for i in free_items(line) if i.amount_pence == line.amount_pence
                and _near(i.effective_date, line.booked_on, window_days)]
        if near:
            take([line], [min(near, key=lambda i: (abs((i.effective_date - line.booked_on).days), i.entry_id))],
                 "amount_date")
    # 3. one line, several postings
    for line in lines:
        if line.line_id in used_lines or line.amount_pence == 0:
            continue
        near = [i for i in free_items(line) if _near(i.effective_date, line.booked_on, window_days)
                and (i.amount_pence > 0) == (line.amount_pence > 0)][:CANDIDATES_MAX]
        found = _subset(near, line.amount_pence, lambda i: i.amount_pence)
        if found:
            take([line], found, "one_to_many")
    # 4. several lines, one posting
    for item in items:
        if item.entry_id in used_items or item.amount_pence == 0:
            continue
        near = [l for l in lines if l.line_id not in used_lines and _near(l.booked_on, item.effective_date, window_days)
                and (l.amount_pence > 0) == (item.amount_pence > 0)][:CANDIDATES_MAX]
        found = _subset(near, item.amount_pence, lambda l: l.amount_pence)
        if found:
            take(found, [item], "many_to_one")
    # 5. a payment and its return, both on the bank only
    for line in lines:
        if line.line_id in used_lines or line.amount_pence == 0:
            continue
        back = [l for l in lines if l.line_id not in used_lines and l.line_id != line.line_id
                and l.amount_pence == -line.amount_pence and l.booked_on >= line.booked_on
                and _near(l.booked_on, line.booked_on, window_days)]
        if back:
            take([line, back[0]], [], "bank_reversal")
    return tuple(out)


def _subset(candidates: Sequence, target: int, amount) -> list | None:
    """The first combination of 2..GROUP_MAX candidates summing to ``target`` (a bounded search)."""
    for size in range(2, min(GROUP_MAX, len(candidates)) + 1):
        for combo in combinations(candidates, size):
            if sum(amount(c) for c in combo) == target:
                return list(combo)
    return None


def check_match(lines: Sequence[BankItem], items: Sequence[CashItem], currency: str = "GBP") -> None:
    """A match a person confirms must balance: its lines sum to its postings."""
    if not lines:
        raise ValidationError("a match needs at least one bank line", field="lines")
    if len({l.line_id for l in lines}) != len(lines) or len({i.entry_id for i in items}) != len(items):
        raise ValidationError("a match names the same bank line or entry twice", field="lines")
    bank = sum(l.amount_pence for l in lines)
    ledger = sum(i.amount_pence for i in items)
    if bank != ledger:
        raise ValidationError(f"bank line(s) {', '.join(str(l.line_id) for l in lines)} total {_pounds(bank, currency)}"
                              f" but the entries total {_pounds(ledger, currency)}: a match must agree to the penny",
                              field="entries")


# ---------------------------------------------------------------------------- reconciliation


@dataclass(frozen=True)
class Match:
    """A confirmed, not unmatched, match."""

    match_id: int
    line_ids: tuple[int, ...]
    entry_ids: tuple[int, ...]


@dataclass(frozen=True)
class ReconcilingItem:
    kind: str  # receipt_not_banked | payment_not_cleared | bank_not_in_ledger
    on: date
    amount_pence: int  # as the ledger or the bank has it (money in positive)
    ref: int  # entry id or bank line id
    description: str


@dataclass(frozen=True)
class Reconciliation:
    as_of: date
    ledger_cash_pence: int
    bank_balance_pence: int
    opening_pence: int  # the first statement's opening balance (the bank before Fuel)
    matched_ledger_pence: int
    matched_bank_pence: int
    items: tuple[ReconcilingItem, ...]

    @property
    def ledger_items_pence(self) -> int:
        return sum(i.amount_pence for i in self.items if i.kind != "bank_not_in_ledger")

    @property
    def bank_items_pence(self) -> int:
        return sum(i.amount_pence for i in self.items if i.kind == "bank_not_in_ledger")

    @property
    def unexplained_pence(self) -> int:
        """Bank balance less (ledger cash less what the bank has not seen plus what the ledger
        has not seen): zero when the reconciling items explain the whole difference."""
        return self.bank_balance_pence - (self.ledger_cash_pence - self.ledger_items_pence + self.bank_items_pence)


KIND_TITLES = {"receipt_not_banked": "Receipts in the ledger not yet on the bank statement",
               "payment_not_cleared": "Payments in the ledger not yet cleared",
               "bank_not_in_ledger": "Bank lines not in the ledger"}


def reconcile(as_of: date, opening_pence: int, lines: Iterable[BankItem], items: Iterable[CashItem],
              matches: Iterable[Match]) -> Reconciliation:
    """The reconciliation as of ``as_of`` (inclusive). A match counts only when every line and
    posting of it is dated on or before ``as_of``; otherwise its members dated by then are
    reconciling items (a distribution paid on the quarter's last day that clears the next)."""
    lines = [l for l in lines if l.booked_on <= as_of]
    items = [i for i in items if i.effective_date <= as_of]
    line_ids = {l.line_id for l in lines}
    item_ids = {i.entry_id for i in items}
    matched_lines: set[int] = set()
    matched_items: set[int] = set()
    for m in matches:
        if set(m.line_ids) <= line_ids and set(m.entry_ids) <= item_ids:
            if matched_lines & set(m.line_ids) or matched_items & set(m.entry_ids):
                raise InvariantBroken(f"bank match {m.match_id} reuses a line or an entry of another match")
            matched_lines.update(m.line_ids)
            matched_items.update(m.entry_ids)
    recon_items: list[ReconcilingItem] = []
    for i in items:
        if i.entry_id not in matched_items:
            kind = "receipt_not_banked" if i.amount_pence > 0 else "payment_not_cleared"
            recon_items.append(ReconcilingItem(kind, i.effective_date, i.amount_pence, i.entry_id, i.description))
    for l in lines:
        if l.line_id not in matched_lines:
            recon_items.append(ReconcilingItem("bank_not_in_ledger", l.booked_on, l.amount_pence, l.line_id, l.text))
    recon_items.sort(key=lambda r: (list(KIND_TITLES).index(r.kind), r.on, r.ref))
    return Reconciliation(
        as_of=as_of,
        ledger_cash_pence=sum(i.amount_pence for i in items),
        bank_balance_pence=opening_pence + sum(l.amount_pence for l in lines),
        opening_pence=opening_pence,
        matched_ledger_pence=sum(i.amount_pence for i in items if i.entry_id in matched_items),
        matched_bank_pence=sum(l.amount_pence for l in lines if l.line_id in matched_lines),
        items=tuple(recon_items),
    )


def quarter_end_problem(recon: Reconciliation | None, covered_through: date | None, as_of: date,
                        account: str) -> str | None:
    """Why a quarter end is not reconciled for one account, or None if it is: the statements
    reach the date, the reconciling items explain the difference to the penny, and every bank
    line by then is matched or posted (what the ledger has and the bank has not yet seen, a
    distribution paid on the last day, may remain)."""
    if covered_through is None or covered_through < as_of:
        reach = f"statements reach {covered_through}" if covered_through else "no statement is imported"
        return f"bank account {account}: {reach}, not {as_of}"
    if recon is not None and recon.unexplained_pence != 0:
        return (f"bank account {account}: {format_amount(recon.unexplained_pence, 'GBP')} of the difference between "
                f"ledger cash and the bank balance on {as_of} is unexplained")
    missing = [i for i in recon.items if i.kind == "bank_not_in_ledger"] if recon is not None else []
    if missing:
        return (f"bank account {account}: {len(missing)} bank line(s) up to {as_of} are neither matched nor in the "
                f"ledger (first: line {missing[0].ref}, {missing[0].on}): `fuel bank match` or `fuel bank post`")
    return None




# ---------------------------------------------------------------------------- bank lines as events


def interest_draft(*, fund: str, currency: str, day: date, amount_pence: int, source: str, tranche: str | None,
                   restriction: str | None, key: str, description: str) -> EntryDraft:
    """Interest the bank credited: Dr cash / Cr interest_income, in the account's bucket (the
    flows have no interest-received event; a bank fee uses the ``fee`` rule, form ``expense``)."""
    if amount_pence <= 0:
        raise ValidationError("bank interest must be more than zero", field="amount")
    dims = dict(currency=currency, fund=fund, source=source, tranche=tranche, restriction=restriction)
    draft = EntryDraft(effective_date=day, description=description[:500], idempotency_key=key,
                       postings=(Posting("cash", amount_pence, **dims), Posting("interest_income", -amount_pence, **dims)),
                       event_kind="bank_interest", event_data={"fund": fund, "amount_pence": amount_pence,
                                                               "source": source, "tranche": tranche,
                                                               "restriction": restriction})
    if imbalances(draft.postings):
        raise InvariantBroken("bank interest entry does not balance")
    return draft
