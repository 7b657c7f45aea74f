"""Request and response bodies. Money is integer pence (``strict``: a JSON float is refused
with a 422 naming the field) or a decimal string checked by ``ledger.money.parse_amount``;
rates are strings. The domain still checks every rule: these models only fix the shape."""

from __future__ import annotations

from dataclasses import MISSING, fields
from datetime import date
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model

from ledger.flows import EVENT_TYPES
from ledger.periods import DATE_MAX, DATE_MIN

#: Integer pence. ``strict``: 12.5 or 12.0 in JSON is refused, never rounded.
Pence = Annotated[int, Field(strict=True, description="Integer pence (minor units).")]
Id = Annotated[str, Field(min_length=1, max_length=64, description="Letters, digits, _ . - (at most 64).")]
Amount = Annotated[str, Field(max_length=32, description='Decimal text in pounds, e.g. "1234.50".')]


#: Every date in a body lies in the plausible range (issue 16 item 12; ledger/periods.py).
Day = Annotated[date, Field(ge=DATE_MIN, le=DATE_MAX)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(extra="allow")


Row = dict[str, Any]


# ---------------------------------------------------------------------------- who am I


class MeOut(BaseModel):
    name: str
    role: str
    scope: str | None


# ---------------------------------------------------------------------------- parties and funds


class PartyIn(Body):
    id: Id
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["investor", "payer", "provider", "manager"]
    investor_type: Literal["social_investor", "charitable_trust", "public_body"] | None = None


class PartyOut(BaseModel):
    id: str
    name: str
    kind: str
    investor_type: str | None = None


class SavedOut(BaseModel):
    id: str
    status: str = Field(description="added, updated or unchanged.")


class FundIn(Body):
    id: Id
    name: str = Field(min_length=1, max_length=200)
    currency: str = Field(default="GBP", min_length=3, max_length=3)


class FundOut(BaseModel):
    id: str
    name: str
    currency: str
    tranches: int
    restrictions: int
    projects: int
    commitments: int


class FundPublicOut(BaseModel):
    """Fund-level figures every investor in the fund may see."""

    id: str
    name: str
    currency: str
    investors: int
    committed_pence: int
    called_pence: int
    received_pence: int
    unfunded_pence: int
    projects: list[dict[str, str]]


class FundSetupIn(Body):
    """A fund setup file as JSON (the tables of docs/fund-flows.md; amounts as text)."""

    fund: dict[str, Any]
    parties: list[dict[str, Any]] = []
    tranches: list[dict[str, Any]] = []
    restrictions: list[dict[str, Any]] = []
    projects: list[dict[str, Any]] = []
    commitments: list[dict[str, Any]] = []


class SetupOut(BaseModel):
    fund: str
    counts: dict[str, dict[str, int]]


class TrancheIn(Body):
    id: Id
    name: str = Field(min_length=1, max_length=200)
    rank: int = Field(strict=True, ge=1, le=1000)
    kind: Literal["repayable", "grant"] = "repayable"
    return_kind: Literal["none", "target", "capped"] = "none"
    return_rate: str | None = Field(default=None, max_length=32, description='Annual rate as text, e.g. "0.05".')


class TrancheOut(BaseModel):
    id: str
    name: str
    rank: int
    kind: str
    return_kind: str
    return_rate: str | None


class RestrictionIn(Body):
    id: Id
    name: str = Field(min_length=1, max_length=200)
    theme: str | None = Field(default=None, max_length=200)
    projects: list[Id] = Field(default=[], max_length=1000)


class RestrictionOut(BaseModel):
    id: str
    name: str
    theme: str | None
    projects: list[str]


class ProjectIn(Body):
    id: Id
    name: str = Field(min_length=1, max_length=200)
    provider: Id
    theme: str = Field(min_length=1, max_length=200)
    status: Literal["pipeline", "active", "closed", "written_off"] = "active"


class ProjectOut(BaseModel):
    id: str
    name: str
    provider: str
    theme: str
    status: str


class CommitmentIn(Body):
    id: Id
    investor: Id
    tranche: Id
    commitment_date: Day
    amount_pence: Pence | None = None
    amount: Amount | None = None


class CommitmentStatusOut(BaseModel):
    fund: str
    tranche: str
    investor: str
    currency: str
    committed_pence: int
    called_pence: int
    received_pence: int
    unfunded_pence: int


# ---------------------------------------------------------------------------- events


def _event_model(kind: str, cls) -> type[BaseModel]:
    """The request body of one event kind, from its domain dataclass (fund comes from the path)."""
    types = {"str": str, "int": int, "date": date, "str | None": str | None}
    definitions: dict[str, Any] = {"kind": (Literal[kind], Field(description=f"`{kind}`"))}  # type: ignore[valid-type]
    for f in fields(cls):
        if f.name == "fund":
            continue
        annotation = types[str(f.type)]
        if f.name.endswith("_pence"):
            annotation = Pence
        elif annotation is str:
            annotation = Annotated[str, Field(max_length=500)]
        elif annotation == str | None:
            annotation = Annotated[str | None, Field(max_length=500)]
        default = ... if f.default is MISSING else f.default
        if f.name == "effective_date":
            definitions[f.name] = (date, ...)
        else:
            definitions[f.name] = (annotation, default)
    doc = (cls.__doc__ or kind).strip().splitlines()[0]
    model = create_model(f"Event_{kind}", __config__=ConfigDict(extra="forbid"), __doc__=doc, **definitions)
    return model


EVENT_MODELS = {kind: _event_model(kind, cls) for kind, cls in EVENT_TYPES.items()}
EventIn = Annotated[Union[tuple(EVENT_MODELS.values())], Field(discriminator="kind")]  # type: ignore[misc]


class PostingOut(BaseModel):
    account: str
    amount_pence: int
    currency: str
    fund: str | None
    source: str | None
    tranche: str | None
    restriction: str | None
    project: str | None
    counterparty: str | None


class EventOut(BaseModel):
    entry_id: int
    status: Literal["posted", "already posted"]
    idempotency_key: str
    event_kind: str
    description: str
    postings: list[PostingOut]


class CsvFileIn(Body):
    """A CSV file as text (the columns of the CLI's file), or its rows as JSON objects."""

    file_name: str = Field(default="api.csv", min_length=1, max_length=200)
    csv: str | None = Field(default=None, max_length=20_000_000)
    rows: list[dict[str, str | None]] | None = Field(default=None, max_length=1_000_000)


class FlowsImportOut(BaseModel):
    file: str
    posted: int
    already_posted: int
    entry_ids: list[int]


# ---------------------------------------------------------------------------- ledger


class PostingIn(Body):
    account: str = Field(min_length=1, max_length=64)
    amount_pence: Pence | None = None
    amount: Amount | None = None
    currency: str = Field(default="GBP", min_length=3, max_length=3)
    fund: str | None = Field(default=None, max_length=64, description="Defaults to the fund in the path.")
    source: str | None = Field(default=None, max_length=64)
    tranche: str | None = Field(default=None, max_length=64)
    restriction: str | None = Field(default=None, max_length=64)
    project: str | None = Field(default=None, max_length=64)
    counterparty: str | None = Field(default=None, max_length=64)


class EntryIn(Body):
    effective_date: Day
    description: str = Field(min_length=1, max_length=500)
    idempotency_key: str = Field(min_length=1, max_length=200)
    postings: list[PostingIn] = Field(min_length=2, max_length=10_000)
    event_kind: str = Field(default="manual", min_length=1, max_length=64)
    corrects_id: int | None = Field(default=None, strict=True, ge=1)


class EntriesIn(Body):
    entries: list[EntryIn] = Field(min_length=1, max_length=1000)


class PostResultOut(BaseModel):
    entry_id: int
    idempotency_key: str
    status: Literal["posted", "already posted"]
    entry_hash: str


class EntryOut(BaseModel):
    id: int
    effective_date: Day
    description: str
    event_kind: str
    event_data: dict[str, Any]
    idempotency_key: str
    reverses_id: int | None
    corrects_id: int | None
    recorded_at: str
    recorded_by: str
    entry_hash: str
    postings: list[PostingOut]


class EntryPage(BaseModel):
    items: list[EntryOut]
    limit: int
    next_after: int | None = Field(description="Pass as `after` for the next page; null on the last page.")


class ReversalIn(Body):
    effective_date: Day
    reason: str = Field(min_length=1, max_length=400)


class BalanceRowOut(BaseModel):
    key: dict[str, str | None]
    debit_pence: int
    credit_pence: int
    balance_pence: int


class BalancesOut(BaseModel):
    as_of: Day
    by: list[str]
    rows: list[BalanceRowOut]


class TrialBalanceLineOut(BaseModel):
    account: str
    name: str
    type: str
    currency: str
    debit_pence: int
    credit_pence: int
    net_pence: int


class TrialBalanceOut(BaseModel):
    as_of: Day
    lines: list[TrialBalanceLineOut]
    net_pence: int = Field(description="Sum of the net column: always zero.")


class ReportOut(BaseModel):
    as_of: Day
    columns: list[str]
    rows: list[Row]


class ChainBreakOut(BaseModel):
    entry_id: int
    problem: str


class RecordBreakOut(BaseModel):
    record: str
    problem: str


class VerifyOut(BaseModel):
    ok: bool
    entries_checked: int
    first_break: ChainBreakOut | None
    #: the first broken record of each other kind: period closes, snapshots, the kept tip, ...
    breaks: list[RecordBreakOut] = []
    tip_checked: bool = False


class PeriodCloseIn(Body):
    period: str = Field(min_length=6, max_length=6, description="A quarter such as 2026Q3.", examples=["2026Q3"])


class PeriodCloseOut(BaseModel):
    period: str
    last_day: Day
    closed_at: str
    closed_by: str
    last_entry_id: int


# ---------------------------------------------------------------------------- payment by results


class ContractIn(Body):
    toml: str = Field(min_length=1, max_length=2_000_000, description="The contract file (docs/contract-format.md).")
    source_name: str = Field(default="api.toml", min_length=1, max_length=200)


class ContractSummaryOut(BaseModel):
    id: str
    name: str
    project: str
    provider: str
    fund: str | None
    currency: str
    loaded_by: str


class ContractLoadOut(BaseModel):
    contract: str
    status: str
    fund: str | None
    outcomes: int
    payers: list[str]
    rate_card_versions: list[str]
    mechanisms: list[str]


class ContractOut(BaseModel):
    id: str
    name: str
    project: str
    provider: str
    fund: str | None
    currency: str
    rounding: str
    start: Day
    end: Day
    participant_cap_pence: int | None
    contract_cap_pence: int | None
    payers: list[Row]
    exclusive_groups: list[list[str]]
    mechanisms: list[str]
    prices: list[Row]


class ImportReportOut(BaseModel):
    file: str
    contract: str
    rows: int
    added: int
    already_known: int
    status: str
    rejected_by_reason: dict[str, int]
    rejected: list[Row]


class ClaimRunIn(Body):
    period: str = Field(min_length=6, max_length=6, examples=["2026Q3"])


class ClaimRunOut(BaseModel):
    run_id: int
    contract: str
    period: str
    status: str
    lines: int
    gross_pence: int
    net_pence: int
    clawback_pence: int
    due_pence: int
    invoice_ref: str | None
    created: bool
    payers: list[Row] = []


class ClaimStatementOut(BaseModel):
    run: Row
    rate_card_versions: list[str]
    payers: list[Row]
    by_outcome: list[Row]
    lines: list[Row]
    contract_headroom: list[Row]
    transitions: list[Row]


class DisputeIn(Body):
    line_no: int = Field(strict=True, ge=1)
    reason: str = Field(min_length=1, max_length=500)


class DisputeOut(BaseModel):
    contract: str
    period: str
    line_no: int
    status: str


class ApprovalIn(Body):
    on: Day


class InvoiceIn(Body):
    ref: str = Field(min_length=1, max_length=100)


class PaymentIn(Body):
    on: Day
    payer: str | None = Field(default=None, max_length=64, description="Record one payer's payment only.")


class SampleIn(Body):
    size: int = Field(strict=True, ge=1, le=100_000)
    seed: str = Field(min_length=1, max_length=100)


class RecheckIn(Body):
    invalid_lines: list[Annotated[int, Field(strict=True, ge=1)]] = Field(max_length=100_000)
    method: Literal["extrapolate", "line"] = "extrapolate"


class SampleOut(Out):
    contract: str
    period: str
    seed: str
    sample_size: int
    sampled_lines: list[int]
    invalid_lines: list[int] | None
    method: str | None
    error_rate: str | None
    recovery_pence: int | None
    outstanding_pence: int | None


class MechanismIn(Body):
    period: str = Field(min_length=6, max_length=6, examples=["2026Q3"])
    index: int = Field(default=0, strict=True, ge=0, le=100)
    figures_toml: str = Field(min_length=1, max_length=2_000_000, description="The period's figures (docs/pbr.md).")


class MechanismOut(BaseModel):
    contract: str
    period: str
    kind: str
    payment_pence: int
    status: str
    result: Row


class PlanIn(Body):
    csv: str = Field(min_length=1, max_length=5_000_000, description="type, plan_version, made_on, quarter, amount.")
    as_of: Day | None = None


class PlanOut(BaseModel):
    contract: str
    rows: list[Row]


# ---------------------------------------------------------------------------- statements


class CapitalAccountOut(BaseModel):
    fund: str
    investor: str
    quarter: str
    currency: str
    capital_account: Row
    tranche_accounts: list[Row]
    commitments: Row
    performance: Row


class DistributionIn(Body):
    on: Day
    amount_pence: Pence | None = None
    amount: Amount | None = None
    key: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=500)


class DistributionOut(BaseModel):
    entry_id: int
    created: bool
    fund: str
    on: Day
    distributed_pence: int
    undistributed_pence: int
    lines: list[Row]


class FundTermsIn(Body):
    """A fund's statement terms file and the waterfall file it names, as text (docs/statements.md)."""

    terms_toml: str = Field(min_length=1, max_length=1_000_000, description="The terms file (TOML).")
    waterfall_toml: str = Field(min_length=1, max_length=1_000_000,
                                description="The waterfall file the terms name (docs/waterfall-format.md).")
    terms_name: str = Field(default="terms.toml", min_length=1, max_length=200)
    waterfall_name: str = Field(default="waterfall.toml", min_length=1, max_length=200)
    effective_from: Day | None = Field(default=None, description="First day this version applies (default: the "
                                        "fund's start for the first version, today for a later one).")


class FundTermsVersionOut(BaseModel):
    fund: str
    version: int
    effective_from: Day
    terms_name: str
    terms_sha256: str
    waterfall_name: str
    waterfall_sha256: str
    loaded_at: str
    loaded_by: str


class FundTermsLoadOut(FundTermsVersionOut):
    status: Literal["added", "unchanged"]


# ---------------------------------------------------------------------------- joint-prime partners


class PartnerOut(BaseModel):
    """A delivery partner's subcontract terms (docs/joint-prime.md) and its registered participants."""

    partner_id: str
    name: str
    kind: str = Field(description="share, fee or mixed.")
    share: str | None = Field(description="Share of what the prime received for its participants, decimal text.")
    fee_per_period_pence: int | None
    fee_per_participant_pence: int | None
    cap_pence: int | None
    cap_per_period_pence: int | None
    rounding: str | None
    participants: int


class PartnerPeriodOut(BaseModel):
    """One period passed through to the partner: what it earned, was paid and is owed."""

    period: str
    passed_through_on: Day
    share_pence: int
    fees_pence: int
    total_pence: int
    paid_pence: int | None = Field(description="None until the partner is paid for the period.")
    paid_on: Day | None
    outstanding_pence: int
