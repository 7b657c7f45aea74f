"""Payment-by-results service: contracts, the participant register, outcome imports, claim runs,
the claim lifecycle with its ledger postings, validation samples and clawbacks.

Every function takes a SQLAlchemy ``Connection`` already inside a transaction (the CLI opens
it), so a refused file or a failed step writes nothing. Frames are read with ``pd.read_sql``
and written with one bulk insert per table: nothing loops per event in Python.

The claim run, in stages (each stage a pure function of ``ledger.pbr``):

1. events of the contract not yet in any claim run, achieved before the period's end;
2. :func:`ledger.pbr.eligibility.validate_events` against the participant register and the
   lines accepted by earlier runs (disputed lines do not count);
3. :func:`ledger.pbr.claims.run_claim` with :class:`PriorPaid` summed in SQL from earlier runs;
4. clawbacks still outstanding from validation samples are taken from the run's net
   (:func:`ledger.pbr.sampling.schedule_clawback`), split over payers pro rata to their shares
   (:func:`ledger.money.allocate`);
5. the run, its lines, payer shares and per-payer totals are stored; status ``validated``.

Lifecycle: ``submitted -> validated -> approved -> invoiced -> paid``; lines may be disputed
while the run is ``validated``. Approval posts, per payer, Dr ``outcome_payments_receivable``
(counterparty = payer) / Cr ``outcome_income`` (project), both in the contract's fund and the
``public`` source; a clawback is a debit to ``outcome_income``. Payment posts Dr ``cash`` / Cr
``outcome_payments_receivable``. Entry keys are ``pbr-approve:<contract>:<period>:<payer>``
and ``pbr-pay:<contract>:<period>:<payer>``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, replace
import os
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, case, exists, func, select

from ledger.errors import ImportRejected, InvariantBroken, NotFound, ValidationError
from ledger.money import allocate
from ledger.pbr.claims import CAP_KINDS, PriorPaid, reduction_column, run_claim, share_column, payer_reduction_column
from ledger.pbr import mechanism_claims
from ledger.pbr.contracts import Contract, load_contract_toml
from ledger.pbr.mechanism_claims import PREFIX as MECHANISM_PREFIX
from ledger.pbr.eligibility import validate_event_rows, validate_events, validate_participants
from ledger.csv_shape import shape_problems
from ledger.pbr.personal_data import birth_date_columns, birth_date_refusal, identifying_columns, identifying_values
from ledger.pbr.personal_data import refusal as personal_data_refusal
from ledger.pbr.sampling import assess_sample, schedule_clawback, select_sample
from ledger.periods import Period
from ledger.postings import EntryDraft, Posting
from models.evidence_store import seal
from models.ledger_store import post_entries, utc_now
from models.pbr_tables import (
    PbrClaimLineRow,
    PbrClaimRunRow,
    PbrClawbackRow,
    PbrContractRow,
    PbrImportRow,
    PbrLineDisputeRow,
    PbrLineShareRow,
    PbrMechanismResultRow,
    PbrOutcomeEventRow,
    PbrParticipantRow,
    PbrRunPayerRow,
    PbrSampleRow,
    PbrTransitionRow,
    PbrRunRevisionRow,
)

contracts_t = PbrContractRow.__table__
imports_t = PbrImportRow.__table__
participants_t = PbrParticipantRow.__table__
events_t = PbrOutcomeEventRow.__table__
runs_t = PbrClaimRunRow.__table__
lines_t = PbrClaimLineRow.__table__
shares_t = PbrLineShareRow.__table__
run_payers_t = PbrRunPayerRow.__table__
disputes_t = PbrLineDisputeRow.__table__
transitions_t = PbrTransitionRow.__table__
samples_t = PbrSampleRow.__table__
clawbacks_t = PbrClawbackRow.__table__
mechanism_results_t = PbrMechanismResultRow.__table__
revisions_t = PbrRunRevisionRow.__table__

#: Outcome payments are public money (DESIGN.md section 2: council or central government money).
OUTCOME_SOURCE = "public"
RECEIVABLE = "outcome_payments_receivable"
INCOME = "outcome_income"

PARTICIPANT_FIXED = ("participant_id", "start_date", "cohort", "partner")
OUTCOME_COLUMNS = ("participant_id", "outcome_id", "achieved_on", "evidence_ref", "submitted_on")
ID_MAX_CHARS = 64
EVIDENCE_MAX_CHARS = 200
#: Biggest file accepted in one import; split bigger submissions.
ROWS_MAX = 2_000_000

LINE_COLUMNS = [
    "line_no", "participant_id", "outcome_id", "achieved_on", "evidence_ref", "accepted", "reason",
    "rate_card_version", "price_pence", "gross_pence", *[reduction_column(k) for k in CAP_KINDS],
    "net_pence", "cap_reason", "cap_applied", "participant_paid_cum_pence", "participant_headroom_pence",
]  # fmt: skip


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain Python values (ints, bools, dates, None) for a bulk insert."""
    out = frame.astype(object).where(frame.notna(), None)
    return out.to_dict("records")


# ---------------------------------------------------------------------------- contracts


def load_contract(conn: Connection, text: str, source_name: str, loaded_by: str = "fuel",
                  only_fund: str | None = None) -> tuple[Contract, str]:
    """Check and store a contract file. Returns the contract and ``added``/``unchanged``/``updated``.

    The fund: the file's ``fund``, else ``only_fund`` (a fund manager's load), else the
    database's only fund, else none (postings then carry no fund dimension). Everything is
    checked before anything is stored: a fund manager's file must be for its own fund, and a
    contract never changes fund (a file with another fund's contract id is refused, without
    naming that fund). A contract that already has claim runs cannot be changed: load the new
    terms under a new id.
    """
    contract = load_contract_toml(text, source_name)
    fund = contract.fund or only_fund or _default_fund(conn, contract.contract_id)
    if only_fund is not None and fund != only_fund:
        raise NotFound(f"unknown fund {fund!r}: contracts may be loaded for fund {only_fund!r} only", field="fund")
    contract = replace(contract, fund=fund)
    _check_fund_dimensions(conn, contract)
    row = {
        "id": contract.contract_id, "name": contract.name, "project": contract.project,
        "provider": contract.provider, "fund": fund, "currency": contract.currency,
        "source_name": source_name[:500], "toml_text": text, "content_hash": _hash(text),
        "loaded_at": utc_now(), "loaded_by": loaded_by,
    }  # fmt: skip
    existing = conn.execute(select(contracts_t).where(contracts_t.c.id == contract.contract_id)).mappings().first()
    if existing is not None and existing["fund"] != fund and (existing["fund"] is not None or only_fund is not None):
        raise ValidationError(f"contract id {contract.contract_id!r} is already used by another fund's contract; "
                              "a contract never changes fund: choose another id", field="id")
    if existing is None:
        conn.execute(contracts_t.insert().values(**row))
        seal(conn, "contract", contracts_t.c.id == contract.contract_id)
        return contract, "added"
    if existing["content_hash"] == row["content_hash"] and existing["fund"] == fund:
        return contract, "unchanged"
    runs = conn.execute(select(func.count()).where(runs_t.c.contract_id == contract.contract_id)).scalar_one()
    if runs:
        raise ValidationError(
            f"contract {contract.contract_id} already has {runs} claim run(s); its terms cannot change. "
            "Load the new terms under a new contract id",
            field="id",
        )
    # Allowed only while no claim run relies on the contract (a trigger refuses it after); the
    # new terms are sealed as the contract's next version in the evidence chain.
    conn.execute(contracts_t.update().where(contracts_t.c.id == contract.contract_id).values(**row))
    seal(conn, "contract", contracts_t.c.id == contract.contract_id)
    return contract, "updated"


def _check_fund_dimensions(conn: Connection, contract: Contract) -> None:
    """A contract's fund exists, its currency is the fund's, and its project is that fund's (a
    project of no fund, or of another, is refused without naming the other fund). Migration
    0025's triggers refuse a posting whose dimensions break the same rules."""
    from models.fund_tables import FundRow, ProjectRow

    funds, projects = FundRow.__table__, ProjectRow.__table__
    if contract.fund is None or conn.execute(select(funds.c.id).limit(1)).first() is None:
        return  # a PbR-only database (no fund set up): the fund is a label; the triggers agree
    currency = conn.execute(select(funds.c.currency).where(funds.c.id == contract.fund)).scalar()
    if currency is None:
        raise NotFound(f"contract {contract.contract_id}: unknown fund {contract.fund!r}; load the fund's setup "
                       "first (`fuel fund load`)", field="fund")
    if contract.currency != currency:
        raise ValidationError(f"contract {contract.contract_id}: currency {contract.currency} is not fund "
                              f"{contract.fund}'s currency ({currency})", field="currency")
    from models.fund_tables import PartyRow

    parties = PartyRow.__table__
    payers = set(conn.execute(select(parties.c.id).where(parties.c.id.in_(contract.payer_ids),
                                                         parties.c.kind == "payer")).scalars())
    for payer in contract.payer_ids:
        if payer not in payers:
            raise NotFound(f"contract {contract.contract_id}: payer {payer!r} is not a payer party; add it first "
                           "(`fuel payers add`, or the fund's setup)", field="payers")
    owner = conn.execute(select(projects.c.fund_id).where(projects.c.id == contract.project)).scalar()
    if owner != contract.fund:
        raise NotFound(f"contract {contract.contract_id}: project {contract.project!r} is not a project of fund "
                       f"{contract.fund}; add it to the fund's setup first", field="project")


def _default_fund(conn: Connection, contract_id: str) -> str | None:
    from models.fund_tables import FundRow

    ids = list(conn.execute(select(FundRow.__table__.c.id).order_by(FundRow.__table__.c.id)).scalars())
    if len(ids) > 1:
        raise ValidationError(
            f"contract {contract_id} names no fund and the database has several ({', '.join(ids)}): "
            'add fund = "..." to the contract file',
            field="fund",
        )
    return ids[0] if ids else None


def get_contract(conn: Connection, contract_id: str) -> Contract:
    row = conn.execute(select(contracts_t).where(contracts_t.c.id == contract_id)).mappings().first()
    if row is None:
        known = list(conn.execute(select(contracts_t.c.id).order_by(contracts_t.c.id)).scalars())
        hint = f" (known: {', '.join(known)})" if known else " (none loaded yet: run `fuel contracts load FILE`)"
        raise NotFound(f"unknown contract {contract_id!r}{hint}", field="contract")
    return replace(load_contract_toml(row["toml_text"], row["source_name"]), fund=row["fund"])


def list_contracts(conn: Connection) -> list[dict]:
    rows = conn.execute(select(contracts_t).order_by(contracts_t.c.id)).mappings().all()
    return [{k: r[k] for k in ("id", "name", "project", "provider", "fund", "currency", "loaded_by")} for r in rows]


# ---------------------------------------------------------------------------- CSV reading


def read_csv_text(text: str, source_name: str) -> pd.DataFrame:
    """Every column as text; blanks stay blank (``""``), nothing is guessed."""
    text = text.removeprefix("\ufeff")  # a byte-order mark from spreadsheet exports
    if not text.strip():
        raise ImportRejected(f"{source_name}: file rejected (1 problem)", [f"{source_name}: the file is empty"])
    shape = shape_problems(text, source_name)
    if shape:
        count = len(shape)
        raise ImportRejected(f"{source_name}: file rejected ({count} problem{'s' if count != 1 else ''})", shape)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=False)
    except pd.errors.ParserError as exc:
        raise ImportRejected(f"{source_name}: file rejected (1 problem)", [f"{source_name}: not valid CSV: {exc}"]) from None
    header = [name.strip() for name in next(csv.reader(io.StringIO(text.splitlines()[0])))]
    blank = [i + 1 for i, name in enumerate(header) if not name]
    twice = sorted({name for name in header if name and header.count(name) > 1})
    if blank or twice:
        problem = (f"{source_name}: column {blank[0]} of the header has no name" if blank
                   else f"{source_name}: column {twice[0]!r} appears more than once in the header")
        raise ImportRejected(f"{source_name}: file rejected (1 problem)", [problem])
    frame.columns = header
    if len(frame) == 0:
        raise ImportRejected(f"{source_name}: file rejected (1 problem)", [f"{source_name}: no rows after the header"])
    if len(frame) > ROWS_MAX:
        raise ImportRejected(
            f"{source_name}: file rejected (1 problem)",
            [f"{source_name}: {len(frame)} rows is more than {ROWS_MAX}; split the file"],
        )
    frame.insert(0, "row_number", np.arange(2, len(frame) + 2))
    return frame


def _cells(frame: pd.DataFrame):
    """``(row_number, {column: value})`` for every row, the values as text."""
    columns = [c for c in frame.columns if c != "row_number"]
    for row_number, *values in frame[["row_number", *columns]].itertuples(index=False, name=None):
        yield int(row_number), dict(zip(columns, values))


def _too_long(frame: pd.DataFrame, column: str, limit: int, source_name: str) -> list[tuple[int, str]]:
    if column not in frame.columns:
        return []
    long = frame[column].astype(str).str.strip().str.len() > limit
    return [(int(r), f"{source_name}: row {int(r)}: {column}: longer than {limit} characters")
            for r in frame.loc[long, "row_number"]]  # fmt: skip


def _rejected(source_name: str, what: str, messages: list[tuple[int, str]]) -> ImportRejected:
    messages.sort(key=lambda m: m[0])
    count = len(messages)
    return ImportRejected(f"{source_name}: {what} rejected ({count} problem{'s' if count != 1 else ''})",
                          [m for _, m in messages[:200]])


def _start_import(conn: Connection, contract_id: str, kind: str, text: str, file_name: str, rows: int, by: str) -> int | None:
    """Record the file; ``None`` if the very same file was imported before (a no-op)."""
    digest = _hash(text)
    seen = conn.execute(
        select(imports_t.c.id).where(imports_t.c.contract_id == contract_id, imports_t.c.kind == kind,
                                     imports_t.c.file_hash == digest)
    ).first()
    if seen is not None:
        return None
    result = conn.execute(imports_t.insert().values(
        contract_id=contract_id, kind=kind, file_name=file_name[:500], file_hash=digest, row_count=rows,
        imported_at=utc_now(), imported_by=by,
    ))  # fmt: skip
    return int(result.inserted_primary_key[0])


# ---------------------------------------------------------------------------- participants


@dataclass(frozen=True)
class ImportReport:
    file_name: str
    contract_id: str
    rows: int
    added: int
    already_known: int
    status: str  # "imported" or "already imported"
    #: rows the contract's rules will reject, as found at import: (row, participant, outcome, reason)
    rejected: tuple[tuple[int, str, str, str], ...] = ()

    def reasons(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for *_, reason in self.rejected:
            counts[reason] = counts.get(reason, 0) + 1
        return counts

    def as_dict(self) -> dict:
        return {
            "file": self.file_name, "contract": self.contract_id, "rows": self.rows, "added": self.added,
            "already_known": self.already_known, "status": self.status, "rejected_by_reason": self.reasons(),
            "rejected": [{"row": r, "participant_id": p, "outcome_id": o, "reason": why} for r, p, o, why in self.rejected],
        }  # fmt: skip


def import_participants(conn: Connection, contract_id: str, text: str, file_name: str, by: str = "fuel") -> ImportReport:
    """Add participants to a contract's register from CSV: ``participant_id, start_date`` and
    optional ``cohort`` and ``partner`` (the delivery partner of a joint-prime contract, blank =
    the prime's own; see docs/joint-prime.md); any other column is kept as an attribute. All or
    nothing.

    A participant already registered with the same details is skipped; one registered with
    different details is refused (the register is corrected explicitly, never by a re-import).
    """
    contract = get_contract(conn, contract_id)
    frame = read_csv_text(text, file_name)
    identifying = identifying_columns(list(frame.columns))
    if identifying:  # DESIGN.md section 8: pseudonymous ids only (ledger/pbr/personal_data.py)
        raise _rejected(file_name, "participant register", [(0, personal_data_refusal(file_name, identifying[0]))])
    birth = birth_date_columns(list(frame.columns))
    if birth:
        raise _rejected(file_name, "participant register", [(0, birth_date_refusal(file_name, birth[0]))])
    found = identifying_values(_cells(frame), file_name)
    if found:
        raise _rejected(file_name, "participant register", found)
    try:
        checked = validate_participants(frame, file_name)
    except ImportRejected as exc:
        raise _rejected(file_name, "participant register", [(0, p) for p in exc.problems]) from None
    problems = _too_long(frame, "participant_id", ID_MAX_CHARS, file_name) + _too_long(frame, "cohort", ID_MAX_CHARS, file_name)
    problems += _unknown_partners(frame, contract, file_name)
    if problems:
        raise _rejected(file_name, "participant register", problems)
    attribute_columns = [c for c in frame.columns if c not in (*PARTICIPANT_FIXED, "row_number")]
    rows = pd.DataFrame({
        "contract_id": contract_id,
        "participant_id": checked["participant_id"].astype(str),
        "start_date": checked["start_date"].dt.date,
        "cohort": frame["cohort"].str.strip().replace("", None) if "cohort" in frame.columns else None,
        "partner_id": frame["partner"].str.strip().replace("", None) if "partner" in frame.columns else None,
        "attributes": [json.dumps(dict(zip(attribute_columns, values)), sort_keys=True)
                       for values in frame[attribute_columns].itertuples(index=False, name=None)]
        if attribute_columns else "{}",
        "row_number": frame["row_number"],
    })  # fmt: skip
    existing = pd.read_sql(
        select(participants_t.c.participant_id, participants_t.c.start_date, participants_t.c.cohort,
               participants_t.c.attributes, participants_t.c.partner_id)
        .where(participants_t.c.contract_id == contract_id), conn,
    )  # fmt: skip
    existing["start_date"] = pd.to_datetime(existing["start_date"]).dt.date
    merged = rows.merge(existing, on="participant_id", how="left", suffixes=("", "_stored"), indicator=True)
    known = merged["_merge"] == "both"
    differs = known & (
        (merged["start_date"] != merged["start_date_stored"])
        | (merged["cohort"].fillna("") != merged["cohort_stored"].fillna(""))
        | (merged["attributes"] != merged["attributes_stored"])
        | (merged["partner_id"].fillna("") != merged["partner_id_stored"].fillna(""))
    )
    if differs.any():
        bad = merged[differs]
        raise _rejected(file_name, "participant register", [
            (int(r.row_number), f"{file_name}: row {int(r.row_number)}: participant_id: {r.participant_id!r} is already "
             f"registered with start_date {r.start_date_stored}, cohort {r.cohort_stored or '-'} and other details; "
             "a re-import cannot change a registered participant")
            for r in bad.itertuples()
        ])  # fmt: skip
    import_id = _start_import(conn, contract_id, "participants", text, file_name, len(rows), by)
    if import_id is None:
        return ImportReport(file_name, contract_id, len(rows), 0, len(rows), "already imported")
    new = rows[~known.to_numpy()].drop(columns=["row_number"]).assign(import_id=import_id)
    if len(new):
        conn.execute(participants_t.insert(), _records(new))
    return ImportReport(file_name, contract_id, len(rows), len(new), int(known.sum()), "imported")


def _unknown_partners(frame: pd.DataFrame, contract: Contract, file_name: str) -> list[tuple[int, str]]:
    """Rows whose ``partner`` is not one of the contract's ``[[partners]]``."""
    if "partner" not in frame.columns:
        return []
    named = frame["partner"].astype(str).str.strip()
    bad = (named != "") & ~named.isin(list(contract.partner_ids))
    known = ", ".join(contract.partner_ids) or "none: the contract has no [[partners]]"
    return [(int(r), f"{file_name}: row {int(r)}: partner: {p!r} is not a partner of contract "
                     f"{contract.contract_id} (partners: {known})")
            for r, p in zip(frame.loc[bad, "row_number"], named[bad])]  # fmt: skip


def participant_register(conn: Connection, contract_id: str) -> pd.DataFrame:
    frame = pd.read_sql(
        select(participants_t.c.participant_id, participants_t.c.start_date, participants_t.c.cohort)
        .where(participants_t.c.contract_id == contract_id).order_by(participants_t.c.participant_id), conn,
    )  # fmt: skip
    frame["start_date"] = pd.to_datetime(frame["start_date"]).astype("datetime64[ns]")
    return frame


# ---------------------------------------------------------------------------- outcome events


def _check_outcome_frame(frame: pd.DataFrame, file_name: str) -> pd.DataFrame:
    unknown = [c for c in frame.columns if c not in (*OUTCOME_COLUMNS, "row_number")]
    if unknown:
        raise ImportRejected(f"{file_name}: outcome events rejected (1 problem)", [
            f"{file_name}: unknown column {unknown[0]!r} (known: {', '.join(OUTCOME_COLUMNS)}); outcome files carry "
            "no personal data: put participant details in the participant register"
        ])  # fmt: skip
    found = identifying_values(_cells(frame), file_name)
    if found:
        raise _rejected(file_name, "outcome events", found)
    try:
        checked = validate_event_rows(frame, file_name)
    except ImportRejected as exc:
        raise _rejected(file_name, "outcome events", [(0, p) for p in exc.problems]) from None
    problems = (_too_long(frame, "participant_id", ID_MAX_CHARS, file_name)
                + _too_long(frame, "outcome_id", ID_MAX_CHARS, file_name)
                + _too_long(frame, "evidence_ref", EVIDENCE_MAX_CHARS, file_name))  # fmt: skip
    if problems:
        raise _rejected(file_name, "outcome events", problems)
    return checked


def _accepted_before(conn: Connection, contract_id: str) -> pd.DataFrame:
    """Lines accepted by this contract's claim runs so far (disputed lines excluded)."""
    query = (
        select(lines_t.c.participant_id, lines_t.c.outcome_id, lines_t.c.achieved_on)
        .select_from(lines_t.join(runs_t, runs_t.c.id == lines_t.c.run_id))
        .where(runs_t.c.contract_id == contract_id, lines_t.c.accepted.is_(True), ~_disputed(lines_t),
               ~_is_mechanism(lines_t))
    )
    frame = pd.read_sql(query, conn)
    frame["achieved_on"] = pd.to_datetime(frame["achieved_on"]).astype("datetime64[ns]")
    return frame


def _is_mechanism(table):
    """A mechanism line or event (``ledger/pbr/mechanism_claims.py``): outcome id ``mechanism:...``."""
    return table.c.outcome_id.like(f"{MECHANISM_PREFIX}%")


def _disputed(lines):
    return exists().where(disputes_t.c.run_id == lines.c.run_id, disputes_t.c.line_no == lines.c.line_no)


def _unclaimed_events(conn: Connection, contract_id: str, before: date | None = None) -> pd.DataFrame:
    query = select(
        events_t.c.id, events_t.c.participant_id, events_t.c.outcome_id, events_t.c.achieved_on,
        events_t.c.evidence_ref, events_t.c.submitted_on, events_t.c.import_reason, events_t.c.received_at,
    ).where(events_t.c.contract_id == contract_id, ~exists().where(lines_t.c.event_id == events_t.c.id))  # fmt: skip
    if before is not None:
        query = query.where(events_t.c.achieved_on < before)
    frame = pd.read_sql(query.order_by(events_t.c.id), conn)
    for column in ("achieved_on", "submitted_on", "received_at"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
    frame["submitted_on"] = _deadline_day(frame, _run_times(conn, contract_id))
    return frame.drop(columns=["received_at"])


def received_now() -> datetime:
    """Fuel's clock for receipts: now, or noon of ``FUEL_TODAY`` (YYYY-MM-DD), an operator's
    setting for rehearsals and tests with dated files (never a value from the file itself)."""
    override = os.environ.get("FUEL_TODAY")
    if override:
        return datetime.combine(date.fromisoformat(override), time(12))
    return utc_now()


def _run_times(conn: Connection, contract_id: str) -> pd.DataFrame:
    frame = pd.read_sql(select(runs_t.c.period_end, runs_t.c.created_at).where(runs_t.c.contract_id == contract_id),
                        conn)  # fmt: skip
    frame["period_end"] = pd.to_datetime(frame["period_end"]).astype("datetime64[ns]")
    frame["created_at"] = pd.to_datetime(frame["created_at"]).astype("datetime64[ns]")
    return frame


def _deadline_day(events: pd.DataFrame, runs: pd.DataFrame) -> pd.Series:
    """The submission day a claim deadline is judged on. A late outcome (Fuel received it after a
    claim run covering its achievement date was made, so it falls into a later claim) counts as
    submitted when Fuel received it: a backdated ``submitted_on`` cannot bring it in on time."""
    submitted = events["submitted_on"]
    if runs.empty or events.empty:
        return submitted
    received = events["received_at"]
    late = pd.Series(False, index=events.index)
    for period_end, created_at in zip(runs["period_end"], runs["created_at"]):
        late |= (events["achieved_on"] < period_end) & received.notna() & (received > created_at)
    received_day = received.dt.normalize()
    return submitted.where(~late | (submitted >= received_day), received_day)


def import_outcomes(
    conn: Connection, contract_id: str, text: str, file_name: str, by: str = "fuel", submitted_on: date | None = None,
    *, received_at: datetime | None = None,
) -> ImportReport:
    """Store a provider's outcome events from CSV, all or nothing.

    Columns: ``participant_id, outcome_id, achieved_on`` and optional ``evidence_ref``,
    ``submitted_on`` (default: ``submitted_on`` given here, else today). A malformed file
    (missing column, blank id, a date that is not YYYY-MM-DD, an unknown column, a
    ``submitted_on`` before ``achieved_on`` or after today, ...) is refused whole. Fuel records
    when it received the rows (``received_at``: its own clock, ``received_now``; in-process
    callers replaying history may pass it). Well-formed rows that break the contract's rules are stored with the reason code the
    import found, and listed in the report; the claim run makes the final decision.
    """
    contract = get_contract(conn, contract_id)
    frame = read_csv_text(text, file_name)
    received = received_at or received_now()
    day = submitted_on or received.date()
    checked = _check_outcome_frame(frame, file_name)
    if "submitted_on" not in checked.columns:
        checked["submitted_on"] = pd.Timestamp(day)
    # The file's own submitted_on was checked against achieved_on with the other cells; a date
    # given for the whole file is checked here, as is every row against the day Fuel received it.
    early = checked["submitted_on"] < checked["achieved_on"]
    future = checked["submitted_on"] > pd.Timestamp(received.date())
    if early.any() or future.any():
        raise _rejected(file_name, "outcome events", sorted(
            [(row, f"{file_name}: row {row}: submitted_on: {sub.date()} is before achieved_on {ach.date()}; an "
                   "outcome cannot be submitted before it is achieved")
             for row, sub, ach in zip(checked["row_number"][early], checked["submitted_on"][early],
                                      checked["achieved_on"][early])]
            + [(row, f"{file_name}: row {row}: submitted_on: {sub.date()} is after today ({received.date()}, when "
                     "Fuel received the file); a submission cannot be dated in the future")
               for row, sub in zip(checked["row_number"][future], checked["submitted_on"][future])]))  # fmt: skip
    import_id = _start_import(conn, contract_id, "outcomes", text, file_name, len(checked), by)
    if import_id is None:
        return ImportReport(file_name, contract_id, len(checked), 0, len(checked), "already imported")

    # Judge the new rows together with the events already waiting, after what runs accepted.
    pending = _unclaimed_events(conn, contract_id)
    pending = pending[(pending["import_reason"] == "") & ~pending["outcome_id"].astype(str).str.startswith(MECHANISM_PREFIX)]
    offset = int(checked["row_number"].max()) + 1
    both = pd.concat([
        checked[["row_number", "participant_id", "outcome_id", "achieved_on", "evidence_ref", "submitted_on"]],
        pending.assign(row_number=-(offset + pending["id"]))[  # earlier events: before any new row on a tie
            ["row_number", "participant_id", "outcome_id", "achieved_on", "evidence_ref", "submitted_on"]],
    ], ignore_index=True)  # fmt: skip
    both["row_number"] = both["row_number"].astype(np.int64)
    new_rows = both["row_number"] > 0
    judged = both[new_rows].assign(received_at=pd.Timestamp(received))
    both.loc[new_rows, "submitted_on"] = _deadline_day(judged, _run_times(conn, contract_id))
    assessed = validate_events(
        both, contract, participant_register(conn, contract_id), prior_events=_accepted_before(conn, contract_id),
        source_name=file_name,
    )
    new = assessed[assessed["row_number"] > 0].sort_values("row_number")
    rows = pd.DataFrame({
        "contract_id": contract_id, "import_id": import_id, "row_number": new["row_number"].to_numpy(),
        "participant_id": new["participant_id"].astype(str).to_numpy(),
        "outcome_id": new["outcome_id"].astype(str).to_numpy(),
        "achieved_on": new["achieved_on"].dt.date.to_numpy(),
        "evidence_ref": new["evidence_ref"].astype(object).where(new["evidence_ref"].notna(), None).to_numpy(),
        "submitted_on": checked.set_index("row_number").loc[new["row_number"], "submitted_on"].dt.date.to_numpy(),
        "import_reason": new["reason"].astype(str).to_numpy(),
        "received_at": received,
    })  # fmt: skip
    conn.execute(events_t.insert(), _records(rows))
    bad = rows[rows["import_reason"] != ""]
    rejected = tuple(zip(bad["row_number"].astype(int), bad["participant_id"], bad["outcome_id"], bad["import_reason"]))
    return ImportReport(file_name, contract_id, len(rows), len(rows), 0, "imported", rejected)


# ---------------------------------------------------------------------------- claim runs


@dataclass(frozen=True)
class ClaimRun:
    id: int
    contract_id: str
    period: str
    status: str
    line_count: int
    gross_pence: int
    net_pence: int
    clawback_pence: int
    invoice_ref: str | None
    created: bool = False

    @property
    def due_pence(self) -> int:
        return self.net_pence - self.clawback_pence

    def as_dict(self) -> dict:
        return {"run_id": self.id, "contract": self.contract_id, "period": self.period, "status": self.status,
                "lines": self.line_count, "gross_pence": self.gross_pence, "net_pence": self.net_pence,
                "clawback_pence": self.clawback_pence, "due_pence": self.due_pence,
                "invoice_ref": self.invoice_ref, "created": self.created}  # fmt: skip


def _run(conn: Connection, contract_id: str, period: str, *, created: bool = False) -> ClaimRun | None:
    row = conn.execute(
        select(runs_t).where(runs_t.c.contract_id == contract_id, runs_t.c.period == period)
    ).mappings().first()
    if row is None:
        return None
    latest = _latest_revision(conn, row["id"])
    if latest is not None:
        row = {**row, **{k: latest[k] for k in REVISED}}
    return ClaimRun(row["id"], contract_id, period, row["status"], row["line_count"], row["gross_pence"],
                    row["net_pence"], row["clawback_pence"], row["invoice_ref"], created)  # fmt: skip


#: What a claim run's revisions change; the run row itself is immutable (migration 0024).
REVISED = ("status", "net_pence", "clawback_pence", "invoice_ref")


def _latest_revision(conn: Connection, run_id: int):
    return conn.execute(select(revisions_t).where(revisions_t.c.run_id == run_id)
                        .order_by(revisions_t.c.revision.desc()).limit(1)).mappings().first()  # fmt: skip


def current(name: str = "status", runs=runs_t):
    """SQL: a claim run's ``name`` (one of REVISED) now: its latest revision's, else the run's own."""
    latest = (select(revisions_t.c[name]).where(revisions_t.c.run_id == runs.c.id)
              .order_by(revisions_t.c.revision.desc()).limit(1).scalar_subquery())  # fmt: skip
    if name == "invoice_ref":  # may be NULL in a revision too: the latest revision decides
        has_revision = exists().where(revisions_t.c.run_id == runs.c.id)
        return case((has_revision, latest), else_=runs.c[name])
    return func.coalesce(latest, runs.c[name])


def current_status(runs=runs_t):
    """SQL: a claim run's status now (its latest revision's, else the one it was created with)."""
    return current("status", runs)


def _revise(conn: Connection, run_id: int, by: str, **changes) -> None:
    """Append the run's next revision (the run row is never updated), and seal it."""
    latest = _latest_revision(conn, run_id)
    base = latest if latest is not None else conn.execute(select(runs_t).where(runs_t.c.id == run_id)).mappings().one()
    state = {k: base[k] for k in REVISED}
    if all(state[k] == v for k, v in changes.items()):
        return
    revision = (int(latest["revision"]) if latest is not None else 0) + 1
    conn.execute(revisions_t.insert().values(run_id=run_id, revision=revision, **{**state, **changes},
                                             revised_at=utc_now(), revised_by=by))  # fmt: skip
    seal(conn, "run_revision", and_(revisions_t.c.run_id == run_id, revisions_t.c.revision == revision))


def get_run(conn: Connection, contract_id: str, period: str) -> ClaimRun:
    get_contract(conn, contract_id)
    name = Period.parse(period).name
    run = _run(conn, contract_id, name)
    if run is None:
        raise NotFound(f"contract {contract_id} has no claim run for {name}: run `fuel claims run` first", field="period")
    return run


def prior_paid(conn: Connection, contract_id: str, before_run_id: int | None = None) -> PriorPaid:
    """What earlier claim runs of the contract paid (disputed lines excluded), summed in SQL."""
    where = [runs_t.c.contract_id == contract_id, ~_disputed(lines_t), lines_t.c.net_pence > 0]
    if before_run_id is not None:
        where.append(runs_t.c.id < before_run_id)
    joined = lines_t.join(runs_t, runs_t.c.id == lines_t.c.run_id)
    by_participant = dict(conn.execute(
        select(lines_t.c.participant_id, func.sum(lines_t.c.net_pence)).select_from(joined)
        .where(*where, ~_is_mechanism(lines_t)).group_by(lines_t.c.participant_id)).all())  # fmt: skip
    by_outcome = conn.execute(
        select(lines_t.c.outcome_id, func.sum(lines_t.c.net_pence), func.count()).select_from(joined).where(*where)
        .group_by(lines_t.c.outcome_id)).all()  # fmt: skip
    share_where = [runs_t.c.contract_id == contract_id, ~_disputed(shares_t)]
    if before_run_id is not None:
        share_where.append(runs_t.c.id < before_run_id)
    by_payer = dict(conn.execute(
        select(shares_t.c.payer_id, func.sum(shares_t.c.share_pence))
        .select_from(shares_t.join(runs_t, runs_t.c.id == shares_t.c.run_id)).where(*share_where)
        .group_by(shares_t.c.payer_id)).all())  # fmt: skip
    return PriorPaid(
        by_participant={str(k): int(v) for k, v in by_participant.items()},
        by_outcome_pence={str(o): int(p) for o, p, _ in by_outcome},
        by_outcome_count={str(o): int(n) for o, _, n in by_outcome},
        contract_pence=sum(int(p) for _, p, _ in by_outcome),
        by_payer={str(k): int(v) for k, v in by_payer.items()},
    )


def _transition(conn: Connection, run_id: int, status: str, by: str, payer: str | None = None, note: str | None = None) -> None:
    conn.execute(transitions_t.insert().values(run_id=run_id, status=status, payer_id=payer,
                                               note=note[:500] if note else None, at=utc_now(), by=by))


def run_claims(conn: Connection, contract_id: str, period: str, by: str = "fuel") -> ClaimRun:
    """Create the claim run for a contract and quarter, or return the stored one unchanged."""
    contract = get_contract(conn, contract_id)
    quarter = Period.parse(period)
    stored = _run(conn, contract_id, quarter.name)
    if stored is not None:
        return stored
    later = conn.execute(
        select(runs_t.c.period).where(runs_t.c.contract_id == contract_id, runs_t.c.period_end > quarter.end)
        .order_by(runs_t.c.period_end.desc())
    ).scalars().first()  # fmt: skip
    if later is not None:
        raise ValidationError(
            f"contract {contract_id} already has a claim run for {later}; runs go forward in time, so {quarter.name} "
            f"cannot be run now (its outcome events go into the next run)",
            field="period",
        )
    events = _unclaimed_events(conn, contract_id, before=quarter.end)
    if events.empty:
        raise ValidationError(
            f"contract {contract_id}: no outcome events achieved before {quarter.end} are waiting to be claimed "
            f"for {quarter.name}, nor mechanism figures: import an outcomes file or `fuel claims mechanism` first",
            field="period",
        )
    frame = events.rename(columns={"id": "row_number"})[
        ["row_number", "participant_id", "outcome_id", "achieved_on", "evidence_ref", "submitted_on"]]
    is_mechanism = frame["outcome_id"].astype(str).str.startswith(MECHANISM_PREFIX)
    rate_card = frame[~is_mechanism].reset_index(drop=True)
    assessed = rate_card if rate_card.empty else validate_events(
        rate_card, contract, participant_register(conn, contract_id), prior_events=_accepted_before(conn, contract_id),
        source_name=f"claim run {quarter.name}")
    prior = prior_paid(conn, contract_id)
    lines = run_claim(assessed, contract, prior, _mechanism_parts(conn, contract_id, frame[is_mechanism]))
    lines["line_no"] = np.arange(1, len(lines) + 1, dtype=np.int64)
    lines["event_id"] = lines["row_number"].astype(np.int64)

    result = conn.execute(runs_t.insert().values(
        contract_id=contract_id, period=quarter.name, period_end=quarter.end, status="validated",
        line_count=len(lines), gross_pence=int(lines["gross_pence"].sum()), net_pence=int(lines["net_pence"].sum()),
        clawback_pence=0, invoice_ref=None, created_at=utc_now(), created_by=by,
    ))  # fmt: skip
    run_id = int(result.inserted_primary_key[0])
    mechanism_count = int(is_mechanism.sum())
    _transition(conn, run_id, "submitted", by, note=f"{len(lines) - mechanism_count} outcome events"
                + (f", {mechanism_count} mechanism payments" if mechanism_count else ""))
    _transition(conn, run_id, "validated", by, note=f"{int(lines['accepted'].sum())} accepted")

    stored = lines[[c for c in LINE_COLUMNS] + ["event_id"]].copy()
    stored["achieved_on"] = stored["achieved_on"].dt.date
    stored["accepted"] = stored["accepted"].astype(bool)
    stored["reason"] = stored["reason"].astype(str)
    stored["cap_reason"] = stored["cap_reason"].astype(str)
    stored["cap_applied"] = stored["cap_applied"].astype(str)
    stored["evidence_ref"] = stored["evidence_ref"].astype(object).where(stored["evidence_ref"].notna(), None)
    stored["run_id"] = run_id
    conn.execute(lines_t.insert(), _records(stored))
    seal(conn, "claim_run", runs_t.c.id == run_id)
    seal(conn, "claim_line", lines_t.c.run_id == run_id)

    share_frames = []
    for payer in contract.payers:
        share_frames.append(pd.DataFrame({
            "run_id": run_id, "line_no": lines["line_no"].to_numpy(), "payer_id": payer.payer_id,
            "share_pence": lines[share_column(payer.payer_id)].to_numpy(dtype=np.int64),
            "cap_reduction_pence": lines[payer_reduction_column(payer.payer_id)].to_numpy(dtype=np.int64),
        }))  # fmt: skip
    shares = pd.concat(share_frames, ignore_index=True)
    shares = shares[(shares["share_pence"] != 0) | (shares["cap_reduction_pence"] != 0)]
    if len(shares):
        conn.execute(shares_t.insert(), _records(shares))
    totals = {p.payer_id: int(lines[share_column(p.payer_id)].sum()) for p in contract.payers}
    conn.execute(run_payers_t.insert(), [
        {"run_id": run_id, "payer_id": p, "share_pence": v, "clawback_pence": 0} for p, v in totals.items()
    ])  # fmt: skip
    _take_clawback(conn, contract, run_id, totals, by)
    return replace(_run(conn, contract_id, quarter.name), created=True)


def _mechanism_parts(conn: Connection, contract_id: str, events: pd.DataFrame) -> pd.DataFrame:
    """The mechanism events of a run priced from their recorded results (event -> part label ->
    payment): the frame :func:`ledger.pbr.claims.mechanism_lines` takes."""
    if events.empty:
        return events.assign(payment_pence=pd.Series(dtype="int64"))
    rows = conn.execute(select(mechanism_results_t.c.period, mechanism_results_t.c.mechanism_index,
                               mechanism_results_t.c.kind, mechanism_results_t.c.result_json)
                        .where(mechanism_results_t.c.contract_id == contract_id)).all()  # fmt: skip
    payment_of = {}
    for period, index, kind, text in rows:
        for label, pence in json.loads(text).get("parts", []):
            payment_of[(period, mechanism_claims.outcome_id_for(index, kind), label)] = int(pence)
    keys = zip(events["achieved_on"].map(lambda d: Period.containing(d.date()).name), events["outcome_id"],
               events["evidence_ref"])
    payments = [payment_of.get(key) for key in keys]
    if any(p is None for p in payments):  # pragma: no cover - events are written with their result
        raise InvariantBroken("a mechanism event has no recorded result")
    return events.assign(payment_pence=np.array(payments, dtype=np.int64))


def _take_clawback(conn: Connection, contract: Contract, run_id: int, share_by_payer: Mapping[str, int],
                   by: str = "fuel") -> int:
    """Take outstanding recoveries from this run (never below zero), oldest sample first; split
    over payers pro rata to their shares. Replaces what an earlier call took for this run."""
    conn.execute(clawbacks_t.delete().where(clawbacks_t.c.run_id == run_id))
    samples = conn.execute(
        select(samples_t.c.id, samples_t.c.recovery_pence)
        .select_from(samples_t.join(runs_t, runs_t.c.id == samples_t.c.run_id))
        .where(runs_t.c.contract_id == contract.contract_id, samples_t.c.recovery_pence > 0)
        .order_by(samples_t.c.id)
    ).all()  # fmt: skip
    available = sum(share_by_payer.values())
    taken_rows = []
    for sample_id, recovery in samples:
        already = conn.execute(
            select(func.coalesce(func.sum(clawbacks_t.c.amount_pence), 0)).where(clawbacks_t.c.sample_id == sample_id)
        ).scalar_one()
        outstanding = int(recovery) - int(already)
        if outstanding <= 0 or available <= 0:
            continue
        taken = -schedule_clawback(outstanding, [available]).steps[0].adjustment_pence
        available -= taken
        taken_rows.append({"sample_id": sample_id, "run_id": run_id, "amount_pence": taken})
    total = sum(r["amount_pence"] for r in taken_rows)
    if taken_rows:
        conn.execute(clawbacks_t.insert(), taken_rows)
    payers = list(share_by_payer)
    split = allocate(total, [share_by_payer[p] for p in payers]) if total else [0] * len(payers)
    for payer, part in zip(payers, split):
        conn.execute(run_payers_t.update().where(run_payers_t.c.run_id == run_id, run_payers_t.c.payer_id == payer)
                     .values(clawback_pence=part))
    _revise(conn, run_id, by, clawback_pence=total)
    return total


def claim_lines(conn: Connection, run: ClaimRun, contract: Contract) -> pd.DataFrame:
    """The run's lines in claim order, with each payer's share and any dispute."""
    query = select(lines_t, disputes_t.c.reason.label("dispute_reason")).select_from(
        lines_t.outerjoin(disputes_t, and_(disputes_t.c.run_id == lines_t.c.run_id, disputes_t.c.line_no == lines_t.c.line_no))
    ).where(lines_t.c.run_id == run.id).order_by(lines_t.c.line_no)  # fmt: skip
    lines = pd.read_sql(query, conn)
    shares = pd.read_sql(select(shares_t).where(shares_t.c.run_id == run.id), conn)
    for payer in contract.payers:
        mine = shares[shares["payer_id"] == payer.payer_id].set_index("line_no")
        lines[share_column(payer.payer_id)] = lines["line_no"].map(mine["share_pence"]).fillna(0).astype(np.int64)
    lines["achieved_on"] = pd.to_datetime(lines["achieved_on"]).dt.date.astype(str)
    lines["accepted"] = lines["accepted"].astype(bool)
    lines["disputed"] = lines["dispute_reason"].notna()
    lines["participant_headroom_pence"] = lines["participant_headroom_pence"].astype("Int64")
    return lines


def run_payers(conn: Connection, run: ClaimRun) -> list[dict]:
    rows = conn.execute(select(run_payers_t).where(run_payers_t.c.run_id == run.id).order_by(run_payers_t.c.payer_id))
    return [dict(r) for r in rows.mappings()]


def transitions(conn: Connection, run: ClaimRun) -> list[dict]:
    rows = conn.execute(select(transitions_t).where(transitions_t.c.run_id == run.id).order_by(transitions_t.c.id))
    return [{**dict(r), "at": r["at"].isoformat(timespec="seconds")} for r in rows.mappings()]


# ---------------------------------------------------------------------------- lifecycle


def _require_status(run: ClaimRun, allowed: Sequence[str], action: str) -> None:
    if run.status not in allowed:
        raise ValidationError(
            f"claim run {run.contract_id} {run.period} is {run.status}; it can be {action} only when "
            f"{' or '.join(allowed)}",
            field="status",
        )


def dispute_line(conn: Connection, contract_id: str, period: str, line_no: int, reason: str, by: str = "fuel") -> str:
    run = get_run(conn, contract_id, period)
    if not reason or not reason.strip():
        raise ValidationError("a dispute needs a reason", field="reason")
    line = conn.execute(select(lines_t.c.net_pence).where(lines_t.c.run_id == run.id, lines_t.c.line_no == line_no)).first()
    if line is None:
        raise NotFound(f"claim run {contract_id} {run.period} has no line {line_no} (lines 1 to {run.line_count})", field="line")
    existing = conn.execute(select(disputes_t.c.reason).where(disputes_t.c.run_id == run.id, disputes_t.c.line_no == line_no)).first()
    if existing is not None:
        if existing[0] == reason.strip():
            return "already disputed"
        raise ValidationError(f"line {line_no} is already disputed: {existing[0]!r}", field="line")
    _require_status(run, ("validated",), "disputed")
    conn.execute(disputes_t.insert().values(run_id=run.id, line_no=line_no, reason=reason.strip()[:500],
                                            disputed_by=by, disputed_at=utc_now()))
    _transition(conn, run.id, "disputed", by, note=f"line {line_no}: {reason.strip()}")
    return "disputed"


def _undisputed_shares(conn: Connection, run: ClaimRun) -> dict[str, int]:
    rows = conn.execute(
        select(shares_t.c.payer_id, func.sum(shares_t.c.share_pence))
        .where(shares_t.c.run_id == run.id, ~_disputed(shares_t)).group_by(shares_t.c.payer_id)
    ).all()  # fmt: skip
    return {str(p): int(v) for p, v in rows}


def approve(conn: Connection, contract_id: str, period: str, on: date, by: str = "fuel",
            payer: str | None = None) -> ClaimRun:
    """The payers approve the run (disputed lines excluded): posts the receivable per payer.

    ``payer`` (a commissioner) approves only its own share: the others stay to approve, and the
    run is approved once every payer has. Shares and the clawback are fixed by the first approval.
    """
    contract = get_contract(conn, contract_id)
    run = get_run(conn, contract_id, period)
    if run.status in ("approved", "invoiced", "paid"):
        return run
    ids = [p.payer_id for p in contract.payers]
    if payer is not None and payer not in ids:
        raise NotFound(f"contract {contract_id} has no payer {payer!r}", field="payer")
    _require_status(run, ("validated",), "approved")
    payers = {r["payer_id"]: r for r in run_payers(conn, run)}
    if all(payers[p]["approved_pence"] is None for p in ids):  # the first approval fixes every share
        shares = {p: 0 for p in ids} | _undisputed_shares(conn, run)
        for payer_id, share in shares.items():
            conn.execute(run_payers_t.update().where(run_payers_t.c.run_id == run.id,
                                                     run_payers_t.c.payer_id == payer_id).values(share_pence=share))
        _take_clawback(conn, contract, run.id, shares, by)
        payers = {r["payer_id"]: r for r in run_payers(conn, run)}
    chosen = [p for p in ([payer] if payer else ids) if payers[p]["approved_pence"] is None]
    drafts, order = [], []
    for payer_id in chosen:
        row = payers[payer_id]
        share, clawback = int(row["share_pence"]), int(row["clawback_pence"])
        due = share - clawback
        postings = []
        dims = dict(currency=contract.currency, fund=contract.fund, source=OUTCOME_SOURCE, project=contract.project,
                    counterparty=payer_id)
        if due:
            postings.append(Posting(RECEIVABLE, due, **dims))
        if share:
            postings.append(Posting(INCOME, -share, **dims))
        if clawback:
            postings.append(Posting(INCOME, clawback, **dims))
        if len(postings) < 2:
            continue
        drafts.append(EntryDraft(
            effective_date=on,
            description=f"Outcome payment claim {contract_id} {run.period} approved by {payer_id}"
                        + (f" (clawback {clawback} pence)" if clawback else ""),
            idempotency_key=f"pbr-approve:{contract_id}:{run.period}:{payer_id}",
            postings=tuple(postings), event_kind="outcome_claim_approved",
            event_data={"contract": contract_id, "period": run.period, "payer": payer_id, "share_pence": share,
                        "clawback_pence": clawback, "run_id": run.id},
        ))  # fmt: skip
        order.append(payer_id)
    results = post_entries(conn, drafts, by)
    entry_of = {p: r.entry.id for p, r in zip(order, results)}
    for payer_id in chosen:
        row = payers[payer_id]
        conn.execute(run_payers_t.update().where(run_payers_t.c.run_id == run.id, run_payers_t.c.payer_id == payer_id)
                     .values(approved_pence=int(row["share_pence"]) - int(row["clawback_pence"]),
                             approval_entry_id=entry_of.get(payer_id)))  # fmt: skip
        _transition(conn, run.id, "approved", by, payer=payer_id)
    waiting = conn.execute(select(func.count()).where(run_payers_t.c.run_id == run.id,
                                                      run_payers_t.c.approved_pence.is_(None))).scalar_one()
    if not waiting:
        net = sum(int(payers[p]["share_pence"]) for p in ids)
        _revise(conn, run.id, by, status="approved", net_pence=net)
    return get_run(conn, contract_id, period)


def invoice(conn: Connection, contract_id: str, period: str, ref: str, by: str = "fuel") -> ClaimRun:
    run = get_run(conn, contract_id, period)
    if not ref or not ref.strip():
        raise ValidationError("an invoice needs a reference", field="ref")
    if run.status in ("invoiced", "paid"):
        if run.invoice_ref != ref.strip():
            raise ValidationError(f"claim run {contract_id} {run.period} was already invoiced as {run.invoice_ref!r}", field="ref")
        return run
    _require_status(run, ("approved",), "invoiced")
    _revise(conn, run.id, by, status="invoiced", invoice_ref=ref.strip()[:100])
    _transition(conn, run.id, "invoiced", by, note=ref.strip())
    return get_run(conn, contract_id, period)


def pay(conn: Connection, contract_id: str, period: str, on: date, by: str = "fuel", payer: str | None = None) -> ClaimRun:
    """Record the payers' cash (all, or one ``payer``): Dr cash / Cr receivable."""
    contract = get_contract(conn, contract_id)
    run = get_run(conn, contract_id, period)
    if run.status == "paid":
        return run
    _require_status(run, ("invoiced",), "paid")
    rows = {r["payer_id"]: r for r in run_payers(conn, run)}
    if payer is not None and payer not in rows:
        raise NotFound(f"contract {contract_id} has no payer {payer!r} (payers: {', '.join(rows)})", field="payer")
    chosen = [payer] if payer else [p.payer_id for p in contract.payers]
    drafts, order = [], []
    for payer_id in chosen:
        row = rows[payer_id]
        if row["paid_pence"] is not None or not row["approved_pence"]:
            continue
        dims = dict(currency=contract.currency, fund=contract.fund, source=OUTCOME_SOURCE, project=contract.project,
                    counterparty=payer_id)
        amount = int(row["approved_pence"])
        drafts.append(EntryDraft(
            effective_date=on, description=f"Outcome payment received from {payer_id} for {contract_id} {run.period}",
            idempotency_key=f"pbr-pay:{contract_id}:{run.period}:{payer_id}",
            postings=(Posting("cash", amount, **dims), Posting(RECEIVABLE, -amount, **dims)),
            event_kind="outcome_claim_paid",
            event_data={"contract": contract_id, "period": run.period, "payer": payer_id, "amount_pence": amount,
                        "run_id": run.id, "invoice_ref": run.invoice_ref},
        ))  # fmt: skip
        order.append(payer_id)
    results = post_entries(conn, drafts, by)
    for payer_id, result in zip(order, results):
        conn.execute(run_payers_t.update().where(run_payers_t.c.run_id == run.id, run_payers_t.c.payer_id == payer_id)
                     .values(paid_pence=int(rows[payer_id]["approved_pence"]), payment_entry_id=result.entry.id))
        _transition(conn, run.id, "paid", by, payer=payer_id, note=f"entry {result.entry.id}")
    for payer_id in chosen:  # nothing due: settled without an entry
        if rows[payer_id]["paid_pence"] is None and not rows[payer_id]["approved_pence"]:
            conn.execute(run_payers_t.update().where(run_payers_t.c.run_id == run.id, run_payers_t.c.payer_id == payer_id)
                         .values(paid_pence=0))
    outstanding = conn.execute(
        select(func.count()).where(run_payers_t.c.run_id == run.id, run_payers_t.c.paid_pence.is_(None))
    ).scalar_one()
    if outstanding == 0:
        _revise(conn, run.id, by, status="paid")
        _transition(conn, run.id, "paid", by, note="all payers paid")
    return get_run(conn, contract_id, period)


# ---------------------------------------------------------------------------- sampling and clawback


def _paid_lines(conn: Connection, run: ClaimRun) -> dict[str, int]:
    rows = conn.execute(
        select(lines_t.c.line_no, lines_t.c.net_pence)
        .where(lines_t.c.run_id == run.id, lines_t.c.net_pence > 0, ~_disputed(lines_t)).order_by(lines_t.c.line_no)
    ).all()  # fmt: skip
    return {str(n): int(v) for n, v in rows}


def draw_sample(conn: Connection, contract_id: str, period: str, size: int, seed: str, by: str = "fuel") -> dict:
    """Choose the paid lines a commissioner re-checks (deterministic by seed; stored once)."""
    run = get_run(conn, contract_id, period)
    _require_status(run, ("paid",), "sampled")
    existing = conn.execute(select(samples_t).where(samples_t.c.run_id == run.id)).mappings().first()
    if existing is not None:
        if existing["seed"] != str(seed) or existing["sample_size"] != size:
            raise ValidationError(
                f"claim run {contract_id} {run.period} was already sampled (seed {existing['seed']!r}, size "
                f"{existing['sample_size']})", field="seed")  # fmt: skip
        return sample_status(conn, contract_id, period)
    chosen = select_sample(_paid_lines(conn, run).keys(), size, str(seed))
    conn.execute(samples_t.insert().values(run_id=run.id, seed=str(seed), sample_size=size,
                                           sampled_lines=json.dumps([int(x) for x in chosen]),
                                           selected_at=utc_now(), selected_by=by))  # fmt: skip
    _transition(conn, run.id, "sampled", by, note=f"{len(chosen)} lines, seed {seed}")
    return sample_status(conn, contract_id, period)


def record_recheck(conn: Connection, contract_id: str, period: str, invalid_lines: Sequence[int],
                   method: str = "extrapolate", by: str = "fuel") -> dict:
    """Record which sampled lines failed the re-check; the recovery goes to the next claim run."""
    contract = get_contract(conn, contract_id)
    run = get_run(conn, contract_id, period)
    sample = conn.execute(select(samples_t).where(samples_t.c.run_id == run.id)).mappings().first()
    if sample is None:
        raise NotFound(f"claim run {contract_id} {run.period} has no sample: run `fuel claims sample` first", field="sample")
    invalid = sorted({int(x) for x in invalid_lines})
    if sample["invalid_lines"] is not None:
        if json.loads(sample["invalid_lines"]) == invalid and sample["method"] == method:
            return sample_status(conn, contract_id, period)
        raise ValidationError(f"the sample of {contract_id} {run.period} was already re-checked", field="invalid")
    sampled = [str(x) for x in json.loads(sample["sampled_lines"])]
    result = assess_sample(_paid_lines(conn, run), sampled, [str(x) for x in invalid], method=method,
                           rounding=contract.rounding)
    conn.execute(samples_t.update().where(samples_t.c.id == sample["id"]).values(
        invalid_lines=json.dumps(invalid), method=method,
        error_rate=f"{result.error_rate.numerator}/{result.error_rate.denominator}",
        sampled_value_pence=result.sampled_value_pence, invalid_value_pence=result.invalid_value_pence,
        recovery_pence=result.recovery_pence, checked_at=utc_now(), checked_by=by,
    ))  # fmt: skip
    _transition(conn, run.id, "rechecked", by, note=f"{len(invalid)} invalid; recovery {result.recovery_pence} pence")
    return sample_status(conn, contract_id, period)


def sample_status(conn: Connection, contract_id: str, period: str) -> dict:
    run = get_run(conn, contract_id, period)
    row = conn.execute(select(samples_t).where(samples_t.c.run_id == run.id)).mappings().first()
    if row is None:
        raise NotFound(f"claim run {contract_id} {run.period} has no sample", field="sample")
    taken = conn.execute(
        select(func.coalesce(func.sum(clawbacks_t.c.amount_pence), 0)).where(clawbacks_t.c.sample_id == row["id"])
    ).scalar_one()
    rate = Fraction(row["error_rate"]) if row["error_rate"] else None
    return {
        "contract": contract_id, "period": run.period, "seed": row["seed"], "sample_size": row["sample_size"],
        "sampled_lines": json.loads(row["sampled_lines"]),
        "invalid_lines": json.loads(row["invalid_lines"]) if row["invalid_lines"] else None,
        "method": row["method"], "error_rate": row["error_rate"],
        # Exact: the rate is a Fraction; shown to 4 places, rounded half-up, never via a float.
        "error_rate_percent": str((Decimal(rate.numerator * 100) / Decimal(rate.denominator)).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP)) if rate is not None else None,
        "sampled_value_pence": row["sampled_value_pence"], "invalid_value_pence": row["invalid_value_pence"],
        "recovery_pence": row["recovery_pence"], "recovered_pence": int(taken),
        "outstanding_pence": (int(row["recovery_pence"]) - int(taken)) if row["recovery_pence"] is not None else None,
    }  # fmt: skip


# ---------------------------------------------------------------------------- actuals, mechanisms


def actuals_by_quarter(conn: Connection, contract_id: str) -> dict[str, int]:
    """Outcome payments received per claim period (for plan versus actual)."""
    rows = conn.execute(
        select(runs_t.c.period, func.sum(run_payers_t.c.paid_pence))
        .select_from(run_payers_t.join(runs_t, runs_t.c.id == run_payers_t.c.run_id))
        .where(runs_t.c.contract_id == contract_id, run_payers_t.c.paid_pence.is_not(None))
        .group_by(runs_t.c.period)
    ).all()  # fmt: skip
    return {str(p): int(v) for p, v in rows}


def record_mechanism(conn: Connection, contract_id: str, period: str, index: int, kind: str, input_text: str,
                     payment_pence: int, result: Mapping[str, Any], by: str = "fuel", file_name: str | None = None) -> str:
    """Store a computed mechanism result once per contract, period and mechanism, with the
    figures file unchanged; the same input again is a no-op, a different input is refused.

    Each payment of the result (``result["parts"]``) becomes an outcome event waiting for the
    next claim run (outcome id ``mechanism:<index>:<kind>``, achieved on the period's last day,
    the part's label as evidence), so it is billed like any outcome. Periods go forward: a
    period before one already recorded for this mechanism is refused (its cumulative figures
    would be wrong)."""
    quarter = Period.parse(period)
    name = quarter.name
    digest = _hash(input_text)
    existing = conn.execute(select(mechanism_results_t).where(
        mechanism_results_t.c.contract_id == contract_id, mechanism_results_t.c.period == name,
        mechanism_results_t.c.mechanism_index == index)).mappings().first()  # fmt: skip
    if existing is not None:
        if existing["input_hash"] == digest:
            return "unchanged"
        raise ValidationError(
            f"mechanism {index} ({kind}) of {contract_id} was already computed for {name} from different figures",
            field="data")  # fmt: skip
    later = [p for p in conn.execute(select(mechanism_results_t.c.period).where(
        mechanism_results_t.c.contract_id == contract_id, mechanism_results_t.c.mechanism_index == index)).scalars()
        if Period.parse(p).start > quarter.start]  # fmt: skip
    if later:
        raise ValidationError(f"mechanism {index} ({kind}) of {contract_id} already has figures for {min(later)}; "
                              f"periods go forward, so {name} cannot be added now", field="period")
    conn.execute(mechanism_results_t.insert().values(
        contract_id=contract_id, period=name, mechanism_index=index, kind=kind, input_hash=digest,
        payment_pence=payment_pence, result_json=json.dumps(result, sort_keys=True, default=str),
        input_text=input_text, file_name=(file_name or f"{kind}-{name}.toml")[:500],
        computed_at=utc_now(), computed_by=by))  # fmt: skip
    parts = list(result.get("parts", []))
    if parts:
        # The import row ties the events to the figures; hashed with period and index so the same
        # figures in two periods are two imports.
        import_id = _start_import(conn, contract_id, "mechanism", f"{name}:{index}:{input_text}",
                                  (file_name or f"{kind}-{name}.toml"), len(parts), by)
        today = utc_now().date()
        conn.execute(events_t.insert(), [
            {"contract_id": contract_id, "import_id": import_id, "row_number": n, "participant_id": "",
             "outcome_id": mechanism_claims.outcome_id_for(index, kind), "achieved_on": quarter.last_day,
             "evidence_ref": str(label)[:200], "submitted_on": today, "import_reason": ""}
            for n, (label, _) in enumerate(parts, start=1)])  # fmt: skip
    return "recorded"


def mechanism_records(conn: Connection, contract_id: str, periods: Sequence[str]) -> list[dict]:
    """Stored results of the contract's mechanisms for ``periods`` (the statement's inputs)."""
    rows = conn.execute(select(mechanism_results_t).where(
        mechanism_results_t.c.contract_id == contract_id, mechanism_results_t.c.period.in_(list(periods)))
        .order_by(mechanism_results_t.c.mechanism_index, mechanism_results_t.c.period)).mappings().all()  # fmt: skip
    return [{"period": r["period"], "index": int(r["mechanism_index"]), "kind": r["kind"],
             "outcome_id": mechanism_claims.outcome_id_for(int(r["mechanism_index"]), r["kind"]),
             "file_name": r["file_name"] or "", "input_hash": r["input_hash"], "input_text": r["input_text"],
             "result": json.loads(r["result_json"])} for r in rows]  # fmt: skip


def mechanism_results(conn: Connection, contract_id: str, index: int, before_period: str) -> list[dict]:
    """Results recorded for one mechanism in periods before ``before_period``, oldest first."""
    end = Period.parse(before_period).start
    rows = conn.execute(
        select(mechanism_results_t.c.period, mechanism_results_t.c.result_json).where(
            mechanism_results_t.c.contract_id == contract_id, mechanism_results_t.c.mechanism_index == index)
    ).all()  # fmt: skip
    earlier = sorted((Period.parse(p).start, json.loads(r)) for p, r in rows if Period.parse(p).start < end)
    return [r for _, r in earlier]
