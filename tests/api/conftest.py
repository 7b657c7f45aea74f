"""API fixtures: a world database (tests/api/world.py) and TestClients on it.

``world_file`` builds the world once per session on SQLite; ``fresh`` copies it for a test
that writes. ``api`` builds the world on the ``engine`` fixture, so on SQLite and PostgreSQL.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import pytest


@dataclass
class Api:
    client: object
    world: object
    engine: object


def _client(engine):
    from fastapi.testclient import TestClient

    from ledger.shell.api.app import create_app
    from ledger.shell.api.settings import Settings

    return TestClient(create_app(engine, Settings()), raise_server_exceptions=False)


@pytest.fixture(scope="session")
def world_file(sqlite_template, tmp_path_factory):
    from models.db import make_engine
    from tests.api.world import build

    path = tmp_path_factory.mktemp("world") / "world.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    world = build(engine)
    engine.dispose()
    return path, world


@pytest.fixture
def fresh(world_file, tmp_path):
    """A function making a private copy of the world (for a test that writes)."""
    from models.db import make_engine

    engines = []

    def make(name: str = "copy") -> Api:
        path, world = world_file
        target = tmp_path / f"{name}-{len(engines)}.db"
        shutil.copyfile(path, target)
        engine = make_engine(f"sqlite:///{target}")
        engines.append(engine)
        return Api(_client(engine), world, engine)

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture(scope="module")
def shared(world_file, tmp_path_factory):
    """One copy of the world for a module's read-only or refused requests."""
    from models.db import make_engine

    path, world = world_file
    target = tmp_path_factory.mktemp("shared") / "world.db"
    shutil.copyfile(path, target)
    engine = make_engine(f"sqlite:///{target}")
    yield Api(_client(engine), world, engine)
    engine.dispose()


@pytest.fixture
def api(engine):
    """The world on each backend (SQLite and PostgreSQL)."""
    from tests.api.world import build

    world = build(engine)
    return Api(_client(engine), world, engine)
