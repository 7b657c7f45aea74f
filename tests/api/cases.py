"""One request per API operation, for an "own" object and (where the path or body names one)
an "other" object, with what a write needs done first. The access matrix, the idempotency
replays and the OpenAPI checks all read this table; a route missing from it fails them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Callable

from tests.api.world import (
    DATA,
    JOINT_CONTRACT,
    OPEN,
    OTHER_JOINT_CONTRACT,
    OTHER_PARTNER,
    OTHER_CONTRACT,
    OTHER_FUND,
    OTHER_INVESTOR,
    OTHER_PAYER,
    OWN_CONTRACT,
    OWN_FUND,
    OWN_INVESTOR,
    OWN_PARTNER,
    OWN_PAYER,
    OTHER_CALL,
    OWN_CALL,
    PAID,
    TERMS_FILE,
    application,
    contract_text,
    SETUP,
)

FM, INV, COM, AUD, PTR = "fund_manager", "investor", "commissioner", "auditor", "partner"
APL = "applicant"


@dataclass(frozen=True)
class Call:
    path: str
    json: object = None


@dataclass(frozen=True)
class Case:
    success: int
    own: Callable  # (world, role) -> Call
    other: Callable | None = None  # (world, role) -> Call, when an object outside the scope can be named
    prepare: Callable | None = None  # (engine) -> None, run before an allowed write
    #: roles that see "other" objects too (besides auditors, who see everything)
    sees_all: frozenset = frozenset()


def _f(path: str) -> tuple[Callable, Callable]:
    """Own and other variants of a fund path with ``{f}`` for the fund."""
    return (lambda w, r: Call(path.format(f=OWN_FUND))), (lambda w, r: Call(path.format(f=OTHER_FUND)))


def _c(path: str, body=None) -> tuple[Callable, Callable]:
    return ((lambda w, r: Call(path.format(c=OWN_CONTRACT), body)),
            (lambda w, r: Call(path.format(c=OTHER_CONTRACT), body)))


def _fb(path: str, own_body, other_body) -> tuple[Callable, Callable]:
    return ((lambda w, r: Call(path.format(f=OWN_FUND), own_body)),
            (lambda w, r: Call(path.format(f=OTHER_FUND), other_body)))


def _run(period: str, *steps: str) -> Callable:
    def prepare(engine) -> None:
        from models import pbr_store

        with engine.begin() as conn:
            for contract in (OWN_CONTRACT, OTHER_CONTRACT):
                pbr_store.run_claims(conn, contract, period, "test")
                if "approve" in steps:
                    pbr_store.approve(conn, contract, period, date(2027, 1, 20), "test")
                if "invoice" in steps:
                    pbr_store.invoice(conn, contract, period, "INV-2", "test")

    return prepare


def _p(suffix: str = "") -> tuple[Callable, Callable]:
    """A partner path: own = the partner token's own partner; other = for the partner itself,
    another partner of its contract; for everyone else, a partner of the other fund's contract."""
    base = "/contracts/{c}/partners/{p}/statements" + suffix

    def own(w, r) -> Call:
        return Call(base.format(c=JOINT_CONTRACT, p=OWN_PARTNER))

    def other(w, r) -> Call:
        if r == PTR:
            return Call(base.format(c=JOINT_CONTRACT, p=OTHER_PARTNER))
        return Call(base.format(c=OTHER_JOINT_CONTRACT, p=OWN_PARTNER))

    return own, other


def _close(period: str) -> Callable:
    def prepare(engine) -> None:
        from ledger.periods import Period
        from models.ledger_store import close_period

        with engine.begin() as conn:
            close_period(conn, Period.parse(period), "test", today=date(2026, 4, 2))

    return prepare


def _bank_account(engine) -> None:
    from models.bank_store import add_account

    with engine.begin() as conn:
        add_account(conn, fund=OWN_FUND, account_id="main", name="Client account", sort_code="601613",
                    account_number="31926819", currency="GBP", holds=["*"], bank=None, by="test")


def _reader_key(role: str) -> str:
    """The document a role reads as its own (world.documents)."""
    return {COM: "payer", PTR: "partner"}.get(role, "own")


def _own_party(w, role) -> Call:
    return Call(f"/parties/{OWN_PAYER if role == COM else OWN_INVESTOR}")


def _other_party(w, role) -> Call:
    return Call(f"/parties/{OTHER_PAYER if role == COM else OTHER_INVESTOR}")


def _csv(name: str) -> dict:
    return {"file_name": name, "csv": (DATA / name).read_text()}


FLOWS_CSV = "event,date,fund,amount,tranche\ndrawdown_notice,2026-03-02,{f},100.00,{t}\n"
PLANS_CSV = "type,plan_version,made_on,quarter,amount\nPlanned,v1,2026-01-01,2026Q3,4000.00\n"


def _entry(fund: str, source: str, tranche: str) -> dict:
    dims = {"source": source, "tranche": tranche}
    return {"entries": [{"effective_date": "2026-03-05", "description": "Manual correction", "idempotency_key": f"m-{fund}",
                         "postings": [{"account": "cash", "amount_pence": 100, "fund": fund, **dims},
                                      {"account": "contributed_capital", "amount_pence": -100, "fund": fund, **dims}]}]}


def _terms_body(fund: str) -> dict:
    """A second version of the own fund's terms (a changed comment), from 2027."""
    from ledger.shell.cli_terms import read_terms_file

    source = read_terms_file(TERMS_FILE)
    return {"terms_toml": source.terms_text.replace('"fuel-lcr"', f'"{fund}"') + "\n# version 2\n",
            "waterfall_toml": source.waterfall_text, "effective_from": "2027-01-01"}


def _a(suffix: str, body=None) -> tuple[Callable, Callable]:
    """Own (the applicant's own, to the own fund's call) and other (to the other fund's call) applications."""
    return ((lambda w, r: Call(f"/applications/{w.own_application}{suffix}", body)),
            (lambda w, r: Call(f"/applications/{w.other_application}{suffix}", body)))


def _scored(engine) -> None:
    from models.calls_store import score_application

    with engine.begin() as conn:
        for application_id in (1, 3):  # the own and other applications (tests/api/world.py)
            score_application(conn, application_id, "panel", {"need": 3})


def _decided(engine, award: bool = False) -> None:
    from models.calls_store import award as do_award, close_call, decide

    _scored(engine)
    with engine.begin() as conn:
        for application_id, call_id in ((1, OWN_CALL), (3, OTHER_CALL)):
            decide(conn, application_id, "award", "need", date(2026, 4, 1))
            close_call(conn, call_id, date(2026, 4, 2), "published")
            if award:
                do_award(conn, application_id, date(2026, 4, 3))


def _awarded(engine) -> None:
    _decided(engine, award=True)


CASES: dict[tuple[str, str], Case] = {
    ("GET", "/me"): Case(200, lambda w, r: Call("/me")),
    ("GET", "/parties"): Case(200, lambda w, r: Call("/parties")),
    ("POST", "/parties"): Case(201, lambda w, r: Call("/parties", {"id": "new-p", "name": "New", "kind": "provider"})),
    ("GET", "/parties/{party_id}"): Case(200, _own_party, _other_party, sees_all=frozenset({FM})),
    ("GET", "/funds"): Case(200, lambda w, r: Call("/funds")),
    ("POST", "/funds"): Case(201, lambda w, r: Call("/funds", {"id": OWN_FUND, "name": "Renamed"}),
                             lambda w, r: Call("/funds", {"id": OTHER_FUND, "name": "Renamed"})),
    ("POST", "/funds/{fund_id}/setup"): Case(201, *_fb("/funds/{f}/setup", SETUP[OWN_FUND], SETUP[OTHER_FUND])),
    ("GET", "/funds/{fund_id}"): Case(200, *_f("/funds/{f}")),
    ("GET", "/funds/{fund_id}/public"): Case(200, *_f("/funds/{f}/public")),
    ("GET", "/funds/{fund_id}/tranches"): Case(200, *_f("/funds/{f}/tranches")),
    ("POST", "/funds/{fund_id}/tranches"): Case(201, *_fb("/funds/{f}/tranches", {"id": "mezz", "name": "Mezzanine", "rank": 4},
                                                          {"id": "mezz", "name": "Mezzanine", "rank": 4})),
    ("GET", "/funds/{fund_id}/restrictions"): Case(200, *_f("/funds/{f}/restrictions")),
    ("POST", "/funds/{fund_id}/restrictions"): Case(201, *_fb("/funds/{f}/restrictions",
                                                              {"id": "r1", "name": "Housing", "theme": "housing"},
                                                              {"id": "r1", "name": "Housing", "theme": "housing"})),
    ("GET", "/funds/{fund_id}/projects"): Case(200, *_f("/funds/{f}/projects")),
    ("POST", "/funds/{fund_id}/projects"): Case(201, *_fb("/funds/{f}/projects",
                                                          {"id": "PRJ-N", "name": "New", "provider": "chp", "theme": "youth"},
                                                          {"id": "PRJ-N", "name": "New", "provider": "chp", "theme": "youth"})),
    ("GET", "/funds/{fund_id}/commitments"): Case(200, *_f("/funds/{f}/commitments")),
    ("POST", "/funds/{fund_id}/commitments"): Case(201, *_fb(
        "/funds/{f}/commitments",
        {"id": "c-new", "investor": OWN_INVESTOR, "tranche": "senior", "commitment_date": "2026-01-06", "amount_pence": 100_000},
        {"id": "c-new", "investor": OTHER_INVESTOR, "tranche": "senior-o", "commitment_date": "2026-01-06", "amount": "1000.00"})),
    ("POST", "/funds/{fund_id}/events"): Case(201, *_fb(
        "/funds/{f}/events",
        {"kind": "drawdown_notice", "effective_date": "2026-03-01", "tranche": "senior", "amount_pence": 100_000},
        {"kind": "drawdown_notice", "effective_date": "2026-03-01", "tranche": "senior-o", "amount_pence": 100_000})),
    ("POST", "/funds/{fund_id}/imports/flows"): Case(201, *_fb(
        "/funds/{f}/imports/flows", {"csv": FLOWS_CSV.format(f=OWN_FUND, t="senior")},
        {"csv": FLOWS_CSV.format(f=OTHER_FUND, t="senior-o")})),
    ("GET", "/funds/{fund_id}/entries"): Case(200, *_f("/funds/{f}/entries?limit=2")),
    ("POST", "/funds/{fund_id}/entries"): Case(201, *_fb("/funds/{f}/entries", _entry(OWN_FUND, "social_investment", "senior"),
                                                         _entry(OTHER_FUND, "social_investment", "senior-o"))),
    ("GET", "/funds/{fund_id}/entries/{entry_id}"): Case(
        200, lambda w, r: Call(f"/funds/{OWN_FUND}/entries/{w.own_entry}"),
        lambda w, r: Call(f"/funds/{OTHER_FUND}/entries/{w.other_entry}")),
    ("POST", "/funds/{fund_id}/entries/{entry_id}/reversal"): Case(
        201, lambda w, r: Call(f"/funds/{OWN_FUND}/entries/{w.own_entry}/reversal", {"effective_date": "2026-03-01", "reason": "t"}),
        lambda w, r: Call(f"/funds/{OTHER_FUND}/entries/{w.other_entry}/reversal", {"effective_date": "2026-03-01", "reason": "t"})),
    ("GET", "/funds/{fund_id}/balances"): Case(200, *_f("/funds/{f}/balances?by=account_code,source&as_of=2026-12-31")),
    ("GET", "/funds/{fund_id}/trial-balance"): Case(200, *_f("/funds/{f}/trial-balance?as_of=2026-12-31")),
    ("GET", "/funds/{fund_id}/reports/sources-uses"): Case(200, *_f("/funds/{f}/reports/sources-uses?by=project")),
    ("GET", "/funds/{fund_id}/reports/restrictions"): Case(200, *_f("/funds/{f}/reports/restrictions")),
    ("GET", "/ledger/entries"): Case(200, lambda w, r: Call("/ledger/entries?limit=3")),
    ("GET", "/ledger/entries/{entry_id}"): Case(200, lambda w, r: Call(f"/ledger/entries/{w.own_entry}")),
    ("GET", "/ledger/trial-balance"): Case(200, lambda w, r: Call("/ledger/trial-balance")),
    ("GET", "/ledger/verify"): Case(200, lambda w, r: Call("/ledger/verify")),
    ("GET", "/ledger/period-closes"): Case(200, lambda w, r: Call("/ledger/period-closes")),
    ("POST", "/ledger/period-closes"): Case(201, lambda w, r: Call("/ledger/period-closes", {"period": "2025Q4"})),
    ("GET", "/funds/{fund_id}/investors/{investor_id}/statements/{quarter}"): Case(
        200, lambda w, r: Call(f"/funds/{OWN_FUND}/investors/{OWN_INVESTOR}/statements/2026Q1?format=json"),
        lambda w, r: Call(f"/funds/{OWN_FUND}/investors/{OTHER_INVESTOR}/statements/2026Q1?format=json"),
        sees_all=frozenset({FM})),  # a fund manager sees every investor of its fund
    ("GET", "/funds/{fund_id}/investors/{investor_id}/capital-account"): Case(
        200, lambda w, r: Call(f"/funds/{OWN_FUND}/investors/{OWN_INVESTOR}/capital-account?quarter=2026Q1"),
        lambda w, r: Call(f"/funds/{OWN_FUND}/investors/{OTHER_INVESTOR}/capital-account?quarter=2026Q1"),
        sees_all=frozenset({FM})),
    ("GET", "/funds/{fund_id}/terms"): Case(200, *_f("/funds/{f}/terms")),
    # issued documents and their delivery
    ("POST", "/funds/{fund_id}/statements/issue"): Case(
        200, *_fb("/funds/{f}/statements/issue", {"quarter": "2026Q1", "kinds": ["investor"], "format": "html",
                                                   "send": False},
                  {"quarter": "2026Q1", "kinds": ["investor"], "format": "html", "send": False}),
        prepare=_close("2026Q1")),
    ("GET", "/funds/{fund_id}/documents"): Case(200, *_f("/funds/{f}/documents")),
    ("GET", "/funds/{fund_id}/deliveries"): Case(200, *_f("/funds/{f}/deliveries")),
    ("POST", "/funds/{fund_id}/deliveries/resend"): Case(200, *_fb("/funds/{f}/deliveries/resend", {}, {})),
    ("POST", "/funds/{fund_id}/notices/drawdown"): Case(
        200, *_fb("/funds/{f}/notices/drawdown", {"tranche": "senior", "amount": "300.00", "due": "2027-02-01",
                                                   "notice_date": "2027-01-10", "format": "html", "send": False},
                  {"tranche": "senior-o", "amount": "300.00", "due": "2027-02-01", "notice_date": "2027-01-10",
                   "format": "html", "send": False}),
        prepare=_bank_account),
    ("POST", "/funds/{fund_id}/notices/distribution"): Case(
        200, *_fb("/funds/{f}/notices/distribution", {"amount": "100.00", "on": "2027-01-31",
                                                       "notice_date": "2027-01-10", "dry_run": True},
                  {"amount": "100.00", "on": "2027-01-31", "notice_date": "2027-01-10", "dry_run": True})),
    ("GET", "/documents"): Case(200, lambda w, r: Call("/documents")),
    ("GET", "/documents/{document_id}"): Case(
        200, lambda w, r: Call(f"/documents/{w.documents[_reader_key(r)]}"),
        lambda w, r: Call(f"/documents/{w.documents['other']}")),
    ("POST", "/funds/{fund_id}/terms"): Case(201, *_fb("/funds/{f}/terms", _terms_body(OWN_FUND),
                                                       _terms_body(OTHER_FUND))),
    ("POST", "/funds/{fund_id}/distributions"): Case(201, *_fb(
        "/funds/{f}/distributions", {"on": "2026-03-31", "amount_pence": 100_000},
        {"on": "2026-03-31", "amount_pence": 100_000})),
    ("GET", "/contracts"): Case(200, lambda w, r: Call("/contracts")),
    ("POST", "/contracts"): Case(201, lambda w, r: Call("/contracts", {"toml": contract_text("new-c", OWN_FUND, OWN_PAYER)}),
                                 lambda w, r: Call("/contracts", {"toml": contract_text("new-o", OTHER_FUND, OTHER_PAYER)})),
    ("GET", "/contracts/{contract_id}"): Case(200, *_c("/contracts/{c}")),
    ("POST", "/contracts/{contract_id}/participants"): Case(201, *_c("/contracts/{c}/participants", _csv("participants.csv"))),
    ("POST", "/contracts/{contract_id}/outcomes"): Case(201, *_c("/contracts/{c}/outcomes", _csv("outcomes_q4.csv"))),
    ("POST", "/contracts/{contract_id}/claims"): Case(201, *_c("/contracts/{c}/claims", {"period": OPEN})),
    ("GET", "/contracts/{contract_id}/claims/{period}"): Case(200, *_c("/contracts/{c}/claims/" + PAID)),
    ("GET", "/contracts/{contract_id}/claims/{period}/lines"): Case(200, *_c("/contracts/{c}/claims/" + PAID + "/lines?format=csv")),
    ("POST", "/contracts/{contract_id}/claims/{period}/disputes"): Case(
        201, *_c("/contracts/{c}/claims/" + OPEN + "/disputes", {"line_no": 1, "reason": "no evidence"}), prepare=_run(OPEN)),
    ("POST", "/contracts/{contract_id}/claims/{period}/approval"): Case(
        201, *_c("/contracts/{c}/claims/" + OPEN + "/approval", {"on": "2027-01-20"}), prepare=_run(OPEN)),
    ("POST", "/contracts/{contract_id}/claims/{period}/invoice"): Case(
        201, *_c("/contracts/{c}/claims/" + OPEN + "/invoice", {"ref": "INV-2"}), prepare=_run(OPEN, "approve")),
    ("POST", "/contracts/{contract_id}/claims/{period}/payments"): Case(
        201, *_c("/contracts/{c}/claims/" + OPEN + "/payments", {"on": "2027-02-01"}), prepare=_run(OPEN, "approve", "invoice")),
    ("POST", "/contracts/{contract_id}/claims/{period}/sample"): Case(
        201, *_c("/contracts/{c}/claims/" + PAID + "/sample", {"size": 3, "seed": "2026"})),
    ("GET", "/contracts/{contract_id}/claims/{period}/sample"): Case(200, *_c("/contracts/{c}/claims/" + PAID + "/sample")),
    ("POST", "/contracts/{contract_id}/claims/{period}/recheck"): Case(
        201, *_c("/contracts/{c}/claims/" + PAID + "/recheck", {"invalid_lines": [3]})),
    # The test contract has no comparison mechanism: the call passes the access checks and the
    # service refuses it (422). Mechanism results themselves are tested in tests/unit/pbr.
    ("POST", "/contracts/{contract_id}/mechanisms"): Case(
        422, *_c("/contracts/{c}/mechanisms", {"period": PAID, "index": 0, "figures_toml": "x = 1"})),
    ("POST", "/contracts/{contract_id}/plan-vs-actual"): Case(200, *_c("/contracts/{c}/plan-vs-actual", {"csv": PLANS_CSV})),
    ("GET", "/contracts/{contract_id}/partners"): Case(
        200, lambda w, r: Call(f"/contracts/{JOINT_CONTRACT}/partners"),
        lambda w, r: Call(f"/contracts/{OTHER_JOINT_CONTRACT}/partners")),
    ("GET", "/contracts/{contract_id}/partners/{partner_id}/statements"): Case(200, *_p()),
    ("GET", "/contracts/{contract_id}/partners/{partner_id}/statements/{period}"): Case(200, *_p(f"/{PAID}")),
    # incubator calls: an applicant may name any call (it sees only its own applications to it)
    ("GET", "/calls/{call_id}/applications"): Case(
        200, lambda w, r: Call(f"/calls/{OWN_CALL}/applications"), lambda w, r: Call(f"/calls/{OTHER_CALL}/applications"),
        sees_all=frozenset({APL})),
    ("POST", "/calls/{call_id}/applications"): Case(
        201, lambda w, r: Call(f"/calls/{OWN_CALL}/applications", application("R2", "Sefton Silver Line")),
        lambda w, r: Call(f"/calls/{OTHER_CALL}/applications", application("R2", "Sefton Silver Line")),
        sees_all=frozenset({APL})),
    ("GET", "/applications/{application_id}"): Case(200, *_a("")),
    ("POST", "/applications/{application_id}/conflicts"): Case(201, *_a("/conflicts", {"note": "a trustee"})),
    ("POST", "/applications/{application_id}/scores"): Case(201, *_a("/scores", {"scores": {"need": 4}})),
    ("POST", "/applications/{application_id}/decisions"): Case(
        201, *_a("/decisions", {"decision": "award", "reasons": "strong need", "on": "2026-04-01"}), prepare=_scored),
    ("POST", "/calls/{call_id}/publication"): Case(
        201, lambda w, r: Call(f"/calls/{OWN_CALL}/publication", {"on": "2026-04-02"}),
        lambda w, r: Call(f"/calls/{OTHER_CALL}/publication", {"on": "2026-04-02"})),
    ("POST", "/applications/{application_id}/award"): Case(201, *_a("/award", {"on": "2026-04-03"}), prepare=_decided),
    ("POST", "/applications/{application_id}/payments"): Case(
        201, *_a("/payments", {"tranche": 1, "on": "2026-04-04"}), prepare=_awarded),
}
