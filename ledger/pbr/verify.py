"""Re-derive a council outcome payment statement from its annex and the contract file alone.

``fuel claims verify STATEMENT.csv --contract FILE`` calls :func:`verify_statement_csv`. It
reads nothing but the statement CSV (layout in ``docs/council-statements.md``) and the
contract, and deliberately does **not** call the claim engine (``ledger.pbr.claims``): it is a
second, plain implementation of the documented rules, a line at a time, that a council's
analyst can read top to bottom and redo in a spreadsheet:

1. each annex line's unit price and rate card version from the contract's rate card in force on
   the achievement date; gross = price for accepted lines, 0 for rejected ones;
2. the caps in order (participant, outcome count, outcome value, contract), in claim order
   (achievement date, outcome id, participant id = line order), each starting from the
   amounts brought forward from earlier statements (the ``headroom`` section's
   ``brought_forward`` column: the only figures taken on trust, and each is the ``cumulative``
   figure of the previous statement);
3. the payer split: each fixed share ``round(net x share)`` with the contract's rounding mode,
   the remainder payer takes the rest; then each payer's own cap, in claim order;
4. the participant's cumulative paid and headroom after each line;
5. from those lines: the per-outcome summary, every headroom row, each payer's claimed,
   disputed and due amounts (the clawback split over payers pro rata to their shares by
   largest remainder), the sample's error rate and recovery, plan versus actual arithmetic,
   and the totals.

Every figure the statement states is compared with the re-derived one; each difference names
the annex line (line number, participant, outcome, date) or the total row at fault. What the
contract alone cannot tell (a line's eligibility, which depends on the participant register,
and the clawback amounts carried from earlier samples) is taken as stated, and said so.

Mechanism lines (outcome ``mechanism:<index>:<kind>``): the payment of each is recomputed with
the documented formula (``ledger.pbr.mechanisms``, the pure rules) from the ``mechanism_inputs``
section and the contract's ``[[mechanisms]]`` entry; every stated input and formula step is
compared; then the line goes through the contract cap and the payer split like any line (the
participant and per-outcome caps do not apply to it). Figures brought forward from earlier
periods of the mechanism are taken as stated, like the headroom brought forward.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from ledger.errors import FuelError
from ledger.money import allocate, round_minor
from ledger.pbr.contracts import Contract
from ledger.pbr.mechanism_claims import figures_from_input_rows, parse_outcome_id
from ledger.periods import Period

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CAPS = ("participant_cap", "outcome_count_cap", "outcome_value_cap", "contract_cap", "payer_cap")
REQUIRED_SECTIONS = ("statement", "payers", "by_outcome", "annex", "headroom", "payer_shares", "clawbacks", "totals")


@dataclass(frozen=True, slots=True)
class Difference:
    where: str  # "annex line 7 (participant P003, outcome entry, achieved 2026-07-03)" or "totals: net_pence"
    field: str
    stated: object
    derived: object

    def text(self) -> str:
        return f"{self.where}: {self.field}: statement says {_show(self.stated)}, re-derived {_show(self.derived)}"


@dataclass(frozen=True, slots=True)
class VerifyResult:
    differences: tuple[Difference, ...]
    lines_checked: int
    figures_checked: int
    taken_as_stated: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.differences


def _show(value: object) -> str:
    return "(blank)" if value is None or value == "" else str(value)


def _unescape(cell: str) -> str:
    """Undo the spreadsheet neutralising quote (``'=x`` was written for ``=x``)."""
    if len(cell) > 1 and cell[0] == "'" and cell[1:].startswith(_FORMULA_START):
        return cell[1:]
    return cell


def parse_sections(text: str) -> dict[str, tuple[list[str], list[dict[str, str]]]]:
    """Sections of the statement CSV: name -> (columns, rows of text cells)."""
    sections: dict[str, tuple[list[str], list[dict[str, str]]]] = {}
    name: str | None = None
    columns: list[str] | None = None
    for cells in csv.reader(io.StringIO(text.removeprefix("\ufeff"))):
        if not cells or all(c == "" for c in cells):
            name = columns = None
            continue
        if len(cells) == 1 and cells[0].startswith("[") and cells[0].endswith("]") and columns is None:
            name = cells[0][1:-1]
            sections[name] = ([], [])
            continue
        if name is None:
            continue
        if columns is None:
            columns = cells
            sections[name][0].extend(cells)
            continue
        sections[name][1].append({c: _unescape(v) for c, v in zip(columns, cells)})
    return sections


class _Checker:
    def __init__(self) -> None:
        self.differences: list[Difference] = []
        self.checked = 0

    def same(self, where: str, field: str, stated: object, derived: object) -> None:
        self.checked += 1
        if _norm(stated) != _norm(derived):
            self.differences.append(Difference(where, field, stated, derived))

    def note(self, where: str, field: str, stated: object, derived: object) -> None:
        self.differences.append(Difference(where, field, stated, derived))


def _norm(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    return str(value).strip()


def _int(text: str | None) -> int | None:
    if text is None or text.strip() == "":
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


def _remaining(cap: int | None, used: int) -> int | None:
    return None if cap is None else max(cap - used, 0)


def verify_statement_csv(text: str, contract: Contract) -> VerifyResult:
    """Re-derive every total of a statement CSV from its annex and ``contract``; list differences."""
    check = _Checker()
    sections = parse_sections(text)
    missing = [s for s in REQUIRED_SECTIONS if s not in sections]
    if missing:
        for name in missing:
            check.note("layout", f"section [{name}]", "missing", "present")
        return VerifyResult(tuple(check.differences), 0, check.checked, ())
    header = {r.get("field", ""): r.get("value", "") for r in sections["statement"][1]}
    rows = {name: rows for name, (_, rows) in sections.items()}

    # ---------------------------------------------------------------- the contract itself
    for field, expected in (("contract_id", contract.contract_id), ("currency", contract.currency),
                            ("rounding", contract.rounding),
                            ("participant_cap_pence", contract.participant_cap_pence),
                            ("contract_cap_pence", contract.contract_cap_pence)):  # fmt: skip
        check.same("statement", field, header.get(field), expected)
    stated_payers = {r["payer_id"]: r for r in rows["payers"]}
    for payer in contract.payers:
        row = stated_payers.get(payer.payer_id)
        if row is None:
            check.note("payers", payer.payer_id, "missing", "a payer of the contract")
            continue
        check.same(f"payers: {payer.payer_id}", "share", row.get("share"),
                   "remainder" if payer.share is None else str(payer.share))
        check.same(f"payers: {payer.payer_id}", "cap_pence", row.get("cap_pence"), payer.cap_pence)
    for extra in sorted(set(stated_payers) - set(contract.payer_ids)):
        check.note("payers", extra, "a payer", "not a payer of the contract")

    # ---------------------------------------------------------------- brought forward
    bf: dict[tuple[str, str], int] = {}
    for r in rows["headroom"]:
        bf[(r.get("scope", ""), r.get("key", ""))] = _int(r.get("brought_forward")) or 0

    # ---------------------------------------------------------------- mechanisms
    mechanism_parts = _check_mechanisms(check, rows.get("mechanism_inputs", []), rows.get("mechanism_formula", []),
                                        contract)

    # ---------------------------------------------------------------- the annex, line by line
    annex = rows["annex"]
    payers = contract.payers
    remainder_payer = contract.remainder_payer.payer_id
    part_used: dict[str, int] = {}  # paid so far under the participant cap (before payer caps)
    part_final: dict[str, int] = {}  # paid so far after payer caps (the running total shown)
    count_seen: dict[str, int] = {}
    value_used: dict[str, int] = {}
    contract_used = 0
    payer_used: dict[str, int] = {p.payer_id: 0 for p in payers}
    derived_lines: list[dict] = []
    previous_key: tuple | None = None
    expected_no = 1
    for r in annex:
        line_no = _int(r.get("line_no"))
        pid, oid, achieved = r.get("participant_id", ""), r.get("outcome_id", ""), r.get("achieved_on", "")
        where = f"annex line {r.get('line_no')} (participant {pid}, outcome {oid}, achieved {achieved})"
        if line_no != expected_no:
            check.note(where, "line_no", r.get("line_no"), expected_no)
        expected_no = (line_no or expected_no) + 1
        try:
            day = date.fromisoformat(achieved)
        except ValueError:
            check.note(where, "achieved_on", achieved, "a date YYYY-MM-DD")
            continue
        key = (day, oid, pid)
        if previous_key is not None and key < previous_key:
            check.note(where, "claim order", "after the line before it", "achievement date, outcome id, participant id order")
        previous_key = key
        accepted = r.get("status") == "accepted"
        reason = r.get("reason", "")
        if accepted == bool(reason):
            check.note(where, "status", f"{r.get('status')} with reason {reason!r}", "accepted with no reason, or rejected with one")

        mechanism = parse_outcome_id(oid) is not None
        if mechanism:
            version = None
            key = (oid, Period.containing(day).name)
            label = r.get("evidence_ref", "")
            price = mechanism_parts.get(key, {}).get(label)
            if price is None:
                check.note(where, "mechanism payment", label or "(no label)",
                           "a payment of the mechanism recomputed from the mechanism_inputs section")
                price = 0
        else:
            version = contract.version_on(day)
            price = (contract.price_on(oid, day) or 0) if oid in contract.outcome_ids else 0
        gross = price if accepted else 0
        amount = gross
        cut: dict[str, int] = {}

        # 1. participant cap (a mechanism line has no participant: steps 1-3 are the rate card's)
        if mechanism:
            cut["participant_cap"] = cut["outcome_count_cap"] = cut["outcome_value_cap"] = 0
        elif contract.participant_cap_pence is not None:
            left = _remaining(contract.participant_cap_pence, bf.get(("participant", pid), 0) + part_used.get(pid, 0))
            paid = min(amount, left)
        else:
            paid = amount
        if not mechanism:
            cut["participant_cap"], amount = amount - paid, paid
            part_used[pid] = part_used.get(pid, 0) + amount
        # 2. outcome count cap: the k-th line still payable is paid while brought forward + k < cap
        outcome = contract.outcome(oid) if oid in contract.outcome_ids else None
        paid = amount
        if outcome is not None and outcome.count_cap is not None and amount > 0:
            if bf.get(("outcome_count", oid), 0) + count_seen.get(oid, 0) >= outcome.count_cap:
                paid = 0
        if amount > 0:
            count_seen[oid] = count_seen.get(oid, 0) + 1
        if not mechanism:
            cut["outcome_count_cap"], amount = amount - paid, paid
        # 3. outcome value cap
        if outcome is not None and outcome.value_cap_pence is not None:
            paid = min(amount, _remaining(outcome.value_cap_pence, bf.get(("outcome_value", oid), 0) + value_used.get(oid, 0)))
        else:
            paid = amount
        if not mechanism:
            cut["outcome_value_cap"], amount = amount - paid, paid
        value_used[oid] = value_used.get(oid, 0) + amount
        # 4. contract cap
        if contract.contract_cap_pence is not None:
            paid = min(amount, _remaining(contract.contract_cap_pence, bf.get(("contract", contract.contract_id), 0) + contract_used))
        else:
            paid = amount
        cut["contract_cap"], amount = amount - paid, paid
        contract_used += amount
        # 5. payer split, then each payer's cap
        shares: dict[str, int] = {}
        for payer in payers:
            if payer.share is not None:
                rounded = round_minor(Fraction(amount) * Fraction(Decimal(payer.share)), contract.rounding)
                shares[payer.payer_id] = min(rounded, amount - sum(shares.values()))  # never past the line
        shares[remainder_payer] = amount - sum(shares.values())
        payer_cut = 0
        cut_by_payer: dict[str, int] = {}
        for payer in payers:
            share = shares[payer.payer_id]
            if payer.cap_pence is not None:
                paid = min(share, _remaining(payer.cap_pence, bf.get(("payer", payer.payer_id), 0) + payer_used[payer.payer_id]))
            else:
                paid = share
            payer_cut += share - paid
            cut_by_payer[payer.payer_id] = share - paid
            shares[payer.payer_id] = paid
            payer_used[payer.payer_id] += paid
        cut["payer_cap"] = payer_cut
        net = amount - payer_cut
        if not mechanism:
            part_final[pid] = part_final.get(pid, 0) + net
        cumulative = 0 if mechanism else bf.get(("participant", pid), 0) + part_final[pid]

        derived = {
            "rate_card_version": version.version if version else "",
            "price_pence": price, "gross_pence": gross,
            **{f"reduction_{k}_pence": cut[k] for k in CAPS},
            "cap_applied": ";".join(k for k in CAPS if cut[k] > 0),
            "net_pence": net,
            **{f"share_{p.payer_id}_pence": shares[p.payer_id] for p in payers},
            "participant_paid_cum_pence": cumulative,
            "participant_headroom_pence": None if contract.participant_cap_pence is None or mechanism
            else contract.participant_cap_pence - cumulative,
        }  # fmt: skip
        for field, value in derived.items():
            check.same(where, field, r.get(field), value)
        derived_lines.append({"participant_id": pid, "outcome_id": oid, "accepted": accepted, "reason": reason,
                              "mechanism": mechanism,
                              "disputed": r.get("disputed") == "yes", "line_no": line_no, "cut_by_payer": cut_by_payer,
                              **derived})  # fmt: skip

    _check_by_outcome(check, rows["by_outcome"], derived_lines)
    _check_headroom(check, rows["headroom"], derived_lines, contract, bf)
    clawback_total = _check_payers(check, rows, header, derived_lines, contract)
    _check_sample(check, dict((r["field"], r["value"]) for r in rows.get("sample", [])), derived_lines, contract)
    _check_plan(check, rows.get("plan_vs_actual", []))
    _check_totals(check, rows["totals"], derived_lines, clawback_total)
    versions = ";".join(sorted({d["rate_card_version"] for d in derived_lines if d["rate_card_version"]}))
    check.same("statement", "rate_card_versions", header.get("rate_card_versions"), versions)
    taken = (
        "each line's eligibility (status and reason: it depends on the participant register)",
        "amounts brought forward from earlier statements (headroom: brought_forward)",
        "clawbacks carried from earlier samples (clawbacks section)",
    )
    return VerifyResult(tuple(check.differences), len(annex), check.checked, taken)


def _check_mechanisms(check: _Checker, inputs: list[dict], formula: list[dict],
                      contract: Contract) -> dict[tuple[str, str], dict[str, int]]:
    """Recompute each mechanism's payments from its stated inputs and the contract; compare every
    stated input and formula step. Returns (outcome id, period) -> part label -> payment."""
    from ledger.pbr.mechanism_inputs import compute_mechanism

    groups: dict[tuple[str, str], list[dict]] = {}
    for r in inputs:
        groups.setdefault((r.get("mechanism", ""), r.get("period", "")), []).append(r)
    steps: dict[tuple[str, str], list[dict]] = {}
    for r in formula:
        steps.setdefault((r.get("mechanism", ""), r.get("period", "")), []).append(r)
    out: dict[tuple[str, str], dict[str, int]] = {}
    for (oid, period), stated in groups.items():
        where = f"mechanism_inputs {oid} {period}"
        parsed = parse_outcome_id(oid)
        if parsed is None or not 0 <= parsed[0] < len(contract.mechanisms) or contract.mechanisms[parsed[0]][0] != parsed[1]:
            check.note(where, "mechanism", oid, "a [[mechanisms]] entry of the contract (mechanism:<index>:<kind>)")
            continue
        index, kind = parsed
        try:
            figures, earlier = figures_from_input_rows(kind, stated)
            _, result = compute_mechanism(kind, dict(contract.mechanisms[index][1]), figures, Period.parse(period),
                                          earlier)
        except FuelError as exc:
            check.note(where, "figures", "as stated", f"figures the mechanism can compute ({exc.message})")
            continue
        by_key = {(r.get("item", ""), r.get("field", ""), r.get("source", "")): r for r in stated}
        for r in result["inputs"]:
            key = (r["item"], r["field"], r["source"])
            label = f"{where}: {r['item'] + ' ' if r['item'] else ''}{r['field']} ({r['source']})"
            if key not in by_key:
                check.note(label, "value", "missing", r["value"])
            else:
                check.same(label, "value", by_key[key].get("value"), r["value"])
        stated_steps = {r.get("step", ""): r for r in steps.get((oid, period), [])}
        for r in result["formula"]:
            label = f"mechanism_formula {oid} {period}: {r['step']}"
            if r["step"] not in stated_steps:
                check.note(label, "value", "missing", r["value"])
            else:
                check.same(label, "value", stated_steps[r["step"]].get("value"), r["value"])
        out[(oid, period)] = {label: int(pence) for label, pence in result["parts"]}
    return out


def _check_by_outcome(check: _Checker, stated: list[dict], lines: list[dict]) -> None:
    from ledger.pbr.eligibility import REASONS

    groups: dict[tuple[str, str, str], dict] = {}
    for d in lines:
        key = (d["outcome_id"], d["rate_card_version"], str(d["price_pence"]))
        g = groups.setdefault(key, {"count_claimed": 0, "count_validated": 0, "count_rejected": 0,
                                    **{f"rejected_{c}": 0 for c in REASONS}, "count_paid": 0, "gross_pence": 0,
                                    **{f"reduction_{k}_pence": 0 for k in CAPS}, "cap_reductions_pence": 0,
                                    "net_pence": 0})  # fmt: skip
        g["count_claimed"] += 1
        g["count_validated"] += d["accepted"]
        g["count_rejected"] += not d["accepted"]
        if d["reason"] in REASONS:
            g[f"rejected_{d['reason']}"] += 1
        g["count_paid"] += d["net_pence"] > 0
        g["gross_pence"] += d["gross_pence"]
        for k in CAPS:
            g[f"reduction_{k}_pence"] += d[f"reduction_{k}_pence"]
            g["cap_reductions_pence"] += d[f"reduction_{k}_pence"]
        g["net_pence"] += d["net_pence"]
    seen = set()
    for r in stated:
        key = (r.get("outcome_id", ""), r.get("rate_card_version", ""), r.get("unit_price_pence", ""))
        where = f"by_outcome {key[0]} (rate card {key[1] or '-'}, unit price {key[2]})"
        if key not in groups:
            check.note(where, "row", "present", "no annex line has this outcome, version and unit price")
            continue
        seen.add(key)
        for field, value in groups[key].items():
            check.same(where, field, r.get(field), value)
    for key in sorted(set(groups) - seen):
        check.note(f"by_outcome {key[0]} (rate card {key[1] or '-'}, unit price {key[2]})", "row", "missing",
                   f"{groups[key]['count_claimed']} annex line(s)")


def _check_headroom(check: _Checker, stated: list[dict], lines: list[dict], contract: Contract,
                    bf: dict[tuple[str, str], int]) -> None:
    this: dict[tuple[str, str], int] = {}
    caps: dict[tuple[str, str], int | None] = {}
    for d in lines:
        paid = d["net_pence"]
        key = ("participant", d["participant_id"])
        if not d["mechanism"]:
            this[key] = this.get(key, 0) + (paid if paid > 0 else 0)
        if paid > 0:
            this[("outcome_count", d["outcome_id"])] = this.get(("outcome_count", d["outcome_id"]), 0) + 1
            this[("outcome_value", d["outcome_id"])] = this.get(("outcome_value", d["outcome_id"]), 0) + paid
            this[("contract", contract.contract_id)] = this.get(("contract", contract.contract_id), 0) + paid
        for p in contract.payers:
            this[("payer", p.payer_id)] = this.get(("payer", p.payer_id), 0) + d[f"share_{p.payer_id}_pence"]
    for d in lines:
        if not d["mechanism"]:
            caps[("participant", d["participant_id"])] = contract.participant_cap_pence
    for o in contract.outcomes:
        caps[("outcome_count", o.outcome_id)] = o.count_cap
        caps[("outcome_value", o.outcome_id)] = o.value_cap_pence
    for p in contract.payers:
        caps[("payer", p.payer_id)] = p.cap_pence
    caps[("contract", contract.contract_id)] = contract.contract_cap_pence
    seen = set()
    for r in stated:
        key = (r.get("scope", ""), r.get("key", ""))
        where = f"headroom {key[0]} {key[1]}"
        if key not in caps:
            check.note(where, "row", "present", "not a participant of the annex, outcome, payer or the contract")
            continue
        seen.add(key)
        cap = caps[key]
        cumulative = bf.get(key, 0) + this.get(key, 0)
        check.same(where, "cap", r.get("cap"), cap)
        check.same(where, "this_statement", r.get("this_statement"), this.get(key, 0))
        check.same(where, "cumulative", r.get("cumulative"), cumulative)
        check.same(where, "headroom", r.get("headroom"), None if cap is None else cap - cumulative)
    for key in sorted(set(caps) - seen, key=str):
        check.note(f"headroom {key[0]} {key[1]}", "row", "missing", "a headroom row")


def _check_payers(check: _Checker, rows: dict, header: dict, lines: list[dict], contract: Contract) -> int:
    clawbacks = [_int(r.get("amount_pence")) or 0 for r in rows["clawbacks"]]
    total = sum(clawbacks)
    claimed = {p.payer_id: sum(d[f"share_{p.payer_id}_pence"] for d in lines) for p in contract.payers}
    disputed = {p.payer_id: sum(d[f"share_{p.payer_id}_pence"] for d in lines if d["disputed"]) for p in contract.payers}
    share = {p: claimed[p] - disputed[p] for p in claimed}
    cut = {p.payer_id: sum(d["cut_by_payer"][p.payer_id] for d in lines) for p in contract.payers}
    basis = header.get("clawback_basis", "claimed")
    weights = [claimed[p] if basis == "claimed" else share[p] for p in contract.payer_ids]
    split = allocate(total, weights) if total and sum(weights) else [0] * len(weights)
    clawback = dict(zip(contract.payer_ids, split))
    stated = {r.get("payer_id", ""): r for r in rows["payer_shares"]}
    for payer in contract.payers:
        p = payer.payer_id
        r = stated.get(p)
        where = f"payer_shares {p}"
        if r is None:
            check.note(where, "row", "missing", "a row for every payer")
            continue
        due = share[p] - clawback[p]
        for field, value in (("claimed_pence", claimed[p]), ("disputed_pence", disputed[p]), ("share_pence", share[p]),
                             ("payer_cap_reduction_pence", cut[p]), ("clawback_pence", clawback[p]), ("due_pence", due)):  # fmt: skip
            check.same(where, field, r.get(field), value)
        if _int(r.get("approved_pence")) is not None:
            check.same(where, "approved_pence", r.get("approved_pence"), due)
    return total


def _check_sample(check: _Checker, sample: dict, lines: list[dict], contract: Contract) -> None:
    if not sample or not sample.get("invalid_lines") and sample.get("recovery_pence", "") == "":
        return
    paid = {d["line_no"]: d["net_pence"] for d in lines if not d["disputed"] and d["net_pence"] > 0}
    sampled = [_int(x) for x in sample.get("sampled_lines", "").split(";") if x.strip()]
    invalid = [_int(x) for x in sample.get("invalid_lines", "").split(";") if x.strip()]
    unknown = [x for x in sampled if x not in paid]
    if unknown:
        check.note("sample", "sampled_lines", ";".join(map(str, unknown)), "paid, undisputed annex lines")
        return
    sampled_value = sum(paid[x] for x in sampled)
    invalid_value = sum(paid.get(x, 0) for x in invalid)
    total = sum(paid.values())
    rate = Fraction(invalid_value, sampled_value) if sampled_value else Fraction(0)
    recovery = invalid_value if sample.get("method") == "line" else round_minor(rate * total, contract.rounding)
    check.same("sample", "sampled_value_pence", sample.get("sampled_value_pence"), sampled_value)
    check.same("sample", "invalid_value_pence", sample.get("invalid_value_pence"), invalid_value)
    check.same("sample", "error_rate", sample.get("error_rate"), f"{rate.numerator}/{rate.denominator}")
    check.same("sample", "recovery_pence", sample.get("recovery_pence"), recovery)


def _check_plan(check: _Checker, rows: list[dict]) -> None:
    cum = {"planned": 0, "actual": 0, "variance": 0}
    for r in rows:
        where = f"plan_vs_actual {r.get('quarter')}"
        planned, actual = _int(r.get("planned_pence")) or 0, _int(r.get("actual_pence")) or 0
        variance = 0 if r.get("status") == "future" else actual - planned
        cum["planned"] += planned
        cum["actual"] += actual
        cum["variance"] += variance
        check.same(where, "variance_pence", r.get("variance_pence"), variance)
        for name in ("planned", "actual", "variance"):
            check.same(where, f"cumulative_{name}_pence", r.get(f"cumulative_{name}_pence"), cum[name])


def _check_totals(check: _Checker, stated: list[dict], lines: list[dict], clawback_total: int) -> None:
    net_undisputed = sum(d["net_pence"] for d in lines if not d["disputed"])
    derived = {
        "lines_claimed": len(lines), "lines_validated": sum(d["accepted"] for d in lines),
        "lines_rejected": sum(not d["accepted"] for d in lines), "lines_paid": sum(d["net_pence"] > 0 for d in lines),
        "lines_disputed": sum(d["disputed"] for d in lines), "gross_pence": sum(d["gross_pence"] for d in lines),
        "cap_reductions_pence": sum(d[f"reduction_{k}_pence"] for d in lines for k in CAPS),
        "net_pence": sum(d["net_pence"] for d in lines),
        "disputed_pence": sum(d["net_pence"] for d in lines if d["disputed"]),
        "net_undisputed_pence": net_undisputed, "clawback_pence": clawback_total,
        "due_pence": net_undisputed - clawback_total,
    }  # fmt: skip
    values = {r.get("item", ""): r.get("value") for r in stated}
    for item, value in derived.items():
        if item not in values:
            check.note(f"totals: {item}", "value", "missing", value)
            continue
        check.same(f"totals: {item}", "value", values[item], value)
