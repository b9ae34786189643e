"""Helpers the routers share: headers for creates and updates, ETags, page sizes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Query

from crmledger.api.schemas import decode_cursor
from crmledger.services.errors import InvalidInputError

MAX_LIMIT = 500

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (at most 500).")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="`next_cursor` of the previous page.")
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=r"^[\x21-\x7e]{1,255}$",
        description="Makes the create safe to retry: the first response is replayed.",
    ),
]
IfMatch = Annotated[
    str,
    Header(
        alias="If-Match",
        pattern=r'^(W/)?("[0-9]{1,9}"|[0-9]{1,9})$',  # a version is a 32-bit integer
        description="The `ETag` of the version read (required: 428 without it).",
    ),
]


# Not `required`: a replayed create (`Idempotent-Replayed: true`) repeats only the body.
_HEADERS = {
    "ETag": "The version read: send it as `If-Match` to change the resource.",
    "Location": "Where the created resource is.",
}


def success(status: int, *headers: str, **links: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI of a success response: the ``headers`` it carries and the ``links``
    (OpenAPI links) from it to the operations a client would call next."""
    described: dict[str, Any] = {}
    if headers:
        described["headers"] = {
            name: {"description": _HEADERS[name], "schema": {"type": "string"}} for name in headers
        }
    if links:
        described["links"] = links
    return {status: described}


def link(operation_id: str, parameters: dict[str, str], body: Any = None) -> dict[str, Any]:
    """An OpenAPI link to ``operation_id`` with runtime expressions for its parameters (and
    the fields of its body)."""
    target: dict[str, Any] = {"operationId": operation_id, "parameters": parameters}
    if body is not None:
        target["requestBody"] = body
    return target


def etag(version: int) -> str:
    """The ``ETag`` of a resource version."""
    return f'"{version}"'


def if_match_version(value: str) -> int:
    """The version an ``If-Match`` header names (``"3"`` or ``W/"3"``; a request without
    one is answered 428 by :func:`crmledger.api.problems.from_validation`)."""
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise InvalidInputError("If-Match", f"{value!r} is not an ETag of this resource")
    return int(text)


def number_cursor(cursor: str) -> int:
    """The number a one-number cursor holds (an offset, a last id or a sequence number)."""
    key = decode_cursor(cursor)
    if not key or not isinstance(key[0], int) or key[0] < 0:
        raise InvalidInputError("cursor", "not a cursor of this list")
    return key[0]
