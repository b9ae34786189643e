"""The NATS JetStream bus against the local NATS server: the relay publishes into a stream,
durable consumers get every event, a republished event is dropped by the stream, and what a
consumer took and died on (a real process killed mid-batch) comes again to the next one.

Skipped, saying why, when no NATS server listens on ``CRMLEDGER_TEST_NATS_URL``
(``nats://127.0.0.1:4222`` by default).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from crmledger.bootstrap import App
from crmledger.integration.nats_bus import NatsEventBus
from tests.conftest import FixedClock
from tests.integration_sync.helpers import Receiver, busy_book, customer, relay_for

NATS_URL = os.environ.get("CRMLEDGER_TEST_NATS_URL", "nats://127.0.0.1:4222")


def _nats_up() -> bool:
    parts = urlsplit(NATS_URL)
    try:
        with socket.create_connection((parts.hostname or "", parts.port or 4222), timeout=1):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _nats_up(), reason=f"no NATS server at {NATS_URL}")


@pytest.fixture
def prefix() -> Iterator[str]:
    name = f"t{uuid.uuid4().hex[:10]}"
    yield name
    bus = NatsEventBus(NATS_URL, name)
    bus.delete_stream()
    bus.close()


def _pump_until(bus: NatsEventBus, receiver: Receiver, count: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while len(receiver.applied) < count and time.monotonic() < deadline:
        bus.pump(100, 0.3)


def test_the_relay_publishes_to_jetstream_and_a_durable_consumer_gets_each_event_once(
    app: App, clock: FixedClock, prefix: str
) -> None:
    made = busy_book(app, parties=2, updates=2)
    total = sum(made.values())
    bus = NatsEventBus(NATS_URL, prefix, ack_wait=10)
    try:
        receiver = Receiver()
        bus.subscribe("receiver", receiver)
        relay = relay_for(app, clock, bus, "w-1", batch=3)
        batch = relay.claim()
        bus.publish(batch)  # the worker dies after publishing: the batch goes out again
        clock.current += timedelta(seconds=31)
        assert relay.drain() == total
        _pump_until(bus, receiver, total, 10)
        assert bus.stored() == total  # the stream dropped the republished ids
        assert receiver.per_aggregate() == made
        assert receiver.gaps == []
        assert bus.pending("receiver") == 0
    finally:
        bus.close()


CRASHING_CONSUMER = """
import os, sys
from crmledger.integration.nats_bus import NatsEventBus
bus = NatsEventBus(sys.argv[1], sys.argv[2], ack_wait=1)
def die(events):
    print(len(events), flush=True)
    os._exit(9)  # killed while handling, before acknowledging
bus.subscribe("receiver", die)
bus.pump(100, 5)
"""


def test_a_consumer_killed_mid_batch_loses_nothing(
    app: App, clock: FixedClock, prefix: str
) -> None:
    made = busy_book(app, parties=2, updates=1)
    total = sum(made.values())
    bus = NatsEventBus(NATS_URL, prefix, ack_wait=1)
    try:
        assert relay_for(app, clock, bus, "w-1").drain() == total
        crashed = subprocess.run(
            [sys.executable, "-c", CRASHING_CONSUMER, NATS_URL, prefix],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert crashed.returncode == 9, crashed.stderr
        assert int(crashed.stdout.strip()) == total  # it held every event when it died
        receiver = Receiver()
        bus.subscribe("receiver", receiver)
        _pump_until(bus, receiver, total, 15)
        assert receiver.per_aggregate() == made
        assert receiver.gaps == []
    finally:
        bus.close()


def test_a_handler_that_fails_gets_the_events_again(
    app: App, clock: FixedClock, prefix: str
) -> None:
    party = customer(app)
    app.parties.update(party, {"segment": "a"}, None)
    bus = NatsEventBus(NATS_URL, prefix, ack_wait=5)
    try:
        relay_for(app, clock, bus, "w-1").drain()
        failures = []

        def flaky(events: object) -> None:
            failures.append(events)
            raise RuntimeError("database down")

        bus.subscribe("receiver", flaky)
        with pytest.raises(RuntimeError):
            bus.pump(100, 2)
        receiver = Receiver()
        bus.subscribe("receiver", receiver)
        _pump_until(bus, receiver, 2, 10)
        assert [e.seq for e in receiver.applied] == [1, 2]
        assert len(failures) == 1
    finally:
        bus.close()
