"""Engines for the embedded default (SQLite) and for production (PostgreSQL via psycopg 3).

SQLite runs in WAL mode with ``synchronous=FULL`` and ``foreign_keys=ON``. Transactions that
write begin with ``BEGIN IMMEDIATE`` so two writers never deadlock on a lock upgrade; a
connection opened with ``execution_options(readonly=True)`` begins a deferred transaction,
which in WAL mode never blocks a writer.

A writer that finds the lock taken asks again every millisecond or two
(:func:`begin_immediate`) instead of leaving it to SQLite's busy handler, whose pauses grow
to 100 ms: behind a steady stream of short transactions from another process (a hundred
changes a second, each holding the lock for a few milliseconds) those long pauses miss
every gap, and a worker relaying events would wait seconds for its turn.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url


def normalise_url(url: str) -> str:
    """Pick psycopg 3 for plain ``postgresql://`` URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine configured for crmledger's durability rules."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    # A server runs many requests at once, each holding a connection for a transaction.
    options: dict[str, Any] = {"pool_pre_ping": True, "pool_size": 16, "max_overflow": 32}
    return create_engine(url, **(options | kwargs))


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event, not the driver, decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA cache_size=-131072")  # 128 MiB: bulk index inserts stay in memory
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("readonly", False):
            conn.exec_driver_sql("BEGIN")
        else:
            begin_immediate(conn.connection.dbapi_connection)


#: How long any statement waits for a lock before failing with "database is locked".
BUSY_TIMEOUT_MS = 30000
#: Pauses between attempts to take the write lock: short, so no gap is missed for long.
_PAUSES = (0.0002, 0.0005, 0.001, 0.002)


def begin_immediate(dbapi_connection: Any, wait: float = BUSY_TIMEOUT_MS / 1000) -> None:
    """``BEGIN IMMEDIATE`` on a SQLite DB-API connection, asking again every 2 ms at most
    until ``wait`` seconds have passed (then "database is locked" as before)."""
    cursor = dbapi_connection.cursor()
    deadline = time.monotonic() + wait
    try:
        cursor.execute("PRAGMA busy_timeout=0")
        attempt = 0
        while True:
            try:
                cursor.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                busy = exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
                if not busy or time.monotonic() > deadline:
                    raise
            time.sleep(_PAUSES[min(attempt, len(_PAUSES) - 1)])
            attempt += 1
    finally:
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()
