"""Value tables in the database (models/values_store.py), on SQLite and PostgreSQL: stored once
per content, a changed table is a new version that readers then use, rows are immutable."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.shell.cli_values import read_value_file
from models.pbr_store import load_contract
from models.values_store import ValueSource, list_value_tables, store_value_table, value_table_for

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "fixtures" / "values" / "ageing_well.toml"
CONTRACT = ROOT / "fixtures" / "demo" / "contracts" / "ageing_well.toml"


@pytest.fixture
def loaded(engine):
    with engine.begin() as conn:
        load_contract(conn, CONTRACT.read_text(), CONTRACT.name)
        store_value_table(conn, read_value_file(TABLE), "tester")
    return engine


def test_same_table_twice_is_one_version_and_a_change_is_the_next(loaded):
    source = read_value_file(TABLE)
    with loaded.begin() as conn:
        assert store_value_table(conn, source)[::2] == (1, "unchanged")
        changed = ValueSource(source.table_text.replace('deadweight = "0.30"', 'deadweight = "0.40"', 1),
                              source.table_name, source.deflator_text, source.deflator_name)
        assert store_value_table(conn, changed)[::2] == (2, "added")
        version, table = value_table_for(conn, "lcr-ageing-well")
        assert version == 2 and str(table.versions[0].outcomes[0].deadweight) == "0.40"
        assert [r["version"] for r in list_value_tables(conn)] == [1, 2]


@pytest.mark.parametrize("statement", ["UPDATE value_tables SET table_text = 'x'", "DELETE FROM value_tables"])
def test_stored_tables_are_immutable(loaded, statement):
    with pytest.raises(DBAPIError):
        with loaded.begin() as conn:
            conn.execute(text(statement))
    with loaded.connect() as conn:
        assert len(list_value_tables(conn)) == 1
