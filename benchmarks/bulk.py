"""Bulk loading for the benchmarks: a million journal entries in the state posting leaves.

Posting through :class:`~crmledger.services.ledger.LedgerService` builds a frozen entry
with ``Decimal`` amounts, validates it, hashes it and audits it, which is right for a book
and slow for seeding one (minutes per million entries). :func:`load` writes the same rows
straight into the tables, a hundred thousand entries per transaction (``COPY`` on
PostgreSQL, ``executemany`` on SQLite), from compact :class:`Draft` values with amounts in
minor units::

    drafts = everyday(1_000_000)              # the statements benchmark's mix, 2022-2025
    load(app, drafts, datetime.now(UTC))      # entries, postings, conversions, hashes ...
    books.verify(app, date(2025, 12, 31))     # the hash chains and every running balance

What a posted entry writes, and so what :func:`load` writes for each draft:

- ``journal_entries`` (numbered gaplessly per journal and year, hash-chained per journal
  with the canonical record of :mod:`crmledger.core.hashing`), ``postings`` and, for a
  posting priced in the base currency, ``posting_conversions``;
- ``account_balances`` and ``conversion_balances`` (the monthly running totals), the
  journal's head and length, its last number per year, and the id counters;
- one ``journal.post`` record per entry in the audit log, chained as the service chains it;
- ``statement_base_conversions``, which the database's own triggers keep as the entries
  go in; the guard triggers check every entry's balance and number as they do for posting.

The hand-built canonical records are checked against the product's own functions
(:func:`~crmledger.core.hashing.canonical_record`, :func:`~crmledger.core.audit_log.audit_hash`)
for the first entry of every batch, and :func:`benchmarks.books.verify` runs the book's
verifier over all of them; ``tests/test_bench_bulk.py`` holds a loaded book equal, row for
row, to one posted through the service.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import islice
from json.encoder import encode_basestring
from typing import Any, NamedTuple

from sqlalchemy import text
from sqlalchemy.engine import Connection

from crmledger.bootstrap import App
from crmledger.core.audit_log import AuditRecord, audit_hash, canonical_changes
from crmledger.core.currencies import iso_currency
from crmledger.core.entries import Conversion, JournalEntry, Posting
from crmledger.core.errors import UnbalancedEntryError
from crmledger.core.hashing import HASH_VERSION, canonical_number, canonical_record, chain_hash
from crmledger.core.money import format_minor, from_minor
from crmledger.persistence.ledger_store import SqlLedgerStore
from crmledger.persistence.rows import CONVERSION_COLUMNS, ENTRY_COLUMNS, POSTING_COLUMNS
from crmledger.persistence.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from crmledger.services.trail import Actor

BATCH = 100_000
JOURNAL = "GJ"
START = date(2022, 1, 1)
DAYS = 4 * 365
AUDIT_COLUMNS = (
    "seq",
    "at",
    "actor",
    "role",
    "via",
    "request_id",
    "action",
    "resource",
    "resource_id",
    "changes",
    "previous_hash",
    "hash",
)


class Line(NamedTuple):
    """One posting: ``minor`` units of ``commodity``; ``base`` is, for a posting in another
    currency, its total price in minor units of the book's base currency (``@@``)."""

    account: str
    commodity: str
    minor: int
    base: int | None = None


class Draft(NamedTuple):
    """An entry to load into the general journal."""

    date: date
    narration: str
    lines: tuple[Line, ...]


# -- the everyday entries ----------------------------------------------------------------


def _half_even(minor: int, percent: int) -> int:
    """``minor * percent / 100`` rounded half-even (as ``Decimal.quantize`` rounds)."""
    whole, rest = divmod(minor * percent, 100)
    return whole + (rest > 50 or (rest == 50 and whole % 2 == 1))


def _pair(amount: int, debit: str, credit: str) -> tuple[Line, ...]:
    return (Line(debit, "EUR", amount), Line(credit, "EUR", -amount))


def everyday_entry(rng: random.Random, day: date, n: int) -> Draft:
    """One of a trading company's everyday entries, by ``n``: sales on credit with output
    tax (7 in 20), receipts (5), bills (3), payments to vendors (2), payroll, depreciation,
    and one in twenty a dollar invoice at its booked value in euros."""
    amount = rng.randrange(1_000, 500_000)
    kind = n % 20
    if kind == 0:
        base = _half_even(amount, 92)
        lines = (
            Line("Assets:Receivables:Customers", "USD", amount, base),
            Line("Income:Sales:Services", "USD", -amount, base),
        )
    elif kind < 8:
        tax = _half_even(amount, 19)
        lines = (
            Line("Assets:Receivables:Customers", "EUR", amount + tax),
            Line("Income:Sales:Products", "EUR", -amount),
            Line("Liabilities:Tax:Output", "EUR", -tax),
        )
    elif kind < 13:
        lines = _pair(amount, "Assets:Bank:Checking", "Assets:Receivables:Customers")
    elif kind < 16:
        lines = _pair(amount, "Expenses:COGS", "Liabilities:Payables:Vendors")
    elif kind < 18:
        lines = _pair(amount, "Liabilities:Payables:Vendors", "Assets:Bank:Checking")
    elif kind == 18:
        lines = _pair(amount, "Expenses:Salaries", "Assets:Bank:Checking")
    else:
        lines = _pair(amount, "Expenses:Depreciation", "Assets:Fixed:Depreciation")
    return Draft(day, "Everyday", lines)


def everyday(count: int, seed: int = 6, start: date = START, days: int = DAYS) -> Iterator[Draft]:
    """``count`` everyday entries spread evenly over ``days`` from ``start``."""
    rng = random.Random(seed)
    for n in range(count):
        yield everyday_entry(rng, start + timedelta(days=n * days // max(count, 1)), n)


def to_entry(draft: Draft, base: str, scales: dict[str, int]) -> JournalEntry:
    """The draft as the domain's entry (what posting it through the service would take)."""
    return JournalEntry(
        date=draft.date,
        narration=draft.narration,
        postings=tuple(_posting(line, base, scales) for line in draft.lines),
    )


def _posting(line: Line, base: str, scales: dict[str, int]) -> Posting:
    price = None
    if line.base is not None:
        price = Conversion(from_minor(line.base, scales[base]), base, True)
    return Posting(
        line.account, from_minor(line.minor, scales[line.commodity]), line.commodity, price=price
    )


# -- loading -----------------------------------------------------------------------------


@dataclass
class _Batch:
    """The rows of one batch and the running totals they add."""

    entries: list[tuple[Any, ...]] = field(default_factory=list)
    postings: list[tuple[Any, ...]] = field(default_factory=list)
    conversions: list[tuple[Any, ...]] = field(default_factory=list)
    audit: list[tuple[Any, ...]] = field(default_factory=list)
    balances: dict[tuple[int, str, int], tuple[int, int]] = field(default_factory=dict)
    moved: dict[tuple[str, int], int] = field(default_factory=dict)


class _Book:
    """What one batch needs to know about the book, read under the posting lock."""

    def __init__(self, uow: SqlUnitOfWork, drafts: list[Draft]) -> None:
        store = uow.ledger
        store.lock_for_posting()
        base = store.get_setting("base_currency")
        if base is None:
            raise ValueError("the book has no base currency: run init_book first")
        _add_currencies(store, drafts)
        self.base = base
        self.scales = store.scales()
        self.accounts = {name: account_id for name, (account_id, _) in store.accounts().items()}
        lock = store.get_setting("lock_date")
        self.lock = date.fromisoformat(lock) if lock else None
        self.entry_id, self.posting_id = store.reserve_ids(
            len(drafts), sum(len(d.lines) for d in drafts)
        )
        self._store = store
        self.numbers: dict[int, int] = {}
        self.head, self.length = store.journal_head(JOURNAL)
        self.added = 0
        self.audit_seq, self.audit_head = uow.audit.head()

    def next_number(self, year: int) -> int:
        """The next number in the general journal's ``year``."""
        last = self.numbers.get(year)
        if last is None:
            last = self._store.last_number(JOURNAL, year)
        self.numbers[year] = last + 1
        return last + 1


def _add_currencies(store: SqlLedgerStore, drafts: list[Draft]) -> None:
    """Declare the ISO currencies the drafts use, as posting does."""
    known = store.scales()
    for code in sorted({line.commodity for d in drafts for line in d.lines} - known.keys()):
        currency = iso_currency(code)
        if currency is None:
            raise ValueError(f"unknown commodity {code}")
        store.add_commodity(currency)


class Loader:
    """Writes drafts into one book as posted entries, batch by batch."""

    def __init__(self, app: App, at: datetime, actor: Actor | None = None) -> None:
        self._uow = SqlUnitOfWorkFactory(app.engine)
        self._at = at
        self._actor = actor or app.ledger.actor
        self._sqlite = app.engine.dialect.name == "sqlite"
        stamp = at.strftime("%Y-%m-%d %H:%M:%S.%f")
        self._stamp: Any = stamp if self._sqlite else at  # as SQLAlchemy stores a moment
        self._at_text = at.astimezone(UTC).isoformat()
        self._text: dict[str, str] = {}

    def load(self, drafts: list[Draft]) -> None:
        """Post ``drafts`` in one transaction."""
        with self._uow() as uow:
            book = _Book(uow, drafts)
            rows = _Batch()
            for draft in drafts:
                self._add(book, rows, draft)
            self._check_first(book, drafts[0], rows)
            self._write(uow.ledger.conn, rows)
            store = uow.ledger
            store.add_balance_deltas(rows.balances)
            store.add_conversion_deltas(rows.moved)
            for year, last in book.numbers.items():
                store.set_last_number(JOURNAL, year, last)
            store.set_journal_head(JOURNAL, book.head, book.added)
            uow.ledger.conn.execute(
                text("UPDATE audit_state SET last_seq = :seq, last_hash = :hash WHERE id = 1"),
                {"seq": book.audit_seq, "hash": book.audit_head},
            )
            uow.commit()

    def _quoted(self, value: str) -> str:
        found = self._text.get(value)
        if found is None:
            found = self._text[value] = encode_basestring(value)
        return found

    def _add(self, book: _Book, rows: _Batch, draft: Draft) -> None:
        """The rows of one draft, its hash and audit record, and its running totals."""
        if book.lock is not None and draft.date <= book.lock:
            raise ValueError(f"{draft.date} is on or before the lock date {book.lock}")
        _check_balanced(draft, book.base)
        year = draft.date.year
        number = book.next_number(year)
        entry_id = book.entry_id
        previous = book.head
        digest = chain_hash(self._record(book, draft, number, previous))
        period = year * 100 + draft.date.month
        for line_no, line in enumerate(draft.lines):
            self._line(book, rows, entry_id, line_no, line, period)
        book.added += 1
        book.head = digest
        day: Any = draft.date.isoformat() if self._sqlite else draft.date
        rows.entries.append(
            (
                *(entry_id, JOURNAL, year, number, day, draft.narration, None, None, None),
                *("[]", "[]", "[]", "posted", None, None, digest, previous, self._stamp),
                book.length + book.added,
            )
        )
        self._audit(book, rows, entry_id, f"{JOURNAL}/{year}/{number}", digest)
        book.entry_id += 1

    def _line(
        self, book: _Book, rows: _Batch, entry_id: int, line_no: int, line: Line, period: int
    ) -> None:
        posting_id = book.posting_id
        account = book.accounts[line.account]
        rows.postings.append(
            (posting_id, entry_id, line_no, account, line.commodity, line.minor, None, None)
        )
        key = (account, line.commodity, period)
        debit, credit = rows.balances.get(key, (0, 0))
        if line.minor >= 0:
            rows.balances[key] = (debit + line.minor, credit)
        else:
            rows.balances[key] = (debit, credit - line.minor)
        if line.base is not None:
            weight = line.base if line.minor >= 0 else -line.base
            number = canonical_number(Decimal(line.base).scaleb(-book.scales[book.base]))
            rows.conversions.append(
                (posting_id, book.base, weight, None, None, None, number, book.base, True)
            )
            own, other = (line.commodity, period), (book.base, period)
            rows.moved[own] = rows.moved.get(own, 0) - line.minor
            rows.moved[other] = rows.moved.get(other, 0) + weight
        book.posting_id += 1

    def _record(self, book: _Book, draft: Draft, number: int, previous: str) -> bytes:
        """:func:`crmledger.core.hashing.canonical_record` of the draft, built from text."""
        lines = ",".join(self._line_json(book, line) for line in draft.lines)
        return (
            f'{{"date":"{draft.date.isoformat()}","journal":"{JOURNAL}","links":[],'
            f'"meta":[],"narration":{self._quoted(draft.narration)},"number":{number},'
            f'"party":null,"payee":null,"postings":[{lines}],"previous":"{previous}",'
            f'"reference":null,"reverses":null,"tags":[],"v":{HASH_VERSION},'
            f'"year":{draft.date.year}}}'
        ).encode()

    def _line_json(self, book: _Book, line: Line) -> str:
        amount = format_minor(line.minor, book.scales[line.commodity])
        price = "null"
        if line.base is not None:
            total = canonical_number(Decimal(line.base).scaleb(-book.scales[book.base]))
            price = f'["{total}","{book.base}",true]'
        return f'[{self._quoted(line.account)},"{amount}","{line.commodity}",null,{price},null,""]'

    def _audit(self, book: _Book, rows: _Batch, entry_id: int, ref: str, digest: str) -> None:
        """The ``journal.post`` record the service writes for each entry it posts."""
        book.audit_seq += 1
        actor = self._actor
        changes = f'{{"after":{{"hash":"{digest}","number":"{ref}"}}}}'
        document = (
            f'{{"action":"journal.post","actor":{self._quoted(actor.audit_id)},'
            f'"at":"{self._at_text}","changes":{encode_basestring(changes)},'
            f'"previous_hash":"{book.audit_head}",'
            f'"request_id":{self._quoted(actor.request_id)},"resource":"journal-entry",'
            f'"resource_id":"{entry_id}","role":{self._quoted(actor.principal.role.value)},'
            f'"seq":{book.audit_seq},"v":1,"via":{self._quoted(actor.principal.via)}}}'
        )
        digest_audit = chain_hash(document.encode())
        rows.audit.append(
            (
                *(book.audit_seq, self._stamp, actor.audit_id, actor.principal.role.value),
                *(actor.principal.via, actor.request_id, "journal.post", "journal-entry"),
                *(str(entry_id), changes, book.audit_head, digest_audit),
            )
        )
        book.audit_head = digest_audit

    def _check_first(self, book: _Book, draft: Draft, rows: _Batch) -> None:
        """Hold the batch's first hand-built records equal to the product's own."""
        entry_row, audit_row = rows.entries[0], rows.audit[0]
        number, previous = entry_row[3], entry_row[16]
        expected = chain_hash(
            canonical_record(
                to_entry(draft, book.base, book.scales), book.scales, previous, number=number
            )
        )
        if expected != entry_row[15]:
            raise AssertionError("the bulk loader's entry record differs from canonical_record")
        record = AuditRecord(
            seq=audit_row[0],
            at=self._at,
            actor=audit_row[2],
            role=audit_row[3],
            via=audit_row[4],
            request_id=audit_row[5],
            action="journal.post",
            resource="journal-entry",
            resource_id=audit_row[8],
            changes={
                "after": {"number": f"{JOURNAL}/{entry_row[2]}/{number}", "hash": entry_row[15]}
            },
        )
        if (
            canonical_changes(record.changes) != audit_row[9]
            or audit_hash(record, audit_row[10]) != audit_row[11]
        ):
            raise AssertionError("the bulk loader's audit record differs from audit_hash")

    def _write(self, conn: Connection, rows: _Batch) -> None:
        """Postings first (their key to the entry is checked at commit), then conversions,
        then the entries, when the guard triggers check balance and numbering."""
        _copy(conn, "postings", POSTING_COLUMNS, rows.postings)
        _copy(conn, "posting_conversions", CONVERSION_COLUMNS, rows.conversions)
        _copy(conn, "journal_entries", ENTRY_COLUMNS, rows.entries)
        _copy(conn, "audit_log", AUDIT_COLUMNS, rows.audit)


def _check_balanced(draft: Draft, base: str) -> None:
    sums: dict[str, int] = {}
    for line in draft.lines:
        if line.base is None:
            sums[line.commodity] = sums.get(line.commodity, 0) + line.minor
        else:
            weight = line.base if line.minor >= 0 else -line.base
            sums[base] = sums.get(base, 0) + weight
    if any(sums.values()):
        raise UnbalancedEntryError({c: Decimal(v) for c, v in sums.items() if v})


def _copy(
    conn: Connection, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """``rows`` into ``table``: ``COPY`` on PostgreSQL, ``executemany`` on SQLite."""
    if not rows:
        return
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" * len(columns))
    conn.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


def load(
    app: App,
    drafts: Iterable[Draft],
    at: datetime,
    *,
    batch: int = BATCH,
    say: Callable[[str], None] | None = print,
) -> int:
    """Post ``drafts`` into ``app``'s book, ``batch`` per transaction, saying how far it
    got after each; returns how many were loaded."""
    loader = Loader(app, at)
    iterator = iter(drafts)
    loaded = 0
    started = time.perf_counter()
    while chunk := list(islice(iterator, batch)):
        loader.load(chunk)
        loaded += len(chunk)
        if say is not None:
            seconds = time.perf_counter() - started
            say(f"  loaded {loaded:,} entries in {seconds:,.1f} s ({loaded / seconds:,.0f}/s)")
    return loaded
