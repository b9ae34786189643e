"""SQL implementation of :class:`crmledger.services.ports.LedgerStore`.

Bulk writes go through the driver's ``executemany`` with plain tuples: posting a million
entries must not build a million ORM objects. A batch writes its postings first (their
foreign key to the entry is deferred to commit), then inserts each entry directly as
posted, which is when the guard triggers check its balance and number.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    insert,
    select,
    update,
)

from crmledger.core.accounts import Account
from crmledger.core.entries import EntryState, JournalEntry
from crmledger.core.errors import EntryStateError
from crmledger.core.hashing import GENESIS
from crmledger.core.imports import BalanceAssertion
from crmledger.core.money import Commodity, from_minor
from crmledger.persistence.ledger_reads import LedgerReads
from crmledger.persistence.rows import (
    CONVERSION_COLUMNS,
    COPY_FROM,
    ENTRY_COLUMNS,
    POSTING_COLUMNS,
    account_,
    as_item,
    json_list,
    posting_rows,
)
from crmledger.persistence.tables import (
    accounts,
    balance_assertions,
    commodities,
    imports,
    journal_entries,
)
from crmledger.services.ports import BalanceKey, PreparedEntry


@dataclass(frozen=True, slots=True)
class ChartSnapshot:
    """Accounts and commodity scales as of one chart token."""

    token: str
    accounts: dict[str, tuple[int, Account]]
    scales: dict[str, int]


@dataclass
class ChartCache:
    """The chart kept across transactions of one engine.

    Valid while ``ledger_state.chart_token`` equals the snapshot's token: every change to
    accounts or commodities writes a new random token in its own transaction, so a snapshot
    taken inside a rolled-back or another process's change is never mistaken for the
    current chart. The snapshot is replaced whole, so threads never see half of one.
    """

    snapshot: ChartSnapshot | None = None


class SqlLedgerStore(LedgerReads):
    """The ledger's tables, read and written on one connection."""

    def __init__(self, conn: Connection, cache: ChartCache | None = None) -> None:
        self.conn = conn
        self._sqlite = conn.dialect.name == "sqlite"
        self._mark = "?" if self._sqlite else "%s"
        self._cache = cache or ChartCache()
        self._token: str | None = None  # the chart token read in this transaction
        self._ids: tuple[int, int] | None = None

    def _sql(self, sql: str, *params: Any) -> Any:
        """Run hand-written SQL (``?`` placeholders) on the hot posting path."""
        return self.conn.exec_driver_sql(sql.replace("?", self._mark), params)

    # -- reference data -------------------------------------------------------------------

    def lock_for_posting(self) -> None:
        """Serialise posting (SQLite already holds the write lock via BEGIN IMMEDIATE).

        Held until the transaction ends; asking again in the same transaction is free.
        """
        if self._ids is not None:
            return
        lock = "" if self._sqlite else " FOR UPDATE"
        row = self._sql(
            "SELECT next_entry_id, next_posting_id, chart_token FROM ledger_state WHERE id = 1"
            + lock
        ).one()
        self._ids, self._token = (int(row[0]), int(row[1])), row[2]

    def _chart(self) -> ChartSnapshot:
        if self._token is None:
            self._token = self._sql("SELECT chart_token FROM ledger_state WHERE id = 1").scalar()
        snapshot = self._cache.snapshot
        if snapshot is None or snapshot.token != self._token:
            rows = self.conn.execute(select(accounts).order_by(accounts.c.name))
            scales = self.conn.execute(select(commodities.c.code, commodities.c.scale))
            snapshot = ChartSnapshot(
                str(self._token),
                {r.name: (r.id, account_(r)) for r in rows},
                {code: scale for code, scale in scales},
            )
            self._cache.snapshot = snapshot
        return snapshot

    def _chart_changed(self) -> None:
        # The database wrote a new token (trigger); read it again before the next use.
        self._token = None

    def scales(self) -> dict[str, int]:
        return dict(self._chart().scales)

    def add_commodity(self, commodity: Commodity) -> None:
        self.conn.execute(
            insert(commodities).values(
                code=commodity.code, scale=commodity.scale, name=commodity.name
            )
        )
        self._chart_changed()

    def commodities(self) -> list[Commodity]:
        rows = self.conn.execute(select(commodities).order_by(commodities.c.code))
        return [Commodity(r.code, r.scale, r.name) for r in rows]

    def accounts(self) -> dict[str, tuple[int, Account]]:
        return dict(self._chart().accounts)

    def add_account(self, account: Account) -> int:
        result = self.conn.execute(
            insert(accounts).values(
                name=account.name,
                type=account.type.value,
                code=account.code,
                commodities=",".join(account.commodities),
                open_date=account.open_date,
                close_date=account.close_date,
                description=account.description,
            )
        )
        self._chart_changed()
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def close_account(self, name: str, on: date) -> None:
        self.conn.execute(
            update(accounts)
            .where(accounts.c.name == name)
            .values(close_date=on, version=accounts.c.version + 1)
        )
        self._chart_changed()

    def account_versions(self) -> dict[str, int]:
        rows = self._sql("SELECT name, version FROM accounts")
        return {str(name): int(version) for name, version in rows}

    def account_version(self, name: str) -> int:
        return int(self._sql("SELECT version FROM accounts WHERE name = ?", name).scalar_one())

    def get_setting(self, key: str) -> str | None:
        value = self._sql("SELECT value FROM settings WHERE key = ?", key).scalar()
        return None if value is None else str(value)

    def set_setting(self, key: str, value: str) -> None:
        updated = self._sql("UPDATE settings SET value = ? WHERE key = ?", value, key)
        if updated.rowcount == 0:
            self._sql("INSERT INTO settings (key, value) VALUES (?, ?)", key, value)

    # -- numbering and the chain --------------------------------------------------------

    def reserve_ids(self, entries: int, postings: int) -> tuple[int, int]:
        if self._ids is None:
            self.lock_for_posting()
        assert self._ids is not None
        entry_id, posting_id = self._ids
        self._ids = (entry_id + entries, posting_id + postings)
        self._sql(
            "UPDATE ledger_state SET next_entry_id = ?, next_posting_id = ? WHERE id = 1",
            *self._ids,
        )
        return entry_id, posting_id

    def last_number(self, journal: str, year: int) -> int:
        found = self._sql(
            "SELECT last_number FROM journal_sequences WHERE journal = ? AND fiscal_year = ?",
            journal,
            year,
        ).scalar()
        return int(found or 0)

    def set_last_number(self, journal: str, year: int, number: int) -> None:
        updated = self._sql(
            "UPDATE journal_sequences SET last_number = ? WHERE journal = ? AND fiscal_year = ?",
            number,
            journal,
            year,
        )
        if updated.rowcount == 0:
            self._sql(
                "INSERT INTO journal_sequences (journal, fiscal_year, last_number) "
                "VALUES (?, ?, ?)",
                journal,
                year,
                number,
            )

    def journal_head(self, journal: str) -> tuple[str, int]:
        """The journal's last hash and chain length; a new journal is opened empty."""
        row = self._sql(
            "SELECT last_hash, entry_count FROM journals WHERE code = ?", journal
        ).first()
        if row is None:
            self._sql(
                "INSERT INTO journals (code, name, last_hash, entry_count) VALUES (?, '', ?, 0)",
                journal,
                GENESIS,
            )
            return GENESIS, 0
        return str(row[0]), int(row[1])

    def set_journal_head(self, journal: str, last_hash: str, added: int) -> None:
        self._sql(
            "UPDATE journals SET last_hash = ?, entry_count = entry_count + ? WHERE code = ?",
            last_hash,
            added,
            journal,
        )

    # -- writing entries ----------------------------------------------------------------

    def insert_posted(self, batch: Sequence[PreparedEntry], posted_at: datetime) -> None:
        if not batch:
            return
        when: Any = posted_at.strftime("%Y-%m-%d %H:%M:%S.%f") if self._sqlite else posted_at
        entry_rows = []
        line_rows: list[tuple[Any, ...]] = []
        conversion_rows: list[tuple[Any, ...]] = []
        for item in batch:
            entry_rows.append(self._entry_row(item, when))
            posting_rows(item, line_rows, conversion_rows)
        # Postings first (their foreign key to the entry is deferred), then each entry goes
        # in as posted, which is when the guard triggers check balance and numbering.
        self._executemany("postings", POSTING_COLUMNS, line_rows)
        if conversion_rows:
            self._executemany("posting_conversions", CONVERSION_COLUMNS, conversion_rows)
        self._executemany("journal_entries", ENTRY_COLUMNS, entry_rows)

    def post_drafts(self, batch: Sequence[PreparedEntry], posted_at: datetime) -> None:
        when: Any = posted_at.strftime("%Y-%m-%d %H:%M:%S.%f") if self._sqlite else posted_at
        for item in batch:
            updated = self._sql(
                "UPDATE journal_entries SET state = 'posted', number = ?, hash = ?, "
                "previous_hash = ?, posted_at = ?, import_id = ?, chain_seq = ? "
                "WHERE id = ? AND state = 'draft'",
                item.number,
                item.hash,
                item.previous_hash,
                when,
                item.import_id,
                item.chain_seq,
                item.id,
            )
            if updated.rowcount != 1:
                raise EntryStateError(f"entry {item.id} is not a stored draft")

    def save_draft(
        self,
        entry: JournalEntry,
        entry_id: int | None,
        account_ids: Sequence[int],
        minors: Sequence[tuple[int, int]],
    ) -> int:
        """Insert a draft, or replace the content of draft ``entry_id``."""
        fields = self._draft_fields(entry)
        self.journal_head(entry.journal)  # opens the journal on first use
        if entry_id is None:
            entry_id, _ = self.reserve_ids(1, 0)
            columns = ("id", "state", *fields)
            self._sql(
                f"INSERT INTO journal_entries ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})",
                entry_id,
                EntryState.DRAFT.value,
                *fields.values(),
            )
        else:
            self.delete_draft_postings(entry_id)
            self._sql(
                f"UPDATE journal_entries SET {', '.join(f'{k} = ?' for k in fields)} "
                "WHERE id = ? AND state = 'draft'",
                *fields.values(),
                entry_id,
            )
        _, posting_id = self.reserve_ids(0, len(entry.postings))
        postings_out: list[tuple[Any, ...]] = []
        conversions_out: list[tuple[Any, ...]] = []
        item = as_item(entry, entry_id, account_ids, minors, posting_id)
        posting_rows(item, postings_out, conversions_out)
        self._executemany("postings", POSTING_COLUMNS, postings_out)
        if conversions_out:
            self._executemany("posting_conversions", CONVERSION_COLUMNS, conversions_out)
        return entry_id

    def _draft_fields(self, e: JournalEntry) -> dict[str, Any]:
        return {
            "journal": e.journal,
            "fiscal_year": e.fiscal_year,
            "date": e.date.isoformat() if self._sqlite else e.date,
            "narration": e.narration,
            "payee": e.payee,
            "party": e.party,
            "reference": e.reference,
            "tags": json_list(e.tags),
            "links": json_list(e.links),
            "meta": json.dumps([list(kv) for kv in e.meta]) if e.meta else "[]",
        }

    def delete_draft_postings(self, entry_id: int) -> None:
        self._sql(
            "DELETE FROM posting_conversions WHERE posting_id IN "
            "(SELECT id FROM postings WHERE entry_id = ?)",
            entry_id,
        )
        self._sql("DELETE FROM postings WHERE entry_id = ?", entry_id)

    def delete_draft(self, entry_id: int) -> None:
        self.delete_draft_postings(entry_id)
        self._sql("DELETE FROM journal_entries WHERE id = ? AND state = 'draft'", entry_id)

    def _executemany(
        self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
    ) -> None:
        if not self._sqlite and len(rows) > COPY_FROM:
            # PostgreSQL's bulk path: COPY (the guard triggers still fire for every row).
            cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join([self._mark] * len(columns))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        self.conn.exec_driver_sql(sql, rows)

    def _entry_row(self, item: PreparedEntry, when: Any) -> tuple[Any, ...]:
        e = item.entry
        return (
            item.id,
            e.journal,
            e.fiscal_year,
            item.number,
            e.date.isoformat() if self._sqlite else e.date,
            e.narration,
            e.payee,
            e.party,
            e.reference,
            json_list(e.tags),
            json_list(e.links),
            json.dumps([list(kv) for kv in e.meta]) if e.meta else "[]",
            EntryState.POSTED.value,
            e.reverses,
            item.import_id,
            item.hash,
            item.previous_hash,
            when,
            item.chain_seq,
        )

    def add_balance_deltas(self, deltas: dict[BalanceKey, tuple[int, int]]) -> None:
        rows = [(*key, debit, credit) for key, (debit, credit) in deltas.items()]
        self._add_to_totals(
            "account_balances",
            ("account_id", "commodity", "period"),
            ("debit_minor", "credit_minor"),
            rows,
        )

    def add_conversion_deltas(self, deltas: dict[tuple[str, int], int]) -> None:
        rows = [(*key, net) for key, net in deltas.items() if net]
        self._add_to_totals("conversion_balances", ("commodity", "period"), ("net_minor",), rows)

    def _add_to_totals(
        self,
        table: str,
        keys: tuple[str, ...],
        sums: tuple[str, ...],
        rows: list[tuple[Any, ...]],
    ) -> None:
        """Add ``rows`` (keys, then amounts) to running totals: insert or increase."""
        if not rows:
            return
        columns = ", ".join((*keys, *sums))
        marks = ", ".join([self._mark] * (len(keys) + len(sums)))
        increase = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in sums)
        sql = (
            f"INSERT INTO {table} ({columns}) VALUES ({marks}) "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {increase}"
        )
        self.conn.exec_driver_sql(sql, rows)

    def mark_reversed(self, entry_id: int, by_id: int) -> None:
        self.conn.execute(
            update(journal_entries)
            .where(journal_entries.c.id == entry_id)
            .values(state=EntryState.REVERSED.value, reversed_by_id=by_id)
        )

    # -- imports ------------------------------------------------------------------------

    def add_assertions(self, rows: Sequence[tuple[int, date, str, int, int | None]]) -> None:
        if rows:
            self.conn.execute(
                insert(balance_assertions),
                [
                    {"account_id": a, "date": d, "commodity": c, "amount_minor": m, "import_id": i}
                    for a, d, c, m, i in rows
                ],
            )

    def assertions(self) -> list[BalanceAssertion]:
        b, a = balance_assertions.c, accounts.c
        scales = self.scales()
        rows = self.conn.execute(
            select(a.name, b.date, b.commodity, b.amount_minor)
            .select_from(balance_assertions.join(accounts, a.id == b.account_id))
            .order_by(b.date, b.id)
        )
        return [
            BalanceAssertion(0, day, name, from_minor(minor, scales[code]), code)
            for name, day, code, minor in rows
        ]

    def find_import(self, fingerprint: str) -> tuple[int, int, bool] | None:
        """The import's id, how many entries it has committed, and whether it is complete."""
        row = self.conn.execute(
            select(imports.c.id, imports.c.entries, imports.c.complete).where(
                imports.c.fingerprint == fingerprint
            )
        ).first()
        return None if row is None else (int(row[0]), int(row[1]), bool(row[2]))

    def start_import(self, fingerprint: str, source: str, kind: str, at: datetime) -> int:
        result = self.conn.execute(
            insert(imports).values(fingerprint=fingerprint, source=source, kind=kind, started_at=at)
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def progress_import(self, import_id: int, entries: int, done: bool) -> None:
        self.conn.execute(
            update(imports)
            .where(imports.c.id == import_id)
            .values(
                batches_done=imports.c.batches_done + (1 if entries else 0),
                entries=imports.c.entries + entries,
                complete=done,
            )
        )
