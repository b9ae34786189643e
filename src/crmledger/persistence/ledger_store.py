"""SQL implementation of :class:`crmledger.services.ports.LedgerStore`.

Bulk writes go through the driver's ``executemany`` with plain tuples: posting a million
entries must not build a million ORM objects. A batch writes its postings first (their
foreign key to the entry is deferred to commit), then inserts each entry directly as
posted, which is when the guard triggers check its balance and number.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
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
    journal_sequences,
    journals,
    ledger_state,
    posting_conversions,
    postings,
    settings,
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


class SqlLedgerStore:
    """The ledger's tables, read and written on one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._sqlite = conn.dialect.name == "sqlite"
        self._mark = "?" if self._sqlite else "%s"
        self._scales: dict[str, int] | None = None

    # -- reference data -------------------------------------------------------------------

    def lock_for_posting(self) -> None:
        """Serialise posting (SQLite already holds the write lock via BEGIN IMMEDIATE)."""
        stmt = select(ledger_state.c.id).where(ledger_state.c.id == 1)
        if not self._sqlite:
            stmt = stmt.with_for_update()
        if self.conn.execute(stmt).first() is None:
            self.conn.execute(insert(ledger_state).values(id=1, next_entry_id=1, next_posting_id=1))

    def scales(self) -> dict[str, int]:
        if self._scales is None:
            rows = self.conn.execute(select(commodities.c.code, commodities.c.scale))
            self._scales = {code: scale for code, scale in rows}
        return dict(self._scales)

    def add_commodity(self, commodity: Commodity) -> None:
        self.conn.execute(
            insert(commodities).values(
                code=commodity.code, scale=commodity.scale, name=commodity.name
            )
        )
        self._scales = None

    def commodities(self) -> list[Commodity]:
        rows = self.conn.execute(select(commodities).order_by(commodities.c.code))
        return [Commodity(r.code, r.scale, r.name) for r in rows]

    def accounts(self) -> dict[str, tuple[int, Account]]:
        rows = self.conn.execute(select(accounts).order_by(accounts.c.name))
        return {r.name: (r.id, _account(r)) for r in rows}

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
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def close_account(self, name: str, on: date) -> None:
        self.conn.execute(update(accounts).where(accounts.c.name == name).values(close_date=on))

    def get_setting(self, key: str) -> str | None:
        return self.conn.execute(
            select(settings.c.value).where(settings.c.key == key)
        ).scalar_one_or_none()

    def set_setting(self, key: str, value: str) -> None:
        updated = self.conn.execute(
            update(settings).where(settings.c.key == key).values(value=value)
        )
        if updated.rowcount == 0:
            self.conn.execute(insert(settings).values(key=key, value=value))

    # -- numbering and the chain --------------------------------------------------------

    def reserve_ids(self, entries: int, postings: int) -> tuple[int, int]:
        row = self.conn.execute(select(ledger_state).where(ledger_state.c.id == 1)).one()
        self.conn.execute(
            update(ledger_state)
            .where(ledger_state.c.id == 1)
            .values(
                next_entry_id=row.next_entry_id + entries,
                next_posting_id=row.next_posting_id + postings,
            )
        )
        return int(row.next_entry_id), int(row.next_posting_id)

    def last_number(self, journal: str, year: int) -> int:
        found = self.conn.execute(
            select(journal_sequences.c.last_number).where(
                journal_sequences.c.journal == journal, journal_sequences.c.fiscal_year == year
            )
        ).scalar_one_or_none()
        return int(found or 0)

    def set_last_number(self, journal: str, year: int, number: int) -> None:
        where = and_(
            journal_sequences.c.journal == journal, journal_sequences.c.fiscal_year == year
        )
        updated = self.conn.execute(
            update(journal_sequences).where(where).values(last_number=number)
        )
        if updated.rowcount == 0:
            self.conn.execute(
                insert(journal_sequences).values(
                    journal=journal, fiscal_year=year, last_number=number
                )
            )

    def journal_head(self, journal: str) -> str | None:
        head = self.conn.execute(
            select(journals.c.last_hash).where(journals.c.code == journal)
        ).scalar_one_or_none()
        if head is None:
            self.conn.execute(insert(journals).values(code=journal, last_hash=GENESIS))
        return head

    def set_journal_head(self, journal: str, last_hash: str, added: int) -> None:
        self.conn.execute(
            update(journals)
            .where(journals.c.code == journal)
            .values(last_hash=last_hash, entry_count=journals.c.entry_count + added)
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

    def _executemany(
        self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
    ) -> None:
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
        b = account_balances.c
        existing: dict[BalanceKey, tuple[int, int]] = {}
        periods = {key[2] for key in deltas}
        rows = self.conn.execute(select(account_balances).where(b.period.in_(periods)))
        for r in rows:
            existing[(r.account_id, r.commodity, r.period)] = (r.debit_minor, r.credit_minor)
        new_rows = []
        for key, (debit, credit) in deltas.items():
            if key in existing:
                old_debit, old_credit = existing[key]
                self.conn.execute(
                    update(account_balances)
                    .where(b.account_id == key[0], b.commodity == key[1], b.period == key[2])
                    .values(debit_minor=old_debit + debit, credit_minor=old_credit + credit)
                )
            else:
                new_rows.append((*key, debit, credit))
        columns = ("account_id", "commodity", "period", "debit_minor", "credit_minor")
        if new_rows:
            self._executemany("account_balances", columns, new_rows)

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
