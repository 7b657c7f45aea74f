from dataclasses import replace
from datetime import date, datetime

import pytest

from ledger.errors import FuelError, UnbalancedEntry, ValidationError
from ledger.postings import (
    GENESIS_HASH,
    EntryDraft,
    Posting,
    chain,
    check_entry,
    content_hash,
    draft_from_mapping,
    reversal_of,
    verify_chain,
)

CHART = {"cash", "contributed_capital", "grant_capital", "source_transfers"}


def drawdown(key="k1", pence=100_000, source="social_investment"):
    return EntryDraft(
        date(2026, 1, 5),
        "Drawdown",
        key,
        (
            Posting("cash", pence, fund="lcr", source=source),
            Posting("contributed_capital", -pence, fund="lcr", source=source, counterparty="mersey"),
        ),
    )


def test_a_balanced_entry_passes():
    check_entry(drawdown(), CHART)


def test_balance_is_checked_per_source_not_only_in_total():
    # Sums to zero overall, but charitable money would silently become social investment.
    entry = EntryDraft(
        date(2026, 1, 5),
        "Sneaky source change",
        "k",
        (
            Posting("cash", 500, fund="lcr", source="social_investment"),
            Posting("grant_capital", -500, fund="lcr", source="charitable"),
        ),
    )
    with pytest.raises(UnbalancedEntry, match="GBP fund=lcr, source=charitable, restriction=- sums to -5.00"):
        check_entry(entry, CHART)


def test_balance_is_checked_per_restriction():
    entry = EntryDraft(
        date(2026, 1, 5),
        "Restriction dropped",
        "k",
        (
            Posting("cash", 500, fund="lcr", source="charitable"),
            Posting("grant_capital", -500, fund="lcr", source="charitable", restriction="ageing"),
        ),
    )
    with pytest.raises(UnbalancedEntry, match="restriction=ageing sums to -5.00"):
        check_entry(entry, CHART)


def test_balance_is_checked_per_currency():
    entry = EntryDraft(
        date(2026, 1, 5), "FX", "k", (Posting("cash", 500), Posting("contributed_capital", -500, currency="EUR"))
    )
    with pytest.raises(UnbalancedEntry, match="GBP"):
        check_entry(entry, CHART)


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(idempotency_key=""), "needs an idempotency key"),
        (dict(description="  "), "description is empty"),
        (dict(postings=(Posting("cash", 1),)), "at least two postings"),
        (dict(postings=(Posting("cash", 0), Posting("contributed_capital", 0))), "amount is zero"),
        (dict(postings=(Posting("cassh", 5), Posting("contributed_capital", -5))), "account 'cassh' is not in the chart"),
        (dict(postings=(Posting("cash", 5, source="grants"), Posting("contributed_capital", -5, source="grants"))), "source 'grants' is not one of"),
        (dict(postings=(Posting("cash", 10**15), Posting("contributed_capital", -(10**15)))), "larger than the limit"),
    ],
)
def test_check_entry_names_the_problem(change, message):
    with pytest.raises(ValidationError, match=message):
        check_entry(replace(drawdown(), **change), CHART)


def test_content_hash_is_stable_and_sensitive():
    a = drawdown()
    assert content_hash(a) == content_hash(drawdown())
    assert content_hash(a) != content_hash(drawdown(pence=100_001))
    assert len(content_hash(a)) == 64


def test_chain_links_and_verify_finds_the_first_change():
    at = datetime(2026, 1, 5, 9, 0, 0)
    posted = chain([drawdown("a"), drawdown("b"), drawdown("c")], 1, GENESIS_HASH, at, "tester")
    assert [p.id for p in posted] == [1, 2, 3]
    assert posted[1].prev_hash == posted[0].entry_hash
    assert verify_chain(posted) is None
    tampered_draft = replace(posted[1].draft, postings=(
        Posting("cash", 1, fund="lcr", source="social_investment"),
        Posting("contributed_capital", -1, fund="lcr", source="social_investment", counterparty="mersey"),
    ))
    tampered = [posted[0], replace(posted[1], draft=tampered_draft), posted[2]]
    broken = verify_chain(tampered)
    assert broken is not None and broken.entry_id == 2
    assert "content" in broken.problem
    retimed = [posted[0], posted[1], replace(posted[2], recorded_at=datetime(2027, 1, 1))]
    assert verify_chain(retimed).entry_id == 3


def test_reversal_mirrors_every_posting():
    original = chain([drawdown()], 7, GENESIS_HASH, datetime(2026, 1, 5), "t")[0]
    mirror = reversal_of(original, date(2026, 1, 6), "rev-7", "wrong investor")
    assert mirror.reverses_id == 7
    assert [p.amount_pence for p in mirror.postings] == [-100_000, 100_000]
    assert [p.counterparty for p in mirror.postings] == [None, "mersey"]
    assert mirror.description == "Reversal of entry 7: wrong investor"
    with pytest.raises(ValidationError, match="before the entry it reverses"):
        reversal_of(original, date(2026, 1, 4), "rev-7", "x")
    twice = chain([mirror], 8, original.entry_hash, datetime(2026, 1, 6), "t")[0]
    with pytest.raises(ValidationError, match="itself a reversal of entry 7"):
        reversal_of(twice, date(2026, 1, 7), "rev-8", "x")


def test_draft_from_mapping_reads_amount_text_or_pence():
    draft = draft_from_mapping(
        {
            "effective_date": "2026-01-05",
            "description": "Grant",
            "idempotency_key": "g1",
            "postings": [
                {"account": "cash", "amount": "1234.50", "source": "charitable"},
                {"account": "grant_capital", "amount_pence": -123450, "source": "charitable"},
            ],
        },
        "file.json",
    )
    assert [p.amount_pence for p in draft.postings] == [123450, -123450]


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.pop("idempotency_key"), "missing field idempotency_key"),
        (lambda d: d.update(effective_date="05/01/2026"), "is not a date in the form YYYY-MM-DD"),
        (lambda d: d["postings"][0].update(amount_pence=12.5), "must be a whole number of pence"),
        (lambda d: (d["postings"][0].pop("amount_pence"), d["postings"][0].update(amount="£12")), "not a plain amount"),
        (lambda d: d["postings"][0].update(colour="red"), "unknown field"),
        (lambda d: d["postings"][0].update(amount="1.00", amount_pence=100), "exactly one of amount_pence"),
    ],
)
def test_draft_from_mapping_errors(mutate, message):
    data = {
        "effective_date": "2026-01-05",
        "description": "x",
        "idempotency_key": "k",
        "postings": [{"account": "cash", "amount_pence": 1}, {"account": "grant_capital", "amount_pence": -1}],
    }
    mutate(data)
    with pytest.raises(FuelError, match=message):
        draft_from_mapping(data, "file.json")
