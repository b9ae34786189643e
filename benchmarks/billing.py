"""Billing's figures: issuing and settling invoices through the services, and the
customer balance, aging and days to pay at scale.

On a fresh book (SQLite, and PostgreSQL when ``CRMLEDGER_BENCH_POSTGRES_URL`` is set):

1. N invoices through ``issue_batch`` and their receipts through ``record_batch``, 1,000
   per transaction (how imports, the demo and bulk loads run): each invoice is numbered,
   credit-checked, posted through the ledger's write boundary with its audit record and
   outbox event, and each receipt is posted and allocated oldest first. Every fifth invoice
   is left partly paid and every tenth unpaid, so balances and aging have open items;
2. p50 / p95 of a customer's balance (open, overdue, unapplied credit, average days to pay)
   and of the customer's aging, over random customers, with the N invoices in the book;
3. ``--single`` more invoices one request at a time, as the API and the web run them:
   created as a draft, issued and settled by a receipt, three transactions per invoice::

    python -m benchmarks.billing --invoices 100000 --customers 2000 --single 5000

Targets (issue 5): report invoices/s on both databases; balance, aging and days to pay p95
under 50 ms at 100,000 invoices.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from benchmarks.crm import percentiles
from benchmarks.run import POSTGRES_ENV, postgres_url, sqlite_url
from crmledger.bootstrap import App, build, migrate
from crmledger.config import Settings
from crmledger.core.chart import chart
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.services.invoicing import DocumentLine, NewDocument
from crmledger.services.settling import NewPayment

TARGET_P95_MS = 50.0
SAMPLES = 200
START = date(2024, 1, 1)


class SteppingClock:
    """A clock that walks through three years as invoices are issued."""

    def __init__(self) -> None:
        self.current = datetime(2024, 1, 1, 9, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def today(self) -> date:
        return self.current.date()


@dataclass
class Figures:
    """One database's results."""

    database: str
    invoices: int
    customers: int
    seconds: float
    invoices_per_second: float
    single_invoices: int
    single_invoices_per_second: float
    timings: dict[str, dict[str, float]]


def book(url: str, work: Path, name: str, clock: SteppingClock) -> App:
    """A migrated book with the default chart, EUR base, and ``customers`` parties."""
    keyring = work / f"{name}.keys"
    keyring.unlink(missing_ok=True)
    app = build(Settings(database_url=url, keyring_path=keyring), clock)
    migrate(app)
    app.ledger.init_book(chart("default"), "EUR")
    return app


def issue_and_settle(app: App, clock: SteppingClock, invoices: int, customers: list[int]) -> float:
    """Issue and settle ``invoices``; returns the seconds it took."""
    rng = random.Random(5)
    step = timedelta(days=3 * 365) / max(invoices, 1)
    started = time.perf_counter()
    for i in range(invoices):
        clock.current += step
        party = customers[i % len(customers)]
        price = Decimal(rng.randrange(1_000, 500_000)).scaleb(-2)
        line = DocumentLine(
            description="Services", quantity=Decimal(rng.randrange(1, 5)), unit_price=price
        )
        draft = app.invoices.create(NewDocument(party_id=party, currency="EUR", lines=[line]))
        issued = app.invoices.issue(draft.id, draft.version)
        if i % 10 == 9:
            continue  # unpaid
        amount = issued.gross if i % 5 else (issued.gross / 2).quantize(Decimal("0.01"))
        app.payments.record(NewPayment(party_id=party, amount=amount, currency="EUR"))
    return time.perf_counter() - started


def issue_and_settle_batched(
    app: App, clock: SteppingClock, invoices: int, customers: list[int], size: int = 1000
) -> float:
    """The same work through ``issue_batch`` / ``record_batch``: ``size`` invoices, then
    their receipts, per transaction; returns the seconds it took."""
    rng = random.Random(6)
    started = time.perf_counter()
    for first in range(0, invoices, size):
        count = min(size, invoices - first)
        clock.current += timedelta(days=1)
        drafts = [
            NewDocument(
                party_id=customers[(first + i) % len(customers)],
                currency="EUR",
                lines=[
                    DocumentLine(
                        description="Services",
                        unit_price=Decimal(rng.randrange(1_000, 500_000)).scaleb(-2),
                    )
                ],
            )
            for i in range(count)
        ]
        ids = app.invoices.issue_batch(drafts)
        receipts = []
        for n, doc in enumerate(app.invoices.many(ids)):
            if (first + n) % 10 == 9:
                continue  # unpaid
            half = (doc.gross / 2).quantize(doc.gross)
            amount = doc.gross if (first + n) % 5 else half
            receipts.append(NewPayment(party_id=doc.party_id, amount=amount, currency="EUR"))
        app.payments.record_batch(receipts)
    return time.perf_counter() - started


def measure(app: App, customers: list[int]) -> dict[str, dict[str, float]]:
    """Percentiles of the customer balance and aging over random customers."""
    rng = random.Random(3)
    keys = [rng.choice(customers) for _ in range(SAMPLES)]
    return {
        "customer balance + days to pay": percentiles(app.payments.balance, keys),
        "customer aging": percentiles(lambda p: app.payments.aging(party_id=p), keys),
    }


def run_one(name: str, url: str, work: Path, invoices: int, customers: int, single: int) -> Figures:
    """Seed customers, issue and settle, measure."""
    clock = SteppingClock()
    app = book(url, work, name, clock)
    try:
        parties = [
            int(
                app.parties.add(Party(kind=PartyKind.ORGANISATION, display_name=f"Customer {i}")).id
                or 0
            )
            for i in range(customers)
        ]
        seconds = issue_and_settle_batched(app, clock, invoices, parties)
        timings = measure(app, parties)
        one_by_one = issue_and_settle(app, clock, single, parties)
    finally:
        app.engine.dispose()
    return Figures(
        name,
        invoices,
        customers,
        round(seconds, 2),
        round(invoices / seconds, 1),
        single,
        round(single / one_by_one, 1),
        timings,
    )


def report(figures: list[Figures]) -> None:
    """The figures against the targets, and the databases side by side."""
    for f in figures:
        print(f"\n{f.database}: {f.invoices:,} invoices over {f.customers:,} customers")
        print(
            f"  issue and settle, 1,000 per transaction: {f.invoices_per_second:,.1f} "
            f"invoices/s ({f.seconds:,.1f} s)"
        )
        print(
            f"  then {f.single_invoices:,} one request at a time: "
            f"{f.single_invoices_per_second:,.1f} invoices/s"
        )
        for what, t in f.timings.items():
            ok = "met" if t["p95_ms"] < TARGET_P95_MS else "NOT MET"
            print(f"  {what:32} p50 {t['p50_ms']:7.2f} ms  p95 {t['p95_ms']:7.2f} ms  ({ok})")
    if len(figures) == 2:
        bulk = figures[1].invoices_per_second / figures[0].invoices_per_second
        single = figures[1].single_invoices_per_second / figures[0].single_invoices_per_second
        print(f"\nPostgreSQL / SQLite: bulk {bulk:.2f}x, one at a time {single:.2f}x")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--single", type=int, default=5_000, help="invoices one at a time")
    parser.add_argument("--out", type=Path, default=Path("bench-data/billing"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    targets = [("sqlite", sqlite_url(args.out / "billing.db"))]
    base = os.environ.get(POSTGRES_ENV)
    if base:
        targets.append(("postgresql", postgres_url(base)))
    else:
        print(f"PostgreSQL not measured: set {POSTGRES_ENV}", file=sys.stderr)
    figures = [
        run_one(n, u, args.out, args.invoices, args.customers, args.single) for n, u in targets
    ]
    report(figures)
    (args.out / "results.json").write_text(json.dumps([asdict(f) for f in figures], indent=2))


if __name__ == "__main__":
    main()
