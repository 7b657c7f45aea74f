"""Issue 16 item 16: X-Forwarded-For is believed only from configured proxies, so a header
cannot reset the failed-login limiter."""

from __future__ import annotations

import sys

import pytest


@pytest.mark.parametrize("env,expected", [(None, (False, "")), ("10.0.0.5", (True, "10.0.0.5"))])
def test_fuel_serve_trusts_forwarding_headers_only_from_configured_proxies(env, expected, sqlite_template, tmp_path,
                                                                            monkeypatch, capsys):
    import shutil

    import uvicorn

    from tests.integration.test_bad_input_corpus import run_cli

    db = tmp_path / "fuel.db"
    shutil.copyfile(sqlite_template, db)
    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: seen.update(kw))
    if env is None:
        monkeypatch.delenv("FUEL_API_TRUSTED_PROXIES", raising=False)
    else:
        monkeypatch.setenv("FUEL_API_TRUSTED_PROXIES", env)
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    code, stderr = run_cli(["--db", f"sqlite:///{db}", "serve"], monkeypatch, capsys)
    assert code == 0, stderr
    assert seen["log_level"] == "info"  # uvicorn's start line and each request (issue 18 item 10)
    assert (seen["proxy_headers"], seen["forwarded_allow_ips"]) == expected
