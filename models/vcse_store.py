"""Local VCSE capacity in the database: organisations' profiles, a fund's local areas, and the
money flows the VCSE report adds up (``ledger.vcse``; docs/value.md).

Flows, per quarter (of the entry's date, or of the claim period):

* ``delivery``: capital disbursed to a project (the ledger's disbursement postings to the
  disbursed accounts, net of reversals), received by the project's provider; and each joint-prime
  pass-through to a delivery partner (share and fees);
* ``outcome``: outcome payments approved on the fund's contracts' claim runs, received by the
  contract's project's provider, except the partners' shares of them passed on by that run's
  pass-through, which the partners receive (fees are the prime's spending, not outcome
  payments). The parts add up to the run's approved payments. A run not yet passed through
  counts wholly with the prime.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Connection, delete, func, select

from ledger.periods import Period
from ledger.vcse import Flow, Organisation, check_areas
from models.ledger_store import utc_now
from models.pbr_store import current_status
from models.vcse_tables import VcseFundAreaRow, VcseOrganisationRow

orgs_t = VcseOrganisationRow.__table__
areas_t = VcseFundAreaRow.__table__


def store_organisations(conn: Connection, organisations: list[Organisation], source: str, loaded_by: str) -> int:
    """Insert or replace each organisation's profile (reference data: the latest load applies)."""
    if not organisations:
        return 0
    ids = [o.party_id for o in organisations]
    conn.execute(delete(orgs_t).where(orgs_t.c.party_id.in_(ids)))
    now = utc_now()
    conn.execute(orgs_t.insert(), [{"party_id": o.party_id, "org_type": o.org_type, "size_band": o.size_band,
                                    "la_code": o.la_code, "source": source[:500], "loaded_at": now,
                                    "loaded_by": loaded_by[:100]} for o in organisations])
    return len(organisations)


def set_fund_areas(conn: Connection, fund: str, codes: list[str]) -> list[str]:
    from models.flows_store import book_of

    book_of(conn, fund)  # an unknown fund is a clear error
    codes = check_areas(codes, f"fund {fund}")
    conn.execute(delete(areas_t).where(areas_t.c.fund_id == fund))
    conn.execute(areas_t.insert(), [{"fund_id": fund, "la_code": c} for c in codes])
    return codes


def fund_areas(conn: Connection, fund: str) -> list[str]:
    return list(conn.execute(select(areas_t.c.la_code).where(areas_t.c.fund_id == fund).order_by(areas_t.c.la_code)).scalars())


def organisations(conn: Connection) -> dict[str, Organisation]:
    return {r.party_id: Organisation(r.party_id, r.org_type, r.size_band, r.la_code)
            for r in conn.execute(select(orgs_t)).all()}


def _quarter(day: date) -> str:
    return Period.containing(day).name


def fund_flows(conn: Connection, fund: str, start: date | None, end: date) -> tuple[list[Flow], dict[str, str]]:
    """The fund's flows with a day (or claim period start) in ``[start, end]``, and its joint
    primes (contract -> label)."""
    from ledger.flows import DISBURSED_ACCOUNTS, Disbursement
    from models.flows_store import book_of
    from models.partner_tables import PbrPartnerAmountRow, PbrPassThroughRow
    from models.pbr_tables import PbrClaimRunRow, PbrContractRow, PbrRunPayerRow
    from models.statements_store import _origin_by_day

    book = book_of(conn, fund)
    providers = {p.id: p.provider for p in book.projects.values()}
    contracts_t = PbrContractRow.__table__
    contracts = dict(conn.execute(select(contracts_t.c.id, contracts_t.c.project).where(contracts_t.c.fund == fund)).all())
    contract_of = {project: c for c, project in sorted(contracts.items(), reverse=True)}
    flows: list[Flow] = []
    day_end = end + timedelta(days=1)
    for day, project, amount in _origin_by_day(conn, fund, day_end, Disbursement.kind, DISBURSED_ACCOUNTS, ("project",)):
        if (start is None or day >= start) and project:
            flows.append(Flow(_quarter(day), "delivery", contract_of.get(project, project),
                              providers.get(project, project), amount))
    runs, payers = PbrClaimRunRow.__table__, PbrRunPayerRow.__table__
    passes, amounts = PbrPassThroughRow.__table__, PbrPartnerAmountRow.__table__
    query = (select(runs.c.id, runs.c.contract_id, runs.c.period, func.sum(payers.c.approved_pence))
             .join(payers, payers.c.run_id == runs.c.id)
             .where(runs.c.contract_id.in_(list(contracts)), current_status(runs).in_(("approved", "invoiced", "paid", "sampled")))
             .group_by(runs.c.id, runs.c.contract_id, runs.c.period))
    passed = {}
    for run_id, partner, share_pence, fees_pence in conn.execute(
            select(passes.c.run_id, amounts.c.partner_id, amounts.c.share_pence, amounts.c.fees_pence)
            .join(amounts, amounts.c.passthrough_id == passes.c.id)
            .where(passes.c.contract_id.in_(list(contracts)))).all():
        passed.setdefault(run_id, []).append((partner, int(share_pence), int(fees_pence)))
    joint = {c: f"joint prime {c}" for c in conn.execute(
        select(passes.c.contract_id).where(passes.c.contract_id.in_(list(contracts))).distinct()).scalars()}
    for run_id, contract_id, period, approved in conn.execute(query).all():
        quarter = Period.parse(period)
        if quarter.start > end or (start is not None and quarter.start < Period.containing(start).start):
            continue
        prime = providers.get(contracts[contract_id], contract_id)
        kept = int(approved or 0)
        for partner, share_pence, fees_pence in passed.get(run_id, []):
            if share_pence + fees_pence:
                flows.append(Flow(quarter.name, "delivery", contract_id, partner, share_pence + fees_pence))
            if share_pence:  # fees are the prime's spending, not a part of the outcome payments
                flows.append(Flow(quarter.name, "outcome", contract_id, partner, share_pence))
                kept -= share_pence
        flows.append(Flow(quarter.name, "outcome", contract_id, prime, kept))
    return flows, joint
