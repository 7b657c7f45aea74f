"""Joint-prime service: the pass-through of a paid claim run to the delivery partners, the
payments to them, and each partner's statement.

Every function takes a SQLAlchemy ``Connection`` already inside a transaction (the CLI opens
it). The pure rule is :func:`ledger.pbr.passthrough.pass_through`; this module reads its
inputs in SQL, stores its result once, and posts it.

Postings (docs/joint-prime.md), in the contract's fund and the ``public`` source (the outcome
payments the money comes from), project = the contract's project, counterparty = the partner:

* pass-through (payable): Dr ``partner_outcome_share`` (the share) and Dr ``partner_fees``
  (the fees) / Cr ``partner_payables``; key ``pbr-passthrough:<contract>:<period>:<partner>``;
* payment: Dr ``partner_payables`` / Cr ``cash``; key ``pbr-partner-pay:<contract>:<period>:<partner>``.

Rules: a claim run is passed through only once the payers have paid it (status ``paid``), and
in claim-run order (an earlier run must be passed through first), once; a partner is paid once
per period, the whole amount booked.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, case, func, select

from ledger.errors import NotFound, ValidationError
from ledger.pbr.contracts import Contract
from ledger.pbr.passthrough import PRIME_GROUP, PartnerPrior, PassThrough, pass_through
from ledger.periods import Period
from ledger.postings import EntryDraft, Posting
from models.ledger_store import post_entries, utc_now
from models.partner_tables import PbrPartnerAmountRow, PbrPassThroughRow
from models.pbr_store import (
    OUTCOME_SOURCE,
    _disputed,
    get_contract,
    get_run,
    lines_t,
    participants_t,
    run_payers_t,
    runs_t,
)

passthroughs_t = PbrPassThroughRow.__table__
amounts_t = PbrPartnerAmountRow.__table__

PAYABLE = "partner_payables"
SHARE_ACCOUNT = "partner_outcome_share"
FEES_ACCOUNT = "partner_fees"


def _joint_prime(conn: Connection, contract_id: str) -> Contract:
    contract = get_contract(conn, contract_id)
    if not contract.partners:
        raise ValidationError(
            f"contract {contract_id} has no delivery partners ([[partners]] in its file, see docs/joint-prime.md)",
            field="contract",
        )
    return contract


def _run_lines(conn: Connection, contract_id: str, run_id: int) -> pd.DataFrame:
    """The run's undisputed lines with each participant's partner (``""``: the prime's own)."""
    query = (
        select(lines_t.c.line_no, lines_t.c.participant_id, lines_t.c.outcome_id, lines_t.c.achieved_on,
               lines_t.c.accepted, lines_t.c.reason, lines_t.c.net_pence,
               func.coalesce(participants_t.c.partner_id, PRIME_GROUP).label("partner_id"))
        .select_from(lines_t.outerjoin(participants_t, and_(participants_t.c.contract_id == contract_id,
                                                            participants_t.c.participant_id == lines_t.c.participant_id)))
        .where(lines_t.c.run_id == run_id, ~_disputed(lines_t))
        .order_by(lines_t.c.line_no)
    )  # fmt: skip
    frame = pd.read_sql(query, conn)
    frame["accepted"] = frame["accepted"].astype(bool)
    frame["net_pence"] = frame["net_pence"].astype("int64")
    frame["partner_id"] = frame["partner_id"].astype(str)
    return frame


def _prior(conn: Connection, contract: Contract, before_run_id: int) -> dict[str, PartnerPrior]:
    """Per partner: earned in earlier pass-throughs, and participants with accepted lines in
    earlier runs (each had its per-participant fee then)."""
    earned = dict(conn.execute(
        select(amounts_t.c.partner_id, func.sum(amounts_t.c.share_pence + amounts_t.c.fees_pence))
        .select_from(amounts_t.join(passthroughs_t, passthroughs_t.c.id == amounts_t.c.passthrough_id))
        .where(passthroughs_t.c.contract_id == contract.contract_id).group_by(amounts_t.c.partner_id)
    ).all())  # fmt: skip
    seen = conn.execute(
        select(participants_t.c.partner_id, lines_t.c.participant_id).distinct()
        .select_from(lines_t.join(runs_t, runs_t.c.id == lines_t.c.run_id)
                     .join(participants_t, and_(participants_t.c.contract_id == runs_t.c.contract_id,
                                                participants_t.c.participant_id == lines_t.c.participant_id)))
        .where(runs_t.c.contract_id == contract.contract_id, runs_t.c.id < before_run_id,
               lines_t.c.accepted.is_(True), ~_disputed(lines_t), participants_t.c.partner_id.is_not(None))
    ).all()  # fmt: skip
    people: dict[str, set[str]] = {}
    for partner, participant in seen:
        people.setdefault(str(partner), set()).add(str(participant))
    return {p: PartnerPrior(int(earned.get(p, 0) or 0), frozenset(people.get(p, ()))) for p in contract.partner_ids}


def compute_pass_through(conn: Connection, contract_id: str, period: str) -> PassThrough:
    """What a pass-through of the period would give each partner (reads only)."""
    contract = _joint_prime(conn, contract_id)
    run = get_run(conn, contract_id, period)
    lines = _run_lines(conn, contract_id, run.id)
    return pass_through(lines, contract.partners, period=run.period, clawback_pence=run.clawback_pence,
                        prior=_prior(conn, contract, run.id))  # fmt: skip


def _stored(conn: Connection, contract_id: str, period: str):
    return conn.execute(
        select(passthroughs_t).where(passthroughs_t.c.contract_id == contract_id, passthroughs_t.c.period == period)
    ).mappings().first()


def run_pass_through(conn: Connection, contract_id: str, period: str, on: date, by: str = "fuel") -> dict:
    """Compute, store and post the pass-through of a paid claim run (once; a repeat returns it)."""
    contract = _joint_prime(conn, contract_id)
    run = get_run(conn, contract_id, period)
    stored = _stored(conn, contract_id, run.period)
    if stored is not None:
        return {**pass_through_summary(conn, contract_id, run.period), "created": False}
    if run.status != "paid":
        raise ValidationError(
            f"claim run {contract_id} {run.period} is {run.status}; its outcome payment must be received "
            "(`fuel claims pay`) before it is passed through to the partners",
            field="period",
        )
    waiting = conn.execute(
        select(runs_t.c.period).where(runs_t.c.contract_id == contract_id, runs_t.c.id < run.id,
                                      ~runs_t.c.id.in_(select(passthroughs_t.c.run_id)))
        .order_by(runs_t.c.id)
    ).scalars().first()  # fmt: skip
    if waiting is not None:
        raise ValidationError(
            f"contract {contract_id}: claim run {waiting} is not passed through yet; pass-throughs go in claim-run "
            f"order, so pass {waiting} through before {run.period}",
            field="period",
        )
    result = pass_through(_run_lines(conn, contract_id, run.id), contract.partners, period=run.period,
                          clawback_pence=run.clawback_pence, prior=_prior(conn, contract, run.id))  # fmt: skip
    paid = conn.execute(
        select(func.coalesce(func.sum(run_payers_t.c.paid_pence), 0)).where(run_payers_t.c.run_id == run.id)
    ).scalar_one()
    if int(paid) != result.received_pence:
        raise ValidationError(
            f"claim run {contract_id} {run.period}: the payers paid {paid} pence but its lines less clawback come to "
            f"{result.received_pence}; the pass-through needs them to agree",
            field="period",
        )
    inserted = conn.execute(passthroughs_t.insert().values(
        contract_id=contract_id, period=run.period, run_id=run.id, effective_date=on,
        received_pence=result.received_pence, prime_own_received_pence=result.prime_own_received_pence,
        shares_pence=result.shares_pence, fees_pence=result.fees_pence,
        prime_retained_share_pence=result.prime_retained_share_pence, created_at=utc_now(), created_by=by,
    ))  # fmt: skip
    passthrough_id = int(inserted.inserted_primary_key[0])
    drafts, order = [], []
    for amount in result.partners:
        if amount.total_pence == 0:
            continue
        dims = dict(currency=contract.currency, fund=contract.fund, source=OUTCOME_SOURCE, project=contract.project,
                    counterparty=amount.partner_id)
        postings = []
        if amount.share_pence:
            postings.append(Posting(SHARE_ACCOUNT, amount.share_pence, **dims))
        if amount.fees_pence:
            postings.append(Posting(FEES_ACCOUNT, amount.fees_pence, **dims))
        postings.append(Posting(PAYABLE, -amount.total_pence, **dims))
        drafts.append(EntryDraft(
            effective_date=on,
            description=f"Pass-through to partner {amount.partner_id} for {contract_id} {run.period}: share "
                        f"{amount.share_pence} pence, fees {amount.fees_pence} pence",
            idempotency_key=f"pbr-passthrough:{contract_id}:{run.period}:{amount.partner_id}",
            postings=tuple(postings), event_kind="partner_passthrough",
            event_data={"contract": contract_id, "period": run.period, "partner": amount.partner_id,
                        "share_pence": amount.share_pence, "fees_pence": amount.fees_pence,
                        "received_pence": amount.received_pence, "cap_reduction_pence": amount.cap_reduction_pence},
        ))  # fmt: skip
        order.append(amount.partner_id)
    entry_of = {p: r.entry.id for p, r in zip(order, post_entries(conn, drafts, by))}
    conn.execute(amounts_t.insert(), [
        {**{k: v for k, v in a.as_dict().items() if k not in ("fees_before_cap_pence", "total_pence")},
         "passthrough_id": passthrough_id, "payable_entry_id": entry_of.get(a.partner_id),
         "paid_pence": 0 if a.total_pence == 0 else None, "paid_on": None, "payment_entry_id": None}
        for a in result.partners
    ])  # fmt: skip
    return {**pass_through_summary(conn, contract_id, run.period), "created": True}


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _amount_rows(conn: Connection, passthrough_id: int) -> list[dict]:
    rows = conn.execute(select(amounts_t).where(amounts_t.c.passthrough_id == passthrough_id)).mappings().all()
    return [dict(r) for r in rows]


def pass_through_summary(conn: Connection, contract_id: str, period: str) -> dict:
    """The stored pass-through of a period: totals, the prime's part, and each partner's row."""
    contract = _joint_prime(conn, contract_id)
    name = Period.parse(period).name
    stored = _stored(conn, contract_id, name)
    if stored is None:
        raise NotFound(f"contract {contract_id} has no pass-through for {name}: run `fuel claims passthrough` first",
                       field="period")  # fmt: skip
    rows = {r["partner_id"]: r for r in _amount_rows(conn, stored["id"])}
    partners = []
    for partner in contract.partners:
        row = rows[partner.partner_id]
        total = int(row["share_pence"]) + int(row["fees_pence"])
        partners.append({
            "partner_id": partner.partner_id, "name": partner.name, "kind": partner.kind,
            **{k: row[k] for k in ("lines", "participants", "new_participants", "net_pence", "clawback_pence",
                                   "received_pence", "share_before_cap_pence", "fee_period_pence",
                                   "fee_participants_pence", "cap_reduction_pence", "cap_applied", "share_pence",
                                   "fees_pence")},
            "total_pence": total, "paid_pence": row["paid_pence"],
            "paid_on": row["paid_on"].isoformat() if row["paid_on"] else None,
            "outstanding_pence": total - int(row["paid_pence"] or 0),
            "payable_entry_id": row["payable_entry_id"], "payment_entry_id": row["payment_entry_id"],
        })  # fmt: skip
    received = int(stored["received_pence"])
    shares, fees = int(stored["shares_pence"]), int(stored["fees_pence"])
    return {
        "contract": contract_id, "period": name, "effective_date": _iso(stored["effective_date"]),
        "prime": _prime(contract), "received_pence": received,
        "prime_own_received_pence": int(stored["prime_own_received_pence"]), "shares_pence": shares,
        "fees_pence": fees, "partners_total_pence": shares + fees,
        "prime_retained_share_pence": int(stored["prime_retained_share_pence"]),
        "prime_net_pence": received - shares - fees, "partners": partners,
    }  # fmt: skip


def _iso(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _prime(contract: Contract) -> dict:
    if contract.prime is not None:
        return {"id": contract.prime.prime_id, "name": contract.prime.name, "kind": contract.prime.kind}
    return {"id": contract.fund or "fund", "name": contract.provider, "kind": "fund_vehicle"}


def pay_partners(conn: Connection, contract_id: str, period: str, on: date, by: str = "fuel",
                 partner: str | None = None) -> dict:
    """Pay what the pass-through booked (all partners, or one): Dr partner_payables / Cr cash."""
    contract = _joint_prime(conn, contract_id)
    name = Period.parse(period).name
    stored = _stored(conn, contract_id, name)
    if stored is None:
        raise NotFound(f"contract {contract_id} has no pass-through for {name}: run `fuel claims passthrough` first",
                       field="period")  # fmt: skip
    if partner is not None:
        contract.partner(partner)  # raises NotFound naming the partners
    booked_on = _as_date(stored["effective_date"])
    if on < booked_on:
        raise ValidationError(f"payment date {on} is before the pass-through on {booked_on}", field="date")
    rows = {r["partner_id"]: r for r in _amount_rows(conn, stored["id"])}
    chosen = [partner] if partner else list(contract.partner_ids)
    drafts, order = [], []
    for partner_id in chosen:
        row = rows[partner_id]
        amount = int(row["share_pence"]) + int(row["fees_pence"])
        if row["paid_pence"] is not None or amount == 0:
            continue
        dims = dict(currency=contract.currency, fund=contract.fund, source=OUTCOME_SOURCE, project=contract.project,
                    counterparty=partner_id)
        drafts.append(EntryDraft(
            effective_date=on, description=f"Payment to partner {partner_id} for {contract_id} {name}",
            idempotency_key=f"pbr-partner-pay:{contract_id}:{name}:{partner_id}",
            postings=(Posting(PAYABLE, amount, **dims), Posting("cash", -amount, **dims)),
            event_kind="partner_payment",
            event_data={"contract": contract_id, "period": name, "partner": partner_id, "amount_pence": amount},
        ))  # fmt: skip
        order.append((partner_id, amount))
    results = post_entries(conn, drafts, by)
    for (partner_id, amount), result in zip(order, results):
        conn.execute(amounts_t.update()
                     .where(amounts_t.c.passthrough_id == stored["id"], amounts_t.c.partner_id == partner_id)
                     .values(paid_pence=amount, paid_on=on, payment_entry_id=result.entry.id))  # fmt: skip
    summary = pass_through_summary(conn, contract_id, name)
    return {**summary, "paid_now": [p for p, _ in order]}


# ---------------------------------------------------------------------------- partner statement


def partner_statement(conn: Connection, contract_id: str, partner_id: str, period: str) -> dict[str, Any]:
    """One partner's statement for one claim period: the outcomes its participants achieved (by
    outcome, and line by line with pseudonymous ids), what the prime was paid for them, its share
    and fees (with any cap), and what was earned, paid and is outstanding to date.

    "To date" covers every pass-through of the contract up to and including ``period``. Only
    this partner's figures are in it: it is safe to show the partner.
    """
    contract = _joint_prime(conn, contract_id)
    terms = contract.partner(partner_id)
    name = Period.parse(period).name
    summary = pass_through_summary(conn, contract_id, name)
    mine = next(p for p in summary["partners"] if p["partner_id"] == partner_id)
    run = get_run(conn, contract_id, name)
    lines = _run_lines(conn, contract_id, run.id)
    lines = lines[lines["partner_id"] == partner_id]
    by_outcome = []
    for outcome in contract.outcomes:
        rows = lines[lines["outcome_id"] == outcome.outcome_id]
        if rows.empty:
            continue
        ok = rows[rows["accepted"]]
        by_outcome.append({
            "outcome_id": outcome.outcome_id, "definition": outcome.definition, "achieved": int(len(ok)),
            "not_accepted": int(len(rows) - len(ok)), "net_pence": int(ok["net_pence"].sum()),
        })  # fmt: skip
    line_rows = [
        {"line_no": int(r.line_no), "participant_id": str(r.participant_id), "outcome_id": str(r.outcome_id),
         "achieved_on": _iso(r.achieved_on)[:10], "accepted": bool(r.accepted), "reason": str(r.reason or ""),
         "net_pence": int(r.net_pence)}
        for r in lines.itertuples()
    ]  # fmt: skip
    to_date = conn.execute(
        select(func.coalesce(func.sum(amounts_t.c.share_pence + amounts_t.c.fees_pence), 0),
               func.coalesce(func.sum(case((amounts_t.c.paid_pence.is_(None), 0), else_=amounts_t.c.paid_pence)), 0),
               func.coalesce(func.sum(amounts_t.c.received_pence), 0))
        .select_from(amounts_t.join(passthroughs_t, passthroughs_t.c.id == amounts_t.c.passthrough_id)
                     .join(runs_t, runs_t.c.id == passthroughs_t.c.run_id))
        .where(passthroughs_t.c.contract_id == contract_id, amounts_t.c.partner_id == partner_id,
               runs_t.c.period_end <= Period.parse(name).end)
    ).one()  # fmt: skip
    earned_to_date, paid_to_date, received_to_date = (int(v) for v in to_date)
    return {
        "contract": {"id": contract.contract_id, "name": contract.name, "project": contract.project,
                     "currency": contract.currency},
        "prime": summary["prime"], "period": name, "passed_through_on": summary["effective_date"],
        "partner": {"id": terms.partner_id, "name": terms.name, "terms": terms.as_dict()},
        "by_outcome": by_outcome, "lines": line_rows,
        "period_figures": {k: mine[k] for k in (
            "lines", "participants", "new_participants", "net_pence", "clawback_pence", "received_pence",
            "share_before_cap_pence", "fee_period_pence", "fee_participants_pence", "cap_reduction_pence",
            "cap_applied", "share_pence", "fees_pence", "total_pence", "paid_pence", "paid_on", "outstanding_pence")},
        "to_date": {"received_for_participants_pence": received_to_date, "earned_pence": earned_to_date,
                    "paid_pence": paid_to_date, "outstanding_pence": earned_to_date - paid_to_date,
                    "cap_pence": terms.cap_pence,
                    "cap_headroom_pence": None if terms.cap_pence is None else terms.cap_pence - earned_to_date},
    }  # fmt: skip


def list_partners(conn: Connection, contract_id: str) -> list[dict]:
    """The contract's partners, their terms, and how many participants each has in the register."""
    contract = _joint_prime(conn, contract_id)
    counts = dict(conn.execute(
        select(participants_t.c.partner_id, func.count()).where(participants_t.c.contract_id == contract_id)
        .group_by(participants_t.c.partner_id)
    ).all())  # fmt: skip
    return [{**p.as_dict(), "participants": int(counts.get(p.partner_id, 0))} for p in contract.partners]


def partner_periods(conn: Connection, contract_id: str, partner_id: str) -> list[dict]:
    """The periods passed through to one partner, oldest first, with its total, paid and
    outstanding for each (the rows its statements are built from; only this partner's)."""
    contract = _joint_prime(conn, contract_id)
    contract.partner(partner_id)  # raises NotFound naming the partners
    rows = conn.execute(
        select(passthroughs_t.c.period, passthroughs_t.c.effective_date, amounts_t.c.share_pence,
               amounts_t.c.fees_pence, amounts_t.c.paid_pence, amounts_t.c.paid_on)
        .select_from(amounts_t.join(passthroughs_t, passthroughs_t.c.id == amounts_t.c.passthrough_id))
        .where(passthroughs_t.c.contract_id == contract_id, amounts_t.c.partner_id == partner_id)
        .order_by(passthroughs_t.c.run_id)
    ).mappings().all()  # fmt: skip
    out = []
    for r in rows:
        total = int(r["share_pence"]) + int(r["fees_pence"])
        out.append({"period": r["period"], "passed_through_on": _iso(r["effective_date"])[:10],
                    "share_pence": int(r["share_pence"]), "fees_pence": int(r["fees_pence"]), "total_pence": total,
                    "paid_pence": r["paid_pence"], "paid_on": _iso(r["paid_on"])[:10] if r["paid_on"] else None,
                    "outstanding_pence": total - int(r["paid_pence"] or 0)})  # fmt: skip
    return out
