"""Bank statement files read into one :class:`~ledger.bank.Statement`: CSV (with a column
mapping saved per bank), OFX (``ofxtools``), SWIFT MT940 (``mt-940``) and ISO 20022 CAMT.053
(the standard library's ``xml.etree``: see README's dependency table for why).

Each reader is a pure function of the file's bytes (and, for CSV, the mapping). Every problem
found is collected and the whole file refused (:class:`~ledger.errors.ImportRejected`), each
problem naming the file and the line (CSV row, OFX/CAMT transaction number, MT940 ``:61:``
number). Amounts are read from text or ``Decimal``, never through a float.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from ledger.bank import Statement, StatementLine
from ledger.errors import FuelError, ImportRejected, ValidationError
from ledger.money import parse_amount

FORMATS = ("csv", "ofx", "mt940", "camt053")
#: A statement file larger than this is refused unread (a month of a fund's bank is kilobytes).
FILE_MAX_BYTES = 20 * 1024 * 1024
LINES_MAX = 100_000
TEXT_MAX_CHARS = 500


def guess_format(name: str, data: bytes) -> str:
    """From the file's start, then its extension."""
    head = data[:2000].lstrip(b"\xef\xbb\xbf \r\n\t").upper()
    if head.startswith(b"OFXHEADER") or b"<OFX>" in head:
        return "ofx"
    if b"CAMT.053" in head or b"BKTOCSTMRSTMT" in head:
        return "camt053"
    if head.startswith(b"{1:") or head.startswith(b":20:") or b"\n:20:" in head or b":60F:" in head:
        return "mt940"
    suffix = name.lower().rsplit(".", 1)[-1]
    return {"ofx": "ofx", "qfx": "ofx", "sta": "mt940", "940": "mt940", "mt940": "mt940", "xml": "camt053"}.get(
        suffix, "csv")


def read_statement(data: bytes, name: str, fmt: str, currency: str, mapping: "CsvMapping | None" = None) -> Statement:
    if len(data) > FILE_MAX_BYTES:
        raise ImportRejected(f"{name}: statement rejected", [f"{name}: larger than {FILE_MAX_BYTES} bytes"])
    if fmt == "csv":
        if mapping is None:
            raise ValidationError(f"{name}: a CSV statement needs the bank's column mapping "
                                  "(`fuel bank csv-mapping BANK ...`, then `fuel bank account add ... --bank BANK`)",
                                  field="mapping")
        return parse_csv(data, name, mapping, currency)
    readers = {"ofx": parse_ofx, "mt940": parse_mt940, "camt053": parse_camt053}
    if fmt not in readers:
        raise ValidationError(f"format {fmt!r} is not one of {', '.join(FORMATS)}", field="format")
    return readers[fmt](data, name, currency)


def _text(value: object) -> str:
    return re.sub(r"\s+", " ", str(value or "")).strip()[:TEXT_MAX_CHARS]


def _decimal_pence(value: Decimal, where: str, problems: list[str]) -> int | None:
    try:
        scaled = Decimal(value) * 100
    except (InvalidOperation, TypeError):
        problems.append(f"{where}: amount {value!r} is not a number")
        return None
    if scaled != scaled.to_integral_value():
        problems.append(f"{where}: amount {value} has more than 2 decimal places; Fuel will not guess how to round it")
        return None
    return int(scaled)


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected(f"{name}: statement rejected",
                             [f"{name}: byte {exc.start}: not UTF-8 text"]) from None


def _reject(name: str, problems: list[str]) -> None:
    if problems:
        raise ImportRejected(f"{name}: statement rejected ({len(problems)} problem(s); nothing imported)", problems)


# ---------------------------------------------------------------------------- CSV


@dataclass(frozen=True)
class CsvMapping:
    """Which header holds what, for one bank's CSV export. Either ``amount`` (signed, money in
    positive) or ``credit`` and ``debit`` (both unsigned)."""

    date: str
    amount: str | None = None
    credit: str | None = None
    debit: str | None = None
    reference: str | None = None
    description: str | None = None
    balance: str | None = None
    txn_id: str | None = None
    date_format: str = "%Y-%m-%d"

    def __post_init__(self) -> None:
        if (self.amount is None) == (self.credit is None and self.debit is None):
            raise ValidationError("a CSV mapping names either an amount column or credit and debit columns",
                                  field="amount")
        if self.amount is None and (self.credit is None or self.debit is None):
            raise ValidationError("a CSV mapping with credit/debit columns names both", field="credit")
        try:
            datetime.strptime(datetime(2026, 1, 31).strftime(self.date_format), self.date_format)
        except ValueError:
            raise ValidationError(f"date format {self.date_format!r} cannot be read back", field="date_format") from None

    def columns(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v is not None and k != "date_format"}


def _csv_amount(text: str, currency: str) -> int:
    cleaned = text.strip().replace(",", "")  # banks' exports use thousands separators
    if cleaned.startswith("(") and cleaned.endswith(")"):
        cleaned = "-" + cleaned[1:-1]
    return parse_amount(cleaned.lstrip("£"), currency)


def parse_csv(data: bytes, name: str, mapping: CsvMapping, currency: str) -> Statement:
    text = _decode(data, name)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [c for c in mapping.columns().values() if c not in header]
    if missing:
        raise ImportRejected(f"{name}: statement rejected",
                             [f"{name}: header: no column {c!r} (the mapping names it; the file has "
                              f"{', '.join(repr(h) for h in header) or 'no header'})" for c in missing])
    problems: list[str] = []
    lines: list[StatementLine] = []
    for row_no, row in enumerate(reader, start=2):
        if len(lines) >= LINES_MAX:
            problems.append(f"{name}: more than {LINES_MAX} lines")
            break
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        where = f"{name}: line {row_no}"
        try:
            booked = datetime.strptime((row[mapping.date] or "").strip(), mapping.date_format).date()
        except ValueError:
            problems.append(f"{where}: {mapping.date}: {row[mapping.date]!r} is not a date like "
                            f"{date(2026, 1, 31).strftime(mapping.date_format)}")
            continue
        try:
            if mapping.amount is not None:
                amount = _csv_amount(row[mapping.amount] or "", currency)
            else:
                credit, debit = (row[mapping.credit] or "").strip(), (row[mapping.debit] or "").strip()
                if bool(credit) == bool(debit):
                    raise ValidationError(f"{mapping.credit}/{mapping.debit}: exactly one of them has an amount")
                amount = _csv_amount(credit, currency) if credit else -_csv_amount(debit, currency)
            balance = None
            if mapping.balance is not None and (row[mapping.balance] or "").strip():
                balance = _csv_amount(row[mapping.balance], currency)
        except FuelError as exc:
            problems.append(f"{where}: {exc}")
            continue
        lines.append(StatementLine(
            line_no=row_no, booked_on=booked, amount_pence=amount,
            reference=_text(row.get(mapping.reference)) if mapping.reference else "",
            description=_text(row.get(mapping.description)) if mapping.description else "",
            bank_txn_id=_text(row.get(mapping.txn_id)) or None if mapping.txn_id else None,
            balance_after_pence=balance,
        ))
    _reject(name, problems)
    if not lines:
        raise ImportRejected(f"{name}: statement rejected", [f"{name}: no lines"])
    first, last = lines[0], lines[-1]
    opening = closing = None
    if first.balance_after_pence is not None and last.balance_after_pence is not None:
        opening = first.balance_after_pence - first.amount_pence
        closing = last.balance_after_pence
    return Statement(currency, tuple(lines), opening, min(l.booked_on for l in lines), closing,
                     max(l.booked_on for l in lines))


# ---------------------------------------------------------------------------- OFX


def parse_ofx(data: bytes, name: str, currency: str) -> Statement:
    """OFX 1.x (SGML) or 2.x (XML), one bank statement. OFX carries no opening balance: it is
    the ledger balance (``LEDGERBAL``) less the transactions, checked against the previous
    statement when stored."""
    from ofxtools.Parser import OFXTree

    tree = OFXTree()
    try:
        tree.parse(io.BytesIO(data))
        ofx = tree.convert()
    except Exception as exc:  # ofxtools raises many kinds for malformed files; all mean the same here
        raise ImportRejected(f"{name}: statement rejected", [f"{name}: not a readable OFX file: {_text(exc)[:200]}"]) from None
    statements = list(getattr(ofx, "statements", []) or [])
    if len(statements) != 1:
        raise ImportRejected(f"{name}: statement rejected",
                             [f"{name}: holds {len(statements)} statements; Fuel imports one account's at a time"])
    stmt = statements[0]
    problems: list[str] = []
    file_currency = str(getattr(stmt, "curdef", "") or currency)
    if file_currency != currency:
        problems.append(f"{name}: CURDEF {file_currency} is not the account's currency {currency}")
    lines: list[StatementLine] = []
    tranlist = stmt.banktranlist
    for n, trn in enumerate(tranlist or [], start=1):
        where = f"{name}: transaction {n} (FITID {trn.fitid})"
        amount = _decimal_pence(trn.trnamt, where, problems)
        if amount is None:
            continue
        lines.append(StatementLine(
            line_no=n, booked_on=trn.dtposted.date(), amount_pence=amount,
            reference=_text(getattr(trn, "refnum", None) or getattr(trn, "checknum", None) or trn.memo),
            description=_text(" ".join(str(x) for x in (trn.name, trn.memo) if x)),
            bank_txn_id=_text(trn.fitid) or None,
        ))
    closing = _decimal_pence(stmt.ledgerbal.balamt, f"{name}: LEDGERBAL", problems)
    _reject(name, problems)
    opening = closing - sum(l.amount_pence for l in lines)
    return Statement(currency, tuple(lines), opening, tranlist.dtstart.date(), closing,
                     min(tranlist.dtend.date(), stmt.ledgerbal.dtasof.date()), _text(stmt.account.acctid))


# ---------------------------------------------------------------------------- MT940


def _plain(day) -> date:
    """The parser's own ``Date`` subclass as a plain date (stored and compared like any other)."""
    return date(day.year, day.month, day.day)


def parse_mt940(data: bytes, name: str, currency: str) -> Statement:
    """One MT940 statement (``:20:`` ... ``:62F:``); several in one file are read in order as
    one statement when their balances chain, which :func:`~ledger.bank.check_statement` checks."""
    import mt940

    text = _decode(data, name)
    try:
        transactions = mt940.models.Transactions()
        transactions.parse(text)
    except Exception as exc:  # the parser raises plain exceptions on malformed tags
        raise ImportRejected(f"{name}: statement rejected", [f"{name}: not a readable MT940 file: {_text(exc)[:200]}"]) from None
    problems: list[str] = []
    info = transactions.data
    opening_bal = info.get("final_opening_balance") or info.get("opening_balance")
    closing_bal = info.get("final_closing_balance") or info.get("closing_balance")
    if opening_bal is None or closing_bal is None:
        raise ImportRejected(f"{name}: statement rejected", [f"{name}: no :60F: opening or :62F: closing balance"])
    for what, bal in (("opening :60F:", opening_bal), ("closing :62F:", closing_bal)):
        if bal.amount.currency != currency:
            problems.append(f"{name}: {what} balance is in {bal.amount.currency}, not the account's {currency}")
    opening = _decimal_pence(opening_bal.amount.amount, f"{name}: :60F:", problems)
    closing = _decimal_pence(closing_bal.amount.amount, f"{name}: :62F:", problems)
    lines: list[StatementLine] = []
    for n, trn in enumerate(transactions, start=1):
        d = trn.data
        where = f"{name}: :61: line {n}"
        amount = _decimal_pence(d["amount"].amount, where, problems)
        if amount is None:
            continue
        customer_ref = _text(d.get("customer_reference"))
        bank_ref = _text(d.get("bank_reference"))
        details = _text(d.get("transaction_details") or d.get("extra_details"))
        lines.append(StatementLine(
            line_no=n, booked_on=_plain(d.get("entry_date") or d["date"]), amount_pence=amount,
            reference="" if customer_ref == "NONREF" else customer_ref, description=details,
            bank_txn_id=bank_ref or None,
        ))
    _reject(name, problems)
    return Statement(currency, tuple(lines), opening, _plain(opening_bal.date), closing, _plain(closing_bal.date),
                     _text(info.get("account_identification")) or None)


# ---------------------------------------------------------------------------- CAMT.053


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(el, *path: str):
    for step in path:
        if el is None:
            return None
        el = next((c for c in el if _local(c.tag) == step), None)
    return el


def _children(el, step: str) -> list:
    return [c for c in el if _local(c.tag) == step] if el is not None else []


def _child_text(el, *path: str) -> str:
    found = _child(el, *path)
    return (found.text or "").strip() if found is not None else ""


def parse_camt053(data: bytes, name: str, currency: str) -> Statement:
    """ISO 20022 BkToCstmrStmt, any camt.053.001.xx version (the elements read are the same in
    each): ``Stmt/Bal`` with ``OPBD``/``PRCD`` and ``CLBD``, and each booked ``Ntry`` with
    ``Amt``, ``CdtDbtInd``, ``BookgDt``, ``AcctSvcrRef`` and the remittance text. A document
    type declaration is refused (no entities, no external references)."""
    import xml.etree.ElementTree as ET

    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise ImportRejected(f"{name}: statement rejected", [f"{name}: has a DOCTYPE or ENTITY declaration; refused"])
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ImportRejected(f"{name}: statement rejected", [f"{name}: not well-formed XML: {exc}"]) from None
    stmts = _children(_child(root, "BkToCstmrStmt"), "Stmt")
    if _local(root.tag) != "Document" or len(stmts) != 1:
        raise ImportRejected(f"{name}: statement rejected",
                             [f"{name}: expected one Document/BkToCstmrStmt/Stmt, found {len(stmts)}"])
    stmt = stmts[0]
    problems: list[str] = []

    def amount_of(el, where: str) -> int | None:
        amt = _child(el, "Amt")
        if amt is None:
            problems.append(f"{where}: no Amt")
            return None
        if amt.get("Ccy") != currency:
            problems.append(f"{where}: Amt is in {amt.get('Ccy')}, not the account's currency {currency}")
        try:
            value = _decimal_pence(Decimal((amt.text or "").strip()), where, problems)
        except InvalidOperation:
            problems.append(f"{where}: Amt {amt.text!r} is not a number")
            return None
        sign = _child_text(el, "CdtDbtInd")
        if sign not in ("CRDT", "DBIT"):
            problems.append(f"{where}: CdtDbtInd {sign!r} is not CRDT or DBIT")
            return None
        return None if value is None else (value if sign == "CRDT" else -value)

    def date_of(el, where: str) -> date | None:
        text = _child_text(el, "Dt") or _child_text(el, "DtTm")[:10]
        try:
            return date.fromisoformat(text)
        except ValueError:
            problems.append(f"{where}: date {text!r} is not YYYY-MM-DD")
            return None

    balances: dict[str, tuple[int | None, date | None]] = {}
    for bal in _children(stmt, "Bal"):
        code = _child_text(bal, "Tp", "CdOrPrtry", "Cd")
        where = f"{name}: balance {code}"
        balances[code] = (amount_of(bal, where), date_of(_child(bal, "Dt"), where))
    opening = balances.get("OPBD") or balances.get("PRCD")
    closing = balances.get("CLBD")
    if opening is None or closing is None:
        problems.append(f"{name}: needs an OPBD (or PRCD) and a CLBD balance")
    lines: list[StatementLine] = []
    for n, entry in enumerate(_children(stmt, "Ntry"), start=1):
        where = f"{name}: Ntry {n}"
        status = _child_text(entry, "Sts", "Cd") or _child_text(entry, "Sts")
        if status and status != "BOOK":
            continue  # pending and information-only entries are not on the balance
        amount = amount_of(entry, where)
        booked = date_of(_child(entry, "BookgDt"), where)
        if amount is None or booked is None:
            continue
        tx = _child(entry, "NtryDtls", "TxDtls")
        end_to_end = _child_text(tx, "Refs", "EndToEndId") if tx is not None else ""
        remittance = " ".join(u.text or "" for u in _children(_child(tx, "RmtInf"), "Ustrd")) if tx is not None else ""
        if _child_text(entry, "RvslInd") == "true":
            remittance = ("reversal " + remittance).strip()
        lines.append(StatementLine(
            line_no=n, booked_on=booked, amount_pence=amount,
            reference=_text(end_to_end if end_to_end != "NOTPROVIDED" else "") or _text(remittance),
            description=_text(" ".join(x for x in (remittance, _child_text(entry, "AddtlNtryInf")) if x)),
            bank_txn_id=_text(_child_text(entry, "AcctSvcrRef") or _child_text(entry, "NtryRef")) or None,
        ))
    _reject(name, problems)
    account = _child_text(stmt, "Acct", "Id", "IBAN") or _child_text(stmt, "Acct", "Id", "Othr", "Id")
    return Statement(currency, tuple(lines), opening[0], opening[1], closing[0], closing[1], account or None)

