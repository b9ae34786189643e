"""Customer intelligence at scale: the customer 360's p50 / p95 / p99 and the book-wide
reports' times, with the query plan of every statement a 360 runs.

On a fresh book (SQLite, and PostgreSQL when ``CRMLEDGER_BENCH_POSTGRES_URL`` is set, in a
schema of its own): ``--customers`` parties (``add_many``, one transaction); ``--invoices``
invoices issued and paid through ``issue_batch`` / ``record_batch`` (1,000 a transaction,
every tenth left unpaid) spread over them; ``--interactions`` interactions; ``--entries``
everyday journal entries written by the bulk loader (:mod:`benchmarks.bulk`), so that the
book holds over a million journal entries; then ``ANALYZE`` and the book's verifier. Then
the 360 of random customers (after one call that takes the book-wide snapshot) and one run
of each report, each figure printed as it is measured::

    python -m benchmarks.intelligence --customers 100000
    python -m benchmarks.intelligence --customers 2000 --invoices 20000 --entries 0 --plans

Target (issue 6): the 360's p99 under 50 ms with 100,000 customers and 1M entries.
``--plans`` prints SQLite's ``EXPLAIN QUERY PLAN`` of each statement of one 360: every one
must search an index by ``party_id`` (or a primary key), never scan a table.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

from benchmarks import books, bulk
from benchmarks.billing import SteppingClock, issue_and_settle_batched
from benchmarks.crm import seed_interactions
from benchmarks.run import POSTGRES_ENV
from crmledger.bootstrap import App
from crmledger.persistence.billing_tables import billing_documents
from crmledger.persistence.tables import journal_entries

TARGET_P99_MS = 50.0
SAMPLES = 300
POSTGRES_SCHEMA = "crmledger_bench_intelligence"


@dataclass
class Figures:
    """One database's results."""

    database: str
    customers: int
    invoices: int
    journal_entries: int
    seed_seconds: dict[str, float]
    customer_360: dict[str, float]
    reports_seconds: dict[str, float]
    statements_per_360: int


def percentiles(fn: Callable[[int], Any], keys: list[int]) -> dict[str, float]:
    """p50, p95 and p99 in milliseconds of ``fn(key)`` over ``keys``."""
    times = []
    for key in keys:
        started = time.perf_counter()
        fn(key)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
        "p99_ms": round(times[int(len(times) * 0.99) - 1], 2),
    }


def statements(app: App, party: int) -> list[tuple[str, Any]]:
    """The SQL statements (and parameters) one 360 runs."""
    seen: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        seen.append((sql, params))

    event.listen(app.engine, "before_cursor_execute", keep)
    try:
        app.intelligence.customer_360(party)
    finally:
        event.remove(app.engine, "before_cursor_execute", keep)
    return seen


def plans(app: App, party: int) -> list[str]:
    """SQLite's query plan of each statement of a 360 (one line per plan step)."""
    lines = []
    with app.engine.connect() as conn:
        raw = conn.connection.driver_connection
        for sql, params in statements(app, party):
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            steps = raw.execute(f"EXPLAIN QUERY PLAN {sql}", params or ()).fetchall()  # type: ignore[union-attr]
            lines.append(" ".join(sql.split())[:110])
            lines += [f"    {step[-1]}" for step in steps]
    return lines


def reports(app: App, name: str) -> dict[str, float]:
    """Seconds of one run of each book-wide report, printed as measured."""
    runs: dict[str, Callable[[], Any]] = {
        "profitability by customer": lambda: app.intelligence.profitability("customer"),
        "profitability by product": lambda: app.intelligence.profitability("product"),
        "rfm": lambda: app.intelligence.rfm(limit=100),
        "cohorts": app.intelligence.cohorts,
        "receivables": app.intelligence.receivables_kpis,
    }
    found = {}
    for what, run in runs.items():
        started = time.perf_counter()
        run()
        found[what] = round(time.perf_counter() - started, 3)
        print(f"  {name}: {what:28} {found[what]:8.3f} s", flush=True)
    return found


def seed(
    app: App, clock: SteppingClock, name: str, args: argparse.Namespace
) -> tuple[list[int], dict[str, float]]:
    """Customers, invoices and receipts, interactions, everyday entries; then ``ANALYZE``
    and the verifier. Returns the customers' ids and each step's seconds."""
    took: dict[str, float] = {}
    parties: list[int] = []

    def customers() -> None:
        parties.extend(books.add_customers(app, args.customers))

    books.step(took, name, f"{args.customers:,} customers", customers)
    books.step(
        took,
        name,
        f"{args.invoices:,} invoices and their receipts",
        lambda: issue_and_settle_batched(app, clock, args.invoices, parties),
    )
    books.step(
        took,
        name,
        f"{args.interactions:,} interactions",
        lambda: seed_interactions(app, args.customers, args.interactions),
    )
    posted_at = clock.now()
    books.step(
        took,
        name,
        f"{args.entries:,} everyday entries",
        lambda: bulk.load(app, bulk.everyday(args.entries), posted_at),
    )
    books.step(took, name, "ANALYZE", lambda: books.analyze(app))
    books.step(took, name, "book verified", lambda: books.verify(app))
    return parties, took


def measuring_day(app: App) -> datetime:
    """The morning after the last invoice: the moment the 360s are read at."""
    d = billing_documents.c
    with app.engine.connect() as conn:
        last = conn.execute(select(func.max(d.issued_on))).scalar_one()
    day = (last or date(2024, 1, 1)) + timedelta(days=1)
    return datetime(day.year, day.month, day.day, 9, tzinfo=UTC)


def run_one(name: str, url: str, work: Path, args: argparse.Namespace) -> Figures:
    """Seed (unless the book is reused), then measure."""
    clock = SteppingClock()
    app = books.open_book(url, work, name, clock, fresh=not args.reuse)
    try:
        parties, took_seeding = ([], {}) if args.reuse else seed(app, clock, name, args)
        parties = parties or books.party_ids(app)
        entries = books.count(app, journal_entries)
        print(f"  {name}: {entries:,} journal entries in the book", flush=True)
        clock.current = measuring_day(app)
        rng = random.Random(3)
        keys = [rng.choice(parties) for _ in range(SAMPLES)]
        started = time.perf_counter()
        app.intelligence.customer_360(keys[0])  # takes the book-wide snapshot
        first = (time.perf_counter() - started) * 1000
        print(f"  {name}: first 360 (takes the book snapshot) {first:,.1f} ms", flush=True)
        timings = percentiles(app.intelligence.customer_360, keys)
        count = len(statements(app, keys[0]))
        print(f"  {name}: {_line(timings, count)}", flush=True)
        if args.plans and name == "sqlite":
            print("\n".join(plans(app, keys[0])))
        took = reports(app, name)
    finally:
        app.engine.dispose()
    return Figures(name, args.customers, args.invoices, entries, took_seeding, timings, took, count)


def _line(t: dict[str, float], count: int) -> str:
    ok = "met" if t["p99_ms"] < TARGET_P99_MS else "NOT MET"
    return (
        f"customer 360 ({count} statements)  p50 {t['p50_ms']:.2f} ms  "
        f"p95 {t['p95_ms']:.2f} ms  p99 {t['p99_ms']:.2f} ms  ({ok})"
    )


def report(figures: list[Figures]) -> None:
    """The figures against the target, side by side."""
    for f in figures:
        print(
            f"\n{f.database}: {f.customers:,} customers, {f.invoices:,} invoices, "
            f"{f.journal_entries:,} journal entries"
        )
        print(f"  {_line(f.customer_360, f.statements_per_360)}")
        for what, seconds in f.reports_seconds.items():
            print(f"  {what:28} {seconds:8.3f} s")
    if len(figures) == 2:
        sqlite, postgres = (f.customer_360 for f in figures)
        ratio = postgres["p99_ms"] / sqlite["p99_ms"]
        print(f"\npostgresql / sqlite, customer 360 p99: {ratio:.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=300_000)
    parser.add_argument("--interactions", type=int, default=200_000)
    parser.add_argument(
        "--entries", type=int, default=500_000, help="everyday journal entries (bulk loaded)"
    )
    parser.add_argument("--plans", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("bench-data/intelligence"))
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="sqlite, postgresql or both"
    )
    parser.add_argument("--reuse", action="store_true", help="measure the last run's books")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    targets = books.targets(
        args.databases,
        args.out / "intelligence.db",
        POSTGRES_ENV,
        POSTGRES_SCHEMA,
        fresh=not args.reuse,
    )
    report(books.each_database(targets, args.out, lambda n, u: run_one(n, u, args.out, args)))


if __name__ == "__main__":
    main()
