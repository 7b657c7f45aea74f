"""The bank reconciliation statement (``fuel bank reconcile``, the reconciliation page): rows
for CSV and JSON, and HTML/PDF from ``templates/bank_reconciliation.html.j2``. The figures come
from ``ledger.bank.reconcile``; this module only lays them out."""

from __future__ import annotations

from pathlib import Path

from ledger.bank import KIND_TITLES, Reconciliation
from reports.html import render, render_pdf
from reports.render import to_csv

TEMPLATES = Path(__file__).parent / "templates"
CSV_COLUMNS = ["section", "date", "ref", "description", "amount_pence"]


def summary_rows(recon: Reconciliation) -> list[dict]:
    """The statement as label / amount rows, in reading order."""
    return [
        {"line": "Cash in the ledger", "amount_pence": recon.ledger_cash_pence},
        {"line": "reversed: in the ledger, not yet on the bank statement", "amount_pence": -recon.ledger_items_pence},
        {"line": "add: on the bank statement, not in the ledger", "amount_pence": recon.bank_items_pence},
        {"line": "Bank balance (statement)", "amount_pence": recon.bank_balance_pence},
        {"line": "Unexplained difference", "amount_pence": recon.unexplained_pence},
    ]


def reconciliation_rows(recon: Reconciliation) -> list[dict]:
    rows = [{"section": "summary", "date": recon.as_of.isoformat(), "ref": "", "description": r["line"],
             "amount_pence": r["amount_pence"]} for r in summary_rows(recon)]
    rows += [{"section": item.kind, "date": item.on.isoformat(),
              "ref": (f"line {item.ref}" if item.kind == "bank_not_in_ledger" else f"entry {item.ref}"),
              "description": item.description, "amount_pence": item.amount_pence} for item in recon.items]
    return rows


def reconciliation_csv(recon: Reconciliation) -> str:
    return to_csv(reconciliation_rows(recon), CSV_COLUMNS)


def reconciliation_json(recon: Reconciliation, account: dict) -> dict:
    return {"account": account, "as_of": recon.as_of.isoformat(), "ledger_cash_pence": recon.ledger_cash_pence,
            "bank_balance_pence": recon.bank_balance_pence, "unexplained_pence": recon.unexplained_pence,
            "matched_ledger_pence": recon.matched_ledger_pence, "matched_bank_pence": recon.matched_bank_pence,
            "items": [{"kind": i.kind, "date": i.on.isoformat(), "ref": i.ref, "description": i.description,
                       "amount_pence": i.amount_pence} for i in recon.items]}


def reconciliation_html(recon: Reconciliation, account: dict) -> str:
    sections = [(title, [i for i in recon.items if i.kind == kind]) for kind, title in KIND_TITLES.items()]
    return render(TEMPLATES, "bank_reconciliation.html.j2", recon=recon, account=account,
                  summary=summary_rows(recon), sections=sections, currency=account["currency"])


def reconciliation_pdf(recon: Reconciliation, account: dict) -> bytes:
    return render_pdf(reconciliation_html(recon, account))
