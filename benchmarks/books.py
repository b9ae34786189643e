"""Where the issue-6 benchmarks keep their books, and the checks and set-up they share.

Each benchmark runs on SQLite and, when ``CRMLEDGER_BENCH_POSTGRES_URL`` is set, on
PostgreSQL in a schema of its own (:func:`targets`), so benchmarks run side by side in one
database never touch each other's tables. A seeded book can be measured again without
seeding it again (``reuse``: the SQLite file and the schema are kept, with the key ring
that encrypts its parties' names)::

    for name, url in targets("sqlite,postgresql", out / "b.db", POSTGRES_ENV, "bench_b"):
        app = open_book(url, out, name, clock, fresh=True)
        ids = add_customers(app, 100_000)
        ...
        analyze(app)
        verify(app, date(2025, 12, 31))
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Table, func, select, text
from sqlalchemy.engine import make_url

from crmledger.bootstrap import App, build, migrate
from crmledger.config import Settings
from crmledger.core.chart import chart
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.persistence.crm_tables import parties
from crmledger.persistence.engine import make_engine, normalise_url
from crmledger.services.ports import Clock


@dataclass(frozen=True, slots=True)
class Soundness:
    """What :func:`verify` checked and how long it took."""

    entries_checked: int
    audit_records_checked: int
    seconds: float


def verify(app: App, as_of: date | None = None) -> Soundness:
    """Hold the book sound, or raise: every hash chain and running balance passes the
    verifier (``crmledger audit verify``), the trial balance adds up in every commodity and,
    at ``as_of``, assets equal liabilities and equity."""
    started = time.perf_counter()
    report = app.audit.verify()
    if not report.ok:
        raise AssertionError(f"audit verify failed: {'; '.join(map(str, report.findings))}")
    left = app.reports.trial_balance().residuals()
    if left:
        raise AssertionError(f"the trial balance leaves {left}")
    if as_of is not None:
        sheet = app.statements.balance_sheet(as_of)
        assets = sheet.amount("total_assets")
        other = sheet.amount("total_liabilities_and_equity")
        if assets != other:
            raise AssertionError(f"assets {assets} against liabilities and equity {other}")
    seconds = time.perf_counter() - started
    return Soundness(report.entries_checked, report.records_checked, round(seconds, 1))


def analyze(app: App) -> None:
    """Planner statistics for freshly loaded tables, as autovacuum (PostgreSQL) or
    ``PRAGMA optimize`` (SQLite) would gather them on a live book."""
    with app.engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def postgres_url(base: str, schema: str, *, fresh: bool = True) -> str:
    """``base`` pointed at ``schema`` (never ``public``), dropped and created afresh unless
    ``fresh`` is false."""
    if fresh:
        engine = make_engine(base)
        try:
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        finally:
            engine.dispose()
    url = make_url(normalise_url(base))
    options = f"-csearch_path={schema}"
    return url.update_query_dict({"options": options}).render_as_string(hide_password=False)


#: Parties per ``add_many`` call: one transaction each, well inside PostgreSQL's 65,535
#: bound parameters for the statements a transaction of new parties runs.
PARTIES_PER_CALL = 20_000


def add_customers(app: App, count: int) -> list[int]:
    """``count`` organisations named ``Customer N`` through the party service (their
    names are encrypted, their search keys written); returns their ids in order."""
    ids: list[int] = []
    for first in range(0, count, PARTIES_PER_CALL):
        stored = app.parties.add_many(
            [
                Party(kind=PartyKind.ORGANISATION, display_name=f"Customer {i}")
                for i in range(first, min(first + PARTIES_PER_CALL, count))
            ]
        )
        ids += [int(p.id or 0) for p in stored]
    return ids


def sqlite_url(path: Path, *, fresh: bool = True) -> str:
    """A SQLite URL for ``path``, after deleting the file and its companions if ``fresh``."""
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path.resolve()}"


def targets(
    chosen: str, sqlite_path: Path, postgres_env: str, schema: str, *, fresh: bool = True
) -> list[tuple[str, str]]:
    """The databases a benchmark runs on: ``chosen`` (``sqlite,postgresql`` by default),
    PostgreSQL only when ``postgres_env`` names a server; emptied first if ``fresh``."""
    found = []
    names = {n.strip() for n in chosen.split(",") if n.strip()}
    if "sqlite" in names:
        found.append(("sqlite", sqlite_url(sqlite_path, fresh=fresh)))
    if "postgresql" in names:
        base = os.environ.get(postgres_env)
        if base:
            found.append(("postgresql", postgres_url(base, schema, fresh=fresh)))
        else:
            print(f"PostgreSQL not measured: set {postgres_env}", file=sys.stderr)
    return found


Figures = TypeVar("Figures")


def each_database(
    found: list[tuple[str, str]], out: Path, run: Callable[[str, str], Figures]
) -> list[Figures]:
    """``run(name, url)`` on each of :func:`targets`' databases in turn, its figures (a
    dataclass) kept in ``out / "results.json"`` as each database finishes."""
    figures: list[Any] = []
    for name, url in found:
        print(f"{name}: seeding", flush=True)
        figures.append(run(name, url))
        results = json.dumps([asdict(f) for f in figures], indent=2)
        (out / "results.json").write_text(results)
    return figures


def open_book(url: str, work: Path, name: str, clock: Clock | None, *, fresh: bool) -> App:
    """A fresh book (migrated, the default chart, EUR) or, unless ``fresh``, the one
    seeded before at ``url`` with its key ring."""
    keyring = work / f"{name}.keys"
    if fresh:
        keyring.unlink(missing_ok=True)
    app = build(Settings(database_url=url, keyring_path=keyring), clock)
    if fresh:
        migrate(app)
        app.ledger.init_book(chart("default"), "EUR")
    return app


def step(took: dict[str, float], name: str, what: str, run: Callable[[], object]) -> None:
    """Run one seeding step, keeping its seconds in ``took`` and printing them."""
    started = time.perf_counter()
    run()
    took[what] = round(time.perf_counter() - started, 1)
    print(f"  {name}: {what} in {took[what]:,.1f} s", flush=True)


def count(app: App, table: Table) -> int:
    """How many rows ``table`` holds."""
    with app.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def party_ids(app: App) -> list[int]:
    """Every party's id, in order (the customers of a reused book)."""
    with app.engine.connect() as conn:
        return [int(i) for i in conn.scalars(select(parties.c.id).order_by(parties.c.id))]
