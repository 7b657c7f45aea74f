"""The API rate-limits failed logins per client address: after N failed bearer tokens within the
window, 429 with a problem detail and Retry-After, even for a valid token; memory is bounded."""

from __future__ import annotations

import pytest

from ledger.shell.api.login_limit import FailedLoginLimiter
from tests.api.world import auth


def _client(engine, **settings):
    from fastapi.testclient import TestClient

    from ledger.shell.api.app import create_app
    from ledger.shell.api.settings import Settings

    return TestClient(create_app(engine, Settings(**settings)), raise_server_exceptions=False)


def test_failed_logins_are_rate_limited_per_address(fresh):
    api = fresh()
    client = _client(api.engine, login_failures_max=3, login_window_seconds=120)
    good = api.world.tokens["auditor"]
    assert client.get("/me", headers=auth(good)).status_code == 200
    for attempt in range(3):
        assert client.get("/me", headers=auth(f"guess-{attempt}")).status_code == 401
    blocked = client.get("/me", headers=auth("guess-4"))
    assert blocked.status_code == 429
    assert blocked.headers["content-type"].startswith("application/problem+json")
    body = blocked.json()
    assert body["type"] == "urn:fuel:problem:too-many-failed-logins"
    assert "too many failed logins from this address (3 within 120 s)" in body["detail"]
    assert 1 <= int(blocked.headers["Retry-After"]) <= 120
    # a valid token from the blocked address is refused too: a guesser learns nothing
    assert client.get("/me", headers=auth(good)).status_code == 429
    # requests without any token are not login attempts and do not add to the count
    other = _client(api.engine, login_failures_max=2, login_window_seconds=120)
    for _ in range(5):
        assert other.get("/me").status_code == 401
    assert other.get("/me", headers=auth(good)).status_code == 200


def test_the_window_slides_and_memory_is_bounded():
    now = [1000.0]
    limiter = FailedLoginLimiter(failures_max=2, window_seconds=60, clients_max=100, clock=lambda: now[0])
    limiter.record_failure("a")
    now[0] += 30
    limiter.record_failure("a")
    assert limiter.retry_after_seconds("a") == 30
    now[0] += 30  # the first failure leaves the window
    assert limiter.retry_after_seconds("a") is None
    for i in range(10_000):
        limiter.record_failure(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter) == 100  # least recently failing addresses forgotten first
    assert limiter.retry_after_seconds("10.0.39.15") is None  # 9999th: remembered with one failure
    limiter.reset("a")
    with pytest.raises(ValueError):
        FailedLoginLimiter(0, 60, 10)


def test_settings_come_from_the_environment(monkeypatch):
    from ledger.shell.api.settings import Settings

    monkeypatch.setenv("FUEL_API_LOGIN_FAILURES_MAX", "7")
    monkeypatch.setenv("FUEL_API_LOGIN_WINDOW_SECONDS", "90")
    settings = Settings.from_env()
    assert (settings.login_failures_max, settings.login_window_seconds) == (7, 90)
