"""Anchors a truncation cannot forge (pure): the chain of period closes and the ledger's tip.

The entry chain alone cannot show that its last entries were deleted: what is left still links.
So each period close records the entry chain's tip when it was taken (``last_entry_id`` and that
entry's hash) and is chained to the close before it; and the *tip* of the whole ledger, a hash
over the entry tip and the close tip, can be kept by an auditor outside Fuel. ``fuel verify
--tip`` then checks that the kept tip is one the ledger passed through: if entries or closes
after it were deleted (or rewritten), no position of the ledger gives that hash.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterator, Sequence

from ledger.errors import ValidationError
from ledger.postings import GENESIS_HASH, format_recorded_at


def close_hash(prev_close_hash: str, period: str, period_start: date, period_end: date, closed_at: datetime,
               closed_by: str, last_entry_id: int, tip_hash: str) -> str:
    """SHA-256 over a close's stored fields and the close before it."""
    material = "|".join((prev_close_hash, period, period_start.isoformat(), period_end.isoformat(),
                         format_recorded_at(closed_at), closed_by, str(last_entry_id), tip_hash))  # fmt: skip
    return hashlib.sha256(material.encode()).hexdigest()


def tip_hash(entry_count: int, entry_hash: str, close_count: int, close_hash_: str) -> str:
    material = f"fuel-tip|{entry_count}|{entry_hash}|{close_count}|{close_hash_}"
    return hashlib.sha256(material.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Tip:
    entry_count: int
    entry_hash: str
    close_count: int
    close_hash: str

    @property
    def hash(self) -> str:
        return tip_hash(self.entry_count, self.entry_hash, self.close_count, self.close_hash)

    @property
    def text(self) -> str:
        """What an auditor keeps: ``COUNT:HASH`` (entries, then the tip hash)."""
        return f"{self.entry_count}:{self.hash}"


EMPTY_TIP = Tip(0, GENESIS_HASH, 0, GENESIS_HASH)
_TIP = re.compile(r"^(?:(\d{1,19}):)?([0-9a-f]{64})$")


def parse_tip(text: str) -> tuple[int | None, str]:
    """``COUNT:HASH`` or ``HASH`` (64 lower-case hex digits), as ``fuel tip`` prints it."""
    match = _TIP.match((text or "").strip().lower())
    if match is None:
        raise ValidationError(
            f"tip {text!r} is not a tip: give COUNT:HASH or HASH (64 hex digits) as `fuel tip` prints it",
            field="tip",
        )
    return (int(match.group(1)) if match.group(1) else None), match.group(2)


def possible_tips(entry_count: int, entry_hash: str, close_positions: Sequence[tuple[int, str]]) -> Iterator[Tip]:
    """Every tip the ledger could have shown while it held ``entry_count`` entries.

    ``close_positions``: (last_entry_id, close hash) of every close in order. With ``m`` closes
    taken, the ledger held at least the m-th close's entries and at most the next close's."""
    for m in range(len(close_positions) + 1):
        if m and close_positions[m - 1][0] > entry_count:
            break
        if m < len(close_positions) and close_positions[m][0] < entry_count:
            continue
        yield Tip(entry_count, entry_hash, m, close_positions[m - 1][1] if m else GENESIS_HASH)
