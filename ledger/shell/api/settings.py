"""The API's settings, in one place: read from the environment once, overridable in tests."""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    database_url: str | None = Field(default=None, description="FUEL_DATABASE_URL (default: sqlite:///fuel.db).")
    host: str = Field(default="127.0.0.1", description="FUEL_API_HOST: address `fuel serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="FUEL_API_PORT.")
    page_size_default: int = Field(default=100, ge=1, description="Entries per page when no limit is given.")
    page_size_max: int = Field(default=500, ge=1, description="Most entries one page may hold.")
    body_max_bytes: int = Field(default=20_000_000, ge=1, description="FUEL_API_BODY_MAX_BYTES: largest request body.")
    json_body_max_bytes: int = Field(default=1_000_000, ge=1, description="FUEL_API_JSON_BODY_MAX_BYTES: largest "
                                     "body of a route that is not a file import (refused with 413 before parsing).")
    trusted_proxies: str = Field(default="", description="FUEL_API_TRUSTED_PROXIES: comma-separated addresses of "
                                 "reverse proxies whose X-Forwarded-For is believed; empty (the default) trusts none, "
                                 "so the failed-login limiter sees the connecting address and cannot be reset by a header.")
    problem_base: str = Field(default="urn:fuel:problem:", description="Prefix of every problem `type`.")
    login_failures_max: int = Field(default=10, ge=1, description="FUEL_API_LOGIN_FAILURES_MAX: failed logins "
                                    "from one address within the window before it gets 429.")
    login_window_seconds: int = Field(default=300, ge=1, description="FUEL_API_LOGIN_WINDOW_SECONDS: the window.")
    login_clients_max: int = Field(default=10_000, ge=1, description="Addresses the failed-login limiter remembers.")

    @classmethod
    def from_env(cls) -> "Settings":
        env = os.environ
        values: dict[str, object] = {}
        if env.get("FUEL_DATABASE_URL"):
            values["database_url"] = env["FUEL_DATABASE_URL"]
        if env.get("FUEL_API_HOST"):
            values["host"] = env["FUEL_API_HOST"]
        if env.get("FUEL_API_PORT"):
            values["port"] = int(env["FUEL_API_PORT"])
        if env.get("FUEL_API_TRUSTED_PROXIES") is not None:
            values["trusted_proxies"] = env["FUEL_API_TRUSTED_PROXIES"].strip()
        if env.get("FUEL_API_BODY_MAX_BYTES"):
            values["body_max_bytes"] = int(env["FUEL_API_BODY_MAX_BYTES"])
        for name in ("login_failures_max", "login_window_seconds", "json_body_max_bytes"):
            if env.get(f"FUEL_API_{name.upper()}"):
                values[name] = int(env[f"FUEL_API_{name.upper()}"])
        return cls(**values)
