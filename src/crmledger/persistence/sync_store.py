"""``SyncStore`` on SQLAlchemy Core: connectors, cursors, links, runs, logs, conflicts.

A run of one connector and object type takes the cursor row first (``set_cursor`` updates
it, which on PostgreSQL locks it and on SQLite runs under the writer's lock), so two runs
of the same connector queue instead of applying the same page twice. A party's links by
local id are its account links only; links a party merge folded into it (``merge_id``
set) route their outside records' changes to it, and pushes leave them alone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, func, insert, select, update

from crmledger.persistence.access_store import aware
from crmledger.persistence.billing_tables import billing_documents
from crmledger.persistence.integration_store import upsert
from crmledger.persistence.integration_tables import (
    sync_conflicts,
    sync_connectors,
    sync_cursors,
    sync_links,
    sync_log,
    sync_pending,
    sync_runs,
)
from crmledger.services.sync_ports import (
    ConflictRow,
    ConnectorRow,
    InvoiceTotal,
    LinkRow,
    LogRow,
    RunRow,
)

_c, _l, _k = sync_connectors.c, sync_links.c, sync_conflicts.c
_COUNTS = ("created", "updated", "unchanged", "conflicts", "errors")
_CHUNK = 500
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _at(value: datetime | None) -> datetime:
    found = aware(value)
    assert found is not None
    return found


def _connector(row: Row[Any]) -> ConnectorRow:
    return ConnectorRow(
        id=int(row.id),
        name=row.name,
        kind=row.kind,
        config=row.config,
        secrets_enc=row.secrets_enc,
        inbound_scheme=row.inbound_scheme,
        status=row.status,
        version=int(row.version),
        created_at=_at(row.created_at),
        updated_at=_at(row.updated_at),
    )


def _link(row: Row[Any]) -> LinkRow:
    return LinkRow(
        connector_id=int(row.connector_id),
        object_type=row.object_type,
        external_id=row.external_id,
        local_id=int(row.local_id),
        remote_version=row.remote_version,
        local_version=int(row.local_version),
        base=json.loads(row.base),
        synced_at=_at(row.synced_at),
    )


def _run(row: Row[Any]) -> RunRow:
    return RunRow(
        id=int(row.id),
        connector_id=int(row.connector_id),
        object_type=row.object_type,
        mode=row.mode,
        status=row.status,
        counts={name: int(getattr(row, name)) for name in _COUNTS},
        cursor_from=row.cursor_from,
        cursor_to=row.cursor_to,
        message=row.message,
        actor=row.actor,
        started_at=_at(row.started_at),
        finished_at=aware(row.finished_at),
    )


def _conflict(row: Row[Any]) -> ConflictRow:
    return ConflictRow(
        id=int(row.id),
        connector_id=int(row.connector_id),
        object_type=row.object_type,
        external_id=row.external_id,
        local_id=int(row.local_id),
        field=row.field,
        remote_enc=row.remote_enc,
        remote_version=row.remote_version,
        status=row.status,
        created_at=_at(row.created_at),
        decided_at=aware(row.decided_at),
        decided_by=row.decided_by,
    )


def _run_values(row: RunRow) -> dict[str, Any]:
    counts = {name: int(row.counts.get(name, 0)) for name in _COUNTS}
    return counts | {
        "status": row.status,
        "cursor_from": row.cursor_from,
        "cursor_to": row.cursor_to,
        "message": row.message[:4000],
        "finished_at": row.finished_at,
    }


class SqlSyncStore:
    """The sync tables in one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # -- connectors ------------------------------------------------------------------

    def add_connector(self, row: ConnectorRow) -> int:
        stmt = insert(sync_connectors).values(
            name=row.name,
            kind=row.kind,
            config=row.config,
            secrets_enc=row.secrets_enc,
            inbound_scheme=row.inbound_scheme,
            status=row.status,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
        return int(self._conn.execute(stmt.returning(_c.id)).scalar_one())

    def set_connector_secrets(self, connector_id: int, secrets_enc: str) -> None:
        self._conn.execute(
            update(sync_connectors).where(_c.id == connector_id).values(secrets_enc=secrets_enc)
        )

    def connector(self, connector_id: int) -> ConnectorRow | None:
        row = self._conn.execute(select(sync_connectors).where(_c.id == connector_id)).first()
        return None if row is None else _connector(row)

    def connector_named(self, name: str) -> ConnectorRow | None:
        row = self._conn.execute(select(sync_connectors).where(_c.name == name)).first()
        return None if row is None else _connector(row)

    def connectors(self) -> list[ConnectorRow]:
        rows = self._conn.execute(select(sync_connectors).order_by(_c.name))
        return [_connector(r) for r in rows]

    def update_connector(self, row: ConnectorRow, expected_version: int) -> bool:
        done = self._conn.execute(
            update(sync_connectors)
            .where(_c.id == row.id, _c.version == expected_version)
            .values(
                config=row.config,
                secrets_enc=row.secrets_enc,
                inbound_scheme=row.inbound_scheme,
                status=row.status,
                version=row.version,
                updated_at=row.updated_at,
            )
        )
        return done.rowcount == 1

    # -- cursors ---------------------------------------------------------------------

    def cursor(self, connector_id: int, object_type: str) -> str:
        t = sync_cursors.c
        found = self._conn.execute(
            select(t.cursor).where(t.connector_id == connector_id, t.object_type == object_type)
        ).scalar_one_or_none()
        return found or ""

    def lock_cursor(self, connector_id: int, object_type: str) -> str:
        t = sync_cursors.c
        stmt = upsert(self._conn, sync_cursors).values(
            connector_id=connector_id, object_type=object_type, cursor="", updated_at=_EPOCH
        )
        self._conn.execute(
            stmt.on_conflict_do_nothing(index_elements=[t.connector_id, t.object_type])
        )
        found = select(t.cursor).where(t.connector_id == connector_id, t.object_type == object_type)
        if self._conn.dialect.name == "postgresql":
            found = found.with_for_update()
        return str(self._conn.execute(found).scalar_one())

    def set_cursor(self, connector_id: int, object_type: str, cursor: str, at: datetime) -> None:
        t = sync_cursors.c
        stmt = upsert(self._conn, sync_cursors).values(
            connector_id=connector_id, object_type=object_type, cursor=cursor, updated_at=at
        )
        self._conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[t.connector_id, t.object_type],
                set_={"cursor": cursor, "updated_at": at},
            )
        )

    # -- links -----------------------------------------------------------------------

    def links(
        self, connector_id: int, object_type: str, external_ids: Sequence[str]
    ) -> dict[str, LinkRow]:
        found: dict[str, LinkRow] = {}
        ids = list(dict.fromkeys(external_ids))
        for start in range(0, len(ids), _CHUNK):
            stmt = select(sync_links).where(
                _l.connector_id == connector_id,
                _l.object_type == object_type,
                _l.external_id.in_(ids[start : start + _CHUNK]),
            )
            found |= {r.external_id: _link(r) for r in self._conn.execute(stmt)}
        return found

    def links_of_local(
        self, connector_id: int, object_type: str, local_ids: Sequence[int]
    ) -> dict[int, LinkRow]:
        found: dict[int, LinkRow] = {}
        ids = list(dict.fromkeys(local_ids))
        for start in range(0, len(ids), _CHUNK):
            stmt = select(sync_links).where(
                _l.connector_id == connector_id,
                _l.object_type == object_type,
                _l.local_id.in_(ids[start : start + _CHUNK]),
                _l.merge_id.is_(None),
            )
            found |= {int(r.local_id): _link(r) for r in self._conn.execute(stmt)}
        return found

    def link_ids(self, connector_id: int, object_type: str) -> list[tuple[str, int]]:
        stmt = (
            select(_l.external_id, _l.local_id)
            .where(_l.connector_id == connector_id, _l.object_type == object_type)
            .order_by(_l.external_id)
        )
        return [(str(external), int(local)) for external, local in self._conn.execute(stmt)]

    def account_ids(self, connector_id: int, object_type: str) -> dict[int, str]:
        stmt = select(_l.local_id, _l.external_id).where(
            _l.connector_id == connector_id, _l.object_type == object_type, _l.merge_id.is_(None)
        )
        return {int(local): str(external) for local, external in self._conn.execute(stmt)}

    def save_link(self, row: LinkRow) -> None:
        values = {
            "local_id": row.local_id,
            "remote_version": row.remote_version[:100],
            "local_version": row.local_version,
            "base": json.dumps(dict(row.base), sort_keys=True),
            "synced_at": row.synced_at,
        }
        key = {
            "connector_id": row.connector_id,
            "object_type": row.object_type,
            "external_id": row.external_id,
        }
        stmt = upsert(self._conn, sync_links).values(key | values)
        self._conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[_l.connector_id, _l.object_type, _l.external_id], set_=values
            )
        )

    # -- runs and their log ----------------------------------------------------------

    def add_run(self, row: RunRow) -> int:
        stmt = insert(sync_runs).values(
            connector_id=row.connector_id,
            object_type=row.object_type,
            mode=row.mode,
            actor=row.actor,
            started_at=row.started_at,
            **_run_values(row),
        )
        return int(self._conn.execute(stmt.returning(sync_runs.c.id)).scalar_one())

    def finish_run(self, row: RunRow) -> None:
        self._conn.execute(
            update(sync_runs).where(sync_runs.c.id == row.id).values(_run_values(row))
        )

    def run(self, run_id: int) -> RunRow | None:
        row = self._conn.execute(select(sync_runs).where(sync_runs.c.id == run_id)).first()
        return None if row is None else _run(row)

    def runs(self, connector_id: int | None, before: int | None, limit: int) -> list[RunRow]:
        t = sync_runs.c
        stmt = select(sync_runs).order_by(t.id.desc()).limit(limit)
        if connector_id is not None:
            stmt = stmt.where(t.connector_id == connector_id)
        if before is not None:
            stmt = stmt.where(t.id < before)
        return [_run(r) for r in self._conn.execute(stmt)]

    def last_started(self, connector_id: int, mode: str) -> datetime | None:
        t = sync_runs.c
        found = self._conn.execute(
            select(func.max(t.started_at)).where(t.connector_id == connector_id, t.mode == mode)
        ).scalar_one()
        return aware(found)

    def add_log(self, rows: Sequence[LogRow]) -> None:
        if rows:
            self._conn.execute(
                insert(sync_log),
                [
                    {
                        "run_id": r.run_id,
                        "external_id": r.external_id[:200],
                        "local_id": r.local_id,
                        "outcome": r.outcome,
                        "reason": r.reason[:500],
                        "fields": ",".join(r.fields),
                    }
                    for r in rows
                ],
            )

    def log(self, run_id: int, after: int | None, limit: int) -> list[LogRow]:
        t = sync_log.c
        stmt = select(sync_log).where(t.run_id == run_id).order_by(t.id).limit(limit)
        if after is not None:
            stmt = stmt.where(t.id > after)
        return [
            LogRow(
                run_id=int(r.run_id),
                external_id=r.external_id,
                local_id=r.local_id,
                outcome=r.outcome,
                reason=r.reason,
                fields=tuple(f for f in r.fields.split(",") if f),
                id=int(r.id),
            )
            for r in self._conn.execute(stmt)
        ]

    # -- conflicts -------------------------------------------------------------------

    def open_conflict(self, row: ConflictRow) -> int:
        same = and_(
            _k.status == "open",
            _k.connector_id == row.connector_id,
            _k.object_type == row.object_type,
            _k.external_id == row.external_id,
            _k.field == row.field,
        )
        found = self._conn.execute(select(_k.id).where(same)).scalar_one_or_none()
        values = {"remote_enc": row.remote_enc, "remote_version": row.remote_version}
        if found is not None:
            self._conn.execute(update(sync_conflicts).where(_k.id == found).values(values))
            return int(found)
        stmt = insert(sync_conflicts).values(
            connector_id=row.connector_id,
            object_type=row.object_type,
            external_id=row.external_id,
            local_id=row.local_id,
            field=row.field,
            status="open",
            created_at=row.created_at,
            **values,
        )
        return int(self._conn.execute(stmt.returning(_k.id)).scalar_one())

    def set_conflict_value(self, conflict_id: int, remote_enc: str) -> None:
        self._conn.execute(
            update(sync_conflicts).where(_k.id == conflict_id).values(remote_enc=remote_enc)
        )

    def conflicts(
        self, connector_id: int | None, status: str | None, after: int | None, limit: int
    ) -> list[ConflictRow]:
        stmt = select(sync_conflicts).order_by(_k.id).limit(limit)
        if connector_id is not None:
            stmt = stmt.where(_k.connector_id == connector_id)
        if status is not None:
            stmt = stmt.where(_k.status == status)
        if after is not None:
            stmt = stmt.where(_k.id > after)
        return [_conflict(r) for r in self._conn.execute(stmt)]

    def conflict(self, conflict_id: int) -> ConflictRow | None:
        row = self._conn.execute(select(sync_conflicts).where(_k.id == conflict_id)).first()
        return None if row is None else _conflict(row)

    def open_fields(self, connector_id: int, object_type: str, external_id: str) -> set[str]:
        stmt = select(_k.field).where(
            _k.status == "open",
            _k.connector_id == connector_id,
            _k.object_type == object_type,
            _k.external_id == external_id,
        )
        return {f for (f,) in self._conn.execute(stmt)}

    def close_conflict(self, conflict_id: int, status: str, by: str, at: datetime) -> bool:
        done = self._conn.execute(
            update(sync_conflicts)
            .where(_k.id == conflict_id, _k.status == "open")
            .values(status=status, decided_by=by, decided_at=at)
        )
        return done.rowcount == 1

    # -- the push queue --------------------------------------------------------------

    def queue_push(
        self, connector_id: int, object_type: str, local_ids: Sequence[int], at: datetime
    ) -> None:
        t = sync_pending.c
        ids = sorted(set(local_ids))
        for start in range(0, len(ids), _CHUNK):
            rows = [
                {
                    "connector_id": connector_id,
                    "object_type": object_type,
                    "local_id": i,
                    "queued_at": at,
                }
                for i in ids[start : start + _CHUNK]
            ]
            stmt = upsert(self._conn, sync_pending).values(rows)
            self._conn.execute(
                stmt.on_conflict_do_nothing(
                    index_elements=[t.connector_id, t.object_type, t.local_id]
                )
            )

    def queued(self, connector_id: int, object_type: str, limit: int) -> list[int]:
        t = sync_pending.c
        stmt = (
            select(t.local_id)
            .where(t.connector_id == connector_id, t.object_type == object_type)
            .order_by(t.local_id)
            .limit(limit)
        )
        return [int(i) for (i,) in self._conn.execute(stmt)]

    def unqueue(self, connector_id: int, object_type: str, local_ids: Sequence[int]) -> None:
        t = sync_pending.c
        ids = list(local_ids)
        for start in range(0, len(ids), _CHUNK):
            self._conn.execute(
                delete(sync_pending).where(
                    t.connector_id == connector_id,
                    t.object_type == object_type,
                    t.local_id.in_(ids[start : start + _CHUNK]),
                )
            )

    def invoices(self, after: int, limit: int) -> list[InvoiceTotal]:
        d = billing_documents.c
        stmt = (
            select(d.id, d.number, d.party_id, d.currency, d.gross_minor, d.status, d.issued_on)
            .where(d.kind == "invoice", d.status != "draft", d.id > after)
            .order_by(d.id)
            .limit(limit)
        )
        return [
            InvoiceTotal(int(i), n or "", int(p), c, int(g), s, o)
            for i, n, p, c, g, s, o in self._conn.execute(stmt).all()
        ]
