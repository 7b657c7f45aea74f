"""Capital call (drawdown) and distribution notices: their figures, from the same rules that
will move the money, so a notice says exactly what the ledger will then record.

* A capital call notice's shares come from the drawdown rule itself
  (:func:`ledger.flows.rule_drawdown_notice`: pro rata to commitments, largest remainder): the
  notice is issued before `fuel record drawdown-notice` posts the same split.
* A distribution notice's split comes from the waterfall run and the distribution entry's lines
  (:func:`models.statements_store.build_distribution_entry`, the function `fuel distribute`
  posts with), summarised here per tier, per tranche and per recipient.

Pure: figures in, plain dicts out (money as integer pence), checked to conserve every penny.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Mapping, Sequence

from ledger.errors import InvariantBroken

#: tier kinds in words, as a notice prints them
TIER_LABELS = {"return_of_capital": "Return of capital", "preferred_return": "Preferred return",
               "capped_return": "Capped return", "catch_up": "Catch-up", "carried_interest": "Carried interest",
               "excess": "Excess"}
CATEGORIES = ("return_of_capital", "income", "gains")


def call_shares(postings: Iterable) -> dict[str, int]:
    """Each investor's share of a capital call: its ``called_capital_receivable`` debit in the
    drawdown entry the rule drafts (investors with a zero share have no posting)."""
    shares: dict[str, int] = defaultdict(int)
    for posting in postings:
        if posting.account == "called_capital_receivable":
            shares[posting.counterparty] += posting.amount_pence
    return dict(sorted(shares.items()))


def drawdown_figures(*, fund: Mapping, tranche: Mapping, investor: Mapping, amount_pence: int, total_pence: int,
                     commitment_pence: int, called_before_pence: int, notice_date: str, due_date: str,
                     bank: Mapping, reference: str) -> dict:
    """One investor's capital call notice: its share, its commitment before and after, and where
    to pay (the fund's bank account in full: the investor must pay to it)."""
    unfunded_before = commitment_pence - called_before_pence
    if not 0 < amount_pence <= unfunded_before:
        raise InvariantBroken(f"call of {amount_pence} pence on {investor['id']} exceeds unfunded {unfunded_before}")
    return {"kind": "drawdown_notice", "fund": dict(fund), "tranche": dict(tranche), "investor": dict(investor),
            "currency": fund["currency"], "notice_date": notice_date, "due_date": due_date,
            "amount_pence": amount_pence, "call_total_pence": total_pence,
            "commitment_pence": commitment_pence, "called_before_pence": called_before_pence,
            "unfunded_before_pence": unfunded_before, "unfunded_after_pence": unfunded_before - amount_pence,
            "bank": dict(bank), "reference": reference}


def distribution_split(tiers: Sequence, lines: Sequence[Mapping], cash_pence: int, undistributed_pence: int) -> dict:
    """The waterfall's split of a distribution, as every reader may see it: paid per tier, per
    tranche (investors together) and per recipient (community pool, carry); and each investor's
    own share per tranche and category (for that investor's notice only).

    ``tiers`` are the run's :class:`ledger.waterfall.TierResult`; ``lines`` the distribution
    entry's lines (party, is_investor, tranche, kind, category, amount_pence)."""
    by_tier = [{"index": t.index + 1, "kind": t.kind, "label": TIER_LABELS.get(t.kind, t.kind),
                "project": t.project, "available_pence": t.available_pence, "paid_pence": t.paid_pence}
               for t in tiers]
    tranches: dict[str, int] = defaultdict(int)
    recipients: dict[str, int] = defaultdict(int)
    investors: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: dict.fromkeys(CATEGORIES, 0)))
    for line in lines:
        if line["is_investor"]:
            tranches[line["tranche"]] += line["amount_pence"]
            investors[line["party"]][line["tranche"]][line["category"]] += line["amount_pence"]
        else:
            recipients[line["party"]] += line["amount_pence"]
    distributed = sum(line["amount_pence"] for line in lines)
    if (distributed + undistributed_pence != cash_pence or sum(t["paid_pence"] for t in by_tier) != distributed
            or sum(tranches.values()) + sum(recipients.values()) != distributed):
        raise InvariantBroken(f"distribution split of {cash_pence} pence does not conserve: tiers, tranches and "
                              f"recipients disagree with the {distributed} pence distributed")
    shares = {party: [{"tranche": tranche, **amounts, "total_pence": sum(amounts.values())}
                      for tranche, amounts in sorted(by_tranche.items())]
              for party, by_tranche in sorted(investors.items())}
    return {"cash_pence": cash_pence, "distributed_pence": distributed, "undistributed_pence": undistributed_pence,
            "tiers": by_tier, "tranches": [{"tranche": k, "paid_pence": v} for k, v in sorted(tranches.items())],
            "recipients": [{"party": k, "paid_pence": v} for k, v in sorted(recipients.items())],
            "investor_shares": shares}


def distribution_figures(*, fund: Mapping, investor: Mapping, split: Mapping, date: str, notice_date: str,
                         tranche_names: Mapping[str, str]) -> dict:
    """One investor's distribution notice: the fund-wide split (per tier, tranche, recipient;
    no other investor's own figures) and its own share."""
    own = split["investor_shares"][investor["id"]]
    return {"kind": "distribution_notice", "fund": dict(fund), "investor": dict(investor), "currency": fund["currency"],
            "date": date, "notice_date": notice_date, "cash_pence": split["cash_pence"],
            "distributed_pence": split["distributed_pence"], "undistributed_pence": split["undistributed_pence"],
            "tiers": split["tiers"],
            "tranches": [{**t, "name": tranche_names.get(t["tranche"], t["tranche"])} for t in split["tranches"]],
            "recipients": split["recipients"],
            "own": [{**row, "name": tranche_names.get(row["tranche"], row["tranche"])} for row in own],
            "own_total_pence": sum(row["total_pence"] for row in own)}
