"""``BillingStore`` on SQLAlchemy Core: billing documents, payments, allocations, rates and
the outbox, in the unit of work's connection.

Balances and aging are sums over the open rows only (``ix_billing_documents_party`` and
``ix_billing_documents_due``), so their cost grows with what is open, not with history. A
party's timeline reads its issued documents newest first by ``issued_at``
(``ix_billing_documents_timeline``); a draft has none and never shows there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Row,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    tuple_,
    update,
)

from crmledger.persistence.access_store import aware
from crmledger.persistence.billing_tables import (
    allocations,
    billing_documents,
    billing_lines,
    exchange_rates,
    outbox_events,
    payments,
    tax_rates,
)
from crmledger.persistence.commerce_tables import sales_orders, tax_categories
from crmledger.persistence.doorbell import ring
from crmledger.services.billing_ports import (
    AgingRow,
    AllocationRow,
    BillingDocumentRow,
    BillingLineRow,
    BillingQuery,
    EventRow,
    Exposure,
    FinanceEventRow,
    ForeignOpenRow,
    OpenSummary,
    PaymentQuery,
    PaymentRow,
    TaxLineRow,
)
from crmledger.services.crm_ports import TaxCategoryRow

_LINE_FIELDS = [f.name for f in fields(BillingLineRow)]
_DOC_FIELDS = [f.name for f in fields(BillingDocumentRow) if f.name != "lines"]
_PAYMENT_FIELDS = [f.name for f in fields(PaymentRow)]
_ALLOCATION_FIELDS = [f.name for f in fields(AllocationRow)]
_OPEN = ("issued", "partially_paid")
_CHUNK = 500  # ids per IN list
_d = billing_documents.c


def _values(row: Any, names: Sequence[str], *skip: str) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names if name not in skip}


def _read(row: Row[Any], names: Sequence[str]) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in names}
    for stamp in ("created_at", "updated_at", "issued_at"):
        if stamp in values:
            values[stamp] = aware(values[stamp])
    return values


class SqlBillingStore:
    """The billing tables in one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._events: list[EventRow] = []

    # -- documents -------------------------------------------------------------------

    def insert_document(self, row: BillingDocumentRow) -> int:
        stmt = insert(billing_documents).values(_values(row, _DOC_FIELDS, "id"))
        new_id = int(self._conn.execute(stmt.returning(_d.id)).scalar_one())
        self._insert_lines(new_id, row.lines)
        return new_id

    def insert_documents(self, rows: Sequence[BillingDocumentRow]) -> list[int]:
        if not rows:
            return []
        stmt = insert(billing_documents).returning(_d.id, sort_by_parameter_order=True)
        done = self._conn.execute(stmt, [_values(r, _DOC_FIELDS, "id") for r in rows])
        ids = [int(i) for i in done.scalars()]
        lines = [
            {"document_id": new_id} | _values(line, _LINE_FIELDS)
            for new_id, row in zip(ids, rows, strict=True)
            for line in row.lines
        ]
        if lines:
            self._conn.execute(insert(billing_lines), lines)
        return ids

    def _insert_lines(self, document_id: int, rows: Sequence[BillingLineRow]) -> None:
        if rows:
            self._conn.execute(
                insert(billing_lines),
                [{"document_id": document_id} | _values(r, _LINE_FIELDS) for r in rows],
            )

    def update_document(self, row: BillingDocumentRow, expected_version: int) -> bool:
        done = self._conn.execute(
            update(billing_documents)
            .where(_d.id == row.id, _d.version == expected_version)
            .values(_values(row, _DOC_FIELDS, "id", "created_at"))
        )
        if done.rowcount != 1:
            return False
        if row.lines:
            self._conn.execute(delete(billing_lines).where(billing_lines.c.document_id == row.id))
            self._insert_lines(row.id, row.lines)
        return True

    def delete_document(self, document_id: int, expected_version: int) -> bool:
        found = select(_d.id).where(
            _d.id == document_id, _d.version == expected_version, _d.status == "draft"
        )
        if self._conn.execute(found).first() is None:
            return False
        self._conn.execute(delete(billing_lines).where(billing_lines.c.document_id == document_id))
        self._conn.execute(delete(billing_documents).where(_d.id == document_id))
        return True

    def _with_lines(self, rows: Sequence[Row[Any]]) -> list[BillingDocumentRow]:
        found: dict[int, list[BillingLineRow]] = defaultdict(list)
        ids = [r.id for r in rows]
        if ids:
            stmt = (
                select(billing_lines)
                .where(billing_lines.c.document_id.in_(ids))
                .order_by(billing_lines.c.document_id, billing_lines.c.position)
            )
            for r in self._conn.execute(stmt):
                found[r.document_id].append(BillingLineRow(**_values(r, _LINE_FIELDS)))
        return [BillingDocumentRow(**_read(r, _DOC_FIELDS), lines=tuple(found[r.id])) for r in rows]

    def document(self, document_id: int) -> BillingDocumentRow | None:
        found = self.documents([document_id])
        return found[0] if found else None

    def documents(self, ids: Sequence[int]) -> list[BillingDocumentRow]:
        if not ids:
            return []
        rows = self._conn.execute(select(billing_documents).where(_d.id.in_(list(ids)))).all()
        return self._with_lines(rows)

    def document_page(self, query: BillingQuery) -> list[BillingDocumentRow]:
        stmt = select(billing_documents)
        for name in ("kind", "party_id", "status", "order_id", "refers_to"):
            value = getattr(query, name)
            if value is not None:
                stmt = stmt.where(_d[name] == value)
        if query.overdue_on is not None:
            stmt = stmt.where(_d.status.in_(_OPEN), _d.due_on < query.overdue_on)
        if query.after is not None:
            stmt = stmt.where(_d.id < query.after)
        rows = self._conn.execute(stmt.order_by(_d.id.desc()).limit(query.limit)).all()
        return self._with_lines(rows)

    def open_documents(self, party_id: int, kind: str, currency: str) -> list[BillingDocumentRow]:
        stmt = (
            select(billing_documents)
            .where(
                _d.party_id == party_id,
                _d.kind == kind,
                _d.status.in_(_OPEN),
                _d.currency == currency,
                _d.open_minor > 0,
            )
            .order_by(_d.issued_on, _d.id)
        )
        return [BillingDocumentRow(**_read(r, _DOC_FIELDS)) for r in self._conn.execute(stmt)]

    def open_documents_of(
        self, party_ids: Sequence[int], kinds: Sequence[str]
    ) -> list[BillingDocumentRow]:
        found: list[BillingDocumentRow] = []
        for start in range(0, len(party_ids), _CHUNK):
            stmt = select(billing_documents).where(
                _d.party_id.in_(list(party_ids[start : start + _CHUNK])),
                _d.kind.in_(list(kinds)),
                _d.status.in_(_OPEN),
                _d.open_minor > 0,
            )
            if self._conn.dialect.name != "sqlite":  # SQLite's writer holds the whole file
                stmt = stmt.with_for_update()
            found += [BillingDocumentRow(**_read(r, _DOC_FIELDS)) for r in self._conn.execute(stmt)]
        return found

    def update_documents(self, rows: Sequence[tuple[BillingDocumentRow, int]]) -> bool:
        if not rows:
            return True
        names = [n for n in _DOC_FIELDS if n not in ("id", "created_at")]
        stmt = (
            update(billing_documents)
            .where(_d.id == bindparam("b_id"), _d.version == bindparam("b_version"))
            .values({n: bindparam(f"v_{n}") for n in names})
        )
        params = [
            {"b_id": row.id, "b_version": version} | {f"v_{n}": getattr(row, n) for n in names}
            for row, version in rows
        ]
        done = self._conn.execute(stmt, params)
        return not self._conn.dialect.supports_sane_multi_rowcount or done.rowcount == len(rows)

    def billed(self, contract_id: int, billing_date: date) -> int | None:
        stmt = select(_d.id).where(_d.contract_id == contract_id, _d.billing_date == billing_date)
        found = self._conn.execute(stmt).scalar_one_or_none()
        return None if found is None else int(found)

    # -- payments and allocations ----------------------------------------------------

    def insert_payments(self, rows: Sequence[PaymentRow]) -> list[int]:
        if not rows:
            return []
        stmt = insert(payments).returning(payments.c.id, sort_by_parameter_order=True)
        done = self._conn.execute(stmt, [_values(r, _PAYMENT_FIELDS, "id") for r in rows])
        return [int(i) for i in done.scalars()]

    def insert_allocations(self, rows: Sequence[AllocationRow]) -> None:
        if rows:
            self._conn.execute(
                insert(allocations), [_values(r, _ALLOCATION_FIELDS, "id") for r in rows]
            )

    def insert_payment(self, row: PaymentRow) -> int:
        stmt = insert(payments).values(_values(row, _PAYMENT_FIELDS, "id"))
        return int(self._conn.execute(stmt.returning(payments.c.id)).scalar_one())

    def update_payment(self, row: PaymentRow, expected_version: int) -> bool:
        done = self._conn.execute(
            update(payments)
            .where(payments.c.id == row.id, payments.c.version == expected_version)
            .values(_values(row, _PAYMENT_FIELDS, "id", "created_at"))
        )
        return done.rowcount == 1

    def payment(self, payment_id: int) -> PaymentRow | None:
        row = self._conn.execute(select(payments).where(payments.c.id == payment_id)).first()
        return None if row is None else PaymentRow(**_read(row, _PAYMENT_FIELDS))

    def payment_page(self, query: PaymentQuery) -> list[PaymentRow]:
        stmt = select(payments)
        if query.party_id is not None:
            stmt = stmt.where(payments.c.party_id == query.party_id)
        if query.kind is not None:
            stmt = stmt.where(payments.c.kind == query.kind)
        if query.after is not None:
            stmt = stmt.where(payments.c.id < query.after)
        rows = self._conn.execute(stmt.order_by(payments.c.id.desc()).limit(query.limit))
        return [PaymentRow(**_read(r, _PAYMENT_FIELDS)) for r in rows]

    def open_payments(self, party_id: int, kinds: Sequence[str]) -> list[PaymentRow]:
        stmt = (
            select(payments)
            .where(
                payments.c.party_id == party_id,
                payments.c.kind.in_(list(kinds)),
                payments.c.open_minor > 0,
            )
            .order_by(payments.c.paid_on, payments.c.id)
        )
        return [PaymentRow(**_read(r, _PAYMENT_FIELDS)) for r in self._conn.execute(stmt)]

    def insert_allocation(self, row: AllocationRow) -> int:
        stmt = insert(allocations).values(_values(row, _ALLOCATION_FIELDS, "id"))
        return int(self._conn.execute(stmt.returning(allocations.c.id)).scalar_one())

    def allocations(
        self, *, invoice_id: int | None = None, payment_id: int | None = None
    ) -> list[AllocationRow]:
        stmt = select(allocations)
        if invoice_id is not None:
            stmt = stmt.where(
                (allocations.c.invoice_id == invoice_id)
                | (allocations.c.credit_note_id == invoice_id)
            )
        if payment_id is not None:
            stmt = stmt.where(
                (allocations.c.payment_id == payment_id) | (allocations.c.refund_id == payment_id)
            )
        rows = self._conn.execute(stmt.order_by(allocations.c.id))
        return [AllocationRow(**_read(r, _ALLOCATION_FIELDS)) for r in rows]

    # -- rates -----------------------------------------------------------------------

    def rate_on(self, currency: str, day: date) -> tuple[date, str] | None:
        r = exchange_rates.c
        stmt = (
            select(r.day, r.rate)
            .where(r.currency == currency, r.day <= day)
            .order_by(r.day.desc())
            .limit(1)
        )
        row = self._conn.execute(stmt).first()
        return None if row is None else (row.day, row.rate)

    def rate_table(self, currency: str, until: date) -> list[tuple[date, str]]:
        r = exchange_rates.c
        stmt = select(r.day, r.rate).where(r.currency == currency, r.day <= until).order_by(r.day)
        return [(d, v) for d, v in self._conn.execute(stmt)]

    def set_rate(self, currency: str, day: date, rate: str) -> None:
        r = exchange_rates.c
        self._conn.execute(delete(exchange_rates).where(r.currency == currency, r.day == day))
        self._conn.execute(insert(exchange_rates).values(currency=currency, day=day, rate=rate))

    def rates(
        self, currency: str | None, limit: int, before: date | None
    ) -> list[tuple[str, date, str]]:
        r = exchange_rates.c
        stmt = select(r.currency, r.day, r.rate)
        if currency is not None:
            stmt = stmt.where(r.currency == currency)
        if before is not None:
            stmt = stmt.where(r.day < before)
        stmt = stmt.order_by(r.day.desc(), r.currency).limit(limit)
        return [(c, d, v) for c, d, v in self._conn.execute(stmt)]

    def tax_rates_on(self, day: date) -> list[TaxCategoryRow]:
        t = tax_rates.c
        latest = (
            select(t.category, func.max(t.valid_from).label("since"))
            .where(t.valid_from <= day)
            .group_by(t.category)
            .subquery()
        )
        stmt = (
            select(t.category, t.rate, t.per)
            .join(latest, and_(latest.c.category == t.category, latest.c.since == t.valid_from))
            .order_by(t.category)
        )
        return [TaxCategoryRow(c, r, p) for c, r, p in self._conn.execute(stmt)]

    def tax_rate_rows(self) -> list[tuple[str, date, str, str]]:
        t = tax_rates.c
        stmt = select(t.category, t.valid_from, t.rate, t.per).order_by(t.category, t.valid_from)
        return [(c, d, r, p) for c, d, r, p in self._conn.execute(stmt)]

    def add_tax_rate(self, category: str, valid_from: date, rate: str, per: str) -> None:
        known = select(tax_categories.c.category).where(tax_categories.c.category == category)
        if self._conn.execute(known).first() is None:
            self._conn.execute(insert(tax_categories).values(category=category, rate=rate, per=per))
        t = tax_rates.c
        self._conn.execute(
            delete(tax_rates).where(t.category == category, t.valid_from == valid_from)
        )
        self._conn.execute(
            insert(tax_rates).values(category=category, valid_from=valid_from, rate=rate, per=per)
        )

    # -- balances --------------------------------------------------------------------

    def open_summary(self, party_id: int, today: date) -> list[OpenSummary]:
        overdue = func.sum(_overdue_minor(today))
        stmt = (
            select(
                _d.kind,
                _d.currency,
                func.sum(_d.open_minor),
                func.sum(_d.open_base_minor),
                overdue,
                func.count(),
            )
            .where(_d.party_id == party_id, _d.status.in_(_OPEN))
            .group_by(_d.kind, _d.currency)
            .order_by(_d.kind, _d.currency)
        )
        return [
            OpenSummary(k, c, int(o), int(b), int(v or 0), int(n))
            for k, c, o, b, v, n in self._conn.execute(stmt)
        ]

    def unapplied(self, party_id: int) -> list[tuple[str, int, int]]:
        p = payments.c
        paid = (
            select(p.currency, func.sum(p.open_minor), func.sum(p.open_base_minor))
            .where(p.party_id == party_id, p.kind == "receipt", p.open_minor > 0)
            .group_by(p.currency)
        )
        credited = (
            select(_d.currency, func.sum(_d.open_minor), func.sum(_d.open_base_minor))
            .where(
                _d.party_id == party_id,
                _d.kind == "credit_note",
                _d.status.in_(_OPEN),
                _d.open_minor > 0,
            )
            .group_by(_d.currency)
        )
        sums: dict[str, tuple[int, int]] = {}
        for stmt in (paid, credited):
            for currency, minor, base in self._conn.execute(stmt):
                old = sums.get(currency, (0, 0))
                sums[currency] = (old[0] + int(minor), old[1] + int(base))
        return [(c, m, b) for c, (m, b) in sorted(sums.items())]

    def aging(self, kind: str, today: date, party_id: int | None = None) -> list[AgingRow]:
        stmt = select(_d.party_id, _d.currency, _d.due_on, _d.open_minor, _d.open_base_minor).where(
            _d.kind == kind, _d.status.in_(_OPEN), _d.open_minor > 0
        )
        if party_id is not None:
            stmt = stmt.where(_d.party_id == party_id)
        sums: dict[tuple[int, str, int | None], list[int]] = defaultdict(lambda: [0, 0])
        for party, currency, due, open_minor, base in self._conn.execute(stmt):
            days = (today - due).days if due is not None and due < today else None
            cell = sums[(party, currency, days)]
            cell[0] += int(open_minor)
            cell[1] += int(base)
        return [AgingRow(p, c, d, m, b) for (p, c, d), (m, b) in sorted(sums.items(), key=_key)]

    def days_to_pay(self, party_id: int) -> list[tuple[date, date]]:
        stmt = (
            select(_d.issued_on, _d.settled_on)
            .where(
                _d.party_id == party_id,
                _d.kind == "invoice",
                _d.status == "paid",
                _d.settled_on.is_not(None),
            )
            .order_by(_d.issued_on, _d.id)
        )
        return [(i, s) for i, s in self._conn.execute(stmt)]

    def exposures(self, party_ids: Sequence[int]) -> dict[int, Exposure]:
        ids = sorted(set(party_ids))
        found = {i: Exposure(0, 0, []) for i in ids}
        o, p = sales_orders.c, payments.c
        billed = select(_d.order_id).where(_d.order_id.is_not(None), _d.status != "draft")
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            owed = (
                select(_d.party_id, func.sum(_d.open_base_minor))
                .where(_d.party_id.in_(chunk), _d.kind == "invoice", _d.status.in_(_OPEN))
                .group_by(_d.party_id)
            )
            for party_id, base in self._conn.execute(owed):
                found[int(party_id)].owed_base += int(base)
            paid = (
                select(p.party_id, func.sum(p.open_base_minor))
                .where(p.party_id.in_(chunk), p.kind == "receipt", p.open_minor > 0)
                .group_by(p.party_id)
            )
            credited = (
                select(_d.party_id, func.sum(_d.open_base_minor))
                .where(
                    _d.party_id.in_(chunk),
                    _d.kind == "credit_note",
                    _d.status.in_(_OPEN),
                    _d.open_minor > 0,
                )
                .group_by(_d.party_id)
            )
            for stmt in (paid, credited):
                for party_id, base in self._conn.execute(stmt):
                    found[int(party_id)].credit_base += int(base)
            ordered = (
                select(o.party_id, o.currency, func.sum(o.gross_minor))
                .where(o.party_id.in_(chunk), o.status == "confirmed", o.id.not_in(billed))
                .group_by(o.party_id, o.currency)
            )
            for party_id, currency, gross in self._conn.execute(ordered):
                found[int(party_id)].ordered.append((currency, int(gross)))
        return found

    def confirmed_unbilled(
        self, party_id: int, exclude_order: int | None = None
    ) -> list[tuple[str, int]]:
        o = sales_orders.c
        billed = select(_d.order_id).where(_d.order_id.is_not(None), _d.status != "draft")
        stmt = (
            select(o.currency, func.sum(o.gross_minor))
            .where(o.party_id == party_id, o.status == "confirmed", o.id.not_in(billed))
            .where(o.id != (exclude_order or 0))
            .group_by(o.currency)
        )
        return [(c, int(g)) for c, g in self._conn.execute(stmt)]

    # -- timeline --------------------------------------------------------------------

    def timeline(
        self, party_ids: Sequence[int], before: tuple[datetime, int] | None, limit: int
    ) -> list[FinanceEventRow]:
        p = payments.c
        docs = select(
            _d.kind,
            _d.id,
            _d.issued_at,
            _d.party_id,
            _d.number,
            _d.status,
            _d.gross_minor,
            _d.currency,
            _d.due_on,
        ).where(_d.party_id.in_(list(party_ids)), _d.issued_at.is_not(None))
        pays = select(
            p.kind,
            p.id,
            p.created_at,
            p.party_id,
            p.number,
            literal("received"),
            p.amount_minor,
            p.currency,
            literal(None, Date),
        ).where(p.party_id.in_(list(party_ids)))
        found: list[FinanceEventRow] = []
        for query, at, key in ((docs, _d.issued_at, _d.id), (pays, p.created_at, p.id)):
            stmt = query
            if before is not None:
                newer = tuple_(literal(before[0], at.type), literal(before[1]))
                stmt = stmt.where(tuple_(at, key) < newer)
            stmt = stmt.order_by(at.desc(), key.desc()).limit(limit)
            found += [
                FinanceEventRow(t, int(i), aware(a) or a, int(pid), n, s, int(m), c, d)
                for t, i, a, pid, n, s, m, c, d in self._conn.execute(stmt)
            ]
        found.sort(key=lambda r: (r.at, r.id), reverse=True)
        return found[:limit]

    # -- outbox ----------------------------------------------------------------------

    def append_events(self, events: Sequence[EventRow]) -> None:
        self._events.extend(events)

    def flush(self) -> None:
        """Write the waiting outbox events (before the transaction commits), each
        aggregate's sequence numbers following its last stored one."""
        events, self._events = self._events, []
        if not events:
            return
        e = outbox_events.c
        last: dict[tuple[str, int], int] = {}
        by_kind: dict[str, set[int]] = defaultdict(set)
        for event in events:
            by_kind[event.aggregate].add(event.aggregate_id)
        for aggregate, ids in by_kind.items():
            stmt = (
                select(e.aggregate_id, func.max(e.seq))
                .where(e.aggregate == aggregate, e.aggregate_id.in_(sorted(ids)))
                .group_by(e.aggregate_id)
            )
            for aggregate_id, seq in self._conn.execute(stmt):
                last[(aggregate, int(aggregate_id))] = int(seq)
        values = []
        for event in events:
            key = (event.aggregate, event.aggregate_id)
            last[key] = last.get(key, 0) + 1
            values.append(
                {
                    "aggregate": event.aggregate,
                    "aggregate_id": event.aggregate_id,
                    "seq": last[key],
                    "type": event.kind,
                    "payload": event.payload,
                    "occurred_at": event.at,
                }
            )
        self._conn.execute(insert(outbox_events), values)
        ring(self._conn)  # idle workers wake when this transaction commits

    def events(self, after: int, limit: int) -> list[tuple[int, str, int, int, str, str]]:
        e = outbox_events.c
        stmt = (
            select(e.id, e.aggregate, e.aggregate_id, e.seq, e.type, e.payload)
            .where(e.id > after)
            .order_by(e.id)
            .limit(limit)
        )
        return [
            (int(i), a, int(ai), int(s), t, p) for i, a, ai, s, t, p in self._conn.execute(stmt)
        ]

    # -- tax and revaluation ---------------------------------------------------------

    def tax_lines(self, start: date, end: date) -> list[TaxLineRow]:
        line = billing_lines.c
        stmt = (
            select(
                _d.id,
                _d.kind,
                _d.currency,
                _d.rate,
                line.tax_category,
                line.tax_rate,
                func.sum(line.net_minor),
                func.sum(line.tax_minor),
            )
            .join(billing_lines, line.document_id == _d.id)
            .where(
                _d.status != "draft",
                _d.entry_id.is_not(None),
                _d.issued_on >= start,
                _d.issued_on <= end,
            )
            .group_by(_d.id, _d.kind, _d.currency, _d.rate, line.tax_category, line.tax_rate)
            .order_by(_d.id, line.tax_category, line.tax_rate)
        )
        return [
            TaxLineRow(int(i), k, c, r, cat, tr, int(n), int(t))
            for i, k, c, r, cat, tr, n, t in self._conn.execute(stmt)
        ]

    def open_foreign(self, base: str, on: date) -> list[ForeignOpenRow]:
        p = payments.c
        docs = select(
            _d.kind, _d.id, _d.number, _d.party_id, _d.currency, _d.open_minor, _d.open_base_minor
        ).where(
            _d.kind.in_(("invoice", "credit_note", "bill")),
            _d.status.in_(_OPEN),
            _d.open_minor > 0,
            _d.currency != base,
            _d.issued_on <= on,
        )
        pays = select(
            p.kind, p.id, p.number, p.party_id, p.currency, p.open_minor, p.open_base_minor
        ).where(
            p.kind.in_(("receipt", "vendor_payment")),
            p.open_minor > 0,
            p.currency != base,
            p.paid_on <= on,
        )
        found = [
            ForeignOpenRow(k, int(i), n, int(party), c, int(m), int(b))
            for stmt in (docs, pays)
            for k, i, n, party, c, m, b in self._conn.execute(stmt)
        ]
        return sorted(found, key=lambda r: (r.currency, r.kind, r.id))


def _overdue_minor(today: date) -> Any:
    return case((_d.due_on < today, _d.open_minor), else_=0)


def _key(item: tuple[tuple[int, str, int | None], list[int]]) -> tuple[int, str, int]:
    (party, currency, days), _ = item
    return party, currency, -1 if days is None else days
