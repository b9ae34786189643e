"""The financial statements at scale: a year with three comparison columns.

On a fresh book (SQLite, and PostgreSQL when ``CRMLEDGER_BENCH_POSTGRES_URL`` is set, in a
schema of its own), N entries spread over four years are written by the bulk loader
(:mod:`benchmarks.bulk`, 100,000 per transaction, the rows posting would write): sales on
credit with output tax, receipts, bills, payments to vendors, payroll, depreciation, and
one entry in twenty a dollar invoice with its base value as a total price. Then
``ANALYZE``, the book's verifier (hash chains, running balances, trial balance, balance
sheet), and p50 / p95 of each statement for the last year with the previous period, the
same period last year and the first year as comparisons, and of a cash-flow statement
whose edges cut months, each printed as it is measured::

    python -m benchmarks.statements --entries 1000000

Target (issue 6): each statement for a year with three comparison columns under 200 ms at
a million entries, on both databases. A column of whole months reads the monthly running
balances, not the postings, so its cost does not grow with the number of entries.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from benchmarks import books, bulk
from benchmarks.crm import percentiles
from benchmarks.run import POSTGRES_ENV
from crmledger.bootstrap import App
from crmledger.core.statement_periods import Period

TARGET_MS = 200.0
SAMPLES = 20
YEAR = Period(date(2025, 1, 1), date(2025, 12, 31))
COMPARE = "previous,last-year,2022-01-01..2022-12-31"
POSTED_AT = datetime(2026, 1, 10, 9, tzinfo=UTC)
POSTGRES_SCHEMA = "crmledger_bench_statements"


@dataclass
class Figures:
    """One database's results."""

    database: str
    entries: int
    load_seconds: float
    verify_seconds: float
    timings: dict[str, dict[str, float]]


def measure(app: App, name: str) -> dict[str, dict[str, float]]:
    """Percentiles of each statement (after two warm-up runs each), printed as measured."""
    s = app.statements
    cut = Period(date(2025, 1, 15), date(2025, 11, 20))
    runs: dict[str, Callable[[int], Any]] = {
        "income statement, 4 columns": lambda _: s.income_statement(YEAR, COMPARE),
        "balance sheet, 4 columns": lambda _: s.balance_sheet(YEAR.end, COMPARE),
        "cash-flow statement, 4 columns": lambda _: s.cash_flow(YEAR, COMPARE),
        "cash flow cutting months, 3 columns": lambda _: s.cash_flow(cut, "previous,last-year"),
    }
    found = {}
    for what, run in runs.items():
        t = found[what] = percentiles(run, list(range(SAMPLES)))
        print(f"  {name}: {_line(what, t)}", flush=True)
    return found


def _line(what: str, t: dict[str, float]) -> str:
    ok = "met" if t["p95_ms"] < TARGET_MS else "NOT MET"
    return f"{what:38} p50 {t['p50_ms']:7.2f} ms  p95 {t['p95_ms']:7.2f} ms  ({ok})"


def seed(app: App, name: str, entries: int) -> tuple[float, float]:
    """Load the entries, gather statistics, verify the book; returns the seconds of the
    load and of the verifier."""
    print(f"{name}: loading {entries:,} entries", flush=True)
    started = time.perf_counter()
    bulk.load(app, bulk.everyday(entries), POSTED_AT)
    seconds = time.perf_counter() - started
    books.analyze(app)
    sound = books.verify(app, YEAR.end)
    print(
        f"{name}: book verified ({sound.entries_checked:,} entries, hash chains, running "
        f"balances, trial balance, balance sheet) in {sound.seconds:,.1f} s",
        flush=True,
    )
    return round(seconds, 1), sound.seconds


def run_one(name: str, url: str, work: Path, entries: int, fresh: bool) -> Figures:
    """Load the entries (unless the book is reused), check the book, measure."""
    app = books.open_book(url, work, name, None, fresh=fresh)
    try:
        load, check = seed(app, name, entries) if fresh else (0.0, 0.0)
        timings = measure(app, name)
    finally:
        app.engine.dispose()
    return Figures(name, entries, load, check, timings)


def report(figures: list[Figures]) -> None:
    """The figures against the target, side by side."""
    for f in figures:
        print(f"\n{f.database}: {f.entries:,} entries (loaded in {f.load_seconds:,.1f} s)")
        for what, t in f.timings.items():
            print(f"  {_line(what, t)}")
    if len(figures) == 2:
        print("\npostgresql / sqlite p50:")
        for what, t in figures[1].timings.items():
            ratio = t["p50_ms"] / figures[0].timings[what]["p50_ms"]
            print(f"  {what:38} {ratio:5.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("bench-data/statements"))
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="sqlite, postgresql or both"
    )
    parser.add_argument("--reuse", action="store_true", help="measure the last run's books")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    targets = books.targets(
        args.databases,
        args.out / "statements.db",
        POSTGRES_ENV,
        POSTGRES_SCHEMA,
        fresh=not args.reuse,
    )
    figures: list[Figures] = []
    for name, url in targets:
        figures.append(run_one(name, url, args.out, args.entries, not args.reuse))
        results = json.dumps([asdict(f) for f in figures], indent=2)
        (args.out / "results.json").write_text(results)  # kept as each database finishes
    report(figures)


if __name__ == "__main__":
    main()
