"""Reading the ledger back: entries with their postings, balances and account activity.

:class:`LedgerReads` is the read half of the SQL ledger store: everything here is a query,
nothing writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    and_,
    case,
    cast,
    extract,
    func,
    or_,
    select,
    tuple_,
)

from crmledger.core.accounts import Account
from crmledger.core.entries import EntryState, JournalEntry, Posting
from crmledger.core.errors import EntryNotFoundError
from crmledger.persistence.rows import (
    entry_,
    posting_,
)
from crmledger.persistence.tables import (
    account_balances,
    accounts,
    conversion_balances,
    journal_entries,
    journals,
    posting_conversions,
    postings,
)
from crmledger.services.ports import BalanceRow, EntryQuery, LedgerPostingRow


class LedgerReads:
    """Queries over entries, postings and balances."""

    conn: Connection

    def scales(self) -> dict[str, int]:
        raise NotImplementedError

    def accounts(self) -> dict[str, tuple[int, Account]]:
        raise NotImplementedError

    def journal_codes(self) -> list[str]:
        return list(self.conn.execute(select(journals.c.code).order_by(journals.c.code)).scalars())

    def journal_state(self) -> dict[str, tuple[str, int]]:
        rows = self.conn.execute(
            select(journals.c.code, journals.c.last_hash, journals.c.entry_count)
        )
        return {code: (head, int(count)) for code, head, count in rows}

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

    def entries_page(self, query: EntryQuery) -> list[JournalEntry]:
        """One page by keyset: ids first (an index walk), then those entries in full."""
        e = journal_entries.c
        keys = (e.date, e.id) if query.sort == "date" else (e.id,)
        stmt = select(e.id)
        conditions = _entry_filters(query, self.accounts())
        if query.after is not None:
            after = query.after if query.sort == "date" else query.after[1:]
            row = tuple_(*keys)
            conditions.append(row > tuple(after) if query.ascending else row < tuple(after))
        if conditions:
            stmt = stmt.where(and_(*conditions))
        order = [k.asc() if query.ascending else k.desc() for k in keys]
        ids = [r[0] for r in self.conn.execute(stmt.order_by(*order).limit(query.limit))]
        if not ids:
            return []
        found = {entry.id: entry for entry in self._entries(e.id.in_(ids))}
        return [found[i] for i in ids]

    def _entries(self, where: Any, by_date: bool = False) -> Iterator[JournalEntry]:
        scales = self.scales()
        names = {account_id: name for name, (account_id, _) in self.accounts().items()}
        e, p, c = journal_entries.c, postings.c, posting_conversions.c
        # The chain runs in posting order: its position, not the id (a draft keeps the id it
        # got when saved however late it is posted).
        order = (e.date, e.id) if by_date else (e.journal, e.chain_seq, e.id)
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
                    yield entry_(current, lines)
                current, lines = row, []
            if row.p_id is not None:
                lines.append(posting_(row, names, scales))
        if current is not None:
            yield entry_(current, lines)

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
        positive = func.sum(case_positive(p.amount_minor))
        negative = func.sum(case_negative(p.amount_minor))
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

    def conversions(self, before_period: int | None) -> dict[str, int]:
        b = conversion_balances.c
        stmt = select(b.commodity, func.sum(b.net_minor)).group_by(b.commodity)
        if before_period is not None:
            stmt = stmt.where(b.period < before_period)
        return {c: int(net) for c, net in self.conn.execute(stmt) if net}

    def stored_conversions(self) -> dict[tuple[str, int], int]:
        b = conversion_balances.c
        rows = self.conn.execute(select(b.commodity, b.period, b.net_minor))
        return {(c, int(period)): int(net) for c, period, net in rows if net}

    def _conversion_rows(self, where: Any = None) -> Any:
        p, c, e = postings.c, posting_conversions.c, journal_entries.c
        period = cast(extract("year", e.date) * 100 + extract("month", e.date), Integer)
        joined = posting_conversions.join(postings, p.id == c.posting_id).join(
            journal_entries, e.id == p.entry_id
        )
        own = select(
            p.commodity.label("commodity"), period.label("period"), (-p.amount_minor).label("net")
        )
        other = select(
            c.weight_commodity.label("commodity"),
            period.label("period"),
            c.weight_minor.label("net"),
        )
        parts = [
            q.select_from(joined).where(e.state != EntryState.DRAFT.value) for q in (own, other)
        ]
        if where is not None:
            parts = [q.where(where) for q in parts]
        return parts[0].union_all(parts[1]).subquery()

    def conversions_between(self, start: date, end: date) -> dict[str, int]:
        e = journal_entries.c
        rows = self._conversion_rows(and_(e.date >= start, e.date <= end))
        stmt = select(rows.c.commodity, func.sum(rows.c.net)).group_by(rows.c.commodity)
        return {c: int(net) for c, net in self.conn.execute(stmt) if net}

    def recompute_conversions(self) -> dict[tuple[str, int], int]:
        rows = self._conversion_rows()
        stmt = select(rows.c.commodity, rows.c.period, func.sum(rows.c.net)).group_by(
            rows.c.commodity, rows.c.period
        )
        return {(c, int(period)): int(net) for c, period, net in self.conn.execute(stmt) if net}

    def turnover_between(self, start: date, end: date) -> list[BalanceRow]:
        p, a, e = postings.c, accounts.c, journal_entries.c
        stmt = (
            select(
                a.name,
                p.commodity,
                func.sum(case_positive(p.amount_minor)),
                func.sum(case_negative(p.amount_minor)),
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


def _entry_filters(query: EntryQuery, known: dict[str, tuple[int, Account]]) -> list[Any]:
    e = journal_entries.c
    conditions: list[Any] = []
    if query.journal is not None:
        conditions.append(e.journal == query.journal)
    if query.state is not None:
        conditions.append(e.state == query.state)
    if query.date_from is not None:
        conditions.append(e.date >= query.date_from)
    if query.date_to is not None:
        conditions.append(e.date <= query.date_to)
    if query.account is not None:
        ids = [
            i
            for n, (i, _) in known.items()
            if n == query.account or n.startswith(query.account + ":")
        ]
        on_account = select(postings.c.entry_id).where(postings.c.account_id.in_(ids or [-1]))
        conditions.append(e.id.in_(on_account))
    return conditions


def case_positive(column: Any) -> Any:
    return case((column > 0, column), else_=0)


def case_negative(column: Any) -> Any:
    return case((column < 0, -column), else_=0)
