"""``StatementStore`` on SQLAlchemy Core: the sums behind the statements (see
:mod:`crmledger.persistence.ledger_reads`), cash-flow class overrides, layouts and
year-end closes, in the unit of work's connection."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from crmledger.persistence.access_store import aware
from crmledger.persistence.ledger_reads import (
    day_values,
    drill_rows,
    journal_values,
    month_values,
    recompute_base_conversions,
    stored_base_conversions,
)
from crmledger.persistence.statement_tables import (
    statement_flow_classes,
    statement_layouts,
    year_closes,
)
from crmledger.persistence.tables import accounts, settings
from crmledger.services.statement_ports import CloseRow, DrillQuery, DrillRow, ValueRow

_y = year_closes.c


def _close(row: Row[Any]) -> CloseRow:
    closed_at = aware(row.closed_at)
    assert closed_at is not None
    return CloseRow(
        id=row.id,
        year=row.year,
        entry_id=row.entry_id,
        previous_lock=row.previous_lock,
        closed_at=closed_at,
        closed_by=row.closed_by,
        reopened_at=aware(row.reopened_at),
        reopened_by=row.reopened_by,
        reversal_id=row.reversal_id,
    )


class SqlStatementStore:
    """The statements' reads and tables in one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def month_values(self, base: str, until_period: int) -> list[ValueRow]:
        return month_values(self._conn, base, until_period)

    def day_values(self, base: str, start: date, end: date) -> list[ValueRow]:
        return day_values(self._conn, base, start, end)

    def journal_values(self, base: str, journals: Sequence[str], until: date) -> list[ValueRow]:
        return journal_values(self._conn, base, journals, until)

    def drill(self, base: str, query: DrillQuery) -> list[DrillRow]:
        return drill_rows(self._conn, base, query)

    def flow_classes(self) -> dict[str, str]:
        f, a = statement_flow_classes.c, accounts.c
        rows = self._conn.execute(
            select(a.name, f.flow_class).select_from(
                statement_flow_classes.join(accounts, a.id == f.account_id)
            )
        )
        return {name: flow for name, flow in rows}

    def set_flow_class(self, account_id: int, flow_class: str | None) -> None:
        f = statement_flow_classes.c
        self._conn.execute(delete(statement_flow_classes).where(f.account_id == account_id))
        if flow_class is not None:
            self._conn.execute(
                insert(statement_flow_classes).values(account_id=account_id, flow_class=flow_class)
            )

    def layouts(self) -> dict[str, str]:
        rows = self._conn.execute(select(statement_layouts.c.name, statement_layouts.c.rules))
        return {name: rules for name, rules in rows}

    def save_layout(self, name: str, rules: str) -> None:
        c = statement_layouts.c
        changed = self._conn.execute(
            update(statement_layouts).where(c.name == name).values(rules=rules)
        )
        if changed.rowcount == 0:
            self._conn.execute(insert(statement_layouts).values(name=name, rules=rules))

    def delete_layout(self, name: str) -> bool:
        gone = self._conn.execute(delete(statement_layouts).where(statement_layouts.c.name == name))
        return bool(gone.rowcount)

    def closes(self) -> list[CloseRow]:
        rows = self._conn.execute(select(year_closes).order_by(_y.year, _y.id))
        return [_close(row) for row in rows]

    def add_close(
        self,
        year: int,
        entry_id: int | None,
        previous_lock: date | None,
        at: datetime,
        by: str,
    ) -> int:
        result = self._conn.execute(
            insert(year_closes).values(
                year=year,
                entry_id=entry_id,
                previous_lock=previous_lock,
                closed_at=at,
                closed_by=by,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def mark_reopened(self, close_id: int, at: datetime, by: str, reversal_id: int | None) -> None:
        self._conn.execute(
            update(year_closes)
            .where(_y.id == close_id, _y.reopened_at.is_(None))
            .values(reopened_at=at, reopened_by=by, reversal_id=reversal_id)
        )

    def clear_lock(self) -> None:
        self._conn.execute(delete(settings).where(settings.c.key == "lock_date"))

    def stored_base_conversions(self) -> dict[tuple[int, str, int], tuple[int, int]]:
        return stored_base_conversions(self._conn)

    def recompute_base_conversions(self, base: str) -> dict[tuple[int, str, int], tuple[int, int]]:
        return recompute_base_conversions(self._conn, base)
