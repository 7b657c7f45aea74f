"""Distribution waterfall: terms as data, one pure run that conserves the cash to the penny.

DESIGN.md section 6. A fund's waterfall is a TOML file (format: ``docs/waterfall-format.md``)
validated into frozen :class:`WaterfallTerms`. :func:`run_waterfall` takes the terms, the cash
to distribute, the distribution date and the investors' history (:class:`WaterfallState`) and
returns every tier's payments per investor and recipient, each investor's amount split into
return of capital / income / gains, and any cash left undistributed (only possible when every
tier is capped and there is no excess tier).

Rules kept here:

* money is int pence; rates are Decimal; accruals are computed exactly (Decimal at 50 digits)
  and rounded once per investor per tier through :func:`ledger.money.round_minor`;
* within a tier the cash is split with :func:`ledger.money.allocate` (largest remainder), so a
  run distributes exactly the cash given; each share is capped by what is due because a
  largest-remainder share never exceeds an integer cap it is pro rata to;
* ``scope = "all"`` means every *repayable* tranche; a non-repayable tranche (a first-loss grant)
  is never repaid, paid income or gains by a tier: it only absorbs losses (:func:`allocate_loss`).

Tier kinds: :data:`TIER_KINDS`.
"""

from ledger.waterfall.clawback import Clawback, ClawbackShare, carry_recipient, compute_clawback
from ledger.waterfall.run import (
    Contribution,
    Distribution,
    Exit,
    LossAllocation,
    LossLine,
    PartyTotal,
    Position,
    RecipientHistory,
    TierLine,
    TierResult,
    TrancheCapital,
    WaterfallResult,
    WaterfallState,
    allocate_loss,
    run_waterfall,
)
from ledger.waterfall.terms import (
    ALL_TRANCHES,
    CATEGORY_OF_KIND,
    COMPOUNDING,
    DAY_COUNTS,
    DISTRIBUTION_KINDS,
    MODES,
    RESIDUES,
    TIER_KINDS,
    TIERS_MAX,
    TRANCHES_MAX,
    Accrual,
    CappedReturn,
    CarriedInterest,
    CatchUp,
    Excess,
    PreferredReturn,
    ReturnOfCapital,
    Tier,
    Tranche,
    WaterfallTerms,
    load_waterfall_toml,
    waterfall_from_mapping,
    year_fraction,
)
