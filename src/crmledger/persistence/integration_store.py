"""``IntegrationStore`` on SQLAlchemy Core: the relay's progress, webhooks, inbound events.

Claims are upserts that only take a row nobody holds (``ON CONFLICT ... DO UPDATE ...
WHERE`` the lease ran out, ``RETURNING`` what was taken), so two workers racing for the same
event never both get it; on PostgreSQL the candidates are read ``FOR UPDATE SKIP LOCKED``
so workers also skip each other's batches while they are being claimed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crmledger.core.integration.events import OutboxEvent
from crmledger.persistence.access_store import aware
from crmledger.persistence.billing_tables import outbox_events
from crmledger.persistence.integration_tables import (
    inbound_events,
    outbox_relay,
    relay_state,
    webhook_attempts,
    webhook_deliveries,
    webhook_subscriptions,
)
from crmledger.services.integration_ports import (
    AttemptRow,
    DeliveryRow,
    NewDelivery,
    RelayStatus,
    SubscriptionRow,
)

_e, _r = outbox_events.c, outbox_relay.c
_s, _d = webhook_subscriptions.c, webhook_deliveries.c
_RELAY = "outbox"
#: A lease that ran out long ago: what a released claim is set to.
_EXPIRED = datetime(2000, 1, 1, tzinfo=UTC)
_CHUNK = 500


def _at(value: datetime | None) -> datetime:
    found = aware(value)
    assert found is not None
    return found


def upsert(conn: Connection, table: Any) -> Any:
    """The dialect's ``INSERT`` with ``ON CONFLICT`` support."""
    return (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)


def _event(row: Row[Any]) -> OutboxEvent:
    return OutboxEvent(
        id=int(row.id),
        aggregate=row.aggregate,
        aggregate_id=int(row.aggregate_id),
        seq=int(row.seq),
        type=row.type,
        payload=row.payload,
        occurred_at=_at(row.occurred_at),
    )


def _subscription(row: Row[Any]) -> SubscriptionRow:
    return SubscriptionRow(
        id=int(row.id),
        url=row.url,
        event_types=tuple(json.loads(row.event_types)),
        description=row.description,
        secrets_enc=row.secrets_enc,
        previous_until=aware(row.previous_until),
        status=row.status,
        disabled_reason=row.disabled_reason,
        version=int(row.version),
        created_at=_at(row.created_at),
        updated_at=_at(row.updated_at),
    )


def _delivery(row: Row[Any]) -> DeliveryRow:
    return DeliveryRow(
        id=int(row.id),
        subscription_id=int(row.subscription_id),
        msg_id=row.msg_id,
        event_type=row.event_type,
        body=row.body,
        status=row.status,
        attempts=int(row.attempts),
        next_attempt_at=aware(row.next_attempt_at),
        last_code=row.last_code,
        last_error=row.last_error,
        created_at=_at(row.created_at),
        delivered_at=aware(row.delivered_at),
    )


def _subscription_values(row: SubscriptionRow) -> dict[str, Any]:
    return {
        "url": row.url,
        "event_types": json.dumps(list(row.event_types)),
        "description": row.description,
        "secrets_enc": row.secrets_enc,
        "previous_until": row.previous_until,
        "status": row.status,
        "disabled_reason": row.disabled_reason,
        "version": row.version,
        "updated_at": row.updated_at,
    }


class SqlIntegrationStore:
    """The integration tables in one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @property
    def _postgres(self) -> bool:
        return self._conn.dialect.name == "postgresql"

    # -- relay -----------------------------------------------------------------------

    def relay_watermark(self) -> int:
        found = self._conn.execute(
            select(relay_state.c.watermark).where(relay_state.c.name == _RELAY)
        ).scalar_one_or_none()
        return int(found or 0)

    def relay_candidates(
        self, after: int, now: datetime, limit: int, lock: bool = True
    ) -> list[OutboxEvent]:
        joined = outbox_events.outerjoin(outbox_relay, _r.event_id == _e.id)
        free = or_(_r.event_id.is_(None), and_(_r.state == "claimed", _r.lease_until < now))
        stmt = (
            select(_e.id, _e.aggregate, _e.aggregate_id, _e.seq, _e.type, _e.payload)
            .add_columns(_e.occurred_at)
            .select_from(joined)
            .where(_e.id > after, free)
            .order_by(_e.id)
            .limit(limit)
        )
        if lock and self._postgres:
            stmt = stmt.with_for_update(skip_locked=True, of=outbox_events)
        return [_event(r) for r in self._conn.execute(stmt)]

    def unsent_of(self, after: int, keys: Sequence[tuple[str, int]]) -> list[tuple[int, str, int]]:
        found: list[tuple[int, str, int]] = []
        joined = outbox_events.outerjoin(outbox_relay, _r.event_id == _e.id)
        for start in range(0, len(keys), _CHUNK):
            chunk = list(keys[start : start + _CHUNK])
            stmt = (
                select(_e.id, _e.aggregate, _e.aggregate_id)
                .select_from(joined)
                .where(_e.id > after, or_(_r.event_id.is_(None), _r.state == "claimed"))
                .where(tuple_(_e.aggregate, _e.aggregate_id).in_(chunk))
            )
            found += [(int(i), a, int(ai)) for i, a, ai in self._conn.execute(stmt)]
        return found

    def claim_events(
        self, ids: Sequence[int], worker: str, now: datetime, until: datetime
    ) -> set[int]:
        claimed: set[int] = set()
        for start in range(0, len(ids), _CHUNK):
            rows = [
                {"event_id": i, "state": "claimed", "worker": worker, "lease_until": until}
                for i in ids[start : start + _CHUNK]
            ]
            stmt = upsert(self._conn, outbox_relay).values(rows)
            stmt = stmt.on_conflict_do_update(
                index_elements=[_r.event_id],
                set_={
                    "worker": stmt.excluded.worker,
                    "lease_until": stmt.excluded.lease_until,
                    "claims": outbox_relay.c.claims + 1,
                },
                where=and_(_r.state == "claimed", _r.lease_until < now),
            ).returning(_r.event_id)
            claimed |= {int(i) for (i,) in self._conn.execute(stmt)}
        return claimed

    def release(self, ids: Sequence[int], worker: str) -> None:
        if ids:
            self._conn.execute(
                update(outbox_relay)
                .where(_r.event_id.in_(list(ids)), _r.worker == worker, _r.state == "claimed")
                .values(lease_until=_EXPIRED)
            )

    def mark_sent(self, ids: Sequence[int], at: datetime) -> None:
        for start in range(0, len(ids), _CHUNK):
            chunk = list(ids[start : start + _CHUNK])
            self._conn.execute(
                update(outbox_relay)
                .where(_r.event_id.in_(chunk))
                .values(state="sent", sent_at=at, lease_until=at)
            )

    def advance_watermark(self, horizon: datetime, at: datetime) -> int:
        current = self.relay_watermark()
        joined = outbox_events.outerjoin(outbox_relay, _r.event_id == _e.id)
        unsent = or_(_r.event_id.is_(None), _r.state != "sent")
        first_unsent = self._conn.execute(
            select(func.min(_e.id)).select_from(joined).where(_e.id > current, unsent)
        ).scalar_one()
        old_enough = self._conn.execute(
            select(func.max(_e.id)).where(_e.id > current, _e.occurred_at <= horizon)
        ).scalar_one()
        if old_enough is None:
            return current
        target = int(old_enough)
        if first_unsent is not None:
            target = min(target, int(first_unsent) - 1)
        if target <= current:
            return current
        self._set_watermark(current, target, at)
        self._conn.execute(delete(outbox_relay).where(_r.event_id <= target))
        return target

    def _set_watermark(self, current: int, target: int, at: datetime) -> None:
        t = relay_state.c
        if current == 0 and self.relay_watermark() == 0:
            stmt = upsert(self._conn, relay_state).values(
                name=_RELAY, watermark=target, updated_at=at
            )
            self._conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[t.name], set_={"watermark": target, "updated_at": at}
                )
            )
            return
        self._conn.execute(
            update(relay_state)
            .where(t.name == _RELAY, t.watermark < target)
            .values(watermark=target, updated_at=at)
        )

    def relay_status(self) -> RelayStatus:
        watermark = self.relay_watermark()
        joined = outbox_events.outerjoin(outbox_relay, _r.event_id == _e.id)
        unsent = self._conn.execute(
            select(func.count())
            .select_from(joined)
            .where(_e.id > watermark, or_(_r.event_id.is_(None), _r.state != "sent"))
        ).scalar_one()
        last = self._conn.execute(select(func.max(_e.id))).scalar_one()
        return RelayStatus(watermark, int(unsent), int(last or 0))

    # -- subscriptions ---------------------------------------------------------------

    def add_subscription(self, row: SubscriptionRow) -> int:
        values = _subscription_values(row) | {"created_at": row.created_at}
        stmt = insert(webhook_subscriptions).values(values).returning(_s.id)
        return int(self._conn.execute(stmt).scalar_one())

    def set_subscription_secrets(self, subscription_id: int, secrets_enc: str) -> None:
        self._conn.execute(
            update(webhook_subscriptions)
            .where(_s.id == subscription_id)
            .values(secrets_enc=secrets_enc)
        )

    def subscription(self, subscription_id: int) -> SubscriptionRow | None:
        row = self._conn.execute(
            select(webhook_subscriptions).where(_s.id == subscription_id)
        ).first()
        return None if row is None else _subscription(row)

    def subscriptions(self, after: int | None, limit: int) -> list[SubscriptionRow]:
        stmt = select(webhook_subscriptions).order_by(_s.id).limit(limit)
        if after is not None:
            stmt = stmt.where(_s.id > after)
        return [_subscription(r) for r in self._conn.execute(stmt)]

    def active_subscriptions(self) -> list[SubscriptionRow]:
        stmt = select(webhook_subscriptions).where(_s.status == "active").order_by(_s.id)
        return [_subscription(r) for r in self._conn.execute(stmt)]

    def update_subscription(self, row: SubscriptionRow, expected_version: int) -> bool:
        done = self._conn.execute(
            update(webhook_subscriptions)
            .where(_s.id == row.id, _s.version == expected_version)
            .values(_subscription_values(row))
        )
        return done.rowcount == 1

    # -- deliveries ------------------------------------------------------------------

    def add_deliveries(self, rows: Sequence[NewDelivery], at: datetime) -> int:
        added = 0
        for start in range(0, len(rows), _CHUNK):
            values = [
                {
                    "subscription_id": r.subscription_id,
                    "msg_id": r.msg_id,
                    "event_type": r.event_type,
                    "body": r.body,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": at,
                    "last_error": "",
                    "created_at": at,
                }
                for r in rows[start : start + _CHUNK]
            ]
            stmt = upsert(self._conn, webhook_deliveries).values(values)
            stmt = stmt.on_conflict_do_nothing(index_elements=[_d.subscription_id, _d.msg_id])
            added += len(self._conn.execute(stmt.returning(_d.id)).all())
        return added

    @staticmethod
    def _due(now: datetime) -> Any:
        free = or_(_d.lease_until.is_(None), _d.lease_until < now)
        return and_(_d.status == "pending", _d.next_attempt_at <= now, free)

    def any_due(self, now: datetime) -> bool:
        stmt = select(_d.id).where(self._due(now)).limit(1)
        return self._conn.execute(stmt).first() is not None

    def claim_due(self, now: datetime, until: datetime, limit: int) -> list[DeliveryRow]:
        free = or_(_d.lease_until.is_(None), _d.lease_until < now)
        stmt = select(_d.id).where(self._due(now)).order_by(_d.next_attempt_at, _d.id).limit(limit)
        if self._postgres:
            stmt = stmt.with_for_update(skip_locked=True)
        ids = [int(i) for (i,) in self._conn.execute(stmt)]
        if not ids:
            return []
        taken = self._conn.execute(
            update(webhook_deliveries)
            .where(_d.id.in_(ids), free)
            .values(lease_until=until)
            .returning(*webhook_deliveries.c)
        ).all()
        return sorted((_delivery(r) for r in taken), key=lambda d: d.id)

    def finish_attempt(
        self, row: DeliveryRow, attempt: AttemptRow, status: str, next_at: datetime | None
    ) -> None:
        self._conn.execute(
            insert(webhook_attempts).values(
                delivery_id=row.id,
                attempted_at=attempt.attempted_at,
                status_code=attempt.status_code,
                error=attempt.error[:500],
                duration_ms=attempt.duration_ms,
            )
        )
        delivered = attempt.attempted_at if status == "delivered" else None
        self._conn.execute(
            update(webhook_deliveries)
            .where(_d.id == row.id)
            .values(
                status=status,
                attempts=_d.attempts + 1,
                next_attempt_at=next_at,
                lease_until=None,
                last_code=attempt.status_code,
                last_error=attempt.error[:500],
                delivered_at=delivered,
            )
        )

    def delivery(self, delivery_id: int) -> DeliveryRow | None:
        row = self._conn.execute(select(webhook_deliveries).where(_d.id == delivery_id)).first()
        return None if row is None else _delivery(row)

    def deliveries(self, subscription_id: int, before: int | None, limit: int) -> list[DeliveryRow]:
        stmt = (
            select(webhook_deliveries)
            .where(_d.subscription_id == subscription_id)
            .order_by(_d.id.desc())
            .limit(limit)
        )
        if before is not None:
            stmt = stmt.where(_d.id < before)
        return [_delivery(r) for r in self._conn.execute(stmt)]

    def attempts(self, delivery_id: int) -> list[AttemptRow]:
        a = webhook_attempts.c
        stmt = select(webhook_attempts).where(a.delivery_id == delivery_id).order_by(a.id)
        return [
            AttemptRow(
                delivery_id=int(r.delivery_id),
                attempted_at=_at(r.attempted_at),
                status_code=r.status_code,
                error=r.error,
                duration_ms=int(r.duration_ms),
            )
            for r in self._conn.execute(stmt)
        ]

    def requeue(self, delivery_id: int, at: datetime) -> None:
        self._conn.execute(
            update(webhook_deliveries)
            .where(_d.id == delivery_id)
            .values(status="pending", next_attempt_at=at, lease_until=None, delivered_at=None)
        )

    def abandon_pending(self, subscription_id: int, reason: str) -> int:
        done = self._conn.execute(
            update(webhook_deliveries)
            .where(_d.subscription_id == subscription_id, _d.status == "pending")
            .values(status="failed", next_attempt_at=None, lease_until=None, last_error=reason)
        )
        return int(done.rowcount)

    # -- inbound ---------------------------------------------------------------------

    def add_inbound(self, connector_id: int, event_id: str, at: datetime, outcome: str) -> bool:
        i = inbound_events.c
        stmt = upsert(self._conn, inbound_events).values(
            connector_id=connector_id, event_id=event_id, received_at=at, outcome=outcome
        )
        stmt = stmt.on_conflict_do_nothing(index_elements=[i.connector_id, i.event_id])
        return self._conn.execute(stmt.returning(i.event_id)).first() is not None
