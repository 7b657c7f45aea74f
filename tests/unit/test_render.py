"""CSV rendering: formula-looking text is neutralised; a carriage return stays inside its cell."""

import csv
import io

from reports.render import spreadsheet_safe, to_csv


def test_formula_looking_text_is_neutralised_but_numbers_are_not():
    assert spreadsheet_safe("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert spreadsheet_safe("+44 151") == "'+44 151"
    assert spreadsheet_safe("@SUM(A1)") == "'@SUM(A1)"
    assert spreadsheet_safe("\tcmd") == "'\tcmd"
    assert spreadsheet_safe("-12.34") == "-12.34"
    assert spreadsheet_safe(-1234) == -1234


def test_a_carriage_return_does_not_split_the_row():
    text = to_csv([{"id": "P1\rP2", "amount_pence": 5}, {"id": "=cmd", "amount_pence": -5}], ["id", "amount_pence"])
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [["id", "amount_pence"], ["P1\rP2", "5"], ["'=cmd", "-5"]]
