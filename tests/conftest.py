"""Shared fixtures: databases on both backends, with the default chart loaded.

PostgreSQL tests need ``FUEL_TEST_POSTGRES_URL`` (a server where the user may create
databases, e.g. ``postgresql:///postgres``). Without it they are skipped, unless
``FUEL_REQUIRE_POSTGRES=1`` (set by CI), in which case they fail: CI must never pass by
skipping them.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO_ROOT / "fixtures"
DEFAULT_CHART = FIXTURES / "charts" / "social_investment_fund.toml"

# Fuel's receipt clock (models.pbr_store.received_now): the test data's outcome files are dated
# up to 2027, so the suite runs as if they arrived at the end of 2027.
os.environ.setdefault("FUEL_TODAY", "2027-12-31")

settings.register_profile(
    "default", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.register_profile(
    "thorough", deadline=None, max_examples=500, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def postgres_admin_url() -> str:
    url = os.environ.get("FUEL_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("FUEL_REQUIRE_POSTGRES") == "1":
            pytest.fail("FUEL_REQUIRE_POSTGRES=1 but FUEL_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL not configured (set FUEL_TEST_POSTGRES_URL)")
    return url


def _with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    from models.db import database_url

    return make_url(database_url(url)).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_template():
    """A migrated, chart-loaded PostgreSQL database that each test copies (fast)."""
    from sqlalchemy import text

    from ledger.accounts import load_chart_toml
    from models.db import make_engine, migrate
    from models.ledger_store import load_chart

    admin_url = postgres_admin_url()
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    name = f"fuel_tpl_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(_with_database(admin_url, name))
    migrate(engine)
    with engine.begin() as conn:
        load_chart(conn, load_chart_toml(DEFAULT_CHART.read_text(), "chart"))
    engine.dispose()
    yield admin, admin_url, name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    from ledger.accounts import load_chart_toml
    from models.db import make_engine, migrate
    from models.ledger_store import load_chart

    path = tmp_path_factory.mktemp("tpl") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with engine.begin() as conn:
        load_chart(conn, load_chart_toml(DEFAULT_CHART.read_text(), "chart"))
    engine.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


def _fresh_database_url(backend: str, request, tmp_path) -> str:
    from sqlalchemy import text

    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "fuel.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    admin, admin_url, template = request.getfixturevalue("postgres_template")
    name = f"fuel_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    request.addfinalizer(drop)
    return _with_database(admin_url, name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request) -> str:
    return request.param


@pytest.fixture
def db_url(backend, request, tmp_path) -> str:
    """URL of a fresh, migrated database with the default chart, on each backend."""
    return _fresh_database_url(backend, request, tmp_path)


@pytest.fixture
def engine(db_url):
    from models.db import make_engine

    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(request, tmp_path):
    """SQLite only: for tests (e.g. property tests) that run many examples fast."""
    from models.db import make_engine

    eng = make_engine(_fresh_database_url("sqlite", request, tmp_path))
    yield eng
    eng.dispose()
