"""Parties (investors, payers, providers, managers) and which funds they belong to.

A party is reference data that several funds may share; a fund's setup or manager may change
only a party no other fund uses (issue 16, item 3).
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from ledger.errors import ValidationError
from ledger.funds import Party
from models.fund_tables import CommitmentRow, PartyRow, ProjectRow
from models.tables import PostingRow

parties_t = PartyRow.__table__
commitments_t = CommitmentRow.__table__
projects_t = ProjectRow.__table__
postings_t = PostingRow.__table__


def party_funds(conn: Connection, party_id: str) -> set[str]:
    """The funds a party belongs to or is used by: the fund that created it, its commitments
    (investor), projects (provider), postings (counterparty) and contracts (payer)."""
    from models.pbr_tables import PbrClaimRunRow, PbrContractRow, PbrRunPayerRow

    contracts_t, runs_t, run_payers_t = PbrContractRow.__table__, PbrClaimRunRow.__table__, PbrRunPayerRow.__table__
    p = postings_t
    queries = [
        select(parties_t.c.owner_fund).where(parties_t.c.id == party_id, parties_t.c.owner_fund.is_not(None)),
        select(commitments_t.c.fund_id).where(commitments_t.c.investor_id == party_id),
        select(projects_t.c.fund_id).where(projects_t.c.provider_id == party_id),
        select(p.c.fund).where(p.c.counterparty == party_id, p.c.fund.is_not(None)).distinct(),
        select(contracts_t.c.fund).join(runs_t, runs_t.c.contract_id == contracts_t.c.id)
        .join(run_payers_t, run_payers_t.c.run_id == runs_t.c.id)
        .where(run_payers_t.c.payer_id == party_id, contracts_t.c.fund.is_not(None)).distinct(),
    ]
    funds = {fund for query in queries for fund in conn.execute(query).scalars()}
    # contracts with no claim run yet name their payers only in their text
    quoted = f'"{party_id}"'
    for fund, text in conn.execute(select(contracts_t.c.fund, contracts_t.c.toml_text)
                                   .where(contracts_t.c.fund.is_not(None))):
        if fund not in funds and quoted in text:
            funds.add(fund)
    return funds


def save_party(conn: Connection, party: Party, for_fund: str | None = None) -> str:
    """Add or rename a party. Through a fund (its setup, or its manager) a new party belongs to
    that fund, and an existing one may change only if no other fund uses it; the refusal does
    not say which fund does. Without a fund (the operator's ``fuel investors add``) any may."""
    row = {"id": party.id, "name": party.name, "kind": party.kind, "investor_type": party.investor_type}
    existing = conn.execute(select(parties_t).where(parties_t.c.id == party.id)).mappings().first()
    if existing is None:
        conn.execute(parties_t.insert().values(**row, owner_fund=for_fund))
        return "added"
    if for_fund is not None and any(existing[k] != v for k, v in row.items()) \
            and party_funds(conn, party.id) - {for_fund}:
        raise ValidationError(f"party {party.id} is used by another fund, so it cannot be changed through fund "
                              f"{for_fund}: keep its stored name and kind, or use a new party id", field="id")
    if all(existing[k] == v for k, v in row.items()):
        return "unchanged"
    for name in ("kind", "investor_type"):
        if existing[name] != row[name]:
            raise ValidationError(f"party {party.id} already exists with {name} {existing[name]!r}; it cannot change "
                                  f"to {row[name]!r}", field=name)
    conn.execute(parties_t.update().where(parties_t.c.id == party.id).values(**row))
    return "updated"
