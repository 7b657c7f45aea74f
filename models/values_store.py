"""Value tables in the database (``value_tables``) and the figures a value report needs.

``store_value_table`` checks a value table and its deflator (parsed by :mod:`ledger.values`, the
one parser) against the contract it names, and stores both texts as a new version; loading the
same texts again is a no-op. ``value_table_for`` re-parses the latest version. ``approved_figures``
reads, per contract, the outcomes validated and the outcome payments approved per payer in the
claim runs that ended by a date: the costs and counts the value arithmetic runs on.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, and_, func, select

from ledger.errors import ImportRejected, NotFound, ValidationError
from ledger.values import ValueTable, deflator_from_mapping, value_table_from_mapping
from models.ledger_store import utc_now
from models.pbr_store import current_status, get_contract  # a run's status is its latest revision's
from models.pbr_tables import PbrClaimLineRow, PbrClaimRunRow, PbrRunPayerRow
from models.values_tables import ValueTableRow

values_t = ValueTableRow.__table__
NO_TABLE_HINT = "load one with `fuel values load FILE` (demo tables: fixtures/values/)"


@dataclass(frozen=True, slots=True)
class ValueSource:
    table_text: str
    table_name: str
    deflator_text: str
    deflator_name: str


def _toml(text: str, name: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ImportRejected(f"{name}: not valid TOML", [f"{name}: {exc}"]) from None


def parse_value_table(conn: Connection | None, source: ValueSource) -> ValueTable:
    """The table a source holds, checked against its contract's outcomes when ``conn`` is given."""
    deflator = deflator_from_mapping(_toml(source.deflator_text, source.deflator_name), source.deflator_name)
    data = _toml(source.table_text, source.table_name)
    outcome_ids = None
    if conn is not None:
        contract_id = data.get("contract")
        if not isinstance(contract_id, str) or not contract_id:
            raise ImportRejected(f"{source.table_name}: value table rejected",
                                 [f"{source.table_name}: table.contract: is required"])
        outcome_ids = [o.outcome_id for o in get_contract(conn, contract_id).outcomes]
    return value_table_from_mapping(data, source.table_name, deflator, outcome_ids)


def store_value_table(conn: Connection, source: ValueSource, loaded_by: str = "fuel") -> tuple[int, ValueTable, str]:
    """Check and store; returns (stored version, table, ``added`` or ``unchanged``)."""
    table = parse_value_table(conn, source)
    sha = hashlib.sha256((source.table_text + "\x00" + source.deflator_text).encode("utf-8")).hexdigest()
    latest = conn.execute(select(values_t).where(values_t.c.contract_id == table.contract)
                          .order_by(values_t.c.version.desc()).limit(1)).first()
    if latest is not None and latest.content_sha256 == sha:
        return latest.version, table, "unchanged"
    version = (latest.version if latest else 0) + 1
    conn.execute(values_t.insert().values(
        contract_id=table.contract, version=version, table_id=table.id, table_name=source.table_name[:500],
        table_text=source.table_text, deflator_name=source.deflator_name[:500], deflator_text=source.deflator_text,
        content_sha256=sha, loaded_at=utc_now(), loaded_by=loaded_by[:100]))
    return version, table, "added"


def list_value_tables(conn: Connection) -> list[dict]:
    rows = conn.execute(select(values_t).order_by(values_t.c.contract_id, values_t.c.version)).all()
    return [{"contract": r.contract_id, "version": r.version, "table": r.table_id, "file": r.table_name,
             "deflator": r.deflator_name, "sha256": r.content_sha256[:12],
             "loaded_at": r.loaded_at.isoformat(timespec="seconds"), "loaded_by": r.loaded_by} for r in rows]


def value_table_for(conn: Connection, contract_id: str) -> tuple[int, ValueTable] | None:
    """The latest stored version of a contract's value table (None: none loaded)."""
    row = conn.execute(select(values_t).where(values_t.c.contract_id == contract_id)
                       .order_by(values_t.c.version.desc()).limit(1)).first()
    if row is None:
        return None
    source = ValueSource(row.table_text, row.table_name, row.deflator_text, row.deflator_name)
    return row.version, parse_value_table(None, source)


def approved_figures(conn: Connection, contract_id: str, as_of: date) -> tuple[dict[str, int], dict[str, int], list[str]]:
    """(validated outcomes per outcome id, approved outcome payments per payer in pence, periods)
    over the contract's claim runs that ended by ``as_of`` and whose payments were approved."""
    runs = PbrClaimRunRow.__table__
    payers = PbrRunPayerRow.__table__
    lines = PbrClaimLineRow.__table__
    approved = select(runs.c.id).where(runs.c.contract_id == contract_id, runs.c.period_end <= as_of + timedelta(days=1),
                                       current_status(runs).in_(("approved", "invoiced", "paid", "sampled")))  # fmt: skip
    run_ids = list(conn.execute(approved).scalars())
    periods = list(conn.execute(select(runs.c.period).where(runs.c.id.in_(run_ids)).order_by(runs.c.period)).scalars())
    if not run_ids:
        return {}, {}, []
    counts = dict(conn.execute(select(lines.c.outcome_id, func.count()).where(
        # a mechanism payment (outcome ``mechanism:...``, issue 17) is paid money but no participant outcome
        and_(lines.c.run_id.in_(run_ids), lines.c.accepted.is_(True), ~lines.c.outcome_id.like("mechanism:%")))
        .group_by(lines.c.outcome_id)).all())
    paid = dict(conn.execute(select(payers.c.payer_id, func.sum(payers.c.approved_pence)).where(
        payers.c.run_id.in_(run_ids)).group_by(payers.c.payer_id)).all())
    return ({k: int(v) for k, v in counts.items()}, {k: int(v or 0) for k, v in paid.items()}, periods)


def contracts_of_fund(conn: Connection, fund: str | None) -> list[str]:
    from models.pbr_tables import PbrContractRow

    contracts = PbrContractRow.__table__
    query = select(contracts.c.id).order_by(contracts.c.id)
    if fund is not None:
        query = query.where(contracts.c.fund == fund)
    ids = list(conn.execute(query).scalars())
    if fund is not None and not ids:
        from models.fund_tables import FundRow

        if conn.execute(select(FundRow.__table__.c.id).where(FundRow.__table__.c.id == fund)).first() is None:
            raise NotFound(f"unknown fund {fund!r}", field="fund")
    return ids


def require_table(conn: Connection, contract_id: str) -> tuple[int, ValueTable]:
    found = value_table_for(conn, contract_id)
    if found is None:
        raise ValidationError(f"contract {contract_id} has no value table: {NO_TABLE_HINT}", field="contract")
    return found


def shares_by_outcome(conn: Connection, contract_id: str, as_of: date) -> dict[tuple[str, str], int]:
    """(payer, outcome) -> pence of the payers' line shares in the same approved runs: the flow
    from each payer to each outcome (before any clawback taken on the run as a whole)."""
    from models.pbr_tables import PbrLineShareRow

    runs = PbrClaimRunRow.__table__
    lines = PbrClaimLineRow.__table__
    shares = PbrLineShareRow.__table__
    query = (select(shares.c.payer_id, lines.c.outcome_id, func.sum(shares.c.share_pence))
             .join(lines, and_(lines.c.run_id == shares.c.run_id, lines.c.line_no == shares.c.line_no))
             .join(runs, runs.c.id == shares.c.run_id)
             .where(runs.c.contract_id == contract_id, runs.c.period_end <= as_of + timedelta(days=1),
                    current_status(runs).in_(("approved", "invoiced", "paid", "sampled")))
             .group_by(shares.c.payer_id, lines.c.outcome_id))
    return {(p, o): int(v or 0) for p, o, v in conn.execute(query).all() if v}
