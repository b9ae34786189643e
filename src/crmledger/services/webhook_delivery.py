"""What one webhook attempt means for its delivery, and the headers that sign it.

::

    judge(1, SendResult(200, "", 31), draw=0.5)   -> delivered
    judge(1, SendResult(503, "...", 40), 0.5)     -> pending, again in 5 s
    judge(1, SendResult(410, "...", 12), 0.5)     -> failed, and the subscription is gone
    judge(13, SendResult(None, "timeout", 10000), 0.5) -> failed: the last of 13 attempts
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from crmledger.core.integration.retry import gives_up, retry_delay
from crmledger.core.integration.signatures import standard_headers
from crmledger.services.integration_ports import SendResult

GONE = 410


@dataclass(frozen=True, slots=True)
class Outcome:
    """A delivery's state after an attempt; ``retry_after`` when it is to be tried again,
    ``gone`` when the receiver asked to be unsubscribed."""

    status: str
    code: int | None
    error: str
    duration_ms: int
    retry_after: timedelta | None = None
    gone: bool = False


def judge(attempts: int, result: SendResult, draw: float) -> Outcome:
    """The outcome of the ``attempts``-th attempt, which got ``result``."""
    code, error, ms = result.status, result.error, result.duration_ms
    if code is not None and 200 <= code < 300:
        return Outcome("delivered", code, "", ms)
    if code == GONE:
        return Outcome("failed", code, error or "410 Gone", ms, gone=True)
    if gives_up(attempts):
        return Outcome("failed", code, f"gave up after {attempts} attempts: {error}", ms)
    delay = timedelta(seconds=retry_delay(attempts, draw))
    return Outcome("pending", code, error, ms, retry_after=delay)


def signed_headers(keys: Sequence[str], msg_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt, signed with every key in ``keys``."""
    return standard_headers(keys, msg_id, int(at.timestamp()), body)
