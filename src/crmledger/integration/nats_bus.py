"""The NATS JetStream event bus: events kept on disk by the server, consumed by durable
pull consumers, redelivered when a consumer did not acknowledge them in time.

Each event is published to ``<prefix>.events.<aggregate>.<type>`` with the header
``Nats-Msg-Id: <prefix>:<event id>``; the stream drops a message whose id it saw within its
duplicate window, so a relay that published and died before marking the events sent
publishes them again without doubling them. A subscriber is a durable consumer: what it
fetched and did not acknowledge within ``ack_wait`` (its process died, its handler
raised) is delivered again, to it or to another process using the same name::

    bus = NatsEventBus("nats://127.0.0.1:4222", prefix="crmledger")
    bus.subscribe("webhooks", webhooks.fan_out)
    relay = OutboxRelay(uow, clock, bus, "w-1")
    relay.step(); bus.pump(limit=100, wait=0.5)

nats-py is asyncio; the bus runs its own event loop in a thread, so the services stay
synchronous.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from crmledger.core.integration.events import OutboxEvent, envelope, event_of
from crmledger.services.integration_ports import Handler

T = TypeVar("T")
_PREFIX = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
#: Seconds within which the stream drops a message id it has seen.
DUPLICATE_WINDOW = 600.0


class BusError(RuntimeError):
    """The bus could not take or hand over events (NATS unreachable, stream refused)."""


def stream_name(prefix: str) -> str:
    """The JetStream stream of a prefix (``crmledger`` -> ``CRMLEDGER_EVENTS``)."""
    return f"{prefix.upper().replace('-', '_')}_EVENTS"


class NatsEventBus:
    """An :class:`~crmledger.services.integration_ports.EventBus` on NATS JetStream."""

    def __init__(
        self,
        url: str,
        prefix: str = "crmledger",
        *,
        ack_wait: float = 30.0,
        timeout: float = 5.0,
    ) -> None:
        if not _PREFIX.match(prefix):
            raise ValueError("a bus prefix is 1 to 40 letters, digits, _ or -")
        self.url, self.prefix, self.stream = url, prefix, stream_name(prefix)
        self._ack_wait, self._timeout = ack_wait, timeout
        self._handlers: dict[str, Handler] = {}
        self._subs: dict[str, JetStreamContext.PullSubscription] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self.last_error = ""
        try:
            self._call(self._connect())
        except BaseException:
            self._stop_loop()
            raise

    def _call(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()

    async def _connect(self) -> None:
        try:
            self._nc = await nats.connect(
                self.url,
                connect_timeout=self._timeout,
                max_reconnect_attempts=3,
                allow_reconnect=True,
                error_cb=self._noted,
            )
        except Exception as exc:
            raise BusError(f"cannot reach NATS at {self.url}: {exc}") from None
        self._js = self._nc.jetstream(timeout=self._timeout)
        config = StreamConfig(
            name=self.stream,
            subjects=[f"{self.prefix}.events.>"],
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW,
        )
        try:
            await self._js.add_stream(config)
        except BadRequestError:
            await self._js.update_stream(config)

    async def _noted(self, error: Exception) -> None:
        # Connection trouble surfaces as a BusError from the call it breaks; nats-py's
        # own report (a traceback on stderr) would only repeat it.
        self.last_error = f"{type(error).__name__}: {error}"

    @property
    def _jetstream(self) -> JetStreamContext:
        if self._js is None:
            raise BusError("the bus is closed")
        return self._js

    def subject(self, event: OutboxEvent) -> str:
        """Where ``event`` is published."""
        return f"{self.prefix}.events.{event.aggregate}.{event.type}"

    # -- publishing ------------------------------------------------------------------

    def publish(self, events: Sequence[OutboxEvent]) -> None:
        self._call(self._publish(events))

    async def _publish(self, events: Sequence[OutboxEvent]) -> None:
        js = self._jetstream
        for event in events:
            body = json.dumps(envelope(event), sort_keys=True).encode()
            headers = {"Nats-Msg-Id": f"{self.prefix}:{event.id}"}
            try:
                await js.publish(self.subject(event), body, stream=self.stream, headers=headers)
            except Exception as exc:
                raise BusError(f"NATS did not take event {event.id}: {exc}") from None

    # -- consuming -------------------------------------------------------------------

    def subscribe(self, name: str, handle: Handler) -> None:
        """Hand events to ``handle`` through the durable consumer ``name``."""
        self._handlers[name] = handle

    def pump(self, limit: int, wait: float) -> int:
        handled = 0
        for name, handle in list(self._handlers.items()):
            handled += self._call(self._pull(name, handle, limit, wait))
        return handled

    async def _subscription(self, name: str) -> JetStreamContext.PullSubscription:
        found = self._subs.get(name)
        if found is None:
            config = ConsumerConfig(
                durable_name=name,
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=self._ack_wait,
                deliver_policy=DeliverPolicy.ALL,
                max_deliver=-1,
            )
            found = await self._jetstream.pull_subscribe(
                f"{self.prefix}.events.>", durable=name, stream=self.stream, config=config
            )
            self._subs[name] = found
        return found

    async def _pull(self, name: str, handle: Handler, limit: int, wait: float) -> int:
        subscription = await self._subscription(name)
        try:
            messages = await subscription.fetch(limit, timeout=wait)
        except (TimeoutError, NatsTimeout):
            return 0
        events = [event_of(json.loads(m.data)) for m in messages]
        try:
            await asyncio.get_running_loop().run_in_executor(None, handle, events)
        except Exception:
            await self._settle(messages, ack=False)
            raise
        await self._settle(messages, ack=True)
        return len(events)

    async def _settle(self, messages: Sequence[Msg], ack: bool) -> None:
        for message in messages:
            await (message.ack() if ack else message.nak(delay=1.0))
        if self._nc is not None:
            await self._nc.flush(timeout=max(1, int(self._timeout)))

    # -- inspection and teardown -----------------------------------------------------

    def pending(self, name: str) -> int:
        """Events the consumer ``name`` has not acknowledged yet (0 before it exists)."""
        return self._call(self._pending(name))

    async def _pending(self, name: str) -> int:
        try:
            info = await self._jetstream.consumer_info(self.stream, name)
        except NotFoundError:
            return 0
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)

    def stored(self) -> int:
        """How many messages the stream holds (a republished event is not stored twice)."""
        return self._call(self._stored())

    async def _stored(self) -> int:
        info = await self._jetstream.stream_info(self.stream)
        return int(info.state.messages)

    def delete_stream(self) -> None:
        """Remove the stream and its consumers (tests, and a book taken down)."""
        self._call(self._delete_stream())

    async def _delete_stream(self) -> None:
        with contextlib.suppress(NotFoundError):
            await self._jetstream.delete_stream(self.stream)

    def close(self) -> None:
        """Close the connection and stop the loop (unacknowledged events stay with the
        server, for the next consumer)."""
        try:
            if self._nc is not None and not self._nc.is_closed:
                self._call(self._nc.close())
        finally:
            self._nc, self._js = None, None
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._loop.is_running():
            self._loop.close()
