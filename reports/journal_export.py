"""A fund's ledger as journals an accountant imports: Xero's manual journal CSV and Sage 50's
audit trail (JD/JC) CSV.

Pure: postings (models/opendata_store.py: ``fund_postings``) and an account map (TOML, see
``fixtures/journal/account_map.toml``) in; rows out. One Fuel entry is one journal; each
journal's lines sum to zero, checked before anything is written. Amounts come from integer pence
through :func:`ledger.money.format_amount`, never a float.

Xero (help.xero.com "Import manual journals"): ``*Narration, *Date, Description, *AccountCode,
*TaxRate, *Amount, TrackingName1, TrackingOption1, TrackingName2, TrackingOption2``; a positive
amount is a debit, a negative one a credit; the rows of one journal share its narration and
date; dates ``dd/mm/yyyy``; at most 300 lines per file. Sage 50 (audit trail transactions
import): ``Type, Account Reference, Nominal A/C Ref, Department Code, Date, Reference, Details,
Net Amount, Tax Code, Tax Amount, ...``; ``JD`` a journal debit and ``JC`` a credit, each with
a positive net amount; the lines of one journal share its reference and date.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, Mapping, Sequence

from ledger.errors import ValidationError
from ledger.money import format_amount

XERO_COLUMNS = ("*Narration", "*Date", "Description", "*AccountCode", "*TaxRate", "*Amount",
                "TrackingName1", "TrackingOption1", "TrackingName2", "TrackingOption2")  # fmt: skip
SAGE_COLUMNS = ("Type", "Account Reference", "Nominal A/C Ref", "Department Code", "Date", "Reference", "Details",
                "Net Amount", "Tax Code", "Tax Amount", "Exchange Rate", "Extra Reference", "User Name",
                "Project Refn", "Cost Code Refn")  # fmt: skip
XERO_LINES_MAX = 300  # Xero imports at most 300 lines per file
TRACKABLE = ("fund", "source", "project")
SAGE_DETAILS_MAX, SAGE_REFERENCE_MAX, SAGE_EXTRA_MAX = 60, 30, 30


@dataclass(frozen=True)
class AccountMap:
    codes: Mapping[str, Mapping[str, str]]  # fuel account -> {"xero": code, "sage": code}
    xero_tax_rate: str
    xero_tracking: tuple[str, str]
    tracking_names: Mapping[str, str]
    sage_tax_code: str
    sage_departments: Mapping[str, int]


def parse_account_map(text: str, source_name: str) -> AccountMap:
    """Read the TOML account map; every problem names the file and the key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"{source_name}: not valid TOML: {exc}") from None
    accounts = data.get("accounts")
    if not isinstance(accounts, dict) or not accounts:
        raise ValidationError(f"{source_name}: [accounts] must map each Fuel account to its codes", field="accounts")
    codes: dict[str, dict[str, str]] = {}
    for account, targets in accounts.items():
        if not isinstance(targets, dict):
            raise ValidationError(f"{source_name}: accounts.{account} must be a table like {{ xero = \"090\", sage = \"1200\" }}",
                                  field="accounts")  # fmt: skip
        for target, code in targets.items():
            if target not in ("xero", "sage") or not isinstance(code, str) or not code.strip():
                raise ValidationError(f"{source_name}: accounts.{account}.{target} must be xero or sage with a code as text",
                                      field="accounts")  # fmt: skip
        codes[account] = {t: c.strip() for t, c in targets.items()}
    xero, sage = data.get("xero", {}), data.get("sage", {})
    tracking = tuple(xero.get("tracking", ("source", "project")))
    if len(tracking) != 2 or len(set(tracking)) != 2 or not set(tracking) <= set(TRACKABLE):
        raise ValidationError(f"{source_name}: xero.tracking must be two of {', '.join(TRACKABLE)}, got {list(tracking)}",
                              field="tracking")  # fmt: skip
    names = {**{d: d.title() for d in TRACKABLE}, **xero.get("tracking_names", {})}
    departments = sage.get("departments", {})
    for project, number in departments.items():
        if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= 999:
            raise ValidationError(f"{source_name}: sage.departments.{project} must be a whole number 0-999", field="departments")
    return AccountMap(codes=codes, xero_tax_rate=str(xero.get("tax_rate", "No VAT")), xero_tracking=tracking,  # type: ignore[arg-type]
                      tracking_names=names, sage_tax_code=str(sage.get("tax_code", "T9")),
                      sage_departments=dict(departments))  # fmt: skip


def _journals(postings: Iterable[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
    out: list[list[Mapping[str, Any]]] = []
    for posting in postings:
        if out and out[-1][0]["entry_id"] == posting["entry_id"]:
            out[-1].append(posting)
        else:
            out.append([posting])
    return out


def _code(mapping: AccountMap, account: str, target: str, source_name: str) -> str:
    code = mapping.codes.get(account, {}).get(target)
    if code is None:
        raise ValidationError(f"{source_name}: Fuel account {account!r} has no {target} code (add "
                              f"accounts.{account}.{target})", field="accounts")  # fmt: skip
    return code


def _check(journal: Sequence[Mapping[str, Any]], fund_id: str, currency: str) -> None:
    entry = journal[0]["entry_id"]
    other = {p["currency"] for p in journal} - {currency}
    if other:
        raise ValidationError(f"entry {entry} has postings in {sorted(other)[0]}; the journal export is in the fund's "
                              f"currency {currency} only", field="currency")  # fmt: skip
    if sum(int(p["amount_pence"]) for p in journal) != 0:  # a broken ledger invariant: refuse, never write it
        raise ValidationError(f"entry {entry} does not balance; run `fuel verify`", field="entry")


def _line_text(p: Mapping[str, Any], names: Mapping[str, str]) -> str:
    dims = [f"{k} {p[k]}" for k in ("tranche", "restriction", "counterparty") if p.get(k)]
    return "; ".join([names.get(p["account_code"], p["account_code"]), *dims])


def xero_rows(postings: Iterable[Mapping[str, Any]], mapping: AccountMap, fund_id: str, currency: str,
              account_names: Mapping[str, str], source_name: str) -> list[list[list[str]]]:
    """Journals as lists of Xero rows (one list per journal)."""
    out = []
    first, second = mapping.xero_tracking
    for journal in _journals(postings):
        _check(journal, fund_id, currency)
        head = journal[0]
        narration = f"{fund_id} #{head['entry_id']}: {head['description']}"[:255]
        day = head["effective_date"].strftime("%d/%m/%Y")
        rows = []
        for p in journal:
            if int(p["amount_pence"]) == 0:
                continue
            rows.append([narration, day, _line_text(p, account_names)[:255],
                         _code(mapping, p["account_code"], "xero", source_name), mapping.xero_tax_rate,
                         format_amount(int(p["amount_pence"]), currency),
                         mapping.tracking_names[first] if p.get(first) else "", p.get(first) or "",
                         mapping.tracking_names[second] if p.get(second) else "", p.get(second) or ""])  # fmt: skip
        if rows:
            out.append(rows)
    return out


def sage_rows(postings: Iterable[Mapping[str, Any]], mapping: AccountMap, fund_id: str, currency: str,
              account_names: Mapping[str, str], source_name: str) -> list[list[list[str]]]:
    """Journals as lists of Sage 50 audit trail rows (JD/JC)."""
    out = []
    for journal in _journals(postings):
        _check(journal, fund_id, currency)
        head = journal[0]
        reference = f"{fund_id}-{head['entry_id']}"
        if len(reference) > SAGE_REFERENCE_MAX:
            reference = f"FUEL-{head['entry_id']}"
        day = head["effective_date"].strftime("%d/%m/%Y")
        rows = []
        for p in journal:
            pence = int(p["amount_pence"])
            if pence == 0:
                continue
            details = f"{head['description']} | {_line_text(p, account_names)}"[:SAGE_DETAILS_MAX]
            extra = "/".join(x for x in (p.get("source"), p.get("project")) if x)[:SAGE_EXTRA_MAX]
            rows.append(["JD" if pence > 0 else "JC", "", _code(mapping, p["account_code"], "sage", source_name),
                         str(mapping.sage_departments.get(p.get("project") or "", 0)), day, reference, details,
                         format_amount(abs(pence), currency), mapping.sage_tax_code, "0.00", "", extra, "fuel", "", ""])  # fmt: skip
        if rows:
            out.append(rows)
    return out


def split_files(journals: Sequence[Sequence[list[str]]], lines_max: int) -> list[list[list[str]]]:
    """Pack whole journals into files of at most ``lines_max`` lines (a journal is never split)."""
    files: list[list[list[str]]] = [[]]
    for journal in journals:
        if len(journal) > lines_max:
            raise ValidationError(f"journal {journal[0][0]!r} has {len(journal)} lines, more than one file may hold "
                                  f"({lines_max})", field="entry")  # fmt: skip
        if len(files[-1]) + len(journal) > lines_max:
            files.append([])
        files[-1].extend(journal)
    return [f for f in files if f]


def period_label(start: date | None, end: date | None) -> str:
    return f"{start or 'the start'} to {end or 'today'}"
