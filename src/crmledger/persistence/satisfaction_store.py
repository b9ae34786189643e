"""``SatisfactionStore`` on SQLAlchemy Core: NPS and CSAT answers in one connection.

Lists page by keyset on ``(answered_on, id)``, latest answer first, so a page costs the
same at row 10 as at row 10 million; summaries read answers already counted per party, day
and score (``GROUP BY``), so a thousand "9"s from one party on one day cross the wire once::

    store = SqlSatisfactionStore(conn)
    [new_id] = store.insert([response], at=now, by="user:7")
    store.page(SatisfactionQuery(limit=50, party_id=7))
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, func, insert, or_, select

from crmledger.core.crm.satisfaction import Response
from crmledger.persistence.access_store import aware
from crmledger.persistence.satisfaction_tables import satisfaction_responses as table
from crmledger.services.crm_ports import SatisfactionQuery, SatisfactionRow, ScoreCount

_COLUMNS = [c.name for c in table.columns]


def _row(row: Row[Any]) -> SatisfactionRow:
    values = {name: getattr(row, name) for name in _COLUMNS}
    values["created_at"] = aware(values["created_at"])
    return SatisfactionRow(**values)


def _between(date_from: date | None, date_to: date | None) -> list[Any]:
    where: list[Any] = []
    if date_from is not None:
        where.append(table.c.answered_on >= date_from)
    if date_to is not None:
        where.append(table.c.answered_on <= date_to)
    return where


def _filters(query: SatisfactionQuery) -> list[Any]:
    where = _between(query.date_from, query.date_to)
    if query.party_id is not None:
        where.append(table.c.party_id == query.party_id)
    if query.kind is not None:
        where.append(table.c.kind == query.kind)
    if query.after is not None:
        day, last_id = query.after
        c = table.c
        where.append(or_(c.answered_on < day, and_(c.answered_on == day, c.id < last_id)))
    return where


class SqlSatisfactionStore:
    """Satisfaction responses in the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def insert(self, responses: Sequence[Response], at: datetime, by: str) -> list[int]:
        if not responses:
            return []
        values = [
            {
                "kind": r.kind.value,
                "score": r.score,
                "comment": r.comment,
                "answered_on": r.answered_on,
                "party_id": r.party_id,
                "interaction_id": r.interaction_id,
                "order_id": r.order_id,
                "invoice_id": r.invoice_id,
                "created_at": at,
                "created_by": by,
            }
            for r in responses
        ]
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return [int(r[0]) for r in self._conn.execute(stmt, values)]

    def get(self, response_id: int) -> SatisfactionRow | None:
        found = self._conn.execute(select(table).where(table.c.id == response_id)).first()
        return _row(found) if found is not None else None

    def page(self, query: SatisfactionQuery) -> list[SatisfactionRow]:
        stmt = (
            select(table)
            .where(*_filters(query))
            .order_by(table.c.answered_on.desc(), table.c.id.desc())
            .limit(query.limit)
        )
        return [_row(r) for r in self._conn.execute(stmt)]

    def score_counts(
        self, kind: str, date_from: date | None, date_to: date | None
    ) -> list[ScoreCount]:
        c = table.c
        keys = (c.party_id, c.answered_on, c.score)
        stmt = (
            select(*keys, func.count().label("n"))
            .where(c.kind == kind, *_between(date_from, date_to))
            .group_by(*keys)
            .order_by(*keys)
        )
        return [
            ScoreCount(r.party_id, r.answered_on, r.score, int(r.n))
            for r in self._conn.execute(stmt)
        ]
