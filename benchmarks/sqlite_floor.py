"""The floor under any SQLite ingest: the database executing the ledger's own inserts.

Prepared row tuples (no parsing, validation, hashing or Python domain values) go through
``sqlite3.executemany`` into a migrated crmledger schema with its guard triggers, foreign
keys and indexes, in WAL mode with ``synchronous=FULL``, the way the posting service writes
them: postings first, then each entry as posted. Whatever crmledger does on top costs more
than this, so it bounds what tuning the Python side can reach::

    python -m benchmarks.sqlite_floor --entries 100000
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from crmledger.persistence.engine import make_engine
from crmledger.persistence.migrate import upgrade
from crmledger.persistence.rows import ENTRY_COLUMNS, POSTING_COLUMNS

ACCOUNTS = 65


def rows(n: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """``n`` balanced entries of 2 or 3 postings (2.5 on average) as table rows."""
    rng = random.Random(1)
    entries, postings, posting_id = [], [], 1
    for i in range(1, n + 1):
        day = f"2020-{1 + i * 12 // (n + 1):02d}-01"
        entries.append(
            (
                i,
                "GJ",
                2020,
                i,
                day,
                f"txn {i}",
                None,
                None,
                None,
                "[]",
                "[]",
                "[]",
                "posted",
                None,
                None,
                "$1$" + "a" * 64,
                "$1$" + "b" * 64,
                "2026-01-01 00:00:00.000000",
                i,  # chain position
            )
        )
        for line, amount in enumerate([100, -100] if i % 2 else [100, 50, -150]):
            account = rng.randrange(1, ACCOUNTS + 1)
            postings.append((posting_id, i, line, account, "USD", amount, None, None))
            posting_id += 1
    return entries, postings


def insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def measure(n: int, folder: Path) -> float:
    """Seconds to insert ``n`` entries with their postings in one transaction."""
    path = folder / "floor.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute("INSERT INTO commodities VALUES ('USD', 2, '')")
    conn.executemany(
        "INSERT INTO accounts (id, name, type) VALUES (?, ?, 'Assets')",
        [(i, f"Assets:A{i}") for i in range(1, ACCOUNTS + 1)],
    )
    conn.execute("INSERT INTO journals VALUES ('GJ', '', 'x', 0)")
    entries, postings = rows(n)
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(insert_sql("postings", POSTING_COLUMNS), postings)
    conn.executemany(insert_sql("journal_entries", ENTRY_COLUMNS), entries)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        elapsed = measure(args.entries, Path(folder))
    per_entry = elapsed / args.entries * 1e6
    print(
        f"SQLite floor: {args.entries:,} entries in {elapsed:.2f} s = {per_entry:.1f} µs per "
        f"entry (2.5 postings), about {per_entry:.0f} s per million entries"
    )


if __name__ == "__main__":
    main()
