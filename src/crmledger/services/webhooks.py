"""Outbound webhooks: subscriptions per event type, signed deliveries, retries, replay.

A subscription names a URL and the event types it wants (``invoice.*``, ``party.created``,
``*``). Each event the relay publishes becomes one delivery per matching subscription
(:meth:`WebhookService.fan_out`, idempotent: a redelivered event queues nothing twice);
the worker sends what is due (:meth:`WebhookService.deliver_due`), signed per Standard
Webhooks, and logs every attempt::

    hooks = WebhookService(uow, clock, cipher, sender).acting_as(actor)
    sub, secret = hooks.create("https://erp.example.com/hooks", ["invoice.*"])
    hooks.fan_out(events); hooks.deliver_due()
    hooks.replay(delivery_id)                     # send the same message again

A 2xx answer delivers; 410 Gone disables the subscription (and fails what it had pending);
anything else (a redirect too: never followed) is tried again after an exponentially
growing, jittered delay (:mod:`crmledger.core.integration.retry`) for about three days.
Rotating the secret keeps the old one signing alongside the new for an overlap, so a
receiver can switch at its own pace.
"""

from __future__ import annotations

import builtins
import json
import random
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from crmledger.core.errors import InvalidFieldError
from crmledger.core.integration.events import OutboxEvent, check_patterns, envelope, matches
from crmledger.core.integration.signatures import new_secret
from crmledger.core.integration.targets import (
    UnsafeTargetError,
    literal_refusal,
    parse_target,
)
from crmledger.services.errors import NotFoundError, VersionConflictError
from crmledger.services.integration_ports import (
    AttemptRow,
    DeliveryRow,
    IntegrationUnitOfWork,
    IntegrationUnitOfWorkFactory,
    NewDelivery,
    SendResult,
    SubscriptionRow,
    WebhookSender,
)
from crmledger.services.ports import Clock, FieldCipher, FieldContext
from crmledger.services.trail import OPERATOR, Actor, record
from crmledger.services.webhook_delivery import Outcome, judge, signed_headers

#: How long a rotated-out secret keeps signing alongside the new one, by default.
OVERLAP = timedelta(hours=24)
#: How long a worker holds deliveries it is sending.
LEASE = timedelta(minutes=2)
#: Deliveries sent at once (each waits on its own receiver).
PARALLEL = 8
#: Deliveries one round of the worker takes at most (more wait for the next round, which
#: follows at once while there is work).
DUE_BATCH = 200
_CHANGEABLE = frozenset({"url", "event_types", "description", "status"})


@dataclass(frozen=True, slots=True)
class Subscription:
    """A webhook subscription as users see it (never its secret)."""

    id: int
    url: str
    event_types: tuple[str, ...]
    description: str
    status: str
    disabled_reason: str
    rotating_until: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message to one subscription and how it went."""

    id: int
    subscription_id: int
    msg_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    body: str


def _subscription(row: SubscriptionRow) -> Subscription:
    return Subscription(
        id=row.id,
        url=row.url,
        event_types=row.event_types,
        description=row.description,
        status=row.status,
        disabled_reason=row.disabled_reason,
        rotating_until=row.previous_until,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _delivery(row: DeliveryRow) -> Delivery:
    return Delivery(
        id=row.id,
        subscription_id=row.subscription_id,
        msg_id=row.msg_id,
        event_type=row.event_type,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_code=row.last_code,
        last_error=row.last_error,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
        body=row.body,
    )


def _view(row: SubscriptionRow) -> dict[str, Any]:
    return {
        "url": row.url,
        "event_types": list(row.event_types),
        "description": row.description,
        "status": row.status,
    }


def message_body(event: OutboxEvent) -> str:
    """The exact JSON a subscriber receives for ``event`` (kept, so replays match)."""
    return json.dumps(envelope(event), sort_keys=True, separators=(",", ":"))


def _lanes(due: Sequence[DeliveryRow]) -> list[list[DeliveryRow]]:
    """``due`` in lanes that may go out side by side: one per subscription and aggregate,
    each in the aggregate's own order (its events' ``seq``), so a subscriber gets one
    customer's ``party.created`` before its ``party.updated``."""
    lanes: dict[tuple[int, str, int], list[tuple[int, DeliveryRow]]] = {}
    for row in due:
        data = json.loads(row.body).get("data", {})
        key = (row.subscription_id, str(data.get("aggregate")), int(data.get("aggregate_id", 0)))
        lanes.setdefault(key, []).append((int(data.get("seq", 0)), row))
    return [
        [row for _, row in sorted(lane, key=lambda p: (p[0], p[1].id))] for lane in lanes.values()
    ]


class WebhookService:
    """Subscriptions, their deliveries and the delivery loop (see the module)."""

    def __init__(
        self,
        uow: IntegrationUnitOfWorkFactory,
        clock: Clock,
        cipher: FieldCipher,
        sender: WebhookSender | None = None,
        actor: Actor = OPERATOR,
        *,
        allow_private: bool = False,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self._uow, self._clock, self._cipher, self._sender = uow, clock, cipher, sender
        self._actor, self._allow_private, self._draw = actor, allow_private, draw

    def acting_as(self, actor: Actor) -> WebhookService:
        """The same service for another actor."""
        return WebhookService(
            self._uow,
            self._clock,
            self._cipher,
            self._sender,
            actor,
            allow_private=self._allow_private,
            draw=self._draw,
        )

    # -- secrets -----------------------------------------------------------------------

    def _context(self, subscription_id: int) -> FieldContext:
        return FieldContext("webhook_subscriptions", "secrets", str(subscription_id))

    def _seal(self, subscription_id: int, current: str, previous: str | None) -> str:
        plain = json.dumps({"current": current, "previous": previous})
        return self._cipher.encrypt(plain, self._context(subscription_id))

    def signing_keys(self, row: SubscriptionRow, now: datetime) -> list[str]:
        """The secrets that sign now: the current one, and the previous one while the
        rotation overlap lasts."""
        keys = json.loads(self._cipher.decrypt(row.secrets_enc, self._context(row.id)))
        found = [str(keys["current"])]
        if keys.get("previous") and row.previous_until is not None and now < row.previous_until:
            found.append(str(keys["previous"]))
        return found

    # -- subscriptions -----------------------------------------------------------------

    def _check_url(self, url: str) -> str:
        target = parse_target(url)
        why = literal_refusal(target.host)
        if why is not None and not self._allow_private:
            raise UnsafeTargetError(f"{target.host} is a {why} address")
        return url

    def create(
        self, url: str, event_types: Iterable[str], description: str = ""
    ) -> tuple[Subscription, str]:
        """A new active subscription and its signing secret (shown this once)."""
        self._actor.require("integrations", "write")
        _check_description(description)
        at, secret = self._clock.now(), new_secret()
        row = SubscriptionRow(
            id=0,
            url=self._check_url(url),
            event_types=check_patterns(event_types),
            description=description,
            secrets_enc="",
            previous_until=None,
            status="active",
            disabled_reason="",
            version=1,
            created_at=at,
            updated_at=at,
        )
        with self._uow() as uow:
            new_id = uow.integration.add_subscription(row)
            row = replace(row, id=new_id, secrets_enc=self._seal(new_id, secret, None))
            uow.integration.set_subscription_secrets(new_id, row.secrets_enc)
            record(uow, self._actor, at, "webhook.create", "webhook", new_id, None, _view(row))
            uow.commit()
        return _subscription(row), secret

    def _load(self, uow: IntegrationUnitOfWork, subscription_id: int) -> SubscriptionRow:
        row = uow.integration.subscription(subscription_id)
        if row is None:
            raise NotFoundError(f"no webhook subscription {subscription_id}")
        return row

    def get(self, subscription_id: int) -> Subscription:
        """One subscription; :class:`NotFoundError` when there is none."""
        self._actor.require("integrations", "read")
        with self._uow(readonly=True) as uow:
            return _subscription(self._load(uow, subscription_id))

    def list(self, after: int | None = None, limit: int = 100) -> builtins.list[Subscription]:
        """Subscriptions by id, after ``after``."""
        self._actor.require("integrations", "read")
        with self._uow(readonly=True) as uow:
            return [_subscription(r) for r in uow.integration.subscriptions(after, limit)]

    def update(
        self, subscription_id: int, changes: Mapping[str, Any], if_version: int | None
    ) -> Subscription:
        """Change the URL, event types, description or status (``active`` re-enables a
        disabled subscription, ``disabled`` stops it and fails what it had pending)."""
        self._actor.require("integrations", "write")
        unknown = sorted(set(changes) - _CHANGEABLE)
        if unknown:
            raise InvalidFieldError(unknown[0], "cannot be changed")
        at = self._clock.now()
        with self._uow() as uow:
            before = self._load(uow, subscription_id)
            _expect(before, if_version)
            after = self._changed(before, changes, at)
            if not uow.integration.update_subscription(after, before.version):
                raise VersionConflictError(f"webhook {before.id}", before.version, after.version)
            if after.status == "disabled" and before.status == "active":
                uow.integration.abandon_pending(before.id, "the subscription was disabled")
            record(
                uow,
                self._actor,
                at,
                "webhook.update",
                "webhook",
                before.id,
                _view(before),
                _view(after),
            )
            uow.commit()
        return _subscription(after)

    def _changed(
        self, before: SubscriptionRow, changes: Mapping[str, Any], at: datetime
    ) -> SubscriptionRow:
        after = replace(before, version=before.version + 1, updated_at=at)
        if "url" in changes:
            after = replace(after, url=self._check_url(str(changes["url"])))
        if "event_types" in changes:
            after = replace(after, event_types=check_patterns(changes["event_types"]))
        if "description" in changes:
            after = replace(after, description=_check_description(str(changes["description"])))
        if "status" in changes:
            status = str(changes["status"])
            if status not in ("active", "disabled"):
                raise InvalidFieldError("status", "a subscription is active or disabled")
            reason = "" if status == "active" else (before.disabled_reason or "disabled by a user")
            after = replace(after, status=status, disabled_reason=reason)
        return after

    def rotate_secret(
        self, subscription_id: int, overlap: timedelta = OVERLAP
    ) -> tuple[Subscription, str]:
        """A new signing secret; the old one keeps signing too for ``overlap``."""
        self._actor.require("integrations", "write")
        if overlap < timedelta(0) or overlap > timedelta(days=30):
            raise InvalidFieldError("overlap", "the overlap is between 0 and 30 days")
        at, secret = self._clock.now(), new_secret()
        with self._uow() as uow:
            before = self._load(uow, subscription_id)
            current = self.signing_keys(before, at)[0]
            after = replace(
                before,
                secrets_enc=self._seal(before.id, secret, current),
                previous_until=at + overlap,
                version=before.version + 1,
                updated_at=at,
            )
            if not uow.integration.update_subscription(after, before.version):
                raise VersionConflictError(f"webhook {before.id}", before.version, after.version)
            record(uow, self._actor, at, "webhook.rotate", "webhook", before.id, None, None)
            uow.commit()
        return _subscription(after), secret

    def reveal_secret(self, subscription_id: int) -> str:
        """The current signing secret (for a receiver being set up again)."""
        self._actor.require("integrations", "write")
        at = self._clock.now()
        with self._uow() as uow:
            row = self._load(uow, subscription_id)
            record(uow, self._actor, at, "webhook.reveal", "webhook", row.id, None, None)
            uow.commit()
            return self.signing_keys(row, at)[0]

    # -- deliveries --------------------------------------------------------------------

    def deliveries(
        self, subscription_id: int, before: int | None = None, limit: int = 100
    ) -> builtins.list[Delivery]:
        """A subscription's delivery log, newest first."""
        self._actor.require("integrations", "read")
        with self._uow(readonly=True) as uow:
            self._load(uow, subscription_id)
            rows = uow.integration.deliveries(subscription_id, before, limit)
            return [_delivery(r) for r in rows]

    def delivery(self, delivery_id: int) -> tuple[Delivery, builtins.list[AttemptRow]]:
        """One delivery and each of its attempts."""
        self._actor.require("integrations", "read")
        with self._uow(readonly=True) as uow:
            row = uow.integration.delivery(delivery_id)
            if row is None:
                raise NotFoundError(f"no webhook delivery {delivery_id}")
            return _delivery(row), uow.integration.attempts(delivery_id)

    def replay(self, delivery_id: int) -> Delivery:
        """Send a delivery again (the same message id and body), from now on."""
        self._actor.require("integrations", "write")
        at = self._clock.now()
        with self._uow() as uow:
            row = uow.integration.delivery(delivery_id)
            if row is None:
                raise NotFoundError(f"no webhook delivery {delivery_id}")
            sub = self._load(uow, row.subscription_id)
            if sub.status != "active":
                raise InvalidFieldError("status", "the subscription is disabled: enable it first")
            uow.integration.requeue(delivery_id, at)
            record(uow, self._actor, at, "webhook.replay", "webhook_delivery", delivery_id)
            uow.commit()
        return replace(_delivery(row), status="pending", next_attempt_at=at)

    def queue_test(self, subscription_id: int) -> Delivery:
        """Queue a ``webhook.test`` message to the subscription (sent with what is due)."""
        self._actor.require("integrations", "write")
        at = self._clock.now()
        body = {
            "type": "webhook.test",
            "timestamp": at.isoformat(),
            "data": {"subscription_id": subscription_id},
        }
        new = NewDelivery(
            subscription_id, f"msg_test_{uuid.uuid4().hex}", "webhook.test", json.dumps(body)
        )
        with self._uow() as uow:
            self._load(uow, subscription_id)
            uow.integration.add_deliveries([new], at)
            record(uow, self._actor, at, "webhook.test", "webhook", subscription_id)
            uow.commit()
        return self._queued(subscription_id, new.msg_id)

    def _queued(self, subscription_id: int, msg_id: str) -> Delivery:
        with self._uow(readonly=True) as uow:
            found = uow.integration.deliveries(subscription_id, None, 50)
        return _delivery(next(r for r in found if r.msg_id == msg_id))

    def send_test(self, subscription_id: int) -> Delivery:
        """Queue a ``webhook.test`` message and send what is due now; the delivery as it
        went."""
        queued = self.queue_test(subscription_id)
        self.deliver_due()
        return self._queued(subscription_id, queued.msg_id)

    # -- the worker's side -------------------------------------------------------------

    def fan_out(self, events: Sequence[OutboxEvent]) -> int:
        """Queue one delivery per event and matching active subscription (events older
        than a subscription are not its); returns how many were new."""
        at = self._clock.now()
        with self._uow() as uow:
            subs = uow.integration.active_subscriptions()
            rows = [
                NewDelivery(s.id, e.msg_id, e.type, message_body(e))
                for e in events
                for s in subs
                if e.occurred_at >= s.created_at and matches(s.event_types, e.type)
            ]
            added = uow.integration.add_deliveries(rows, at) if rows else 0
            uow.commit()
        return added

    def deliver_due(self, limit: int = DUE_BATCH) -> int:
        """Send the deliveries that are due (at most ``limit``; up to :data:`PARALLEL`
        lanes at once, each aggregate's in order) and record how each went in one
        transaction; returns how many were attempted. A worker dying before it records
        them sends them again later. Looking costs a read only: an idle worker takes no
        write lock (on SQLite it would queue behind every writer of the book)."""
        if self._sender is None:
            raise InvalidFieldError("sender", "this process sends no webhooks")
        now = self._clock.now()
        with self._uow(readonly=True) as uow:
            if not uow.integration.any_due(now):
                return 0
        with self._uow() as uow:
            due = uow.integration.claim_due(now, now + LEASE, limit)
            subs = {i: self._load(uow, i) for i in {r.subscription_id for r in due}}
            uow.commit()
        if not due:
            return 0
        keys = {i: self.signing_keys(s, now) for i, s in subs.items() if s.status == "active"}
        lanes = _lanes(due)
        if len(lanes) == 1:
            sent = self._attempt_lane(lanes[0], subs, keys)
        else:
            with ThreadPoolExecutor(min(PARALLEL, len(lanes))) as pool:
                done = pool.map(lambda lane: self._attempt_lane(lane, subs, keys), lanes)
                sent = [attempt for lane in done for attempt in lane]
        self._finish(sent, subs)
        return len(due)

    def _attempt_lane(
        self,
        lane: Sequence[DeliveryRow],
        subs: Mapping[int, SubscriptionRow],
        keys: Mapping[int, Sequence[str]],
    ) -> builtins.list[tuple[DeliveryRow, SendResult | None, datetime]]:
        return [self._attempt(row, subs[row.subscription_id], keys) for row in lane]

    def _attempt(
        self, row: DeliveryRow, sub: SubscriptionRow, keys: Mapping[int, Sequence[str]]
    ) -> tuple[DeliveryRow, SendResult | None, datetime]:
        assert self._sender is not None
        at = self._clock.now()
        if sub.status != "active":
            return row, None, at
        body = row.body.encode()
        headers = signed_headers(keys[sub.id], row.msg_id, at, body)
        return row, self._sender.send(sub.url, headers, body), at

    def _finish(
        self,
        sent: Sequence[tuple[DeliveryRow, SendResult | None, datetime]],
        subs: Mapping[int, SubscriptionRow],
    ) -> None:
        gone: dict[int, datetime] = {}
        with self._uow() as uow:
            for row, result, at in sent:
                if result is None:
                    outcome = Outcome("failed", None, "the subscription is disabled", 0)
                else:
                    outcome = judge(row.attempts + 1, result, self._draw())
                attempt = AttemptRow(row.id, at, outcome.code, outcome.error, outcome.duration_ms)
                next_at = None if outcome.retry_after is None else at + outcome.retry_after
                uow.integration.finish_attempt(row, attempt, outcome.status, next_at)
                if outcome.gone:
                    gone[row.subscription_id] = at
            for subscription_id, at in gone.items():
                self._disable_gone(uow, subs[subscription_id], at)
            uow.commit()

    def _disable_gone(self, uow: IntegrationUnitOfWork, sub: SubscriptionRow, at: datetime) -> None:
        current = uow.integration.subscription(sub.id)
        if current is None or current.status != "active":
            return
        reason = "the receiver answered 410 Gone"
        after = replace(
            current,
            status="disabled",
            disabled_reason=reason,
            version=current.version + 1,
            updated_at=at,
        )
        if uow.integration.update_subscription(after, current.version):
            uow.integration.abandon_pending(sub.id, reason)
            record(
                uow,
                self._actor,
                at,
                "webhook.disable",
                "webhook",
                sub.id,
                _view(current),
                _view(after),
            )


def _expect(row: SubscriptionRow, if_version: int | None) -> None:
    if if_version is not None and row.version != if_version:
        raise VersionConflictError(f"webhook {row.id}", if_version, row.version)


def _check_description(text: str) -> str:
    if len(text) > 200 or any(ord(c) < 32 for c in text):
        raise InvalidFieldError("description", "at most 200 characters on one line")
    return text
