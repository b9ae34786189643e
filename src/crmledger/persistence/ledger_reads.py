"""Reading the ledger back: entries with their postings, balances and account activity.

:class:`LedgerReads` is the read half of the SQL ledger store: everything here is a query,
nothing writes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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
    literal_column,
    or_,
    select,
    true,
    tuple_,
)

from crmledger.core.accounts import Account
from crmledger.core.entries import EntryState, JournalEntry, Posting
from crmledger.core.errors import EntryNotFoundError
from crmledger.persistence.rows import (
    entry_,
    posting_,
)
from crmledger.persistence.statement_tables import statement_base_conversions
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
from crmledger.services.statement_ports import DrillQuery, DrillRow, ValueRow


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
        a, e = accounts.c, journal_entries.c
        if self.conn.dialect.name == "postgresql":  # a few days: entry by entry
            lines = entry_lines(self.conn, converted=False)
            p, source = lines.c, journal_entries.join(lines, true())
        else:
            p, source = postings.c, journal_entries.join(postings, postings.c.entry_id == e.id)
        stmt = (
            select(
                a.name,
                p.commodity,
                func.sum(case_positive(p.amount_minor)),
                func.sum(case_negative(p.amount_minor)),
            )
            .select_from(source.join(accounts, a.id == p.account_id))
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


# -- sums in the base currency, for the financial statements --------------------------
#
# A posting's base value is its amount when it is in the base currency, its weight when a
# cost or price converts it into the base currency, and none otherwise (it stays "open").
# Monthly sums come from the running balances (one row per account, commodity and month)
# corrected by the running sums of conversions into the base currency, so a year of a
# million entries is read without touching a posting; only the days of a month cut by a
# period's edge are summed from the postings (through the index on the entry date).


def _base_value(p: Any, c: Any, base: str) -> tuple[Any, Any]:
    """The base value and the open amount of a posting (``p``) with its conversion (``c``,
    outer-joined)."""
    valued = or_(p.commodity == base, c.weight_commodity == base)
    value = case(
        (p.commodity == base, p.amount_minor),
        (c.weight_commodity == base, c.weight_minor),
        else_=0,
    )
    return value, case((valued, 0), else_=p.amount_minor)


def month_values(conn: Connection, base: str, until_period: int) -> list[ValueRow]:
    """Per account, commodity and month up to ``until_period`` (yyyymm): two grouped
    reads of running sums, the balances and the conversions into the base currency
    (``statement_base_conversions``, kept by the database in the posting transaction)."""
    sums: dict[tuple[int, str, int], list[int]] = {}
    b = account_balances.c
    for account_id, commodity, period, debit, credit in conn.execute(
        select(b.account_id, b.commodity, b.period, b.debit_minor, b.credit_minor).where(
            b.period <= until_period
        )
    ):
        amount = int(debit) - int(credit)
        own = commodity == base
        sums[(account_id, commodity, int(period))] = [
            amount,
            0 if own else amount,
            amount if own else 0,
        ]
    v = statement_base_conversions.c
    for account_id, commodity, period, amount, weight in conn.execute(
        select(v.account_id, v.commodity, v.period, v.amount_minor, v.weight_minor).where(
            v.period <= until_period
        )
    ):
        row = sums.setdefault((account_id, commodity, int(period)), [0, 0, 0])
        row[1] -= int(amount)
        row[2] += int(weight)
    return [
        ValueRow(a, c, amount, open_, value, period=m)
        for (a, c, m), (amount, open_, value) in sums.items()
    ]


def stored_base_conversions(conn: Connection) -> dict[tuple[int, str, int], tuple[int, int]]:
    """``statement_base_conversions`` as stored (zero rows left out)."""
    v = statement_base_conversions.c
    rows = conn.execute(select(v.account_id, v.commodity, v.period, v.amount_minor, v.weight_minor))
    return {(a, c, int(p)): (int(x), int(w)) for a, c, p, x, w in rows if x or w}


def recompute_base_conversions(
    conn: Connection, base: str
) -> dict[tuple[int, str, int], tuple[int, int]]:
    """What ``statement_base_conversions`` must hold, from every posted posting."""
    p, c, e = postings.c, posting_conversions.c, journal_entries.c
    period = cast(extract("year", e.date) * 100 + extract("month", e.date), Integer)
    stmt = (
        select(
            p.account_id,
            p.commodity,
            period.label("period"),
            func.sum(p.amount_minor),
            func.sum(c.weight_minor),
        )
        .select_from(
            posting_conversions.join(postings, p.id == c.posting_id).join(
                journal_entries, e.id == p.entry_id
            )
        )
        .where(
            c.weight_commodity == base,
            p.commodity != base,
            e.state != EntryState.DRAFT.value,
        )
        .group_by(p.account_id, p.commodity, "period")
    )
    return {(a, cc, int(m)): (int(x), int(w)) for a, cc, m, x, w in conn.execute(stmt) if x or w}


def _values(base: str, *keys: Any) -> Any:
    p, c, e = postings.c, posting_conversions.c, journal_entries.c
    value, open_ = _base_value(p, c, base)
    return (
        select(
            *keys,
            p.account_id,
            p.commodity,
            func.sum(p.amount_minor),
            func.sum(open_),
            func.sum(value),
        )
        .select_from(
            journal_entries.join(postings, p.entry_id == e.id).outerjoin(
                posting_conversions, c.posting_id == p.id
            )
        )
        .where(e.state != EntryState.DRAFT.value)
        .group_by(*keys, p.account_id, p.commodity)
    )


def entry_lines(conn: Connection, converted: bool) -> Any:
    """The postings (with their conversions when ``converted``) of the entry in the
    enclosing query, looked up entry by entry: for a few days of entries on PostgreSQL.

    Joined plainly, the planner, costing random reads as from a spinning disk, would hash
    every posting of the book to pick out a few thousand (a third of a second at a million
    entries, against a twentieth this way); a ``LATERAL`` subquery fenced with ``OFFSET 0``
    (so that it is not flattened back into that join) reads each entry's postings through
    the ``entry_id`` index and their conversions through the primary key. Its estimated
    cost (the same random-read pricing) passes ``jit_above_cost``, and compiling the query
    would take as long as running it, so JIT is turned off for the rest of the (read-only)
    transaction.
    """
    conn.exec_driver_sql("SET LOCAL jit = off")
    p, c, e = postings.c, posting_conversions.c, journal_entries.c
    columns: tuple[Any, ...]
    if converted:
        columns = (p.account_id, p.commodity, p.amount_minor, c.weight_commodity, c.weight_minor)
        source: Any = postings.outerjoin(posting_conversions, c.posting_id == p.id)
    else:
        columns, source = (p.account_id, p.commodity, p.amount_minor), postings
    return (
        select(*columns)
        .select_from(source)
        .where(p.entry_id == e.id)
        .offset(literal_column("0"))
        .lateral("lines")
    )


def _entry_by_entry_values(conn: Connection, base: str) -> Any:
    """:func:`_values` through :func:`entry_lines` (PostgreSQL)."""
    lines = entry_lines(conn, converted=True)
    value, open_ = _base_value(lines.c, lines.c, base)
    return (
        select(
            lines.c.account_id,
            lines.c.commodity,
            func.sum(lines.c.amount_minor),
            func.sum(open_),
            func.sum(value),
        )
        .select_from(journal_entries.join(lines, true()))
        .where(journal_entries.c.state != EntryState.DRAFT.value)
        .group_by(lines.c.account_id, lines.c.commodity)
    )


def day_values(conn: Connection, base: str, start: date, end: date) -> list[ValueRow]:
    """Per account and commodity, the postings dated ``start`` to ``end`` (the cut days at
    a period's edges: at most a month each, so always read entry by entry)."""
    e = journal_entries.c
    dated = (e.date >= start, e.date <= end)
    if conn.dialect.name == "postgresql":
        stmt = _entry_by_entry_values(conn, base).where(*dated)
    else:
        stmt = _values(base).where(*dated)
    return [
        ValueRow(a, c, int(amount), int(open_), int(value))
        for a, c, amount, open_, value in conn.execute(stmt)
    ]


def journal_values(
    conn: Connection, base: str, journals: Sequence[str], until: date
) -> list[ValueRow]:
    """Per journal, account, commodity and day, the postings of ``journals`` up to
    ``until`` (through the index on journal, year and number)."""
    if not journals:
        return []
    e = journal_entries.c
    stmt = _values(base, e.journal, e.date).where(e.journal.in_(list(journals)), e.date <= until)
    return [
        ValueRow(a, c, int(amount), int(open_), int(value), day=day, journal=journal)
        for journal, day, a, c, amount, open_, value in conn.execute(stmt)
    ]


def _drill_filters(query: DrillQuery) -> list[Any]:
    e, p = journal_entries.c, postings.c
    where: list[Any] = [e.state != EntryState.DRAFT.value]
    if query.start is not None:
        where.append(e.date >= query.start)
    if query.end is not None:
        where.append(e.date <= query.end)
    if query.journals:
        where.append(e.journal.in_(list(query.journals)))
    if query.exclude:
        where.append(e.journal.not_in(list(query.exclude)))
    if query.after is not None:
        where.append(tuple_(e.date, e.id) > tuple(query.after))
    if query.account_ids is not None:
        touches = select(p.entry_id).where(
            p.entry_id == e.id, p.account_id.in_(list(query.account_ids) or [-1])
        )
        where.append(touches.exists())
    return where


def drill_rows(conn: Connection, base: str, query: DrillQuery) -> list[DrillRow]:
    """One page of the entries of ``query`` (by date, then id) and their postings to its
    accounts, with each posting's base value."""
    e, p, c = journal_entries.c, postings.c, posting_conversions.c
    page = (
        select(e.id).where(and_(*_drill_filters(query))).order_by(e.date, e.id).limit(query.limit)
    )
    ids = [row[0] for row in conn.execute(page)]
    if not ids:
        return []
    value = case(
        (p.commodity == base, p.amount_minor),
        (c.weight_commodity == base, c.weight_minor),
        else_=None,
    )
    stmt = (
        select(
            e.id,
            e.date,
            e.journal,
            e.fiscal_year,
            e.number,
            e.narration,
            p.account_id,
            p.commodity,
            p.amount_minor,
            value,
        )
        .select_from(
            journal_entries.join(postings, p.entry_id == e.id).outerjoin(
                posting_conversions, c.posting_id == p.id
            )
        )
        .where(e.id.in_(ids))
        .order_by(e.date, e.id, p.line_no)
    )
    if query.account_ids is not None:
        stmt = stmt.where(p.account_id.in_(list(query.account_ids) or [-1]))
    return [
        DrillRow(
            int(r[0]),
            r[1],
            f"{r[2]}/{r[3]}/{r[4]}",
            r[5],
            r[2],
            int(r[6]),
            r[7],
            int(r[8]),
            None if r[9] is None else int(r[9]),
        )
        for r in conn.execute(stmt)
    ]
