"""``crmledger worker``: relays the book's events and does what they queue.

::

    crmledger worker                                   # in-process bus
    crmledger worker --bus nats://127.0.0.1:4222       # NATS JetStream
    crmledger worker --once                            # one round, then exit

Each round relays outbox events to the bus, hands what waits on the bus to its
subscribers (webhook fan-out, the sync push queue), sends the webhooks that are due and
pushes queued sync changes. Run as many workers as you like: they share the work. SIGTERM
or Ctrl-C stops a worker after its round; SIGKILL at any moment loses nothing.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from typing import Annotated

import typer

from crmledger.bootstrap import SystemClock, event_bus, worker
from crmledger.cli.render import errors
from crmledger.cli.state import state


def run_worker(
    bus: Annotated[
        str | None,
        typer.Option(help="nats://host:port for NATS JetStream (default: $CRMLEDGER_EVENT_BUS)."),
    ] = None,
    name: Annotated[str | None, typer.Option(help="This worker's name (default host:pid).")] = None,
    once: Annotated[bool, typer.Option("--once", help="One round, then exit.")] = False,
    idle: Annotated[
        float,
        typer.Option(
            min=0.01, max=60, help="Longest pause when idle (a committed change ends it at once)."
        ),
    ] = 0.2,
) -> None:
    """Relay outbox events, send webhooks and push sync changes until stopped."""
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        chosen = event_bus(state.settings, bus)
    except (RuntimeError, ValueError) as exc:  # the bus cannot be reached or named so
        errors.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    who = name or f"{socket.gethostname()}:{os.getpid()}"
    loop = worker(state.app, chosen, who, SystemClock())
    loop.idle = idle
    loop.report = lambda text: errors.print(text, markup=False, highlight=False)
    try:
        loop.run(stopping.is_set, max_rounds=1 if once else None)
    finally:
        loop.close()
        chosen.close()
