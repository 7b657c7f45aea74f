"""RFC 9457 problem details: the one place errors become HTTP responses.

Every error response is ``application/problem+json`` with ``type`` (``urn:fuel:problem:<code>``,
an identifier, not a web page), ``title``, ``status``, ``detail``, ``field`` (the input at
fault, when one is) and ``errors`` (every problem, for validation errors and rejected
imports). Domain errors keep their ``FuelError.code``; the status comes from :data:`STATUS_BY_ERROR`.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.errors import (
    AlreadyReversed,
    ClosedPeriodError,
    FuelError,
    IdempotencyConflict,
    ImportRejected,
    MoneyError,
    NotFound,
    ValidationError,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("fuel.api")

#: Domain error -> HTTP status. The most specific class in an error's MRO wins.
STATUS_BY_ERROR: dict[type[FuelError], int] = {
    ValidationError: 422,
    MoneyError: 422,
    ImportRejected: 422,
    NotFound: 404,
    IdempotencyConflict: 409,
    AlreadyReversed: 409,
    ClosedPeriodError: 409,
    FuelError: 400,
}


class ProblemItem(BaseModel):
    field: str | None = Field(default=None, description="The input at fault, e.g. `body.amount_pence`.")
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    type: str = Field(description="urn:fuel:problem:<code>; see docs/api.md for the codes.")
    title: str
    status: int
    detail: str
    field: str | None = Field(default=None, description="The input at fault, when there is one.")
    errors: list[ProblemItem] | None = Field(default=None, description="Every problem, for validation and imports.")


class ApiProblem(Exception):
    """A refusal made by the API itself (authentication, role, body size)."""

    def __init__(self, status: int, code: str, detail: str, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.field, self.headers = status, code, detail, field, headers


def status_of(error: FuelError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def problem_response(status: int, code: str, detail: str, field: str | None = None,
                     errors: list[dict] | None = None, headers: dict[str, str] | None = None,
                     base: str = "urn:fuel:problem:") -> JSONResponse:
    body: dict[str, Any] = {"type": base + code, "title": HTTPStatus(status).phrase, "status": status,
                            "detail": detail, "field": field}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _field_path(loc: tuple) -> str:
    return ".".join(str(part) for part in loc)


def _validation_items(exc: RequestValidationError) -> list[dict]:
    items = []
    for error in exc.errors():
        loc = tuple(error.get("loc", ()))
        name = str(loc[-1]) if loc else "body"
        value = error.get("input")
        if error.get("type") in ("int_type", "int_from_float") and isinstance(value, float):
            what = "pence" if name.endswith("_pence") else "units"
            message = f"{name} must be an integer number of {what}, not a float"
        elif error.get("type") == "json_invalid":
            message = f"the body is not valid JSON: {error.get('ctx', {}).get('error', error.get('msg'))}"
        else:
            message = f"{name}: {error.get('msg', 'invalid')}"
        items.append({"field": _field_path(loc), "message": message})
    return items


def install(app: FastAPI) -> None:
    """Register the handlers: domain errors, API refusals, request validation, HTTP errors, bugs."""

    def base(request: Request) -> str:
        settings = getattr(request.app.state, "settings", None)
        return settings.problem_base if settings is not None else "urn:fuel:problem:"

    @app.exception_handler(FuelError)
    async def fuel_error(request: Request, exc: FuelError) -> JSONResponse:
        errors = None
        if isinstance(exc, ImportRejected):
            errors = [{"field": None, "message": p} for p in exc.problems]
        return problem_response(status_of(exc), exc.code, exc.message, exc.field, errors, base=base(request))

    @app.exception_handler(ApiProblem)
    async def api_problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(exc.status, exc.code, exc.detail, exc.field, headers=exc.headers, base=base(request))

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        items = _validation_items(exc)
        first = items[0] if items else {"field": None, "message": "the request is not valid"}
        return problem_response(422, "request-validation", first["message"], first["field"], items, base=base(request))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such resource: {request.url.path}"
        return problem_response(exc.status_code, code, detail, headers=getattr(exc, "headers", None), base=base(request))

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, "internal-error", "Fuel hit an internal error; it has been logged",
                                base=base(request))
