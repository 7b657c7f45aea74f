"""A small world for the API tests: two funds, their investors, payers and contracts, a claim
run already paid and sampled, ledger entries in both funds, and a token per role.

"own" objects are the ones the tokens are scoped to (or belong to their fund / payer);
"other" objects belong to another fund, investor or payer.

Each fund also holds a joint-prime contract (fixtures/contracts/joint_prime_example.toml, three
delivery partners) with its 2026Q3 claim paid and passed through, and only wirral-works paid:
the partner token is sefton-carers on the own fund's contract; "other" partners are
bridge-housing on the same contract and sefton-carers on the other fund's contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Engine

DATA = Path(__file__).resolve().parents[1] / "data" / "pbr"
TERMS_FILE = Path(__file__).resolve().parent / "terms" / "fuel-lcr_terms.toml"  # the own fund's statement terms
OWN_FUND, OTHER_FUND = "fuel-lcr", "other-fund"
OWN_INVESTOR, OTHER_INVESTOR = "inv-a", "inv-b"
OWN_PAYER, OTHER_PAYER = "council", "council-b"
OWN_CONTRACT, OTHER_CONTRACT = "lcr-housing", "other-housing"
PAID, OPEN = "2026Q3", "2026Q4"
JOINT_CONTRACT, OTHER_JOINT_CONTRACT = "lcr-joint-prime", "other-joint-prime"
OWN_PARTNER, OTHER_PARTNER = "sefton-carers", "bridge-housing"
JOINT_DATA = DATA.parent / "joint_prime"
JOINT_FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "contracts" / "joint_prime_example.toml"

SETUP = {
    OWN_FUND: {
        "fund": {"id": OWN_FUND, "name": "LCR Fund", "currency": "GBP"},
        "parties": [
            {"id": OWN_INVESTOR, "name": "Investor A", "kind": "investor", "investor_type": "social_investor"},
            {"id": OTHER_INVESTOR, "name": "Investor B", "kind": "investor", "investor_type": "social_investor"},
            {"id": OWN_PAYER, "name": "Liverpool City Council", "kind": "payer"},
            {"id": "central", "name": "Central top-up fund", "kind": "payer"},
            {"id": OTHER_PAYER, "name": "Other Council", "kind": "payer"},
            {"id": "chp", "name": "Community Housing Partnership", "kind": "provider"},
        ],
        "tranches": [{"id": "senior", "name": "Senior", "rank": 1, "kind": "repayable"},
                     {"id": "junior", "name": "Junior", "rank": 2, "kind": "repayable"},
                     {"id": "first-loss", "name": "First loss", "rank": 3, "kind": "grant"}],
        "projects": [{"id": "PRJ-LCR-1", "name": "Housing", "provider": "chp", "theme": "housing"}],
        "commitments": [{"id": "c-a", "tranche": "senior", "investor": OWN_INVESTOR, "amount": "100000.00",
                         "date": "2026-01-05"},
                        {"id": "c-b-lcr", "tranche": "senior", "investor": OTHER_INVESTOR, "amount": "50000.00",
                         "date": "2026-01-05"}],
    },
    OTHER_FUND: {
        "fund": {"id": OTHER_FUND, "name": "Other Fund", "currency": "GBP"},
        "tranches": [{"id": "senior-o", "name": "Senior", "rank": 1, "kind": "repayable"}],
        "projects": [{"id": "PRJ-O-1", "name": "Other housing", "provider": "chp", "theme": "housing"}],
        "commitments": [{"id": "c-b", "tranche": "senior-o", "investor": OTHER_INVESTOR, "amount": "50000.00",
                         "date": "2026-01-05"}],
    },
}


OWN_CALL, OTHER_CALL = "lcr-ageing", "other-ageing"  # incubator calls (docs/calls.md), one per fund
OWN_ORG, OTHER_ORG = "GB-CHC-1123456", "GB-COH-12345678"


def call_text(call_id: str, fund: str, tranche: str) -> str:
    return f"""[call]
id = "{call_id}"
fund = "{fund}"
name = "Ageing well"
theme = "ageing"
opens_on = 2026-01-01
closes_on = 2027-12-31

[[budget]]
source = "social_investment"
tranche = "{tranche}"
amount = "10000.00"

[[criteria]]
id = "need"
name = "Need"
weight = 1
"""


def application(reference: str, org_name: str, amount: str = "5000.00") -> dict:
    return {"reference": reference, "org_name": org_name, "org_type": "charity", "org_size": "small", "area": "sefton",
            "theme": "ageing", "project": "Befriending", "outcomes": "less loneliness", "amount": amount,
            "submitted_on": "2026-03-01"}


@dataclass
class World:
    own_entry: int
    other_entry: int
    tokens: dict[str, str]  # role -> token
    #: an issued document per reader ("own": inv-a's in the own fund, "payer", "partner", and
    #: "other": inv-b's in the other fund), for the delivery routes
    documents: dict[str, int] = field(default_factory=dict)
    #: applications: the own org's to the own fund's call, another org's to it, and one to the other fund's call
    own_application: int = 0
    rival_application: int = 0
    other_application: int = 0


def contract_text(contract_id: str, fund: str, payer: str) -> str:
    text = (DATA / "contract.toml").read_text()
    text = text.replace('id = "lcr-housing"', f'id = "{contract_id}"').replace('fund = "fuel-lcr"', f'fund = "{fund}"')
    if fund == OTHER_FUND:  # each fund's contract is for one of its own projects
        text = text.replace('project = "PRJ-LCR-1"', 'project = "PRJ-O-1"')
    return text.replace('id = "council"', f'id = "{payer}"')


def joint_contract_text(contract_id: str, fund: str, payer: str, project: str) -> str:
    text = JOINT_FIXTURE.read_text()
    text = text.replace('id = "lcr-joint-prime"', f'id = "{contract_id}"')
    text = text.replace('project = "PRJ-LCR-JP"', f'project = "{project}"\nfund = "{fund}"')
    return text.replace('id = "council"', f'id = "{payer}"')


def _joint_prime(conn, contract: str, fund: str, payer: str, project: str) -> None:
    """A joint-prime contract with 2026Q3 paid and passed through; only wirral-works paid."""
    from models import partners_store, pbr_store

    pbr_store.load_contract(conn, joint_contract_text(contract, fund, payer, project), f"{contract}.toml", "test")
    pbr_store.import_participants(conn, contract, (JOINT_DATA / "participants.csv").read_text(), "p.csv", "test")
    pbr_store.import_outcomes(conn, contract, (JOINT_DATA / "outcomes_q3.csv").read_text(), "q3.csv", "test")
    pbr_store.run_claims(conn, contract, PAID, "test")
    pbr_store.approve(conn, contract, PAID, date(2026, 11, 2), "test")
    pbr_store.invoice(conn, contract, PAID, "INV-JP-1", "test")
    pbr_store.pay(conn, contract, PAID, date(2026, 11, 2), "test")
    partners_store.run_pass_through(conn, contract, PAID, date(2026, 11, 5), "test")
    partners_store.pay_partners(conn, contract, PAID, date(2026, 11, 10), "test", partner="wirral-works")


def _setup_mapping(fund: str) -> dict:
    data = SETUP[fund]
    out = dict(data)
    out["commitments"] = [{**c, "date": c["date"]} for c in data.get("commitments", [])]
    return out


def build(engine: Engine) -> World:
    from ledger.flows import DrawdownNotice, DrawdownReceived
    from ledger.funds import fund_setup_from_mapping
    from ledger.shell.cli_terms import read_terms_file
    from models import pbr_store
    from models.api_store import create_token
    from models.flows_store import record_event, save_setup
    from models.terms_store import store_terms

    entries = {}
    with engine.begin() as conn:
        for fund, tranche, investor, amount in ((OWN_FUND, "senior", OWN_INVESTOR, 4_000_000),
                                                (OTHER_FUND, "senior-o", OTHER_INVESTOR, 2_000_000)):
            save_setup(conn, fund_setup_from_mapping(_setup_mapping(fund), fund), "test")
            if fund == OWN_FUND:  # the other fund has no statement terms
                store_terms(conn, read_terms_file(TERMS_FILE), loaded_by="test")
            record_event(conn, DrawdownNotice(fund=fund, effective_date=date(2026, 2, 1), tranche=tranche,
                                              amount_pence=amount), "test")
            if fund == OWN_FUND:  # the notice is split 2:1 between inv-a's and inv-b's commitments
                record_event(conn, DrawdownReceived(fund=fund, effective_date=date(2026, 2, 11), tranche=tranche,
                                                    investor=OTHER_INVESTOR, amount_pence=1_333_333), "test")
                amount = 2_666_667
            result, _ = record_event(conn, DrawdownReceived(fund=fund, effective_date=date(2026, 2, 10),
                                                            tranche=tranche, investor=investor,
                                                            amount_pence=amount), "test")
            entries[fund] = result.entry.id
        for contract, fund, payer in ((OWN_CONTRACT, OWN_FUND, OWN_PAYER), (OTHER_CONTRACT, OTHER_FUND, OTHER_PAYER)):
            pbr_store.load_contract(conn, contract_text(contract, fund, payer), f"{contract}.toml", "test")
            pbr_store.import_participants(conn, contract, (DATA / "participants.csv").read_text(), "p.csv", "test")
            pbr_store.import_outcomes(conn, contract, (DATA / "outcomes_q3.csv").read_text(), "q3.csv", "test")
            pbr_store.run_claims(conn, contract, PAID, "test")
            pbr_store.approve(conn, contract, PAID, date(2026, 10, 20), "test")
            pbr_store.invoice(conn, contract, PAID, "INV-1", "test")
            pbr_store.pay(conn, contract, PAID, date(2026, 11, 2), "test")
            pbr_store.draw_sample(conn, contract, PAID, 3, "2026", "test")
            pbr_store.import_outcomes(conn, contract, (DATA / "outcomes_q4.csv").read_text(), "q4.csv", "test")
        _joint_prime(conn, JOINT_CONTRACT, OWN_FUND, OWN_PAYER, "PRJ-LCR-1")
        _joint_prime(conn, OTHER_JOINT_CONTRACT, OTHER_FUND, OTHER_PAYER, "PRJ-O-1")
        from ledger.calls import parse_call
        from models.calls_store import open_call, submit_application

        apps = []
        for call_id, fund, tranche, org, name in ((OWN_CALL, OWN_FUND, "senior", OWN_ORG, "Sefton Silver Line"),
                                                  (OWN_CALL, OWN_FUND, "senior", OTHER_ORG, "Wirral Care CIC"),
                                                  (OTHER_CALL, OTHER_FUND, "senior-o", OTHER_ORG, "Wirral Care CIC")):
            open_call(conn, parse_call(call_text(call_id, fund, tranche)), "test")
            apps.append(submit_application(conn, call_id, {**application("R1", name), "org_id": org}, "test")["id"])
        tokens = {
            "fund_manager": create_token(conn, "fm", "fund_manager", OWN_FUND)[0],
            "investor": create_token(conn, "inv", "investor", OWN_INVESTOR)[0],
            "commissioner": create_token(conn, "com", "commissioner", OWN_PAYER)[0],
            "auditor": create_token(conn, "aud", "auditor", None)[0],
            "partner": create_token(conn, "ptr", "partner", f"{JOINT_CONTRACT}/{OWN_PARTNER}")[0],
            "applicant": create_token(conn, "apl", "applicant", OWN_ORG)[0],
            "assessor": create_token(conn, "asr", "assessor", OWN_FUND)[0],
        }
        documents = _issued_documents(conn)
    return World(entries[OWN_FUND], entries[OTHER_FUND], tokens, documents, *apps)


def _issued_documents(conn) -> dict[str, int]:
    """One small frozen document per reader (models/delivery_store.freeze), as issuing stores them."""
    from models import delivery_store as store

    made = {}
    for key, fund, kind, party_kind, party in (
            ("own", OWN_FUND, "investor_statement", "investor", OWN_INVESTOR),
            ("payer", OWN_FUND, "council_statement", "payer", OWN_PAYER),
            ("partner", OWN_FUND, "partner_statement", "partner", f"{JOINT_CONTRACT}/{OWN_PARTNER}"),
            ("other", OTHER_FUND, "investor_statement", "investor", OTHER_INVESTOR)):
        draft = store.Draft(kind, PAID, PAID, party_kind, party, f"{kind} {PAID} for {party}", f"{key}.html",
                            "text/html", f"<p>{kind} for {party}</p>".encode())
        made[key] = store.freeze(conn, fund, draft, "test", None)[0]["id"]
    return made


def auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}
