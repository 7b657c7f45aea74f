"""Every table module, imported once so ``SQLModel.metadata`` holds the whole schema (alembic's
environment and the test that migrations and models agree both read it from here)."""

from models.tables import SQLModel
import models.fund_tables  # noqa: F401  (fund reference data, migration 0002)
import models.pbr_tables  # noqa: F401  (payment by results, migration 0003)
import models.api_tables  # noqa: F401  (web API tokens and idempotency, migration 0005)
import models.statements_tables  # noqa: F401  (distribution lines, migration 0006)
import models.partner_tables  # noqa: F401  (joint-prime pass-throughs, project pipeline, migration 0007)
import models.web_tables  # noqa: F401  (web pages' users and sessions, migration 0008)
import models.terms_tables  # noqa: F401  (fund statement terms, versioned, migration 0011)
import models.delivery_tables  # noqa: F401  (contacts, issued documents, deliveries, migration 0019)
import models.values_tables  # noqa: F401  (value tables of outcomes, migration 0023)
import models.bank_tables  # noqa: F401  (bank accounts, statements, lines, matches, migration 0027)
import models.evidence_tables  # noqa: F401  (the evidence chain, migration 0024)
import models.vcse_tables  # noqa: F401  (local VCSE capacity, migration 0030)


import models.calls_tables  # noqa: F401  (incubator calls, applications, awards, migration 0031)

metadata = SQLModel.metadata
