"""Fund isolation (issue 16, items 1-6): a fund manager writes only into its own fund, through
every write path, whatever the input's spelling; ids that belong to a fund are the fund's; a
contract's dimensions exist and are its fund's; a payer acts only on its own share.

The world is tests/api/world.py (two funds, "fuel-lcr" managed by the fund-manager token and
"other-fund"), built on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import sys

import pytest
from sqlalchemy import func, select

from tests.api.conftest import api  # noqa: F401  (the API tests' world on both backends)
from tests.api.world import OTHER_FUND, OWN_FUND, auth
from tests.web.conftest import csrf_of, sign_in

ROW = "drawdown_notice,2026-11-03,{fund},100.00,{tranche},call-{n}\n"
TRANCHE = {OWN_FUND: "senior", OTHER_FUND: "senior-o"}
#: the fund header as the adversarial pass spelled it: upper case, a leading space, both
HEADERS = ("FUND", " fund", " Fund ")


def _flows(header: str, fund: str, n: int) -> str:
    return f"event,date,{header},amount,tranche,key\n" + ROW.format(fund=fund, tranche=TRANCHE[fund], n=n)


def _entries_in(engine, fund: str) -> int:
    from models.tables import PostingRow

    postings = PostingRow.__table__
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(postings).where(postings.c.fund == fund)).scalar_one()


def run_cli(args: list[str], monkeypatch, capsys) -> tuple[int, str]:
    from ledger.shell.cli import main

    monkeypatch.setattr(sys, "argv", ["fuel", *args])
    capsys.readouterr()
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    return code, capsys.readouterr().err


# ---------------------------------------------------------------------------- item 1


def test_no_write_path_posts_into_a_fund_the_principal_does_not_manage(api, db_url, tmp_path, monkeypatch, capsys):
    """API import (text and rows), event POST, journal POST, the web import form, and the CLI
    as a scoped fund manager: each refuses a row or event for another fund, however the fund
    header is spelled."""
    from models.web_store import create_user

    client, token = api.client, api.world.tokens["fund_manager"]
    before = _entries_in(api.engine, OTHER_FUND)
    with api.engine.begin() as conn:
        create_user(conn, "fm-cli", "a-long-password", "fund_manager", OWN_FUND)
    refusals = []
    for header in HEADERS:
        refusals += _attempts(header, api, db_url, tmp_path, monkeypatch, capsys)
    assert len(refusals) == 7 * len(HEADERS)
    for where, status, text in refusals:
        assert status in (404, 422), (where, status, text[:2000])
        assert "Traceback" not in text, where
        assert "Other Fund" not in text, (where, text[:2000])  # nothing of the other fund is shown
    assert _entries_in(api.engine, OTHER_FUND) == before


def _attempts(header, api, db_url, tmp_path, monkeypatch, capsys) -> list:
    client, token = api.client, api.world.tokens["fund_manager"]
    refusals = []
    # API: a flows import whose fund header is spelled differently
    response = client.post(f"/funds/{OWN_FUND}/imports/flows", headers=auth(token),
                           json={"csv": _flows(header, OTHER_FUND, 1), "file_name": "f.csv"})
    refusals.append(("api import", response.status_code, response.text))
    response = client.post(f"/funds/{OWN_FUND}/imports/flows", headers=auth(token), json={
        "rows": [{header: OTHER_FUND, "event": "drawdown_notice", "date": "2026-11-03", "amount": "100.00",
                  "tranche": "senior-o", "key": "k2"}],
        "file_name": "rows.csv"})
    refusals.append(("api rows", response.status_code, response.text))
    # API: another fund in the path (404, as if it did not exist)
    response = client.post(f"/funds/{OTHER_FUND}/events", headers=auth(token),
                           json={"kind": "drawdown_notice", "effective_date": "2026-11-03", "amount_pence": 10000,
                                 "tranche": "senior-o"})
    refusals.append(("api event", response.status_code, response.text))
    response = client.post(f"/funds/{OWN_FUND}/entries", headers=auth(token), json={"entries": [{
        "effective_date": "2026-11-03", "description": "x", "idempotency_key": "manual-1",
        "postings": [{"account": "cash", "amount_pence": 100, "currency": "GBP", "fund": OTHER_FUND},
                     {"account": "cash", "amount_pence": -100, "currency": "GBP", "fund": OTHER_FUND}]}]})
    refusals.append(("api entries", response.status_code, response.text))
    # the web import form
    sign_in(client, token)
    csrf = csrf_of(client, f"/ui/funds/{OWN_FUND}/imports/new")
    response = client.post(f"/ui/funds/{OWN_FUND}/imports",
                           data={"csrf": csrf, "csv_text": _flows(header, OTHER_FUND, 3)}, follow_redirects=False)
    refusals.append(("web import", response.status_code, response.text))
    client.cookies.clear()
    # the CLI, recording as a web user who manages the own fund
    monkeypatch.setenv("FUEL_USER", "fm-cli")
    path = tmp_path / "flows.csv"
    path.write_text(_flows(header, OTHER_FUND, 4))
    code, err = run_cli(["--db", db_url, "import", "flows", str(path)], monkeypatch, capsys)
    refusals.append(("cli import", 422 if code == 1 else code, err))
    code, err = run_cli(["--db", db_url, "record", "drawdown-notice", "--fund", OTHER_FUND,
                         "--tranche", "senior-o", "--amount", "100.00", "--date", "2026-11-03"], monkeypatch, capsys)
    refusals.append(("cli record", 422 if code == 1 else code, err))
    return refusals


def test_a_scoped_import_into_its_own_fund_still_posts(api, db_url, tmp_path, monkeypatch, capsys):
    from models.web_store import create_user

    response = api.client.post(f"/funds/{OWN_FUND}/imports/flows", headers=auth(api.world.tokens["fund_manager"]),
                               json={"csv": _flows("FUND", OWN_FUND, 1), "file_name": "f.csv"})
    assert response.status_code == 201, response.text
    with api.engine.begin() as conn:
        create_user(conn, "fm-cli", "a-long-password", "fund_manager", OWN_FUND)
    monkeypatch.setenv("FUEL_USER", "fm-cli")
    path = tmp_path / "flows.csv"
    path.write_text(_flows(" fund", OWN_FUND, 2))
    code, err = run_cli(["--db", db_url, "import", "flows", str(path)], monkeypatch, capsys)
    assert code == 0, err


# ---------------------------------------------------------------------------- item 2


def test_a_contract_id_from_another_fund_is_refused_before_anything_is_stored(api, db_url, tmp_path,
                                                                              monkeypatch, capsys):
    """While another fund's contract has no claim runs, a file with its id (and the caller's
    fund) is refused; the stored contract keeps its fund and text, and the refusal does not
    name the other fund."""
    from models.pbr_store import contracts_t, load_contract
    from tests.api.world import OTHER_PAYER, contract_text

    with api.engine.begin() as conn:
        load_contract(conn, contract_text("other-new", OTHER_FUND, OTHER_PAYER), "other-new.toml", "test")
        stored = conn.execute(select(contracts_t).where(contracts_t.c.id == "other-new")).mappings().one()
    takeover = contract_text("other-new", OWN_FUND, "council").replace('name = "', 'name = "Taken ', 1)
    response = api.client.post("/contracts", headers=auth(api.world.tokens["fund_manager"]),
                               json={"toml": takeover, "source_name": "takeover.toml"})
    assert response.status_code == 422, response.text
    assert "another fund" in response.text and OTHER_FUND not in response.text
    # the operator's CLI cannot move it either, nor a scoped user
    path = tmp_path / "takeover.toml"
    path.write_text(takeover)
    code, err = run_cli(["--db", db_url, "contracts", "load", str(path)], monkeypatch, capsys)
    assert code == 1 and "a contract never changes fund" in err, err
    with api.engine.connect() as conn:
        after = conn.execute(select(contracts_t).where(contracts_t.c.id == "other-new")).mappings().one()
    assert (after["fund"], after["content_hash"], after["name"]) == (stored["fund"], stored["content_hash"],
                                                                     stored["name"])


def test_a_fund_managers_contract_for_another_fund_is_refused(api, db_url, tmp_path, monkeypatch, capsys):
    from models.pbr_store import contracts_t
    from models.web_store import create_user
    from tests.api.world import OTHER_PAYER, contract_text

    text = contract_text("brand-new", OTHER_FUND, OTHER_PAYER)
    response = api.client.post("/contracts", headers=auth(api.world.tokens["fund_manager"]),
                               json={"toml": text, "source_name": "new.toml"})
    assert response.status_code == 404, response.text
    with api.engine.begin() as conn:
        create_user(conn, "fm-cli", "a-long-password", "fund_manager", OWN_FUND)
    monkeypatch.setenv("FUEL_USER", "fm-cli")
    path = tmp_path / "new.toml"
    path.write_text(text)
    code, err = run_cli(["--db", db_url, "contracts", "load", str(path)], monkeypatch, capsys)
    assert code == 1 and f"for fund {OWN_FUND!r} only" in err, err
    with api.engine.connect() as conn:
        assert conn.execute(select(contracts_t.c.id).where(contracts_t.c.id == "brand-new")).first() is None


# ---------------------------------------------------------------------------- item 3


def _party_name(engine, party_id: str) -> str:
    from models.flows_store import parties_t

    with engine.connect() as conn:
        return conn.execute(select(parties_t.c.name).where(parties_t.c.id == party_id)).scalar_one()


def test_a_fund_manager_changes_only_its_own_funds_parties(api):
    """Another fund's manager cannot rename this fund's investor (POST /parties or its setup);
    a party both funds use is changed through neither; a party only this fund uses can be."""
    from models.api_store import create_token
    from tests.api.world import OTHER_INVESTOR, OWN_INVESTOR

    with api.engine.begin() as conn:
        other_fm = create_token(conn, "fm-other", "fund_manager", OTHER_FUND)[0]
    own_fm = api.world.tokens["fund_manager"]
    renamed = {"id": OWN_INVESTOR, "name": "Renamed by another fund", "kind": "investor",
               "investor_type": "social_investor"}
    response = api.client.post("/parties", headers=auth(other_fm), json=renamed)
    assert response.status_code == 422, response.text
    assert "used by another fund" in response.text and OWN_FUND not in response.text
    setup = {"fund": {"id": OTHER_FUND, "name": "Other Fund", "currency": "GBP"}, "parties": [renamed]}
    response = api.client.post(f"/funds/{OTHER_FUND}/setup", headers=auth(other_fm), json=setup)
    assert response.status_code == 422, response.text
    assert _party_name(api.engine, OWN_INVESTOR) == "Investor A"
    # inv-b is committed to both funds: neither fund's manager may rename it
    shared = {"id": OTHER_INVESTOR, "name": "Renamed", "kind": "investor", "investor_type": "social_investor"}
    for token in (own_fm, other_fm):
        response = api.client.post("/parties", headers=auth(token), json=shared)
        assert response.status_code == 422, response.text
    assert _party_name(api.engine, OTHER_INVESTOR) == "Investor B"
    # a new party, and a party only the own fund uses, are the own fund's to change
    response = api.client.post("/parties", headers=auth(other_fm),
                               json={"id": "new-payer", "name": "New payer", "kind": "payer"})
    assert response.status_code == 201, response.text
    response = api.client.post("/parties", headers=auth(own_fm), json={**renamed, "name": "Investor A Ltd"})
    assert response.status_code == 201, response.text
    assert _party_name(api.engine, OWN_INVESTOR) == "Investor A Ltd"
    # ... but not a party another fund created
    response = api.client.post("/parties", headers=auth(own_fm),
                               json={"id": "new-payer", "name": "Taken", "kind": "payer"})
    assert response.status_code == 422, response.text
    assert _party_name(api.engine, "new-payer") == "New payer"


def test_fund_load_of_a_second_fund_does_not_change_the_first_funds_manager(db_url, tmp_path, monkeypatch, capsys):
    from models.db import make_engine

    first = ('[fund]\nid = "fund-one"\nname = "Fund one"\ncurrency = "GBP"\n'
             '[[parties]]\nid = "{m}"\nname = "{name}"\nkind = "manager"\n')
    (tmp_path / "one.toml").write_text(first.format(m="manager-one", name="Manager One LLP"))
    (tmp_path / "two.toml").write_text(first.format(m="manager-one", name="Renamed by fund two")
                                       .replace("fund-one", "fund-two").replace("Fund one", "Fund two"))
    code, err = run_cli(["--db", db_url, "fund", "load", str(tmp_path / "one.toml")], monkeypatch, capsys)
    assert code == 0, err
    code, err = run_cli(["--db", db_url, "fund", "load", str(tmp_path / "two.toml")], monkeypatch, capsys)
    assert code == 1 and "used by another fund" in err and "fund-one" not in err, err
    engine = make_engine(db_url)
    try:
        assert _party_name(engine, "manager-one") == "Manager One LLP"
        from models.flows_store import funds_t

        with engine.connect() as conn:  # nothing of the refused file was stored
            assert conn.execute(select(funds_t.c.id).where(funds_t.c.id == "fund-two")).first() is None
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------- item 4


def test_an_idempotency_key_another_fund_used_does_not_collide(api):
    """The same event key in two funds gives two entries; each fund's replay finds its own."""
    from models.api_store import create_token

    with api.engine.begin() as conn:
        other_fm = create_token(conn, "fm-other", "fund_manager", OTHER_FUND)[0]
    own_fm = api.world.tokens["fund_manager"]
    event = {"kind": "drawdown_notice", "effective_date": "2026-11-03", "amount_pence": 10000, "key": "call-nov"}
    first = api.client.post(f"/funds/{OWN_FUND}/events", headers=auth(own_fm), json={**event, "tranche": "senior"})
    assert first.status_code == 201, first.text
    second = api.client.post(f"/funds/{OTHER_FUND}/events", headers=auth(other_fm),
                             json={**event, "tranche": "senior-o"})
    assert second.status_code == 201, second.text
    assert second.json()["entry_id"] != first.json()["entry_id"]
    assert str(first.json()["entry_id"]) not in second.text
    for token, fund, tranche, original in ((own_fm, OWN_FUND, "senior", first), (other_fm, OTHER_FUND, "senior-o",
                                                                                 second)):
        replay = api.client.post(f"/funds/{fund}/events", headers=auth(token), json={**event, "tranche": tranche})
        assert replay.status_code == 200, replay.text
        assert replay.json()["entry_id"] == original.json()["entry_id"], (fund, replay.text, first.text, second.text)
    # a flows import in the other fund with the key: already posted, not a conflict naming an entry
    response = api.client.post(f"/funds/{OTHER_FUND}/imports/flows", headers=auth(other_fm), json={
        "csv": "event,date,fund,amount,tranche,key\ndrawdown_notice,2026-11-03,other-fund,100.00,senior-o,call-nov\n",
        "file_name": "f.csv"})
    assert response.status_code == 201 and response.json()["already_posted"] == 1, response.text


def test_no_error_names_another_funds_data(api):
    """A tranche id or a manual entry's key another fund holds is refused without naming that
    fund or its entry."""
    from models.api_store import create_token

    with api.engine.begin() as conn:
        other_fm = create_token(conn, "fm-other", "fund_manager", OTHER_FUND)[0]
    own_fm = api.world.tokens["fund_manager"]
    entry = {"effective_date": "2026-11-03", "description": "x", "idempotency_key": "manual-1",
             "postings": [{"account": "cash", "amount_pence": 100, "currency": "GBP"},
                          {"account": "cash", "amount_pence": -100, "currency": "GBP"}]}
    own = api.client.post(f"/funds/{OWN_FUND}/entries", headers=auth(own_fm), json={"entries": [entry]})
    assert own.status_code == 201, own.text
    other = api.client.post(f"/funds/{OTHER_FUND}/entries", headers=auth(other_fm), json={"entries": [entry]})
    assert other.status_code in (201, 409, 422), other.text
    assert f"entry {own.json()[0]['entry_id']}" not in other.text and OWN_FUND not in other.text
    response = api.client.post(f"/funds/{OTHER_FUND}/tranches", headers=auth(other_fm),
                               json={"id": "junior", "name": "Junior", "rank": 2, "kind": "repayable"})
    assert OWN_FUND not in response.text, response.text


# ---------------------------------------------------------------------------- item 5


def test_a_contract_names_an_existing_fund_its_own_project_and_the_funds_currency(api):
    from ledger.errors import NotFound, ValidationError
    from models.pbr_store import contracts_t, load_contract
    from tests.api.world import OTHER_PAYER, contract_text

    own = contract_text("c-new", OWN_FUND, "council")
    bad = {
        "no such fund": (own.replace(f'fund = "{OWN_FUND}"', 'fund = "no-such-fund"'), NotFound,
                         "unknown fund 'no-such-fund'"),
        "no such project": (own.replace('project = "PRJ-LCR-1"', 'project = "PRJ-NOPE"'), NotFound,
                            f"is not a project of fund {OWN_FUND}"),
        "another fund's project": (own.replace('project = "PRJ-LCR-1"', 'project = "PRJ-O-1"'), NotFound,
                                   f"project 'PRJ-O-1' is not a project of fund {OWN_FUND}"),
        "another currency": (own.replace('currency = "GBP"', 'currency = "EUR"'), ValidationError,
                             f"currency EUR is not fund {OWN_FUND}'s currency (GBP)"),
    }
    for case, (text, error, message) in bad.items():
        with pytest.raises(error, match=re.escape(message)), api.engine.begin() as conn:
            load_contract(conn, text, f"{case}.toml", "test")
    response = api.client.post("/contracts", headers=auth(api.world.tokens["fund_manager"]),
                               json={"toml": bad["another fund's project"][0], "source_name": "c.toml"})
    assert response.status_code == 404 and OTHER_FUND not in response.text, response.text
    with api.engine.connect() as conn:
        assert conn.execute(select(contracts_t.c.id).where(contracts_t.c.id == "c-new")).first() is None
    with api.engine.begin() as conn:  # the good one loads
        assert load_contract(conn, contract_text("c-other", OTHER_FUND, OTHER_PAYER), "c.toml", "test")[1] == "added"


def _posting(**dims):
    from ledger.postings import Posting

    base = dict(currency="GBP", fund=OWN_FUND, source=None, tranche=None, restriction=None, project=None,
                counterparty=None)
    base.update(dims)
    return (Posting("cash", 100, **base), Posting("cash", -100, **base))


@pytest.mark.parametrize("dims", [{"fund": "no-such-fund"}, {"project": "PRJ-O-1"}, {"tranche": "senior-o"},
                                  {"project": "PRJ-NOPE"}], ids=["fund", "other-project", "other-tranche",
                                                                 "no-project"])
def test_every_posting_dimension_exists_and_is_its_funds_in_code_and_in_the_database(dims, api):
    from datetime import date

    from sqlalchemy import insert
    from sqlalchemy.exc import DBAPIError

    from ledger.errors import NotFound
    from ledger.postings import EntryDraft
    from models.ledger_store import post_entries
    from models.tables import PostingRow

    draft = EntryDraft(date(2026, 11, 3), "x", "dims-1", _posting(**dims), "manual")
    with pytest.raises(NotFound), api.engine.begin() as conn:
        post_entries(conn, [draft], "test")
    # behind Fuel's back: the database refuses the posting itself
    row = {"entry_id": 999_999, "line_no": 1, "effective_date": date(2026, 11, 3), "account_code": "cash",
           "amount_pence": 100, "currency": "GBP", "fund": OWN_FUND, **dims}
    with pytest.raises(DBAPIError, match="posting dimension refused"), api.engine.begin() as conn:
        conn.execute(insert(PostingRow.__table__).values(**row))
    own = {"project": "PRJ-LCR-1"} if "project" in dims else {"tranche": "senior"} if "tranche" in dims else {}
    with api.engine.connect() as conn:  # the same posting with its own fund's dimensions is accepted
        transaction = conn.begin()
        conn.execute(insert(PostingRow.__table__).values(**{**row, "fund": OWN_FUND, **own}))
        transaction.rollback()


# ---------------------------------------------------------------------------- item 6


def test_each_payer_approves_only_its_own_share(api):
    """A council approving a two-payer claim posts its own share only; the central payer's
    share waits for its approval (here the fund manager's), then the run is approved."""
    from models.pbr_store import get_run, run_claims, run_payers
    from models.tables import JournalEntryRow
    from tests.api.world import OPEN, OWN_CONTRACT, OWN_PAYER

    with api.engine.begin() as conn:
        run = run_claims(conn, OWN_CONTRACT, OPEN, "test")
        shares = {r["payer_id"]: r["share_pence"] for r in run_payers(conn, run)}
    assert set(shares) == {OWN_PAYER, "central"} and all(shares.values()), shares
    path = f"/contracts/{OWN_CONTRACT}/claims/{OPEN}/approval"
    response = api.client.post(path, headers=auth(api.world.tokens["commissioner"]), json={"on": "2027-01-20"})
    assert response.status_code == 201, response.text
    payers = {p["payer_id"]: p for p in response.json()["payers"]}
    assert payers[OWN_PAYER]["approved_pence"] is not None and payers["central"]["approved_pence"] is None
    assert response.json()["status"] == "validated"
    entries = JournalEntryRow.__table__
    with api.engine.connect() as conn:
        keys = set(conn.execute(select(entries.c.idempotency_key)
                                .where(entries.c.idempotency_key.like(f"pbr-approve:{OWN_CONTRACT}:{OPEN}:%"))).scalars())
    assert keys == {f"pbr-approve:{OWN_CONTRACT}:{OPEN}:{OWN_PAYER}"}
    # the council approving again changes nothing; the fund manager records the rest
    again = api.client.post(path, headers=auth(api.world.tokens["commissioner"]), json={"on": "2027-01-20"})
    assert again.status_code == 201 and again.json()["status"] == "validated", again.text
    done = api.client.post(path, headers=auth(api.world.tokens["fund_manager"]), json={"on": "2027-01-21"})
    assert done.status_code == 201 and done.json()["status"] == "approved", done.text
    with api.engine.connect() as conn:
        run = get_run(conn, OWN_CONTRACT, OPEN)
        approved = {r["payer_id"]: r["approved_pence"] for r in run_payers(conn, run)}
    assert all(v is not None for v in approved.values())


def test_every_roles_scope_must_exist(db_url, monkeypatch, capsys):
    code, err = run_cli(["--db", db_url, "tokens", "create", "--role", "fund_manager", "--fund", "nope",
                         "--name", "x"], monkeypatch, capsys)
    assert code == 1 and "unknown fund 'nope'" in err, err
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-password\n"))
    code, err = run_cli(["--db", db_url, "users", "create", "fm", "--role", "fund_manager", "--scope", "nope",
                         "--password-stdin"], monkeypatch, capsys)
    assert code == 1 and "unknown fund 'nope'" in err, err


def test_a_second_fund_can_have_its_own_tranche_and_restriction_ids(api):
    """Tranche and restriction ids are the fund's: the other fund adds its own "senior" and a
    restriction with an id the own fund uses, commits to it and calls capital on it; the own
    fund's "senior" is untouched."""
    from models.api_store import create_token
    from models.flows_store import tranches_t
    from tests.api.world import OTHER_INVESTOR

    with api.engine.begin() as conn:
        other_fm = create_token(conn, "fm-other", "fund_manager", OTHER_FUND)[0]
    response = api.client.post(f"/funds/{OTHER_FUND}/tranches", headers=auth(other_fm),
                               json={"id": "senior", "name": "Other senior", "rank": 2, "kind": "repayable"})
    assert response.status_code == 201 and response.json()["status"] == "added", response.text
    for fund, token in ((OWN_FUND, api.world.tokens["fund_manager"]), (OTHER_FUND, other_fm)):
        response = api.client.post(f"/funds/{fund}/restrictions", headers=auth(token),
                                   json={"id": "housing-only", "name": f"Housing ({fund})", "theme": "housing"})
        assert response.status_code == 201, response.text
    response = api.client.post(f"/funds/{OTHER_FUND}/commitments", headers=auth(other_fm), json={
        "id": "c-b-senior", "tranche": "senior", "investor": OTHER_INVESTOR, "amount": "1000.00",
        "commitment_date": "2026-03-01"})
    assert response.status_code == 201, response.text
    response = api.client.post(f"/funds/{OTHER_FUND}/events", headers=auth(other_fm), json={
        "kind": "drawdown_notice", "effective_date": "2026-11-03", "amount_pence": 10000, "tranche": "senior"})
    assert response.status_code == 201, response.text
    assert {p["fund"] for p in response.json()["postings"]} == {OTHER_FUND}
    with api.engine.connect() as conn:
        rows = {(r.fund_id, r.name, r.rank) for r in conn.execute(select(tranches_t).where(tranches_t.c.id == "senior"))}
    assert rows == {(OWN_FUND, "Senior", 1), (OTHER_FUND, "Other senior", 2)}
