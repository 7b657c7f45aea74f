"""Who is paying for what: attribution of project income and losses, and the sources-and-uses
views (pure; pandas over balances that the caller aggregated in SQL).

**Attribution rule** (documented in ``docs/fund-flows.md``): a project's money is told apart
by *funding group*, the (source, tranche, restriction) it came from.

* Income from a project (interest, outcome payments) is attributed to the groups that funded
  it pro rata to each group's *disbursed capital* in the project (every disbursement to it, of
  any form, net of reversals, as the ledger stands when the income is recorded).
* Principal repaid and valuation changes (gains, write-downs, write-offs) of a loan or working
  capital advance are attributed pro rata to each group's *carrying amount* of that instrument
  (capital disbursed in it and still outstanding), so no group's investment goes below zero.
* Every split uses :func:`ledger.money.allocate`: largest remainder, so the pence are conserved
  exactly; ties go to the group that sorts first (source, then tranche, then restriction,
  "no tranche/restriction" before any named one).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Mapping, NamedTuple

import pandas as pd

from ledger.money import allocate


class FundingGroup(NamedTuple):
    """Where money came from: the balance group of the ledger plus the tranche."""

    source: str | None
    tranche: str | None
    restriction: str | None

    @staticmethod
    def sort_key(group: "FundingGroup") -> tuple:
        return tuple((value is not None, value or "") for value in group)


def attribute(amount_pence: int, weights: Mapping[FundingGroup, int]) -> dict[FundingGroup, int]:
    """Split ``amount_pence`` over the groups pro rata to their positive weights, conserving it.

    Groups are returned in :meth:`FundingGroup.sort_key` order; groups with no positive weight
    are left out.
    """
    groups = sorted((g for g, w in weights.items() if w > 0), key=FundingGroup.sort_key)
    shares = allocate(amount_pence, [weights[g] for g in groups])
    return dict(zip(groups, shares))


# ---------------------------------------------------------------------------- report views

GROUP_COLUMNS: tuple[str, ...] = ("fund", "currency", "source", "tranche", "restriction")

#: Where each account's balance goes in the sources-and-uses view, and with which sign
#: (+1: a debit balance shows positive; -1: a credit balance shows positive).
ACCOUNT_ROLES: Mapping[str, tuple[str, int]] = {
    "contributed_capital": ("capital_in_pence", -1),
    "grant_capital": ("capital_in_pence", -1),
    "source_transfers": ("transfers_in_pence", -1),
    "interest_income": ("income_pence", -1),
    "outcome_income": ("income_pence", -1),
    "valuation_gains": ("income_pence", -1),
    "realised_gains": ("income_pence", -1),
    "write_downs": ("losses_pence", 1),
    "realised_losses": ("losses_pence", 1),
    "management_fees": ("fees_pence", 1),
    "fund_expenses": ("fees_pence", 1),
    "distributions": ("distributions_pence", 1),
    "project_grants": ("granted_pence", 1),
    "service_fees": ("delivered_pence", 1),
    "project_loans": ("invested_pence", 1),
    "working_capital_advances": ("invested_pence", 1),
    "project_investments": ("invested_pence", 1),
    "called_capital_receivable": ("receivable_pence", 1),
    "interest_receivable": ("receivable_pence", 1),
    "outcome_payments_receivable": ("receivable_pence", 1),
    "distributions_payable": ("payable_pence", -1),
    "fees_payable": ("payable_pence", -1),
    "partner_payables": ("payable_pence", -1),
    "cash": ("cash_pence", 1),
}
#: Accounts the chart may add: placed by type.
ROLE_BY_TYPE: Mapping[str, tuple[str, int]] = {
    "asset": ("other_assets_pence", 1),
    "liability": ("payable_pence", -1),
    "capital": ("capital_in_pence", -1),
    "income": ("income_pence", -1),
    "expense": ("other_expenses_pence", 1),
}
SOURCE_SIDE: tuple[str, ...] = ("capital_in_pence", "transfers_in_pence", "income_pence")
USE_SIDE: tuple[str, ...] = (
    "losses_pence", "fees_pence", "distributions_pence", "granted_pence", "delivered_pence", "other_expenses_pence",
    "invested_pence", "receivable_pence", "other_assets_pence", "cash_pence",
)
#: Subtracted on the uses side: money still owed out is not yet used.
LESS_ON_USE_SIDE: tuple[str, ...] = ("payable_pence",)
SOURCES_COLUMNS: tuple[str, ...] = (
    *GROUP_COLUMNS, *SOURCE_SIDE, "total_sources_pence", *USE_SIDE, *LESS_ON_USE_SIDE, "total_uses_pence",
)


def role_of(account: str, account_type: str | None) -> tuple[str, int]:
    if account in ACCOUNT_ROLES:
        return ACCOUNT_ROLES[account]
    return ROLE_BY_TYPE.get(account_type or "", ("other_assets_pence", 1))


def sources_view(balances: pd.DataFrame, account_types: Mapping[str, str]) -> pd.DataFrame:
    """Per (fund, currency, source, tranche, restriction): where the money came from (capital,
    transfers, income) and where it is now or went (losses, fees, distributions, grants,
    investments, receivables, cash, less payables). Each row's sources equal its uses.

    ``balances`` has columns fund, currency, source, tranche, restriction, account_code,
    balance_pence (debit positive), at any finer grain (rows are summed).
    """
    value_columns = [*SOURCE_SIDE, *USE_SIDE, *LESS_ON_USE_SIDE]
    if balances.empty:
        return pd.DataFrame(columns=list(SOURCES_COLUMNS))
    frame = balances.copy()
    roles = {code: role_of(code, account_types.get(code)) for code in frame["account_code"].unique()}
    frame["role"] = frame["account_code"].map(lambda code: roles[code][0])
    frame["signed"] = frame["balance_pence"].astype("int64") * frame["account_code"].map(lambda code: roles[code][1])
    keys = [frame[c].fillna("\x00") for c in GROUP_COLUMNS]
    pivot = frame.pivot_table(index=keys, columns="role", values="signed", aggfunc="sum", fill_value=0)
    pivot = pivot.reindex(columns=value_columns, fill_value=0).astype("int64").reset_index()
    pivot.columns = [*GROUP_COLUMNS, *value_columns]
    for column in GROUP_COLUMNS:
        pivot[column] = _restore_none(pivot[column])
    pivot["total_sources_pence"] = pivot[list(SOURCE_SIDE)].sum(axis=1)
    pivot["total_uses_pence"] = pivot[list(USE_SIDE)].sum(axis=1) - pivot[list(LESS_ON_USE_SIDE)].sum(axis=1)
    return pivot[list(SOURCES_COLUMNS)].sort_values(list(GROUP_COLUMNS), key=_sort_none).reset_index(drop=True)


def _restore_none(column: pd.Series) -> pd.Series:
    return column.astype(object).map(lambda v: None if v == "\x00" else v)


def _sort_none(column: pd.Series) -> pd.Series:
    return column.map(lambda v: "" if v is None or pd.isna(v) else "~" + str(v))


PROJECT_COLUMNS: tuple[str, ...] = (
    "fund", "currency", "project", "source", "tranche", "restriction",
    "disbursed_pence", "share_of_project", "granted_pence", "invested_pence", "income_pence", "losses_pence",
)


def projects_view(balances: pd.DataFrame, disbursed: pd.DataFrame, account_types: Mapping[str, str]) -> pd.DataFrame:
    """Per project and funding group: capital disbursed (and its share of the project's total),
    what is granted, still invested (carrying amount), and the income and losses attributed.

    ``balances``: fund, currency, project, source, tranche, restriction, account_code,
    balance_pence. ``disbursed``: fund, currency, project, source, tranche, restriction,
    disbursed_pence (gross capital disbursed by disbursement events).
    """
    keys = ["fund", "currency", "project", "source", "tranche", "restriction"]
    frame = balances[balances["project"].notna()].copy() if not balances.empty else balances
    parts = []
    if not frame.empty:
        frame["role"] = frame["account_code"].map(lambda c: role_of(c, account_types.get(c))[0])
        frame["signed"] = frame["balance_pence"].astype("int64") * frame["account_code"].map(
            lambda c: role_of(c, account_types.get(c))[1]
        )
        wanted = frame[frame["role"].isin(["granted_pence", "invested_pence", "income_pence", "losses_pence"])]
        if not wanted.empty:
            idx = [wanted[c].fillna("\x00") for c in keys]
            parts.append(wanted.pivot_table(index=idx, columns="role", values="signed", aggfunc="sum", fill_value=0))
    if not disbursed.empty:
        d = disbursed.copy()
        idx = [d[c].fillna("\x00") for c in keys]
        parts.append(d.groupby(idx)[["disbursed_pence"]].sum())
    if not parts:
        return pd.DataFrame(columns=list(PROJECT_COLUMNS))
    merged = pd.concat(parts, axis=1).fillna(0)
    merged = merged.reindex(
        columns=["disbursed_pence", "granted_pence", "invested_pence", "income_pence", "losses_pence"], fill_value=0
    ).astype("int64").reset_index()
    merged.columns = [*keys, "disbursed_pence", "granted_pence", "invested_pence", "income_pence", "losses_pence"]
    for column in keys:
        merged[column] = _restore_none(merged[column])
    totals = merged.groupby(["fund", "currency", "project"])["disbursed_pence"].transform("sum")
    merged["share_of_project"] = [
        f"{(Decimal(int(d)) * 100 / Decimal(int(t))).quantize(Decimal('0.01'))}%" if t else ""
        for d, t in zip(merged["disbursed_pence"], totals)
    ]
    merged = merged[list(PROJECT_COLUMNS)]
    return merged.sort_values(keys, key=_sort_none).reset_index(drop=True)


def reconcile(view: pd.DataFrame, trial: Mapping[str, int], account_types: Mapping[str, str]) -> list[str]:
    """Compare a sources view with a trial balance (account -> net pence, debit positive).

    Returns the differences as text (empty when everything ties): each role column's total
    against the trial balance accounts that feed it, and each row's sources against its uses.
    """
    problems = []
    expected: dict[str, int] = {}
    for account, net in trial.items():
        role, sign = role_of(account, account_types.get(account))
        expected[role] = expected.get(role, 0) + sign * int(net)
    for role in (*SOURCE_SIDE, *USE_SIDE, *LESS_ON_USE_SIDE):
        got = int(view[role].sum()) if not view.empty else 0
        if got != expected.get(role, 0):
            problems.append(f"{role}: report {got} != trial balance {expected.get(role, 0)}")
    if not view.empty:
        bad = view[view["total_sources_pence"] != view["total_uses_pence"]]
        for _, row in bad.iterrows():
            problems.append(
                f"group {row['source']}/{row['tranche']}/{row['restriction']}: sources "
                f"{row['total_sources_pence']} != uses {row['total_uses_pence']}"
            )
    return problems


RESTRICTION_COLUMNS: tuple[str, ...] = (
    "fund", "currency", "restriction", "received_pence", "transferred_pence", "income_pence",
    "applied_pence", "other_uses_pence", "unapplied_pence",
)


def restrictions_view(view: pd.DataFrame) -> pd.DataFrame:
    """Per restriction: received, transferred in (net), income attributed, applied to projects
    (granted, delivery bought, invested, lost), other uses (fees, distributions), and unapplied (cash and
    receivables less payables). received + transferred + income = applied + other + unapplied.
    """
    if view.empty:
        return pd.DataFrame(columns=list(RESTRICTION_COLUMNS))
    restricted = view[view["restriction"].notna()]
    if restricted.empty:
        return pd.DataFrame(columns=list(RESTRICTION_COLUMNS))
    g = restricted.groupby(["fund", "currency", "restriction"], sort=True)
    out = pd.DataFrame({
        "received_pence": g["capital_in_pence"].sum(),
        "transferred_pence": g["transfers_in_pence"].sum(),
        "income_pence": g["income_pence"].sum(),
        "applied_pence": g["granted_pence"].sum() + g["delivered_pence"].sum() + g["invested_pence"].sum()
        + g["losses_pence"].sum(),
        "other_uses_pence": g["fees_pence"].sum() + g["distributions_pence"].sum() + g["other_expenses_pence"].sum(),
        "unapplied_pence": g["cash_pence"].sum() + g["receivable_pence"].sum() + g["other_assets_pence"].sum()
        - g["payable_pence"].sum(),
    }).astype("int64").reset_index()
    return out[list(RESTRICTION_COLUMNS)]
