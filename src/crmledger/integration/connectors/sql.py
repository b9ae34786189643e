"""The SQL connector: tables of another system's database (MariaDB, PostgreSQL, anything
SQLAlchemy reaches), mapped column by column in the connector's configuration.

A table is read in ``(version, id)`` order after the cursor, the version column being the
row's last-change time (or a counter); pushing updates the row by its id, or inserts it,
and moves its version on. The password lives with the connector's secrets, never in the
stored URL::

    {"url": "mysql+pymysql://crm@db.example.com/crm",
     "objects": {"customer": {"source": "customers", "id": "id", "version": "updated_at",
                              "fields": {"name": "company", "email": "email"}}},
     "push": true, "push_new": true}
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    Table,
    and_,
    create_engine,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, NoSuchTableError, SQLAlchemyError

from crmledger.core.errors import InvalidFieldError
from crmledger.services.sync_config import ConnectorSpec, ObjectSpec
from crmledger.services.sync_ports import OutboundChange, Page, PushResult, RemoteChange


def text_of(value: Any) -> str:
    """A cell as the text the sync compares (ISO dates, plain decimals, ``""`` for NULL)."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value).strip()


class SqlConnector:
    """A :class:`~crmledger.services.sync_ports.Connector` over database tables."""

    def __init__(self, spec: ConnectorSpec) -> None:
        url = spec.options.get("url")
        if not url:
            raise InvalidFieldError("url", "a sql connector needs the database URL")
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise InvalidFieldError("url", "not a database URL") from None
        if parsed.password:
            raise InvalidFieldError("url", "keep the password in the secrets, not in the URL")
        password = spec.secrets.get("password")
        self._url = parsed.set(password=password) if password else parsed
        self._spec, self._schema = spec, spec.options.get("schema") or None
        self._engine: Engine | None = None
        self._tables: dict[str, Table] = {}

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            try:
                self._engine = create_engine(self._url, pool_pre_ping=True)
            except (ArgumentError, NoSuchModuleError) as exc:
                raise InvalidFieldError("url", f"cannot use this database: {exc}") from None
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    def _table(self, spec: ObjectSpec) -> Table:
        found = self._tables.get(spec.name)
        if found is None:
            try:
                found = Table(
                    spec.source, MetaData(), schema=self._schema, autoload_with=self.engine
                )
            except NoSuchTableError:
                raise InvalidFieldError(
                    "source", f"the database has no table {spec.source!r}"
                ) from None
            except SQLAlchemyError as exc:
                raise InvalidFieldError("url", f"{type(exc).__name__}: {exc.args[0]}") from None
            columns = [spec.id, *spec.fields.values()] + ([spec.version] if spec.version else [])
            missing = [c for c in columns if c not in found.c]
            if missing:
                raise InvalidFieldError("fields", f"{spec.source} has no column {missing[0]!r}")
            self._tables[spec.name] = found
        return found

    def _change(self, spec: ObjectSpec, row: Any) -> RemoteChange:
        values = {field: text_of(row._mapping[column]) for field, column in spec.fields.items()}
        version = text_of(row._mapping[spec.version]) if spec.version else ""
        return RemoteChange(text_of(row._mapping[spec.id]), version, values)

    @staticmethod
    def _typed(column: Column[Any], text: str) -> Any:
        kind = column.type.python_type
        if kind is datetime:
            return datetime.fromisoformat(text)
        if kind is date:
            return date.fromisoformat(text)
        return kind(text)

    def fetch(self, object_type: str, cursor: str, limit: int) -> Page:
        spec = self._spec.object(object_type)
        if not spec.version:
            raise InvalidFieldError(
                "version", f"{spec.source}: name the column that tells a change"
            )
        table = self._table(spec)
        version, ident = table.c[spec.version], table.c[spec.id]
        stmt = select(table).order_by(version, ident).limit(limit)
        if cursor:
            last = json.loads(cursor)
            v, i = self._typed(version, last["v"]), self._typed(ident, last["id"])
            stmt = stmt.where(or_(version > v, and_(version == v, ident > i)))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        if not rows:
            return Page((), cursor)
        changes = tuple(self._change(spec, r) for r in rows)
        tail = rows[-1]._mapping
        after = json.dumps({"v": text_of(tail[spec.version]), "id": text_of(tail[spec.id])})
        return Page(changes, after, more=len(rows) == limit)

    def _next_version(self, table: Table, spec: ObjectSpec) -> Any:
        column = table.c[spec.version]
        if column.type.python_type is datetime:
            stamp = datetime.now(UTC).replace(microsecond=0)
            timezone = bool(getattr(column.type, "timezone", False))
            return stamp if timezone else stamp.replace(tzinfo=None)
        return column + 1

    def _write(self, table: Table, spec: ObjectSpec, change: OutboundChange) -> PushResult:
        values: dict[str, Any] = {
            spec.fields[f]: (v if v != "" else None)
            for f, v in change.values.items()
            if f in spec.fields
        }
        if spec.version:
            values[spec.version] = self._next_version(table, spec)
        key = self._typed(table.c[spec.id], change.external_id)
        with self.engine.begin() as conn:
            done = conn.execute(update(table).where(table.c[spec.id] == key).values(values))
            if done.rowcount == 0:
                if not change.new:
                    return PushResult(change.external_id, False, error="no such record outside")
                if spec.version and not isinstance(values[spec.version], datetime):
                    values[spec.version] = 1
                conn.execute(insert(table).values({spec.id: key, **values}))
            version = ""
            if spec.version:
                found = conn.execute(select(table.c[spec.version]).where(table.c[spec.id] == key))
                version = text_of(found.scalar_one())
        return PushResult(change.external_id, True, version=version)

    def push(self, object_type: str, changes: Sequence[OutboundChange]) -> list[PushResult]:
        spec = self._spec.object(object_type)
        table = self._table(spec)
        results = []
        for change in changes:
            try:
                results.append(self._write(table, spec, change))
            except (SQLAlchemyError, ValueError) as exc:
                reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
                results.append(PushResult(change.external_id, False, error=reason))
        return results

    def snapshot(self, object_type: str) -> Iterator[RemoteChange]:
        spec = self._spec.object(object_type)
        table = self._table(spec)
        with self.engine.connect() as conn:
            rows = conn.execution_options(yield_per=5000).execute(select(table))
            for row in rows:
                yield self._change(spec, row)
