"""Domain events as they leave the book: an outbox row, numbered per aggregate.

Every change others may care about writes one row to the outbox in the same transaction
as the change. ``seq`` counts the events of one aggregate (``invoice`` 12 has seq 1 when
issued, 2 when paid), so a consumer that remembers the last seq it applied per aggregate
can drop a redelivered or stale event and notice a gap. Payloads carry ids and amounts,
never personal data.

A subscription names the event types it wants; ``*`` is every type and ``invoice.*``
every type under ``invoice.``::

    >>> matches(("invoice.*", "party.created"), "invoice.paid")
    True
    >>> matches(("party.created",), "party.updated")
    False
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crmledger.core.errors import InvalidFieldError

_PATTERN = re.compile(r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$")
MAX_PATTERNS = 50


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """One event: its outbox id, the aggregate it belongs to and its place in it."""

    id: int
    aggregate: str
    aggregate_id: int
    seq: int
    type: str
    payload: str
    occurred_at: datetime

    @property
    def key(self) -> tuple[str, int]:
        """The aggregate the event belongs to."""
        return (self.aggregate, self.aggregate_id)

    @property
    def msg_id(self) -> str:
        """The id a receiver deduplicates on (``webhook-id``, ``Nats-Msg-Id``)."""
        return f"msg_{self.id}"

    def data(self) -> dict[str, Any]:
        """The payload as a mapping."""
        found = json.loads(self.payload)
        return found if isinstance(found, dict) else {"value": found}


def envelope(event: OutboxEvent) -> dict[str, Any]:
    """The JSON document a subscriber receives (the Standard Webhooks payload shape)."""
    return {
        "type": event.type,
        "timestamp": event.occurred_at.isoformat(),
        "data": {
            "event_id": event.id,
            "aggregate": event.aggregate,
            "aggregate_id": event.aggregate_id,
            "seq": event.seq,
            **event.data(),
        },
    }


def event_of(document: Mapping[str, Any]) -> OutboxEvent:
    """The event an :func:`envelope` describes (what a bus consumer receives)."""
    data = dict(document["data"])
    ident, aggregate = int(data.pop("event_id")), str(data.pop("aggregate"))
    aggregate_id, seq = int(data.pop("aggregate_id")), int(data.pop("seq"))
    return OutboxEvent(
        id=ident,
        aggregate=aggregate,
        aggregate_id=aggregate_id,
        seq=seq,
        type=str(document["type"]),
        payload=json.dumps(data, sort_keys=True),
        occurred_at=datetime.fromisoformat(str(document["timestamp"])),
    )


def check_patterns(patterns: Iterable[str]) -> tuple[str, ...]:
    """Event type patterns, checked and without duplicates (in the order given)."""
    found: list[str] = []
    for index, pattern in enumerate(patterns):
        if not _PATTERN.match(pattern) or len(pattern) > 60:
            raise InvalidFieldError(
                f"event_types[{index}]",
                f"{pattern[:60]!r} is not an event type such as invoice.paid, invoice.* or *",
            )
        if pattern not in found:
            found.append(pattern)
    if not found:
        raise InvalidFieldError("event_types", "name at least one event type (or *)")
    if len(found) > MAX_PATTERNS:
        raise InvalidFieldError("event_types", f"at most {MAX_PATTERNS} event types")
    return tuple(found)


def matches(patterns: Iterable[str], kind: str) -> bool:
    """Whether an event of type ``kind`` is one a subscription to ``patterns`` wants."""
    for pattern in patterns:
        if pattern in ("*", kind):
            return True
        if pattern.endswith(".*") and kind.startswith(pattern[:-1]):
            return True
    return False
