"""Bad flows files: each mistake is reported with its exact message, and nothing is written.

Every case runs on SQLite and PostgreSQL against the example fund after the example flows
(fixtures/flows/example_flows.csv) are posted and 2026Q1 is closed, so cash, restrictions,
keys already used and closed periods are all in play. Row 1 is the header.
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ledger.errors import ImportRejected
from ledger.flows import EVENT_KINDS
from ledger.flows_import import ALL_COLUMNS
from ledger.funds import fund_setup_from_mapping
from ledger.money import CURRENCY_EXPONENTS
from ledger.periods import Period
from models.flows_store import import_flows, save_setup
from models.ledger_store import close_period, entries_t, postings_t

ROOT = Path(__file__).resolve().parents[2]
HEADER = "event,date,fund,amount,tranche,investor,payer,project,source,restriction,form,key"
KNOWN_CURRENCIES = ", ".join(sorted(CURRENCY_EXPONENTS))


def csv(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


@pytest.fixture
def funded(engine):
    """The example fund with the example flows posted, 2026Q1 closed, and one keyed entry in Q2."""
    setup = fund_setup_from_mapping(
        tomllib.loads((ROOT / "fixtures" / "funds" / "example_fund.toml").read_text()), "example_fund.toml"
    )
    with engine.begin() as conn:
        save_setup(conn, setup)
        import_flows(conn, (ROOT / "fixtures" / "flows" / "example_flows.csv").read_text(), "example_flows.csv")
        close_period(conn, Period.parse("2026Q1"), "test", today=date(2026, 4, 2))
        import_flows(conn, csv("fee,2026-04-10,lcr-outcomes,10.00,senior,,,,social_investment,,expense,fee-april"), "base.csv")
    return engine


def counts(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(entries_t)).scalar(),
            conn.execute(select(func.count()).select_from(postings_t)).scalar(),
        )


CASES = {
    "unknown investor": (
        csv("drawdown_received,2026-04-02,lcr-outcomes,10.00,senior,ghost,,,,,,"),
        ["row 2, column investor: unknown investor 'ghost' in fund lcr-outcomes"],
    ),
    "negative amount": (
        csv("fee,2026-04-02,lcr-outcomes,-100.00,,,,,social_investment,,expense,"),
        ["row 2, column amount: amount must be more than zero, got -100.00"],
    ),
    "zero amount": (
        csv("fee,2026-04-02,lcr-outcomes,0.00,,,,,social_investment,,expense,"),
        ["row 2, column amount: amount must be more than zero, got 0.00"],
    ),
    "amount with too many decimal places (a float)": (
        csv("fee,2026-04-02,lcr-outcomes,1234.567,,,,,social_investment,,expense,"),
        ["row 2, column amount: amount '1234.567' has more than 2 decimal places for GBP; Fuel will not guess how to round it"],
    ),
    "pound sign and thousands separator": (
        'event,date,fund,amount,source,form\nfee,2026-04-02,lcr-outcomes,"£1,234.5",social_investment,expense\n',
        ["row 2, column amount: amount '£1,234.5' is not a plain amount like 1234.50 "
         "(no currency symbols, thousands separators or exponents)"],
    ),
    "exponent": (
        csv("fee,2026-04-02,lcr-outcomes,1e3,,,,,social_investment,,expense,"),
        ["row 2, column amount: amount '1e3' is not a plain amount like 1234.50 "
         "(no currency symbols, thousands separators or exponents)"],
    ),
    "missing column": (
        "event,date,fund,source,form\nfee,2026-04-02,lcr-outcomes,social_investment,expense\n",
        ["column amount: required column is missing"],
    ),
    "unknown column": (
        "event,date,fund,amount,amout\nfee,2026-04-02,lcr-outcomes,1.00,2\n",
        [f"column amout: unknown column (known: {', '.join(ALL_COLUMNS)})"],
    ),
    "duplicate key with different content": (
        csv("fee,2026-04-02,lcr-outcomes,1.00,,,,,social_investment,,expense,k1",
            "fee,2026-04-02,lcr-outcomes,2.00,,,,,social_investment,,expense,k1"),
        ["row 3, column key: key 'k1' is also used by row 2 with different content"],
    ),
    "key already posted with different content": (
        csv("fee,2026-04-10,lcr-outcomes,11.00,senior,,,,social_investment,,expense,fee-april"),
        ["row 2, column key: key 'fee-april' was already used for entry 18 with different content; "
         "use a new key for a new event"],
    ),
    "identical rows without a key": (
        csv("fee,2026-04-02,lcr-outcomes,1.00,,,,,social_investment,,expense,",
            "fee,2026-04-02,lcr-outcomes,1.00,,,,,social_investment,,expense,"),
        ["row 3: repeats row 2 exactly, so it would be posted once; give each a distinct value in a key column"],
    ),
    "date in a closed period": (
        csv("fee,2026-03-15,lcr-outcomes,1.00,,,,,social_investment,,expense,"),
        ["row 2, column date: fee: effective date 2026-03-15 is in closed period 2026Q1 (books are closed through "
         "2026Q1); date it on or after 2026-04-01 and reference the entry it corrects"],
    ),
    "date not ISO": (
        csv("fee,02/04/2026,lcr-outcomes,1.00,,,,,social_investment,,expense,"),
        ["row 2, column date: date '02/04/2026' is not a date in the form YYYY-MM-DD"],
    ),
    "restricted money on a project its restriction does not permit": (
        csv("disbursement,2026-04-02,lcr-outcomes,100.00,,,,yf-mentoring,charitable,ageing,grant,"),
        ["row 2, column restriction: restriction ageing (theme ageing) does not permit project yf-mentoring "
         "(theme youth): refused to spend 100.00 GBP on it"],
    ),
    "overdrawn source": (
        csv("disbursement,2026-04-02,lcr-outcomes,41000.01,junior,,,yf-mentoring,public,,loan,"),
        ["row 2, column amount: not enough cash in fund lcr-outcomes, source public, tranche junior, "
         "restriction -: 41000.01 GBP needed, 41000.00 GBP available"],
    ),
    "overdrawn only counting an earlier row of the same file": (
        csv("disbursement,2026-04-02,lcr-outcomes,40000.00,junior,,,yf-mentoring,public,,loan,",
            "disbursement,2026-04-03,lcr-outcomes,1000.01,junior,,,yf-mentoring,public,,loan,"),
        ["row 3, column amount: not enough cash in fund lcr-outcomes, source public, tranche junior, "
         "restriction -: 1000.01 GBP needed, 1000.00 GBP available"],
    ),
    "unknown currency": (
        "event,date,fund,amount,currency,source,form\nfee,2026-04-02,lcr-outcomes,1.00,XYZ,social_investment,expense\n",
        [f"row 2, column currency: unknown currency 'XYZ' (known: {KNOWN_CURRENCIES})"],
    ),
    "currency other than the fund's": (
        "event,date,fund,amount,currency,source,form\nfee,2026-04-02,lcr-outcomes,1.00,USD,social_investment,expense\n",
        ["row 2, column currency: USD is not the currency of fund lcr-outcomes (GBP)"],
    ),
    "unknown event": (
        csv("payment,2026-04-02,lcr-outcomes,1.00,,,,,,,,"),
        [f"row 2, column event: unknown event 'payment' (one of {', '.join(EVENT_KINDS)})"],
    ),
    "unknown fund": (
        csv("fee,2026-04-02,other-fund,1.00,,,,,social_investment,,expense,"),
        ["row 2, column fund: unknown fund 'other-fund'"],
    ),
    "required column empty for the event": (
        csv("disbursement,2026-04-02,lcr-outcomes,1.00,,,,aw-homecare,,,grant,"),
        ["row 2, column source: required for disbursement events"],
    ),
    "column not used by the event": (
        csv("drawdown_notice,2026-04-02,lcr-outcomes,1.00,senior,,,aw-homecare,,,,"),
        ["row 2, column project: not used by drawdown_notice events; leave it empty"],
    ),
    "unknown source": (
        csv("fee,2026-04-02,lcr-outcomes,1.00,,,,,venture,,expense,"),
        ["row 2, column source: source 'venture' is not one of social_investment, charitable, public"],
    ),
    "drawdown beyond unfunded commitments": (
        csv("drawdown_notice,2026-04-02,lcr-outcomes,150000.01,junior,,,,,,,"),
        ["row 2, column amount: drawdown of 150,000.01 GBP on tranche junior is more than its unfunded "
         "commitments of 150,000.00 GBP"],
    ),
    "receipt of more than was called": (
        csv("drawdown_received,2026-04-02,lcr-outcomes,0.01,senior,nsi,,,,,,"),
        ["row 2, column amount: investor nsi owes 0.00 GBP called on tranche senior; a receipt of 0.01 GBP is "
         "more than was called"],
    ),
    "header only": (csv(), ["the file has no rows"]),
    "several mistakes reported together": (
        csv("fee,2026-04-02,lcr-outcomes,1.00,senior,,,,social_investment,,expense,",
            "fee,2026-04-02,lcr-outcomes,£5,senior,,,,social_investment,,expense,",
            "distribution,2026-04-02,lcr-outcomes,1.00,senior,nobody,,,,,,"),
        ["row 3, column amount: amount '£5' is not a plain amount like 1234.50 "
         "(no currency symbols, thousands separators or exponents)",
         "row 4, column investor: unknown investor 'nobody' in fund lcr-outcomes"],
    ),
}


def test_at_least_fifteen_distinct_mistakes():
    assert len(CASES) >= 15


@pytest.mark.parametrize("name", list(CASES))
def test_bad_flows_file_is_rejected_whole_with_every_problem(funded, name):
    text, expected = CASES[name]
    before = counts(funded)
    with pytest.raises(ImportRejected) as err:
        with funded.begin() as conn:
            import_flows(conn, text, "bad.csv")
    assert err.value.problems == expected
    assert err.value.message == f"bad.csv: {len(expected)} problem(s) found; nothing was written"
    assert counts(funded) == before


def test_the_good_rows_of_a_rejected_file_post_once_fixed(funded):
    """After a rejection nothing is half-posted: fixing the bad row posts both rows."""
    text, _ = CASES["several mistakes reported together"]
    fixed = text.replace("£5", "5.00").replace("nobody", "nsi")
    before = counts(funded)
    with funded.begin() as conn:
        result = import_flows(conn, fixed, "fixed.csv")
    assert result.posted == 3
    assert counts(funded)[0] == before[0] + 3
