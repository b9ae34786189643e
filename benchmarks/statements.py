"""The financial statements at scale: a year with three comparison columns.

On a fresh book (SQLite, and PostgreSQL when ``CRMLEDGER_BENCH_POSTGRES_URL`` is set), N
entries spread over four years, posted 10,000 per transaction: sales on credit with output
tax, receipts, bills, payroll, rent, loan instalments, monthly depreciation, and one entry
in twenty a dollar invoice with its base value as a total price. Then p50 / p95 of each
statement for the last year with the previous period, the same period last year and the
first year as comparisons, and of a cash-flow statement whose edges cut months::

    python -m benchmarks.statements --entries 1000000

Target (issue 6): each statement for a year with three comparison columns under 200 ms at
a million entries, on both databases. A column of whole months reads the monthly running
balances, not the postings, so its cost does not grow with the number of entries.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from benchmarks.crm import percentiles
from benchmarks.run import POSTGRES_ENV, postgres_url, sqlite_url
from crmledger.bootstrap import App, build, migrate
from crmledger.config import Settings
from crmledger.core.chart import chart
from crmledger.core.entries import Conversion, JournalEntry, Posting
from crmledger.core.statement_periods import Period

TARGET_MS = 200.0
SAMPLES = 20
START = date(2022, 1, 1)
DAYS = 4 * 365
YEAR = Period(date(2025, 1, 1), date(2025, 12, 31))
COMPARE = "previous,last-year,2022-01-01..2022-12-31"
BATCH = 10_000


@dataclass
class Figures:
    """One database's results."""

    database: str
    entries: int
    post_seconds: float
    timings: dict[str, dict[str, float]]


def _eur(amount: Decimal, *lines: tuple[str, int]) -> tuple[Posting, ...]:
    return tuple(Posting(account, sign * amount, "EUR") for account, sign in lines)


def _entry(rng: random.Random, day: date, n: int) -> JournalEntry:
    """One of the company's everyday entries, by ``n``."""
    amount = Decimal(rng.randrange(1_000, 500_000)).scaleb(-2)
    kind = n % 20
    if kind == 0:  # a dollar invoice at its booked base value
        base = Conversion((amount * Decimal("0.92")).quantize(Decimal("0.01")), "EUR", True)
        postings: tuple[Posting, ...] = (
            Posting("Assets:Receivables:Customers", amount, "USD", price=base),
            Posting("Income:Sales:Services", -amount, "USD", price=base),
        )
    elif kind < 8:
        tax = (amount * Decimal("0.19")).quantize(Decimal("0.01"))
        postings = (
            Posting("Assets:Receivables:Customers", amount + tax, "EUR"),
            Posting("Income:Sales:Products", -amount, "EUR"),
            Posting("Liabilities:Tax:Output", -tax, "EUR"),
        )
    elif kind < 13:
        postings = _eur(amount, ("Assets:Bank:Checking", 1), ("Assets:Receivables:Customers", -1))
    elif kind < 16:
        postings = _eur(amount, ("Expenses:COGS", 1), ("Liabilities:Payables:Vendors", -1))
    elif kind < 18:
        postings = _eur(amount, ("Liabilities:Payables:Vendors", 1), ("Assets:Bank:Checking", -1))
    elif kind == 18:
        postings = _eur(amount, ("Expenses:Salaries", 1), ("Assets:Bank:Checking", -1))
    else:
        postings = _eur(amount, ("Expenses:Depreciation", 1), ("Assets:Fixed:Depreciation", -1))
    return JournalEntry(date=day, narration="Everyday", postings=postings)


def post(app: App, entries: int) -> float:
    """Post ``entries`` over four years, ``BATCH`` per transaction; returns the seconds."""
    rng = random.Random(6)
    started = time.perf_counter()
    batch: list[JournalEntry] = []
    for n in range(entries):
        day = START + timedelta(days=n * DAYS // max(entries, 1))
        batch.append(_entry(rng, day, n))
        if len(batch) == BATCH:
            app.ledger.post(batch)
            batch = []
    if batch:
        app.ledger.post(batch)
    return time.perf_counter() - started


def measure(app: App) -> dict[str, dict[str, float]]:
    """Percentiles of each statement (after two warm-up runs each)."""
    s = app.statements
    cut = Period(date(2025, 1, 15), date(2025, 11, 20))
    runs = {
        "income statement, 4 columns": lambda _: s.income_statement(YEAR, COMPARE),
        "balance sheet, 4 columns": lambda _: s.balance_sheet(YEAR.end, COMPARE),
        "cash-flow statement, 4 columns": lambda _: s.cash_flow(YEAR, COMPARE),
        "cash flow cutting months, 3 columns": lambda _: s.cash_flow(cut, "previous,last-year"),
    }
    return {name: percentiles(run, list(range(SAMPLES))) for name, run in runs.items()}


def run_one(name: str, url: str, work: Path, entries: int) -> Figures:
    """Post the entries and measure the statements."""
    keyring = work / f"{name}.keys"
    keyring.unlink(missing_ok=True)
    app = build(Settings(database_url=url, keyring_path=keyring))
    try:
        migrate(app)
        app.ledger.init_book(chart("default"), "EUR")
        seconds = post(app, entries)
        timings = measure(app)
    finally:
        app.engine.dispose()
    return Figures(name, entries, round(seconds, 1), timings)


def report(figures: list[Figures]) -> None:
    """The figures against the target."""
    for f in figures:
        print(f"\n{f.database}: {f.entries:,} entries (posted in {f.post_seconds:,.1f} s)")
        for what, t in f.timings.items():
            ok = "met" if t["p95_ms"] < TARGET_MS else "NOT MET"
            print(f"  {what:38} p50 {t['p50_ms']:7.2f} ms  p95 {t['p95_ms']:7.2f} ms  ({ok})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("bench-data/statements"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    targets = [("sqlite", sqlite_url(args.out / "statements.db"))]
    base = os.environ.get(POSTGRES_ENV)
    if base:
        targets.append(("postgresql", postgres_url(base)))
    else:
        print(f"PostgreSQL not measured: set {POSTGRES_ENV}", file=sys.stderr)
    figures = [run_one(n, u, args.out, args.entries) for n, u in targets]
    report(figures)
    (args.out / "results.json").write_text(json.dumps([asdict(f) for f in figures], indent=2))


if __name__ == "__main__":
    main()
