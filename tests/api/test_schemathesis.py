"""Schemathesis against the app's OpenAPI schema, in process (ASGI transport, no server):
random valid and invalid requests to every operation, with a fund manager's token, checking
that nothing answers 5xx and every response (status, media type, body) matches the schema.
Bounded: a few examples per operation, on one copy of the test world (SQLite)."""

from __future__ import annotations

import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 8
PATH_VALUES = {"fund_id": "fuel-lcr", "contract_id": "lcr-housing", "investor_id": "inv-a", "party_id": "inv-a",
               "period": "2026Q3", "quarter": "2026Q1", "entry_id": 2, "partner_id": "sefton-carers"}
#: Routes under a contract's partners need the joint-prime contract.
JOINT_PATH_VALUES = {**PATH_VALUES, "contract_id": "lcr-joint-prime"}


@pytest.fixture(scope="module")
def fuzz_app(world_file, tmp_path_factory):
    from ledger.shell.api.app import create_app
    from ledger.shell.api.settings import Settings
    from models.db import make_engine

    path, world = world_file
    target = tmp_path_factory.mktemp("fuzz") / "world.db"
    shutil.copyfile(path, target)
    engine = make_engine(f"sqlite:///{target}")
    app = create_app(engine, Settings())
    app.state.fuzz_token = world.tokens["fund_manager"]
    yield app
    engine.dispose()


@pytest.fixture(scope="module")
def api_schema(fuzz_app):
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


def _operations():
    from ledger.shell.api.access import RULES

    return sorted(RULES)


@pytest.mark.parametrize(("method", "path"), _operations(), ids=[f"{m} {p}" for m, p in _operations()])
def test_api_conforms_to_its_schema(method, path, api_schema, fuzz_app):
    from hypothesis import given

    operation = api_schema[path][method]
    token = fuzz_app.state.fuzz_token

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck),
              derandomize=True, database=None)
    def run(case) -> None:
        # Real objects in the path, so the generated queries and bodies reach the services.
        for name, value in (JOINT_PATH_VALUES if "/partners" in path else PATH_VALUES).items():
            if case.path_parameters and name in case.path_parameters:
                case.path_parameters[name] = value
        headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()
