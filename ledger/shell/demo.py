"""The demo fund, built from nothing through the same services as the CLI, and its statements.

``fuel demo --out DIR`` (the README's main command, ``make demo``) builds the Liverpool City
Region blended fund of ``fixtures/demo/`` on SQLite (``DIR/demo.db``), quarter by quarter, and
writes every statement: investors', councils' (one per contract and payer), the joint-prime
partners' and the fund manager's reports. ``fuel generate`` builds the same shape at any size
on any database, without the statements.

Each quarter, in the order a fund manager works: the quarter's flows (calls, receipts,
restricted transfers, disbursements, the write-down) and the management fee; the providers'
new participants and outcome events; the ageing contract's baseline mechanism figures; the
claim run (which bills them beside the rate-card lines); a waterfall distribution in some quarters; the quarter closed; then, in the next quarter, the
claim approved, invoiced and paid, passed through to the joint-prime partners, and (once) a
validation sample with a clawback. The fund's history is 2024 onwards, so quarters close on a
simulated clock (the day after each quarter ends). Nothing here computes a rule: the data
comes from ``ledger.demo_data`` and every figure from the services.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Callable

from sqlalchemy import Engine, func, select

from ledger import demo_data as data
from ledger.accounts import load_chart_toml
from ledger.errors import ValidationError
from ledger.funds import fund_setup_from_mapping
from ledger.periods import Period
from ledger.shell.cli_terms import store_setup_terms
from ledger.shell.cli_values import LCR_AREAS, store_value_file, store_vcse_file
from models.vcse_store import set_fund_areas
from models import partners_store, pbr_store
from models.db import make_engine, migrate, reading
from models.flows_store import book_of, import_flows, load_position, save_setup
from models.ledger_store import close_period, load_chart
from models.statements_store import distribute
from models.terms_store import terms_for

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
CHART = FIXTURES / "charts" / "social_investment_fund.toml"
VALUES = FIXTURES / "values"  # one value table per demo contract, same file name as its contract
VCSE = FIXTURES / "demo" / "vcse.csv"  # the demo's providers' and partners' organisation profiles
FUND = "lcr-blended"
USER = "demo"
SAMPLED_QUARTER = 3  # the complex needs claim of 2024Q3 is re-checked; one line fails
SAMPLE_SIZE = 20

Progress = Callable[[str], None]


@dataclass
class Built:
    """What a build did, for the summary and the tests."""

    participants: int
    quarters: tuple[Period, ...]
    seed: int
    outcome_rows: int = 0
    runs: set[tuple[str, str]] = field(default_factory=set)
    distributions: list[tuple[date, int]] = field(default_factory=list)
    mechanism_pence: int = 0

    @property
    def last(self) -> Period:
        return self.quarters[-1]


def steps(quarters: int) -> int:
    """Progress steps a build reports: one per quarter and one for the setup."""
    return quarters + 1


def build_fund(engine: Engine, participants: int, quarters: int, seed: int, progress: Progress | None = None,
               bank_dir: Path | None = None) -> Built:
    """Build the demo fund's history on an empty, migrated database; with ``bank_dir``, also its
    bank: a statement per quarter written there, imported and reconciled before each close."""
    from ledger.shell import demo_bank
    from models.bank_store import guarded_close

    data.check_size(participants, quarters)
    tick = progress or (lambda _: None)
    periods = data.quarters_of(quarters)
    built = Built(participants, periods, seed)
    setup = data.fund_setup(participants)
    registers = data.participants(seed, participants, quarters)
    events = data.outcome_events(seed, registers, quarters)
    with engine.begin() as conn:
        load_chart(conn, load_chart_toml(CHART.read_text(encoding="utf-8"), CHART.name))
        fund_setup = fund_setup_from_mapping(setup, "fixtures/demo/fund.toml")
        save_setup(conn, fund_setup, USER)
        version, _ = store_setup_terms(conn, fund_setup, data.FUND_FILE, USER)  # as `fuel fund load` does
        terms = terms_for(conn, FUND, version.effective_from)  # the demo's one version: every date's terms
        for shape in data.CONTRACTS:
            path = data.contract_path(shape)
            pbr_store.load_contract(conn, path.read_text(encoding="utf-8"), path.name, USER)
            store_value_file(conn, VALUES / shape.file, USER)  # as `fuel values load` does
        if bank_dir is not None:
            demo_bank.setup(conn, FUND, USER)
        store_vcse_file(conn, VCSE, USER)  # as `fuel vcse load` does
        set_fund_areas(conn, FUND, list(LCR_AREAS))  # as `fuel vcse areas` does
    tick("setup")
    carried: list = []
    fee = data.management_fee_pence(setup)
    for index, quarter in enumerate(periods, start=1):
        with engine.begin() as conn:
            rows = data.flow_rows(setup, index, participants, _working_capital_outstanding(conn))
            if rows:
                import_flows(conn, data.flows_csv(rows), f"demo-flows-{quarter.name}.csv", USER)
            delivery = _service_fee_rows(conn, data.service_fees_pence(setup, index, participants), quarter)
            if delivery:
                import_flows(conn, data.flows_csv(delivery), f"demo-delivery-{quarter.name}.csv", USER)
            import_flows(conn, data.flows_csv([_fee_row(conn, fee, quarter)]), f"demo-fee-{quarter.name}.csv", USER)
            for shape in data.CONTRACTS:
                _claim_quarter(conn, shape, quarter, registers, events, built)
            if index in data.DISTRIBUTION_QUARTERS:
                ahead = sum(sum(data.service_fees_pence(setup, later, participants).values())
                            for later in (index + 1, index + 2))
                _distribute(conn, quarter, 4 * fee + ahead, terms, built)
            if bank_dir is not None:  # reconciled first: the demo fund refuses to close an unreconciled quarter
                carried = demo_bank.reconcile_quarter(conn, quarter, index, bank_dir, carried, USER)
                guarded_close(conn, quarter, USER, today=quarter.end)
            else:
                close_period(conn, quarter, USER, today=quarter.end)
        with engine.begin() as conn:
            _settle(conn, quarter, built, pay=index < quarters, sample=index == SAMPLED_QUARTER)
        tick(quarter.name)
    return built


def _fee_row(conn, fee_pence: int, quarter: Period) -> dict:
    """The quarter's management fee, paid from the unrestricted cash bucket holding the most
    (ties: the first by source and tranche), as a fund manager would."""
    cash = load_position(conn).cash
    buckets = sorted(((k[2], k[3] or ""), v) for k, v in cash.items() if k[0] == FUND and k[4] is None and v > 0)
    (source, tranche), _ = max(buckets, key=lambda kv: kv[1])
    return data._row("fee", quarter.last_day - timedelta(days=5), fee_pence, source=source, tranche=tranche,
                     form="management_fee", manager="fund-manager", description=f"Management fee {quarter.name}")


def _working_capital_outstanding(conn) -> int:
    project = data.WORKING_CAPITAL[0]
    return sum(v for k, v in load_position(conn).instruments.items()
               if k[0] == FUND and k[2] == project and k[3] == "working_capital_advances")


def _service_fee_rows(conn, fees: dict[str, int], quarter: Period) -> list[dict]:
    """The quarter's service fees, each paid as a fund manager would: from restricted money the
    restriction permits for that project first (donors' money is applied to its purpose), then
    from the unrestricted bucket holding the most cash."""
    book = book_of(conn, FUND)
    cash = {k[2:]: v for k, v in load_position(conn).cash.items() if k[0] == FUND and v > 0}
    rows = []
    for project_id, amount in sorted(fees.items()):
        project = book.project(project_id)
        restricted = sorted(b for b in cash if b[2] is not None and book.restriction(b[2]).permits(project))
        unrestricted = sorted((b for b in cash if b[2] is None), key=lambda b: (-cash[b], b[0], b[1] or ""))
        remaining = amount
        for bucket in [*restricted, *unrestricted]:
            paying = min(remaining, cash[bucket])
            if paying <= 0:
                continue
            source, tranche, restriction = bucket
            rows.append(data._row("disbursement", quarter.start + timedelta(days=30), paying, project=project_id,
                                  source=source, tranche=tranche or "", restriction=restriction or "",
                                  form="service_fee", description=f"Service fee to {project.provider} ({quarter.name})"))
            cash[bucket] -= paying
            remaining -= paying
            if remaining == 0:
                break
    return rows


def _claim_quarter(conn, shape, quarter: Period, registers, events, built: Built) -> None:
    contract = shape.contract_id
    starters = data.in_quarter(registers[contract], "start_date", quarter)
    if len(starters):
        pbr_store.import_participants(conn, contract, starters.to_csv(index=False, lineterminator="\n"),
                                      f"{contract}-participants-{quarter.name}.csv", USER)
    achieved = data.in_quarter(events[contract], "achieved_on", quarter)
    if len(achieved):
        pbr_store.import_outcomes(conn, contract, achieved.to_csv(index=False, lineterminator="\n"),
                                  f"{contract}-outcomes-{quarter.name}.csv", USER,
                                  submitted_on=quarter.last_day + timedelta(days=10),
                                  received_at=datetime.combine(quarter.last_day + timedelta(days=10), time(12)))
        built.outcome_rows += len(achieved)
    # The quarter's mechanism figures first: the claim run bills them beside the rate-card lines.
    contract_value = pbr_store.get_contract(conn, contract)
    for index, (kind, params) in enumerate(contract_value.mechanisms):
        from ledger.pbr.mechanism_inputs import compute_mechanism

        text = data.mechanism_figures(built.seed, quarter)
        payment, result = compute_mechanism(kind, dict(params), tomllib.loads(text), quarter,
                                            pbr_store.mechanism_results(conn, contract, index, quarter.name))
        pbr_store.record_mechanism(conn, contract, quarter.name, index, kind, text, payment, result, USER,
                                   file_name=f"{contract}-{kind}-{quarter.name}.toml")
        built.mechanism_pence += payment
    try:
        pbr_store.run_claims(conn, contract, quarter.name, USER)
    except ValidationError as exc:
        if "no outcome events" not in str(exc):
            raise
    else:
        built.runs.add((contract, quarter.name))


def _distribute(conn, quarter: Period, reserve_pence: int, terms, built: Built) -> None:
    """Distribute 60% of the unrestricted cash above a reserve (four quarters' management fees
    and the next two quarters' service fees)."""
    cash = sum(v for k, v in load_position(conn).cash.items() if k[0] == FUND and k[4] is None and v > 0)
    amount = data._part(cash - reserve_pence, data.DISTRIBUTION_SHARE) // 100 * 100
    if amount > 0:
        recorded = distribute(conn, FUND, amount, quarter.last_day, terms, recorded_by=USER)
        built.distributions.append((quarter.last_day, recorded.distributed_pence))


def _settle(conn, quarter: Period, built: Built, *, pay: bool, sample: bool) -> None:
    """The next quarter's work on this quarter's claims: approve and invoice (20 days after the
    quarter), pay (40 days), pass through to joint-prime partners (45 days); the last quarter's
    claims are approved and invoiced but not yet paid, except the last contract's, left validated
    (not approved) so that a council trying the demo can dispute a line."""
    approve_on, pay_on = quarter.end + timedelta(days=19), quarter.end + timedelta(days=39)
    for shape in data.CONTRACTS:
        contract = shape.contract_id
        if (contract, quarter.name) not in built.runs:
            continue
        if not pay and shape is data.CONTRACTS[-1]:
            continue  # left validated: the dispute flow needs a claim not yet approved
        pbr_store.approve(conn, contract, quarter.name, approve_on, USER)
        pbr_store.invoice(conn, contract, quarter.name, f"INV-{contract}-{quarter.name}", USER)
        if not pay:
            continue
        pbr_store.pay(conn, contract, quarter.name, pay_on, USER)
        if shape.partners:
            partners_store.run_pass_through(conn, contract, quarter.name, pay_on + timedelta(days=5), USER)
            partners_store.pay_partners(conn, contract, quarter.name, pay_on + timedelta(days=5), USER)
        if sample and shape is data.CONTRACTS[0]:
            chosen = pbr_store.draw_sample(conn, contract, quarter.name, SAMPLE_SIZE, f"demo-{quarter.name}", USER)
            lines = chosen.get("sampled_lines") or []
            if lines:
                pbr_store.record_recheck(conn, contract, quarter.name, [int(lines[0])], "extrapolate", USER)


# ---------------------------------------------------------------------------- outputs


def fresh_sqlite(path: Path) -> Engine:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    return engine


FUND_REPORTS = ("trial_balance", "sources_uses", "restrictions", "deployment", "outcome_pipeline", "cash")


def output_steps(engine: Engine, built: Built) -> int:
    """Progress steps :func:`write_outputs` reports: one per statement or report file group."""
    with reading(engine) as conn:
        investors = _statements(conn, built)
        councils = _council_targets(conn, built)
    return len(investors) + len(councils) + len(_partner_targets(built)) + len(FUND_REPORTS) + 1


def _statements(conn, built: Built):
    from ledger.statements import assemble_statements, check_statement
    from models.statements_store import statement_inputs

    inputs = statement_inputs(conn, FUND, built.last, terms_for(conn, FUND, built.last.last_day))
    statements = assemble_statements(inputs)
    for statement in statements:
        check_statement(statement)  # every identity, or a crash naming the broken one
    return statements


def _council_targets(conn, built: Built) -> list[tuple[str, str]]:
    """(contract, payer) for every claim run of the last quarter."""
    return [(shape.contract_id, payer.payer_id) for shape in data.CONTRACTS
            if (shape.contract_id, built.last.name) in built.runs
            for payer in pbr_store.get_contract(conn, shape.contract_id).payers]


def _partner_targets(built: Built) -> list[tuple[str, str, str]]:
    """(contract, partner, period) for the joint-prime partners, for the last quarter whose
    claim was paid and passed through (the last quarter's claim is not yet paid)."""
    paid = [q.name for q in built.quarters[:-1]]
    out = []
    for shape in data.CONTRACTS:
        periods = [p for p in paid if (shape.contract_id, p) in built.runs]
        if shape.partners and periods:
            out += [(shape.contract_id, partner, periods[-1]) for partner, _ in shape.partners if partner]
    return out


def write_outputs(engine: Engine, built: Built, out_dir: Path, progress: Progress | None = None) -> dict:
    """Write every statement and report for the last quarter; return the summary figures."""
    from reports import fund_reports
    from reports.council import statement_for, write_statement
    from reports.exports import write_beancount, write_hledger
    from reports.partner_reports import render_statement, statement_file_name
    from reports.statements import write_statements
    from models.ledger_store import account_types, iter_entries, trial_balance, verify

    tick = progress or (lambda _: None)
    last, as_of = built.last, built.last.last_day
    folders = {name: out_dir / name for name in ("investors", "councils", "partners", "fund-manager")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    with reading(engine) as conn:
        statements = _statements(conn, built)
        for statement in statements:
            write_statements([statement], folders["investors"], ("html", "pdf", "csv", "json"))
            tick(f"investor {statement.investor}")
        for contract, payer in _council_targets(conn, built):
            council = statement_for(conn, contract, last.name, payer, None, as_of)
            write_statement(council, folders["councils"], ("html", "pdf", "csv", "xlsx"))
            tick(f"council {contract} {payer}")
        for contract, partner, period in _partner_targets(built):
            figures = partners_store.partner_statement(conn, contract, partner, period)
            for fmt in ("html", "csv"):
                (folders["partners"] / statement_file_name(figures, fmt)).write_text(
                    render_statement(figures, fmt), encoding="utf-8")
            tick(f"partner {partner}")
        reports = {
            "trial_balance": fund_reports.trial_balance_report(conn, as_of),
            "sources_uses": fund_reports.sources_uses_report(conn, as_of, FUND),
            "restrictions": fund_reports.restrictions_report(conn, as_of, FUND),
            "deployment": fund_reports.deployment_report(conn, as_of, FUND),
            "outcome_pipeline": fund_reports.outcome_pipeline_report(conn, {}, as_of),
            "cash": fund_reports.cash_report(conn, as_of, FUND),
        }
        for name, report in reports.items():
            stem = f"{name}_{last.name}"
            (folders["fund-manager"] / f"{stem}.html").write_text(fund_reports.render_report_html(report), encoding="utf-8")
            (folders["fund-manager"] / f"{stem}.csv").write_text(fund_reports.to_csv(report), encoding="utf-8")
            tick(f"report {name}")
        types = account_types(conn)
        with (out_dir / "ledger.journal").open("w", encoding="utf-8") as handle:
            write_hledger(iter_entries(conn), types, handle)
        with (out_dir / "ledger.beancount").open("w", encoding="utf-8") as handle:
            write_beancount(iter_entries(conn), types, handle)
        tick("exports")
        summary = _summary(conn, built, statements)
        summary["trial_balance_net_pence"] = sum(line.net_pence for line in trial_balance(conn, as_of))
        report = verify(conn)
        summary["entries"], summary["chain_ok"] = report.entries_checked, report.ok
    summary["folders"] = {k: str(v) for k, v in folders.items()}
    return summary


def _summary(conn, built: Built, statements) -> dict:
    """Fund size by source, outcomes achieved, payments claimed and paid, and each investor's
    multiples and IRR, all read from the services' tables and the statements."""
    from models.pbr_tables import PbrClaimLineRow, PbrClaimRunRow, PbrRunPayerRow
    from models.ledger_store import balances

    setup = data.fund_setup(built.participants)
    sources = {"social_investor": "social_investment", "charitable_trust": "charitable", "public_body": "public"}
    kind = {p["id"]: sources[p["investor_type"]] for p in setup["parties"] if p["kind"] == "investor"}
    by_source: dict[str, int] = {}
    for tranche, commitments in data.commitments_pence(setup).items():
        for investor, amount in commitments:
            by_source[kind[investor]] = by_source.get(kind[investor], 0) + amount
    lines, runs, payers = PbrClaimLineRow.__table__, PbrClaimRunRow.__table__, PbrRunPayerRow.__table__
    accepted = dict(conn.execute(
        select(runs.c.contract_id, func.count()).select_from(lines.join(runs, runs.c.id == lines.c.run_id))
        .where(lines.c.accepted.is_(True), lines.c.net_pence > 0).group_by(runs.c.contract_id)).all())
    claimed = dict(conn.execute(select(runs.c.contract_id, func.coalesce(func.sum(payers.c.approved_pence), 0))
                                .select_from(payers.join(runs, runs.c.id == payers.c.run_id))
                                .group_by(runs.c.contract_id)).all())
    paid = dict(conn.execute(select(runs.c.contract_id, func.coalesce(func.sum(payers.c.paid_pence), 0))
                             .select_from(payers.join(runs, runs.c.id == payers.c.run_id))
                             .group_by(runs.c.contract_id)).all())
    outcomes = [{"contract": c.contract_id, "project": c.project, "outcomes_achieved": int(accepted.get(c.contract_id, 0)),
                 "claimed_pence": int(claimed.get(c.contract_id, 0)), "paid_pence": int(paid.get(c.contract_id, 0))}
                for c in data.CONTRACTS]
    investors = [{"investor": s.investor, "paid_in_pence": s.performance.paid_in_pence,
                  "distributed_pence": s.performance.distributed_pence, "nav_pence": s.performance.nav_pence,
                  "tvpi": s.performance.tvpi, "tvpi_reason": s.performance.multiples_reason,
                  "irr": s.performance.irr, "irr_reason": s.performance.irr_reason} for s in statements]
    outcome_cash = sum(r.balance_pence for r in balances(conn, built.last.last_day, by=("account_code",),
                                                          filters={"account_code": "outcome_income"}))
    return {"fund": FUND, "quarter": built.last.name, "commitments_by_source": by_source, "outcomes": outcomes,
            "investors": investors, "outcome_income_pence": -outcome_cash, "distributions": built.distributions,
            "mechanism_pence": built.mechanism_pence, "participants": built.participants}


def issue_to_outbox(engine: Engine, built: Built, outbox: Path) -> dict:
    """Issue the last quarter's investor and council statements and the partners' last paid
    quarter's, and one capital call and one distribution notice (:func:`_issue_notices`), to the
    demo contacts (fixtures/demo_contacts.toml), delivered as .eml files.
    HTML documents keep the demo fast; `fuel issue statements` freezes PDFs by default."""
    from ledger.shell.issuing import channel_for, deliver, issue_drafts, council_drafts, investor_drafts, partner_drafts
    from ledger.shell.mail import MailSettings
    from models.delivery_store import add_contact

    import shutil

    shutil.rmtree(outbox, ignore_errors=True)  # a previous run's messages are not this run's
    contacts = tomllib.loads((FIXTURES / "demo_contacts.toml").read_text(encoding="utf-8"))["contact"]
    partner_periods = sorted({Period.parse(period) for _, _, period in _partner_targets(built)}, key=lambda p: p.start)
    with engine.begin() as conn:
        for c in contacts:
            add_contact(conn, FUND, c["kind"], c["party"], c["key"], c["name"], c["email"], c["roles"], c["method"], USER)
        drafts = investor_drafts(conn, FUND, built.last, "html", None) + council_drafts(conn, FUND, built.last, "html")
        for period in partner_periods:
            drafts += partner_drafts(conn, FUND, period, "html")
        result = issue_drafts(conn, FUND, drafts, "outbox", USER, None)
        notices = _issue_notices(conn, built)
    settings = MailSettings(rate_per_second=1000.0, retries=0)
    sent = deliver(engine, FUND, channel_for("outbox", outbox, settings), settings, by=USER,
                   delivery_ids=list(result.queued) + list(notices.queued))
    return {"documents": len(result.documents) + len(notices.documents),
            "notices": len(notices.documents), "sent": sum(1 for r in sent if r["status"] == "sent")}


TOP_UP_PENCE, CALL_PENCE = 5_000_000, 2_000_000  # a follow-on senior commitment, and the call on it


def _issue_notices(conn, built: Built):
    """One capital call notice and one distribution notice after the last quarter, issued before
    the money moves (nothing posted): the call on a follow-on commitment (dated after the last
    quarter, so no statement changes), a distribution of a tenth of the unrestricted cash."""
    from ledger.funds import Commitment
    from ledger.shell.issuing import issue_drafts
    from ledger.shell.notices import distribution_notices, drawdown_notices
    from models.flows_store import add_commitment

    after = built.last.end  # the capital call says to pay into the demo's bank account (demo_bank.setup)
    add_commitment(conn, Commitment("demo-senior-top-up", FUND, "senior", "mersey-capital", TOP_UP_PENCE, after), USER)
    call = drawdown_notices(conn, FUND, "senior", CALL_PENCE, after + timedelta(days=30),
                            notice_day=after + timedelta(days=5), fmt="html")
    cash = sum(v for k, v in load_position(conn).cash.items() if k[0] == FUND and k[4] is None and v > 0)
    drafts = list(call.drafts)
    if cash >= 100_000:
        drafts += distribution_notices(conn, FUND, cash // 10 // 10_000 * 10_000, after + timedelta(days=30),
                                       notice_day=after + timedelta(days=5), fmt="html").drafts
    return issue_drafts(conn, FUND, drafts, "outbox", USER, None)


# ---------------------------------------------------------------------------- commands


def _progress():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description:<44}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    transient=True)


def _check_size(participants: int, quarters: int) -> None:
    try:
        data.check_size(participants, quarters)
    except ValueError as exc:
        raise ValidationError(str(exc), field="participants" if "participants" in str(exc) else "quarters") from None


def run_demo(out: Path, *, seed: int = 2026, participants: int = data.BASE_PARTICIPANTS, quarters: int = 8) -> dict:
    """``fuel demo``: build on a fresh SQLite file in OUT, write everything, print the summary."""
    import typer

    _check_size(participants, quarters)
    engine = fresh_sqlite(out / "demo.db")
    try:
        with _progress() as progress:
            task = progress.add_task("Building the fund", total=steps(quarters))
            built = build_fund(engine, participants, quarters, seed,
                               lambda what: progress.update(task, advance=1, description=f"Built {what}"),
                               bank_dir=out / "fund-manager" / "bank")
            task = progress.add_task("Writing statements", total=output_steps(engine, built))
            summary = write_outputs(engine, built, out,
                                    lambda what: progress.update(task, advance=1, description=f"Wrote {what}"))
            summary["outbox"] = issue_to_outbox(engine, built, out / "outbox")
            with reading(engine) as conn:
                from ledger.shell.demo_bank import write_reconciliations

                summary["bank"] = write_reconciliations(conn, list(built.quarters), out / "fund-manager" / "bank")
    finally:
        engine.dispose()
    print_summary(summary, out)
    typer.echo(f"Issued and delivered to the file outbox (no network): {summary['outbox']['documents']} documents "
               f"({summary['outbox']['notices']} of them capital call and distribution notices), "
               f"{summary['outbox']['sent']} messages in {(out / 'outbox').resolve()} (one .eml per reader; "
               "`fuel --db sqlite:///out/demo.db deliveries list` shows each delivery)")
    typer.echo(f"Bank reconciled at every quarter end ({len(summary['bank'])} statements, CAMT.053 and MT940; "
               f"unexplained difference {sum(r['unexplained_pence'] for r in summary['bank'])} pence): "
               f"{(out / 'fund-manager' / 'bank').resolve()}")
    typer.echo(f"Files: {out.resolve()}  (start with {(out / 'investors').resolve()})")
    return summary


def run_generate(*, participants: int, quarters: int, seed: int, out: Path | None, db_url: str | None) -> Built:
    """``fuel generate``: the demo's shape at any size on a new SQLite file or an empty database."""
    import time

    import typer

    from models.ledger_store import entries_t, trial_balance, verify

    _check_size(participants, quarters)
    if out is not None:
        engine = fresh_sqlite(out)
        where = str(out)
    else:
        engine = make_engine(db_url)
        migrate(engine)
        with reading(engine) as conn:
            if conn.execute(select(func.count()).select_from(entries_t)).scalar_one():
                raise ValidationError("the database already holds entries: give --out NEW.db or an empty --db",
                                      field="db")
        where = engine.url.render_as_string(hide_password=True)
    started = time.perf_counter()
    try:
        with _progress() as progress:
            task = progress.add_task("Generating", total=steps(quarters))
            built = build_fund(engine, participants, quarters, seed,
                               lambda what: progress.update(task, advance=1, description=f"Built {what}"))
        with reading(engine) as conn:
            report = verify(conn)
            net = sum(line.net_pence for line in trial_balance(conn, built.last.last_day))
    finally:
        engine.dispose()
    typer.echo(f"Generated fund lcr-blended: {participants:,} participants, {quarters} quarters "
               f"({built.quarters[0].name}-{built.last.name}), seed {seed}: {built.outcome_rows:,} outcome events, "
               f"{len(built.runs)} claim runs, {report.entries_checked:,} entries (hash chain "
               f"{'verified' if report.ok else 'BROKEN'}, trial balance nets to {net}) in "
               f"{time.perf_counter() - started:.1f} s: {where}")
    return built


def _money(pence: int) -> str:
    from ledger.money import format_amount

    return format_amount(pence, "GBP", separators=True)


def print_summary(summary: dict, out: Path) -> None:
    import typer

    from reports.render import print_table

    typer.echo(f"Demo fund {summary['fund']}: {summary['participants']:,} participants, statements for "
               f"{summary['quarter']}; {summary['entries']:,} ledger entries, hash chain "
               f"{'verified' if summary['chain_ok'] else 'BROKEN'}, trial balance nets to "
               f"{_money(summary['trial_balance_net_pence'])}.")
    by_source = summary["commitments_by_source"]
    print_table([{"source": k, "committed_pence": v} for k, v in sorted(by_source.items())],
                ["source", "committed_pence"], title="Fund size by source (commitments)",
                footer={"source": "total", "committed_pence": sum(by_source.values())})
    outcomes = summary["outcomes"]
    print_table(outcomes, ["contract", "outcomes_achieved", "claimed_pence", "paid_pence"],
                title="Outcomes achieved and outcome payments claimed (approved) and paid",
                footer={"contract": "total", "outcomes_achieved": sum(r["outcomes_achieved"] for r in outcomes),
                        "claimed_pence": sum(r["claimed_pence"] for r in outcomes),
                        "paid_pence": sum(r["paid_pence"] for r in outcomes)})
    rows = []
    for r in summary["investors"]:
        rows.append({"investor": r["investor"], "paid_in_pence": r["paid_in_pence"],
                     "distributed_pence": r["distributed_pence"], "nav_pence": r["nav_pence"],
                     "tvpi": f"{r['tvpi']:.2f}x" if r["tvpi"] is not None else f"n/a: {r['tvpi_reason']}",
                     "irr": f"{r['irr'] * 100:.1f}%" if r["irr"] is not None else f"n/a: {r['irr_reason']}"})
    print_table(rows, ["investor", "paid_in_pence", "distributed_pence", "nav_pence", "tvpi", "irr"],
                title=f"Investors at {summary['quarter']} (since inception)")
    folders = summary["folders"]
    typer.echo("Statements: investors in " + folders["investors"] + "; councils (one per contract and payer) in "
               + folders["councils"] + "; joint-prime partners in " + folders["partners"]
               + "; fund manager reports in " + folders["fund-manager"] + "; ledger exports "
               + str(out / "ledger.journal") + " (hledger) and " + str(out / "ledger.beancount") + ".")
