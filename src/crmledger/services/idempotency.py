"""Idempotent creates: the first response to an ``Idempotency-Key`` is kept per principal
and replayed byte for byte.

A request first *claims* its key in a transaction of its own, so a concurrent retry sees
the claim at once and is told to wait (409) rather than doing the work twice. The same key
with a different body is a client error (422). A failed first attempt (a server error)
releases the key so that the retry can run. Stored bodies are encrypted like personal
fields: a response may carry an email or a new token's secret::

    outcome = keys.begin("user:7", "k-1", request_hash)
    if isinstance(outcome, Replay): return outcome.response
    ...  # do the work once
    keys.finish("user:7", "k-1", 201, "application/json", body)
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import timedelta

from crmledger.services.ports import (
    Clock,
    FieldCipher,
    FieldContext,
    IdempotentResponse,
    UnitOfWorkFactory,
)

RETENTION = timedelta(hours=48)


@dataclass(frozen=True, slots=True)
class Proceed:
    """The key is new: do the work, then :meth:`IdempotencyService.finish`."""


@dataclass(frozen=True, slots=True)
class Replay:
    """The stored first response."""

    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True, slots=True)
class InProgress:
    """The first request with this key is still running."""


@dataclass(frozen=True, slots=True)
class Mismatch:
    """The key was used with a different request body."""


Outcome = Proceed | Replay | InProgress | Mismatch


class IdempotencyService:
    """Claim, finish and release idempotency keys."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, cipher: FieldCipher) -> None:
        self._uow, self._clock, self._cipher = uow, clock, cipher

    def begin(self, principal: str, key: str, request_hash: str) -> Outcome:
        """Claim ``key`` for this request or say what is stored under it."""
        now = self._clock.now()
        with self._uow() as uow:
            stored = uow.idempotency.claim(principal, key, request_hash, now)
            if stored is not None and stored.created_at < now - RETENTION:
                # An expired record: the key is free again.
                uow.idempotency.release(principal, key)
                stored = uow.idempotency.claim(principal, key, request_hash, now)
            uow.commit()
        outcome = _outcome(stored, request_hash)
        if isinstance(outcome, Replay):
            sealed = outcome.body.decode("ascii")
            body = self._cipher.decrypt(sealed, _context(principal, key))
            outcome = Replay(outcome.status, outcome.content_type, base64.b64decode(body))
        return outcome

    def finish(self, principal: str, key: str, status: int, content_type: str, body: bytes) -> None:
        """Keep the response of the claimed request."""
        sealed = self._cipher.encrypt(base64.b64encode(body).decode(), _context(principal, key))
        with self._uow() as uow:
            uow.idempotency.complete(principal, key, status, content_type, sealed.encode("ascii"))
            uow.commit()

    def release(self, principal: str, key: str) -> None:
        """Forget a claim whose request failed on the server's side."""
        with self._uow() as uow:
            uow.idempotency.release(principal, key)
            uow.commit()

    def purge(self) -> int:
        """Drop records older than the retention period; returns how many."""
        with self._uow() as uow:
            removed = uow.idempotency.purge(self._clock.now() - RETENTION)
            uow.commit()
        return removed


def _context(principal: str, key: str) -> FieldContext:
    return FieldContext("idempotency_keys", "body", f"{principal}\x00{key}")


def _outcome(stored: IdempotentResponse | None, request_hash: str) -> Outcome:
    if stored is None:
        return Proceed()
    if stored.request_hash != request_hash:
        return Mismatch()
    if stored.status is None:
        return InProgress()
    return Replay(stored.status, stored.content_type or "application/json", stored.body or b"")
