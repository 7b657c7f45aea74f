"""A delivery partner's token and web user through the ``fuel`` command (a subprocess per
call): `fuel tokens create --role partner --contract C --partner P` and `fuel users create
--role partner --scope C/P`, with every wrong scope refused by name and without a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fuel(fuel):
    fuel("contracts", "load", str(REPO / "fixtures" / "contracts" / "joint_prime_example.toml"))
    return fuel


def test_partner_tokens_and_users(fuel):
    made = json.loads(fuel("tokens", "create", "--role", "partner", "--contract", "lcr-joint-prime", "--partner",
                           "sefton-carers", "--name", "Sefton finance", "--json").stdout)
    assert (made["role"], made["scope"]) == ("partner", "lcr-joint-prime/sefton-carers")
    assert made["token"].startswith("fuel_")
    refused = {
        ("--contract", "lcr-joint-prime"): "a partner token takes --contract and --partner",
        ("--contract", "lcr-joint-prime", "--partner", "nobody"): "has no partner 'nobody' (partners: bridge-housing",
        ("--contract", "nowhere", "--partner", "sefton-carers"): "unknown contract 'nowhere'",
        ("--fund", "lcr-outcomes"): "a partner token takes --contract and --partner, not --fund",
    }
    for args, message in refused.items():
        result = fuel("tokens", "create", "--role", "partner", "--name", "x", *args, ok=False)
        assert result.returncode == 1 and message in result.stderr, result.stderr
    fm = fuel("tokens", "create", "--role", "fund_manager", "--fund", "f", "--partner", "p", "--name", "x", ok=False)
    assert fm.returncode == 1 and "a fund_manager token takes --fund, not --partner" in fm.stderr

    user = fuel("users", "create", "sefton", "--role", "partner", "--scope", "lcr-joint-prime/sefton-carers",
                "--password-stdin", "--json", stdin="correct horse battery\n")
    assert json.loads(user.stdout)["scope"] == "lcr-joint-prime/sefton-carers"
    bad = fuel("users", "create", "bridge", "--role", "partner", "--scope", "bridge-housing", "--password-stdin",
               ok=False, stdin="correct horse battery\n")
    assert bad.returncode == 1 and "a partner scope is <contract id>/<partner id>" in bad.stderr
