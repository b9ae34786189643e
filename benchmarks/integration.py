"""Event-driven propagation: how long a change in the book takes to reach a subscriber.

Parties are renamed at a steady rate (10 and 100 changes per second by default); each
change commits its outbox event in the same transaction. A worker process (the loop of
``crmledger worker``) relays the events, fans them out and sends each as a signed webhook
to a receiver on this machine. The latency of a change is from its commit to the moment
the receiver has the request; p50 and p99 per rate::

    python -m benchmarks.integration --rates 10,100 --seconds 10
    python -m benchmarks.integration --bus nats://127.0.0.1:4222

Target (issue 8): p99 under 1 s.
"""

from __future__ import annotations

import argparse
import http.server
import json
import multiprocessing
import os
import signal
import statistics
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks import books
from benchmarks.run import POSTGRES_ENV, sqlite_url
from crmledger.bootstrap import SystemClock, build, event_bus, migrate, worker
from crmledger.config import Settings
from crmledger.core.chart import chart
from crmledger.core.crm.parties import Party, PartyKind

TARGET_P99_MS = 1000.0
#: A schema of its own: benchmarks running side by side never drop each other's tables.
POSTGRES_SCHEMA = "crmledger_integration"


class Server(http.server.ThreadingHTTPServer):
    """A threading HTTP server whose backlog holds a sender's parallel connections."""

    request_queue_size = 128


class Receiver:
    """A webhook receiver noting when each (party, version) arrived."""

    def __init__(self) -> None:
        self.arrived: dict[tuple[int, int], float] = {}
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                data = json.loads(body).get("data", {})
                if "version" in data:
                    key = (int(data["aggregate_id"]), int(data["version"]))
                    receiver.arrived.setdefault(key, time.time())
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@dataclass
class Figures:
    """Latency of one rate."""

    database: str
    bus: str
    rate: int
    changes: int
    received: int
    p50_ms: float
    p99_ms: float


def _work(settings: Settings, bus_url: str) -> None:
    app = build(settings)
    # The worker exactly as ``crmledger worker`` runs it: default pauses, doorbell and batches.
    loop = worker(app, event_bus(settings, bus_url), f"bench-{os.getpid()}", SystemClock())
    loop.report = lambda _text: None
    loop.run(lambda: False)


def _changes(
    settings: Settings, parties: list[int], rate: int, seconds: float
) -> dict[tuple[int, int], float]:
    app = build(settings)
    committed: dict[tuple[int, int], float] = {}
    interval, started = 1 / rate, time.time()
    for n in range(int(rate * seconds)):
        pause = started + n * interval - time.time()
        if pause > 0:
            time.sleep(pause)
        party = parties[n % len(parties)]
        stored = app.parties.update(party, {"segment": f"s{n}"}, None)
        committed[(party, stored.version)] = time.time()
    app.engine.dispose()
    return committed


def _drop_stream(settings: Settings, bus_url: str) -> None:
    """Remove the run's NATS stream (and its consumers)."""
    from crmledger.integration.nats_bus import NatsEventBus

    bus = event_bus(settings, bus_url)
    try:
        if isinstance(bus, NatsEventBus):
            bus.delete_stream()
    finally:
        bus.close()


def run_one(name: str, url: str, bus: str, rate: int, seconds: float) -> Figures:
    # A stream of its own per run: event ids start at 1 in every new book, and a stream
    # drops a message id it has seen (within its duplicate window) as a republication.
    prefix = f"bench-{os.getpid()}-{name}-{rate}"
    env = {"CRMLEDGER_WEBHOOKS_ALLOW_PRIVATE": "1", "CRMLEDGER_BUS_PREFIX": prefix}
    settings = Settings(url, Path(f"bench-data/integration/{name}.keys"), env)
    app = build(settings)
    migrate(app)
    app.keyring.create()
    app.ledger.init_book(chart("default"), "EUR")
    receiver = Receiver()
    parties = [
        int(app.parties.add(Party(kind=PartyKind.ORGANISATION, display_name=f"P{n}")).id or 0)
        for n in range(50)
    ]
    app.webhooks.create(receiver.url, ["party.updated"])
    child = multiprocessing.get_context("fork").Process(target=_work, args=(settings, bus))
    child.start()
    time.sleep(2)  # the worker relays the creations first
    committed = _changes(settings, parties, rate, seconds)
    deadline = time.time() + 30
    while len(receiver.arrived) < len(committed) and time.time() < deadline:
        time.sleep(0.1)
    assert child.pid is not None
    os.kill(child.pid, signal.SIGTERM)
    child.join(10)
    if child.is_alive():
        child.kill()
    receiver.server.shutdown()
    app.engine.dispose()
    if bus:
        _drop_stream(settings, bus)
    latencies = sorted(
        (receiver.arrived[k] - t) * 1000 for k, t in committed.items() if k in receiver.arrived
    )
    if not latencies:
        latencies = [float("inf")]
    return Figures(
        database=name,
        bus="nats" if bus else "in-process",
        rate=rate,
        changes=len(committed),
        received=sum(1 for k in committed if k in receiver.arrived),
        p50_ms=round(statistics.median(latencies), 1),
        p99_ms=round(latencies[max(0, int(len(latencies) * 0.99) - 1)], 1),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rates", default="10,100", help="changes per second, comma separated")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--bus", default="", help="nats://host:port (default: in-process)")
    parser.add_argument("--out", type=Path, default=Path("bench-data/integration"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    targets = [("sqlite", lambda: sqlite_url(args.out / "integration.db"))]
    base = os.environ.get(POSTGRES_ENV)
    if base:
        targets.append(("postgresql", lambda: books.postgres_url(base, POSTGRES_SCHEMA)))
    else:
        print(f"PostgreSQL not measured: set {POSTGRES_ENV}", file=sys.stderr)
    figures = []
    for name, make in targets:
        for rate in (int(r) for r in args.rates.split(",")):
            found = run_one(name, make(), args.bus, rate, args.seconds)
            ok = (
                "ok"
                if found.p99_ms < TARGET_P99_MS and found.received == found.changes
                else "MISSED"
            )
            print(
                f"{found.database:10} {found.bus:10} {rate:4}/s  {found.received}/{found.changes} "
                f"received  p50 {found.p50_ms:7.1f} ms  p99 {found.p99_ms:7.1f} ms  "
                f"p99/target {found.p99_ms / TARGET_P99_MS:5.2f}  ({ok})",
                flush=True,
            )
            figures.append(found)
    (args.out / "results.json").write_text(json.dumps([asdict(f) for f in figures], indent=2))


if __name__ == "__main__":
    main()
