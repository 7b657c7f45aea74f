"""The evidence chain: seals over the records around the ledger that a council or an investor
relies on (stored contracts, claim runs, their lines and revisions, distribution lines).

Each seal holds the SHA-256 of one record's stored fields and is chained to the seal before it
(``seal_hash`` = SHA-256 of the previous seal's hash, its id, kind, key and record hash). The
records themselves are immutable in the database (migration 0024); ``verify_evidence`` finds
the first one changed, deleted or written behind Fuel's back, by name.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Callable, Iterator, Mapping

from sqlalchemy import Connection, select

from ledger.postings import GENESIS_HASH
from models.evidence_tables import EvidenceSealRow
from models.pbr_tables import PbrClaimLineRow, PbrClaimRunRow, PbrContractRow, PbrRunRevisionRow
from models.statements_tables import DistributionLineRow

seals_t = EvidenceSealRow.__table__
contracts_t = PbrContractRow.__table__
runs_t = PbrClaimRunRow.__table__
lines_t = PbrClaimLineRow.__table__
revisions_t = PbrRunRevisionRow.__table__
distribution_lines_t = DistributionLineRow.__table__

#: The fields each seal covers: fixed here, so a column added later does not change old hashes.
FIELDS = {
    "contract": ("id", "name", "project", "provider", "fund", "currency", "source_name", "toml_text",
                 "content_hash", "loaded_at", "loaded_by"),
    "claim_run": ("id", "contract_id", "period", "period_end", "status", "line_count", "gross_pence", "net_pence",
                  "clawback_pence", "invoice_ref", "created_at", "created_by"),
    "claim_line": ("run_id", "line_no", "event_id", "participant_id", "outcome_id", "achieved_on", "evidence_ref",
                   "accepted", "reason", "rate_card_version", "price_pence", "gross_pence",
                   "reduction_participant_cap_pence", "reduction_outcome_count_cap_pence",
                   "reduction_outcome_value_cap_pence", "reduction_contract_cap_pence", "reduction_payer_cap_pence",
                   "net_pence", "cap_reason", "cap_applied", "participant_paid_cum_pence",
                   "participant_headroom_pence"),
    "run_revision": ("run_id", "revision", "status", "net_pence", "clawback_pence", "invoice_ref", "revised_at",
                     "revised_by"),
    "distribution_line": ("entry_id", "line_no", "fund", "effective_date", "party", "is_investor", "source", "tranche",
                          "restriction", "kind", "category", "amount_pence"),
}  # fmt: skip
TABLES = {"contract": contracts_t, "claim_run": runs_t, "claim_line": lines_t, "run_revision": revisions_t,
          "distribution_line": distribution_lines_t}  # fmt: skip
ORDER = {"contract": ("id",), "claim_run": ("id",), "claim_line": ("run_id", "line_no"),
         "run_revision": ("run_id", "revision"), "distribution_line": ("entry_id", "line_no")}  # fmt: skip


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    return int(value)


def record_hash(kind: str, row: Mapping) -> str:
    material = json.dumps([kind, [[name, _plain(row[name])] for name in FIELDS[kind]]], separators=(",", ":"),
                          ensure_ascii=False)  # fmt: skip
    return hashlib.sha256(material.encode()).hexdigest()


def seal_hash(prev_hash: str, seal_id: int, kind: str, key: str, record_sha: str) -> str:
    return hashlib.sha256(f"{prev_hash}|{seal_id}|{kind}|{key}|{record_sha}".encode()).hexdigest()


def _run_names(conn: Connection) -> dict[int, str]:
    return {int(i): f"{c} {p}" for i, c, p in conn.execute(select(runs_t.c.id, runs_t.c.contract_id, runs_t.c.period))}


def _namer(conn: Connection, kind: str) -> Callable[[Mapping], str]:
    """The record's key as text, which is also its name in verify's report."""
    if kind == "contract":
        return lambda r: f"contract {r['id']}"
    if kind == "distribution_line":
        return lambda r: f"distribution line {r['line_no']} of entry {r['entry_id']}"
    runs = _run_names(conn)
    if kind == "claim_run":
        return lambda r: f"claim run {runs.get(int(r['id']), r['id'])}"
    if kind == "claim_line":
        return lambda r: f"claim line {r['line_no']} of {runs.get(int(r['run_id']), 'run ' + str(r['run_id']))}"
    return lambda r: f"revision {r['revision']} of claim run {runs.get(int(r['run_id']), r['run_id'])}"


def _rows(conn: Connection, kind: str, where=None) -> Iterator[Mapping]:
    table = TABLES[kind]
    query = select(*(table.c[name] for name in FIELDS[kind])).order_by(*(table.c[n] for n in ORDER[kind]))
    if where is not None:
        query = query.where(where)
    yield from conn.execute(query).mappings()


def seal(conn: Connection, kind: str, where) -> int:
    """Seal the records of ``kind`` matching ``where`` as they are stored now (read back, so the
    hash is of what the database holds). Under the chain lock, in the caller's transaction."""
    from models.ledger_store import lock_chain

    lock_chain(conn)
    name = _namer(conn, kind)
    last = conn.execute(select(seals_t.c.id, seals_t.c.seal_hash).order_by(seals_t.c.id.desc()).limit(1)).first()
    seal_id, prev = (int(last.id), last.seal_hash) if last else (0, GENESIS_HASH)
    rows = []
    for row in _rows(conn, kind, where):
        seal_id += 1
        key, sha = name(row)[:200], record_hash(kind, row)
        prev = seal_hash(prev, seal_id, kind, key, sha)
        rows.append({"id": seal_id, "kind": kind, "record_key": key, "record_hash": sha, "prev_hash": "", "seal_hash": prev})
    for i, row in enumerate(rows):
        row["prev_hash"] = rows[i - 1]["seal_hash"] if i else (last.seal_hash if last else GENESIS_HASH)
    if rows:
        conn.execute(seals_t.insert(), rows)
    return len(rows)


def seal_everything(conn: Connection) -> None:
    """Seal every record already stored (migration 0024, for databases made before it)."""
    for kind in FIELDS:
        seal(conn, kind, None)


def verify_evidence(conn: Connection) -> tuple[str, str] | None:
    """(record name, problem) of the first broken seal or record, or None."""
    latest: dict[tuple[str, str], str] = {}
    first_sealed: dict[tuple[str, str], int] = {}
    prev, expected = GENESIS_HASH, 1
    for row in conn.execute(select(seals_t).order_by(seals_t.c.id)):
        where = f"evidence seal {row.id} ({row.record_key})"
        if row.id != expected:
            return f"evidence seal {expected}", "it is missing: the evidence chain skips from the seal before it"
        if row.prev_hash != prev or row.seal_hash != seal_hash(prev, row.id, row.kind, row.record_key, row.record_hash):
            return where, "the seal was changed after it was written"
        latest[(row.kind, row.record_key)] = row.record_hash
        first_sealed.setdefault((row.kind, row.record_key), row.id)
        prev, expected = row.seal_hash, expected + 1
    seen: set[tuple[str, str]] = set()
    for kind in FIELDS:
        name = _namer(conn, kind)
        for row in _rows(conn, kind):
            key = name(row)[:200]
            seen.add((kind, key))
            sealed = latest.get((kind, key))
            if sealed is None:
                return key, "it has no seal: it was written behind Fuel's back"
            if sealed != record_hash(kind, row):
                return key, "it was changed after it was stored"
    missing = sorted((k for k in latest if k not in seen), key=first_sealed.__getitem__)  # a run before its lines
    if missing:
        return missing[0][1], "it was deleted"
    return None
