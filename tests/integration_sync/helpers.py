"""What the integration tests share: a book that makes events, and receivers that check
what arrives (deduplicated by event id, in order per aggregate)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from crmledger.bootstrap import App
from crmledger.core.crm.deals import Deal
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.core.integration.events import OutboxEvent
from crmledger.persistence.uow import SqlUnitOfWorkFactory
from crmledger.services.relay import OutboxRelay
from tests.conftest import FixedClock


def customer(app: App, name: str = "Acme GmbH", **changes: object) -> int:
    """A new organisation; returns its id."""
    party = replace(Party(kind=PartyKind.ORGANISATION, display_name=name), **changes)
    stored = app.parties.add(party)
    assert stored.id is not None
    return stored.id


def busy_book(app: App, parties: int = 3, updates: int = 2) -> dict[tuple[str, int], int]:
    """Parties created and updated, a deal moved through stages: returns, per aggregate,
    how many events it made."""
    made: dict[tuple[str, int], int] = defaultdict(int)
    for n in range(parties):
        party_id = customer(app, f"Customer {n}")
        made[("party", party_id)] += 1
        for u in range(updates):
            app.parties.update(party_id, {"segment": f"s{u}"}, None)
            made[("party", party_id)] += 1
    deal = app.deals.add(
        Deal(
            pipeline="sales",
            stage="lead",
            title="Fleet",
            party_id=customer(app, "Deal customer"),
            amount=Decimal("100.00"),
            currency="EUR",
        )
    )
    made[("party", deal.party_id)] += 1
    assert deal.id is not None
    for stage in ("qualified", "proposal", "won"):
        app.deals.move(deal.id, stage, None)
        made[("deal", deal.id)] += 1
    return dict(made)


def relay_for(
    app: App, clock: FixedClock, bus: object, worker: str, **options: object
) -> OutboxRelay:
    """A relay on ``app``'s book."""
    return OutboxRelay(SqlUnitOfWorkFactory(app.engine), clock, bus, worker, **options)  # type: ignore[arg-type]


@dataclass
class Receiver:
    """A subscriber that applies each event once: it drops an event whose seq it has seen
    for that aggregate, and records a gap (an event arriving before the one it follows)."""

    applied: list[OutboxEvent] = field(default_factory=list)
    received: int = 0
    gaps: list[tuple[tuple[str, int], int, int]] = field(default_factory=list)
    last: dict[tuple[str, int], int] = field(default_factory=dict)

    def __call__(self, events: Sequence[OutboxEvent]) -> None:
        for event in events:
            self.received += 1
            seen = self.last.get(event.key, 0)
            if event.seq <= seen:
                continue  # a redelivery: its effect happened already
            if event.seq != seen + 1:
                self.gaps.append((event.key, seen, event.seq))
            self.last[event.key] = event.seq
            self.applied.append(event)

    def per_aggregate(self) -> dict[tuple[str, int], int]:
        counts: dict[tuple[str, int], int] = defaultdict(int)
        for event in self.applied:
            counts[event.key] += 1
        return dict(counts)


def outbox_ids(app: App) -> list[int]:
    """Every outbox event id, in order."""
    from sqlalchemy import text

    with app.engine.connect() as conn:
        return [int(i) for (i,) in conn.execute(text("SELECT id FROM outbox_events ORDER BY id"))]


@dataclass(frozen=True)
class Received:
    """One request a :class:`HookServer` got."""

    path: str
    headers: dict[str, str]
    body: bytes


class HookServer:
    """A real HTTP server on 127.0.0.1 that records every request and answers with the
    statuses queued in ``answers`` (then ``default``); ``delay`` seconds before answering."""

    def __init__(self) -> None:
        import http.server
        import threading

        self.requests: list[Received] = []
        self.answers: list[tuple[int, dict[str, str]]] = []
        self.default: tuple[int, dict[str, str]] = (200, {})
        self.delay = 0.0
        #: The share of requests answered 503 at random (a receiver having a bad day).
        self.flaky = 0.0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                server.requests.append(Received(self.path, dict(self.headers.items()), body))
                status, headers = server.answers.pop(0) if server.answers else server.default
                if server.flaky and random.random() < server.flaky:
                    status, headers = 503, {}
                if server.delay:
                    import time

                    time.sleep(server.delay)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        class Server(http.server.ThreadingHTTPServer):
            request_queue_size = 128  # a sender's parallel connections wait in the backlog

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
