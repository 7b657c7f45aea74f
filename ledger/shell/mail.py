"""Delivery channels: SMTP (host, port, TLS and credentials from the environment, never the
database) and a file outbox that writes each message as an ``.eml`` file (no network; what
``make demo`` uses). Sending is rate limited; a temporary failure (an SMTP 4xx reply, a refused
or dropped connection) is retried with exponential back-off; a permanent one (5xx: a bounce, a
refused address) is not retried and is shown to the fund manager.
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Callable

from ledger.errors import ValidationError


@dataclass(frozen=True)
class MailSettings:
    """``FUEL_SMTP_HOST``, ``FUEL_SMTP_PORT``, ``FUEL_SMTP_TLS`` (none, starttls, ssl),
    ``FUEL_SMTP_USER``, ``FUEL_SMTP_PASSWORD``, ``FUEL_MAIL_FROM``, ``FUEL_MAIL_RATE_PER_SECOND``,
    ``FUEL_MAIL_RETRIES``, ``FUEL_MAIL_BACKOFF_SECONDS``, ``FUEL_PUBLIC_URL`` (for sign-in links),
    ``FUEL_MAIL_OUTBOX`` (the pages and the API write .eml files there instead)."""

    host: str = "localhost"
    port: int = 25
    tls: str = "none"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "Fuel <statements@fuel.local>"
    rate_per_second: float = 5.0
    retries: int = 3
    backoff_seconds: float = 2.0
    timeout_seconds: float = 30.0
    public_url: str = "http://127.0.0.1:8000"
    #: FUEL_MAIL_OUTBOX: when set, the pages and the API deliver to this folder instead of SMTP
    outbox: str | None = None

    @classmethod
    def from_env(cls, env: dict | None = None) -> "MailSettings":
        env = os.environ if env is None else env
        values: dict = {}
        names = {"host": "FUEL_SMTP_HOST", "tls": "FUEL_SMTP_TLS", "user": "FUEL_SMTP_USER",
                 "password": "FUEL_SMTP_PASSWORD", "sender": "FUEL_MAIL_FROM", "public_url": "FUEL_PUBLIC_URL",
                 "outbox": "FUEL_MAIL_OUTBOX"}
        for name, var in names.items():
            if env.get(var):
                values[name] = env[var]
        numbers = {"port": ("FUEL_SMTP_PORT", int), "rate_per_second": ("FUEL_MAIL_RATE_PER_SECOND", float),
                   "retries": ("FUEL_MAIL_RETRIES", int), "backoff_seconds": ("FUEL_MAIL_BACKOFF_SECONDS", float)}
        for name, (var, kind) in numbers.items():
            if env.get(var):
                try:
                    values[name] = kind(env[var])
                except ValueError:
                    raise ValidationError(f"${var}: {env[var]!r} is not a number", field=var) from None
        settings = cls(**values)
        if settings.tls not in ("none", "starttls", "ssl"):
            raise ValidationError(f"$FUEL_SMTP_TLS: {settings.tls!r}: choose none, starttls or ssl", field="FUEL_SMTP_TLS")
        if settings.rate_per_second <= 0 or settings.retries < 0 or settings.backoff_seconds < 0:
            raise ValidationError("$FUEL_MAIL_RATE_PER_SECOND must be positive, retries and back-off not negative")
        return settings


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to: sent, deferred (temporary: try again) or failed (permanent)."""

    status: str
    detail: str
    smtp_code: int | None = None


def classify(code: int | None, detail: str) -> Outcome:
    """SMTP reply codes: 2xx sent, 4xx temporary (deferred), 5xx permanent (failed); no code
    (connection refused, dropped, timed out) is temporary."""
    if code is None or 400 <= code < 500:
        return Outcome("deferred", detail, code)
    if 200 <= code < 300:
        return Outcome("sent", detail, code)
    return Outcome("failed", detail, code)


def backoff_delays(retries: int, base_seconds: float) -> list[float]:
    """Seconds to wait before each retry: base, 2 x base, 4 x base, ..."""
    return [base_seconds * 2 ** n for n in range(retries)]


class RateLimiter:
    """At most ``rate_per_second`` sends a second: each waits until 1/rate after the last."""

    def __init__(self, rate_per_second: float, clock=time.monotonic, sleep=time.sleep) -> None:
        self.interval, self.clock, self.sleep, self.last = 1.0 / rate_per_second, clock, sleep, None

    def wait(self) -> None:
        if self.last is not None:
            remaining = self.last + self.interval - self.clock()
            if remaining > 0:
                self.sleep(remaining)
        self.last = self.clock()


class SmtpChannel:
    name = "smtp"

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings

    def send(self, message: EmailMessage, label: tuple[str, str]) -> Outcome:
        s = self.settings
        try:
            if s.tls == "ssl":
                client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds, context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
            with client:
                if s.tls == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if s.user:
                    client.login(s.user, s.password or "")
                refused = client.send_message(message)
            if refused:  # only some of several recipients: Fuel sends one per message, so not expected
                code, text = next(iter(refused.values()))
                return classify(code, _text(text))
            return Outcome("sent", f"accepted by {s.host}:{s.port}", 250)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return classify(code, f"recipient refused: {code} {_text(text)}")
        except smtplib.SMTPResponseException as exc:
            return classify(exc.smtp_code, f"{exc.smtp_code} {_text(exc.smtp_error)}")
        except (smtplib.SMTPException, OSError) as exc:
            return classify(None, f"server unreachable: {type(exc).__name__}: {exc}")


class OutboxChannel:
    """Writes each message as ``OUTBOX/<party>/<document file>__<contact>.eml`` (the label) (opens in any
    mail program), never touching the network."""

    name = "outbox"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage, label: tuple[str, str]) -> Outcome:
        party, stem = (_safe(part) for part in label)
        path = self.folder / party / f"{stem}.eml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes(message))
        return Outcome("sent", f"written to {path}")


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text)[:150]


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def send_with_retries(channel, message: EmailMessage, label: tuple[str, str], settings: MailSettings, *,
                      on_attempt: Callable[[int, Outcome], None], sleep=time.sleep) -> Outcome:
    """Send; on a temporary failure wait and retry, up to ``settings.retries`` times. Every
    attempt's outcome is reported to ``on_attempt`` (which records it) before the next."""
    delays = backoff_delays(settings.retries, settings.backoff_seconds)
    attempt = 0
    while True:
        attempt += 1
        outcome = channel.send(message, label)
        on_attempt(attempt, outcome)
        if outcome.status != "deferred" or attempt > len(delays):
            return outcome
        sleep(delays[attempt - 1])
