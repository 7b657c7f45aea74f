"""``Idempotency-Key`` on every POST: the first successful response is kept and replayed.

Semantics (the ledger's): the same key from the same principal with the same request (method,
path, query and body) returns the stored response, byte for byte, with
``Idempotency-Replayed: true``; the same key with a different request is a 409 problem. Only
successful (2xx) responses are stored, so a refused request can be fixed and retried with its
key. Keys are scoped to the principal (``role:scope``) and are 1 to 200 printable characters.

The wrapper runs before the handler: it authenticates on its own to find the principal (an
unauthenticated request falls through to the handler, which refuses it) so a revoked token
never gets a replay. For fund flow events and reversals the key is also passed to the ledger
as the entry's idempotency key, so two racing requests still post one entry.
"""

from __future__ import annotations

import hashlib
from typing import Callable

from fastapi import Request, Response
from fastapi.routing import APIRoute

from ledger.shell.api.problems import problem_response
from models.api_store import StoredResponse, find_response, store_response

HEADER = "Idempotency-Key"
KEY_MAX_CHARS = 200


def request_fingerprint(method: str, target: str, body: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(f"{method} {target}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def _target(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


class IdempotentRoute(APIRoute):
    """An APIRoute whose POST handler honours ``Idempotency-Key``."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()
        if "POST" not in self.methods:
            return handler

        async def idempotent_handler(request: Request) -> Response:
            key = request.headers.get(HEADER)
            if key is None:
                return await handler(request)
            if not key.strip() or len(key) > KEY_MAX_CHARS or not key.isprintable():
                return problem_response(422, "idempotency-key", f"{HEADER} must be 1 to {KEY_MAX_CHARS} printable "
                                        "characters", field=HEADER)
            from starlette.concurrency import run_in_threadpool

            from ledger.shell.api.access import principal_of
            from models.db import reading

            engine = request.app.state.engine

            def lookup():
                """The caller and its stored response for this key, in one trip to the database."""
                with reading(engine) as conn:
                    principal = principal_of(request, engine, conn)
                    return principal, None if principal is None else find_response(conn, principal.key, key)

            principal, stored = await run_in_threadpool(lookup)
            if principal is None:
                return await handler(request)  # refused there with 401
            body = await request.body()
            target = _target(request)
            fingerprint = request_fingerprint(request.method, target, body)
            if stored is None:
                response = await handler(request)
                if not 200 <= response.status_code < 300 or not hasattr(response, "body"):
                    return response
                fresh = StoredResponse(f"{request.method} {target}", fingerprint, response.status_code,
                                       response.media_type or "application/json", bytes(response.body))

                def save() -> StoredResponse:
                    with engine.begin() as conn:
                        if conn.dialect.name == "postgresql":
                            # No wait for the disk: this copy of the response is a convenience.
                            # The ledger entry was committed durably; if a crash loses this row,
                            # a retry runs again and the ledger's own key answers "already posted".
                            conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                        return store_response(conn, principal.key, key, fresh)

                kept = await run_in_threadpool(save)
                if kept.request_sha256 == fingerprint and kept.body == fresh.body:
                    return response
                stored = kept  # a concurrent request with the same key stored its response first
            if stored.request_sha256 != fingerprint:
                return problem_response(409, "idempotency-conflict",
                                        f"{HEADER} {key!r} was already used for a different request "
                                        f"({stored.request_target}); use a new key for a new request", field=HEADER)
            return Response(stored.body, status_code=stored.status_code, media_type=stored.media_type,
                            headers={"Idempotency-Replayed": "true"})

        return idempotent_handler
