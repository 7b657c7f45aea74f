"""Parties, funds, reference data, fund flow events, the fund's ledger and its reports.

Each handler parses, calls one service of ``models/flows_store.py``, ``models/ledger_store.py``
or ``reports/flows_reports.py`` in one transaction, and shapes the answer. Rules live there.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Literal

from fastapi import Body as BodyParam, Path, Query, Request, Response
from sqlalchemy import and_, exists, select

from ledger.errors import NotFound, ValidationError
from ledger.periods import DATE_MAX, DATE_MIN
from ledger.shell.api import schemas as s
from ledger.shell.api.access import AUD, FM, INV, Caller, EngineDep, contract_visible, investor_funds
from ledger.shell.api.common import entry_out, postings_out, recorded_by, router
from models.db import reading

api = router("funds")
ledger_api = router("ledger")

def _today() -> date:
    return date.today()


AsOf = Annotated[date | None, Query(ge=DATE_MIN, le=DATE_MAX, description="Effective date, inclusive (default: today).")]
#: Entry ids in a path: 64-bit, as in the database (a larger one answers 422, never a driver overflow).
EntryId = Annotated[int, Path(ge=1, le=2**63 - 1, description="Entry id.")]


# ---------------------------------------------------------------------------- who am I


@api.get("/me", response_model=s.MeOut, summary="Who the token belongs to", tags=["auth"])
def me(principal: Caller) -> dict:
    """The token's name, role and scope."""
    return {"name": principal.name, "role": principal.role, "scope": principal.scope}


# ---------------------------------------------------------------------------- parties


def _party_row(r) -> dict:
    return {"id": r["id"], "name": r["name"], "kind": r["kind"], "investor_type": r["investor_type"]}


@api.get("/parties", response_model=list[s.PartyOut], summary="List parties")
def list_parties(engine: EngineDep,
                 kind: Annotated[Literal["investor", "payer", "provider", "manager"] | None, Query()] = None) -> list:
    """Investors, payers, providers and managers (reference data shared by every fund)."""
    from models.flows_store import parties_t

    query = select(parties_t).order_by(parties_t.c.id)
    if kind:
        query = query.where(parties_t.c.kind == kind)
    with reading(engine) as conn:
        return [_party_row(r) for r in conn.execute(query).mappings()]


@api.post("/parties", response_model=s.SavedOut, status_code=201, summary="Add or rename a party")
def add_party(body: s.PartyIn, principal: Caller, engine: EngineDep) -> dict:
    """Add an investor, payer, provider or manager. Its kind and investor type cannot change.
    A new party belongs to the caller's fund; an existing one may be renamed only while no other
    fund uses it."""
    from ledger.funds import Party
    from models.flows_store import save_party

    party = Party(body.id, body.name, body.kind, body.investor_type)
    with engine.begin() as conn:
        return {"id": party.id, "status": save_party(conn, party, for_fund=principal.scope)}


@api.get("/parties/{party_id}", response_model=s.PartyOut, summary="One party")
def get_party(party_id: str, engine: EngineDep) -> dict:
    """A party. Investors and commissioners see only themselves."""
    from models.flows_store import parties_t

    with reading(engine) as conn:
        row = conn.execute(select(parties_t).where(parties_t.c.id == party_id)).mappings().first()
    if row is None:
        raise NotFound(f"unknown party {party_id!r}", field="party")
    return _party_row(row)


# ---------------------------------------------------------------------------- funds


def _fund_row(book) -> dict:
    return {"id": book.fund.id, "name": book.fund.name, "currency": book.fund.currency,
            "tranches": len(book.tranches), "restrictions": len(book.restrictions), "projects": len(book.projects),
            "commitments": len(book.commitments)}


def _visible_funds(conn, principal, books) -> list[str]:
    if principal.role == AUD:
        return list(books)
    if principal.role == FM:
        return [f for f in books if f == principal.scope]
    if principal.role == INV:
        mine = investor_funds(conn, principal.scope or "")
        return [f for f in books if f in mine]
    from models.pbr_store import get_contract, list_contracts

    funds = {c["fund"] for c in list_contracts(conn) if contract_visible(principal, get_contract(conn, c["id"]))}
    return [f for f in books if f in funds]


@api.get("/funds", response_model=list[s.FundOut], summary="List the funds the caller may see")
def list_funds(principal: Caller, engine: EngineDep) -> list:
    """A fund manager sees its fund; an investor the funds it is committed to; a commissioner
    the funds of its contracts; an auditor every fund."""
    from models.flows_store import load_books

    with reading(engine) as conn:
        books = load_books(conn)
        return [_fund_row(books[f]) for f in _visible_funds(conn, principal, books)]


def _require_own_fund(principal, fund_id: str) -> None:
    if principal.role == FM and fund_id != principal.scope:
        raise NotFound(f"unknown fund {fund_id!r}", field="fund")


@api.post("/funds", response_model=s.SavedOut, status_code=201, summary="Add or rename a fund")
def add_fund(body: s.FundIn, principal: Caller, engine: EngineDep) -> dict:
    """A fund manager may add (or rename) only the fund its token is scoped to."""
    from ledger.funds import Fund
    from models.flows_store import save_fund

    _require_own_fund(principal, body.id)
    fund = Fund(body.id, body.name, body.currency)
    with engine.begin() as conn:
        return {"id": fund.id, "status": save_fund(conn, fund)}


@api.post("/funds/{fund_id}/setup", response_model=s.SetupOut, status_code=201, summary="Load a fund setup")
def load_setup(fund_id: str, body: s.FundSetupIn, principal: Caller, engine: EngineDep) -> dict:
    """The fund, parties, tranches, restrictions, projects and commitments in one go (the JSON
    form of `fuel fund load`). Every problem is reported together; loading it again changes nothing."""
    from ledger.funds import fund_setup_from_mapping
    from models.flows_store import save_setup

    data = body.model_dump(exclude_unset=True)
    if data.get("fund", {}).get("id") != fund_id:
        raise ValidationError(f"fund.id must be {fund_id!r}, the fund in the path", field="fund.id")
    if "terms" in data["fund"]:
        raise ValidationError(f"fund.terms names a file, which the API cannot read: POST the terms and waterfall "
                              f"texts to /funds/{fund_id}/terms", field="fund.terms")
    setup = fund_setup_from_mapping(data, "request body")
    with engine.begin() as conn:
        counts = save_setup(conn, setup, recorded_by(principal))
    return {"fund": setup.fund.id, "counts": counts}


@api.get("/funds/{fund_id}", response_model=s.FundOut, summary="One fund")
def get_fund(fund_id: str, engine: EngineDep) -> dict:
    """The fund and how many tranches, restrictions, projects and commitments it has."""
    from models.flows_store import book_of

    with reading(engine) as conn:
        return _fund_row(book_of(conn, fund_id))


@api.get("/funds/{fund_id}/public", response_model=s.FundPublicOut, summary="Fund-level public figures")
def fund_public(fund_id: str, engine: EngineDep) -> dict:
    """What every investor in the fund may see: commitments called and received in total, and
    the projects funded. No other investor's figures."""
    from models.flows_store import book_of, commitment_status

    with reading(engine) as conn:
        book = book_of(conn, fund_id)
        rows = commitment_status(conn, fund_id)
    return {
        "id": book.fund.id, "name": book.fund.name, "currency": book.fund.currency,
        "investors": len({r["investor"] for r in rows}),
        **{k: sum(r[k] for r in rows) for k in ("committed_pence", "called_pence", "received_pence", "unfunded_pence")},
        "projects": [{"id": p.id, "name": p.name, "theme": p.theme, "status": p.status} for p in book.projects.values()],
    }


@api.get("/funds/{fund_id}/tranches", response_model=list[s.TrancheOut], summary="List a fund's tranches")
def list_tranches(fund_id: str, engine: EngineDep) -> list:
    """Tranches in rank order."""
    from models.flows_store import book_of

    with reading(engine) as conn:
        book = book_of(conn, fund_id)
    return [{"id": t.id, "name": t.name, "rank": t.rank, "kind": t.kind, "return_kind": t.return_kind,
             "return_rate": None if t.return_rate is None else str(t.return_rate)} for t in book.tranches.values()]


@api.post("/funds/{fund_id}/tranches", response_model=s.SavedOut, status_code=201, summary="Add a tranche")
def add_tranche(fund_id: str, body: s.TrancheIn, engine: EngineDep) -> dict:
    """Add (or rename) a tranche of the fund."""
    from ledger.funds import Tranche
    from ledger.money import to_decimal
    from models.flows_store import save_tranche

    rate = to_decimal(body.return_rate, "return_rate") if body.return_rate is not None else None
    tranche = Tranche(body.id, fund_id, body.name, body.rank, body.kind, body.return_kind, rate)
    with engine.begin() as conn:
        return {"id": tranche.id, "status": save_tranche(conn, tranche)}


@api.get("/funds/{fund_id}/restrictions", response_model=list[s.RestrictionOut], summary="List restrictions")
def list_restrictions(fund_id: str, engine: EngineDep) -> list:
    """A fund's restrictions and what each permits."""
    from models.flows_store import book_of

    with reading(engine) as conn:
        book = book_of(conn, fund_id)
    return [{"id": r.id, "name": r.name, "theme": r.theme, "projects": list(r.projects)}
            for r in book.restrictions.values()]


@api.post("/funds/{fund_id}/restrictions", response_model=s.SavedOut, status_code=201, summary="Add a restriction")
def add_restriction(fund_id: str, body: s.RestrictionIn, engine: EngineDep) -> dict:
    """A theme and/or permitted projects that restricted money may be spent on."""
    from ledger.funds import Restriction
    from models.flows_store import save_restriction

    value = Restriction(body.id, fund_id, body.name, body.theme, tuple(body.projects))
    with engine.begin() as conn:
        return {"id": value.id, "status": save_restriction(conn, value)}


@api.get("/funds/{fund_id}/projects", response_model=list[s.ProjectOut], summary="List projects")
def list_projects(fund_id: str, engine: EngineDep) -> list:
    """The projects the fund disburses to."""
    from models.flows_store import book_of

    with reading(engine) as conn:
        book = book_of(conn, fund_id)
    return [{"id": p.id, "name": p.name, "provider": p.provider, "theme": p.theme, "status": p.status}
            for p in book.projects.values()]


@api.post("/funds/{fund_id}/projects", response_model=s.SavedOut, status_code=201, summary="Add a project")
def add_project(fund_id: str, body: s.ProjectIn, engine: EngineDep) -> dict:
    """Add a project (or update its name, theme or status)."""
    from ledger.funds import Project
    from models.flows_store import save_project

    value = Project(body.id, fund_id, body.name, body.provider, body.theme, body.status)
    with engine.begin() as conn:
        return {"id": value.id, "status": save_project(conn, value)}


@api.get("/funds/{fund_id}/commitments", response_model=list[s.CommitmentStatusOut], summary="Commitment status")
def list_commitments(fund_id: str, engine: EngineDep, as_of: AsOf = None) -> list:
    """Per tranche and investor: committed, called, received, unfunded."""
    from models.flows_store import book_of, commitment_status

    with reading(engine) as conn:
        book_of(conn, fund_id)
        return commitment_status(conn, fund_id, as_of or _today())


def _one_amount(amount_pence: int | None, amount: str | None, currency: str) -> int:
    from ledger.money import parse_amount

    if (amount_pence is None) == (amount is None):
        raise ValidationError('give exactly one of amount_pence (integer pence) or amount (text like "12.34")',
                              field="amount_pence")
    return amount_pence if amount_pence is not None else parse_amount(amount, currency, "amount")


@api.post("/funds/{fund_id}/commitments", response_model=s.SavedOut, status_code=201, summary="Add a commitment")
def add_commitment(fund_id: str, body: s.CommitmentIn, principal: Caller, engine: EngineDep) -> dict:
    """An investor's commitment to a tranche. Commitments are never edited: the same id with
    other terms is a 409."""
    from ledger.funds import Commitment
    from models.flows_store import add_commitment as save, book_of

    with engine.begin() as conn:
        currency = book_of(conn, fund_id).fund.currency
        value = Commitment(body.id, fund_id, body.tranche, body.investor,
                           _one_amount(body.amount_pence, body.amount, currency), body.commitment_date, currency)
        return {"id": value.id, "status": save(conn, value, recorded_by(principal))}


# ---------------------------------------------------------------------------- events and imports


@api.post("/funds/{fund_id}/events", response_model=s.EventOut, status_code=201, summary="Record a business event")
def record_event(fund_id: str, event: Annotated[s.EventIn, BodyParam()], request: Request, response: Response,
                 principal: Caller) -> dict:
    """One fund flow event (drawdown, grant, disbursement, repayment, outcome payment, fee,
    valuation change, distribution, transfer) as a balanced entry. Without a `key`, the
    `Idempotency-Key` header (else a key derived from the event) becomes the entry's key.
    A replay of the same event answers 200 with status `already posted`."""
    from ledger.flows import EVENT_TYPES

    values = event.model_dump(exclude={"kind"})
    if values.get("key") is None and request.headers.get("Idempotency-Key"):
        values["key"] = "api:" + request.headers["Idempotency-Key"]
    domain_event = EVENT_TYPES[event.kind](fund=fund_id, **values)
    # Group commit: concurrent requests' events share one transaction (models/event_writer.py).
    result, created = request.app.state.event_writer.record(domain_event, recorded_by(principal))
    entry = result.entry
    if not created:
        response.status_code = 200
    return {"entry_id": entry.id, "status": "posted" if created else "already posted",
            "idempotency_key": entry.draft.idempotency_key, "event_kind": entry.draft.event_kind,
            "description": entry.draft.description, "postings": postings_out(entry.draft.postings)}


def csv_text(body: s.CsvFileIn) -> str:
    """The CSV text of a file body: given as text, or written from JSON rows."""
    if (body.csv is None) == (body.rows is None):
        raise ValidationError("give exactly one of csv (the file as text) or rows (a list of objects)", field="csv")
    if body.csv is not None:
        return body.csv
    columns: list[str] = []
    for row in body.rows or []:
        columns.extend(c for c in row if c not in columns)
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in body.rows or [])
    return out.getvalue()


@api.post("/funds/{fund_id}/imports/flows", response_model=s.FlowsImportOut, status_code=201,
          summary="Import a flows file")
def import_flows(fund_id: str, body: s.CsvFileIn, principal: Caller, engine: EngineDep) -> dict:
    """A flows CSV (docs/fund-flows.md): every row is checked first; any problem rejects the
    whole file with a 422 listing every bad row. Every row must be for this fund."""
    from models.flows_store import import_flows as run_import

    text = csv_text(body)
    with engine.begin() as conn:  # every parsed row must be for the path's fund (the caller's own)
        result = run_import(conn, text, body.file_name, recorded_by(principal), only_fund=fund_id)
    return {"file": body.file_name, "posted": result.posted, "already_posted": result.already,
            "entry_ids": [r.entry.id for r in result.results if r.created]}


# ---------------------------------------------------------------------------- the fund's ledger


def _entry_filters(fund_id: str | None, account: str | None, source: str | None, tranche: str | None,
                   restriction: str | None, project: str | None, counterparty: str | None) -> dict:
    values = {"fund": fund_id, "account_code": account, "source": source, "tranche": tranche,
              "restriction": restriction, "project": project, "counterparty": counterparty}
    return {k: v for k, v in values.items() if v is not None}


def entry_page(engine, filters: dict, date_from: date | None, date_to: date | None, event_kind: str | None,
               after: int, limit: int) -> dict:
    from models.ledger_store import _hydrate, entries_t, postings_t

    p = postings_t
    conditions = [entries_t.c.id > after]
    if date_from is not None:
        conditions.append(entries_t.c.effective_date >= date_from)
    if date_to is not None:
        conditions.append(entries_t.c.effective_date <= date_to)
    if event_kind is not None:
        conditions.append(entries_t.c.event_kind == event_kind)
    if filters:
        conditions.append(exists().where(and_(p.c.entry_id == entries_t.c.id, *(p.c[k] == v for k, v in filters.items()))))
    query = select(entries_t).where(and_(*conditions)).order_by(entries_t.c.id).limit(limit + 1)
    with reading(engine) as conn:
        rows = conn.execute(query).all()
        items = _hydrate(conn, rows[:limit]) if rows else []
    return {"items": [entry_out(e) for e in items], "limit": limit,
            "next_after": items[-1].id if len(rows) > limit else None}


Limit = Annotated[int, Query(ge=1, le=500, description="Entries per page (at most 500).")]
After = Annotated[int, Query(ge=0, le=2**62, description="Return entries with an id above this (the previous page's next_after).")]
DateFrom = Annotated[date | None, Query(alias="from", ge=DATE_MIN, le=DATE_MAX, description="Effective on or after this date.")]
DateTo = Annotated[date | None, Query(alias="to", ge=DATE_MIN, le=DATE_MAX, description="Effective on or before this date.")]
Dim = Annotated[str | None, Query(max_length=64)]


@api.get("/funds/{fund_id}/entries", response_model=s.EntryPage, summary="List the fund's entries")
def list_entries(fund_id: str, engine: EngineDep, date_from: DateFrom = None, date_to: DateTo = None,
                 account: Dim = None, source: Dim = None, tranche: Dim = None, restriction: Dim = None,
                 project: Dim = None, counterparty: Dim = None, event_kind: Dim = None,
                 after: After = 0, limit: Limit = 100) -> dict:
    """Entries with a posting in this fund, in chain order, a page at a time (keyset: pass
    `next_after` as `after`). Filter by effective date and by any posting dimension."""
    filters = _entry_filters(fund_id, account, source, tranche, restriction, project, counterparty)
    return entry_page(engine, filters, date_from, date_to, event_kind, after, limit)


def _fund_entry(engine, fund_id: str | None, entry_id: int):
    from models.ledger_store import get_entry

    with reading(engine) as conn:
        entry = get_entry(conn, entry_id)
    if fund_id is not None and all(p.fund != fund_id for p in entry.draft.postings):
        raise NotFound(f"entry {entry_id} does not exist", field="entry_id")
    return entry


@api.get("/funds/{fund_id}/entries/{entry_id}", response_model=s.EntryOut, summary="One entry")
def get_fund_entry(fund_id: str, entry_id: EntryId, engine: EngineDep) -> dict:
    """An entry with its postings and hashes (404 unless it has a posting in this fund)."""
    return entry_out(_fund_entry(engine, fund_id, entry_id))


@api.post("/funds/{fund_id}/entries", response_model=list[s.PostResultOut], status_code=201,
          summary="Post journal entries")
def post_entries(fund_id: str, body: s.EntriesIn, principal: Caller, engine: EngineDep) -> list:
    """Manual journal entries, all or nothing. Postings without a fund get this fund; a posting
    for another fund is refused. Each entry's own idempotency key makes a re-post a no-op."""
    from ledger.postings import draft_from_mapping
    from models.ledger_store import Ledger

    drafts = []
    for n, entry in enumerate(body.entries, start=1):
        data = entry.model_dump(exclude_unset=True, mode="json")
        for i, posting in enumerate(data["postings"], start=1):
            posting.setdefault("fund", fund_id)
            if posting["fund"] != fund_id:
                raise ValidationError(f"entry {n}, posting {i}: fund {posting['fund']!r} is not {fund_id!r}",
                                      field=f"entries.{n - 1}.postings.{i - 1}.fund")
        drafts.append(draft_from_mapping(data, f"entry {n}"))
    results = Ledger(engine).post(drafts, recorded_by(principal))
    return [{"entry_id": r.entry.id, "idempotency_key": r.entry.draft.idempotency_key,
             "status": "posted" if r.created else "already posted", "entry_hash": r.entry.entry_hash} for r in results]


@api.post("/funds/{fund_id}/entries/{entry_id}/reversal", response_model=s.PostResultOut, status_code=201,
          summary="Reverse an entry")
def reverse(fund_id: str, entry_id: EntryId, body: s.ReversalIn, request: Request, principal: Caller,
            engine: EngineDep) -> dict:
    """Post the mirror of an entry, linked to it. An entry is reversed once (409 after that).
    The `Idempotency-Key` header, when given, becomes the reversal's ledger key."""
    from models.ledger_store import Ledger

    _fund_entry(engine, fund_id, entry_id)
    header = request.headers.get("Idempotency-Key")
    key = f"api:{header}" if header else None
    result = Ledger(engine).reverse(entry_id, body.effective_date, body.reason, recorded_by(principal), key)
    return {"entry_id": result.entry.id, "idempotency_key": result.entry.draft.idempotency_key,
            "status": "posted" if result.created else "already posted", "entry_hash": result.entry.entry_hash}


By = Annotated[str, Query(max_length=200, description="Comma-separated grouping: account_code, currency, source, "
                                                      "tranche, restriction, project, counterparty.")]


@api.get("/funds/{fund_id}/balances", response_model=s.BalancesOut, summary="Balances by any dimension")
def fund_balances(fund_id: str, engine: EngineDep, as_of: AsOf = None, by: By = "account_code,currency",
                  account: Dim = None, source: Dim = None, tranche: Dim = None, restriction: Dim = None,
                  project: Dim = None, counterparty: Dim = None) -> dict:
    """Balances of this fund as of a date, grouped by the dimensions in `by`, filtered by any."""
    from models.ledger_store import Ledger

    group = [name.strip() for name in by.split(",") if name.strip()]
    day = as_of or _today()
    filters = _entry_filters(fund_id, account, source, tranche, restriction, project, counterparty)
    rows = Ledger(engine).balances(day, group, filters)
    return {"as_of": day, "by": group, "rows": [
        {"key": dict(zip(group, r.key)), "debit_pence": r.debit_pence, "credit_pence": r.credit_pence,
         "balance_pence": r.balance_pence} for r in rows]}


def _trial_lines(lines) -> dict:
    out = [{"account": l.account_code, "name": l.account_name, "type": l.account_type, "currency": l.currency,
            "debit_pence": l.debit_pence, "credit_pence": l.credit_pence, "net_pence": l.net_pence} for l in lines]
    return {"lines": out, "net_pence": sum(l["net_pence"] for l in out)}


@api.get("/funds/{fund_id}/trial-balance", response_model=s.TrialBalanceOut, summary="The fund's trial balance")
def fund_trial_balance(fund_id: str, engine: EngineDep, as_of: AsOf = None) -> dict:
    """Per account: debits, credits and net of this fund's postings; the net sums to zero
    because every entry balances within each fund, source and restriction."""
    from models.ledger_store import TrialBalanceLine, accounts_t, balances

    day = as_of or _today()
    with reading(engine) as conn:
        names = {r.code: (r.name, r.type) for r in conn.execute(select(accounts_t))}
        rows = balances(conn, day, ("account_code", "currency"), {"fund": fund_id})
    lines = [TrialBalanceLine(r.key[0], *names.get(r.key[0], (r.key[0], "?")), r.key[1], r.debit_pence,
                              r.credit_pence, r.balance_pence) for r in rows]
    return {"as_of": day, **_trial_lines(lines)}


@api.get("/funds/{fund_id}/reports/sources-uses", response_model=s.ReportOut, summary="Sources and uses")
def report_sources_uses(fund_id: str, engine: EngineDep, as_of: AsOf = None,
                        by: Annotated[Literal["source", "project"], Query()] = "source") -> dict:
    """Who is paying for what: per source, tranche and restriction, or per project and funder."""
    from reports import flows_reports

    day = as_of or _today()
    with reading(engine) as conn:
        report = flows_reports.sources_uses if by == "source" else flows_reports.project_funding
        rows, columns = report(conn, day, fund_id)
    return {"as_of": day, "columns": columns, "rows": rows}


@api.get("/funds/{fund_id}/reports/restrictions", response_model=s.ReportOut, summary="Restricted money")
def report_restrictions(fund_id: str, engine: EngineDep, as_of: AsOf = None) -> dict:
    """Per restriction: received, transferred, income, applied, other uses and unapplied."""
    from reports import flows_reports

    day = as_of or _today()
    with reading(engine) as conn:
        rows, columns = flows_reports.restrictions(conn, day, fund_id)
    return {"as_of": day, "columns": columns, "rows": rows}


# ---------------------------------------------------------------------------- the whole ledger


@ledger_api.get("/ledger/entries", response_model=s.EntryPage, summary="List every entry")
def ledger_entries(engine: EngineDep, fund: Dim = None, date_from: DateFrom = None, date_to: DateTo = None,
                   account: Dim = None, source: Dim = None, tranche: Dim = None, restriction: Dim = None,
                   project: Dim = None, counterparty: Dim = None, event_kind: Dim = None,
                   after: After = 0, limit: Limit = 100) -> dict:
    """The whole ledger in chain order, paginated and filterable (auditors)."""
    filters = _entry_filters(fund, account, source, tranche, restriction, project, counterparty)
    return entry_page(engine, filters, date_from, date_to, event_kind, after, limit)


@ledger_api.get("/ledger/entries/{entry_id}", response_model=s.EntryOut, summary="Any one entry")
def ledger_entry(entry_id: EntryId, engine: EngineDep) -> dict:
    """Any entry with its postings and hashes (auditors)."""
    return entry_out(_fund_entry(engine, None, entry_id))


@ledger_api.get("/ledger/trial-balance", response_model=s.TrialBalanceOut, summary="Trial balance of the ledger")
def ledger_trial_balance(engine: EngineDep, as_of: AsOf = None) -> dict:
    """Every account of every fund: debits, credits, net (sums to zero)."""
    from models.ledger_store import Ledger

    day = as_of or _today()
    return {"as_of": day, **_trial_lines(Ledger(engine).trial_balance(day))}


@ledger_api.get("/ledger/verify", response_model=s.VerifyOut, summary="Verify the hash chain")
def verify(engine: EngineDep, tip: Annotated[str | None, Query(
        max_length=100, description="A tip kept from `fuel tip` (COUNT:HASH or HASH)")] = None) -> dict:
    """Walk the hash chain and the period closes; report the first record changed behind Fuel's
    back (`ok` false), and whether the ledger still passes through a kept `tip`."""
    from models.ledger_store import Ledger

    report = Ledger(engine).verify(tip)
    brk = report.first_break
    return {"ok": report.ok, "entries_checked": report.entries_checked,
            "first_break": {"entry_id": brk.entry_id, "problem": brk.problem} if brk else None,
            "breaks": [{"record": b.record, "problem": b.problem} for b in report.record_breaks],
            "tip_checked": report.tip_checked}


def _close_out(c) -> dict:
    return {"period": c.period.name, "last_day": c.period.last_day, "closed_at": c.closed_at.isoformat(),
            "closed_by": c.closed_by, "last_entry_id": c.last_entry_id}


@ledger_api.get("/ledger/period-closes", response_model=list[s.PeriodCloseOut], summary="Closed periods")
def list_closes(engine: EngineDep) -> list:
    """Every period closed, with who closed it and when."""
    from models.ledger_store import list_closes as closes

    with reading(engine) as conn:
        return [_close_out(c) for c in closes(conn)]


@ledger_api.post("/ledger/period-closes", response_model=s.PeriodCloseOut, status_code=201,
                 summary="Close a quarter")
def close_period(body: s.PeriodCloseIn, principal: Caller, engine: EngineDep) -> dict:
    """Close a quarter for the whole ledger: no entry may be dated in it or earlier afterwards
    (409). Closing a period that is already closed is a 409. Refused (422) when a fund requires
    reconciled quarter ends and this one is not (docs/bank.md)."""
    from ledger.periods import Period
    from models.bank_store import guarded_close

    with engine.begin() as conn:
        closed, _ = guarded_close(conn, Period.parse(body.period), recorded_by(principal))
    return _close_out(closed)
