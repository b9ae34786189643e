"""Chaos: a drop folder feeds the book, the book feeds an outside ERP database and a webhook
receiver, while the worker process is killed (SIGKILL) at random moments and about 5 % of
the ERP's writes and of the receiver's answers fail. At the end both reconciliations
agree, no customer exists twice on either side, no change is lost, and the receiver has
every event (each applied once, however often it came).

The worker is a real process (forked from the test, so it starts at once) running the same
loop as ``crmledger worker``. ``make test`` kills it 4 times per bus; set
``CRMLEDGER_CHAOS_KILLS=100`` for the full run. The NATS variant needs the local server.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import random
import signal
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from crmledger.bootstrap import App, SystemClock, build, event_bus, migrate, worker
from crmledger.config import Settings
from crmledger.core.chart import chart
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.integration.bus import InProcessBus
from crmledger.integration.nats_bus import NatsEventBus
from crmledger.integration.webhook_sender import HttpWebhookSender
from crmledger.persistence.uow import SqlUnitOfWorkFactory
from crmledger.services.integration_ports import EventBus
from crmledger.services.relay import OutboxRelay
from crmledger.services.webhooks import WebhookService
from tests.conftest import FixedClock
from tests.integration_sync.helpers import HookServer, relay_for

KILLS = int(os.environ.get("CRMLEDGER_CHAOS_KILLS", "4"))
NATS_URL = os.environ.get("CRMLEDGER_TEST_NATS_URL", "nats://127.0.0.1:4222")
FLAKY = 0.05


def _nats_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 4222), timeout=1):
            return True
    except OSError:
        return False


class Later:
    """The real clock, ``offset`` ahead."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def today(self) -> date:
        return self.now().date()


@dataclass
class World:
    """The book, its drop folder, the outside ERP and the webhook receiver."""

    app: App
    settings: Settings
    folder: Path
    erp_url: str
    hooks: HookServer
    names: dict[str, str]  # folder customer id -> its latest name
    local: dict[int, str]  # locally made party -> its latest name
    files: int = 0

    def drop(self, rows: list[tuple[str, str]]) -> None:
        """A new file in the folder, written whole before it shows (as a real drop)."""
        self.files += 1
        name = f"customers-{self.files:04d}.csv"
        part = self.folder / f".{name}.part"
        with part.open("w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow(["No", "Name", "Changed"])
            stamp = datetime.now(UTC).isoformat()
            out.writerows([ident, company, stamp] for ident, company in rows)
        os.utime(part, ns=(self.files * 10**9, self.files * 10**9))
        part.rename(self.folder / name)
        self.names.update(rows)


def _erp(path: Path) -> str:
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE customers (id VARCHAR(20) PRIMARY KEY, company VARCHAR(200),"
                " updated_at DATETIME NOT NULL)"
            )
        )
        for when in ("INSERT", "UPDATE"):
            conn.execute(
                text(
                    f"CREATE TRIGGER flaky_{when.lower()} BEFORE {when} ON customers"
                    f" WHEN abs(random()) % 100 < {int(FLAKY * 100)}"
                    " BEGIN SELECT RAISE(ABORT, 'the ERP is flaky'); END"
                )
            )
    engine.dispose()
    return url


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    env = {"CRMLEDGER_WEBHOOKS_ALLOW_PRIVATE": "1", "CRMLEDGER_BUS_ACK_WAIT": "2"}
    settings = Settings(f"sqlite:///{tmp_path / 'book.db'}", tmp_path / "book.keys", env)
    app = build(settings)
    migrate(app)
    app.ledger.init_book(chart("default"), "EUR")
    folder = tmp_path / "drop"
    folder.mkdir()
    hooks = HookServer()
    found = World(app, settings, folder, _erp(tmp_path / "erp.db"), hooks, {}, {})
    objects = {
        "source": "customers-*.csv",
        "id": "No",
        "version": "Changed",
        "fields": {"name": "Name"},
    }
    app.sync.add(
        "shop",
        "folder",
        {"path": str(folder), "objects": {"customer": objects}, "every_seconds": 1},
    )
    erp = {
        "source": "customers",
        "id": "id",
        "version": "updated_at",
        "fields": {"name": "company"},
    }
    app.sync.add(
        "erp",
        "sql",
        {"url": found.erp_url, "objects": {"customer": erp}, "push": True, "push_new": True},
    )
    app.webhooks.create(hooks.url(), ["party.*"])
    try:
        yield found
    finally:
        hooks.close()
        app.engine.dispose()


def _work(settings: Settings, bus_url: str, prefix: str) -> None:
    """The worker process: the loop of ``crmledger worker`` until it is killed."""
    settings = Settings(
        settings.database_url,
        settings.keyring_path,
        {**settings.env, "CRMLEDGER_BUS_PREFIX": prefix},
    )
    app = build(settings)
    bus = event_bus(settings, bus_url)
    loop = worker(app, bus, f"chaos-{os.getpid()}", SystemClock())
    loop.idle = 0.05
    loop.report = lambda _text: None
    loop.run(lambda: False)


def _change(world: World, rng: random.Random, round_: int) -> None:
    """What users and the outside do meanwhile: a file of new and changed customers, new
    and renamed customers typed into crmledger."""
    rows = [(f"S-{round_}-{n}", f"Shop {round_}-{n}") for n in range(3)]
    if world.names:
        old = rng.choice(sorted(world.names))
        rows.append((old, f"{world.names[old]} r{round_}"))
    world.drop(rows)
    party = world.app.parties.add(
        Party(kind=PartyKind.ORGANISATION, display_name=f"Local {round_}")
    )
    assert party.id is not None
    world.local[party.id] = party.display_name
    if len(world.local) > 1:
        renamed = rng.choice(sorted(world.local))
        world.local[renamed] = f"Local {renamed} r{round_}"
        world.app.parties.update(renamed, {"display_name": world.local[renamed]}, None)


def _chaos(world: World, bus_url: str, prefix: str) -> None:
    rng = random.Random(KILLS)
    context = multiprocessing.get_context("fork")
    for round_ in range(KILLS):
        child = context.Process(target=_work, args=(world.settings, bus_url, prefix), daemon=True)
        child.start()
        _change(world, rng, round_)
        time.sleep(rng.uniform(0.1, 1.2))
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        child.join(10)
        assert child.exitcode == -signal.SIGKILL


def _settle(world: World, bus_url: str, prefix: str) -> None:
    """The last worker runs until nothing moves (failed writes and answers are retried)."""
    app = world.app
    settings = Settings(
        world.settings.database_url,
        world.settings.keyring_path,
        {**world.settings.env, "CRMLEDGER_BUS_PREFIX": prefix},
    )
    bus = event_bus(settings, bus_url) if bus_url else InProcessBus()
    try:
        # Leases the killed workers held run out: the settler lives a minute later.
        loop = worker(app, bus, "settler", Later(timedelta(minutes=1)))
        quiet = 0
        for _ in range(2000):
            app.sync.run("shop")
            moved = loop.tick() + sum(app.sync.push("erp").counts.values())
            quiet = quiet + 1 if not moved and _drained(loop.relay, bus) else 0
            if quiet >= 3:
                break
    finally:
        bus.close()
    world.hooks.flaky = 0.0
    later = FixedClock(datetime.now(UTC) + timedelta(days=4))
    sender = HttpWebhookSender(allow_private=True)
    hooks = WebhookService(SqlUnitOfWorkFactory(app.engine), later, app.keyring, sender)
    while hooks.deliver_due(500):
        pass


def _drained(relay: OutboxRelay, bus: EventBus) -> bool:
    """Nothing unsent in the outbox, nothing unacknowledged on the bus."""
    if relay.status().unsent:
        return False
    if isinstance(bus, NatsEventBus):
        return not bus.pending("webhooks") and not bus.pending("sync")
    return True


def _erp_rows(world: World) -> dict[str, str]:
    engine = create_engine(world.erp_url)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT id, company FROM customers")).all())
    engine.dispose()
    return {str(k): str(v) for k, v in rows.items()}


def _check(world: World) -> None:
    app = world.app
    shop, erp = app.sync.reconcile("shop"), app.sync.reconcile("erp")
    assert shop.agree, shop.differences[:5]
    assert erp.agree, erp.differences[:5]
    parties = app.parties.count()
    assert parties == len(world.names) + len(world.local)  # no duplicates, none lost
    assert shop.local_count == len(world.names)
    rows = _erp_rows(world)
    assert len(rows) == parties
    assert sorted(rows.values()) == sorted([*world.names.values(), *world.local.values()])
    assert (
        relay_for(app, FixedClock(datetime.now(UTC)), InProcessBus(), "check").status().unsent == 0
    )
    with app.engine.connect() as conn:
        wanted = {
            f"msg_{i}"
            for (i,) in conn.execute(text("SELECT id FROM outbox_events WHERE type LIKE 'party.%'"))
        }
    received = {r.headers["webhook-id"] for r in world.hooks.requests}
    assert received == wanted  # every event at least once; the receiver applies each once
    assert len(world.hooks.requests) >= len(wanted)


@pytest.mark.parametrize("bus", ["in-process", "nats"])
def test_kills_and_failures_lose_nothing_and_double_nothing(world: World, bus: str) -> None:
    world.hooks.flaky = FLAKY
    url, prefix = "", "chaos"
    if bus == "nats":
        if not _nats_up():
            pytest.skip(f"no NATS server at {NATS_URL}")
        url, prefix = NATS_URL, f"chaos{os.getpid()}{random.randrange(10**6)}"
    try:
        _chaos(world, url, prefix)
        assert world.app.sync.runs("shop"), "the killed workers never pulled"
        assert world.hooks.requests, "the killed workers never sent a webhook"
        _settle(world, url, prefix)
        _check(world)
    finally:
        if url:
            cleanup = NatsEventBus(url, prefix)
            cleanup.delete_stream()
            cleanup.close()
