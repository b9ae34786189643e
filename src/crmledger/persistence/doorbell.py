"""Doorbells: how an idle worker learns at once that a change committed.

PostgreSQL: every transaction that writes outbox events sends ``NOTIFY crmledger_outbox``
(:func:`ring`; the server delivers it at commit, once per transaction, and never for a
transaction rolled back); the worker ``LISTEN``\\ s on a connection of its own and wakes
when the notification arrives.

SQLite has no messages between processes, but ``PRAGMA data_version`` on a connection of
the doorbell's own changes whenever any other connection commits; reading it costs a few
microseconds and takes no lock, so the doorbell looks every few milliseconds::

    bell = doorbell(engine)
    bell.wait(0.2)      # True as soon as something committed, False after 0.2 s
    bell.close()
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, Engine, text

#: The PostgreSQL notification channel of committed outbox events.
CHANNEL = "crmledger_outbox"
#: How often the SQLite doorbell reads ``data_version``.
POLL = 0.005


def ring(conn: Connection) -> None:
    """Have the transaction on ``conn`` ring the workers' doorbells when it commits
    (PostgreSQL; SQLite's doorbell sees every commit by itself)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"NOTIFY {CHANNEL}"))


def _own_connection(engine: Engine) -> Any:
    """A DB-API connection taken out of the engine's pool for good."""
    pooled = engine.raw_connection()
    pooled.detach()
    return pooled.dbapi_connection


class SqliteDoorbell:
    """Rings when another connection committed to the SQLite file (see the module). Its
    connection opens at the first :meth:`wait`, so a worker that never pauses holds none."""

    def __init__(self, engine: Engine, poll: float = POLL) -> None:
        self._engine, self._poll = engine, poll
        self._conn: Any = None
        self._seen = 0

    def _version(self) -> int:
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if self._conn is None:
            self._conn = _own_connection(self._engine)
            self._seen = self._version()
        while True:
            version = self._version()
            if version != self._seen:
                self._seen = version
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(self._poll, left))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class PostgresDoorbell:
    """Rings when a transaction that wrote outbox events committed (see the module). It
    starts listening at the first :meth:`wait`."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Any = None

    def wait(self, timeout: float) -> bool:
        if self._conn is None:
            self._conn = _own_connection(self._engine)
            self._conn.autocommit = True
            self._conn.execute(f"LISTEN {CHANNEL}")
        rang = any(True for _ in self._conn.notifies(timeout=timeout, stop_after=1))
        if rang:
            # Several commits may have rung meanwhile: one round serves them all.
            for _ in self._conn.notifies(timeout=0):
                pass
        return rang

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def doorbell(engine: Engine) -> SqliteDoorbell | PostgresDoorbell:
    """The doorbell of ``engine``'s database."""
    if engine.dialect.name == "postgresql":
        return PostgresDoorbell(engine)
    return SqliteDoorbell(engine)
