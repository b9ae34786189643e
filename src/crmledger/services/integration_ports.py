"""What integration needs: the relay's and webhooks' tables, the event bus, the HTTP sender.

Rows carry secrets only encrypted (``secrets_enc``); a delivery keeps the exact body it
sends, so a replay repeats it byte for byte::

    SubscriptionRow(id=3, url="https://erp.example.com/hooks", event_types=("invoice.*",),
                    status="active", ...)
    DeliveryRow(id=41, subscription_id=3, msg_id="msg_812", status="pending", attempts=2, ...)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from crmledger.core.integration.events import OutboxEvent
from crmledger.services.ports import UnitOfWork
from crmledger.services.sync_ports import SyncStore


@dataclass(frozen=True, slots=True)
class SubscriptionRow:
    """A stored webhook subscription."""

    id: int
    url: str
    event_types: tuple[str, ...]
    description: str
    secrets_enc: str
    previous_until: datetime | None
    status: str
    disabled_reason: str
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """One message to one subscription, and how its delivery went so far."""

    id: int
    subscription_id: int
    msg_id: str
    event_type: str
    body: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class AttemptRow:
    """One HTTP attempt of a delivery: the status answered, or why there was none."""

    delivery_id: int
    attempted_at: datetime
    status_code: int | None
    error: str
    duration_ms: int


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A delivery to queue (ignored when the subscription has that message already)."""

    subscription_id: int
    msg_id: str
    event_type: str
    body: str


@dataclass(frozen=True, slots=True)
class RelayStatus:
    """How far the relay is: the watermark, events claimed and not yet sent, the newest."""

    watermark: int
    unsent: int
    last_event: int


class IntegrationStore(Protocol):
    """The outbox relay's progress, webhook subscriptions and deliveries, inbound events."""

    # -- relay -----------------------------------------------------------------------
    def relay_watermark(self) -> int:
        """Every outbox event up to this id is sent."""

    def relay_candidates(
        self, after: int, now: datetime, limit: int, lock: bool = True
    ) -> list[OutboxEvent]:
        """Unsent events after ``after`` that nobody holds a live lease on, oldest first;
        with ``lock``, locked for this transaction (skipping rows another worker has
        locked)."""

    def unsent_of(self, after: int, keys: Sequence[tuple[str, int]]) -> list[tuple[int, str, int]]:
        """``(id, aggregate, aggregate id)`` of every unsent event of the aggregates
        ``keys`` after ``after``, claimed or not."""

    def claim_events(
        self, ids: Sequence[int], worker: str, now: datetime, until: datetime
    ) -> set[int]:
        """Lease those of the events ``ids`` that nobody holds at ``now`` to ``worker``
        until ``until``; returns the ids it got."""

    def release(self, ids: Sequence[int], worker: str) -> None:
        """Give up ``worker``'s leases on ``ids`` (another may claim them at once)."""

    def mark_sent(self, ids: Sequence[int], at: datetime) -> None:
        """Record the events ``ids`` as sent."""

    def advance_watermark(self, horizon: datetime, at: datetime) -> int:
        """Move the watermark over events sent that occurred before ``horizon``; returns it."""

    def relay_status(self) -> RelayStatus: ...

    # -- subscriptions ---------------------------------------------------------------
    def add_subscription(self, row: SubscriptionRow) -> int: ...
    def set_subscription_secrets(self, subscription_id: int, secrets_enc: str) -> None: ...
    def subscription(self, subscription_id: int) -> SubscriptionRow | None: ...
    def subscriptions(self, after: int | None, limit: int) -> list[SubscriptionRow]:
        """Subscriptions by id, after ``after``."""

    def active_subscriptions(self) -> list[SubscriptionRow]: ...
    def update_subscription(self, row: SubscriptionRow, expected_version: int) -> bool:
        """Replace the subscription if it is still at ``expected_version``."""

    # -- deliveries ------------------------------------------------------------------
    def add_deliveries(self, rows: Sequence[NewDelivery], at: datetime) -> int:
        """Queue ``rows`` due at ``at`` (skipping messages a subscription has already);
        returns how many were new."""

    def any_due(self, now: datetime) -> bool:
        """Whether a pending delivery is due by ``now`` and nobody holds it (a read, so an
        idle worker looking takes no write lock)."""

    def claim_due(self, now: datetime, until: datetime, limit: int) -> list[DeliveryRow]:
        """Pending deliveries due by ``now`` that nobody holds, leased until ``until``."""

    def finish_attempt(
        self, row: DeliveryRow, attempt: AttemptRow, status: str, next_at: datetime | None
    ) -> None:
        """Log ``attempt`` and move the delivery to ``status`` (pending: due ``next_at``)."""

    def delivery(self, delivery_id: int) -> DeliveryRow | None: ...
    def deliveries(self, subscription_id: int, before: int | None, limit: int) -> list[DeliveryRow]:
        """A subscription's deliveries, newest first, before the id ``before``."""

    def attempts(self, delivery_id: int) -> list[AttemptRow]: ...
    def requeue(self, delivery_id: int, at: datetime) -> None:
        """Make a delivery pending again, due at ``at`` (a replay)."""

    def abandon_pending(self, subscription_id: int, reason: str) -> int:
        """Fail every pending delivery of a disabled subscription; returns how many."""

    # -- inbound ---------------------------------------------------------------------
    def add_inbound(self, connector_id: int, event_id: str, at: datetime, outcome: str) -> bool:
        """Record an inbound event once; False when it was recorded before."""


class IntegrationUnitOfWork(UnitOfWork, Protocol):
    """A unit of work that also holds the integration tables."""

    @property
    def integration(self) -> IntegrationStore:
        """Relay progress, webhooks and inbound events in this transaction."""

    @property
    def sync(self) -> SyncStore:
        """Connectors, links, cursors, runs, logs and conflicts in this transaction."""


class IntegrationUnitOfWorkFactory(Protocol):
    """Opens integration units of work."""

    def __call__(self, readonly: bool = False) -> IntegrationUnitOfWork: ...


Handler = Callable[[Sequence[OutboxEvent]], object]


class EventBus(Protocol):
    """Where the relay puts events, and where subscribers get them.

    ``publish`` returns only once the bus holds all of the events, in order (raising
    otherwise, so the relay tries again). ``subscribe`` names a durable subscriber: a bus
    that pushes calls it inside ``publish``; a bus that keeps events (NATS JetStream)
    hands them over in ``pump`` and acknowledges them once the handler returned, so what a
    handler raised on, or what a crashed process held, comes again.
    """

    def publish(self, events: Sequence[OutboxEvent]) -> None: ...
    def subscribe(self, name: str, handle: Handler) -> None: ...
    def pump(self, limit: int, wait: float) -> int:
        """Hand waiting events to the subscribers; returns how many were handled."""

    def close(self) -> None: ...


class Doorbell(Protocol):
    """Rings when the book may hold new work for a worker (a transaction wrote outbox
    events), so an idle worker starts its next round at once rather than at the end of its
    pause::

        if not worker.tick():
            doorbell.wait(0.2)      # back at once when a change commits, else after 0.2 s
    """

    def wait(self, timeout: float) -> bool:
        """Block until the bell rings or ``timeout`` seconds passed; True when it rang."""

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SendResult:
    """What became of one HTTP request: the status answered, or why there was none."""

    status: int | None
    error: str
    duration_ms: int


class WebhookSender(Protocol):
    """POSTs a signed body to a subscriber: no redirect followed, bounded time, and only to
    public addresses unless the sender was made for local development."""

    def send(self, url: str, headers: Mapping[str, str], body: bytes) -> SendResult: ...
