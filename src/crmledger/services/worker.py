"""``crmledger worker``: the loop that carries the book's events outside.

Each round relays outbox events to the bus, lets the bus hand waiting events to its
subscribers (webhook fan-out, the sync push queue), sends the webhooks that are due and
pushes the queued sync changes. Any number of workers may run against one book; each round
is made of short transactions, so a worker killed at any point leaves nothing half done.

A round that found nothing to do is followed by a pause of at most ``idle`` seconds; with a
:class:`~crmledger.services.integration_ports.Doorbell` the pause ends as soon as a change
commits, so an event leaves within milliseconds rather than a polling interval::

    worker = Worker(relay, bus, [webhooks.deliver_due, sync.push_queued], doorbell=bell)
    worker.run(stop=lambda: stopping.is_set())
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from crmledger.services.integration_ports import Doorbell, EventBus
from crmledger.services.relay import OutboxRelay

Task = Callable[[], int]


@dataclass
class Worker:
    """Relay, pump and the periodic ``tasks`` (each returns how much it did); ``idle`` is
    the longest pause after an idle round, ``wait`` how long the bus may wait for events
    published elsewhere."""

    relay: OutboxRelay
    bus: EventBus
    tasks: Sequence[Task] = ()
    idle: float = 0.2
    wait: float = 0.05
    report: Callable[[str], None] = print
    doorbell: Doorbell | None = None
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
                self.pause()

    def pause(self) -> None:
        """Wait for the doorbell, or ``idle`` seconds at most (timed work, such as a retry
        coming due, is seen then)."""
        if self.doorbell is None:
            time.sleep(self.idle)
        else:
            self.doorbell.wait(self.idle)

    def close(self) -> None:
        """Let the doorbell go (the bus is its owner's to close)."""
        if self.doorbell is not None:
            self.doorbell.close()
            self.doorbell = None
