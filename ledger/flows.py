"""Fund flows: typed business events and one pure posting rule per event kind.

Each event is a frozen value that checks its own fields. A posting rule takes the event, the
fund's reference data (:class:`~ledger.funds.FundBook`) and the running :class:`Position`
(balances the rule needs, passed in) and returns a balanced :class:`~ledger.postings.EntryDraft`.
Rules never touch a database; the service layer (``models/flows_store.py``) loads the position,
calls the rule, and posts the draft.

Every entry balances within each (fund, source, restriction) group: a rule that touches several
groups (a drawdown across investors, income attributed to several sources) balances each group
on its own. Money changes source or restriction only through :class:`Transfer`, whose postings
use the ``source_transfers`` account on both sides.

The exact postings of every rule are tabled in ``docs/fund-flows.md``.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import date
from typing import Callable, ClassVar, Mapping

from ledger.errors import InvariantBroken, ValidationError
from ledger.funds import FundBook, Project, Restriction, check_id, unfunded_pence
from ledger.money import allocate, check_pence, format_amount
from ledger.postings import AMOUNT_MAX_PENCE, DESCRIPTION_MAX_CHARS, EntryDraft, Posting, imbalances
from ledger.sources_uses import FundingGroup, attribute

INSTRUMENT_ACCOUNTS: Mapping[str, str] = {"loan": "project_loans", "working_capital": "working_capital_advances"}
#: What a disbursement buys: an investment the project repays (loan, working capital), a grant,
#: or delivery bought from the provider (a service fee: an expense of the project, DESIGN.md 6).
DISBURSEMENT_ACCOUNTS: Mapping[str, str] = {**INSTRUMENT_ACCOUNTS, "grant": "project_grants",
                                            "service_fee": "service_fees"}
FEE_ACCOUNTS: Mapping[str, str] = {"management_fee": "management_fees", "expense": "fund_expenses"}
VALUATION_FORMS: tuple[str, ...] = ("gain", "write_down", "write_off")
PUBLIC_FORMS: tuple[str, ...] = ("co_investment", "grant")
#: Accounts whose debits by disbursement events are a project's disbursed capital.
DISBURSED_ACCOUNTS: frozenset[str] = frozenset(DISBURSEMENT_ACCOUNTS.values())


# ---------------------------------------------------------------------------- events


def _money(value: object, what: str, *, allow_zero: bool = False) -> int:
    name = what.removesuffix("_pence")
    check_pence(value, what)
    if value < 0 or (value == 0 and not allow_zero):  # type: ignore[operator]
        floor = "zero or more" if allow_zero else "more than zero"
        raise ValidationError(f"{name} must be {floor}, got {_show(value)}", field=name)
    if value > AMOUNT_MAX_PENCE:  # type: ignore[operator]
        raise ValidationError(f"{name} {_show(value)} is larger than the limit of {_show(AMOUNT_MAX_PENCE)}", field=name)
    return value  # type: ignore[return-value]


def _show(pence: object) -> str:
    return format_amount(pence, "GBP") if isinstance(pence, int) and not isinstance(pence, bool) else repr(pence)


def _optional_id(value: object, what: str) -> None:
    if value is not None:
        check_id(value, what)


def _choice(value: object, choices, what: str) -> None:
    if value not in choices:
        raise ValidationError(f"{what} {value!r} is not one of {', '.join(choices)}", field=what)


@dataclass(frozen=True, kw_only=True)
class FlowEvent:
    """Fields every event has. ``key`` is the caller's idempotency key (else derived)."""

    kind: ClassVar[str] = "event"

    fund: str
    effective_date: date
    description: str | None = None
    key: str | None = None

    def __post_init__(self) -> None:
        check_id(self.fund, "fund")
        if not isinstance(self.effective_date, date):
            raise ValidationError("date must be a date", field="date")
        if self.description is not None and len(self.description) > DESCRIPTION_MAX_CHARS:
            raise ValidationError(f"description is longer than {DESCRIPTION_MAX_CHARS} characters", field="description")
        self.check()

    def check(self) -> None:  # overridden per kind
        pass

    def data(self) -> dict:
        """The event as plain JSON-able values: stored on the entry, hashed into derived keys."""
        out: dict[str, object] = {"kind": self.kind}
        for f in fields(self):
            if f.name == "key":
                continue
            value = getattr(self, f.name)
            out[f.name] = value.isoformat() if isinstance(value, date) else value
        return out

    @property
    def idempotency_key(self) -> str:
        return self.key or derived_key(self.data())


def derived_key(data: Mapping[str, object]) -> str:
    """``flows:<sha256>`` of the normalised event: the same event always gets the same key."""
    canonical = json.dumps(dict(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "flows:" + hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, kw_only=True)
class DrawdownNotice(FlowEvent):
    """A capital call on a tranche, split pro rata across its commitments."""

    kind: ClassVar[str] = "drawdown_notice"
    tranche: str
    amount_pence: int

    def check(self) -> None:
        check_id(self.tranche, "tranche")
        _money(self.amount_pence, "amount_pence")


@dataclass(frozen=True, kw_only=True)
class DrawdownReceived(FlowEvent):
    """An investor pays (part of) what was called."""

    kind: ClassVar[str] = "drawdown_received"
    tranche: str
    investor: str
    amount_pence: int

    def check(self) -> None:
        check_id(self.tranche, "tranche")
        check_id(self.investor, "investor")
        _money(self.amount_pence, "amount_pence")


@dataclass(frozen=True, kw_only=True)
class GrantReceived(FlowEvent):
    """A charitable trust or foundation pays a grant into the fund, restricted or not."""

    kind: ClassVar[str] = "grant_received"
    investor: str
    amount_pence: int
    restriction: str | None = None
    tranche: str | None = None

    def check(self) -> None:
        check_id(self.investor, "investor")
        _money(self.amount_pence, "amount_pence")
        _optional_id(self.restriction, "restriction")
        _optional_id(self.tranche, "tranche")


@dataclass(frozen=True, kw_only=True)
class PublicMoneyReceived(FlowEvent):
    """A council or central fund pays in public money: co-investment (capital) or a grant."""

    kind: ClassVar[str] = "public_money_received"
    payer: str
    amount_pence: int
    form: str
    tranche: str | None = None
    restriction: str | None = None

    def check(self) -> None:
        check_id(self.payer, "payer")
        _money(self.amount_pence, "amount_pence")
        _choice(self.form, PUBLIC_FORMS, "form")
        _optional_id(self.tranche, "tranche")
        _optional_id(self.restriction, "restriction")
        if self.form == "co_investment" and self.tranche is None:
            raise ValidationError("a co-investment needs the tranche it invests in", field="tranche")


@dataclass(frozen=True, kw_only=True)
class Disbursement(FlowEvent):
    """Fund -> project: a loan, a working capital advance or a grant, from one source."""

    kind: ClassVar[str] = "disbursement"
    project: str
    amount_pence: int
    form: str
    source: str
    tranche: str | None = None
    restriction: str | None = None

    def check(self) -> None:
        check_id(self.project, "project")
        _money(self.amount_pence, "amount_pence")
        _choice(self.form, tuple(DISBURSEMENT_ACCOUNTS), "form")
        _check_source(self.source, "source")
        _optional_id(self.tranche, "tranche")
        _optional_id(self.restriction, "restriction")


@dataclass(frozen=True, kw_only=True)
class Repayment(FlowEvent):
    """Project -> fund: principal of a loan or advance, and interest."""

    kind: ClassVar[str] = "repayment"
    project: str
    principal_pence: int
    interest_pence: int = 0
    form: str = "loan"

    def check(self) -> None:
        check_id(self.project, "project")
        _money(self.principal_pence, "amount_pence", allow_zero=True)
        _money(self.interest_pence, "interest_pence", allow_zero=True)
        if self.principal_pence + self.interest_pence == 0:
            raise ValidationError("a repayment needs principal or interest above zero", field="amount")
        _choice(self.form, tuple(INSTRUMENT_ACCOUNTS), "form")


@dataclass(frozen=True, kw_only=True)
class OutcomePayment(FlowEvent):
    """Payer (commissioner) -> fund for outcomes a project achieved (the cash side)."""

    kind: ClassVar[str] = "outcome_payment"
    project: str
    payer: str
    amount_pence: int

    def check(self) -> None:
        check_id(self.project, "project")
        check_id(self.payer, "payer")
        _money(self.amount_pence, "amount_pence")


@dataclass(frozen=True, kw_only=True)
class Fee(FlowEvent):
    """Fund -> manager (management fee) or a fund expense, paid from one source's cash."""

    kind: ClassVar[str] = "fee"
    amount_pence: int
    form: str
    source: str
    tranche: str | None = None
    restriction: str | None = None
    manager: str | None = None

    def check(self) -> None:
        _money(self.amount_pence, "amount_pence")
        _choice(self.form, tuple(FEE_ACCOUNTS), "form")
        _check_source(self.source, "source")
        _optional_id(self.tranche, "tranche")
        _optional_id(self.restriction, "restriction")
        _optional_id(self.manager, "manager")


@dataclass(frozen=True, kw_only=True)
class ValuationChange(FlowEvent):
    """A project investment is revalued up (gain), written down, or written off (realised)."""

    kind: ClassVar[str] = "valuation_change"
    project: str
    amount_pence: int
    form: str
    instrument: str = "loan"

    def check(self) -> None:
        check_id(self.project, "project")
        _money(self.amount_pence, "amount_pence")
        _choice(self.form, VALUATION_FORMS, "form")
        _choice(self.instrument, tuple(INSTRUMENT_ACCOUNTS), "instrument")


@dataclass(frozen=True, kw_only=True)
class ProjectExit(FlowEvent):
    """A project investment sold or repaid early for ``amount_pence`` of proceeds: the whole
    instrument leaves the books, and proceeds above its carrying amount are a realised gain
    (below it, a realised loss)."""

    kind: ClassVar[str] = "exit"
    project: str
    amount_pence: int
    instrument: str = "loan"

    def check(self) -> None:
        check_id(self.project, "project")
        _money(self.amount_pence, "amount_pence", allow_zero=True)
        _choice(self.instrument, tuple(INSTRUMENT_ACCOUNTS), "instrument")


@dataclass(frozen=True, kw_only=True)
class Distribution(FlowEvent):
    """Fund -> investor, an amount given (the waterfall that computes it comes later)."""

    kind: ClassVar[str] = "distribution"
    tranche: str
    investor: str
    amount_pence: int

    def check(self) -> None:
        check_id(self.tranche, "tranche")
        check_id(self.investor, "investor")
        _money(self.amount_pence, "amount_pence")


@dataclass(frozen=True, kw_only=True)
class Transfer(FlowEvent):
    """Move cash between sources, tranches or restrictions: explicit, with a reason."""

    kind: ClassVar[str] = "transfer"
    amount_pence: int
    source: str
    to_source: str
    reason: str
    tranche: str | None = None
    restriction: str | None = None
    to_tranche: str | None = None
    to_restriction: str | None = None

    def check(self) -> None:
        _money(self.amount_pence, "amount_pence")
        _check_source(self.source, "source")
        _check_source(self.to_source, "to_source")
        for name in ("tranche", "restriction", "to_tranche", "to_restriction"):
            _optional_id(getattr(self, name), name)
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ValidationError("a transfer needs a reason", field="reason")
        if (self.source, self.tranche, self.restriction) == (self.to_source, self.to_tranche, self.to_restriction):
            raise ValidationError("a transfer must change the source, tranche or restriction", field="to_source")


def _check_source(value: object, what: str) -> None:
    from ledger.postings import SOURCES

    _choice(value, SOURCES, what)


EVENT_TYPES: Mapping[str, type[FlowEvent]] = {
    cls.kind: cls
    for cls in (
        DrawdownNotice, DrawdownReceived, GrantReceived, PublicMoneyReceived, Disbursement, Repayment,
        OutcomePayment, Fee, ValuationChange, ProjectExit, Distribution, Transfer,
    )
}
EVENT_KINDS: tuple[str, ...] = tuple(EVENT_TYPES)


# ---------------------------------------------------------------------------- position


Bucket = tuple  # (fund, currency, source, tranche, restriction)

#: The only accounts a Position reads; a position is built from their postings alone.
POSITION_ACCOUNTS: frozenset[str] = frozenset(
    {"cash", "called_capital_receivable", *INSTRUMENT_ACCOUNTS.values(), *DISBURSED_ACCOUNTS}
)


class Position:
    """The running balances posting rules read: built from the ledger, then advanced draft by
    draft so the checks of a file's later rows see its earlier rows.

    * ``cash``: cash by (fund, currency, source, tranche, restriction);
    * ``instruments``: carrying amount of loans and advances by
      (fund, currency, project, account, source, tranche, restriction);
    * ``receivable``: capital called and not yet paid by (fund, currency, tranche, investor);
    * ``called``: capital called by drawdown notices by (fund, tranche, investor);
    * ``disbursed``: capital disbursed (all forms) by (fund, currency, project, source, tranche,
      restriction): the weights income is attributed by.
    """

    def __init__(self) -> None:
        self.cash: dict[tuple, int] = defaultdict(int)
        self.instruments: dict[tuple, int] = defaultdict(int)
        self.receivable: dict[tuple, int] = defaultdict(int)
        self.called: dict[tuple, int] = defaultdict(int)
        self.disbursed: dict[tuple, int] = defaultdict(int)

    def copy(self) -> "Position":
        twin = Position()
        for name in ("cash", "instruments", "receivable", "called", "disbursed"):
            getattr(twin, name).update(getattr(self, name))
        return twin

    def apply(self, draft: EntryDraft) -> None:
        """Advance the position by one entry's postings."""
        for p in draft.postings:
            self.add_posting(p, draft.event_kind)

    def add_posting(self, p: Posting, event_kind: str) -> None:
        group = (p.source, p.tranche, p.restriction)
        if p.account == "cash":
            self.cash[(p.fund, p.currency, *group)] += p.amount_pence
        elif p.account in INSTRUMENT_ACCOUNTS.values():
            self.instruments[(p.fund, p.currency, p.project, p.account, *group)] += p.amount_pence
        elif p.account == "called_capital_receivable":
            self.receivable[(p.fund, p.currency, p.tranche, p.counterparty)] += p.amount_pence
            if event_kind == DrawdownNotice.kind:
                self.called[(p.fund, p.tranche, p.counterparty)] += p.amount_pence
        if event_kind == Disbursement.kind and p.account in DISBURSED_ACCOUNTS:
            self.disbursed[(p.fund, p.currency, p.project, *group)] += p.amount_pence

    def cash_in(self, fund: str, currency: str, source: str, tranche: str | None, restriction: str | None) -> int:
        return self.cash.get((fund, currency, source, tranche, restriction), 0)

    def carrying(self, fund: str, currency: str, project: str, account: str) -> dict[FundingGroup, int]:
        return {
            FundingGroup(*key[4:]): amount
            for key, amount in self.instruments.items()
            if key[:4] == (fund, currency, project, account) and amount != 0
        }

    def disbursed_to(self, fund: str, currency: str, project: str) -> dict[FundingGroup, int]:
        return {
            FundingGroup(*key[3:]): amount
            for key, amount in self.disbursed.items()
            if key[:3] == (fund, currency, project) and amount != 0
        }


# ---------------------------------------------------------------------------- checks (pure)


def bucket_label(fund: str, source: str, tranche: str | None, restriction: str | None) -> str:
    return f"fund {fund}, source {source}, tranche {tranche or '-'}, restriction {restriction or '-'}"


def check_cash(available_pence: int, needed_pence: int, currency: str, where: str) -> None:
    """Refuse to spend more cash than a (fund, source, tranche, restriction) bucket holds."""
    if needed_pence > available_pence:
        raise ValidationError(
            f"not enough cash in {where}: {format_amount(needed_pence, currency)} {currency} needed, "
            f"{format_amount(max(available_pence, 0), currency)} {currency} available",
            field="amount",
        )


def check_restriction(restriction: Restriction | None, project: Project, amount_pence: int, currency: str) -> None:
    """Refuse to spend restricted money on a project its restriction does not permit."""
    if restriction is None or restriction.permits(project):
        return
    raise ValidationError(
        f"restriction {restriction.id} ({restriction.describe()}) does not permit project {project.id} "
        f"(theme {project.theme}): refused to spend {format_amount(amount_pence, currency)} {currency} on it",
        field="restriction",
    )


# ---------------------------------------------------------------------------- posting rules


def _description(event: FlowEvent, default: str) -> str:
    return (event.description or default)[:DESCRIPTION_MAX_CHARS]


def _draft(event: FlowEvent, description: str, postings: list[Posting]) -> EntryDraft:
    draft = EntryDraft(
        effective_date=event.effective_date,
        description=_description(event, description),
        idempotency_key=event.idempotency_key,
        postings=tuple(postings),
        event_kind=event.kind,
        event_data=event.data(),
    )
    if imbalances(draft.postings):  # a rule that does not balance is a bug
        raise InvariantBroken(f"posting rule {event.kind} built an unbalanced entry: {imbalances(draft.postings)}")
    return draft


def _amount(pence: int, currency: str) -> str:
    return f"{format_amount(pence, currency, separators=True)} {currency}"


def _check_optional(book: FundBook, tranche: str | None, restriction: str | None) -> Restriction | None:
    if tranche is not None:
        book.tranche(tranche)
    return book.restriction(restriction) if restriction is not None else None


def _check_fund(event: FlowEvent, book: FundBook) -> str:
    if event.fund != book.fund.id:
        raise InvariantBroken(f"event for fund {event.fund} given the book of fund {book.fund.id}")
    return book.fund.currency


def rule_drawdown_notice(event: DrawdownNotice, book: FundBook, position: Position) -> EntryDraft:
    """Dr called_capital_receivable / Cr contributed_capital (grant_capital for a grant
    tranche), per investor, split pro rata to commitments with :func:`allocate`."""
    currency = _check_fund(event, book)
    tranche = book.tranche(event.tranche)
    committed: dict[str, int] = {}
    for commitment in book.commitments_of(tranche.id):
        committed[commitment.investor] = committed.get(commitment.investor, 0) + commitment.amount_pence
    if not committed:
        raise ValidationError(f"tranche {tranche.id} has no commitments to call", field="tranche")
    investors = list(committed)
    unfunded = {i: unfunded_pence(committed[i], position.called.get((event.fund, tranche.id, i), 0)) for i in investors}
    total_unfunded = sum(unfunded.values())
    if event.amount_pence > total_unfunded:
        raise ValidationError(
            f"drawdown of {_amount(event.amount_pence, currency)} on tranche {tranche.id} is more than its "
            f"unfunded commitments of {_amount(total_unfunded, currency)}",
            field="amount",
        )
    shares = allocate(event.amount_pence, [committed[i] for i in investors])
    capital_account = "grant_capital" if tranche.kind == "grant" else "contributed_capital"
    postings: list[Posting] = []
    for investor_id, share in zip(investors, shares):
        if share > unfunded[investor_id]:
            raise ValidationError(
                f"investor {investor_id}'s share {_amount(share, currency)} of the drawdown on tranche "
                f"{tranche.id} is more than its unfunded commitment of {_amount(unfunded[investor_id], currency)}",
                field="amount",
            )
        if share == 0:
            continue
        investor = book.investor(investor_id)
        dims = dict(currency=currency, fund=event.fund, source=investor.source, tranche=tranche.id, counterparty=investor_id)
        postings += [
            Posting("called_capital_receivable", share, **dims),
            Posting(capital_account, -share, **dims),
        ]
    return _draft(event, f"Drawdown notice on tranche {tranche.id}: {_amount(event.amount_pence, currency)}", postings)


def rule_drawdown_received(event: DrawdownReceived, book: FundBook, position: Position) -> EntryDraft:
    """Dr cash / Cr called_capital_receivable, for the investor and tranche."""
    currency = _check_fund(event, book)
    tranche = book.tranche(event.tranche)
    investor = book.investor(event.investor)
    owed = position.receivable.get((event.fund, currency, tranche.id, investor.id), 0)
    if event.amount_pence > owed:
        raise ValidationError(
            f"investor {investor.id} owes {_amount(max(owed, 0), currency)} called on tranche {tranche.id}; "
            f"a receipt of {_amount(event.amount_pence, currency)} is more than was called",
            field="amount",
        )
    dims = dict(currency=currency, fund=event.fund, source=investor.source, tranche=tranche.id, counterparty=investor.id)
    return _draft(
        event,
        f"Drawdown received from {investor.id} on tranche {tranche.id}",
        [Posting("cash", event.amount_pence, **dims), Posting("called_capital_receivable", -event.amount_pence, **dims)],
    )


def rule_grant_received(event: GrantReceived, book: FundBook, position: Position) -> EntryDraft:
    """Dr cash / Cr grant_capital, source charitable, carrying the grant's restriction."""
    currency = _check_fund(event, book)
    funder = book.investor(event.investor)
    if funder.investor_type != "charitable_trust":
        raise ValidationError(
            f"investor {funder.id} is a {funder.investor_type}, not a charitable trust; "
            "record its money as a drawdown or public money",
            field="investor",
        )
    _check_optional(book, event.tranche, event.restriction)
    dims = dict(currency=currency, fund=event.fund, source="charitable", tranche=event.tranche,
                restriction=event.restriction, counterparty=funder.id)
    label = f" restricted to {event.restriction}" if event.restriction else ""
    return _draft(
        event,
        f"Charitable grant from {funder.id}{label}",
        [Posting("cash", event.amount_pence, **dims), Posting("grant_capital", -event.amount_pence, **dims)],
    )


def rule_public_money_received(event: PublicMoneyReceived, book: FundBook, position: Position) -> EntryDraft:
    """Dr cash / Cr contributed_capital (co-investment) or grant_capital (grant), source public."""
    currency = _check_fund(event, book)
    payer = book.party(event.payer, ("payer", "investor"))
    if payer.kind == "investor" and payer.investor_type != "public_body":
        raise ValidationError(f"investor {payer.id} is a {payer.investor_type}, not a public body", field="payer")
    _check_optional(book, event.tranche, event.restriction)
    account = "contributed_capital" if event.form == "co_investment" else "grant_capital"
    dims = dict(currency=currency, fund=event.fund, source="public", tranche=event.tranche,
                restriction=event.restriction, counterparty=payer.id)
    return _draft(
        event,
        f"Public money ({event.form.replace('_', '-')}) from {payer.id}",
        [Posting("cash", event.amount_pence, **dims), Posting(account, -event.amount_pence, **dims)],
    )


def rule_disbursement(event: Disbursement, book: FundBook, position: Position) -> EntryDraft:
    """Dr project_loans / working_capital_advances / project_grants, Cr cash, in the source's
    group; refused if restricted money would go to a project it does not permit, or if the
    (source, tranche, restriction) lacks the cash."""
    currency = _check_fund(event, book)
    project = book.project(event.project)
    if project.status in ("closed", "written_off"):
        raise ValidationError(f"project {project.id} is {project.status}: it cannot receive money", field="project")
    restriction = _check_optional(book, event.tranche, event.restriction)
    check_restriction(restriction, project, event.amount_pence, currency)
    available = position.cash_in(event.fund, currency, event.source, event.tranche, event.restriction)
    check_cash(available, event.amount_pence, currency,
               bucket_label(event.fund, event.source, event.tranche, event.restriction))
    dims = dict(currency=currency, fund=event.fund, source=event.source, tranche=event.tranche,
                restriction=event.restriction, project=project.id, counterparty=project.provider)
    account = DISBURSEMENT_ACCOUNTS[event.form]
    return _draft(
        event,
        f"Disbursement ({event.form.replace('_', ' ')}) to project {project.id}",
        [Posting(account, event.amount_pence, **dims), Posting("cash", -event.amount_pence, **dims)],
    )


def _group_dims(group: FundingGroup) -> dict:
    return dict(source=group.source, tranche=group.tranche, restriction=group.restriction)


def _no_funding(project: Project, what: str) -> ValidationError:
    return ValidationError(f"project {project.id} has no {what} to attribute this to", field="project")


def rule_repayment(event: Repayment, book: FundBook, position: Position) -> EntryDraft:
    """Dr cash / Cr project_loans (or working_capital_advances) for principal, pro rata to each
    funding group's carrying amount; Dr cash / Cr interest_income for interest, attributed pro
    rata to each group's disbursed capital in the project."""
    currency = _check_fund(event, book)
    project = book.project(event.project)
    account = INSTRUMENT_ACCOUNTS[event.form]
    lines: dict[FundingGroup, list[tuple[str, int]]] = defaultdict(list)
    if event.principal_pence:
        carrying = position.carrying(event.fund, currency, project.id, account)
        outstanding = sum(v for v in carrying.values() if v > 0)
        if event.principal_pence > outstanding:
            raise ValidationError(
                f"project {project.id} has {_amount(outstanding, currency)} of {event.form.replace('_', ' ')} "
                f"outstanding; a repayment of {_amount(event.principal_pence, currency)} is more than that",
                field="amount",
            )
        for group, share in attribute(event.principal_pence, carrying).items():
            lines[group].append((account, share))
    if event.interest_pence:
        disbursed = position.disbursed_to(event.fund, currency, project.id)
        if not disbursed:
            raise _no_funding(project, "disbursed capital")
        for group, share in attribute(event.interest_pence, disbursed).items():
            lines[group].append(("interest_income", share))
    postings = []
    for group in sorted(lines, key=FundingGroup.sort_key):
        total = sum(share for _, share in lines[group])
        if total == 0:
            continue
        dims = dict(currency=currency, fund=event.fund, **_group_dims(group), project=project.id,
                    counterparty=project.provider)
        postings.append(Posting("cash", total, **dims))
        postings += [Posting(acct, -share, **dims) for acct, share in lines[group] if share]
    return _draft(event, f"Repayment from project {project.id}", postings)


def rule_outcome_payment(event: OutcomePayment, book: FundBook, position: Position) -> EntryDraft:
    """Dr cash / Cr outcome_income, attributed to the funding groups pro rata to disbursed capital."""
    currency = _check_fund(event, book)
    project = book.project(event.project)
    payer = book.party(event.payer, "payer")
    disbursed = position.disbursed_to(event.fund, currency, project.id)
    if not disbursed:
        raise _no_funding(project, "disbursed capital")
    postings = []
    for group, share in attribute(event.amount_pence, disbursed).items():
        if share == 0:
            continue
        dims = dict(currency=currency, fund=event.fund, **_group_dims(group), project=project.id, counterparty=payer.id)
        postings += [Posting("cash", share, **dims), Posting("outcome_income", -share, **dims)]
    return _draft(event, f"Outcome payment from {payer.id} for project {project.id}", postings)


def rule_fee(event: Fee, book: FundBook, position: Position) -> EntryDraft:
    """Dr management_fees (or fund_expenses) / Cr cash, in the charged source's group."""
    currency = _check_fund(event, book)
    restriction = _check_optional(book, event.tranche, event.restriction)
    if restriction is not None and not restriction.fees_permitted:
        raise ValidationError(
            f"restriction {restriction.id} ({restriction.name}) does not permit fees or fund expenses to be charged "
            "to its money: charge the unrestricted bucket, or set fees_permitted = true on the restriction if its "
            "terms allow it", field="restriction")
    if event.manager is not None:
        book.party(event.manager, "manager")
    available = position.cash_in(event.fund, currency, event.source, event.tranche, event.restriction)
    check_cash(available, event.amount_pence, currency,
               bucket_label(event.fund, event.source, event.tranche, event.restriction))
    dims = dict(currency=currency, fund=event.fund, source=event.source, tranche=event.tranche,
                restriction=event.restriction, counterparty=event.manager)
    return _draft(
        event,
        "Management fee" if event.form == "management_fee" else "Fund expense",
        [Posting(FEE_ACCOUNTS[event.form], event.amount_pence, **dims), Posting("cash", -event.amount_pence, **dims)],
    )


def rule_valuation_change(event: ValuationChange, book: FundBook, position: Position) -> EntryDraft:
    """gain: Dr instrument / Cr valuation_gains; write_down: Dr write_downs / Cr instrument;
    write_off: Dr realised_losses / Cr instrument; split pro rata to each funding group's
    carrying amount of the instrument."""
    currency = _check_fund(event, book)
    project = book.project(event.project)
    account = INSTRUMENT_ACCOUNTS[event.instrument]
    carrying = {g: v for g, v in position.carrying(event.fund, currency, project.id, account).items() if v > 0}
    outstanding = sum(carrying.values())
    what = event.instrument.replace("_", " ")
    if not carrying:
        raise ValidationError(f"project {project.id} has no {what} outstanding to revalue", field="project")
    if event.form != "gain" and event.amount_pence > outstanding:
        raise ValidationError(
            f"a {event.form.replace('_', '-')} of {_amount(event.amount_pence, currency)} is more than the "
            f"{_amount(outstanding, currency)} carrying amount of project {project.id}'s {what}",
            field="amount",
        )
    other = {"gain": "valuation_gains", "write_down": "write_downs", "write_off": "realised_losses"}[event.form]
    # The debit comes first: the instrument for a gain, the loss account otherwise.
    debit, credit = (account, other) if event.form == "gain" else (other, account)
    postings = []
    for group, share in attribute(event.amount_pence, carrying).items():
        if share == 0:
            continue
        dims = dict(currency=currency, fund=event.fund, **_group_dims(group), project=project.id,
                    counterparty=project.provider)
        postings += [Posting(debit, share, **dims), Posting(credit, -share, **dims)]
    return _draft(event, f"Valuation change ({event.form.replace('_', '-')}) on project {project.id}", postings)


def rule_exit(event: ProjectExit, book: FundBook, position: Position) -> EntryDraft:
    """Dr cash (proceeds) / Cr the instrument (its whole carrying amount), and Cr realised_gains
    for proceeds above it (Dr realised_losses below), per funding group pro rata to its carrying
    amount."""
    currency = _check_fund(event, book)
    project = book.project(event.project)
    account = INSTRUMENT_ACCOUNTS[event.instrument]
    carrying = {g: v for g, v in position.carrying(event.fund, currency, project.id, account).items() if v > 0}
    if not carrying:
        raise ValidationError(f"project {project.id} has no {event.instrument.replace('_', ' ')} outstanding to exit",
                              field="project")
    proceeds = attribute(event.amount_pence, carrying)
    postings = []
    for group in sorted(carrying, key=FundingGroup.sort_key):
        dims = dict(currency=currency, fund=event.fund, **_group_dims(group), project=project.id,
                    counterparty=project.provider)
        received, held = proceeds.get(group, 0), carrying[group]
        if received:
            postings.append(Posting("cash", received, **dims))
        postings.append(Posting(account, -held, **dims))
        if received != held:
            postings.append(Posting("realised_gains" if received > held else "realised_losses", held - received,
                                    **dims))
    return _draft(event, f"Exit of project {project.id}'s {event.instrument.replace('_', ' ')}", postings)


def rule_distribution(event: Distribution, book: FundBook, position: Position) -> EntryDraft:
    """Dr distributions / Cr cash, in the investor's source and tranche."""
    currency = _check_fund(event, book)
    tranche = book.tranche(event.tranche)
    investor = book.investor(event.investor)
    available = position.cash_in(event.fund, currency, investor.source, tranche.id, None)
    check_cash(available, event.amount_pence, currency, bucket_label(event.fund, investor.source, tranche.id, None))
    dims = dict(currency=currency, fund=event.fund, source=investor.source, tranche=tranche.id, counterparty=investor.id)
    return _draft(
        event,
        f"Distribution to {investor.id} from tranche {tranche.id}",
        [Posting("distributions", event.amount_pence, **dims), Posting("cash", -event.amount_pence, **dims)],
    )


def rule_transfer(event: Transfer, book: FundBook, position: Position) -> EntryDraft:
    """From group: Dr source_transfers / Cr cash; to group: Dr cash / Cr source_transfers."""
    currency = _check_fund(event, book)
    _check_optional(book, event.tranche, event.restriction)
    _check_optional(book, event.to_tranche, event.to_restriction)
    available = position.cash_in(event.fund, currency, event.source, event.tranche, event.restriction)
    check_cash(available, event.amount_pence, currency,
               bucket_label(event.fund, event.source, event.tranche, event.restriction))
    out_dims = dict(currency=currency, fund=event.fund, source=event.source, tranche=event.tranche,
                    restriction=event.restriction)
    in_dims = dict(currency=currency, fund=event.fund, source=event.to_source, tranche=event.to_tranche,
                   restriction=event.to_restriction)
    x = event.amount_pence
    return _draft(
        event,
        f"Transfer: {event.reason}",
        [
            Posting("source_transfers", x, **out_dims),
            Posting("cash", -x, **out_dims),
            Posting("cash", x, **in_dims),
            Posting("source_transfers", -x, **in_dims),
        ],
    )


RULES: Mapping[str, Callable[[FlowEvent, FundBook, Position], EntryDraft]] = {
    DrawdownNotice.kind: rule_drawdown_notice,
    DrawdownReceived.kind: rule_drawdown_received,
    GrantReceived.kind: rule_grant_received,
    PublicMoneyReceived.kind: rule_public_money_received,
    Disbursement.kind: rule_disbursement,
    Repayment.kind: rule_repayment,
    OutcomePayment.kind: rule_outcome_payment,
    Fee.kind: rule_fee,
    ValuationChange.kind: rule_valuation_change,
    ProjectExit.kind: rule_exit,
    Distribution.kind: rule_distribution,
    Transfer.kind: rule_transfer,
}
if set(RULES) != set(EVENT_TYPES):  # pragma: no cover - import-time guard
    raise InvariantBroken("every event kind needs exactly one posting rule")


def posting_rule(event: FlowEvent, book: FundBook, position: Position) -> EntryDraft:
    """The entry ``event`` produces: dispatch to its kind's rule."""
    return RULES[event.kind](event, book, position)


def event_from_data(data: Mapping[str, object]) -> FlowEvent:
    """Rebuild an event from :meth:`FlowEvent.data` (as stored on its entry)."""
    values = dict(data)
    kind = values.pop("kind", None)
    cls = EVENT_TYPES.get(kind)  # type: ignore[arg-type]
    if cls is None:
        raise ValidationError(f"unknown event kind {kind!r}", field="event")
    if isinstance(values.get("effective_date"), str):
        values["effective_date"] = date.fromisoformat(values["effective_date"])  # type: ignore[arg-type]
    return cls(**values)  # type: ignore[arg-type]
