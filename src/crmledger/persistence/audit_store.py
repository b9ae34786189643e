"""SQL implementation of :class:`crmledger.services.ports.AuditStore`: append-only rows,
the chain head in ``audit_state`` (locked ``FOR UPDATE`` on PostgreSQL; SQLite writers
already hold the database's write lock)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from crmledger.core.audit_log import AuditRecord, canonical_changes
from crmledger.persistence.access_store import aware
from crmledger.persistence.platform_tables import audit_log, audit_state
from crmledger.services.ports import StoredAudit

#: Columns a page of the log may be filtered on.
FILTERABLE = ("actor", "action", "resource", "resource_id", "request_id")


def _stored(row: Row[Any]) -> StoredAudit:
    record = AuditRecord(
        seq=int(row.seq),
        at=aware(row.at) or row.at,
        actor=row.actor,
        role=row.role,
        via=row.via,
        request_id=row.request_id,
        action=row.action,
        resource=row.resource,
        resource_id=row.resource_id,
        changes=json.loads(row.changes),
    )
    return StoredAudit(record, row.previous_hash, row.hash)


class SqlAuditStore:
    """The audit log on one connection.

    Appended records wait in memory and are written in one statement when the unit of work
    commits (:meth:`flush`), so a transaction that audits a thousand changes writes the log
    once; :meth:`head` answers from the waiting records, so the chain stays unbroken.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._pending: list[StoredAudit] = []

    def head(self, lock: bool = True) -> tuple[int, str]:
        if self._pending:
            last = self._pending[-1]
            return last.record.seq, last.hash
        query = select(audit_state.c.last_seq, audit_state.c.last_hash).where(audit_state.c.id == 1)
        if lock and self.conn.dialect.name != "sqlite":
            query = query.with_for_update()
        row = self.conn.execute(query).one()
        return int(row[0]), str(row[1])

    def append(self, rows: Sequence[StoredAudit]) -> None:
        self._pending.extend(rows)

    def flush(self) -> None:
        """Write the waiting records (before the transaction commits)."""
        rows, self._pending = self._pending, []
        if not rows:
            return
        self.conn.execute(
            insert(audit_log),
            [
                {
                    "seq": s.record.seq,
                    "at": s.record.at,
                    "actor": s.record.actor,
                    "role": s.record.role,
                    "via": s.record.via,
                    "request_id": s.record.request_id,
                    "action": s.record.action,
                    "resource": s.record.resource,
                    "resource_id": s.record.resource_id,
                    "changes": s.changes_text or canonical_changes(s.record.changes),
                    "previous_hash": s.previous_hash,
                    "hash": s.hash,
                }
                for s in rows
            ],
        )
        last = rows[-1]
        self.conn.execute(
            update(audit_state)
            .where(audit_state.c.id == 1)
            .values(last_seq=last.record.seq, last_hash=last.hash)
        )

    def iter_records(self) -> Iterator[StoredAudit]:
        result = self.conn.execution_options(yield_per=2000).execute(
            select(audit_log).order_by(audit_log.c.seq)
        )
        for row in result:
            yield _stored(row)

    def page(
        self, before_seq: int | None, limit: int, filters: dict[str, str]
    ) -> list[StoredAudit]:
        query = select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit)
        if before_seq is not None:
            query = query.where(audit_log.c.seq < before_seq)
        for column, value in filters.items():
            if column not in FILTERABLE:
                raise ValueError(f"cannot filter the audit log on {column!r}")
            query = query.where(audit_log.c[column] == value)
        return [_stored(r) for r in self.conn.execute(query)]
