"""``AgingReads`` on SQLAlchemy Core: the documents and payments that may be open on a day,
the allocations that drew on them, and a party's balance on a control account.

What is open today is indexed (``ix_billing_documents_due``, ``ix_payments_party``); an
earlier day adds the items that allocations made after it drew on, so the cost follows
what was open and what moved since, not the whole history.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select

from crmledger.core.aging import Item, Key, Move
from crmledger.core.entries import EntryState
from crmledger.persistence.billing_tables import allocations, billing_documents, payments
from crmledger.persistence.party_merge_store import party_keys
from crmledger.persistence.tables import journal_entries, posting_conversions, postings
from crmledger.services.aging_ports import ItemQuery

_d, _p, _a = billing_documents.c, payments.c, allocations.c
_CHUNK = 2000
#: The allocation column that names an item of each kind.
_COLUMNS: dict[str, Any] = {
    "invoice": _a.invoice_id,
    "bill": _a.invoice_id,
    "credit_note": _a.credit_note_id,
    "receipt": _a.payment_id,
    "vendor_payment": _a.payment_id,
    "refund": _a.refund_id,
    "vendor_refund": _a.refund_id,
}


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start : start + _CHUNK])


def _base_value(base: str) -> Any:
    """A posting's value in the base currency (its amount, or its weight in it)."""
    p, c = postings.c, posting_conversions.c
    return case(
        (p.commodity == base, p.amount_minor),
        (c.weight_commodity == base, c.weight_minor),
        else_=0,
    )


def _candidates(
    id_column: Any, day_column: Any, open_column: Any, columns: Sequence[Any], as_of: date
) -> Any:
    """Items that may have been open on ``as_of``: dated on or before it and open now or
    drawn on by an allocation dated after it; or dated after it and drawn on before."""

    def drawn(*where: Any) -> Any:
        return or_(*(id_column.in_(select(c).where(c.is_not(None), *where)) for c in columns))

    dated = and_(day_column <= as_of, or_(open_column > 0, drawn(_a.allocated_on > as_of)))
    return or_(dated, and_(day_column > as_of, drawn(_a.allocated_on <= as_of)))


class SqlAgingReads:
    """The aging reads in one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def open_items(self, query: ItemQuery, as_of: date) -> list[Item]:
        doc_columns = {_COLUMNS[k] for k in query.documents}
        pay_columns = {_COLUMNS[k] for k in query.payments}
        documents = _candidates(
            _d.id, _d.issued_on, _d.open_minor, sorted(doc_columns, key=str), as_of
        )
        paid = _candidates(_p.id, _p.paid_on, _p.open_minor, sorted(pay_columns, key=str), as_of)
        return self._documents(query, documents) + self._payments(query, paid)

    def party_items(self, query: ItemQuery) -> list[Item]:
        found = self._documents(query, None) + self._payments(query, None)
        return sorted(found, key=lambda i: (i.day, i.key))

    def _documents(self, query: ItemQuery, where: Any) -> list[Item]:
        p = postings.c
        value = (
            select(func.coalesce(func.sum(_base_value(query.base)), 0))
            .select_from(
                postings.outerjoin(posting_conversions, posting_conversions.c.posting_id == p.id)
            )
            .where(p.entry_id == _d.entry_id, p.account_id == query.control_id)
            .scalar_subquery()
        )
        stmt = select(
            _d.id,
            _d.kind,
            _d.number,
            _d.party_id,
            _d.currency,
            _d.issued_on,
            _d.due_on,
            _d.gross_minor,
            value,
        ).where(_d.kind.in_(list(query.documents)), _d.status != "draft", _d.entry_id.is_not(None))
        if query.party_id is not None:
            stmt = stmt.where(_d.party_id == query.party_id)
        if where is not None:
            stmt = stmt.where(where)
        return [
            Item(("document", int(i)), k, n, int(party), c, day, due, int(gross), abs(int(base)))
            for i, k, n, party, c, day, due, gross, base in self._conn.execute(
                stmt.order_by(_d.issued_on, _d.id)
            )
        ]

    def _payments(self, query: ItemQuery, where: Any) -> list[Item]:
        stmt = select(
            _p.id,
            _p.kind,
            _p.number,
            _p.party_id,
            _p.currency,
            _p.paid_on,
            _p.amount_minor,
            _p.base_minor,
        ).where(_p.kind.in_(list(query.payments)))
        if query.party_id is not None:
            stmt = stmt.where(_p.party_id == query.party_id)
        if where is not None:
            stmt = stmt.where(where)
        return [
            Item(("payment", int(i)), k, n, int(party), c, day, None, int(amount), int(base))
            for i, k, n, party, c, day, amount, base in self._conn.execute(
                stmt.order_by(_p.paid_on, _p.id)
            )
        ]

    def moves(self, items: Sequence[Item]) -> list[Move]:
        wanted: dict[Any, list[int]] = {}
        for item in items:
            wanted.setdefault(_COLUMNS[item.kind], []).append(item.key[1])
        found: dict[int, Move] = {}
        for column, ids in wanted.items():
            for chunk in _chunks(sorted(set(ids))):
                stmt = select(
                    _a.id,
                    _a.invoice_id,
                    _a.refund_id,
                    _a.payment_id,
                    _a.credit_note_id,
                    _a.amount_minor,
                    _a.allocated_on,
                ).where(column.in_(chunk))
                for row in self._conn.execute(stmt):
                    found[int(row.id)] = _move(row)
        return [found[k] for k in sorted(found)]

    def party_balance(self, control_id: int, party_id: int, as_of: date, base: str) -> int:
        p, e = postings.c, journal_entries.c
        stmt = (
            select(func.coalesce(func.sum(_base_value(base)), 0))
            .select_from(
                postings.join(journal_entries, e.id == p.entry_id).outerjoin(
                    posting_conversions, posting_conversions.c.posting_id == p.id
                )
            )
            .where(
                p.account_id == control_id,
                # A merged party's postings keep its id: take them in too.
                p.party.in_(party_keys(party_id)),
                e.state != EntryState.DRAFT.value,
                e.date <= as_of,
            )
        )
        return int(self._conn.execute(stmt).scalar_one())


def _move(row: Any) -> Move:
    debit: Key = (
        ("document", int(row.invoice_id))
        if row.invoice_id is not None
        else ("payment", int(row.refund_id))
    )
    credit: Key = (
        ("payment", int(row.payment_id))
        if row.payment_id is not None
        else ("document", int(row.credit_note_id))
    )
    return Move(int(row.id), debit, credit, int(row.amount_minor), row.allocated_on)
