"""Reference data of a fund: parties, funds, tranches, restrictions, projects, commitments (pure).

These are the nouns the fund flows (``ledger/flows.py``) talk about. They are frozen values;
storage lives in ``models/fund_tables.py`` and ``models/flows_store.py``. Commitments not yet
called are memo figures: they live here and in their own table, never as ledger accounts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Mapping

from ledger.errors import NotFound, ValidationError
from ledger.money import check_currency, check_pence

#: Kinds of party, and which types an investor may have.
PARTY_KINDS: tuple[str, ...] = ("investor", "payer", "provider", "manager")
INVESTOR_TYPES: tuple[str, ...] = ("social_investor", "charitable_trust", "public_body")
#: The money type (ledger source) an investor's capital carries, by investor type.
SOURCE_OF_INVESTOR_TYPE: Mapping[str, str] = {
    "social_investor": "social_investment",
    "charitable_trust": "charitable",
    "public_body": "public",
}
TRANCHE_KINDS: tuple[str, ...] = ("repayable", "grant")
RETURN_KINDS: tuple[str, ...] = ("none", "target", "capped")
PROJECT_STATUSES: tuple[str, ...] = ("pipeline", "active", "closed", "written_off")

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
NAME_MAX_CHARS = 200


def check_id(value: object, what: str) -> str:
    """An identifier: letters, digits, ``_ . -``, at most 64 characters."""
    if not isinstance(value, str) or not _ID.match(value):
        raise ValidationError(f"{what} {value!r} is not an id (letters, digits, _ . -; at most 64)", field=what)
    return value


def _check_name(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{what} is empty", field=what)
    if len(value) > NAME_MAX_CHARS:
        raise ValidationError(f"{what} is longer than {NAME_MAX_CHARS} characters", field=what)
    return value


def _check_choice(value: object, choices: tuple[str, ...], what: str) -> str:
    if value not in choices:
        raise ValidationError(f"{what} {value!r} is not one of {', '.join(choices)}", field=what)
    return value  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Party:
    """An investor, payer (commissioner), provider or the fund manager."""

    id: str
    name: str
    kind: str
    investor_type: str | None = None

    def __post_init__(self) -> None:
        check_id(self.id, "party id")
        _check_name(self.name, "party name")
        _check_choice(self.kind, PARTY_KINDS, "party kind")
        if self.kind == "investor":
            _check_choice(self.investor_type, INVESTOR_TYPES, f"investor {self.id}: type")
        elif self.investor_type is not None:
            raise ValidationError(f"party {self.id}: only investors have an investor type", field="investor_type")

    @property
    def source(self) -> str | None:
        """The money type this party's capital carries (investors only)."""
        return SOURCE_OF_INVESTOR_TYPE.get(self.investor_type or "")


@dataclass(frozen=True, slots=True)
class Fund:
    id: str
    name: str
    currency: str = "GBP"

    def __post_init__(self) -> None:
        check_id(self.id, "fund id")
        _check_name(self.name, "fund name")
        check_currency(self.currency)


@dataclass(frozen=True, slots=True)
class Tranche:
    """A class of capital with a rank in the waterfall (1 = paid first)."""

    id: str
    fund: str
    name: str
    rank: int
    kind: str = "repayable"
    return_kind: str = "none"
    #: Target or cap on the return, as an annual rate (Decimal, e.g. 0.05); None when none.
    return_rate: Decimal | None = None

    def __post_init__(self) -> None:
        check_id(self.id, "tranche id")
        check_id(self.fund, "fund id")
        _check_name(self.name, "tranche name")
        if isinstance(self.rank, bool) or not isinstance(self.rank, int) or self.rank < 1:
            raise ValidationError(f"tranche {self.id}: rank must be a whole number from 1", field="rank")
        _check_choice(self.kind, TRANCHE_KINDS, f"tranche {self.id}: kind")
        _check_choice(self.return_kind, RETURN_KINDS, f"tranche {self.id}: return kind")
        if self.return_kind == "none" and self.return_rate is not None:
            raise ValidationError(f"tranche {self.id}: a return rate needs return kind target or capped", field="return_rate")
        if self.return_kind != "none":
            if not isinstance(self.return_rate, Decimal) or self.return_rate < 0:
                raise ValidationError(
                    f"tranche {self.id}: {self.return_kind} return needs a rate as a Decimal >= 0", field="return_rate"
                )


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    fund: str
    name: str
    provider: str
    theme: str
    status: str = "active"

    def __post_init__(self) -> None:
        check_id(self.id, "project id")
        check_id(self.fund, "fund id")
        _check_name(self.name, "project name")
        check_id(self.provider, "provider id")
        _check_name(self.theme, "project theme")
        _check_choice(self.status, PROJECT_STATUSES, f"project {self.id}: status")


@dataclass(frozen=True, slots=True)
class Restriction:
    """What restricted money may be spent on: projects with a theme, and/or named projects."""

    id: str
    fund: str
    name: str
    theme: str | None = None
    projects: tuple[str, ...] = ()
    #: The donor's terms let management fees and fund expenses be charged to this money.
    fees_permitted: bool = False

    def __post_init__(self) -> None:
        check_id(self.id, "restriction id")
        if not isinstance(self.fees_permitted, bool):
            raise ValidationError(f"restriction {self.id}: fees_permitted must be true or false, got "
                                  f"{self.fees_permitted!r}", field="fees_permitted")
        check_id(self.fund, "fund id")
        _check_name(self.name, "restriction name")
        if not isinstance(self.projects, tuple):
            raise ValidationError(f"restriction {self.id}: projects must be a tuple", field="projects")
        for project in self.projects:
            check_id(project, f"restriction {self.id}: project")
        if self.theme is None and not self.projects:
            raise ValidationError(
                f"restriction {self.id}: give a theme or a list of permitted projects", field="theme"
            )

    def permits(self, project: Project) -> bool:
        """True when money with this restriction may be spent on ``project``."""
        return project.id in self.projects or (self.theme is not None and project.theme == self.theme)

    def describe(self) -> str:
        parts = []
        if self.theme:
            parts.append(f"theme {self.theme}")
        if self.projects:
            parts.append("projects " + ", ".join(self.projects))
        return " or ".join(parts)


@dataclass(frozen=True, slots=True)
class Commitment:
    """An investor's promise of capital to a tranche (a memo figure, not a ledger account)."""

    id: str
    fund: str
    tranche: str
    investor: str
    amount_pence: int
    commitment_date: date
    currency: str = "GBP"

    def __post_init__(self) -> None:
        check_id(self.id, "commitment id")
        check_pence(self.amount_pence, f"commitment {self.id}: amount_pence")
        if self.amount_pence <= 0:
            raise ValidationError(f"commitment {self.id}: amount must be positive", field="amount")
        check_currency(self.currency)


def unfunded_pence(committed_pence: int, called_pence: int) -> int:
    """Unfunded commitment: the part of a commitment not yet called (never below zero)."""
    return max(committed_pence - called_pence, 0)


@dataclass(frozen=True, slots=True)
class FundBook:
    """All the reference data of one fund, for posting rules to look things up in."""

    fund: Fund
    parties: Mapping[str, Party] = field(default_factory=dict)
    tranches: Mapping[str, Tranche] = field(default_factory=dict)
    restrictions: Mapping[str, Restriction] = field(default_factory=dict)
    projects: Mapping[str, Project] = field(default_factory=dict)
    commitments: tuple[Commitment, ...] = ()

    def party(self, party_id: str, kind: str | tuple[str, ...]) -> Party:
        kinds = (kind,) if isinstance(kind, str) else kind
        party = self.parties.get(party_id)
        if party is None or party.kind not in kinds:
            raise NotFound(f"unknown {' or '.join(kinds)} {party_id!r}", field=kinds[0])
        return party

    def investor(self, investor_id: str) -> Party:
        return self.party(investor_id, "investor")

    def tranche(self, tranche_id: str) -> Tranche:
        tranche = self.tranches.get(tranche_id)
        if tranche is None:
            raise NotFound(f"unknown tranche {tranche_id!r} in fund {self.fund.id}", field="tranche")
        return tranche

    def restriction(self, restriction_id: str) -> Restriction:
        restriction = self.restrictions.get(restriction_id)
        if restriction is None:
            raise NotFound(f"unknown restriction {restriction_id!r} in fund {self.fund.id}", field="restriction")
        return restriction

    def project(self, project_id: str) -> Project:
        project = self.projects.get(project_id)
        if project is None:
            raise NotFound(f"unknown project {project_id!r} in fund {self.fund.id}", field="project")
        return project

    def commitments_of(self, tranche_id: str) -> tuple[Commitment, ...]:
        return tuple(c for c in self.commitments if c.tranche == tranche_id)


# ---------------------------------------------------------------------------- setup files


@dataclass(frozen=True, slots=True)
class FundSetup:
    """A fund's reference data as read from a setup file (``fixtures/funds/*.toml``)."""

    fund: Fund
    parties: tuple[Party, ...] = ()
    tranches: tuple[Tranche, ...] = ()
    restrictions: tuple[Restriction, ...] = ()
    projects: tuple[Project, ...] = ()
    commitments: tuple[Commitment, ...] = ()
    #: the fund's statement terms file named by ``[fund] terms``, relative to the setup file
    terms_file: str | None = None


def book_of_setup(setup: "FundSetup") -> FundBook:
    """The :class:`FundBook` a setup describes (for tests and dry runs without a database)."""
    return FundBook(
        setup.fund,
        {p.id: p for p in setup.parties},
        {t.id: t for t in sorted(setup.tranches, key=lambda t: (t.rank, t.id))},
        {r.id: r for r in setup.restrictions},
        {p.id: p for p in setup.projects},
        tuple(setup.commitments),
    )


_SETUP_FIELDS: Mapping[str, frozenset[str]] = {
    "fund": frozenset({"id", "name", "currency", "terms"}),
    "parties": frozenset({"id", "name", "kind", "investor_type"}),
    "tranches": frozenset({"id", "name", "rank", "kind", "return_kind", "return_rate"}),
    "restrictions": frozenset({"id", "name", "theme", "projects", "fees_permitted"}),
    "projects": frozenset({"id", "name", "provider", "theme", "status"}),
    "commitments": frozenset({"id", "tranche", "investor", "amount", "date"}),
}


def fund_setup_from_mapping(data: Mapping, source_name: str) -> FundSetup:
    """Validate a setup file's tables, collecting every problem (``ImportRejected``)."""
    from ledger.errors import FuelError, ImportRejected
    from ledger.money import parse_amount, to_decimal
    from ledger.periods import parse_date

    problems: list[str] = []
    unknown_tables = set(data) - set(_SETUP_FIELDS)
    if unknown_tables:
        problems.append(f"{source_name}: unknown table(s) {', '.join(sorted(unknown_tables))}")
    head = data.get("fund")
    if not isinstance(head, dict):
        raise ImportRejected(f"{source_name}: fund setup rejected", [*problems, f"{source_name}: missing [fund] table"])
    fund: Fund | None = None
    try:
        _no_unknown(head, "fund")
        fund = Fund(head.get("id"), head.get("name"), head.get("currency", "GBP"))
    except FuelError as exc:
        problems.append(f"{source_name}: [fund]: {exc.message}")
    terms_file = head.get("terms")
    if terms_file is not None and (not isinstance(terms_file, str) or not terms_file.strip()):
        problems.append(f"{source_name}: [fund]: terms must be the path of the fund's statement terms file "
                        f"(relative to this file), got {terms_file!r}")
        terms_file = None
    fund_id = fund.id if fund else "?"
    currency = fund.currency if fund else "GBP"

    def rows(table: str):
        items = data.get(table, [])
        if not isinstance(items, list):
            problems.append(f"{source_name}: {table} must be an array of tables ([[{table}]])")
            return
        for index, item in enumerate(items):
            where = f"{source_name}: {table}[{index}]"
            if not isinstance(item, dict):
                problems.append(f"{where}: expected a table")
                continue
            yield where, item

    def build(where: str, item: dict, table: str, make):
        try:
            _no_unknown(item, table)
            return make(item)
        except FuelError as exc:
            problems.append(f"{where}: {exc.message}")
        except (TypeError, ValueError) as exc:
            problems.append(f"{where}: {exc}")
        return None

    def rate(value):
        return None if value is None else to_decimal(value, "return_rate")

    parties = [build(w, i, "parties", lambda r: Party(r.get("id"), r.get("name"), r.get("kind"), r.get("investor_type")))
               for w, i in rows("parties")]
    tranches = [build(w, i, "tranches", lambda r: Tranche(
        r.get("id"), fund_id, r.get("name"), r.get("rank"), r.get("kind", "repayable"), r.get("return_kind", "none"),
        rate(r.get("return_rate")))) for w, i in rows("tranches")]
    restrictions = [build(w, i, "restrictions", lambda r: Restriction(
        r.get("id"), fund_id, r.get("name"), r.get("theme"), tuple(r.get("projects", ())),
        r.get("fees_permitted", False))) for w, i in rows("restrictions")]
    projects = [build(w, i, "projects", lambda r: Project(
        r.get("id"), fund_id, r.get("name"), r.get("provider"), r.get("theme"), r.get("status", "active")))
        for w, i in rows("projects")]
    commitments = [build(w, i, "commitments", lambda r: Commitment(
        r.get("id"), fund_id, r.get("tranche"), r.get("investor"), parse_amount(r.get("amount"), currency, "amount"),
        parse_date(r.get("date"), "date"), currency)) for w, i in rows("commitments")]

    setup = FundSetup(
        fund or Fund("invalid", "invalid"),
        tuple(p for p in parties if p), tuple(t for t in tranches if t), tuple(r for r in restrictions if r),
        tuple(p for p in projects if p), tuple(c for c in commitments if c), terms_file,
    )
    problems += _setup_reference_problems(setup, source_name)
    if problems:
        raise ImportRejected(f"{source_name}: fund setup rejected", problems)
    return setup


def _no_unknown(item: Mapping, table: str) -> None:
    unknown = set(item) - _SETUP_FIELDS[table]
    if unknown:
        raise ValidationError(f"unknown field(s) {', '.join(sorted(unknown))}")


def _setup_reference_problems(setup: FundSetup, source_name: str) -> list[str]:
    """Within-file links: duplicates, a commitment's investor and tranche, a project's provider.
    Links to rows already in the database are checked when the setup is saved."""
    problems = []
    for table in ("parties", "tranches", "restrictions", "projects", "commitments"):
        seen: set[str] = set()
        for item in getattr(setup, table):
            if item.id in seen:
                problems.append(f"{source_name}: {table}: duplicate id {item.id!r}")
            seen.add(item.id)
    return problems
