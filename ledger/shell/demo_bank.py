"""The demo fund's bank: one client account holding all its cash, and one statement per quarter
written as the bank would send it (CAMT.053 in odd quarters, MT940 in even ones), imported,
matched, confirmed and reconciled before the quarter closes (``docs/bank.md``, ``docs/demo.md``).

The bank sees each cash entry on its own date, quoting Fuel's reference (``FUEL-<entry id>``),
except one deliberate reconciling item per quarter: the quarter's distribution, paid on its last
day, clears on the first day of the next quarter (in a quarter without a distribution, the
management fee does). So each quarter end reconciles to zero unexplained difference with
exactly one payment not yet cleared.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from ledger.bank import CashItem
from ledger.errors import InvariantBroken
from ledger.periods import Period
from models import bank_store as bank

ACCOUNT = "lcr-client"
SORT_CODE, NUMBER = "60-16-13", "31926819"
IBAN = "GB33NWBK60161331926819"


def setup(conn, fund: str, by: str) -> None:
    bank.add_account(conn, fund=fund, account_id=ACCOUNT, name="Client account (NatWest)", sort_code=SORT_CODE,
                     account_number=NUMBER, currency="GBP", holds=["*"], bank=None, by=by)
    bank.set_require_reconciled(conn, fund, True, by)  # the demo's quarters close only when reconciled


def _clean(text: str, most: int) -> str:
    """Within the SWIFT X character set MT940 allows (and harmless in XML)."""
    return re.sub(r"[^A-Za-z0-9/\-?:().,'+ ]", " ", text)[:most].strip() or "NONREF"


def _held_back(items: list[CashItem], quarter: Period) -> CashItem | None:
    payments = [i for i in items if i.amount_pence < 0]
    last_day = [i for i in payments if i.effective_date == quarter.last_day and "istribution" in i.description]
    fees = [i for i in payments if "anagement fee" in i.description]
    chosen = (last_day or fees or payments[-1:])
    return chosen[-1] if chosen else None


def _pounds(pence: int, sep: str = ".") -> str:
    return f"{abs(pence) // 100}{sep}{abs(pence) % 100:02d}"


def _camt(quarter: Period, opening: int, closing: int, lines: list[tuple[date, int, str, str]]) -> str:
    def bal(code: str, pence: int, day: date) -> str:
        return (f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"GBP\">{_pounds(pence)}</Amt>"
                f"<CdtDbtInd>{'CRDT' if pence >= 0 else 'DBIT'}</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>")
    entries = "".join(
        f"<Ntry><Amt Ccy=\"GBP\">{_pounds(a)}</Amt><CdtDbtInd>{'CRDT' if a > 0 else 'DBIT'}</CdtDbtInd><Sts>BOOK</Sts>"
        f"<BookgDt><Dt>{d}</Dt></BookgDt><ValDt><Dt>{d}</Dt></ValDt><AcctSvcrRef>{bank_id}</AcctSvcrRef>"
        f"<NtryDtls><TxDtls><Refs><EndToEndId>{ref}</EndToEndId></Refs><RmtInf><Ustrd>{ref}</Ustrd></RmtInf>"
        f"</TxDtls></NtryDtls></Ntry>\n"
        for d, a, ref, bank_id in lines)
    return (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">"
            f"<BkToCstmrStmt><GrpHdr><MsgId>LCR-{quarter.name}</MsgId><CreDtTm>{quarter.last_day}T23:00:00</CreDtTm></GrpHdr>"
            f"<Stmt><Id>LCR-{quarter.name}-1</Id><CreDtTm>{quarter.last_day}T23:00:00</CreDtTm>"
            f"<Acct><Id><IBAN>{IBAN}</IBAN></Id><Ccy>GBP</Ccy></Acct>\n"
            f"{bal('OPBD', opening, quarter.start)}{bal('CLBD', closing, quarter.last_day)}\n{entries}"
            f"</Stmt></BkToCstmrStmt></Document>\n")


def _mt940(quarter: Period, opening: int, closing: int, lines: list[tuple[date, int, str, str]]) -> str:
    def bal(tag: str, pence: int, day: date) -> str:
        return f":{tag}:{'C' if pence >= 0 else 'D'}{day:%y%m%d}GBP{_pounds(pence, ',')}"
    out = [f":20:LCR{quarter.name}", f":25:{SORT_CODE.replace('-', '')}{NUMBER}", f":28C:{quarter.name[-1]}/1",
           bal("60F", opening, quarter.start)]
    for d, a, ref, bank_id in lines:
        out.append(f":61:{d:%y%m%d}{d:%m%d}{'C' if a > 0 else 'D'}{_pounds(a, ',')}NTRF{ref[:16]}//{bank_id[:16]}")
        out.append(f":86:{ref}")
    out.append(bal("62F", closing, quarter.last_day))
    return "\r\n".join(out) + "\r\n-\r\n"


def reconcile_quarter(conn, quarter: Period, index: int, folder: Path, carried: list, by: str) -> list:
    """Write the quarter's statement, import it, confirm the proposed matches, check the quarter
    end reconciles with one item. Returns the payment carried into the next statement."""
    acct = bank.account(conn, ACCOUNT)
    items = [i for i in bank.cash_items(conn, acct, quarter.last_day) if i.effective_date >= quarter.start]
    held = _held_back(items, quarter)
    lines = [(quarter.start, i.amount_pence, f"FUEL-{i.entry_id}", f"C{i.entry_id}") for i in carried]
    lines += [(i.effective_date, i.amount_pence, f"FUEL-{i.entry_id}", f"B{i.entry_id}") for i in items if i is not held]
    lines.sort(key=lambda l: (l[0], l[3]))
    before = bank.covered_through(conn, acct.id)
    opening = 0 if before is None else bank.reconciliation(conn, acct.id, before)[1].bank_balance_pence
    closing = opening + sum(l[1] for l in lines)
    fmt = "camt053" if index % 2 else "mt940"
    name = f"statement_{quarter.name}.{'xml' if fmt == 'camt053' else 'mt940'}"
    text = (_camt if fmt == "camt053" else _mt940)(quarter, opening, closing, lines)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8", newline="")
    bank.import_statement(conn, acct.id, text.encode(), name, fmt, by)
    bank.confirm_proposals(conn, acct.id, by)
    _, recon = bank.reconciliation(conn, acct.id, quarter.last_day)
    if recon.unexplained_pence != 0 or len(recon.items) != (1 if held else 0):
        raise InvariantBroken(f"the demo's bank does not reconcile at {quarter.last_day}: {recon}")
    return [held] if held else []


def write_reconciliations(conn, quarters: list[Period], folder: Path) -> list[dict]:
    """Each quarter end's reconciliation as HTML and CSV, and the last one as PDF too."""
    from reports import bank_reports

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for quarter in quarters:
        acct, recon = bank.reconciliation(conn, ACCOUNT, quarter.last_day)
        public = acct.public(reveal=True)  # the fund manager's folder
        stem = folder / f"reconciliation_{quarter.name}"
        Path(f"{stem}.html").write_text(bank_reports.reconciliation_html(recon, public), encoding="utf-8")
        Path(f"{stem}.csv").write_text(bank_reports.reconciliation_csv(recon), encoding="utf-8")
        if quarter is quarters[-1]:
            Path(f"{stem}.pdf").write_bytes(bank_reports.reconciliation_pdf(recon, public))
        out.append({"quarter": quarter.name, "ledger_cash_pence": recon.ledger_cash_pence,
                    "bank_balance_pence": recon.bank_balance_pence, "items": len(recon.items),
                    "unexplained_pence": recon.unexplained_pence})
    return out
