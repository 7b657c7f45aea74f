"""The council outcome payment statement: its figures, built by pure functions from plain frames.

One statement per contract, claim period and (optionally) addressee payer. It holds every field
of DESIGN.md section 5: contract, payers, period, rate card version; per outcome: claimed,
validated, rejected by reason, unit price, gross, cap reductions, net; the participant annex;
cap headroom per participant, outcome, payer and contract; each payer's share; sampling
adjustments and clawbacks; plan versus actual; totals.

The statement is a list of named **sections**, each a table (columns and rows of plain values:
text, integer pence, integer counts, or None). The same sections are the CSV layout
(``docs/council-statements.md``) that :mod:`ledger.pbr.verify` re-derives from the contract
file alone, and what the HTML and XLSX renderings show. Nothing here reads a database or a
clock: the same inputs give the same statement.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import pandas as pd

from ledger.errors import InvariantBroken, NotFound
from ledger.pbr.claims import (
    CAP_KINDS,
    PriorPaid,
    payer_reduction_column,
    reduction_column,
    share_column,
    summarise,
)
from ledger.pbr.contracts import Contract
from ledger.pbr.eligibility import REASONS
from ledger.pbr.mechanism_claims import FORMULA_COLUMNS, INPUT_COLUMNS, is_mechanism
from ledger.pbr.plans import PLAN_COLUMNS
from ledger.periods import Period

FORMAT = "fuel-council-statement/1"
#: Statuses after approval: the clawback is split over the undisputed shares.
APPROVED_STATUSES = ("approved", "invoiced", "paid")

STATEMENT_COLUMNS = ("field", "value")
PAYER_COLUMNS = ("payer_id", "name", "share", "cap_pence")
RATE_CARD_COLUMNS = ("version", "effective_from", "effective_to", "outcome_id", "base_price_pence",
                     "count_cap", "value_cap_pence")  # fmt: skip
BY_OUTCOME_COLUMNS = (
    "outcome_id", "rate_card_version", "unit_price_pence", "count_claimed", "count_validated", "count_rejected",
    *[f"rejected_{code}" for code in REASONS], "count_paid", "gross_pence",
    *[reduction_column(k) for k in CAP_KINDS], "cap_reductions_pence", "net_pence",
)  # fmt: skip
HEADROOM_COLUMNS = ("scope", "key", "unit", "cap", "brought_forward", "this_statement", "cumulative", "headroom")
PAYER_SHARE_COLUMNS = ("payer_id", "name", "share", "claimed_pence", "disputed_pence", "share_pence",
                       "payer_cap_reduction_pence", "clawback_pence", "due_pence", "approved_pence", "paid_pence")
CLAWBACK_COLUMNS = ("from_period", "amount_pence")
SAMPLE_FIELDS = ("seed", "sample_size", "sampled_lines", "invalid_lines", "method", "sampled_value_pence",
                 "invalid_value_pence", "error_rate", "recovery_pence", "recovered_pence")
TOTAL_ITEMS = ("lines_claimed", "lines_validated", "lines_rejected", "lines_paid", "lines_disputed", "gross_pence",
               "cap_reductions_pence", "net_pence", "disputed_pence", "net_undisputed_pence", "clawback_pence",
               "due_pence")  # fmt: skip


def annex_columns(contract: Contract) -> tuple[str, ...]:
    """The annex layout: one line per participant outcome; a share column per payer."""
    return (
        "line_no", "participant_id", "outcome_id", "achieved_on", "evidence_ref", "status", "reason",
        "disputed", "dispute_reason", "rate_card_version", "price_pence", "gross_pence",
        *[reduction_column(k) for k in CAP_KINDS], "cap_applied", "net_pence",
        *[share_column(p.payer_id) for p in contract.payers],
        "participant_paid_cum_pence", "participant_headroom_pence",
    )  # fmt: skip


#: Section names in the order they are written; the two mechanism sections only when the
#: statement has mechanism lines.
SECTIONS = ("statement", "payers", "rate_card", "by_outcome", "annex", "mechanism_inputs", "mechanism_formula",
            "headroom", "payer_shares", "clawbacks", "sample", "plan_vs_actual", "totals")  # fmt: skip


@dataclass(frozen=True)
class Section:
    name: str
    columns: tuple[str, ...]
    rows: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class CouncilStatement:
    contract_id: str
    period: str
    currency: str
    #: payer the statement is addressed to; ``None`` = all payers of the contract.
    addressee: str | None
    sections: tuple[Section, ...]
    #: the ledger tip (``COUNT:HASH``) the statement was drawn from, printed in its footer
    ledger_tip: str = ""

    def section(self, name: str) -> Section:
        for section in self.sections:
            if section.name == name:
                return section
        raise KeyError(name)

    @property
    def header(self) -> dict[str, Any]:
        return {r["field"]: r["value"] for r in self.section("statement").rows}

    @property
    def totals(self) -> dict[str, Any]:
        return {r["item"]: r["value"] for r in self.section("totals").rows}

    def rows(self, name: str) -> tuple[Mapping[str, Any], ...]:
        return self.section(name).rows


def _plain(value: Any) -> Any:
    """numpy/pandas scalars to plain ints/bools/text; missing to None; floats refused."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        raise InvariantBroken("a float reached the council statement")
    return value


def _share_text(share) -> str:
    return "remainder" if share is None else str(share)


def build_statement(
    contract: Contract,
    period: Period,
    run: Mapping[str, Any],
    lines: pd.DataFrame,
    prior: PriorPaid,
    run_payers: Sequence[Mapping[str, Any]],
    clawbacks: Sequence[Mapping[str, Any]] = (),
    sample: Mapping[str, Any] | None = None,
    plan: pd.DataFrame | None = None,
    addressee: str | None = None,
    mechanisms: Sequence[Mapping[str, Any]] = (),
) -> CouncilStatement:
    """Assemble the statement from a stored claim run.

    ``run``: ``run_id``, ``status``, ``invoice_ref``, ``clawback_pence``. ``lines``: the run's
    lines in claim order (``models.pbr_store.claim_lines``) with ``share_<payer>_pence`` and
    ``payer_cap_reduction_<payer>_pence`` columns, ``disputed`` and ``dispute_reason``.
    ``prior``: what earlier runs paid. ``run_payers``: stored per-payer rows (clawback,
    approved, paid). ``clawbacks``: ``from_period``, ``amount_pence`` taken from this run.
    ``sample``: this run's validation sample, if any. ``plan``: a
    :func:`ledger.pbr.plans.plan_vs_actual` frame, if a forecast was given. ``mechanisms``:
    the stored results (``models.pbr_store.mechanism_records``) behind the mechanism lines:
    their inputs and formula become the ``mechanism_inputs`` and ``mechanism_formula`` sections.
    """
    if addressee is not None and addressee not in contract.payer_ids:
        raise NotFound(f"contract {contract.contract_id} has no payer {addressee!r} "
                       f"(payers: {', '.join(contract.payer_ids)})", field="payer")  # fmt: skip
    lines = lines.sort_values("line_no", kind="stable").reset_index(drop=True)
    disputed = lines["disputed"].astype(bool).to_numpy()
    summary = summarise(lines, contract, prior)
    versions = sorted({str(v) for v in lines["rate_card_version"].dropna() if str(v)})
    payer_of = {p.payer_id: p for p in contract.payers}
    stored = {str(r["payer_id"]): r for r in run_payers}
    status = str(run["status"])
    basis = "undisputed" if status in APPROVED_STATUSES else "claimed"

    # ------------------------------------------------------------------ annex
    columns = annex_columns(contract)
    annex = []
    for record in lines.to_dict("records"):
        row = {c: _plain(record.get(c)) for c in columns if c in record}
        row["status"] = "accepted" if bool(record["accepted"]) else "rejected"
        row["disputed"] = "yes" if bool(record["disputed"]) else ""
        row["dispute_reason"] = _plain(record.get("dispute_reason")) or ""
        row["evidence_ref"] = _plain(record.get("evidence_ref")) or ""
        row["rate_card_version"] = _plain(record.get("rate_card_version")) or ""
        row["achieved_on"] = str(record["achieved_on"])[:10]
        annex.append({c: row.get(c) for c in columns})
        shares = sum(int(row[share_column(p)]) for p in contract.payer_ids)
        if shares != int(row["net_pence"]):
            raise InvariantBroken(f"line {row['line_no']}: payer shares {shares} do not add up to net {row['net_pence']}")

    # ------------------------------------------------------------------ by outcome
    by_outcome = [{c: _plain(r.get(c)) for c in BY_OUTCOME_COLUMNS} for r in summary.by_outcome.to_dict("records")]

    # ------------------------------------------------------------------ headroom
    headroom: list[dict] = []
    mechanism_line = lines["outcome_id"].map(is_mechanism).to_numpy(dtype=bool)
    annex_participants = sorted(set(lines.loc[~mechanism_line, "participant_id"].astype(str)))
    participants = summary.participants.set_index("participant_id")
    for pid in annex_participants:
        p = participants.loc[pid]
        headroom.append(_headroom("participant", pid, "pence", contract.participant_cap_pence,
                                  int(p["prior_paid_pence"]), int(p["paid_pence"])))
    for r in summary.outcomes.to_dict("records"):
        o = r["outcome_id"]
        headroom.append(_headroom("outcome_count", o, "count", _plain(r["count_cap"]),
                                  int(r["cumulative_count"]) - int(r["paid_count"]), int(r["paid_count"])))
    for r in summary.outcomes.to_dict("records"):
        o = r["outcome_id"]
        headroom.append(_headroom("outcome_value", o, "pence", _plain(r["value_cap_pence"]),
                                  int(r["cumulative_paid_pence"]) - int(r["paid_pence"]), int(r["paid_pence"])))
    for r in summary.payers.to_dict("records"):
        headroom.append(_headroom("payer", r["payer_id"], "pence", _plain(r["cap_pence"]),
                                  int(r["cumulative_paid_pence"]) - int(r["paid_pence"]), int(r["paid_pence"])))
    c = summary.contract.iloc[0]
    headroom.append(_headroom("contract", contract.contract_id, "pence", _plain(c["cap_pence"]),
                              int(c["cumulative_paid_pence"]) - int(c["paid_pence"]), int(c["paid_pence"])))

    # ------------------------------------------------------------------ payer shares
    payer_shares = []
    for payer in contract.payers:
        column = share_column(payer.payer_id)
        claimed = int(lines[column].sum())
        disputed_share = int(lines.loc[disputed, column].sum())
        reduction = payer_reduction_column(payer.payer_id)
        cut = int(lines[reduction].sum()) if reduction in lines.columns else 0
        row = stored.get(payer.payer_id, {})
        clawback = int(row.get("clawback_pence") or 0)
        payer_shares.append({
            "payer_id": payer.payer_id, "name": payer.name, "share": _share_text(payer.share),
            "claimed_pence": claimed, "disputed_pence": disputed_share, "share_pence": claimed - disputed_share,
            "payer_cap_reduction_pence": cut, "clawback_pence": clawback,
            "due_pence": claimed - disputed_share - clawback,
            "approved_pence": _plain(row.get("approved_pence")), "paid_pence": _plain(row.get("paid_pence")),
        })  # fmt: skip

    # ------------------------------------------------------------------ clawbacks and sample
    clawback_rows = [{"from_period": str(r["from_period"]), "amount_pence": int(r["amount_pence"])} for r in clawbacks]
    clawback_total = sum(r["amount_pence"] for r in clawback_rows)
    if clawback_total != int(run["clawback_pence"]):
        raise InvariantBroken(f"clawbacks {clawback_total} do not add up to the run's {run['clawback_pence']}")
    sample_rows = []
    if sample is not None:
        for name in SAMPLE_FIELDS:
            value = sample.get(name)
            if isinstance(value, (list, tuple)):
                value = ";".join(str(v) for v in value)
            sample_rows.append({"field": name, "value": _plain(value)})

    # ------------------------------------------------------------------ plan versus actual
    plan_rows = []
    if plan is not None:
        plan_rows = [{c: _plain(r[c]) for c in PLAN_COLUMNS} for r in plan.to_dict("records")]

    # ------------------------------------------------------------------ totals
    net = lines["net_pence"].astype("int64")
    net_undisputed = int(net[~disputed].sum())
    totals = {
        "lines_claimed": len(lines), "lines_validated": int(lines["accepted"].astype(bool).sum()),
        "lines_rejected": int((~lines["accepted"].astype(bool)).sum()), "lines_paid": int((net > 0).sum()),
        "lines_disputed": int(disputed.sum()), "gross_pence": int(lines["gross_pence"].sum()),
        "cap_reductions_pence": int(sum(lines[reduction_column(k)].sum() for k in CAP_KINDS)),
        "net_pence": int(net.sum()), "disputed_pence": int(net[disputed].sum()),
        "net_undisputed_pence": net_undisputed, "clawback_pence": clawback_total,
        "due_pence": net_undisputed - clawback_total,
    }  # fmt: skip
    if sum(r["due_pence"] for r in payer_shares) != totals["due_pence"]:
        raise InvariantBroken("payer amounts due do not add up to the statement's total due")

    plan_attrs = plan.attrs if plan is not None else {}
    addressed = payer_of[addressee] if addressee else None
    header = [
        ("format", FORMAT), ("contract_id", contract.contract_id), ("contract_name", contract.name),
        ("project", contract.project), ("provider", contract.provider), ("fund", contract.fund or ""),
        ("currency", contract.currency), ("rounding", contract.rounding), ("period", period.name),
        ("period_start", period.start.isoformat()), ("period_end_exclusive", period.end.isoformat()),
        ("run_id", int(run["run_id"])), ("run_status", status), ("invoice_ref", run.get("invoice_ref") or ""),
        ("rate_card_versions", ";".join(versions)),
        ("addressee", addressee or "all"), ("addressee_name", addressed.name if addressed else "all payers"),
        ("clawback_basis", basis),
        ("participant_cap_pence", contract.participant_cap_pence), ("contract_cap_pence", contract.contract_cap_pence),
        ("plan_version", plan_attrs.get("plan_version", "") or ""),
        ("plan_made_on", str(plan_attrs.get("plan_made_on", "") or "")),
        ("plan_as_of", str(plan_attrs.get("as_of", "") or "")),
    ]  # fmt: skip
    payers = [{"payer_id": p.payer_id, "name": p.name, "share": _share_text(p.share), "cap_pence": p.cap_pence}
              for p in contract.payers]  # fmt: skip
    rate_card = [
        {"version": v.version, "effective_from": v.effective_from.isoformat(),
         "effective_to": v.effective_to.isoformat() if v.effective_to else "", "outcome_id": price.outcome_id,
         "base_price_pence": price.price_pence, "count_cap": contract.outcome(price.outcome_id).count_cap,
         "value_cap_pence": contract.outcome(price.outcome_id).value_cap_pence}
        for v in contract.rate_cards for price in v.prices
    ]  # fmt: skip
    billed = {(str(a["outcome_id"]), Period.containing(_day(a["achieved_on"])).name)
              for a in annex if is_mechanism(a["outcome_id"])}
    inputs, formula = [], []
    for m in mechanisms:
        if (m["outcome_id"], m["period"]) not in billed:
            continue
        where = {"mechanism": m["outcome_id"], "period": m["period"]}
        inputs.append(where | {"item": "", "field": "figures_file", "value": m.get("file_name") or "",
                               "source": "evidence"})
        inputs.append(where | {"item": "", "field": "figures_sha256", "value": m.get("input_hash") or "",
                               "source": "evidence"})
        inputs += [where | {k: _plain(r[k]) for k in ("item", "field", "value", "source")}
                   for r in m["result"].get("inputs", [])]
        formula += [where | {k: _plain(r[k]) for k in ("step", "formula", "value")}
                    for r in m["result"].get("formula", [])]
    missing = billed - {(m["outcome_id"], m["period"]) for m in mechanisms}
    if missing:
        raise InvariantBroken(f"mechanism lines without their recorded result: {sorted(missing)}")
    mechanism_sections = (
        Section("mechanism_inputs", INPUT_COLUMNS, tuple(inputs)),
        Section("mechanism_formula", FORMULA_COLUMNS, tuple(formula)),
    ) if billed else ()
    sections = (
        Section("statement", STATEMENT_COLUMNS, tuple({"field": k, "value": v} for k, v in header)),
        Section("payers", PAYER_COLUMNS, tuple(payers)),
        Section("rate_card", RATE_CARD_COLUMNS, tuple(rate_card)),
        Section("by_outcome", BY_OUTCOME_COLUMNS, tuple(by_outcome)),
        Section("annex", columns, tuple(annex)),
        *mechanism_sections,
        Section("headroom", HEADROOM_COLUMNS, tuple(headroom)),
        Section("payer_shares", PAYER_SHARE_COLUMNS, tuple(payer_shares)),
        Section("clawbacks", CLAWBACK_COLUMNS, tuple(clawback_rows)),
        Section("sample", STATEMENT_COLUMNS, tuple(sample_rows)),
        Section("plan_vs_actual", PLAN_COLUMNS, tuple(plan_rows)),
        Section("totals", ("item", "value"), tuple({"item": k, "value": totals[k]} for k in TOTAL_ITEMS)),
    )
    return CouncilStatement(contract.contract_id, period.name, contract.currency, addressee, sections)


def _day(text: str):
    from datetime import date

    return date.fromisoformat(str(text)[:10])


def _headroom(scope: str, key: str, unit: str, cap: int | None, before: int, this: int) -> dict:
    cumulative = before + this
    return {"scope": scope, "key": key, "unit": unit, "cap": cap, "brought_forward": before, "this_statement": this,
            "cumulative": cumulative, "headroom": None if cap is None else cap - cumulative}  # fmt: skip


# -------------------------------------------------------------------------------- CSV layout


def to_csv(statement: CouncilStatement, safe=None) -> str:
    """The statement as one CSV file of sections: a line ``[name]``, the section's header row,
    its rows, and a blank line. Text is passed through ``safe`` (the one spreadsheet
    neutralising function, :func:`reports.render.spreadsheet_safe`); integers stay numbers."""
    safe = safe or (lambda value: value)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180; quotes any \r or \n in a cell
    for section in statement.sections:
        writer.writerow([f"[{section.name}]"])
        writer.writerow(section.columns)
        for row in section.rows:
            writer.writerow(["" if row.get(c) is None else safe(row.get(c)) for c in section.columns])
        writer.writerow([])
    return buffer.getvalue()
