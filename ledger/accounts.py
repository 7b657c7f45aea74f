"""Chart of accounts: data, not code. Each fund loads its own chart from a TOML file."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from enum import StrEnum

from ledger.errors import ImportRejected


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    CAPITAL = "capital"
    INCOME = "income"
    EXPENSE = "expense"


#: Debit-normal types show a positive balance as a debit; the rest as a credit.
DEBIT_NORMAL = frozenset({AccountType.ASSET, AccountType.EXPENSE})

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Account:
    code: str
    name: str
    type: AccountType
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class Chart:
    accounts: tuple[Account, ...]

    def by_code(self) -> dict[str, Account]:
        return {account.code: account for account in self.accounts}


def chart_from_mapping(data: dict, source_name: str) -> Chart:
    """Validate a chart given as ``{"accounts": [{code, name, type, parent?}, ...]}``.

    Every problem is collected and reported together, each naming the account row and field.
    """
    problems: list[str] = []
    rows = data.get("accounts")
    if not isinstance(rows, list) or not rows:
        raise ImportRejected(f"{source_name}: no accounts", [f"{source_name}: expected [[accounts]] tables"])
    accounts: list[Account] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        where = f"{source_name}: accounts[{index}]"
        if not isinstance(row, dict):
            problems.append(f"{where}: expected a table")
            continue
        code = row.get("code")
        name = row.get("name")
        kind = row.get("type")
        parent = row.get("parent")
        unknown = set(row) - {"code", "name", "type", "parent"}
        if unknown:
            problems.append(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        if not isinstance(code, str) or not _CODE.match(code):
            problems.append(f"{where}.code: {code!r} is not a code (letters, digits, _ . -)")
            continue
        if code in seen:
            problems.append(f"{where}.code: duplicate account code {code!r}")
        seen.add(code)
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{where}.name: missing")
        if kind not in {t.value for t in AccountType}:
            problems.append(
                f"{where}.type: {kind!r} is not one of {', '.join(t.value for t in AccountType)}"
            )
            continue
        if parent is not None and not isinstance(parent, str):
            problems.append(f"{where}.parent: must be an account code")
            continue
        accounts.append(Account(code, str(name), AccountType(kind), parent))
    codes = {a.code for a in accounts}
    by_code = {a.code: a for a in accounts}
    for index, account in enumerate(accounts):
        if account.parent is None:
            continue
        if account.parent not in codes:
            problems.append(f"{source_name}: account {account.code}: parent {account.parent!r} is not in the chart")
        elif by_code[account.parent].type != account.type:
            problems.append(
                f"{source_name}: account {account.code}: type {account.type} differs from its parent "
                f"{account.parent} ({by_code[account.parent].type})"
            )
    if problems:
        raise ImportRejected(f"{source_name}: chart of accounts rejected", problems)
    return Chart(tuple(accounts))


def load_chart_toml(text: str, source_name: str) -> Chart:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ImportRejected(f"{source_name}: not valid TOML", [f"{source_name}: {exc}"]) from None
    return chart_from_mapping(data, source_name)
