"""A fund's statement terms in the database: versioned, dated, immutable (``fund_terms``).

``store_terms`` checks a terms file and its waterfall (parsed by
:func:`ledger.capital_accounts.fund_terms_from_mapping`, the one parser), refuses terms for a
fund that does not exist or whose waterfall tranches are not the fund's, and stores the two
texts as a new version. Loading the same texts again is a no-op. ``terms_for`` re-parses the
version that applies on a date, so every reader (``fuel statements``, ``fuel distribute``, the
API, the pages, the demo) builds on the stored terms and the parser of today. Rules:
``docs/statements.md``.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, func, select

from ledger.capital_accounts import FundTerms, check_terms_match, fund_terms_from_mapping
from ledger.errors import IdempotencyConflict, ImportRejected, NotFound, ValidationError
from models.fund_tables import CommitmentRow, FundRow, TrancheRow
from models.ledger_store import closed_through, postings_t, utc_now
from models.terms_tables import FundTermsRow

terms_t = FundTermsRow.__table__
NO_TERMS_HINT = "load them with `fuel terms load FILE`"


@dataclass(frozen=True, slots=True)
class TermsSource:
    """A terms file and the waterfall file it names, as text (``waterfall_text`` None: it names none)."""

    terms_text: str
    terms_name: str
    waterfall_text: str | None
    waterfall_name: str


@dataclass(frozen=True, slots=True)
class TermsVersion:
    """One stored version of a fund's terms (without the texts)."""

    fund: str
    version: int
    effective_from: date
    terms_name: str
    terms_sha256: str
    waterfall_name: str
    waterfall_sha256: str
    loaded_at: datetime
    loaded_by: str

    def as_dict(self) -> dict:
        return {"fund": self.fund, "version": self.version, "effective_from": self.effective_from.isoformat(),
                "terms_name": self.terms_name, "terms_sha256": self.terms_sha256,
                "waterfall_name": self.waterfall_name, "waterfall_sha256": self.waterfall_sha256,
                "loaded_at": self.loaded_at.isoformat(timespec="seconds"), "loaded_by": self.loaded_by}


def parse_terms(source: TermsSource) -> FundTerms:
    """The terms a source holds, every problem reported together (``ImportRejected``)."""
    try:
        data = tomllib.loads(source.terms_text)
    except tomllib.TOMLDecodeError as exc:
        raise ImportRejected(f"{source.terms_name}: not valid TOML", [f"{source.terms_name}: {exc}"]) from None
    return fund_terms_from_mapping(data, source.terms_name, source.waterfall_text, source.waterfall_name)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _version(row) -> TermsVersion:
    return TermsVersion(row.fund_id, row.version, _as_date(row.effective_from), row.terms_name, row.terms_sha256,
                        row.waterfall_name, row.waterfall_sha256, row.loaded_at, row.loaded_by)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def fund_start(conn: Connection, fund_id: str) -> date | None:
    """The fund's first dated fact: its earliest commitment or ledger posting (None: neither yet)."""
    commitments = CommitmentRow.__table__
    first = [conn.execute(select(func.min(commitments.c.commitment_date)).where(commitments.c.fund_id == fund_id)).scalar(),
             conn.execute(select(func.min(postings_t.c.effective_date)).where(postings_t.c.fund == fund_id)).scalar()]
    days = [_as_date(d) for d in first if d is not None]
    return min(days) if days else None


def store_terms(conn: Connection, source: TermsSource, *, effective_from: date | None = None,
                loaded_by: str = "fuel", fund: str | None = None) -> tuple[TermsVersion, str]:
    """Check and store a fund's terms. Returns the version and ``added`` or ``unchanged``.

    The first version applies from ``effective_from``, by default the fund's start (its first
    commitment or posting; today when it has neither). A later version must apply from a later
    date (default: today), not inside a closed period: statements already issued for a closed
    quarter never change. ``fund``, when given, is the fund the caller expects the terms to name.
    """
    terms = parse_terms(source)
    where = source.terms_name
    if fund is not None and terms.fund != fund:
        raise ValidationError(f"{where}: the terms are for fund {terms.fund}, not {fund}", field="fund")
    tranches = TrancheRow.__table__
    if conn.execute(select(FundRow.__table__.c.id).where(FundRow.__table__.c.id == terms.fund)).first() is None:
        raise NotFound(f"{where}: fund {terms.fund!r} does not exist: load the fund first (`fuel fund load FILE`)",
                       field="fund")
    ranks = dict(conn.execute(select(tranches.c.id, tranches.c.rank).where(tranches.c.fund_id == terms.fund)).all())
    check_terms_match(terms, ranks)
    hashes = {"terms_sha256": _sha256(source.terms_text), "waterfall_sha256": _sha256(source.waterfall_text or "")}
    latest_row = conn.execute(select(terms_t).where(terms_t.c.fund_id == terms.fund)
                              .order_by(terms_t.c.version.desc()).limit(1)).first()
    latest = _version(latest_row) if latest_row is not None else None
    if latest is not None and (latest.terms_sha256, latest.waterfall_sha256) == tuple(hashes.values()):
        if effective_from is not None and effective_from != latest.effective_from:
            raise IdempotencyConflict(
                f"{where}: these terms are already fund {terms.fund}'s version {latest.version}, effective from "
                f"{latest.effective_from}; a stored version's date cannot change (load changed terms to make a new one)")
        return latest, "unchanged"
    if latest is None:
        day = effective_from or fund_start(conn, terms.fund) or date.today()
    else:
        day = effective_from or date.today()
        if day <= latest.effective_from:
            raise ValidationError(
                f"{where}: fund {terms.fund}'s version {latest.version} applies from {latest.effective_from}; "
                f"a new version must apply from a later date, not {day} (give --effective-from)", field="effective_from")
        lock_end = closed_through(conn)
        if lock_end is not None and day < lock_end:
            raise ValidationError(
                f"{where}: effective from {day} is inside a closed period (closed through {lock_end}): statements "
                f"already issued would change; give a date on or after {lock_end}", field="effective_from")
    row = {"fund_id": terms.fund, "version": (latest.version if latest else 0) + 1, "effective_from": day,
           "terms_name": where[:500], "terms_text": source.terms_text, "waterfall_name": source.waterfall_name[:500],
           "waterfall_text": source.waterfall_text, **hashes, "loaded_at": utc_now(), "loaded_by": loaded_by[:100]}
    conn.execute(terms_t.insert().values(**row))
    return _version(conn.execute(select(terms_t).where(terms_t.c.fund_id == terms.fund,
                                                       terms_t.c.version == row["version"])).one()), "added"


def list_terms(conn: Connection, fund: str | None = None) -> list[TermsVersion]:
    """Every stored version, by fund and version (one fund's when ``fund`` is given)."""
    query = select(terms_t).order_by(terms_t.c.fund_id, terms_t.c.version)
    if fund is not None:
        query = query.where(terms_t.c.fund_id == fund)
    return [_version(row) for row in conn.execute(query)]


def applicable_terms(conn: Connection, fund_id: str, as_of: date) -> tuple[TermsVersion, TermsSource, FundTerms]:
    """The version of the fund's terms that applies on ``as_of``, its texts and the terms parsed."""
    row = conn.execute(select(terms_t).where(terms_t.c.fund_id == fund_id, terms_t.c.effective_from <= as_of)
                       .order_by(terms_t.c.effective_from.desc()).limit(1)).first()
    if row is None:
        if conn.execute(select(FundRow.__table__.c.id).where(FundRow.__table__.c.id == fund_id)).first() is None:
            raise NotFound(f"unknown fund {fund_id!r}", field="fund")
        first = conn.execute(select(func.min(terms_t.c.effective_from)).where(terms_t.c.fund_id == fund_id)).scalar()
        if first is None:
            raise ValidationError(f"fund {fund_id} has no statement terms: {NO_TERMS_HINT}", field="terms")
        raise ValidationError(f"fund {fund_id}'s statement terms apply from {_as_date(first)}; none apply on {as_of}",
                              field="terms")
    source = TermsSource(row.terms_text, row.terms_name, row.waterfall_text, row.waterfall_name)
    return _version(row), source, parse_terms(source)


def terms_for(conn: Connection, fund_id: str, as_of: date) -> FundTerms:
    """The fund's statement terms that apply on ``as_of`` (a statement's last day, a distribution's date)."""
    return applicable_terms(conn, fund_id, as_of)[2]
