"""ASGI middleware of the API: request-size limit and idempotent creates.

Idempotency runs around the route: a ``POST`` carrying ``Idempotency-Key`` is claimed
before the route runs and its response kept afterwards, so a retry gets the first
response byte for byte (and the header ``Idempotent-Replayed: true``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crmledger.api.problems import problem
from crmledger.bootstrap import App
from crmledger.core.errors import LedgerError
from crmledger.services.idempotency import InProgress, Mismatch, Proceed, Replay

MAX_BODY = 1024 * 1024
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


class BodyTooLargeError(Exception):
    """The request body is over the limit."""


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413 (declared or streamed); a path
    matching a pattern of ``larger`` (a file upload) has that pattern's limit instead."""

    def __init__(
        self, app: ASGIApp, limit: int = MAX_BODY, larger: Sequence[tuple[str, int]] = ()
    ) -> None:
        self.app, self.limit = app, limit
        self.larger = [(re.compile(pattern), most) for pattern, most in larger]

    def _limit(self, scope: Scope) -> int:
        path = str(scope.get("path", ""))
        return next((most for p, most in self.larger if p.search(path)), self.limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(limit)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLargeError
            return message

        try:
            await self.app(scope, counted, send)
        except BodyTooLargeError:
            await _too_large(limit)(scope, receive, send)


def _too_large(limit: int) -> Any:
    return problem(413, "too-large", "The request body is too large", f"limit {limit} bytes")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body; ``None`` when the client went away before sending it all."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


class Idempotency:
    """Claim, replay and keep responses of ``POST`` requests with ``Idempotency-Key``."""

    def __init__(self, app: ASGIApp, book: Callable[[], App]) -> None:
        self.app, self.book = app, book

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, b"idempotency-key") if scope["type"] == "http" else None
        if key is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        if not _KEY.match(key):
            detail = "Idempotency-Key must be 1 to 255 visible ASCII characters"
            errors = [{"field": "Idempotency-Key", "message": detail}]
            await problem(422, "invalid-request", "The request is invalid", detail, errors)(
                scope, receive, send
            )
            return
        principal = await self._principal(scope)
        if principal is None:  # the route answers 401
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:  # half a request: nothing to run, keep or answer
            return
        digest = hashlib.sha256(
            b"\n".join(
                [
                    scope["method"].encode(),
                    scope["path"].encode(),
                    scope.get("query_string", b""),
                    body,
                ]
            )
        ).hexdigest()
        service = self.book().idempotency
        outcome = await run_in_threadpool(service.begin, principal, key, digest)
        if isinstance(outcome, Replay):
            await _replay(outcome, send)
        elif isinstance(outcome, InProgress):
            detail = "a request with this Idempotency-Key is still running; retry later"
            await problem(409, "idempotency-in-progress", "Request in progress", detail)(
                scope, receive, send
            )
        elif isinstance(outcome, Mismatch):
            detail = "this Idempotency-Key was used with a different request"
            errors = [{"field": "Idempotency-Key", "message": detail}]
            await problem(422, "idempotency-mismatch", "Idempotency-Key reused", detail, errors)(
                scope, receive, send
            )
        else:
            assert isinstance(outcome, Proceed)
            await self._first(scope, body, send, principal, key)

    async def _principal(self, scope: Scope) -> str | None:
        auth = _header(scope, b"authorization") or ""
        scheme, _, secret = auth.partition(" ")
        if scheme.lower() != "bearer" or not secret:
            return None
        try:
            found = await run_in_threadpool(self.book().access.authenticate_token, secret.strip())
        except LedgerError:
            return None
        scope.setdefault("state", {})["principal"] = found  # the route need not look again
        return f"user:{found.user_id}"

    async def _first(self, scope: Scope, body: bytes, send: Send, principal: str, key: str) -> None:
        sent = False
        status, content_type, parts = 500, "application/json", []

        async def replay_body() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                content_type = _content_type(message.get("headers", [])) or content_type
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
            await send(message)

        service = self.book().idempotency
        try:
            await self.app(scope, replay_body, capture)
        except BaseException:
            await run_in_threadpool(service.release, principal, key)
            raise
        if status >= 500:
            await run_in_threadpool(service.release, principal, key)
        else:
            await run_in_threadpool(
                service.finish, principal, key, status, content_type, b"".join(parts)
            )


def _content_type(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name.lower() == b"content-type":
            return value.decode("latin-1")
    return None


async def _replay(stored: Replay, send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": stored.status,
            "headers": [
                (b"content-type", stored.content_type.encode("latin-1")),
                (b"content-length", str(len(stored.body)).encode()),
                (b"idempotent-replayed", b"true"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": stored.body})
