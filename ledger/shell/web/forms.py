"""Form bodies without extra dependencies: ``application/x-www-form-urlencoded`` and
``multipart/form-data`` (for the CSV upload), parsed once per request and cached.

Field values are text; an uploaded file's content is decoded as UTF-8 (a byte-order mark is
kept for the import to strip). Bodies are limited by the settings' ``body_max_bytes``.
"""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qsl

from fastapi import Request

from ledger.errors import ValidationError

FIELD_MAX_CHARS = 10_000
#: fields kept whole (a pasted CSV); the body limit still applies
LONG_FIELDS = frozenset({"csv_text"})


async def read_form(request: Request) -> dict[str, str]:
    cached = getattr(request.state, "form", None)
    if cached is not None:
        return cached
    limit = request.app.state.settings.body_max_bytes
    body = await request.body()
    if len(body) > limit:
        raise ValidationError(f"the form is larger than {limit:,} bytes", field="file")
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = _multipart(content_type, body)
    else:
        form = {}
        for key, value in parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True):
            form.setdefault(key, value if key in LONG_FIELDS else value[:FIELD_MAX_CHARS])
    request.state.form = form
    return form


def _multipart(content_type: str, body: bytes) -> dict[str, str]:
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    form: dict[str, str] = {}
    if not message.is_multipart():
        return form
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name or name in form:
            continue
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        text = payload.decode("utf-8", errors="replace")
        if filename is not None:
            form[name + "_filename"] = filename[:200]
        form[name] = text if filename is not None or name in LONG_FIELDS else text[:FIELD_MAX_CHARS]
    return form
