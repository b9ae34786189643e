"""Fusion sources in any SQL database SQLAlchemy reaches: a table or a query.

::

    source = SqlSource("erp", "mysql+pymysql://root@127.0.0.1/test", table="KUNDEN")
    for chunk in source.chunks(5000):
        ...

A table is read in primary-key order (so a row keeps its number from run to run), a query
in the order it gives; rows are streamed (server-side cursors where the driver has them)
and numbered from 1. Cells become text as every fusion source gives them: CHAR padding is
kept (the profile shows it, cleaning trims it), dates in ISO form, NULL as ``None``.

The URL is the caller's; it is never stored with its password (:func:`redacted`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, MetaData, Table, create_engine, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, NoSuchTableError, SQLAlchemyError

from crmledger.fusion.records import SourceRecord
from crmledger.fusion.sources import DEFAULT_CHUNK, SourceError, SourceSpec, cell


def redacted(url: str) -> str:
    """``url`` with its password masked, for logs and stored run configurations."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<not a database URL>"


@dataclass(frozen=True, slots=True)
class SqlSource:
    """A table (``table``, optionally in ``schema``) or a ``query`` of the database at
    ``url``."""

    name: str
    url: str
    table: str | None = None
    query: str | None = None
    schema: str | None = None

    def _engine(self) -> Engine:
        try:
            return create_engine(self.url)
        except (ArgumentError, NoSuchModuleError) as exc:
            raise SourceError(f"{self.name}: cannot use {redacted(self.url)}: {exc}") from None

    def _statement(self, engine: Engine) -> object:
        if self.query is not None:
            return text(self.query)
        if self.table is None:
            raise SourceError(f"{self.name}: an sql source needs a 'table' or a 'query'")
        try:
            table = Table(self.table, MetaData(), schema=self.schema, autoload_with=engine)
        except NoSuchTableError:
            raise SourceError(f"{self.name}: the database has no table {self.table!r}") from None
        keys = list(table.primary_key.columns) or list(table.columns)[:1]
        return select(table).order_by(*keys)

    def columns(self) -> list[str]:
        engine = self._engine()
        try:
            if self.query is None and self.table is not None:
                found = inspect(engine).get_columns(self.table, schema=self.schema)
                return [str(c["name"]) for c in found]
            with engine.connect() as conn:
                return list(conn.execute(text(self.query or "")).keys())
        except SQLAlchemyError as exc:
            raise SourceError(f"{self.name}: {exc.__class__.__name__}: {exc.args[0]}") from None
        finally:
            engine.dispose()

    def chunks(self, size: int = DEFAULT_CHUNK) -> Iterator[list[SourceRecord]]:
        engine = self._engine()
        try:
            with engine.connect() as conn:
                statement = self._statement(engine)
                result = conn.execution_options(stream_results=True, yield_per=size).execute(
                    statement  # type: ignore[call-overload]
                )
                names = list(result.keys())
                number = 0
                for rows in result.partitions(size):
                    chunk = []
                    for row in rows:
                        number += 1
                        raw = {n: cell(v) for n, v in zip(names, row, strict=True)}
                        chunk.append(SourceRecord(self.name, number, raw))
                    yield chunk
        except SQLAlchemyError as exc:
            raise SourceError(f"{self.name}: {exc.__class__.__name__}: {exc.args[0]}") from None
        finally:
            engine.dispose()


def open_sql(spec: SourceSpec, base: Path) -> SqlSource:
    """The ``sql`` opener for :func:`crmledger.fusion.sources.open_source`."""
    del base
    url = spec.options.get("url")
    if not isinstance(url, str) or not url:
        raise SourceError(f"{spec.name}: an sql source needs a 'url'")
    table, query, schema = (spec.options.get(k) for k in ("table", "query", "schema"))
    if (table is None) == (query is None):
        raise SourceError(f"{spec.name}: an sql source needs either a 'table' or a 'query'")
    return SqlSource(
        spec.name,
        url,
        None if table is None else str(table),
        None if query is None else str(query),
        None if schema is None else str(schema),
    )
