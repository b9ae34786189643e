"""The outbox relay on both databases: every event leaves at least once, in order per
aggregate, whether the worker dies before publishing, after publishing or after marking
the batch sent; several workers share the work without reordering an aggregate."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from crmledger.bootstrap import App
from crmledger.core.integration.events import OutboxEvent
from crmledger.integration.bus import InProcessBus
from crmledger.services.relay import in_aggregate_order
from tests.conftest import FixedClock
from tests.integration_sync.helpers import Receiver, busy_book, customer, outbox_ids, relay_for

LEASE = timedelta(seconds=30)


def _bus(receiver: Receiver) -> InProcessBus:
    bus = InProcessBus()
    bus.subscribe("receiver", receiver)
    return bus


def test_services_write_events_per_aggregate_and_a_worker_relays_them_once_in_order(
    app: App, clock: FixedClock
) -> None:
    from sqlalchemy import text

    made = busy_book(app, parties=3, updates=2)
    with app.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT aggregate, aggregate_id, seq, type, payload FROM outbox_events ORDER BY id"
            )
        ).all()
    per: dict[tuple[str, int], list[int]] = {}
    for aggregate, aggregate_id, seq, _, _ in rows:
        per.setdefault((aggregate, int(aggregate_id)), []).append(int(seq))
    assert {k: len(v) for k, v in per.items()} == made
    assert all(seqs == list(range(1, len(seqs) + 1)) for seqs in per.values())
    kinds = [r[3] for r in rows]
    assert (kinds.count("party.created"), kinds.count("party.updated")) == (4, 6)
    assert kinds.count("deal.stage_changed") == 3
    assert '"stage": "won"' in rows[-1][4]
    assert all("Customer" not in r[4] for r in rows)  # ids, never names

    receiver = Receiver()
    relay = relay_for(app, clock, _bus(receiver), "w-1", batch=4)
    assert relay.status().unsent == sum(made.values())
    assert relay.drain() == sum(made.values())
    assert receiver.received == sum(made.values())
    assert receiver.per_aggregate() == made
    assert receiver.gaps == []
    assert [e.id for e in receiver.applied] == outbox_ids(app)
    assert relay.step() == 0
    assert relay.status().unsent == 0


def test_a_worker_dying_before_it_publishes_leaves_the_batch_to_another(
    app: App, clock: FixedClock
) -> None:
    made = busy_book(app, parties=2, updates=1)
    receiver = Receiver()
    bus = _bus(receiver)
    dead = relay_for(app, clock, bus, "dead", lease=LEASE)
    claimed = dead.claim()  # ... and the process dies here
    assert len(claimed) == sum(made.values())
    other = relay_for(app, clock, bus, "other", lease=LEASE)
    assert other.step() == 0  # the lease still holds
    clock.current += LEASE + timedelta(seconds=1)
    assert other.drain() == len(claimed)
    assert receiver.per_aggregate() == made
    assert receiver.gaps == []

    # A publish that fails is the same: the lease runs out and the events come again.
    late = customer(app, "Late")

    def broken(events: object) -> None:
        raise ConnectionError("bus down")

    bus.subscribe("broken", broken)
    with pytest.raises(ConnectionError):
        other.step()
    bus.subscribe("broken", lambda events: None)
    assert other.step() == 0
    clock.current += LEASE + timedelta(seconds=1)
    assert other.step() == 1
    assert receiver.last[("party", late)] == 1


def test_a_worker_dying_after_publishing_sends_again_and_the_receiver_applies_once(
    app: App, clock: FixedClock
) -> None:
    made = busy_book(app, parties=2, updates=1)
    receiver = Receiver()
    bus = _bus(receiver)
    dead = relay_for(app, clock, bus, "dead")
    batch = dead.claim()
    bus.publish(batch)  # ... published, and the process dies before marking
    clock.current += LEASE + timedelta(seconds=1)
    relay_for(app, clock, bus, "other").drain()
    total = sum(made.values())
    assert receiver.received == 2 * total  # at least once: every event twice here
    assert receiver.per_aggregate() == made  # effects exactly once
    assert receiver.gaps == []

    # Dying after marking: nothing is sent again.
    customer(app, "Late")
    batch = dead.claim()
    bus.publish(batch)
    dead.mark(batch)
    clock.current += LEASE + timedelta(seconds=1)
    assert relay_for(app, clock, bus, "other").drain() == 0
    assert receiver.received == 2 * total + 1


def test_a_second_worker_never_overtakes_an_aggregate_the_first_holds(
    app: App, clock: FixedClock
) -> None:
    party = customer(app)
    for n in range(5):
        app.parties.update(party, {"segment": f"s{n}"}, None)
    other = customer(app, "Other")
    receiver = Receiver()
    bus = _bus(receiver)
    first = relay_for(app, clock, bus, "first", batch=2)
    second = relay_for(app, clock, bus, "second", batch=10)
    held = first.claim()
    assert [e.seq for e in held] == [1, 2]
    taken = second.claim()
    assert [e.key for e in taken] == [("party", other)]  # party's #3.. wait for #1-#2
    bus.publish(taken)
    second.mark(taken)
    bus.publish(held)
    first.mark(held)
    second.drain()
    assert receiver.gaps == []
    assert receiver.last[("party", party)] == 6


def test_in_aggregate_order_stops_at_an_event_held_elsewhere() -> None:
    from datetime import UTC, datetime

    def ev(ident: int, key: int, seq: int) -> OutboxEvent:
        return OutboxEvent(ident, "party", key, seq, "party.updated", "{}", datetime.now(UTC))

    candidates = [ev(3, 1, 2), ev(4, 2, 1), ev(5, 1, 3)]
    unsent = [(2, "party", 1), (3, "party", 1), (4, "party", 2), (5, "party", 1)]
    assert [e.id for e in in_aggregate_order(candidates, unsent)] == [4]
    assert [e.id for e in in_aggregate_order(candidates, unsent[1:])] == [3, 4, 5]


def test_the_watermark_passes_events_only_after_the_grace(app: App, clock: FixedClock) -> None:
    busy_book(app, parties=1, updates=1)
    receiver = Receiver()
    relay = relay_for(app, clock, _bus(receiver), "w", grace=timedelta(seconds=60))
    relay.drain()
    assert relay.status().watermark == 0
    clock.current += timedelta(seconds=61)
    customer(app, "Later")
    relay.drain()
    status = relay.status()
    assert status.watermark == status.last_event - 1  # the new event is within the grace
    assert status.unsent == 0
    assert len(receiver.applied) == status.last_event


def test_workers_racing_on_many_aggregates_deliver_everything_in_order(
    app: App, clock: FixedClock
) -> None:
    parties = [customer(app, f"P{n}") for n in range(6)]
    for round_ in range(4):
        for party in parties:
            app.parties.update(party, {"segment": f"r{round_}"}, None)
    total = len(outbox_ids(app))
    receiver = Receiver()
    lock = threading.Lock()

    def safe(events: object) -> None:
        with lock:
            receiver(events)  # type: ignore[arg-type]

    bus = InProcessBus()
    bus.subscribe("receiver", safe)
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            relay_for(app, clock, bus, name, batch=3).drain()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    relay_for(app, clock, bus, "sweeper").drain()
    assert errors == []
    assert len(receiver.applied) == total
    assert receiver.gaps == []
