"""Reconciliation between two crmledger books: how long ``crmledger sync reconcile`` takes
over 100,000 customers and 1,000,000 invoices, and whether the time per record stays flat.

Books A and B hold the same customers and issued invoices. Customers go in through the
parties' batch insert (their personal data is encrypted, each book with its own keys), B's
in another order so that its ids differ from A's; B's connector ``hq`` links each of its
parties to A's by the external-id map. Invoices are written straight into the table in
bulk (``COPY`` on PostgreSQL). A few differences are planted in B: a customer it lacks,
one only it has, one whose email differs; an invoice it lacks, one only it has, one whose
total and one whose status differ. Seeding is not measured.

A is served by ``crmledger serve`` in a child process; B reconciles customers, then
invoices, against it through its ``crmledger`` connector over HTTP, as ``crmledger sync
reconcile hq customer`` and ``... invoice`` do, and the bench checks that exactly the
planted differences are found. Each database is measured at a tenth of the size and at the
full size; the ratio of the time per record between them shows whether the work grows
linearly with the records (1.0) or faster::

    python -m benchmarks.reconcile --customers 100000 --invoices 1000000

Target (issue 8): the full reconciliation under 60 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Connection, insert, text

from benchmarks import books
from benchmarks.run import CRMLEDGER, POSTGRES_ENV, sqlite_url
from crmledger.bootstrap import App, build, migrate
from crmledger.config import Settings
from crmledger.core.access import Role
from crmledger.core.chart import chart
from crmledger.core.crm.parties import Address, Email, Party, PartyKind, Phone
from crmledger.core.integration.reconcile import Reconciliation
from crmledger.persistence.billing_tables import billing_documents
from crmledger.persistence.integration_tables import sync_links

TARGET_SECONDS = 60.0
PASSWORD = "reconcile-bench-password"
CITIES = ["Berlin", "Hamburg", "München", "Köln", "Leipzig", "Dresden", "Bremen", "Essen"]
STATUSES = ["issued", "paid", "partially_paid", "paid", "paid"]
CHUNK = 10_000
NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


@dataclass
class Figures:
    """One database at one size."""

    database: str
    customers: int
    invoices: int
    customer_seconds: float
    invoice_seconds: float
    #: CPU seconds of B (this process) and of A's server, customers and invoices together:
    #: the work done, whatever else the machine was running meanwhile.
    b_cpu: float = 0.0
    a_cpu: float = 0.0

    @property
    def seconds(self) -> float:
        return self.customer_seconds + self.invoice_seconds

    def per_record_us(self) -> tuple[float, float, float]:
        """Microseconds per customer, per invoice and per record of either kind."""
        return (
            self.customer_seconds / self.customers * 1e6,
            self.invoice_seconds / self.invoices * 1e6,
            self.seconds / (self.customers + self.invoices) * 1e6,
        )


@dataclass(frozen=True, slots=True)
class Planted:
    """The differences planted in B (indexes of customers, numbers of invoices)."""

    customer_missing_in_b: int
    customer_email_differs: int
    customer_only_in_b: str
    invoice_missing_in_b: str
    invoice_total_differs: str
    invoice_status_differs: str
    invoice_only_in_b: str


def planted(customers: int, invoices: int) -> Planted:
    return Planted(
        customer_missing_in_b=customers // 3,
        customer_email_differs=customers // 2,
        customer_only_in_b="999999999",
        invoice_missing_in_b=number(invoices // 3),
        invoice_total_differs=number(invoices // 2),
        invoice_status_differs=number(invoices // 5 * 4),
        invoice_only_in_b="INV-B000001",
    )


def number(k: int) -> str:
    return f"INV-{k:07d}"


def customer(i: int, email: str | None = None) -> Party:
    """Customer ``i``: an organisation with an email, a phone, an address and terms."""
    return Party(
        kind=PartyKind.ORGANISATION,
        display_name=f"Customer {i} GmbH",
        emails=(Email(email or f"billing{i}@customer{i}.example"),),
        phones=(Phone(f"+4930{1000000 + i:08d}"),),
        addresses=(
            Address(
                country="DE",
                street=f"Hauptstraße {i % 200 + 1}",
                postcode=f"{10000 + i % 89999:05d}",
                city=CITIES[i % len(CITIES)],
            ),
        ),
        currency="EUR",
        payment_terms_days=(14, 30, 60)[i % 3],
        segment=("smb", "mid", "enterprise")[i % 3],
    )


def _step(name: str, what: str, run: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    found = run()
    print(f"  {name}: {what} in {time.perf_counter() - started:,.1f} s", flush=True)
    return found


# -- seeding -------------------------------------------------------------------------------


def book(url: str, keys: Path) -> App:
    """A new book with the default chart, EUR as base currency."""
    keys.unlink(missing_ok=True)
    app = build(Settings(url, keys, {}))
    migrate(app)
    app.ledger.init_book(chart("default"), "EUR")
    return app


def add_customers(app: App, order: Sequence[int], make: Callable[[int], Party]) -> dict[int, int]:
    """Customers ``order`` (indexes) through the batch insert; their ids by index."""
    ids: dict[int, int] = {}
    for start in range(0, len(order), CHUNK):
        part = order[start : start + CHUNK]
        stored = app.parties.add_many([make(i) for i in part])
        ids |= {i: int(p.id or 0) for i, p in zip(part, stored, strict=True)}
    return ids


def invoice_rows(
    invoices: int, customers: int, party_of: dict[int, int], skip: int
) -> Iterator[dict[str, Any]]:
    """Issued invoices 1..``invoices`` spread over the customers (none to ``skip``)."""
    for k in range(1, invoices + 1):
        who = k % customers
        who = (who + 1) % customers if who == skip else who
        net = 1000 + (k * 7919) % 500_000
        tax = net * 19 // 100
        gross = net + tax
        status = STATUSES[k % len(STATUSES)]
        paid = {"issued": 0, "paid": gross, "partially_paid": gross // 2}[status]
        issued = date(2024, 1, 1) + timedelta(days=k % 730)
        yield {
            "kind": "invoice",
            "number": number(k),
            "party_id": party_of[who],
            "currency": "USD" if k % 10 == 0 else "EUR",
            "status": status,
            "issued_on": issued,
            "due_on": issued + timedelta(days=30),
            "net_minor": net,
            "tax_minor": tax,
            "gross_minor": gross,
            "paid_minor": paid,
            "open_minor": gross - paid,
            "open_base_minor": gross - paid,
            "created_at": NOW,
            "updated_at": NOW,
            "issued_at": datetime.combine(issued, datetime.min.time(), UTC),
        }


def _copy(conn: Connection, rows: Iterator[dict[str, Any]]) -> None:
    """PostgreSQL: ``COPY`` the rows in."""
    first = next(rows)
    columns = list(first)
    raw = conn.connection.dbapi_connection
    assert raw is not None
    with raw.cursor() as cursor:  # type: ignore[attr-defined]
        statement = f"COPY billing_documents ({', '.join(columns)}) FROM STDIN"
        with cursor.copy(statement) as copy:
            copy.write_row([first[c] for c in columns])
            for row in rows:
                copy.write_row([row[c] for c in columns])


def add_invoices(app: App, rows: Iterator[dict[str, Any]]) -> None:
    """Write issued invoices straight into the table, in one transaction."""
    with app.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            _copy(conn, rows)
            return
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == CHUNK * 5:
                conn.execute(insert(billing_documents), batch)
                batch = []
        if batch:
            conn.execute(insert(billing_documents), batch)


def link(app: App, connector_id: int, pairs: Sequence[tuple[str, int]]) -> None:
    """B's external-id map: A's party id -> B's party id, as a sync run leaves it."""
    rows = [
        {
            "connector_id": connector_id,
            "object_type": "customer",
            "external_id": external,
            "local_id": local,
            "remote_version": "",
            "local_version": 1,
            "base": "{}",
            "synced_at": NOW,
        }
        for external, local in pairs
    ]
    with app.engine.begin() as conn:
        for start in range(0, len(rows), CHUNK):
            conn.execute(insert(sync_links), rows[start : start + CHUNK])


def analyze(app: App) -> None:
    """Planner statistics for the tables just loaded (only this book's: a bare ``ANALYZE``
    on PostgreSQL would go through every schema of the database)."""
    with app.engine.begin() as conn:
        for table in ("parties", "party_external_ids", "billing_documents", "sync_links"):
            conn.execute(text(f"ANALYZE {table}"))


@dataclass
class Books:
    """Book A (its URL and key ring, its token for B) and book B."""

    a_url: str
    a_keys: Path
    b: App
    token: str
    links: list[tuple[str, int]]


def seed(name: str, urls: tuple[str, str], work: Path, customers: int, invoices: int) -> Books:
    """Books A and B as the module describes, ``ANALYZE``d."""
    plant = planted(customers, invoices)
    a = book(urls[0], work / "a.keys")
    b = book(urls[1], work / "b.keys")
    everyone = list(range(customers))
    a_ids = _step(name, f"A: {customers:,} customers", lambda: add_customers(a, everyone, customer))
    shuffled = [i for i in everyone if i != plant.customer_missing_in_b]
    random.Random(5).shuffle(shuffled)

    def b_customer(i: int) -> Party:
        changed = "changed@elsewhere.example" if i == plant.customer_email_differs else None
        return customer(i, changed)

    b_ids = _step(
        name, f"B: {len(shuffled):,} customers", lambda: add_customers(b, shuffled, b_customer)
    )
    extra = b.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Only in B GmbH"))
    skip = plant.customer_missing_in_b
    _step(
        name,
        f"A: {invoices:,} invoices",
        lambda: add_invoices(a, invoice_rows(invoices, customers, a_ids, skip)),
    )
    _step(
        name,
        f"B: {invoices:,} invoices",
        lambda: add_invoices(b, _b_invoices(plant, invoices, customers, b_ids)),
    )
    a.access.add_user("reconcile@a.example", Role.VIEWER, PASSWORD)
    token = a.access.create_token("reconcile@a.example", "book B reconciles").secret
    pairs = [(str(a_ids[i]), b_ids[i]) for i in shuffled]
    pairs.append((plant.customer_only_in_b, int(extra.id or 0)))
    _step(name, "ANALYZE", lambda: (analyze(a), analyze(b)))
    a.engine.dispose()
    return Books(urls[0], work / "a.keys", b, token, pairs)


def _b_invoices(
    plant: Planted, invoices: int, customers: int, b_ids: dict[int, int]
) -> Iterator[dict[str, Any]]:
    for row in invoice_rows(invoices, customers, b_ids, plant.customer_missing_in_b):
        if row["number"] == plant.invoice_missing_in_b:
            continue
        if row["number"] == plant.invoice_total_differs:
            row["net_minor"] += 1
            row["gross_minor"] += 1
            row["open_minor"] = row["open_base_minor"] = row["gross_minor"] - row["paid_minor"]
        if row["number"] == plant.invoice_status_differs:
            row["status"] = "issued" if row["status"] != "issued" else "paid"
            row["paid_minor"] = row["gross_minor"] if row["status"] == "paid" else 0
            row["open_minor"] = row["open_base_minor"] = row["gross_minor"] - row["paid_minor"]
        yield row
    extra = next(invoice_rows(1, customers, b_ids, plant.customer_missing_in_b))
    yield extra | {"number": plant.invoice_only_in_b}


# -- measuring -----------------------------------------------------------------------------


@contextmanager
def serving(url: str, keys: Path, work: Path) -> Iterator[tuple[str, int]]:
    """``crmledger serve`` on book A in a child process; yields its base URL and pid."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = dict(os.environ) | {"CRMLEDGER_KEYRING": str(keys)}
    log = (work / "serve.log").open("w")
    argv = [str(CRMLEDGER), "--db", url, "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"book A's server did not start: see {work / 'serve.log'}")
            time.sleep(0.2)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def check(verdict: Reconciliation, plant: Planted, customers: int, invoices: int) -> None:
    """Exactly the planted differences were found."""
    kinds = {(d.kind, d.key, d.field) for d in verdict.differences}
    if verdict.object_type == "customer":
        expected = (customers, customers, 1, 1, 1)
    else:
        expected = (invoices, invoices, 1, 1, 2)
        assert ("field", plant.invoice_total_differs, "total") in kinds, kinds
        assert ("field", plant.invoice_status_differs, "status") in kinds, kinds
        assert ("missing_local", plant.invoice_missing_in_b, "") in kinds, kinds
        assert ("missing_remote", plant.invoice_only_in_b, "") in kinds, kinds
        eur = verdict.totals["EUR"]
        assert eur[0] != eur[1], eur  # a total differs, an invoice is missing on each side
    found = (
        verdict.local_count,
        verdict.remote_count,
        verdict.missing_local,
        verdict.missing_remote,
        verdict.differing,
    )
    assert found == expected, (verdict.object_type, found, expected)
    assert not verdict.agree


def cpu_seconds(pid: int | None = None) -> float:
    """CPU seconds (user and system) used so far by process ``pid`` (``None``: this one)."""
    if pid is None:
        used = resource.getrusage(resource.RUSAGE_SELF)
        return used.ru_utime + used.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    both: Books, work: Path, plant: Planted, customers: int, invoices: int
) -> tuple[list[float], float, float]:
    """Seconds to reconcile customers and invoices, B against A over HTTP, and the CPU
    seconds B and A's server used for them."""
    with serving(both.a_url, both.a_keys, work) as (base, pid):
        config = {"url": base, "system": "book-b"}
        view, _ = both.b.sync.add("hq", "crmledger", config, {"token": both.token})
        link(both.b, view.id, both.links)  # as the sync runs that linked them left it
        took = []
        cpu_b, cpu_a = cpu_seconds(), cpu_seconds(pid)
        for object_type in ("customer", "invoice"):
            started = time.perf_counter()
            verdict = both.b.sync.reconcile("hq", object_type)
            took.append(time.perf_counter() - started)
            check(verdict, plant, customers, invoices)
        return took, cpu_seconds() - cpu_b, cpu_seconds(pid) - cpu_a


def run_one(name: str, urls: tuple[str, str], work: Path, customers: int, invoices: int) -> Figures:
    work.mkdir(parents=True, exist_ok=True)
    print(
        f"{name}: seeding {customers:,} customers and {invoices:,} invoices in A and B", flush=True
    )
    both = seed(name, urls, work, customers, invoices)
    try:
        seconds, cpu_b, cpu_a = measure(
            both, work, planted(customers, invoices), customers, invoices
        )
    finally:
        both.b.engine.dispose()
    found = Figures(
        name,
        customers,
        invoices,
        round(seconds[0], 2),
        round(seconds[1], 2),
        round(cpu_b, 1),
        round(cpu_a, 1),
    )
    per = found.per_record_us()
    ok = "ok" if found.seconds < TARGET_SECONDS else "MISSED"
    print(
        f"{name:10} {customers:>9,} customers {found.customer_seconds:7.2f} s "
        f"({per[0]:6.1f} µs each)"
        f"  {invoices:>10,} invoices {found.invoice_seconds:7.2f} s ({per[1]:5.1f} µs each)"
        f"  total {found.seconds:7.2f} s  (target {TARGET_SECONDS:.0f} s: {ok};"
        f" CPU: B {found.b_cpu:.1f} s, A's server {found.a_cpu:.1f} s)",
        flush=True,
    )
    return found


def linearity(small: Figures, large: Figures) -> None:
    """The time per record at the larger size over that at the smaller (1.0: linear)."""
    ratios = [b / a for a, b in zip(small.per_record_us(), large.per_record_us(), strict=True)]
    print(
        f"{large.database:10} per-record time x{large.customers // small.customers} records: "
        f"customers {ratios[0]:.2f}, invoices {ratios[1]:.2f}, all {ratios[2]:.2f}"
        "  (1.00 = linear)",
        flush=True,
    )


def urls_for(name: str, out: Path, base: str) -> tuple[str, str]:
    if name == "sqlite":
        return sqlite_url(out / "a.db"), sqlite_url(out / "b.db")
    return books.postgres_url(base, "crmledger_reconcile_a"), books.postgres_url(
        base, "crmledger_reconcile_b"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument(
        "--factor", type=int, default=10, help="the smaller size is this much smaller (1: one size)"
    )
    parser.add_argument("--out", type=Path, default=Path("bench-data/reconcile"))
    args = parser.parse_args(argv)
    base = os.environ.get(POSTGRES_ENV, "")
    names = ["sqlite"] + (["postgresql"] if base else [])
    if not base:
        print(f"PostgreSQL not measured: set {POSTGRES_ENV}", file=sys.stderr)
    sizes = [(args.customers, args.invoices)]
    if args.factor > 1:
        sizes.insert(0, (args.customers // args.factor, args.invoices // args.factor))
    figures: list[Figures] = []
    for name in names:
        measured = []
        for customers, invoices in sizes:
            work = args.out / f"{name}-{customers}"
            work.mkdir(parents=True, exist_ok=True)
            measured.append(run_one(name, urls_for(name, work, base), work, customers, invoices))
        if len(measured) == 2:
            linearity(*measured)
        figures += measured
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps([asdict(f) for f in figures], indent=2))


if __name__ == "__main__":
    main()
