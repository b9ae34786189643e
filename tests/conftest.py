"""Shared fixtures: a fresh book on SQLite and on PostgreSQL for every database test.

The PostgreSQL run uses ``CRMLEDGER_TEST_POSTGRES_URL`` (CI always sets it); each test gets
its own database so tests can run in parallel. Without the URL the PostgreSQL variants are
skipped with that reason shown. The schema is migrated once per test process into a template
(an SQLite file, a PostgreSQL template database) and each test starts from a copy of it:
every migration still runs, once, and ``tests/db/test_migrations.py`` runs them down and up.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from crmledger.bootstrap import App, build, migrate
from crmledger.config import Settings
from crmledger.core.chart import chart
from crmledger.persistence.engine import make_engine
from crmledger.persistence.migrate import upgrade
from crmledger.security import Argon2PasswordHasher

#: Argon2id with the smallest parameters: tests create many users.
FAST_HASHER = Argon2PasswordHasher.fast_for_tests()

POSTGRES_URL = os.environ.get("CRMLEDGER_TEST_POSTGRES_URL", "")


class FixedClock:
    """A clock that says what the test wants."""

    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2026, 6, 30, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def today(self) -> date:
        return self.current.date()


def _postgres_schema_url() -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(make_url(POSTGRES_URL).set(drivername="postgresql+psycopg"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).set(
        drivername="postgresql+psycopg", query={"options": f"-csearch_path={schema}"}
    )
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite book with every migration applied, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "book.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def _postgres_admin() -> Engine:
    url = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")
    return create_engine(url, isolation_level="AUTOCOMMIT")


def _database_url(name: str) -> str:
    url = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[str]:
    """A PostgreSQL template database with every migration applied (one per process)."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set CRMLEDGER_TEST_POSTGRES_URL")
    name = f"tmpl_{uuid.uuid4().hex[:12]}"
    admin = _postgres_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(_database_url(name))
    upgrade(engine)
    engine.dispose()
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database URL, once per backend."""
    if request.param == "sqlite":
        path = tmp_path / "book.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set CRMLEDGER_TEST_POSTGRES_URL")
    template = request.getfixturevalue("_postgres_template")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = _postgres_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield _database_url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(autouse=True)
def _private_keyring(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Books opened through the environment (the CLI, the server factory) keep their key
    ring in a temporary folder, never in the working tree."""
    folder = tmp_path_factory.mktemp("keys")
    monkeypatch.setenv("CRMLEDGER_KEYRING", str(folder / "book.keys"))
    for name in ("CRMLEDGER_MASTER_KEY", "CRMLEDGER_ADMIN_EMAIL", "CRMLEDGER_ADMIN_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clock() -> FixedClock:
    """The clock the app under test uses."""
    return FixedClock()


def settings_for(db_url: str, folder: Path) -> Settings:
    """Settings for a test book whose key ring lives in ``folder``."""
    return Settings(database_url=db_url, keyring_path=folder / "book.keys")


@pytest.fixture
def app(db_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[App]:
    """A migrated book with the default chart and EUR as base currency."""
    application = build(settings_for(db_url, tmp_path), clock, FAST_HASHER)
    migrate(application)
    application.ledger.init_book(chart("default"), "EUR")
    yield application
    application.engine.dispose()
