"""Outbound webhooks against a real HTTP server in the test, on both databases: deliveries
verify with the ``standardwebhooks`` reference library, failures are retried on the
schedule over about three days, 410 unsubscribes, redirects are not followed, slow
receivers time out, secrets rotate with two signatures, and the log replays a delivery."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from crmledger.bootstrap import App
from crmledger.core.errors import InvalidFieldError
from crmledger.integration.bus import InProcessBus
from crmledger.integration.webhook_sender import HttpWebhookSender
from crmledger.persistence.uow import SqlUnitOfWorkFactory
from crmledger.services.webhooks import WebhookService
from tests.conftest import FixedClock
from tests.integration_sync.helpers import HookServer, customer, relay_for

#: The delivery rules do not depend on the database; their store queries are run on both
#: by the tests without this mark.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def now(clock: FixedClock) -> FixedClock:
    # The reference library checks the signed timestamp against the real clock.
    clock.current = datetime.now(UTC).replace(microsecond=0)
    return clock


@pytest.fixture
def server() -> Iterator[HookServer]:
    hook = HookServer()
    yield hook
    hook.close()


def hooks_for(app: App, clock: FixedClock, timeout: float = 5.0) -> WebhookService:
    """The webhook service with a sender allowed to reach this machine (local development)."""
    sender = HttpWebhookSender(allow_private=True, timeout=timeout)
    uow = SqlUnitOfWorkFactory(app.engine)
    return WebhookService(uow, clock, app.keyring, sender, allow_private=True, draw=lambda: 0.5)


def relay_events(app: App, clock: FixedClock, hooks: WebhookService) -> int:
    bus = InProcessBus()
    bus.subscribe("webhooks", hooks.fan_out)
    return relay_for(app, clock, bus, "w").drain()


def test_deliveries_verify_with_the_reference_library(
    app: App, now: FixedClock, server: HookServer
) -> None:
    hooks = hooks_for(app, now)
    sub, secret = hooks.create(server.url(), ["party.*"], "ERP")
    other, _ = hooks.create(server.url("/deals"), ["deal.stage_changed"])
    party = customer(app)
    app.parties.update(party, {"segment": "retail"}, None)
    assert relay_events(app, now, hooks) == 2
    assert hooks.deliver_due() == 2
    assert [r.path for r in server.requests] == ["/hook", "/hook"]
    documents = [Webhook(secret).verify(r.body, r.headers) for r in server.requests]
    assert [d["type"] for d in documents] == ["party.created", "party.updated"]
    assert documents[1]["data"]["aggregate_id"] == party
    assert documents[1]["data"]["seq"] == 2
    assert server.requests[0].headers["webhook-id"] == "msg_1"
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(server.requests[0].body + b" ", server.requests[0].headers)
    log = hooks.deliveries(sub.id)
    assert [(d.status, d.attempts, d.last_code) for d in log] == [("delivered", 1, 200)] * 2
    assert hooks.deliveries(other.id) == []
    # The relay publishing the same events again queues nothing new.
    assert hooks.fan_out([]) == 0
    with app.engine.connect() as conn:
        from sqlalchemy import text

        count = conn.execute(text("SELECT count(*) FROM webhook_deliveries")).scalar_one()
    assert count == 2


@SQLITE_ONLY
def test_a_refused_delivery_is_retried_on_the_schedule_then_given_up(
    app: App, now: FixedClock, server: HookServer
) -> None:
    server.default = (503, {})
    hooks = hooks_for(app, now)
    sub, _ = hooks.create(server.url(), ["*"])
    customer(app)
    relay_events(app, now, hooks)
    start = now.current
    gaps = []
    for _ in range(20):
        if not hooks.deliver_due():
            break
        [delivery] = hooks.deliveries(sub.id)
        if delivery.next_attempt_at is None:
            break
        gaps.append((delivery.next_attempt_at - now.current).total_seconds())
        now.current = delivery.next_attempt_at
    [delivery] = hooks.deliveries(sub.id)
    assert (delivery.status, delivery.attempts, delivery.last_code) == ("failed", 13, 503)
    assert "gave up after 13 attempts" in delivery.last_error
    assert gaps[:4] == [5, 20, 80, 320]
    assert gaps[-1] == 12 * 3600
    span = now.current - start
    assert timedelta(days=2.5) < span < timedelta(days=3.5)
    assert len(server.requests) == 13
    _, attempts = hooks.delivery(delivery.id)
    assert [a.status_code for a in attempts] == [503] * 13


@SQLITE_ONLY
def test_jitter_spreads_retries(app: App, now: FixedClock, server: HookServer) -> None:
    server.default = (500, {})
    draws = iter([0.0, 1.0])
    sender = HttpWebhookSender(allow_private=True)
    hooks = WebhookService(
        SqlUnitOfWorkFactory(app.engine),
        now,
        app.keyring,
        sender,
        allow_private=True,
        draw=lambda: next(draws),
    )
    first, _ = hooks.create(server.url("/a"), ["*"])
    second, _ = hooks.create(server.url("/b"), ["*"])
    customer(app)
    relay_events(app, now, hooks)
    hooks.deliver_due()
    waits = sorted(
        (hooks.deliveries(s.id)[0].next_attempt_at - now.current).total_seconds()
        for s in (first, second)
    )
    assert waits == [4.0, 6.0]


def test_gone_disables_the_subscription_and_fails_what_it_had_pending(
    app: App, now: FixedClock, server: HookServer
) -> None:
    hooks = hooks_for(app, now)
    sub, _ = hooks.create(server.url(), ["*"])
    server.answers = [(410, {})]
    customer(app, "One")
    customer(app, "Two")
    relay_events(app, now, hooks)
    assert hooks.deliver_due(limit=1) == 1
    found = hooks.get(sub.id)
    assert (found.status, found.disabled_reason) == ("disabled", "the receiver answered 410 Gone")
    assert sorted(d.status for d in hooks.deliveries(sub.id)) == ["failed", "failed"]
    customer(app, "Three")
    relay_events(app, now, hooks)
    assert hooks.deliver_due() == 0
    assert len(server.requests) == 1
    with pytest.raises(InvalidFieldError):
        hooks.replay(hooks.deliveries(sub.id)[0].id)
    assert hooks.update(sub.id, {"status": "active"}, found.version).status == "active"


@SQLITE_ONLY
def test_redirects_are_not_followed(app: App, now: FixedClock, server: HookServer) -> None:
    target = HookServer()
    try:
        server.default = (302, {"Location": target.url("/stolen")})
        hooks = hooks_for(app, now)
        sub, _ = hooks.create(server.url(), ["*"])
        customer(app)
        relay_events(app, now, hooks)
        hooks.deliver_due()
        [delivery] = hooks.deliveries(sub.id)
        assert (delivery.status, delivery.last_code) == ("pending", 302)
        assert "not followed" in delivery.last_error
        assert len(server.requests) == 1
        assert target.requests == []
    finally:
        target.close()


@SQLITE_ONLY
def test_a_slow_receiver_times_out(app: App, now: FixedClock, server: HookServer) -> None:
    server.delay = 1.5
    hooks = hooks_for(app, now, timeout=0.5)
    sub, _ = hooks.create(server.url(), ["*"])
    customer(app)
    relay_events(app, now, hooks)
    hooks.deliver_due()
    [delivery] = hooks.deliveries(sub.id)
    assert delivery.status == "pending"
    assert delivery.last_code is None
    assert "timed out" in delivery.last_error.lower()
    _, [attempt] = hooks.delivery(delivery.id)
    assert attempt.duration_ms < 1400


@SQLITE_ONLY
def test_a_rotated_secret_signs_alongside_the_new_one_for_the_overlap(
    app: App, now: FixedClock, server: HookServer
) -> None:
    hooks = hooks_for(app, now)
    sub, old = hooks.create(server.url(), ["*"])
    _, new = hooks.rotate_secret(sub.id, timedelta(seconds=1))
    assert new != old
    customer(app)
    relay_events(app, now, hooks)
    hooks.deliver_due()
    request = server.requests[-1]
    assert len(request.headers["webhook-signature"].split()) == 2
    for secret in (old, new):
        Webhook(secret).verify(request.body, request.headers)
    assert hooks.reveal_secret(sub.id) == new
    now.current += timedelta(seconds=2)
    test = hooks.send_test(sub.id)
    assert test.status == "delivered"
    request = server.requests[-1]
    assert len(request.headers["webhook-signature"].split()) == 1
    Webhook(new).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(request.body, request.headers)


def test_a_delivery_is_replayed_with_the_same_id_and_body(
    app: App, now: FixedClock, server: HookServer
) -> None:
    hooks = hooks_for(app, now)
    sub, secret = hooks.create(server.url(), ["party.created"])
    customer(app)
    relay_events(app, now, hooks)
    hooks.deliver_due()
    [delivery] = hooks.deliveries(sub.id)
    replayed = hooks.replay(delivery.id)
    assert replayed.status == "pending"
    hooks.deliver_due()
    first, again = server.requests
    assert first.body == again.body
    assert first.headers["webhook-id"] == again.headers["webhook-id"]
    assert Webhook(secret).verify(again.body, again.headers)["data"]["id"] == 1
    _, attempts = hooks.delivery(delivery.id)
    assert [a.status_code for a in attempts] == [200, 200]


@SQLITE_ONLY
def test_events_before_a_subscription_are_not_its(
    app: App, now: FixedClock, server: HookServer
) -> None:
    hooks = hooks_for(app, now)
    customer(app, "Before")
    now.current += timedelta(seconds=1)
    sub, _ = hooks.create(server.url(), ["*"])
    customer(app, "After")
    relay_events(app, now, hooks)
    hooks.deliver_due()
    assert len(hooks.deliveries(sub.id)) == 1
    assert json.loads(server.requests[0].body)["data"]["event_id"] == 2


def test_each_customers_events_arrive_in_order_while_customers_go_side_by_side(
    app: App, now: FixedClock, server: HookServer
) -> None:
    hooks = hooks_for(app, now)
    hooks.create(server.url(), ["party.*"])
    parties = [customer(app, f"Customer {n}") for n in range(6)]
    for round_ in range(3):
        for party in parties:
            app.parties.update(party, {"segment": f"s{round_}"}, None)
    assert relay_events(app, now, hooks) == 24
    assert hooks.deliver_due(limit=50) == 24
    seen: dict[int, list[int]] = {}
    for request in server.requests:
        data = json.loads(request.body)["data"]
        seen.setdefault(data["aggregate_id"], []).append(data["seq"])
    assert sorted(seen) == sorted(parties)
    assert all(seqs == sorted(seqs) and len(seqs) == 4 for seqs in seen.values()), seen
