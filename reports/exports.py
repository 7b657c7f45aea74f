"""Plain-text accounting exports, so independent tools (hledger, ledger-cli, beancount) can
re-add Fuel's ledger and agree with it to the penny.

Account names are ``<type root>:<code>``. Dimensions travel as posting tags (hledger) or posting
metadata (beancount); entry ids and hashes as transaction tags/metadata.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Iterable, TextIO

from ledger.money import format_amount
from ledger.postings import DIMENSIONS, PostedEntry

HLEDGER_ROOTS = {"asset": "assets", "liability": "liabilities", "capital": "equity", "income": "revenues", "expense": "expenses"}
BEANCOUNT_ROOTS = {"asset": "Assets", "liability": "Liabilities", "capital": "Equity", "income": "Income", "expense": "Expenses"}


def hledger_account(code: str, account_type: str) -> str:
    return f"{HLEDGER_ROOTS[account_type]}:{code}"


def beancount_account(code: str, account_type: str) -> str:
    # Beancount components must start with a capital letter and hold letters, digits or dashes.
    parts = [part for part in re.split(r"[^A-Za-z0-9]+", code) if part]
    component = "".join(part[:1].upper() + part[1:] for part in parts) or "Account"
    if not component[0].isalpha():
        component = "A" + component
    return f"{BEANCOUNT_ROOTS[account_type]}:{component}"


#: Control characters and Unicode line/paragraph separators: each would end a journal line.
_LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def _text(value: str) -> str:
    # One line, no characters that end a tag or a string.
    return _LINE_BREAKING.sub(" ", value).replace('"', "'")


def _beancount_string(value: str) -> str:
    # Inside a beancount string a backslash escapes the next character: a description ending in
    # one would swallow the closing quote, so backslashes are doubled.
    return _text(value).replace("\\", "\\\\")


def write_hledger(entries: Iterable[PostedEntry], account_types: dict[str, str], out: TextIO) -> int:
    """Write an hledger/ledger-cli journal; returns the number of transactions."""
    count = 0
    out.write("; Exported by Fuel. Amounts in major units; dimensions are posting tags.\n\n")
    for code, kind in sorted(account_types.items()):
        out.write(f"account {hledger_account(code, kind)}\n")
    out.write("\n")
    for entry in entries:
        draft = entry.draft
        out.write(
            # The entry id is the transaction code, so a description starting "(" stays a description.
            f"{draft.effective_date.isoformat()} * ({entry.id}) {_text(draft.description).replace(';', ',')}"
            f"  ; entry:{entry.id}, key:{_text(draft.idempotency_key).replace(',', ' ')}, hash:{entry.entry_hash}\n"
        )
        for p in draft.postings:
            tags = ", ".join(
                f"{name}:{_text(value).replace(',', ' ')}" for name, value in p.dimensions().items() if value
            )
            amount = f"{format_amount(p.amount_pence, p.currency)} {p.currency}"
            line = f"    {hledger_account(p.account, account_types[p.account])}  {amount}"
            out.write(f"{line}  ; {tags}\n" if tags else f"{line}\n")
        out.write("\n")
        count += 1
    return count


def write_beancount(
    entries: Iterable[PostedEntry], account_types: dict[str, str], out: TextIO, open_date: date | None = None
) -> int:
    """Write a beancount ledger; returns the number of transactions."""
    count = 0
    opened = open_date or date(1970, 1, 1)
    out.write("; Exported by Fuel. Dimensions are posting metadata.\n")
    out.write('option "operating_currency" "GBP"\n\n')
    for code, kind in sorted(account_types.items()):
        out.write(f"{opened.isoformat()} open {beancount_account(code, kind)}\n")
    out.write("\n")
    for entry in entries:
        draft = entry.draft
        out.write(f'{draft.effective_date.isoformat()} * "{_beancount_string(draft.description)}"\n')
        out.write(f"  fuel-entry: {entry.id}\n")
        out.write(f'  fuel-key: "{_beancount_string(draft.idempotency_key)}"\n')
        out.write(f'  fuel-hash: "{entry.entry_hash}"\n')
        for p in draft.postings:
            amount = f"{format_amount(p.amount_pence, p.currency)} {p.currency}"
            out.write(f"  {beancount_account(p.account, account_types[p.account])}  {amount}\n")
            for name in DIMENSIONS:
                value = getattr(p, name)
                if value:
                    out.write(f'    {name}: "{_beancount_string(value)}"\n')
        out.write("\n")
        count += 1
    return count
