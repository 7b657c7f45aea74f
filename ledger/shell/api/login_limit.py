"""Failed-login rate limit: per client address, at most N failed logins in a sliding window.

A client that has failed ``login_failures_max`` times within ``login_window_seconds`` gets
``429 Too Many Requests`` (problem type ``too-many-failed-logins``, a ``Retry-After`` header in
seconds) for every request until the oldest failure leaves the window, even with a valid
token: a guesser learns nothing while it is blocked. Memory is bounded: at most
``login_clients_max`` addresses are remembered (the least recently failing are forgotten
first) and at most ``login_failures_max`` timestamps per address.

The bearer-token check in :func:`ledger.shell.api.access.authorise` uses it. Any other login
(a web form, say) reuses the same three calls::

    from ledger.shell.api.login_limit import refuse_if_limited, note_failed_login, note_successful_login

    refuse_if_limited(request)          # first: raises ApiProblem(429) when blocked
    if not password_ok:
        note_failed_login(request)      # count the failure
        ...                             # answer 401 / re-show the form
    note_successful_login(request)      # optional: forget this address's failures

or as a FastAPI dependency: ``dependencies=[Depends(refuse_if_limited)]``. The limiter lives on
``app.state.login_limiter`` (made from the app's settings on first use), so every route of one
app shares it; tests get a fresh one per app.

The address is ``request.client.host``. Behind a reverse proxy every caller shares the proxy's
address; run uvicorn with ``--proxy-headers --forwarded-allow-ips=<proxy>`` so the real client
address is used.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from typing import Callable

from fastapi import Request

from ledger.shell.api.problems import ApiProblem


class FailedLoginLimiter:
    """Sliding-window counter of failed logins per client key; thread-safe; bounded memory."""

    def __init__(self, failures_max: int, window_seconds: float, clients_max: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if failures_max < 1 or window_seconds <= 0 or clients_max < 1:
            raise ValueError("failures_max, window_seconds and clients_max must be positive")
        self.failures_max = failures_max
        self.window_seconds = window_seconds
        self.clients_max = clients_max
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after_seconds(self, client: str) -> int | None:
        """Whole seconds until ``client`` may try again, or ``None`` if it is not blocked."""
        now = self._clock()
        with self._lock:
            times = self._failures.get(client)
            if times is None:
                return None
            while times and times[0] <= now - self.window_seconds:
                times.popleft()
            if not times:
                del self._failures[client]
                return None
            if len(times) < self.failures_max:
                return None
            return max(1, math.ceil(times[0] + self.window_seconds - now))

    def record_failure(self, client: str) -> None:
        now = self._clock()
        with self._lock:
            times = self._failures.pop(client, None)
            if times is None:
                times = deque(maxlen=self.failures_max)
            times.append(now)
            self._failures[client] = times  # most recently failing last
            while len(self._failures) > self.clients_max:
                self._failures.popitem(last=False)

    def reset(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)

    def __len__(self) -> int:
        return len(self._failures)


def client_key(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def login_limiter(request: Request) -> FailedLoginLimiter:
    """The app's limiter, made from its settings the first time it is needed."""
    state = request.app.state
    limiter = getattr(state, "login_limiter", None)
    if limiter is None:
        from ledger.shell.api.settings import Settings

        settings = getattr(state, "settings", None) or Settings()
        limiter = FailedLoginLimiter(settings.login_failures_max, settings.login_window_seconds,
                                     settings.login_clients_max)
        state.login_limiter = limiter
    return limiter


def refuse_if_limited(request: Request) -> None:
    """Raise a 429 problem (with ``Retry-After``) if this client failed too many logins lately."""
    limiter = login_limiter(request)
    wait = limiter.retry_after_seconds(client_key(request))
    if wait is not None:
        raise ApiProblem(429, "too-many-failed-logins",
                         f"too many failed logins from this address ({limiter.failures_max} within "
                         f"{limiter.window_seconds:g} s); try again in {wait} s",
                         headers={"Retry-After": str(wait)})


def note_failed_login(request: Request) -> None:
    login_limiter(request).record_failure(client_key(request))


def note_successful_login(request: Request) -> None:
    login_limiter(request).reset(client_key(request))
