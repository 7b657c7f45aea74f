"""The "so what" in plain English: short narratives that open the investor statement, the value
pages and the fund manager's dashboard, generated from the report's own figures by jinja2
templates (no model, no network; ``docs/value.md``).

Each sentence is a :class:`Sentence`: its text and the figures it states, each with the value
*as the report holds it* (pence, counts, Decimal ratios) and an ``href`` to the part of the
document it comes from. Tests check that every figure a sentence states equals the report's and
appears, formatted, in its text. Templates run with ``StrictUndefined``: a missing figure fails
instead of printing blank.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Sequence

from jinja2 import Environment, StrictUndefined

from reports.html import money

_ENV = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
_ENV.filters["money"] = money


@dataclass(frozen=True, slots=True)
class Figure:
    name: str
    value: Any  # int pence, int count or Decimal, exactly as the report holds it
    shown: str  # how the sentence writes it
    href: str  # where in the document it comes from


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    figures: tuple[Figure, ...]

    def html(self) -> str:
        """The sentence with each figure linked to where it comes from (escaped; figures linked in
        the order the sentence states them)."""
        from html import escape

        text, out, at = self.text, [], 0
        for figure in sorted(self.figures, key=lambda f: _position(self.text, f.shown)):
            found = text.find(figure.shown, at)
            if found < 0:
                continue
            out.append(escape(text[at:found]))
            out.append(f'<a href="{escape(figure.href)}">{escape(figure.shown)}</a>')
            at = found + len(figure.shown)
        out.append(escape(text[at:]))
        return "".join(out)


def _position(text: str, shown: str) -> int:
    found = text.find(shown)
    return found if found >= 0 else len(text)


def _say(template: str, figures: Sequence[Figure], **words: Any) -> Sentence:
    context = {f.name: f.shown for f in figures}
    return Sentence(_ENV.from_string(template).render(**context, **words).strip(), tuple(figures))


SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def _money(name: str, pence: int, href: str, currency: str = "GBP") -> Figure:
    return Figure(name, pence, f"{SYMBOLS.get(currency, currency + ' ')}{money(pence, currency)}", href)


def _count(name: str, value: int, href: str) -> Figure:
    return Figure(name, value, f"{value:,}", href)


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


# ---------------------------------------------------------------------------- investor statement


def investor_narrative(statement) -> tuple[Sentence, ...]:
    """What the investor paid in and received, what its capital is worth, what the fund's
    projects achieved against their targets, and what changed this quarter."""
    cur = statement.currency
    qtd = statement.capital_account.column("qtd")
    contributions = qtd.line("contributions")
    distributed = -sum(qtd.line(f"distributions_{c}") for c in ("return_of_capital", "income", "gains"))
    out = [_say("This quarter ({{ quarter }}) you paid in {{ paid }} and received {{ received }} in distributions; "
                "your capital account moved from {{ beginning }} to {{ ending }}.",
                [_money("paid", contributions, "#capital-account", cur),
                 _money("received", distributed, "#capital-account", cur),
                 _money("beginning", qtd.beginning_pence, "#capital-account", cur),
                 _money("ending", qtd.ending_pence, "#capital-account", cur)], quarter=statement.quarter)]
    achieved_q = sum(o.achieved_qtd for o in statement.outcomes)
    achieved = sum(o.achieved_itd for o in statement.outcomes)
    targeted = [o for o in statement.outcomes if o.target]
    met = sum(1 for o in targeted if o.achieved_itd >= o.target)
    out.append(_say("The fund's projects achieved {{ achieved_q }} outcomes this quarter and {{ achieved }} since "
                    "the start; {{ met }} of {{ targeted }} targeted outcomes have reached their target.",
                    [_count("achieved_q", achieved_q, "#impact"), _count("achieved", achieved, "#impact"),
                     _count("met", met, "#impact"), _count("targeted", len(targeted), "#impact")]))
    payments_q = sum(p.payments_qtd_pence for p in statement.projects)
    payments = sum(p.payments_itd_pence for p in statement.projects)
    people = sum(p.participants for p in statement.projects)
    out.append(_say("They reached {{ people }} participants and earned {{ payments_q }} in outcome payments this "
                    "quarter, {{ payments }} to date.",
                    [_count("people", people, "#impact"), _money("payments_q", payments_q, "#impact", cur),
                     _money("payments", payments, "#impact", cur)]))
    return tuple(out)


# ---------------------------------------------------------------------------- value pages and dashboard


#: agencies as a sentence names them
IN_WORDS = {"local_authority": "the local authority", "nhs": "the NHS", "dwp": "DWP", "hmrc": "HMRC",
            "police_cj": "police and criminal justice", "housing": "housing providers"}


def _ratio(name: str, value: Decimal | None, href: str) -> Figure:
    return Figure(name, value, "not available" if value is None else f"{value}", href)


def value_narrative(report, previous=None, page: str = "") -> tuple[Sentence, ...]:
    """For each contract of a value report: who paid, who benefits, whether it pays for itself;
    and, given the report of a quarter earlier, what changed since. ``page``: the value page's
    address when the sentences are shown elsewhere (the dashboard), so links reach it."""
    out = []
    for c in report.extra["contracts"]:
        href = f"{page}#value-{c['contract']}"
        payers = [(c["payer_names"][p], v) for p, v in c["payments"].items() if v]
        agencies = sorted(((a, v) for a, v in c["by_agency"].items() if v), key=lambda item: (-item[1], item[0]))
        figures = [_money(f"payer{i}", v, href) for i, (_, v) in enumerate(payers)]
        figures += [_count("outcomes", c["outcomes"], href)]
        # names are data: passed as variables, never pasted into the template text
        names = {f"name{i}": name for i, (name, _) in enumerate(payers)}
        paid = " and ".join(f"{{{{ name{i} }}}} {{{{ payer{i} }}}}" for i in range(len(payers))) or "no payer yet"
        out.append(_say(f"{{{{ contract }}}}: {paid} paid for {{{{ outcomes }}}} validated outcomes.", figures,
                        contract=c["name"], **names))
        if agencies:
            top, top_pence = agencies[0]
            figs = [_money("fiscal", c["by_kind"]["fiscal"], href), _money("top", top_pence, href),
                    _ratio("bcr", c["fiscal_bcr"], href)]
            others = len(agencies) - 1
            out.append(_say("They save the public purse an estimated {{ fiscal }}, {{ share }} for {{ agency }} "
                            "({{ top }}){{ more }}; the fiscal benefit-cost ratio is {{ bcr }}.", figs,
                            agency=IN_WORDS[top], share="most of it" if others else "all of it",
                            more=f" and the rest for {others} other {_plural(others, 'agency', 'agencies')}"
                            if others else ""))
    total = report.extra["fund_total"]
    if len(report.extra["contracts"]) > 1:
        figs = [_money("cost", total["cost_pence"], f"{page}#value-summary-h"),
                _money("public", total["public_pence"], f"{page}#value-summary-h"),
                _ratio("bcr", total["public_value_bcr"], f"{page}#value-summary-h")]
        out.append(_say("Across the fund, {{ cost }} of outcome payments bought an estimated {{ public }} of public "
                        "value: {{ bcr }} for every pound.", figs))
    if previous is not None:
        before = previous.extra["fund_total"]
        figs = [_money("added_cost", total["cost_pence"] - before["cost_pence"], f"{page}#value-summary-h"),
                _money("added_value", total["public_pence"] - before["public_pence"], f"{page}#value-summary-h"),
                _count("added_outcomes", total["outcomes"] - before["outcomes"], f"{page}#value-summary-h")]
        out.append(_say("Since last quarter ({{ before }}): {{ added_outcomes }} more outcomes validated, {{ added_cost }} "
                        "more paid, {{ added_value }} more public value (each quarter in its own year's prices).",
                        figs, before=previous.as_of.isoformat()))
    return tuple(out)


# ---------------------------------------------------------------------------- council statement


def council_narrative(statement) -> tuple[Sentence, ...]:
    """What the claim asks of the payer, how many outcome lines were validated and why others
    were not, and what the caps took."""
    h, t, cur = statement.header, statement.totals, statement.currency
    shares = {r["payer_id"]: r for r in statement.rows("payer_shares")}
    addressed = shares.get(statement.addressee) if statement.addressee else None
    out = []
    if addressed is not None:
        out.append(_say("This claim for {{ period }} asks {{ payer }} for {{ due }}, its share of the outcomes "
                        "validated.", [_money("due", addressed["due_pence"], "#amount-due", cur)],
                        period=h["period"], payer=h["addressee_name"]))
    else:
        out.append(_say("This claim for {{ period }} asks the contract's payers for {{ due }} in all.",
                        [_money("due", t["due_pence"], "#totals", cur)], period=h["period"]))
    out.append(_say("Of {{ claimed }} outcome lines claimed, {{ validated }} were validated and {{ rejected }} "
                    "rejected, each with its reason in the annex.",
                    [_count("claimed", t["lines_claimed"], "#totals"), _count("validated", t["lines_validated"], "#totals"),
                     _count("rejected", t["lines_rejected"], "#totals")]))
    out.append(_say("Validated outcomes at their prices come to {{ gross }}; the caps took {{ caps }}, leaving "
                    "{{ net }}.", [_money("gross", t["gross_pence"], "#totals", cur),
                                   _money("caps", t["cap_reductions_pence"], "#totals", cur),
                                   _money("net", t["net_pence"], "#totals", cur)]))
    return tuple(out)
