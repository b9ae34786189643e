"""An idle worker wakes as soon as a change commits (its doorbell), looks for work without
taking SQLite's write lock; a writer waiting for that lock asks for it every few
milliseconds until its time is up."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from crmledger.bootstrap import App, worker
from crmledger.integration.bus import InProcessBus
from crmledger.persistence.engine import BUSY_TIMEOUT_MS, begin_immediate
from crmledger.services.worker import Worker
from tests.integration_sync.helpers import customer


@pytest.fixture
def loop(app: App) -> Iterator[Worker]:
    made = worker(app, InProcessBus(), "wake-test")
    yield made
    made.close()


def _later(seconds: float, work: object) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        work()  # type: ignore[operator]

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_an_idle_worker_wakes_when_a_change_commits_and_not_for_a_rollback(
    app: App, loop: Worker
) -> None:
    party = customer(app)
    loop.tick()  # relays the creation
    bell = loop.doorbell
    assert bell is not None
    bell.wait(0.05)  # starts listening; a change may or may not have rung before
    assert bell.wait(0.3) is False  # nothing happens: the whole pause

    started = time.monotonic()
    thread = _later(0.2, lambda: app.parties.update(party, {"segment": "b"}, None))
    assert bell.wait(10) is True
    waited = time.monotonic() - started
    thread.join()
    assert 0.15 < waited < 5  # woken by the commit, long before the pause ran out
    assert loop.tick() > 0  # ... and the round finds the change's event

    while bell.wait(0.2):  # the worker's own commits may ring once more
        pass

    def rolled_back() -> None:
        with app.engine.connect() as conn:
            conn.execute(text("UPDATE outbox_events SET payload = payload"))
            conn.rollback()

    thread = _later(0.05, rolled_back)
    assert bell.wait(0.5) is False
    thread.join()


def test_an_idle_round_takes_no_write_lock(app: App, loop: Worker) -> None:
    customer(app)
    while loop.tick():
        pass
    if app.engine.dialect.name != "sqlite":
        return  # PostgreSQL has no lock for the whole book
    holder = sqlite3.connect(app.engine.url.database or "", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing for a long time
    try:
        started = time.monotonic()
        assert loop.tick() == 0
        assert time.monotonic() - started < 5  # it did not queue for the write lock
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    path = tmp_path / "locks.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (n INTEGER)")
    return path


def test_a_waiting_writer_gets_the_lock_once_it_is_free_and_gives_up_after_its_wait(
    sqlite_file: Path,
) -> None:
    holder = sqlite3.connect(sqlite_file, isolation_level=None, check_same_thread=False)
    waiter = sqlite3.connect(sqlite_file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        begin_immediate(waiter, wait=0.2)
    assert waiter.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT_MS

    released = _later(0.3, lambda: holder.execute("COMMIT"))
    started = time.monotonic()
    begin_immediate(waiter, wait=10)
    waited = time.monotonic() - started
    released.join()
    assert 0.25 < waited < 2
    waiter.execute("INSERT INTO t VALUES (1)")
    waiter.execute("COMMIT")
    assert waiter.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT_MS
    holder.close()
    waiter.close()
