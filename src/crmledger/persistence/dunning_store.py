"""``DunningStore`` on SQLAlchemy Core: notices sent, and overdue invoices with their last
level, in the unit of work's connection.

The overdue list reads only open invoices past their due date (``ix_billing_documents_due``)
joined to what was sent for them, one query per run::

    store.overdue(date(2026, 7, 1))   # [OverdueInvoiceRow(number="INV-2026-0001", last_level=1)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import date
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select

from crmledger.persistence.access_store import aware
from crmledger.persistence.billing_tables import billing_documents
from crmledger.persistence.dunning_tables import dunning_notices
from crmledger.services.dunning_ports import DunningNoticeRow, OverdueInvoiceRow

_FIELDS = [f.name for f in fields(DunningNoticeRow)]
_OPEN = ("issued", "partially_paid")
_n = dunning_notices.c
_d = billing_documents.c


def _notice(row: Row[Any]) -> DunningNoticeRow:
    values = {name: getattr(row, name) for name in _FIELDS}
    return DunningNoticeRow(**values | {"created_at": aware(values["created_at"])})


class SqlDunningStore:
    """The dunning table in one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def overdue(self, today: date) -> list[OverdueInvoiceRow]:
        sent = (
            select(
                _n.invoice_id,
                func.max(_n.level).label("last_level"),
                func.max(_n.sent_on).label("last_sent_on"),
            )
            .group_by(_n.invoice_id)
            .subquery()
        )
        stmt = (
            select(
                _d.id,
                _d.party_id,
                _d.number,
                _d.currency,
                _d.due_on,
                _d.open_minor,
                sent.c.last_level,
                sent.c.last_sent_on,
            )
            .select_from(billing_documents.outerjoin(sent, sent.c.invoice_id == _d.id))
            .where(
                _d.kind == "invoice",
                _d.status.in_(_OPEN),
                _d.due_on < today,
                _d.open_minor > 0,
            )
            .order_by(_d.due_on, _d.id)
        )
        return [
            OverdueInvoiceRow(
                invoice_id=r.id,
                party_id=r.party_id,
                number=r.number,
                currency=r.currency,
                due_on=r.due_on,
                open_minor=r.open_minor,
                last_level=r.last_level or 0,
                last_sent_on=r.last_sent_on,
            )
            for r in self._conn.execute(stmt)
        ]

    def insert(self, row: DunningNoticeRow) -> int:
        values = {name: getattr(row, name) for name in _FIELDS if name != "id"}
        stmt = insert(dunning_notices).values(values).returning(_n.id)
        return int(self._conn.execute(stmt).scalar_one())

    def notice(self, notice_id: int) -> DunningNoticeRow | None:
        row = self._conn.execute(select(dunning_notices).where(_n.id == notice_id)).first()
        return None if row is None else _notice(row)

    def notices(
        self, *, invoice_id: int | None = None, party_id: int | None = None
    ) -> list[DunningNoticeRow]:
        stmt = select(dunning_notices)
        if invoice_id is not None:
            stmt = stmt.where(_n.invoice_id == invoice_id)
        if party_id is not None:
            stmt = stmt.where(_n.party_id == party_id)
        return [_notice(r) for r in self._conn.execute(stmt.order_by(_n.sent_on, _n.id))]

    def dunned_invoices(self, invoice_ids: Sequence[int]) -> set[int]:
        found: set[int] = set()
        ids = sorted(set(invoice_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            stmt = select(_n.invoice_id).where(_n.invoice_id.in_(chunk)).distinct()
            found.update(int(i) for i in self._conn.execute(stmt).scalars())
        return found

    def interaction_ids(self, invoice_ids: Sequence[int]) -> list[int]:
        if not invoice_ids:
            return []
        stmt = select(_n.interaction_id).where(_n.invoice_id.in_(list(invoice_ids))).order_by(_n.id)
        return [int(i) for i in self._conn.execute(stmt).scalars()]
