"""One request per page, for an "own" object and (where the path names one) an "other" object,
with a form body for POSTs and what a write needs done first. The page access matrix reads
this table; a page missing from it fails ``test_every_page_is_listed``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable

from tests.api.world import (
    JOINT_CONTRACT,
    OPEN,
    OTHER_JOINT_CONTRACT,
    OTHER_PARTNER,
    OTHER_CONTRACT,
    OTHER_FUND,
    OTHER_INVESTOR,
    OWN_CONTRACT,
    OWN_FUND,
    OWN_INVESTOR,
    OWN_PARTNER,
    OTHER_CALL,
    OWN_CALL,
    PAID,
    application,
)

FM, INV, COM, AUD, PTR = "fund_manager", "investor", "commissioner", "auditor", "partner"
APL = "applicant"


@dataclass(frozen=True)
class Call:
    path: str
    form: dict | None = None


@dataclass(frozen=True)
class Case:
    success: int
    own: Callable  # (role) -> Call
    other: Callable | None = None
    prepare: Callable | None = None  # (engine) -> None, before an allowed write
    sees_all: frozenset = frozenset()  # roles that also see the "other" object


def _f(path: str, own_form=None, other_form=None):
    return (lambda r: Call(path.format(f=OWN_FUND), own_form)), (lambda r: Call(path.format(f=OTHER_FUND), other_form))


def _c(path: str, form=None):
    return (lambda r: Call(path.format(c=OWN_CONTRACT), form)), (lambda r: Call(path.format(c=OTHER_CONTRACT), form))


def _s(suffix: str = ""):
    base = "/funds/{f}/investors/{i}/statements/" + PAID + suffix
    return ((lambda r: Call(base.format(f=OWN_FUND, i=OWN_INVESTOR))),
            (lambda r: Call(base.format(f=OWN_FUND, i=OTHER_INVESTOR))))


def _p(suffix: str = ""):
    """A partner page: own = the partner's own; other = for the partner, another partner of its
    contract; for everyone else, a partner of the other fund's joint-prime contract."""
    base = "/contracts/{c}/partners/{p}" + suffix
    return ((lambda r: Call(base.format(c=JOINT_CONTRACT, p=OWN_PARTNER))),
            (lambda r: Call(base.format(c=JOINT_CONTRACT, p=OTHER_PARTNER) if r == PTR
                            else base.format(c=OTHER_JOINT_CONTRACT, p=OWN_PARTNER))))


def _run_open(engine) -> None:
    from models import pbr_store

    with engine.begin() as conn:
        for contract in (OWN_CONTRACT, OTHER_CONTRACT):
            pbr_store.run_claims(conn, contract, OPEN, "test")


def _event(tranche: str) -> dict:
    return {"kind": "drawdown_notice", "effective_date": "2026-11-02", "tranche": tranche, "amount": "100.00"}


FLOWS_CSV = "event,date,fund,amount,tranche\ndrawdown_notice,2026-11-03,{f},100.00,{t}\n"

CASES: dict[tuple[str, str], Case] = {
    ("GET", "/"): Case(303, lambda r: Call("/")),
    ("GET", "/funds"): Case(200, lambda r: Call("/funds")),
    ("GET", "/funds/{fund_id}"): Case(200, *_f("/funds/{f}")),
    ("GET", "/funds/{fund_id}/events/new"): Case(200, *_f("/funds/{f}/events/new")),
    ("POST", "/funds/{fund_id}/events"): Case(303, *_f("/funds/{f}/events", _event("senior"), _event("senior-o"))),
    ("GET", "/funds/{fund_id}/imports/new"): Case(200, *_f("/funds/{f}/imports/new")),
    ("POST", "/funds/{fund_id}/imports"): Case(303, *_f(
        "/funds/{f}/imports", {"csv_text": FLOWS_CSV.format(f=OWN_FUND, t="senior")},
        {"csv_text": FLOWS_CSV.format(f=OTHER_FUND, t="senior-o")})),
    ("GET", "/funds/{fund_id}/closes"): Case(200, *_f("/funds/{f}/closes")),
    ("POST", "/funds/{fund_id}/closes"): Case(303, *_f("/funds/{f}/closes", {"period": "2026Q1"}, {"period": "2026Q1"})),
    ("GET", "/funds/{fund_id}/statements"): Case(200, *_f("/funds/{f}/statements")),
    ("POST", "/funds/{fund_id}/statements"): Case(200, *_f(
        "/funds/{f}/statements", {"quarter": PAID, "format_csv": "1"}, {"quarter": PAID, "format_csv": "1"})),
    ("GET", "/funds/{fund_id}/value"): Case(200, *_f("/funds/{f}/value")),
    ("GET", "/funds/{fund_id}/value/investor"): Case(200, *_f("/funds/{f}/value/investor")),
    ("GET", "/funds/{fund_id}/vcse"): Case(200, *_f("/funds/{f}/vcse")),
    ("GET", "/investors/{investor_id}"): Case(
        200, lambda r: Call(f"/investors/{OWN_INVESTOR}"), lambda r: Call(f"/investors/{OTHER_INVESTOR}"),
        sees_all=frozenset({FM})),  # inv-b is committed to the fund manager's fund too
    ("GET", "/funds/{fund_id}/investors/{investor_id}/statements/{quarter}"): Case(
        200, *_s(), sees_all=frozenset({FM})),
    ("GET", "/funds/{fund_id}/investors/{investor_id}/statements/{quarter}/download/{fmt}"): Case(
        200, *_s("/download/csv"), sees_all=frozenset({FM})),
    ("GET", "/contracts"): Case(200, lambda r: Call("/contracts")),
    ("GET", "/contracts/{contract_id}"): Case(200, *_c("/contracts/{c}")),
    ("GET", "/contracts/{contract_id}/value"): Case(200, *_c("/contracts/{c}/value")),
    ("GET", "/contracts/{contract_id}/claims/{period}"): Case(200, *_c("/contracts/{c}/claims/" + PAID)),
    ("GET", "/contracts/{contract_id}/claims/{period}/download/{fmt}"): Case(
        200, *_c("/contracts/{c}/claims/" + PAID + "/download/csv")),
    ("POST", "/contracts/{contract_id}/claims/{period}/disputes"): Case(
        303, *_c("/contracts/{c}/claims/" + OPEN + "/disputes", {"line_no": "1", "reason": "evidence missing"}),
        prepare=_run_open),
    ("POST", "/contracts/{contract_id}/claims/{period}/approval"): Case(
        303, *_c("/contracts/{c}/claims/" + OPEN + "/approval", {"on": date(2027, 1, 20).isoformat()}),
        prepare=_run_open),
    ("GET", "/contracts/{contract_id}/partners/{partner_id}"): Case(200, *_p()),
    ("GET", "/contracts/{contract_id}/partners/{partner_id}/statements/{period}"): Case(200, *_p(f"/statements/{PAID}")),
    ("GET", "/contracts/{contract_id}/partners/{partner_id}/statements/{period}/download/{fmt}"): Case(
        200, *_p(f"/statements/{PAID}/download/csv")),
    # issued documents: the list is each principal's own; a document outside it is a 404 like a
    # missing one (tests/delivery/test_pages.py opens real ones for each role)
    ("GET", "/documents"): Case(200, lambda r: Call("/documents")),
    ("GET", "/documents/{document_id}"): Case(404, lambda r: Call("/documents/999999")),
    # bank pages: the world has no bank account, so an account's pages are 404 for whoever may open them
    # (tests/browser/test_bank.py drives them on a fund with one)
    ("GET", "/funds/{fund_id}/bank"): Case(200, *_f("/funds/{f}/bank")),
    ("GET", "/funds/{fund_id}/bank/{account_id}"): Case(404, *_f("/funds/{f}/bank/none")),
    ("GET", "/funds/{fund_id}/bank/{account_id}/reconciliation/{fmt}"): Case(404, *_f(
        "/funds/{f}/bank/none/reconciliation/csv")),
    ("POST", "/funds/{fund_id}/bank/{account_id}/matches"): Case(404, *_f(
        "/funds/{f}/bank/none/matches", {"lines": "1", "entries": "1"}, {"lines": "1", "entries": "1"})),
    ("POST", "/funds/{fund_id}/bank/{account_id}/lines/{line_id}/entry"): Case(404, *_f(
        "/funds/{f}/bank/none/lines/1/entry", {}, {})),
    ("GET", "/funds/{fund_id}/deliveries"): Case(200, *_f("/funds/{f}/deliveries")),
    ("POST", "/funds/{fund_id}/deliveries/resend"): Case(303, *_f(
        "/funds/{f}/deliveries/resend", {"quarter": PAID}, {"quarter": PAID})),
    # incubator call applicants: any call may be applied to; only its own applications are shown
    ("GET", "/applications"): Case(200, lambda r: Call("/applications")),
    ("GET", "/calls/{call_id}/apply"): Case(
        200, lambda r: Call(f"/calls/{OWN_CALL}/apply"), lambda r: Call(f"/calls/{OTHER_CALL}/apply"), sees_all=frozenset({APL})),
    ("POST", "/calls/{call_id}/applications"): Case(
        303, lambda r: Call(f"/calls/{OWN_CALL}/applications", application("W1", "Sefton Silver Line")),
        lambda r: Call(f"/calls/{OTHER_CALL}/applications", application("W1", "Sefton Silver Line")), sees_all=frozenset({APL})),
}
