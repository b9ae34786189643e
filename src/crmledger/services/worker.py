"""``crmledger worker``: the loop that carries the book's events outside.

Each round relays outbox events to the bus, lets the bus hand waiting events to its
subscribers (webhook fan-out, the sync push queue), sends the webhooks that are due and
pushes the queued sync changes. Any number of workers may run against one book; each round
is made of short transactions, so a worker killed at any point leaves nothing half done::

    worker = Worker(relay, bus, [webhooks.deliver_due, sync.push_queued])
    worker.run(stop=lambda: stopping.is_set())
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from crmledger.services.integration_ports import EventBus
from crmledger.services.relay import OutboxRelay

Task = Callable[[], int]


@dataclass
class Worker:
    """Relay, pump and the periodic ``tasks`` (each returns how much it did)."""

    relay: OutboxRelay
    bus: EventBus
    tasks: Sequence[Task] = ()
    idle: float = 0.2
    wait: float = 0.05
    report: Callable[[str], None] = print
    rounds: int = field(default=0, init=False)

    def tick(self) -> int:
        """One round; returns how many events, messages and changes it moved."""
        self.rounds += 1
        moved = self.relay.step()
        moved += self.bus.pump(200, self.wait)
        for task in self.tasks:
            moved += task()
        return moved

    def run(self, stop: Callable[[], bool], max_rounds: int | None = None) -> None:
        """Go round until ``stop()`` (or ``max_rounds``); pause when a round found nothing.
        A failing round (the bus unreachable, a receiver's database down) is reported and
        retried after a pause: the outbox keeps what could not leave."""
        while not stop() and (max_rounds is None or self.rounds < max_rounds):
            try:
                busy = self.tick()
            except Exception as exc:  # a worker outlives one bad round
                self.report(f"worker: {type(exc).__name__}: {exc}")
                busy = 0
            if not busy:
                time.sleep(self.idle)
