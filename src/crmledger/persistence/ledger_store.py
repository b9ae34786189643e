"""SQL implementation of :class:`crmledger.services.ports.LedgerStore`.

Bulk writes go through the driver's ``executemany`` with plain tuples: posting a million
entries must not build a million ORM objects. A batch writes its postings first (their
foreign key to the entry is deferred to commit), then inserts each entry directly as
posted, which is when the guard triggers check its balance and number.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    and_,
    case,
    cast,
    extract,
    func,
    insert,
    or_,
    select,
    update,
)

from crmledger.core.accounts import Account
from crmledger.core.entries import Conversion, EntryState, JournalEntry, Posting
from crmledger.core.errors import EntryNotFoundError
from crmledger.core.hashing import GENESIS, canonical_number
from crmledger.core.money import Commodity, from_minor
from crmledger.persistence.tables import (
    account_balances,
    accounts,
    commodities,
    imports,
    journal_entries,
    journals,
    posting_conversions,
    postings,
)
from crmledger.services.ports import BalanceKey, BalanceRow, LedgerPostingRow, PreparedEntry

_ENTRY_COLUMNS = (
    "id",
    "journal",
    "fiscal_year",
    "number",
    "date",
    "narration",
    "payee",
    "party",
    "reference",
    "tags",
    "links",
    "meta",
    "state",
    "reverses_id",
    "import_id",
    "hash",
    "previous_hash",
    "posted_at",
)
_COPY_FROM = 50  # rows; below this, INSERT's round trip is cheaper than starting a COPY
_POSTING_COLUMNS = (
    "id",
    "entry_id",
    "line_no",
    "account_id",
    "commodity",
    "amount_minor",
    "party",
    "memo",
)
_CONVERSION_COLUMNS = (
    "posting_id",
    "weight_commodity",
    "weight_minor",
    "cost_number",
    "cost_commodity",
    "cost_total",
    "price_number",
    "price_commodity",
    "price_total",
)


def _conversion_cells(conversion: Conversion | None) -> tuple[str | None, str | None, bool | None]:
    if conversion is None:
        return None, None, None
    return canonical_number(conversion.number), conversion.commodity, conversion.total


def _conversion(number: str | None, commodity: str | None, total: bool | None) -> Conversion | None:
    if number is None or commodity is None:
        return None
    return Conversion(Decimal(number), commodity, bool(total))


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


class SqlLedgerStore:
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
        """Serialise posting (SQLite already holds the write lock via BEGIN IMMEDIATE)."""
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
                {r.name: (r.id, _account(r)) for r in rows},
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
        self.conn.execute(update(accounts).where(accounts.c.name == name).values(close_date=on))
        self._chart_changed()

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

    def journal_head(self, journal: str) -> str | None:
        head = self._sql("SELECT last_hash FROM journals WHERE code = ?", journal).scalar()
        if head is None:
            self._sql(
                "INSERT INTO journals (code, name, last_hash, entry_count) VALUES (?, '', ?, 0)",
                journal,
                GENESIS,
            )
        return None if head is None else str(head)

    def set_journal_head(self, journal: str, last_hash: str, added: int) -> None:
        self._sql(
            "UPDATE journals SET last_hash = ?, entry_count = entry_count + ? WHERE code = ?",
            last_hash,
            added,
            journal,
        )

    def journal_codes(self) -> list[str]:
        return list(self.conn.execute(select(journals.c.code).order_by(journals.c.code)).scalars())

    def journal_state(self) -> dict[str, tuple[str, int]]:
        rows = self.conn.execute(
            select(journals.c.code, journals.c.last_hash, journals.c.entry_count)
        )
        return {code: (head, int(count)) for code, head, count in rows}

    # -- writing entries ----------------------------------------------------------------

    def insert_posted(self, batch: Sequence[PreparedEntry], posted_at: datetime) -> None:
        if not batch:
            return
        when: Any = posted_at.strftime("%Y-%m-%d %H:%M:%S.%f") if self._sqlite else posted_at
        entry_rows = []
        posting_rows: list[tuple[Any, ...]] = []
        conversion_rows: list[tuple[Any, ...]] = []
        for item in batch:
            entry_rows.append(self._entry_row(item, when))
            _posting_rows(item, posting_rows, conversion_rows)
        # Postings first (their foreign key to the entry is deferred), then each entry goes
        # in as posted, which is when the guard triggers check balance and numbering.
        self._executemany("postings", _POSTING_COLUMNS, posting_rows)
        if conversion_rows:
            self._executemany("posting_conversions", _CONVERSION_COLUMNS, conversion_rows)
        self._executemany("journal_entries", _ENTRY_COLUMNS, entry_rows)

    def post_drafts(self, batch: Sequence[PreparedEntry], posted_at: datetime) -> None:
        when: Any = posted_at.strftime("%Y-%m-%d %H:%M:%S.%f") if self._sqlite else posted_at
        for item in batch:
            self._sql(
                "UPDATE journal_entries SET state = 'posted', number = ?, hash = ?, "
                "previous_hash = ?, posted_at = ?, import_id = ? WHERE id = ? AND state = 'draft'",
                item.number,
                item.hash,
                item.previous_hash,
                when,
                item.import_id,
                item.id,
            )

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
        item = _as_item(entry, entry_id, account_ids, minors, posting_id)
        _posting_rows(item, postings_out, conversions_out)
        self._executemany("postings", _POSTING_COLUMNS, postings_out)
        if conversions_out:
            self._executemany("posting_conversions", _CONVERSION_COLUMNS, conversions_out)
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
            "tags": _json_list(e.tags),
            "links": _json_list(e.links),
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
        if not self._sqlite and len(rows) > _COPY_FROM:
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
            _json_list(e.tags),
            _json_list(e.links),
            json.dumps([list(kv) for kv in e.meta]) if e.meta else "[]",
            EntryState.POSTED.value,
            e.reverses,
            item.import_id,
            item.hash,
            item.previous_hash,
            when,
        )

    def add_balance_deltas(self, deltas: dict[BalanceKey, tuple[int, int]]) -> None:
        if not deltas:
            return
        sql = (
            "INSERT INTO account_balances (account_id, commodity, period, debit_minor, "
            "credit_minor) VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id, commodity, period) "
            "DO UPDATE SET debit_minor = account_balances.debit_minor + excluded.debit_minor, "
            "credit_minor = account_balances.credit_minor + excluded.credit_minor"
        ).replace("?", self._mark)
        rows = [(*key, debit, credit) for key, (debit, credit) in deltas.items()]
        self.conn.exec_driver_sql(sql, rows)

    def mark_reversed(self, entry_id: int, by_id: int) -> None:
        self.conn.execute(
            update(journal_entries)
            .where(journal_entries.c.id == entry_id)
            .values(state=EntryState.REVERSED.value, reversed_by_id=by_id)
        )

    # -- reading entries ----------------------------------------------------------------

    def find_entry_id(self, journal: str, year: int, number: int) -> int | None:
        e = journal_entries.c
        return self.conn.execute(
            select(e.id).where(e.journal == journal, e.fiscal_year == year, e.number == number)
        ).scalar_one_or_none()

    def get_entry(self, entry_id: int) -> JournalEntry:
        for entry in self._entries(journal_entries.c.id == entry_id):
            return entry
        raise EntryNotFoundError(f"no entry with id {entry_id}")

    def iter_chain(self, journal: str) -> Iterator[JournalEntry]:
        e = journal_entries.c
        return self._entries(and_(e.journal == journal, e.state != EntryState.DRAFT.value))

    def iter_entries(self) -> Iterator[JournalEntry]:
        return self._entries(journal_entries.c.state != EntryState.DRAFT.value, by_date=True)

    def _entries(self, where: Any, by_date: bool = False) -> Iterator[JournalEntry]:
        scales = self.scales()
        names = {i: a.name for a_name, (i, a) in self.accounts().items() if a_name}
        e, p, c = journal_entries.c, postings.c, posting_conversions.c
        # The chain runs in posting order, which is id order within a journal.
        order = (e.date, e.id) if by_date else (e.journal, e.id)
        stmt = (
            select(
                journal_entries,
                *[col.label(f"p_{col.name}") for col in postings.c],
                *[col.label(f"c_{col.name}") for col in posting_conversions.c],
            )
            .select_from(
                journal_entries.outerjoin(postings, p.entry_id == e.id).outerjoin(
                    posting_conversions, c.posting_id == p.id
                )
            )
            .where(where)
            .order_by(*order, p.line_no)
        )
        current: Any = None
        lines: list[Posting] = []
        for row in self.conn.execute(stmt.execution_options(yield_per=5000)):
            if current is None or row.id != current.id:
                if current is not None:
                    yield _entry(current, lines)
                current, lines = row, []
            if row.p_id is not None:
                lines.append(_posting(row, names, scales))
        if current is not None:
            yield _entry(current, lines)

    # -- balances and reports -----------------------------------------------------------

    def balances(self, before_period: int | None) -> list[BalanceRow]:
        b, a = account_balances.c, accounts.c
        stmt = (
            select(a.name, b.commodity, func.sum(b.debit_minor), func.sum(b.credit_minor))
            .select_from(account_balances.join(accounts, a.id == b.account_id))
            .group_by(a.name, b.commodity)
        )
        if before_period is not None:
            stmt = stmt.where(b.period < before_period)
        return [BalanceRow(n, c, int(d), int(k)) for n, c, d, k in self.conn.execute(stmt)]

    def stored_balance_rows(self) -> list[BalanceRow]:
        b, a = account_balances.c, accounts.c
        stmt = select(a.name, b.commodity, b.period, b.debit_minor, b.credit_minor).select_from(
            account_balances.join(accounts, a.id == b.account_id)
        )
        return [
            BalanceRow(f"{n}@{period}", c, int(d), int(k))
            for n, c, period, d, k in self.conn.execute(stmt)
            if d or k
        ]

    def recompute_balances(self) -> list[BalanceRow]:
        p, a, e = postings.c, accounts.c, journal_entries.c
        period = cast(extract("year", e.date) * 100 + extract("month", e.date), Integer)
        positive = func.sum(_case_positive(p.amount_minor))
        negative = func.sum(_case_negative(p.amount_minor))
        stmt = (
            select(a.name, p.commodity, period.label("period"), positive, negative)
            .select_from(
                postings.join(accounts, a.id == p.account_id).join(
                    journal_entries, e.id == p.entry_id
                )
            )
            .where(e.state != EntryState.DRAFT.value)
            .group_by(a.name, p.commodity, "period")
        )
        return [
            BalanceRow(f"{n}@{int(per)}", c, int(d), int(k))
            for n, c, per, d, k in self.conn.execute(stmt)
            if d or k
        ]

    def turnover_between(self, start: date, end: date) -> list[BalanceRow]:
        p, a, e = postings.c, accounts.c, journal_entries.c
        stmt = (
            select(
                a.name,
                p.commodity,
                func.sum(_case_positive(p.amount_minor)),
                func.sum(_case_negative(p.amount_minor)),
            )
            .select_from(
                journal_entries.join(postings, p.entry_id == e.id).join(
                    accounts, a.id == p.account_id
                )
            )
            .where(e.date >= start, e.date <= end, e.state != EntryState.DRAFT.value)
            .group_by(a.name, p.commodity)
        )
        return [BalanceRow(n, c, int(d), int(k)) for n, c, d, k in self.conn.execute(stmt)]

    def account_postings(
        self, account: str, start: date | None, end: date | None
    ) -> list[LedgerPostingRow]:
        p, a, e = postings.c, accounts.c, journal_entries.c
        stmt = (
            select(
                e.date,
                e.id,
                e.journal,
                e.fiscal_year,
                e.number,
                e.narration,
                a.name,
                p.commodity,
                p.amount_minor,
            )
            .select_from(
                postings.join(accounts, a.id == p.account_id).join(
                    journal_entries, e.id == p.entry_id
                )
            )
            .where(or_(a.name == account, a.name.startswith(account + ":", autoescape=True)))
            .where(e.state != EntryState.DRAFT.value)
            .order_by(e.date, e.id, p.line_no)
        )
        if start is not None:
            stmt = stmt.where(e.date >= start)
        if end is not None:
            stmt = stmt.where(e.date <= end)
        return [
            LedgerPostingRow(r[0], r[1], f"{r[2]}/{r[3]}/{r[4]}", r[5], r[6], r[7], int(r[8]))
            for r in self.conn.execute(stmt)
        ]

    # -- imports ------------------------------------------------------------------------

    def find_import(self, fingerprint: str) -> tuple[int, int, bool] | None:
        row = self.conn.execute(
            select(imports.c.id, imports.c.batches_done, imports.c.complete).where(
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

    def progress_import(self, import_id: int, batches: int, entries: int, done: bool) -> None:
        self.conn.execute(
            update(imports)
            .where(imports.c.id == import_id)
            .values(batches_done=batches, entries=imports.c.entries + entries, complete=done)
        )


def _case_positive(column: Any) -> Any:
    return case((column > 0, column), else_=0)


def _case_negative(column: Any) -> Any:
    return case((column < 0, -column), else_=0)


def _account(row: Any) -> Account:
    return Account(
        name=row.name,
        code=row.code,
        commodities=tuple(c for c in row.commodities.split(",") if c),
        open_date=row.open_date,
        close_date=row.close_date,
        description=row.description,
    )


def _posting(row: Any, names: dict[int, str], scales: dict[str, int]) -> Posting:
    return Posting(
        account=names[row.p_account_id],
        amount=from_minor(row.p_amount_minor, scales[row.p_commodity]),
        commodity=row.p_commodity,
        cost=_conversion(row.c_cost_number, row.c_cost_commodity, row.c_cost_total),
        price=_conversion(row.c_price_number, row.c_price_commodity, row.c_price_total),
        party=row.p_party,
        memo=row.p_memo or "",
    )


def _entry(row: Any, lines: list[Posting]) -> JournalEntry:
    return JournalEntry(
        id=row.id,
        journal=row.journal,
        number=row.number,
        year=row.fiscal_year,
        date=row.date,
        narration=row.narration,
        payee=row.payee,
        party=row.party,
        reference=row.reference,
        tags=tuple(json.loads(row.tags or "[]")),
        links=tuple(json.loads(row.links or "[]")),
        meta=tuple((k, v) for k, v in json.loads(row.meta or "[]")),
        state=EntryState(row.state),
        hash=row.hash,
        previous_hash=row.previous_hash,
        reverses=row.reverses_id,
        reversed_by=row.reversed_by_id,
        postings=tuple(lines),
    )


def _json_list(values: tuple[str, ...]) -> str:
    return json.dumps(list(values)) if values else "[]"


def _posting_rows(
    item: PreparedEntry, postings_out: list[tuple[Any, ...]], conversions_out: list[tuple[Any, ...]]
) -> None:
    posting_id = item.first_posting_id
    for line, (p, (amount, weight), account_id) in enumerate(
        zip(item.entry.postings, item.minors, item.account_ids, strict=True)
    ):
        postings_out.append(
            (posting_id, item.id, line, account_id, p.commodity, amount, p.party, p.memo or None)
        )
        if p.cost is not None or p.price is not None:
            conversions_out.append(
                (
                    posting_id,
                    p.weight_commodity,
                    weight,
                    *_conversion_cells(p.cost),
                    *_conversion_cells(p.price),
                )
            )
        posting_id += 1


def _as_item(
    entry: JournalEntry,
    entry_id: int,
    account_ids: Sequence[int],
    minors: Sequence[tuple[int, int]],
    first_posting_id: int = 0,
) -> PreparedEntry:
    return PreparedEntry(
        entry_id, first_posting_id, entry, 0, "", "", tuple(minors), tuple(account_ids)
    )
