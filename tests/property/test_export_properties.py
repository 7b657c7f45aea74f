"""Both plain-text exports, for any descriptions, keys and dimension values Fuel accepts, are read
by the independent tools (``hledger``, ``bean-check``/``bean-query``) and re-add to Fuel's own
totals to the penny (issue 16 item 15: a description ending in a backslash broke beancount)."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import tempfile
from collections import Counter
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.postings import EntryDraft, Posting, PostedEntry, check_entry
from reports.exports import beancount_account, hledger_account, write_beancount, write_hledger

pytestmark = pytest.mark.skipif(not (shutil.which("hledger") and shutil.which("bean-check")),
                                reason="hledger and beancount are the oracles (installed by .ci/run)")

ACCOUNTS = {"cash": "asset", "contributed_capital": "capital", "outcome_income": "income"}
# Any text but NUL and surrogates (refused where text comes in), with the characters that end a
# line, a tag, a comment or a string well represented.
AWKWARD = st.sampled_from(list('\\";,:|()[]{}@#*!%&\'\n\r\t\x0b\x1b\u2028\u0085 ') + ["  ", "  ;", "\\\\"])
TEXT = st.lists(st.one_of(AWKWARD, st.characters(exclude_categories=("Cs",), exclude_characters="\x00")),
                min_size=1, max_size=30).map("".join).filter(lambda s: s.strip())  # fmt: skip


@st.composite
def entries(draw) -> list[PostedEntry]:
    posted = []
    for number in range(1, draw(st.integers(1, 4)) + 1):
        pence = draw(st.integers(1, 10**11))
        income = draw(st.booleans())
        dims = {name: draw(st.none() | TEXT) for name in ("fund", "tranche", "project", "counterparty")}
        draft = EntryDraft(
            effective_date=draw(st.dates(date(1990, 1, 1), date(2100, 12, 31))),
            description=draw(TEXT), idempotency_key=draw(TEXT)[:200],
            postings=(Posting("cash", pence, **dims),
                      Posting("outcome_income" if income else "contributed_capital", -pence, **dims)),
        )  # fmt: skip
        check_entry(draft, ACCOUNTS)
        posted.append(PostedEntry(number, draft, datetime(2026, 1, 1, tzinfo=timezone.utc), "test", "c" * 64,
                                  "0" * 64, f"{number:064x}"))
    return posted


def fuel_totals(posted: list[PostedEntry], name) -> Counter:
    totals: Counter = Counter()
    for entry in posted:
        for p in entry.draft.postings:
            totals[name(p.account, ACCOUNTS[p.account])] += p.amount_pence
    return Counter({account: total for account, total in totals.items() if total})  # as both tools do


def pence(text: str) -> int:
    return int(Decimal(text.split()[0]) * 100)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries())
def test_both_exports_are_accepted_and_re_add_to_fuels_totals(posted):
    with tempfile.TemporaryDirectory() as folder:
        journal, beans = Path(folder) / "fuel.journal", Path(folder) / "fuel.beancount"
        with journal.open("w", encoding="utf-8") as out:
            assert write_hledger(posted, ACCOUNTS, out) == len(posted)
        with beans.open("w", encoding="utf-8") as out:
            assert write_beancount(posted, ACCOUNTS, out) == len(posted)

        hledger = subprocess.run(["hledger", "-f", str(journal), "balance", "-N", "-O", "csv"],
                                 capture_output=True, text=True)  # fmt: skip
        assert hledger.returncode == 0, hledger.stderr + journal.read_text()
        rows = list(csv.reader(io.StringIO(hledger.stdout)))[1:]
        assert Counter({account: pence(amount) for account, amount in rows}) == fuel_totals(posted, hledger_account)
        printed = subprocess.run(["hledger", "-f", str(journal), "print", "-O", "csv"],
                                 capture_output=True, text=True, check=True).stdout  # fmt: skip
        codes = {row["code"] for row in csv.DictReader(io.StringIO(printed))}
        assert codes == {str(entry.id) for entry in posted}  # every entry, none split or merged

        check = subprocess.run(["bean-check", str(beans)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr + beans.read_text()
        query = subprocess.run(["bean-query", "-f", "csv", str(beans),
                                "select account, sum(number) as n group by account"],
                               capture_output=True, text=True, check=True)  # fmt: skip
        rows = list(csv.reader(io.StringIO(query.stdout)))[1:]
        summed = Counter({account.strip(): pence(n) for account, n in rows})
        assert Counter({a: n for a, n in summed.items() if n}) == fuel_totals(posted, beancount_account)
        described = subprocess.run(["bean-query", "-f", "csv", str(beans), "select distinct id, description"],
                                   capture_output=True, text=True, check=True).stdout  # fmt: skip
        assert len(list(csv.reader(io.StringIO(described)))) - 1 == len(posted)
