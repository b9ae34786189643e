"""The in-process event bus: what the relay publishes is handed to the subscribers at once.

A subscriber runs inside ``publish``; if it raises, ``publish`` raises and the relay does
not mark the events sent, so they come again (subscribers deduplicate). Nothing is kept in
memory between calls, so a crash loses nothing the outbox does not still hold::

    bus = InProcessBus()
    bus.subscribe("webhooks", webhooks.fan_out)
    OutboxRelay(uow, clock, bus, "w-1").step()
"""

from __future__ import annotations

from collections.abc import Sequence

from crmledger.core.integration.events import OutboxEvent
from crmledger.services.integration_ports import Handler


class InProcessBus:
    """Publishes to subscribers in this process (see the module)."""

    def __init__(self) -> None:
        self._subscribers: dict[str, Handler] = {}

    def subscribe(self, name: str, handle: Handler) -> None:
        """Call ``handle`` with every batch published from now on."""
        self._subscribers[name] = handle

    def publish(self, events: Sequence[OutboxEvent]) -> None:
        for handle in list(self._subscribers.values()):
            handle(events)

    def pump(self, limit: int, wait: float) -> int:
        """Nothing waits here: subscribers got every event in :meth:`publish`."""
        del limit, wait
        return 0

    def close(self) -> None:
        """Nothing to release."""
