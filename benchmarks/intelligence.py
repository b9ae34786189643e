"""Customer intelligence at scale: the customer 360's p50 / p95 / p99 and the book-wide
reports' times, with the query plan of every statement a 360 runs.

On a fresh book (SQLite, and PostgreSQL when ``CRMLEDGER_BENCH_POSTGRES_URL`` is set):
``--customers`` parties, ``--invoices`` invoices issued and paid through ``issue_batch`` /
``record_batch`` (500 a transaction) spread over them, ``--interactions`` interactions;
then the 360 of random customers (after one call that takes the book-wide snapshot) and one
run of each report::

    python -m benchmarks.intelligence --customers 2000 --invoices 20000 --plans

Target (issue 6): the 360's p99 under 50 ms with 100,000 customers and 1M entries.
``--plans`` prints SQLite's ``EXPLAIN QUERY PLAN`` of each statement of one 360: every one
must search an index by ``party_id`` (or a primary key), never scan a table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event

from benchmarks.billing import SteppingClock, book, issue_and_settle_batched
from benchmarks.crm import seed_interactions
from benchmarks.run import POSTGRES_ENV, postgres_url, sqlite_url
from crmledger.bootstrap import App
from crmledger.core.crm.parties import Party, PartyKind

TARGET_P99_MS = 50.0
SAMPLES = 300


@dataclass
class Figures:
    """One database's results."""

    database: str
    customers: int
    invoices: int
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


def reports(app: App) -> dict[str, float]:
    """Seconds of one run of each book-wide report."""
    runs: dict[str, Callable[[], Any]] = {
        "profitability by customer": lambda: app.intelligence.profitability("customer"),
        "profitability by product": lambda: app.intelligence.profitability("product"),
        "rfm": lambda: app.intelligence.rfm(limit=100),
        "cohorts": app.intelligence.cohorts,
        "receivables": app.intelligence.receivables_kpis,
    }
    found = {}
    for name, run in runs.items():
        started = time.perf_counter()
        run()
        found[name] = round(time.perf_counter() - started, 3)
    return found


def run_one(name: str, url: str, work: Path, args: argparse.Namespace) -> Figures:
    """Seed, then measure."""
    clock = SteppingClock()
    app = book(url, work, name, clock)
    try:
        stored = app.parties.add_many(
            [
                Party(kind=PartyKind.ORGANISATION, display_name=f"Customer {i}")
                for i in range(args.customers)
            ]
        )
        parties = [int(p.id or 0) for p in stored]
        issue_and_settle_batched(app, clock, args.invoices, parties)
        seed_interactions(app, args.customers, args.interactions)
        rng = random.Random(3)
        keys = [rng.choice(parties) for _ in range(SAMPLES)]
        app.intelligence.customer_360(keys[0])  # takes the book-wide snapshot
        timings = percentiles(app.intelligence.customer_360, keys)
        count = len(statements(app, keys[0]))
        if args.plans and name == "sqlite":
            print("\n".join(plans(app, keys[0])))
        took = reports(app)
    finally:
        app.engine.dispose()
    return Figures(name, args.customers, args.invoices, timings, took, count)


def report(figures: list[Figures]) -> None:
    """The figures against the target."""
    for f in figures:
        t = f.customer_360
        ok = "met" if t["p99_ms"] < TARGET_P99_MS else "NOT MET"
        print(f"\n{f.database}: {f.customers:,} customers, {f.invoices:,} invoices")
        print(
            f"  customer 360 ({f.statements_per_360} statements)  p50 {t['p50_ms']:.2f} ms  "
            f"p95 {t['p95_ms']:.2f} ms  p99 {t['p99_ms']:.2f} ms  ({ok})"
        )
        for what, seconds in f.reports_seconds.items():
            print(f"  {what:28} {seconds:8.3f} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=300_000)
    parser.add_argument("--interactions", type=int, default=200_000)
    parser.add_argument("--plans", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("bench-data/intelligence"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    targets = [("sqlite", sqlite_url(args.out / "intelligence.db"))]
    base = os.environ.get(POSTGRES_ENV)
    if base:
        targets.append(("postgresql", postgres_url(base)))
    else:
        print(f"PostgreSQL not measured: set {POSTGRES_ENV}", file=sys.stderr)
    figures = [run_one(n, u, args.out, args) for n, u in targets]
    report(figures)
    (args.out / "results.json").write_text(json.dumps([asdict(f) for f in figures], indent=2))


if __name__ == "__main__":
    main()
