"""What the open-data exports read from the database: the grants a fund made (360Giving) and
the ledger lines of a fund (accountants' journals). Participants' tables are never read here.

Grants are found where the posting rules put them (docs/fund-flows.md): a disbursement of form
``grant`` debits ``project_grants`` (a development or first-loss grant to a project's provider),
and a joint-prime pass-through credits ``partner_payables`` for what a delivery partner is
granted out of the outcome payments received (models/partners_store.py). A reversed entry, and
the reversal itself, publish nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Iterator, Mapping, Sequence

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from ledger.errors import NotFound
from ledger.pbr.contracts import load_contract_toml
from models.fund_tables import FundRow, PartyRow, ProjectRow, TrancheRow
from models.pbr_tables import PbrContractRow
from models.tables import JournalEntryRow, PostingRow

entries_t = JournalEntryRow.__table__
postings_t = PostingRow.__table__


@dataclass(frozen=True)
class GrantRecord:
    """One grant the fund made: from one ledger entry."""

    entry_id: int
    kind: str  # "project_grant" | "partner_grant"
    award_date: date
    amount_pence: int
    currency: str
    recipient_id: str
    project_id: str | None
    source: str | None
    tranche: str | None
    restriction: str | None
    contract_id: str | None
    period: str | None
    description: str


def fund_row(conn: Connection, fund_id: str) -> dict:
    row = conn.execute(select(FundRow.__table__).where(FundRow.__table__.c.id == fund_id)).mappings().first()
    if row is None:
        raise NotFound(f"fund {fund_id!r} is not known (fuel fund list)", field="fund")
    return dict(row)


def _reversed_ids(conn: Connection):
    return select(entries_t.c.reverses_id).where(entries_t.c.reverses_id.is_not(None))


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def grant_records(conn: Connection, fund_id: str, start: date | None = None, end: date | None = None) -> list[GrantRecord]:
    """Every grant of ``fund_id`` awarded in ``[start, end]`` (inclusive), in entry order."""
    e, p = entries_t, postings_t
    live = and_(e.c.reverses_id.is_(None), e.c.id.not_in(_reversed_ids(conn)))
    dated = [e.c.effective_date >= start] if start else []
    dated += [e.c.effective_date <= end] if end else []
    records: list[GrantRecord] = []
    project_grants = conn.execute(
        select(e.c.id, e.c.effective_date, e.c.description, p.c.currency, p.c.counterparty, p.c.project, p.c.source,
               p.c.tranche, p.c.restriction, func.sum(p.c.amount_pence).label("amount_pence"))
        .join(p, p.c.entry_id == e.c.id)
        .where(p.c.account_code == "project_grants", p.c.fund == fund_id, p.c.amount_pence > 0, live, *dated)
        .group_by(e.c.id, e.c.effective_date, e.c.description, p.c.currency, p.c.counterparty, p.c.project,
                  p.c.source, p.c.tranche, p.c.restriction)
        .order_by(e.c.id)
    ).mappings().all()  # fmt: skip
    for r in project_grants:
        records.append(GrantRecord(int(r["id"]), "project_grant", _as_date(r["effective_date"]), int(r["amount_pence"]),
                                   r["currency"], r["counterparty"] or "", r["project"], r["source"], r["tranche"],
                                   r["restriction"], None, None, r["description"]))  # fmt: skip
    partner_grants = conn.execute(
        select(e.c.id, e.c.effective_date, e.c.description, e.c.event_data, p.c.currency, p.c.counterparty, p.c.project,
               p.c.source, func.sum(p.c.amount_pence).label("amount_pence"))
        .join(p, p.c.entry_id == e.c.id)
        .where(e.c.event_kind == "partner_passthrough", p.c.account_code == "partner_payables", p.c.fund == fund_id,
               live, *dated)
        .group_by(e.c.id, e.c.effective_date, e.c.description, e.c.event_data, p.c.currency, p.c.counterparty,
                  p.c.project, p.c.source)
        .order_by(e.c.id)
    ).mappings().all()  # fmt: skip
    for r in partner_grants:
        data = json.loads(r["event_data"] or "{}")
        records.append(GrantRecord(int(r["id"]), "partner_grant", _as_date(r["effective_date"]), -int(r["amount_pence"]),
                                   r["currency"], r["counterparty"] or "", r["project"], r["source"], None, None,
                                   data.get("contract"), data.get("period"), r["description"]))  # fmt: skip
    return sorted(records, key=lambda g: g.entry_id)


def fund_reference(conn: Connection, fund_id: str) -> dict:
    """Names the exports need: parties, the fund's projects and tranches, its contracts."""
    parties = {r["id"]: dict(r) for r in conn.execute(select(PartyRow.__table__)).mappings()}
    projects = {r["id"]: dict(r) for r in conn.execute(
        select(ProjectRow.__table__).where(ProjectRow.__table__.c.fund_id == fund_id)).mappings()}  # fmt: skip
    tranches = {r["id"]: dict(r) for r in conn.execute(
        select(TrancheRow.__table__).where(TrancheRow.__table__.c.fund_id == fund_id)).mappings()}  # fmt: skip
    return {"parties": parties, "projects": projects, "tranches": tranches,
            "contracts": {c.contract_id: c for c in fund_contracts(conn, fund_id)}}  # fmt: skip


def fund_contracts(conn: Connection, fund_id: str, with_text: bool = False) -> list:
    """The fund's outcomes contracts, re-read from the files as loaded (by contract id); with
    ``with_text``, ``(contract, file text)`` pairs."""
    c = PbrContractRow.__table__
    rows = conn.execute(select(c.c.toml_text, c.c.source_name, c.c.fund).order_by(c.c.id)).mappings().all()
    contracts = []
    for row in rows:
        contract = load_contract_toml(row["toml_text"], row["source_name"])
        if (row["fund"] or contract.fund) == fund_id:
            contracts.append((contract, row["toml_text"]) if with_text else contract)
    return contracts


def indigo_figures(conn: Connection, fund_id: str, plans: Mapping[str, Sequence[tuple[str, date, str, int]]] | None = None) -> list:
    """Per contract of the fund, what the INDIGO export publishes: counts and pence only (how
    many participants, outcomes accepted per quarter), never a participant's own record."""
    from ledger.pbr.indigo_export import ContractFigures, further_terms
    from models.pbr_tables import PbrClaimLineRow, PbrClaimRunRow, PbrParticipantRow, PbrRunPayerRow

    runs, lines = PbrClaimRunRow.__table__, PbrClaimLineRow.__table__
    payers, people = PbrRunPayerRow.__table__, PbrParticipantRow.__table__
    e, p = entries_t, postings_t
    out = []
    for contract, text in fund_contracts(conn, fund_id, with_text=True):
        cid = contract.contract_id
        count = conn.execute(select(func.count()).select_from(people).where(people.c.contract_id == cid)).scalar_one()
        results = conn.execute(
            select(runs.c.period, lines.c.outcome_id, func.count())
            .select_from(lines.join(runs, runs.c.id == lines.c.run_id))
            .where(runs.c.contract_id == cid, lines.c.accepted.is_(True))
            .group_by(runs.c.period, lines.c.outcome_id).order_by(runs.c.period, lines.c.outcome_id)
        ).all()  # fmt: skip
        paid = conn.execute(
            select(runs.c.period, payers.c.payer_id, payers.c.paid_pence)
            .select_from(payers.join(runs, runs.c.id == payers.c.run_id))
            .where(runs.c.contract_id == cid, payers.c.paid_pence.is_not(None), payers.c.paid_pence != 0)
            .order_by(runs.c.period_end, payers.c.payer_id)
        ).all()  # fmt: skip
        # The fund's capital in the contract's project: each loan or working capital advance
        # (an investment by the fund) and each movement of it (drawdown, repayment, interest).
        moves = conn.execute(
            select(e.c.effective_date, e.c.event_kind, p.c.account_code, p.c.amount_pence, p.c.counterparty)
            .join(p, p.c.entry_id == e.c.id)
            .where(p.c.fund == fund_id, p.c.project == contract.project,
                   p.c.account_code.in_(("project_loans", "working_capital_advances", "interest_income")),
                   e.c.event_kind.in_(("disbursement", "repayment")))
            .order_by(e.c.id, p.c.line_no)
        ).all()  # fmt: skip
        invested: dict[str, int] = {}
        transactions = []
        kinds = {"project_loans": "Loan", "working_capital_advances": "Working capital"}
        for day, _kind, account, amount, counterparty in moves:
            provider = counterparty or contract.provider
            if account == "interest_income":
                transactions.append((f"{contract.project}-interest", _as_date(day), provider, fund_id, "Interest", -int(amount)))
                continue
            inv = f"{contract.project}-{account}"
            if amount > 0:
                invested[inv] = invested.get(inv, 0) + int(amount)
                transactions.append((inv, _as_date(day), fund_id, provider, "Drawdown", int(amount)))
            else:
                transactions.append((inv, _as_date(day), provider, fund_id, "Capital repayment", -int(amount)))
        investments = tuple((inv, fund_id, kinds[inv.removeprefix(f"{contract.project}-")], pence)
                            for inv, pence in invested.items())  # fmt: skip
        out.append(ContractFigures(
            contract=contract, further_toml=further_terms(text), participants=int(count),
            results=tuple((str(a), str(b), int(c)) for a, b, c in results),
            actual_payments=tuple((str(a), str(b), int(c)) for a, b, c in paid),
            planned_payments=tuple((plans or {}).get(cid, ())),
            investments=investments, transactions=tuple(transactions),
        ))  # fmt: skip
    return out


def fund_postings(conn: Connection, fund_id: str, start: date | None = None, end: date | None = None) -> Iterator[dict]:
    """Each posting of ``fund_id`` dated in ``[start, end]``, entry by entry. An entry balances
    within each (fund, source, restriction) group, so one fund's postings of it balance alone."""
    e, p = entries_t, postings_t
    dated = [e.c.effective_date >= start] if start else []
    dated += [e.c.effective_date <= end] if end else []
    query = (select(e.c.id.label("entry_id"), e.c.effective_date, e.c.description, e.c.event_kind, p.c.line_no,
                    p.c.account_code, p.c.amount_pence, p.c.currency, p.c.fund, p.c.source, p.c.tranche,
                    p.c.restriction, p.c.project, p.c.counterparty)
             .join(p, p.c.entry_id == e.c.id)
             .where(p.c.fund == fund_id, *dated)
             .order_by(e.c.id, p.c.line_no))  # fmt: skip
    for row in conn.execute(query).mappings():
        yield {**row, "effective_date": _as_date(row["effective_date"])}
