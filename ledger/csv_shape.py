"""The shape of a CSV file, checked before pandas reads it (issue 16 items 14 and 16).

pandas quietly turns a row with one cell too many into an index column (the first cell then
vanishes and the row reads as something else), names a blank header column ``Unnamed: 3``, and
stores a NUL byte. Each is a mistake in the file, so each is refused here with the row or the
column named.
"""

from __future__ import annotations

import csv
import io


def shape_problems(text: str, source_name: str, limit: int = 20) -> list[str]:
    """Problems with the file's shape: NUL bytes, blank header columns, rows wider than the header."""
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        line = text.count("\n", 0, text.find("\x00")) + 1
        return [f"{source_name}: line {line} contains a NUL byte (\\0); remove it"]
    try:
        rows = csv.reader(io.StringIO(text))
        header = next(rows, None)
        if header is None:
            return []
        problems = [f"{source_name}: column {i} of the header has no name"
                    + (" (a trailing comma?)" if i == len(header) else "")
                    for i, name in enumerate(header, 1) if not name.strip()]  # fmt: skip
        width = len(header)
        for row_number, cells in enumerate(rows, 2):
            if len(cells) > width:
                extra = ", ".join(repr(c) for c in cells[width:][:3])
                problems.append(f"{source_name}: row {row_number} has {len(cells)} cells but the header has {width} "
                                f"columns (extra: {extra})")
            if len(problems) >= limit:
                break
    except csv.Error:
        return []  # the reader's own error names it
    return problems
