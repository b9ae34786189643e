"""Every error the API answers with, as ``application/problem+json`` (RFC 9457).

Domain errors are mapped here and nowhere else: routes raise nothing HTTP-specific for
business rules. Each problem has a stable ``type`` (a URN naming the rule), a ``title``, a
``detail`` and an ``errors`` list naming each bad field::

    {"type": "urn:crmledger:problem:unbalanced-entry", "title": "Entry does not balance",
     "status": 422, "detail": "entry #1: ...", "errors": [{"field": "postings", ...}]}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match

from crmledger.core.access import AuthenticationError, PermissionDeniedError
from crmledger.core.errors import (
    EntryNotFoundError,
    EntryStateError,
    LedgerError,
    PeriodLockedError,
    TransitionError,
    UnbalancedEntryError,
)
from crmledger.services.errors import (
    ConflictError,
    EntriesRejectedError,
    LoginThrottledError,
    NotFoundError,
    VersionConflictError,
)

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True, slots=True)
class Kind:
    """How one class of error is answered."""

    status: int
    slug: str
    title: str


# Most specific first: the first class an error is an instance of decides.
KINDS: list[tuple[type[Exception], Kind]] = [
    (AuthenticationError, Kind(401, "unauthenticated", "Authentication required")),
    (PermissionDeniedError, Kind(403, "forbidden", "Not allowed for your role")),
    (LoginThrottledError, Kind(429, "too-many-attempts", "Too many failed logins")),
    (VersionConflictError, Kind(412, "stale-version", "The resource has changed")),
    (EntryNotFoundError, Kind(404, "not-found", "Not found")),
    (NotFoundError, Kind(404, "not-found", "Not found")),
    (ConflictError, Kind(409, "conflict", "Conflicts with the current state")),
    (EntryStateError, Kind(409, "entry-state", "Not possible in the entry's state")),
    (TransitionError, Kind(409, "invalid-transition", "Not possible in the current state")),
    (PeriodLockedError, Kind(422, "period-locked", "The period is locked")),
    (UnbalancedEntryError, Kind(422, "unbalanced-entry", "Entry does not balance")),
    (EntriesRejectedError, Kind(422, "entry-rejected", "Entry refused")),
    (LedgerError, Kind(422, "rule-violation", "The request breaks a rule of the book")),
]

#: Every problem type the API can answer with, for the OpenAPI description.
PROBLEM_TYPES = sorted({kind.slug for _, kind in KINDS} | {"invalid-request", "http"})


def problem_type(slug: str) -> str:
    """The stable ``type`` URI of a problem."""
    return f"urn:crmledger:problem:{slug}"


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A problem response."""
    body: dict[str, Any] = {
        "type": problem_type(slug),
        "title": title,
        "status": status,
        "detail": detail,
        "errors": errors or [],
    }
    return Response(orjson.dumps(body), status, headers=headers, media_type=PROBLEM_JSON)


def _field_errors(error: LedgerError) -> list[dict[str, Any]]:
    if isinstance(error, EntriesRejectedError):
        if [r.index for r in error.rejections] == [0]:  # the one entry of a request
            return _field_errors(error.rejections[0].error)
        return [
            {
                "field": f"entries[{r.index}].{r.error.field}",
                "message": str(r.error),
                "code": type(r.error).__name__,
            }
            for r in error.rejections
        ]
    return [{"field": error.field, "message": str(error), "code": type(error).__name__}]


def from_domain(error: LedgerError) -> Response:
    """The problem for a domain error."""
    kind = next(k for cls, k in KINDS if isinstance(error, cls))
    headers: dict[str, str] = {}
    if isinstance(error, AuthenticationError):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, LoginThrottledError):
        headers["Retry-After"] = str(error.retry_after)
    return problem(kind.status, kind.slug, kind.title, str(error), _field_errors(error), headers)


_IF_MATCH = ("header", "If-Match")


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


def from_validation(error: RequestValidationError) -> Response:
    """The problem for a request that does not match its schema; 428 for an update
    without ``If-Match`` (RFC 6585)."""
    if any(e.get("type") == "missing" and e.get("loc") == _IF_MATCH for e in error.errors()):
        detail = "send If-Match with the ETag of the version you read"
        return problem(428, "precondition-required", "If-Match is required", detail)
    errors = [
        {"field": _location(e.get("loc", ())), "message": e.get("msg", ""), "code": e.get("type")}
        for e in error.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:3])
    return problem(422, "invalid-request", "The request is invalid", detail, errors)


def install(api: FastAPI) -> None:
    """Register the handlers on ``api``."""

    async def on_domain(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LedgerError)
        return from_domain(exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return from_validation(exc)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = exc.status_code
        title = _DESCRIPTIONS.get(code, "Error").split(" (")[0]
        slug = {404: "not-found", 405: "method-not-allowed", 428: "precondition-required"}.get(
            code, "http"
        )
        headers = dict(exc.headers or {})
        if code == 405:
            headers["Allow"] = allowed_methods(request)
        return problem(code, slug, title, str(exc.detail), [], headers)

    api.add_exception_handler(LedgerError, on_domain)
    api.add_exception_handler(RequestValidationError, on_validation)
    api.add_exception_handler(HTTPException, on_http)


_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> str:
    """Every method the request's path answers to (Starlette's 405 names only those of the
    first route whose path matches)."""
    routes = request.app.router.routes
    return ", ".join(
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    )


class FieldError(BaseModel):
    """One bad field."""

    field: str
    message: str
    code: str | None = None


class ProblemDetails(BaseModel):
    """An RFC 9457 problem."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError]


_DESCRIPTIONS = {
    400: "Bad request (the body is not UTF-8 JSON)",
    401: "Not authenticated (no, unknown, revoked or expired token)",
    403: "The caller's role does not allow this",
    404: "Not found",
    409: "Conflict (a request with this Idempotency-Key is still running, or a duplicate)",
    412: "If-Match names a version that is no longer current",
    413: "The request body is too large",
    422: "The request is invalid or breaks a rule of the book",
    428: "If-Match is required",
    429: "Too many failed logins; see Retry-After",
    405: "Method not allowed",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the problems an operation can answer with."""
    return {
        code: {
            "model": ProblemDetails,
            "description": _DESCRIPTIONS[code],
        }
        for code in codes
    }


def requires(permission: str) -> dict[str, Any]:
    """OpenAPI extension naming the permission an operation needs (``none``: public)."""
    return {"x-permission": permission}


def _describe(operation: dict[str, Any]) -> None:
    if "requestBody" in operation:
        operation["responses"] |= {"400": {}, "413": {}}
    for code, response in operation.get("responses", {}).items():
        if code.isdigit() and int(code) >= 400:
            response["content"] = {PROBLEM_JSON: {"schema": {"$ref": _PROBLEM_REF}}}
            response["description"] = _DESCRIPTIONS.get(int(code), "Error")


_PROBLEM_REF = "#/components/schemas/ProblemDetails"


def document(api: FastAPI) -> None:
    """Describe every error response as ``application/problem+json`` in the OpenAPI
    document (FastAPI would list ``application/json`` and its own validation schema)."""
    original = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is not None:
            return api.openapi_schema
        schema = original()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                _describe(operation)
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        api.openapi_schema = schema
        return schema

    api.openapi = openapi  # type: ignore[method-assign]
