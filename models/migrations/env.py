"""Alembic environment: run with the connection Fuel hands over (see models.db.migrate)."""

from alembic import context

from models.tables import SQLModel  # noqa: F401  (registers the tables)
import models.tables  # noqa: F401
import models.fund_tables  # noqa: F401  (fund reference data, migration 0002)
import models.pbr_tables  # noqa: F401  (payment by results, migration 0003)
import models.api_tables  # noqa: F401  (web API tokens and idempotency, migration 0005)
import models.partner_tables  # noqa: F401  (joint-prime pass-throughs, project pipeline, migration 0007)
import models.web_tables  # noqa: F401  (web pages' users and sessions, migration 0008)

target_metadata = SQLModel.metadata
connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only for `alembic` run by hand
    from models.db import make_engine

    with make_engine().connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
