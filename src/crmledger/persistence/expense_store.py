"""``ExpenseStore`` and ``RecurringBillStore`` on SQLAlchemy Core, in the unit of work's
connection.

A claim's receipts are listed without their bytes; their sealed bytes are read only for a
download (the service opens them). A recurring bill's run is claimed with an insert that
does nothing on conflict, so of two runs for the same schedule and date the second waits
for the first and then gets nothing::

    store.claim_run(2, date(2026, 6, 1), now)   # True: this transaction bills it
    store.claim_run(2, date(2026, 6, 1), now)   # False: billed (or being billed) already
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    LargeBinary,
    Row,
    Table,
    case,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crmledger.persistence.access_store import aware
from crmledger.persistence.expense_tables import (
    expense_claims,
    expense_lines,
    expense_receipts,
    recurring_bill_lines,
    recurring_bill_runs,
    recurring_bills,
)
from crmledger.services.expense_ports import (
    ExpenseClaimRow,
    ExpenseLineRow,
    ExpenseQuery,
    ReceiptRow,
    RecurringBillRow,
    RecurringLineRow,
    SealedReceipt,
)

_CLAIM_FIELDS = [f.name for f in fields(ExpenseClaimRow) if f.name != "lines"]
_LINE_FIELDS = [f.name for f in fields(ExpenseLineRow)]
_RECEIPT_FIELDS = [f.name for f in fields(ReceiptRow)]
_SCHEDULE_FIELDS = [f.name for f in fields(RecurringBillRow) if f.name != "lines"]
_RECURRING_LINE_FIELDS = [f.name for f in fields(RecurringLineRow)]
_STAMPS = ("created_at", "updated_at", "decided_at")
_c = expense_claims.c
_r = expense_receipts.c
_s = recurring_bills.c
_runs = recurring_bill_runs.c
#: A sealed file starts ``v<version>:`` with at most nine digits (``security.cipher``).
_SEALED_PREFIX = re.compile(rb"v([1-9][0-9]{0,8}):")
_LONGEST_PREFIX = 11


def _values(row: Any, names: Sequence[str], *skip: str) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names if name not in skip}


def _read(row: Row[Any], names: Sequence[str]) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in names}
    for stamp in _STAMPS:
        if stamp in values:
            values[stamp] = aware(values[stamp])
    return values


def _lines_of(
    conn: Connection, table: Table, key: str, ids: Sequence[int], names: Sequence[str]
) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if ids:
        owner = table.c[key]
        stmt = select(table).where(owner.in_(ids)).order_by(owner, table.c.position)
        for row in conn.execute(stmt):
            found[getattr(row, key)].append({name: getattr(row, name) for name in names})
    return found


class SqlExpenseStore:
    """Expense claims, their lines and receipts in one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def insert_claim(self, row: ExpenseClaimRow) -> int:
        stmt = insert(expense_claims).values(_values(row, _CLAIM_FIELDS, "id"))
        claim_id = int(self._conn.execute(stmt.returning(_c.id)).scalar_one())
        if row.lines:
            self._conn.execute(
                insert(expense_lines),
                [{"claim_id": claim_id} | _values(r, _LINE_FIELDS) for r in row.lines],
            )
        return claim_id

    def update_claim(self, row: ExpenseClaimRow, expected_version: int) -> bool:
        done = self._conn.execute(
            update(expense_claims)
            .where(_c.id == row.id, _c.version == expected_version)
            .values(_values(row, _CLAIM_FIELDS, "id", "created_at"))
        )
        return done.rowcount == 1

    def _with_lines(self, rows: Sequence[Row[Any]]) -> list[ExpenseClaimRow]:
        lines = _lines_of(self._conn, expense_lines, "claim_id", [r.id for r in rows], _LINE_FIELDS)
        return [
            ExpenseClaimRow(
                **_read(r, _CLAIM_FIELDS),
                lines=tuple(ExpenseLineRow(**line) for line in lines[r.id]),
            )
            for r in rows
        ]

    def claim(self, claim_id: int) -> ExpenseClaimRow | None:
        rows = self._conn.execute(select(expense_claims).where(_c.id == claim_id)).all()
        found = self._with_lines(rows)
        return found[0] if found else None

    def claim_page(self, query: ExpenseQuery) -> list[ExpenseClaimRow]:
        stmt = select(expense_claims).order_by(_c.id.desc()).limit(query.limit)
        if query.after is not None:
            stmt = stmt.where(_c.id < query.after)
        if query.employee_id is not None:
            stmt = stmt.where(_c.employee_id == query.employee_id)
        if query.status is not None:
            stmt = stmt.where(_c.status == query.status)
        return self._with_lines(self._conn.execute(stmt).all())

    def add_receipt(self, row: ReceiptRow, sealed: bytes) -> int:
        values = _values(row, _RECEIPT_FIELDS, "id") | {"content_enc": sealed}
        stmt = insert(expense_receipts).values(values).returning(_r.id)
        return int(self._conn.execute(stmt).scalar_one())

    def receipts(self, claim_ids: Sequence[int]) -> list[ReceiptRow]:
        if not claim_ids:
            return []
        columns = [_r[name] for name in _RECEIPT_FIELDS]
        stmt = select(*columns).where(_r.claim_id.in_(claim_ids)).order_by(_r.id)
        return [ReceiptRow(**_read(r, _RECEIPT_FIELDS)) for r in self._conn.execute(stmt)]

    def receipt_content(self, claim_id: int, receipt_id: int) -> tuple[ReceiptRow, bytes] | None:
        stmt = select(expense_receipts).where(_r.id == receipt_id, _r.claim_id == claim_id)
        row = self._conn.execute(stmt).first()
        if row is None:
            return None
        return ReceiptRow(**_read(row, _RECEIPT_FIELDS)), bytes(row.content_enc)

    def receipt_key_versions(self) -> dict[int, int]:
        prefix = _key_prefix(_r.content_enc).label("prefix")
        sealed = select(prefix).select_from(expense_receipts).subquery()
        stmt = select(sealed.c.prefix, func.count()).group_by(sealed.c.prefix)
        counts: dict[int, int] = {}
        for found, count in self._conn.execute(stmt):
            match = _SEALED_PREFIX.fullmatch(bytes(found or b""))
            version = int(match.group(1)) if match else 0
            counts[version] = counts.get(version, 0) + int(count)
        return counts

    def sealed_receipts(
        self, after_id: int, limit: int, except_version: int | None = None
    ) -> list[SealedReceipt]:
        stmt = (
            select(_r.id, _r.claim_id, _r.sha256, _r.content_enc)
            .where(_r.id > after_id)
            .order_by(_r.id)
            .limit(limit)
        )
        if except_version is not None:
            skip = b"v%d:" % except_version
            stmt = stmt.where(_head(_r.content_enc, len(skip)) != _blob(skip))
        return [
            SealedReceipt(int(i), int(c), str(h), bytes(b))
            for i, c, h, b in self._conn.execute(stmt)
        ]

    def replace_sealed(self, receipt_id: int, old: bytes, new: bytes) -> bool:
        done = self._conn.execute(
            update(expense_receipts)
            .where(_r.id == receipt_id, _r.content_enc == old)
            .values(content_enc=new)
        )
        return done.rowcount == 1


def _blob(value: bytes) -> ColumnElement[bytes]:
    return literal(value, LargeBinary)


def _head(column: ColumnElement[bytes], length: int, start: int = 1) -> ColumnElement[bytes]:
    """``length`` bytes of ``column`` from ``start`` (1-based), as SQL ``substr``."""
    return func.substr(column, start, length, type_=LargeBinary)


def _key_prefix(column: ColumnElement[bytes]) -> ColumnElement[bytes]:
    """``v<version>:`` of a sealed file, cut from its first bytes in SQL (``b""`` when they
    name no version), so counting versions never reads a whole file out."""
    colon = _blob(b":")
    return case(
        *[
            (_head(column, 1, end) == colon, _head(column, end))
            for end in range(3, _LONGEST_PREFIX + 1)
        ],
        else_=_blob(b""),
    )


class SqlRecurringBillStore:
    """Recurring bill schedules and their runs in one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert

    def insert(self, row: RecurringBillRow) -> int:
        stmt = insert(recurring_bills).values(_values(row, _SCHEDULE_FIELDS, "id"))
        schedule_id = int(self._conn.execute(stmt.returning(_s.id)).scalar_one())
        if row.lines:
            self._conn.execute(
                insert(recurring_bill_lines),
                [
                    {"schedule_id": schedule_id} | _values(r, _RECURRING_LINE_FIELDS)
                    for r in row.lines
                ],
            )
        return schedule_id

    def _with_lines(self, rows: Sequence[Row[Any]]) -> list[RecurringBillRow]:
        lines = _lines_of(
            self._conn,
            recurring_bill_lines,
            "schedule_id",
            [r.id for r in rows],
            _RECURRING_LINE_FIELDS,
        )
        return [
            RecurringBillRow(
                **_read(r, _SCHEDULE_FIELDS),
                lines=tuple(RecurringLineRow(**line) for line in lines[r.id]),
            )
            for r in rows
        ]

    def get(self, schedule_id: int) -> RecurringBillRow | None:
        rows = self._conn.execute(select(recurring_bills).where(_s.id == schedule_id)).all()
        found = self._with_lines(rows)
        return found[0] if found else None

    def page(self, limit: int, after: int | None) -> list[RecurringBillRow]:
        stmt = select(recurring_bills).order_by(_s.id.desc()).limit(limit)
        if after is not None:
            stmt = stmt.where(_s.id < after)
        return self._with_lines(self._conn.execute(stmt).all())

    def due(self, through: date) -> list[RecurringBillRow]:
        stmt = (
            select(recurring_bills)
            .where(_s.status == "active", _s.next_on <= through)
            .order_by(_s.next_on, _s.id)
        )
        return self._with_lines(self._conn.execute(stmt).all())

    def claim_run(self, schedule_id: int, day: date, at: datetime) -> bool:
        stmt = (
            self._insert(recurring_bill_runs)
            .values(schedule_id=schedule_id, bill_date=day, created_at=at)
            .on_conflict_do_nothing()
            .returning(_runs.schedule_id)
        )
        return self._conn.execute(stmt).first() is not None

    def set_run_document(self, schedule_id: int, day: date, document_id: int) -> None:
        self._conn.execute(
            update(recurring_bill_runs)
            .where(_runs.schedule_id == schedule_id, _runs.bill_date == day)
            .values(document_id=document_id)
        )

    def runs(self, schedule_id: int) -> list[tuple[date, int | None]]:
        stmt = (
            select(_runs.bill_date, _runs.document_id)
            .where(_runs.schedule_id == schedule_id)
            .order_by(_runs.bill_date)
        )
        return [(d, doc) for d, doc in self._conn.execute(stmt)]

    def advance(self, schedule_id: int, next_on: date, status: str, at: datetime) -> None:
        self._conn.execute(
            update(recurring_bills)
            .where(_s.id == schedule_id, _s.next_on <= next_on)
            .values(next_on=next_on, status=status, version=_s.version + 1, updated_at=at)
        )
