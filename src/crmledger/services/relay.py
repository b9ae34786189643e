"""The outbox relay: events leave the book for the bus, at least once, in order per aggregate.

Each step takes three moves, each safe to die after::

    claim    (one transaction)  lease a batch of unsent events to this worker
    publish  (outside it)       hand them to the bus, which answers once it holds them
    mark     (one transaction)  record them as sent

A worker that dies before publishing leaves a lease that runs out, and another worker (or
the same one, restarted) claims the events again; one that dies after publishing but
before marking publishes them again, which the bus and the receivers deduplicate by the
event's id. Several workers may run: on PostgreSQL the claim locks candidate rows with
``FOR UPDATE SKIP LOCKED``, so workers take different batches at once; SQLite's
``BEGIN IMMEDIATE`` lets one claim at a time.

Order per aggregate holds across workers: an event is claimed only together with every
earlier unsent event of its aggregate, so no worker publishes ``invoice 12 #3`` while
``#2`` is still leased to another::

    relay = OutboxRelay(uow, clock, bus, worker="host-1:4242")
    while True:
        if not relay.step():
            time.sleep(0.2)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from crmledger.core.integration.events import OutboxEvent
from crmledger.services.integration_ports import (
    EventBus,
    IntegrationUnitOfWork,
    IntegrationUnitOfWorkFactory,
    RelayStatus,
)
from crmledger.services.ports import Clock

#: How long a claimed batch is a worker's alone.
LEASE = timedelta(seconds=30)
#: How long after an event occurred the watermark may pass it: a transaction that wrote an
#: outbox row with a lower id and commits later than this could otherwise be skipped.
GRACE = timedelta(seconds=60)
BATCH = 200


def in_aggregate_order(
    candidates: Sequence[OutboxEvent], unsent: Sequence[tuple[int, str, int]]
) -> list[OutboxEvent]:
    """Of ``candidates``, those whose earlier unsent events (``unsent``: id, aggregate,
    aggregate id) are all candidates too, so publishing them keeps each aggregate's order.
    """
    mine = {e.id: e for e in candidates}
    per_key: dict[tuple[str, int], list[int]] = defaultdict(list)
    for ident, aggregate, aggregate_id in unsent:
        per_key[(aggregate, aggregate_id)].append(ident)
    ready: list[OutboxEvent] = []
    for ids in per_key.values():
        for ident in sorted(ids):
            if ident not in mine:
                break  # an earlier event is another worker's (or past this batch)
            ready.append(mine[ident])
    return sorted(ready, key=lambda e: e.id)


class OutboxRelay:
    """Moves outbox events to an :class:`EventBus` (see the module)."""

    def __init__(
        self,
        uow: IntegrationUnitOfWorkFactory,
        clock: Clock,
        bus: EventBus,
        worker: str,
        *,
        lease: timedelta = LEASE,
        batch: int = BATCH,
        grace: timedelta = GRACE,
    ) -> None:
        self._uow, self._clock, self._bus, self.worker = uow, clock, bus, worker
        self._lease, self._batch, self._grace = lease, batch, grace

    def claim(self) -> list[OutboxEvent]:
        """Lease the next batch this worker may publish, oldest first."""
        now = self._clock.now()
        if not self._anything(now):
            return []
        with self._uow() as uow:
            after = uow.integration.relay_watermark()
            candidates = uow.integration.relay_candidates(after, now, self._batch)
            if not candidates:
                uow.integration.advance_watermark(now - self._grace, now)
                uow.commit()
                return []
            ready = self._ordered(uow, after, candidates)
            ids = [e.id for e in ready]
            got = uow.integration.claim_events(ids, self.worker, now, now + self._lease)
            if len(got) < len(ready):
                # Another worker took some of them meanwhile: keep what still follows on
                # from what was sent, per aggregate, and let the rest go.
                kept = in_aggregate_order([e for e in ready if e.id in got], self._gaps(ready))
                uow.integration.release(sorted(got - {e.id for e in kept}), self.worker)
                ready = kept
            uow.commit()
        return ready

    @staticmethod
    def _gaps(ready: Sequence[OutboxEvent]) -> list[tuple[int, str, int]]:
        return [(e.id, e.aggregate, e.aggregate_id) for e in ready]

    def _anything(self, now: datetime) -> bool:
        # A read first: an idle worker polling must not take SQLite's write lock each time.
        with self._uow(readonly=True) as uow:
            after = uow.integration.relay_watermark()
            return bool(uow.integration.relay_candidates(after, now, 1, lock=False))

    def _ordered(
        self, uow: IntegrationUnitOfWork, after: int, candidates: Sequence[OutboxEvent]
    ) -> list[OutboxEvent]:
        keys = sorted({e.key for e in candidates})
        return in_aggregate_order(candidates, uow.integration.unsent_of(after, keys))

    def mark(self, events: Sequence[OutboxEvent]) -> None:
        """Record ``events`` as sent and move the watermark."""
        now = self._clock.now()
        with self._uow() as uow:
            uow.integration.mark_sent([e.id for e in events], now)
            uow.integration.advance_watermark(now - self._grace, now)
            uow.commit()

    def step(self) -> int:
        """Claim, publish and mark one batch; returns how many events were sent."""
        events = self.claim()
        if not events:
            return 0
        self._bus.publish(events)
        self.mark(events)
        return len(events)

    def drain(self, rounds: int = 1000) -> int:
        """Step until nothing is left (at most ``rounds`` batches); returns events sent."""
        sent = 0
        for _ in range(rounds):
            done = self.step()
            if not done:
                break
            sent += done
        return sent

    def status(self) -> RelayStatus:
        """The watermark, how many events are unsent, and the newest event's id."""
        with self._uow(readonly=True) as uow:
            return uow.integration.relay_status()
