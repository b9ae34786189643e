"""How long ``crmledger demo --customers N --years Y`` takes, on SQLite (the embedded
default ``make demo`` uses) and on PostgreSQL when ``CRMLEDGER_BENCH_POSTGRES_URL`` is set.

Each run starts from an empty, initialised book and loads the demo company through the
services (see :mod:`crmledger.services.demo`), then checks that the books verify::

    python -m benchmarks.demo --customers 10000 --years 3

Target (issue 5): 10,000 customers over 3 years in under 2 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from datetime import time as clock_time
from pathlib import Path

from benchmarks.run import POSTGRES_ENV, postgres_url, sqlite_url
from crmledger.bootstrap import build, migrate
from crmledger.cli.demo import services_of
from crmledger.config import Settings
from crmledger.core.chart import chart
from crmledger.services.demo import DemoClock, DemoSpec, load_demo

TARGET_SECONDS = 120.0
TODAY = date(2026, 11, 20)


@dataclass
class Figures:
    """One database's run."""

    database: str
    customers: int
    years: int
    seconds: float
    invoices: int
    payments: int
    interactions: int
    peak_rss_mib: float
    verified: bool


def run_one(name: str, url: str, work: Path, customers: int, years: int) -> Figures:
    """Load the demo into a fresh book and time it."""
    spec = DemoSpec(customers=customers, years=years, seed=7, today=TODAY)
    clock = DemoClock(datetime.combine(spec.first_month, clock_time(8), tzinfo=UTC))
    keyring = work / f"{name}.keys"
    keyring.unlink(missing_ok=True)
    app = build(Settings(database_url=url, keyring_path=keyring), clock)
    try:
        migrate(app)
        app.ledger.init_book(chart("default"), "EUR")
        started = time.perf_counter()
        result = load_demo(services_of(app), spec, clock)
        seconds = time.perf_counter() - started
        verified = app.audit.verify().ok
    finally:
        app.engine.dispose()
    tally = result.tally
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Figures(
        name,
        customers,
        years,
        round(seconds, 1),
        tally.invoices,
        tally.payments,
        tally.interactions,
        round(peak, 1),
        verified,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench-data/demo"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    db = args.out / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    targets = [("sqlite", sqlite_url(db))]
    base = os.environ.get(POSTGRES_ENV)
    if base:
        targets.append(("postgresql", postgres_url(base)))
    else:
        print(f"PostgreSQL not measured: set {POSTGRES_ENV}", file=sys.stderr)
    figures = [run_one(n, u, args.out, args.customers, args.years) for n, u in targets]
    for f in figures:
        met = "met" if f.seconds < TARGET_SECONDS else "NOT MET"
        print(
            f"{f.database}: demo with {f.customers:,} customers over {f.years} years in "
            f"{f.seconds:,.1f} s (target < {TARGET_SECONDS:.0f} s: {met}); {f.invoices:,} "
            f"invoices, {f.payments:,} receipts, {f.interactions:,} interactions; peak "
            f"{f.peak_rss_mib:,.0f} MiB; books verify: {f.verified}"
        )
    if len(figures) == 2:
        print(f"PostgreSQL / SQLite time: {figures[1].seconds / figures[0].seconds:.2f}x")
    (args.out / "results.json").write_text(json.dumps([asdict(f) for f in figures], indent=2))


if __name__ == "__main__":
    main()
