"""The request guard: an ASGI middleware that refuses what must never reach a route (issue 16
items 13, 14, 16), before FastAPI parses anything.

* A body larger than its route's limit is refused with 413 as soon as its ``Content-Length``
  (or, when streamed, its running size) passes the limit, so a 200 MB body costs at most the
  limit in memory. File imports (``/imports/``, outcome and participant files) may be as large
  as ``body_max_bytes``; every other JSON body as large as ``json_body_max_bytes``.
* An API request without an ``Authorization`` header is answered 401 before its body is read
  (the token itself is checked by the route's dependency as before); the pages under ``/ui``
  carry their session in a cookie and check it themselves.
* A NUL byte in the path, the query or the body is refused with 422: PostgreSQL cannot store
  it in text, and no name, reference or description needs it.
* A JSON body with a repeated key (``{"amount_pence": 1, "amount_pence": 9}``: which one did
  the sender mean?) is refused with 422, and so are two ``Idempotency-Key`` headers.
"""

from __future__ import annotations

import json
from typing import Any

from ledger.shell.api.problems import problem_response

PUBLIC_PREFIXES = ("/health", "/ui", "/docs", "/docs-assets", "/openapi.json", "/redoc")
FILE_ROUTE_MARKERS = ("/imports/", "/outcomes", "/participants", "/contracts")


def _refuse_repeated_keys(pairs: list[tuple[str, Any]]) -> dict:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"the key {key!r} appears twice in one JSON object; send it once")
        seen[key] = value
    return seen


def body_problem(body: bytes, content_type: str) -> tuple[str, str] | None:
    """``(code, detail)`` if the body must be refused, else None."""
    if b"\x00" in body:
        return "nul-byte", "the request body contains a NUL byte (\\0); remove it"
    if "json" in content_type and body.strip():
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return None  # the route's own parser names the encoding problem
        if "\\u0000" in text:
            return "nul-byte", "the request body contains a NUL character (\\u0000); remove it"
        try:
            json.loads(text, object_pairs_hook=_refuse_repeated_keys)
        except ValueError as exc:
            if "appears twice" in str(exc):
                return "repeated-key", str(exc)
    return None


class RequestGuard:
    def __init__(self, app, settings) -> None:
        self.app = app
        self.settings = settings

    def limit_for(self, path: str) -> int:
        if any(marker in path for marker in FILE_ROUTE_MARKERS):
            return self.settings.body_max_bytes
        return self.settings.json_body_max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        headers = [(k.decode("latin-1").lower(), v) for k, v in scope.get("headers", [])]
        refusal = self.refusal_before_body(scope, path, headers)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        if scope.get("method") in ("GET", "HEAD", "DELETE", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(path)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self.too_large(limit)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        content_type = dict(headers).get("content-type", b"").decode("latin-1").lower()
        found = body_problem(body, content_type)
        if found is not None:
            await self.problem(422, *found)(scope, receive, send)
            return
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def refusal_before_body(self, scope, path: str, headers: list[tuple[str, bytes]]):
        raw = (scope.get("raw_path") or b"") + b"?" + (scope.get("query_string") or b"")
        if "\x00" in path or b"%00" in raw or b"\x00" in raw:
            return self.problem(422, "nul-byte", "the request path or query contains a NUL byte (%00); remove it")
        if sum(1 for name, _ in headers if name == "idempotency-key") > 1:
            return self.problem(422, "repeated-header", "two Idempotency-Key headers: send exactly one",
                                field="Idempotency-Key")
        length = dict(headers).get("content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                return self.problem(400, "bad-request", "Content-Length is not a number")
            if declared > self.limit_for(path):
                return self.too_large(self.limit_for(path))
        public = path == "/" or path.startswith(PUBLIC_PREFIXES)
        if not public and scope.get("method") not in ("GET", "HEAD", "OPTIONS") and \
                not any(name == "authorization" for name, _ in headers):
            return self.problem(401, "unauthenticated", "send a valid bearer token: Authorization: Bearer <token>",
                                headers={"WWW-Authenticate": "Bearer"})
        return None

    def too_large(self, limit: int):
        return self.problem(413, "body-too-large", f"the request body is larger than this route's limit of "
                                                   f"{limit:,} bytes")

    def problem(self, status: int, code: str, detail: str, field: str | None = None,
                headers: dict[str, str] | None = None):
        return problem_response(status, code, detail, field=field, headers=headers, base=self.settings.problem_base)
