"""Fund flow reports: sources and uses, restrictions, commitments.

The database does the adding up (``balances`` and ``origin_sums`` are SQL ``GROUP BY``s over
postings); the pure views in ``ledger/sources_uses.py`` pivot the small grouped result.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Connection

from ledger.flows import DISBURSED_ACCOUNTS, Disbursement
from ledger.sources_uses import (
    PROJECT_COLUMNS,
    RESTRICTION_COLUMNS,
    SOURCES_COLUMNS,
    projects_view,
    reconcile,
    restrictions_view,
    sources_view,
)
from models.flows_store import origin_sums
from models.ledger_store import account_types, balances

BALANCE_GRAIN = ("fund", "currency", "source", "tranche", "restriction", "project", "account_code")
DISBURSED_GRAIN = ("fund", "currency", "project", "source", "tranche", "restriction")


def balance_frame(conn: Connection, as_of: date, fund: str | None = None) -> pd.DataFrame:
    filters = {"fund": fund} if fund else None
    rows = balances(conn, as_of, by=BALANCE_GRAIN, filters=filters)
    return pd.DataFrame(
        [(*r.key, r.balance_pence) for r in rows if r.balance_pence != 0],
        columns=[*BALANCE_GRAIN, "balance_pence"],
    )


def disbursed_frame(conn: Connection, as_of: date, fund: str | None = None) -> pd.DataFrame:
    rows = origin_sums(conn, Disbursement.kind, DISBURSED_ACCOUNTS, DISBURSED_GRAIN, as_of,
                       {"fund": fund} if fund else None)
    return pd.DataFrame([r for r in rows if r[-1] != 0], columns=[*DISBURSED_GRAIN, "disbursed_pence"])


def _records(frame: pd.DataFrame, columns) -> list[dict]:
    out = []
    for record in frame.to_dict("records"):
        out.append({c: _plain(record.get(c)) for c in columns})
    return out


def _plain(value):
    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item"):  # numpy scalar -> int
        return value.item()
    return value


def sources_uses(conn: Connection, as_of: date, fund: str | None = None) -> tuple[list[dict], list[str]]:
    """Per (fund, source, tranche, restriction): where money came from and where it went."""
    view = sources_view(balance_frame(conn, as_of, fund), account_types(conn))
    rows, columns = _records(view, SOURCES_COLUMNS), list(SOURCES_COLUMNS)
    return _with_reservations(conn, rows, columns, fund)


def _with_reservations(conn: Connection, rows: list[dict], columns: list[str], fund: str | None) -> tuple[list[dict], list[str]]:
    """Incubator calls hold part of a group's cash (docs/calls.md): shown as ``reserved_pence``
    and ``free_cash_pence`` (cash less reserved), only for a fund that has calls."""
    from models.calls_store import has_calls, reservations

    if not has_calls(conn, fund):
        return rows, columns
    held = reservations(conn, fund)
    for row in rows:
        # the view may carry an empty string for "no tranche/restriction"; reservations use None
        reserved = held.get((row["fund"], row["source"], row["tranche"] or None, row["restriction"] or None), 0)
        row["reserved_pence"] = reserved
        row["free_cash_pence"] = (row.get("cash_pence") or 0) - reserved
    return rows, [*columns, "reserved_pence", "free_cash_pence"]


def project_funding(conn: Connection, as_of: date, fund: str | None = None) -> tuple[list[dict], list[str]]:
    """Per project and funding group: disbursed, share of the project, and attributions."""
    view = projects_view(balance_frame(conn, as_of, fund), disbursed_frame(conn, as_of, fund), account_types(conn))
    return _records(view, PROJECT_COLUMNS), list(PROJECT_COLUMNS)


def restrictions(conn: Connection, as_of: date, fund: str | None = None) -> tuple[list[dict], list[str]]:
    """Per restriction: received, transferred, income, applied, other uses, unapplied."""
    view = restrictions_view(sources_view(balance_frame(conn, as_of, fund), account_types(conn)))
    return _records(view, RESTRICTION_COLUMNS), list(RESTRICTION_COLUMNS)


def reconciliation_problems(conn: Connection, as_of: date) -> list[str]:
    """The sources-and-uses view against the trial balance (all funds): empty when they tie."""
    types = account_types(conn)
    view = sources_view(balance_frame(conn, as_of), types)
    trial: dict[str, int] = {}
    for row in balances(conn, as_of, by=("account_code",)):
        trial[row.key[0]] = row.balance_pence
    return reconcile(view, trial, types)
