"""Database settings, engines and migrations, for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect

DEFAULT_URL = "sqlite:///fuel.db"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def database_url(url: str | None = None) -> str:
    """The URL to use: an explicit one, else ``FUEL_DATABASE_URL``, else ``fuel.db`` here."""
    url = url or os.environ.get("FUEL_DATABASE_URL") or DEFAULT_URL
    # Accept the common spellings of a PostgreSQL URL and use psycopg 3 for them.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str | None = None) -> Engine:
    url = database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    # A web API worker runs up to 40 request threads; with the default pool of 5, connections
    # beyond it were opened and closed per request (a new PostgreSQL backend each time).
    return create_engine(url, pool_pre_ping=True, pool_size=20, max_overflow=20)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # pragma: no cover - exercised by every test
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite otherwise defers it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # pragma: no cover - exercised by every test
        # IMMEDIATE takes the write lock at the start, so two writers queue instead of one
        # failing half-way; it is also what serialises hash-chain appends on SQLite. Readers
        # opened with reading() take no lock (WAL lets them run beside a writer).
        if connection.get_execution_options().get("fuel_read_only"):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def reading(engine: Engine):
    """A connection for reads only: on SQLite it does not take the write lock."""
    return engine.connect().execution_options(fuel_read_only=True)


def alembic_config(engine: Engine, connection=None):
    from alembic.config import Config  # imported here: most commands never migrate

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration."""
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(alembic_config(engine, connection), "head")


def is_initialised(engine: Engine) -> bool:
    return inspect(engine).has_table("journal_entries")
