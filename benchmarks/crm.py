"""The CRM's figures: party import speed, search and the customer page at scale.

On a fresh book (SQLite, and PostgreSQL when ``CRMLEDGER_BENCH_POSTGRES_URL`` is set):

1. ``crmledger import parties`` of a generated CSV of N parties, in a child process, timed
   from start to exit (normalisation, encryption, search terms, progress bar included);
2. M interactions spread over the parties (seeded through the store in large batches: they
   are the data, not what is measured);
3. p50 / p95 of searches by name fragment, email and phone (typed in another format than
   stored), of the unified ``/api/v1/search`` box, and of the customer page's data: the
   profile with contacts plus its latest 50 timeline items, each through the services as
   the web page and the API call them::

    python -m benchmarks.crm --parties 100000 --interactions 1000000

Targets (issue 4): import at least 5,000 rows/s; every p95 under 50 ms.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.run import CRMLEDGER, POSTGRES_ENV, postgres_url, sqlite_url
from crmledger.bootstrap import App, build
from crmledger.config import Settings
from crmledger.core.access import LOCAL_OPERATOR
from crmledger.persistence.uow import SqlUnitOfWorkFactory
from crmledger.services.crm_ports import InteractionRow
from crmledger.services.crm_search import CrmSearch

FIRST = ["Ada", "Grace", "Alan", "Linus", "Ken", "Barbara", "Edsger", "Margaret", "Donald"]
LAST = ["Lovelace", "Hopper", "Turing", "Torvalds", "Thompson", "Liskov", "Dijkstra", "Knuth"]
WORDS = ["Acme", "Global", "Nord", "Blue", "River", "Alpen", "Tech", "Logistik", "Handel", "Bau"]
FORMS = ["GmbH", "AG", "Ltd", "KG", "SE", "Inc"]
SUBJECTS = ["Order", "Invoice question", "Delivery late", "Call back", "Meeting", "Quote"]
KINDS = ["order", "inquiry", "complaint", "call", "email", "meeting", "note", "task"]
TARGET_ROWS_PER_SECOND = 5000
TARGET_P95_MS = 50.0
SAMPLES = 200


def write_parties_csv(path: Path, count: int, seed: int = 7) -> None:
    """``count`` parties, a third people and the rest companies, each with an email, a
    phone typed the local way, a city and a country; every 50th company has a VAT id."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "Company",
                "First Name",
                "Last Name",
                "E-Mail",
                "Phone",
                "ZIP",
                "City",
                "Country",
                "VAT ID",
                "Tags",
                "Customer ID",
            ]
        )
        for i in range(count):
            if i % 3 == 0:
                row = [
                    "",
                    rng.choice(FIRST),
                    f"{rng.choice(LAST)}{i}",
                    f"p{i}@example.com",
                    f"030 {1000000 + i}",
                    "10115",
                    "Berlin",
                    "DE",
                    "",
                    "b2c",
                    f"C{i}",
                ]
            else:
                name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {i} {rng.choice(FORMS)}"
                vat = "DE136695976" if i % 50 == 0 else ""
                row = [
                    name,
                    "",
                    "",
                    f"info{i}@firma{i}.example",
                    f"+49 89 {2000000 + i}",
                    "80331",
                    "München",
                    "Germany",
                    vat,
                    "b2b",
                    f"C{i}",
                ]
            writer.writerow(row)


def timed_import(url: str, csv_path: Path, env: dict[str, str]) -> float:
    """Seconds for ``crmledger import parties`` in a child process."""
    started = time.perf_counter()
    subprocess.run(
        [str(CRMLEDGER), "--db", url, "import", "parties", str(csv_path)],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def seed_interactions(app: App, parties: int, count: int, seed: int = 11) -> None:
    """``count`` interactions over parties 1..``parties``, through the store, 20,000 a
    transaction."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    batch = 20_000
    for first in range(0, count, batch):
        rows = []
        for i in range(first, min(first + batch, count)):
            at = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 900))
            kind = rng.choice(KINDS)
            complaint = kind == "complaint"
            done = at + timedelta(hours=2)
            rows.append(
                InteractionRow(
                    id=None,
                    kind=kind,
                    party_id=rng.randrange(1, parties + 1),
                    contact_id=None,
                    deal_id=None,
                    order_id=None,
                    invoice_id=None,
                    subject=f"{rng.choice(SUBJECTS)} #{i}",
                    body=f"Customer wrote about item {i}",
                    channel="email",
                    direction="inbound",
                    occurred_at=at,
                    due_at=None,
                    status="closed",
                    priority="normal",
                    owner_id=None,
                    resolution="Answered" if complaint else "",
                    sla_first_response_due=at + timedelta(hours=8) if complaint else None,
                    sla_resolution_due=at + timedelta(hours=72) if complaint else None,
                    first_response_at=at + timedelta(hours=1) if complaint else None,
                    resolved_at=done if complaint else None,
                    closed_at=done,
                    version=1,
                    created_at=at,
                    updated_at=done,
                )
            )
        with SqlUnitOfWorkFactory(app.engine)() as uow:
            uow.interactions.insert(rows)
            uow.commit()


def percentiles(fn: Callable[[int], Any], keys: list[int]) -> dict[str, float]:
    """p50 and p95 in milliseconds of ``fn(key)`` over ``keys`` (after two warm-ups)."""
    for key in keys[:2]:
        fn(key)
    times = []
    for key in keys:
        started = time.perf_counter()
        fn(key)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
    }


@dataclass
class Figures:
    """One database's results."""

    database: str
    parties: int
    interactions: int
    import_seconds: float
    import_rows_per_second: float
    timings: dict[str, dict[str, float]]


def measure(app: App, parties: int) -> dict[str, dict[str, float]]:
    """The search and customer-page percentiles on a seeded book."""
    rng = random.Random(3)
    keys = [rng.randrange(1, parties) for _ in range(SAMPLES)]
    book = app
    box = CrmSearch(LOCAL_OPERATOR, book.parties, book.deals, book.interactions)

    def page(i: int) -> None:
        party = book.parties.get(i)
        book.parties.contacts(organisation_id=party.id)
        book.interactions.timeline(i, None, 50)

    return {
        "search name fragment": percentiles(lambda i: book.parties.search(_fragment(i)), keys),
        "search email": percentiles(lambda i: book.parties.search(_email(i)), keys),
        "search phone": percentiles(lambda i: book.parties.search(_phone(i)), keys),
        "search box (all kinds)": percentiles(lambda i: box.find(_fragment(i)), keys),
        "customer page": percentiles(page, keys),
    }


def _fragment(i: int) -> str:
    return ["lovel", "hopp", "turi", "globa", "river", "alpe", "logist"][i % 7]


def _email(i: int) -> str:
    index = i - 1
    return f"P{index}@EXAMPLE.com" if index % 3 == 0 else f"info{index}@firma{index}.example"


def _phone(i: int) -> str:
    index = i - 1
    return f"+49 30 {1000000 + index}" if index % 3 == 0 else f"089/{2000000 + index}"


def run_one(name: str, url: str, work: Path, parties: int, interactions: int) -> Figures:
    """Import, seed and measure on one database."""
    env = os.environ | {"CRMLEDGER_KEYRING": str(work / f"{name}.keys")}
    Path(env["CRMLEDGER_KEYRING"]).unlink(missing_ok=True)
    subprocess.run(
        [str(CRMLEDGER), "--db", url, "init"], check=True, env=env, stdout=subprocess.DEVNULL
    )
    csv_path = work / f"parties-{parties}.csv"
    if not csv_path.exists():
        write_parties_csv(csv_path, parties)
    seconds = timed_import(url, csv_path, env)
    os.environ["CRMLEDGER_KEYRING"] = env["CRMLEDGER_KEYRING"]
    app = build(Settings.load(url))
    app.parties.set_region("DE")
    try:
        seed_interactions(app, parties, interactions)
        timings = measure(app, parties)
    finally:
        app.engine.dispose()
    return Figures(
        name, parties, interactions, round(seconds, 2), round(parties / seconds), timings
    )


def report(figures: list[Figures]) -> None:
    """The figures against the targets."""
    for f in figures:
        verdict = "met" if f.import_rows_per_second >= TARGET_ROWS_PER_SECOND else "NOT MET"
        print(f"\n{f.database}: {f.parties:,} parties, {f.interactions:,} interactions")
        print(
            f"  import: {f.import_rows_per_second:,.0f} rows/s "
            f"({f.import_rows_per_second / TARGET_ROWS_PER_SECOND:.2f}x the 5,000 target, "
            f"{verdict})"
        )
        for what, t in f.timings.items():
            ok = "met" if t["p95_ms"] < TARGET_P95_MS else "NOT MET"
            print(f"  {what:24} p50 {t['p50_ms']:7.2f} ms  p95 {t['p95_ms']:7.2f} ms  ({ok})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parties", type=int, default=100_000)
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("bench-data/crm"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    targets = [("sqlite", sqlite_url(args.out / "crm.db"))]
    base = os.environ.get(POSTGRES_ENV)
    if base:
        targets.append(("postgresql", postgres_url(base)))
    else:
        print(f"PostgreSQL not measured: set {POSTGRES_ENV}", file=sys.stderr)
    figures = [run_one(n, u, args.out, args.parties, args.interactions) for n, u in targets]
    report(figures)
    (args.out / "results.json").write_text(json.dumps([asdict(f) for f in figures], indent=2))


if __name__ == "__main__":
    main()
