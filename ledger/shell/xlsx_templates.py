"""Blank workbooks a provider fills in for a contract (``fuel templates``): one for the
participant register, one for outcome events. The first sheet is the one the import reads; a
notes sheet explains each column; the outcome id column offers the contract's outcome ids as a
drop-down list (Excel data validation), so a typo is caught while typing rather than at import.
"""

from __future__ import annotations

from pathlib import Path

ROWS_VALIDATED = 5000  # rows the drop-down and date checks cover

PARTICIPANT_NOTES = (
    ("participant_id", "required", "The participant's pseudonymous id (never a name, NHS or NI number), up to 64 characters."),
    ("start_date", "required", "The day the participant started, as an Excel date or text YYYY-MM-DD."),
    ("cohort", "optional", "The cohort the participant belongs to, if the contract has cohorts."),
)
OUTCOME_NOTES = (
    ("participant_id", "required", "The participant's pseudonymous id, as in the participant register."),
    ("outcome_id", "required", "One of the contract's outcome ids (pick from the list; see the Outcome ids sheet)."),
    ("achieved_on", "required", "The day the outcome was achieved, as an Excel date or text YYYY-MM-DD."),
    ("evidence_ref", "optional", "Your reference to the evidence (a document id), up to 200 characters."),
    ("submitted_on", "optional", "The day you submit the row (default: the import date)."),
)
GENERAL_NOTES = (
    "Type values only: formulas, merged cells and hidden rows or columns are refused at import.",
    "Keep the header row as it is, in row 1; each row below it is one record. Errors name the row and column.",
    "Import: fuel {command} import FILE.xlsx --contract {contract}",
)


def write_templates(contract, out_dir: Path) -> list[Path]:
    """Write participants.xlsx and outcomes.xlsx for ``contract`` (a ledger.pbr Contract)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for command, notes in (("participants", PARTICIPANT_NOTES), ("outcomes", OUTCOME_NOTES)):
        book = Workbook()
        data = book.active
        data.title = command.capitalize()
        data.append([name for name, _, _ in notes])
        for cell in data[1]:
            cell.font = Font(bold=True)
        for index, (name, _, _) in enumerate(notes, start=1):
            letter = data.cell(row=1, column=index).column_letter
            data.column_dimensions[letter].width = max(14, len(name) + 4)
            if name.endswith(("_date", "_on")):
                for row in range(2, ROWS_VALIDATED + 2):
                    data.cell(row=row, column=index).number_format = "yyyy-mm-dd"
        if command == "outcomes":
            ids = book.create_sheet("Outcome ids")
            ids.append(["outcome_id", "definition"])
            for outcome in contract.outcomes:
                ids.append([outcome.outcome_id, outcome.definition])
            last = len(contract.outcomes) + 1
            check = DataValidation(type="list", formula1=f"'Outcome ids'!$A$2:$A${last}", allow_blank=True,
                                   showErrorMessage=True, errorTitle="Unknown outcome id",
                                   error=f"Pick one of the outcome ids of contract {contract.contract_id}.")
            data.add_data_validation(check)
            check.add(f"B2:B{ROWS_VALIDATED + 1}")
        sheet = book.create_sheet("Notes")
        sheet.append([f"{command.capitalize()} for contract {contract.contract_id}: {contract.name}"])
        for line in GENERAL_NOTES:
            sheet.append([line.format(command=command, contract=contract.contract_id)])
        sheet.append([])
        sheet.append(["column", "required", "what to type"])
        for row in notes:
            sheet.append(list(row))
        sheet.column_dimensions["C"].width = 90
        path = out_dir / f"{command}.xlsx"
        book.save(path)
        written.append(path)
    return written
