"""Chaos: a drop folder feeds book A, and A feeds an outside ERP database, a webhook
receiver and a second crmledger book B (through B's REST API, with a ``crmledger``
connector that pushes A's changes and new customers there and pulls B's own), while A's
worker process is killed (SIGKILL) at random moments and about 5 % of the ERP's writes, of
the receiver's answers and of B's API requests fail. B's failures come in two kinds: a
request refused before B sees it (nothing changed there) and a request B handled whose
answer is lost (502, or the connection cut half-way), so a retry must find what the lost
answer made instead of making it twice.

Meanwhile users type customers into A and rename them, the shop drops files of new and
renamed customers, and B's users change emails of customers A made there (while A may be
renaming them: both changes must survive), rename customers A handed over to them (even
while A's own rename of that customer is still on its way to B: the later rename wins)
and rename and add customers of their own. B's users touch only customers whose making A
has recorded: a customer A's push made in B whose answer A never got (the worker killed
in between), changed on both sides before A's next push, has no common base to merge
from, and the connector's rule decides it (tested on its own in
``test_crmledger_races.py``).

At the end, after a last worker runs until nothing moves: all three reconciliations agree;
A and B hold the same customers with the same names and emails, B holds none twice (by
A's id and by name), and A none twice; every change of every side arrived (each
customer's last name and email is what its last writer gave it); the ERP holds every
customer once; and the receiver has every event (each applied once, however often it
came).

The worker is a real process (forked from the test, so it starts at once) running the same
loop as ``crmledger worker``; B is served by uvicorn in a thread of the test. ``make test``
kills the worker 4 times per bus; set ``CRMLEDGER_CHAOS_KILLS=100`` for the full run. The
NATS variant needs the local server.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import random
import signal
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from crmledger.bootstrap import App, SystemClock, build, event_bus, migrate, worker
from crmledger.config import Settings
from crmledger.core.chart import chart
from crmledger.core.crm.parties import Email, Party, PartyKind
from crmledger.core.errors import InvalidFieldError
from crmledger.integration.bus import InProcessBus
from crmledger.integration.nats_bus import NatsEventBus
from crmledger.integration.webhook_sender import HttpWebhookSender
from crmledger.persistence.uow import SqlUnitOfWorkFactory
from crmledger.server import create_app
from crmledger.services.crm_ports import PartyQuery
from crmledger.services.integration_ports import EventBus
from crmledger.services.relay import OutboxRelay
from crmledger.services.webhooks import WebhookService
from tests.api.live import serving
from tests.conftest import FixedClock
from tests.integration_sync.flaky_book import FlakyAsgi, other_book
from tests.integration_sync.helpers import HookServer, relay_for

KILLS = int(os.environ.get("CRMLEDGER_CHAOS_KILLS", "4"))
NATS_URL = os.environ.get("CRMLEDGER_TEST_NATS_URL", "nats://127.0.0.1:4222")
FLAKY = 0.05
#: The name A goes by in B (the system of the external ids A's pushes leave there).
SYSTEM = "book-a"


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
    """Book A, its drop folder, the outside ERP, the webhook receiver and book B, with what
    each customer's name and email should end as."""

    app: App
    settings: Settings
    folder: Path
    erp_url: str
    hooks: HookServer
    b: App
    flaky: FlakyAsgi
    names: dict[str, str] = field(default_factory=dict)  # folder customer id -> latest name
    local: dict[int, str] = field(default_factory=dict)  # party made in A -> its latest name
    handed: set[int] = field(default_factory=set)  # parties made in A that only B renames
    emails: dict[int, str] = field(default_factory=dict)  # party made in A -> latest email
    b_names: dict[int, str] = field(default_factory=dict)  # party made in B -> latest name
    b_emails: dict[int, str] = field(default_factory=dict)  # party made in B -> its email
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
def world(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[World]:
    env = {"CRMLEDGER_WEBHOOKS_ALLOW_PRIVATE": "1", "CRMLEDGER_BUS_ACK_WAIT": "2"}
    settings = Settings(f"sqlite:///{tmp_path / 'book.db'}", tmp_path / "book.keys", env)
    app = build(settings)
    migrate(app)
    app.ledger.init_book(chart("default"), "EUR")
    folder = tmp_path / "drop"
    folder.mkdir()
    b, token = other_book(tmp_path / "book-b", request.getfixturevalue("_sqlite_template"))
    flaky = FlakyAsgi(create_app(b), FLAKY, KILLS)  # type: ignore[arg-type]
    with ExitStack() as stack:
        hooks = HookServer()
        stack.callback(hooks.close)
        b_url = stack.enter_context(serving(flaky))  # type: ignore[arg-type]
        found = World(app, settings, folder, _erp(tmp_path / "erp.db"), hooks, b, flaky)
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
        hq = {"url": b_url, "system": SYSTEM, "fields": ["name", "email"], "every_seconds": 1}
        app.sync.add("hq", "crmledger", hq | {"push": True, "push_new": True}, {"token": token})
        app.webhooks.create(hooks.url(), ["party.*"])
        yield found
    app.engine.dispose()
    b.engine.dispose()


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
    and renamed customers typed into A."""
    rows = [(f"S-{round_}-{n}", f"Shop {round_}-{n}") for n in range(3)]
    if world.names:
        old = rng.choice(sorted(world.names))
        rows.append((old, f"{world.names[old]} r{round_}"))
    world.drop(rows)
    email = f"local{round_}@a.example"
    party = world.app.parties.add(
        Party(kind=PartyKind.ORGANISATION, display_name=f"Local {round_}", emails=(Email(email),))
    )
    assert party.id is not None
    world.local[party.id] = party.display_name
    world.emails[party.id] = email
    ours = sorted(set(world.local) - world.handed)
    if len(ours) > 1:
        renamed = rng.choice(ours)
        world.local[renamed] = f"Local {renamed} r{round_}"
        world.app.parties.update(renamed, {"display_name": world.local[renamed]}, None)


def _b_changes(world: World, rng: random.Random, round_: int) -> None:
    """What B's users do meanwhile, after A's: change the email of a customer A made
    there, rename one A handed over to them (A's last rename of it may still be on its
    way: B's is later, so B's wins) or one of their own, and add one of their own.

    They change only customers whose making A has recorded: one that A's push made but
    whose answer A has not recorded yet (the worker killed in between), changed on both
    sides before A's next push, has no common base, and the connector's rule decides."""
    linked = _linked(world.app)
    made = {a: b for a, b in _made_in_b(world.b).items() if a in linked}  # A's party -> B's
    if made:
        a_id = rng.choice(sorted(made))
        email = f"b{round_}@b.example"
        world.b.parties.update(made[a_id], {"emails": (Email(email),)}, None)
        world.emails[a_id] = email
    ours = sorted(set(world.local) & set(made))
    if ours and rng.random() < 0.7:
        a_id = rng.choice(ours)
        world.local[a_id] = f"{world.local[a_id]} b{round_}"
        world.handed.add(a_id)
        world.b.parties.update(made[a_id], {"display_name": world.local[a_id]}, None)
    if world.b_names and rng.random() < 0.5:
        b_id = rng.choice(sorted(world.b_names))
        world.b_names[b_id] = f"{world.b_names[b_id]} b{round_}"
        world.b.parties.update(b_id, {"display_name": world.b_names[b_id]}, None)
    email = f"own{round_}@b.example"
    party = world.b.parties.add(
        Party(kind=PartyKind.ORGANISATION, display_name=f"Branch {round_}", emails=(Email(email),))
    )
    assert party.id is not None
    world.b_names[party.id], world.b_emails[party.id] = party.display_name, email


def _b_parties(b: App) -> list[Party]:
    """Every party of B, by id."""
    found: list[Party] = []
    after: tuple[str, int] | None = None
    while page := b.parties.list(PartyQuery(limit=500, sort="id", after=after)):
        found += page
        assert page[-1].id is not None
        after = (str(page[-1].id), page[-1].id)
    return found


def _made_in_b(b: App) -> dict[int, int]:
    """A's party id -> B's, for the parties A's pushes made in B."""
    return {
        int(e.id): p.id
        for p in _b_parties(b)
        for e in p.external_ids
        if e.system == SYSTEM and p.id is not None
    }


def _linked(app: App) -> set[int]:
    """A's parties linked to a party of B."""
    with app.engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT l.local_id FROM sync_links l JOIN sync_connectors c"
                " ON c.id = l.connector_id WHERE c.name = 'hq'"
            )
        )
        return {int(i) for (i,) in found}


def _chaos(world: World, bus_url: str, prefix: str) -> None:
    rng = random.Random(KILLS)
    context = multiprocessing.get_context("fork")
    for round_ in range(KILLS):
        child = context.Process(target=_work, args=(world.settings, bus_url, prefix), daemon=True)
        child.start()
        _change(world, rng, round_)
        time.sleep(rng.uniform(0.1, 0.6))
        _b_changes(world, rng, round_)
        time.sleep(rng.uniform(0.0, 0.6))
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        child.join(10)
        assert child.exitcode == -signal.SIGKILL


def _tried(step: Callable[[], int]) -> int:
    """What ``step`` moved; a step B's failures broke counts as moving (it is tried again)."""
    try:
        return step()
    except InvalidFieldError:
        return 1


def _settle(world: World, bus_url: str, prefix: str) -> None:
    """The last worker runs until nothing moves (failed writes, requests and answers are
    retried)."""
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
            moved = _tried(loop.tick) + sum(app.sync.push("erp").counts.values())
            moved += _tried(lambda: sum(app.sync.run("hq").counts.values()))
            moved += _tried(lambda: sum(app.sync.push("hq").counts.values()))
            quiet = quiet + 1 if not moved and _drained(loop.relay, bus) else 0
            if quiet >= 3:
                break
    finally:
        bus.close()
    world.hooks.flaky = 0.0
    world.flaky.rate = 0.0
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
    shop, erp, hq = app.sync.reconcile("shop"), app.sync.reconcile("erp"), app.sync.reconcile("hq")
    assert shop.agree, shop.differences[:5]
    assert erp.agree, erp.differences[:5]
    assert hq.agree, hq.differences[:5]
    parties = app.parties.count()
    wanted = len(world.names) + len(world.local) + len(world.b_names)
    assert parties == wanted  # no duplicates, none lost
    assert shop.local_count == len(world.names)
    assert hq.local_count == hq.remote_count == parties
    rows = _erp_rows(world)
    assert len(rows) == parties
    everyone = [*world.names.values(), *world.local.values(), *world.b_names.values()]
    assert sorted(rows.values()) == sorted(everyone)
    _check_books(world)
    assert (
        relay_for(app, FixedClock(datetime.now(UTC)), InProcessBus(), "check").status().unsent == 0
    )
    with app.engine.connect() as conn:
        sent = {
            f"msg_{i}"
            for (i,) in conn.execute(text("SELECT id FROM outbox_events WHERE type LIKE 'party.%'"))
        }
    received = {r.headers["webhook-id"] for r in world.hooks.requests}
    assert received == sent  # every event at least once; the receiver applies each once
    assert len(world.hooks.requests) >= len(sent)


def _card(party: Party) -> tuple[str, str]:
    return party.display_name, party.emails[0].address if party.emails else ""


def _check_books(world: World) -> None:
    """A and B hold the same customers, each once, each with its last writer's name and
    email."""
    app, b = world.app, world.b
    expected: dict[int, tuple[str, str]] = {}
    for ident, name in world.names.items():
        a_id = app.parties.find_external("shop", ident)
        assert a_id is not None, ident
        expected[a_id] = (name, world.emails.get(a_id, ""))
    for a_id, name in world.local.items():
        expected[a_id] = (name, world.emails[a_id])
    for b_id, name in world.b_names.items():
        a_id = app.parties.find_external("hq", str(b_id))
        assert a_id is not None, b_id
        expected[a_id] = (name, world.b_emails[b_id])
    assert len(expected) == app.parties.count()
    in_a = {i: _card(p) for i, p in app.parties.many(set(expected)).items()}
    assert in_a == expected
    in_b = _b_parties(b)
    made = Counter(e.id for p in in_b for e in p.external_ids if e.system == SYSTEM)
    assert [k for k, n in made.items() if n > 1] == []  # none made twice by A's id ...
    names = Counter(p.display_name for p in in_b)
    assert [k for k, n in names.items() if n > 1] == []  # ... or by name
    assert len(in_b) == len(expected)
    assert sorted(_card(p) for p in in_b) == sorted(expected.values())
    there = {p.id: _card(p) for p in in_b}
    pairs = _made_in_b(b)  # linked by A's id there: the same card on both sides
    assert {a_id: there[b_id] for a_id, b_id in pairs.items()} == {
        a_id: expected[a_id] for a_id in pairs
    }
    assert {b_id: there[b_id] for b_id in world.b_names} == {
        b_id: (name, world.b_emails[b_id]) for b_id, name in world.b_names.items()
    }
    assert len(pairs) + len(world.b_names) == len(expected)
    assert world.flaky.refused >= 1, "no request to B was refused"
    assert world.flaky.lost >= 1, "no answer of B was lost"


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
