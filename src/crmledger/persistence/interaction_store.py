"""``InteractionStore`` on SQLAlchemy Core: pages, the timeline, the queue and full-text search.

Every list is a keyset page, never OFFSET: a party's timeline continues strictly below the
last row's ``(occurred_at, id)``, which the index ``(party_id, occurred_at DESC, id DESC)``
answers by reading exactly the rows it returns, however long the history::

    store.timeline([7], before=None, limit=50)            # the newest 50
    store.timeline([7], before=(last.occurred_at, last.id), limit=50)

Search is the one place the databases differ: SQLite asks its FTS5 table, PostgreSQL the
generated ``tsvector`` column. The user's words are quoted (FTS5) or read as plain text
(``plainto_tsquery``), so query syntax in them (``"``, ``AND(``, ``*``) is never parsed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    Select,
    case,
    insert,
    literal,
    select,
    text,
    tuple_,
    union_all,
    update,
)

from crmledger.persistence.access_store import aware
from crmledger.persistence.interaction_tables import interactions
from crmledger.services.crm_ports import InteractionQuery, InteractionRow

_T = interactions.c
_COLUMNS = [c.name for c in interactions.columns]
_STAMPS = frozenset(
    {
        "occurred_at",
        "due_at",
        "sla_first_response_due",
        "sla_resolution_due",
        "first_response_at",
        "resolved_at",
        "closed_at",
        "created_at",
        "updated_at",
    }
)
_FILTERS = ("party_id", "kind", "status", "owner_id", "priority")
#: Up to this many parties a timeline is one index range per party (UNION ALL of keyset
#: reads); beyond it, one ``IN`` query.
_UNION_MAX = 100
_WORD = re.compile(r"\w+")

_SQLITE_SEARCH = text(
    "SELECT rowid AS id, -bm25(interactions_fts) AS score FROM interactions_fts "
    "WHERE interactions_fts MATCH :query ORDER BY score DESC, rowid DESC LIMIT :limit"
)
_POSTGRES_SEARCH = text(
    "SELECT id, ts_rank(search, query) AS score "
    "FROM interactions, plainto_tsquery('simple', :query) AS query "
    "WHERE search @@ query ORDER BY score DESC, id DESC LIMIT :limit"
)

#: The next SLA target of a complaint: the first response until one is made, then the
#: resolution.
NEXT_DUE = case(
    (_T.first_response_at.is_(None), _T.sla_first_response_due),
    else_=_T.sla_resolution_due,
)


def _utc(value: Any) -> Any:
    """Datetimes are stored in UTC (SQLite keeps the wall time and drops the offset)."""
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def _values(row: InteractionRow) -> dict[str, Any]:
    return {name: _utc(getattr(row, name)) for name in _COLUMNS if name != "id"}


def _row(row: Row[Any]) -> InteractionRow:
    values = dict(row._mapping)
    for name in _STAMPS:
        values[name] = _utc(aware(values[name]))
    return InteractionRow(**values)


def fts5_query(words: str) -> str:
    """An FTS5 query matching every word of ``words`` as a plain token: each is quoted, so
    ``AND``, ``NEAR``, ``*``, ``"`` and parentheses are just text (``""`` when no word)."""
    return " ".join(f'"{word}"' for word in _WORD.findall(words))


class SqlInteractionStore:
    """Interactions in the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # -- writes ----------------------------------------------------------------------

    def insert(self, rows: Sequence[InteractionRow]) -> list[int]:
        if not rows:
            return []
        stmt = insert(interactions).returning(_T.id, sort_by_parameter_order=True)
        result = self._conn.execute(stmt, [_values(r) for r in rows])
        return [int(r[0]) for r in result]

    def update(self, row: InteractionRow, expected_version: int) -> bool:
        values = _values(row)
        del values["created_at"]
        done = self._conn.execute(
            update(interactions)
            .where(_T.id == row.id, _T.version == expected_version)
            .values(values)
        )
        return done.rowcount == 1

    # -- reads -----------------------------------------------------------------------

    def get(self, interaction_id: int) -> InteractionRow | None:
        found = self.many([interaction_id])
        return found[0] if found else None

    def many(self, ids: Sequence[int]) -> list[InteractionRow]:
        if not ids:
            return []
        rows = self._conn.execute(select(interactions).where(_T.id.in_(list(ids))))
        return [_row(r) for r in rows]

    def page(self, query: InteractionQuery) -> list[InteractionRow]:
        stmt = select(interactions).where(*_filters(query))
        descending = query.sort.startswith("-")
        keys = [_T.occurred_at, _T.id] if query.sort.lstrip("-") == "occurred" else [_T.id]
        after = _after(query, len(keys))
        if after is not None:
            key, last = (
                tuple_(*keys),
                tuple_(*(literal(v, k.type) for v, k in zip(after, keys, strict=True))),
            )
            stmt = stmt.where(key < last if descending else key > last)
        order = [k.desc() for k in keys] if descending else keys
        return [_row(r) for r in self._conn.execute(stmt.order_by(*order).limit(query.limit))]

    def timeline(
        self, party_ids: Sequence[int], before: tuple[datetime, int] | None, limit: int
    ) -> list[InteractionRow]:
        ids = sorted(set(party_ids))
        if not ids:
            return []
        if len(ids) == 1 or len(ids) > _UNION_MAX:
            stmt = _newest(select(interactions).where(_T.party_id.in_(ids)), before, limit)
            return [_row(r) for r in self._conn.execute(stmt)]
        # One keyset read per party on the timeline index (ids and times only, which the
        # index holds), merged; then the rows of the page.
        parts = [
            select(
                _newest(
                    select(_T.id, _T.occurred_at).where(_T.party_id == pid), before, limit
                ).subquery()
            )
            for pid in ids
        ]
        merged = union_all(*parts).subquery()
        newest = select(merged.c.id).order_by(merged.c.occurred_at.desc(), merged.c.id.desc())
        page = [int(i) for i in self._conn.execute(newest.limit(limit)).scalars()]
        rows = self.many(page)
        return sorted(rows, key=lambda r: (r.occurred_at, r.id or 0), reverse=True)

    def complaint_queue(
        self, limit: int, after: tuple[datetime, int] | None
    ) -> list[InteractionRow]:
        stmt = select(interactions).where(
            _T.kind == "complaint", _T.status.in_(("open", "in_progress"))
        )
        if after is not None:
            due, last_id = after
            stmt = stmt.where(
                tuple_(NEXT_DUE, _T.id)
                > tuple_(literal(_utc(due), _T.occurred_at.type), literal(last_id))
            )
        stmt = stmt.order_by(NEXT_DUE, _T.id).limit(limit)
        return [_row(r) for r in self._conn.execute(stmt)]

    def search(self, text: str, limit: int) -> list[tuple[int, float]]:
        if self._conn.dialect.name == "postgresql":
            found = self._conn.execute(_POSTGRES_SEARCH, {"query": text, "limit": limit})
        else:
            query = fts5_query(text)
            if not query:
                return []
            found = self._conn.execute(_SQLITE_SEARCH, {"query": query, "limit": limit})
        return [(int(r.id), float(r.score)) for r in found]


def _newest(stmt: Select[Any], before: tuple[datetime, int] | None, limit: int) -> Select[Any]:
    """``stmt`` newest first, strictly before ``before``, at most ``limit`` rows."""
    if before is not None:
        at, last_id = before
        stmt = stmt.where(
            tuple_(_T.occurred_at, _T.id)
            < tuple_(literal(_utc(at), _T.occurred_at.type), literal(last_id))
        )
    return stmt.order_by(_T.occurred_at.desc(), _T.id.desc()).limit(limit)


def _after(query: InteractionQuery, width: int) -> tuple[Any, ...] | None:
    if query.after_id is None:
        return None
    if width == 1:
        return (query.after_id,)
    if query.after_at is None:
        return None
    return (_utc(query.after_at), query.after_id)


def _filters(query: InteractionQuery) -> list[Any]:
    where: list[Any] = []
    for name in _FILTERS:
        value = getattr(query, name)
        if value is not None:
            where.append(_T[name] == value)
    if query.due_before is not None:
        where.append(_T.due_at < _utc(query.due_before))
    return where
