"""Bodies of the financial statements, their drill-down and the year-end close.

A statement is columns and rows; each figure row says which accounts and which days make
it in each column, and links to the drill-down that lists those entries::

    GET /reports/income-statement?from=2026-01-01&to=2026-12-31&compare=previous
        {"kind": "income_statement", "currency": "EUR",
         "columns": [{"label": "2026", "from": "2026-01-01", "to": "2026-12-31"}, ...],
         "rows": [{"key": "net_result", "label": "Net result", "kind": "result",
                   "amounts": ["450.00", "380.00"],
                   "drilldown": {"accounts": [...], "periods": [...], "links": [...]}}]}
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, Self
from urllib.parse import urlencode

from pydantic import BaseModel, Field

from crmledger.api.schemas import money
from crmledger.core.statements import CLOSING_JOURNAL, Column, Row, Statement
from crmledger.services.statements import DrillPosting
from crmledger.services.year_close import YearClose

DRILL_PATH = "/api/v1/reports/drilldown"


class StatementColumnPublic(BaseModel):
    """A column: the period asked for, or one it is compared with."""

    label: str
    start: dt.date = Field(serialization_alias="from")
    end: dt.date = Field(serialization_alias="to")


class DrillPeriodPublic(BaseModel):
    """The days a figure sums in one column (``from`` null: since the beginning)."""

    start: dt.date | None = Field(serialization_alias="from")
    end: dt.date = Field(serialization_alias="to")


class DrilldownPublic(BaseModel):
    """The entries behind a figure: postings to ``accounts`` in each column's period, in
    ``journals`` only when given, never in ``exclude_journals``; ``links`` holds the
    drill-down URL of each column."""

    accounts: list[str]
    journals: list[str]
    exclude_journals: list[str]
    periods: list[DrillPeriodPublic]
    links: list[str]


class StatementRowPublic(BaseModel):
    """A row: a heading (no amounts), a figure, a section total or a result."""

    key: str
    label: str
    kind: Literal["heading", "item", "total", "result"]
    amounts: list[str]
    drilldown: DrilldownPublic | None


class StatementPublic(BaseModel):
    """A statement in the base ``currency``; ``notes`` name what it leaves out."""

    kind: Literal["income_statement", "balance_sheet", "cash_flow"]
    title: str
    currency: str
    columns: list[StatementColumnPublic]
    rows: list[StatementRowPublic]
    notes: list[str]

    @classmethod
    def of(cls, statement: Statement) -> Self:
        """The API view of a statement."""
        return cls(
            kind=statement.kind,  # type: ignore[arg-type]
            title=statement.title,
            currency=statement.currency,
            columns=[
                StatementColumnPublic(label=c.label, start=c.start, end=c.end)
                for c in statement.columns
            ],
            rows=[_row(row, statement.columns) for row in statement.rows],
            notes=list(statement.notes),
        )


def drill_link(
    accounts: tuple[str, ...],
    start: dt.date | None,
    end: dt.date,
    journals: tuple[str, ...],
    exclude: tuple[str, ...],
) -> str:
    """The drill-down URL of one figure in one column."""
    params: list[tuple[str, str]] = [("accounts", a) for a in accounts]
    if start is not None:
        params.append(("from", start.isoformat()))
    params.append(("to", end.isoformat()))
    params += [("journal", j) for j in journals]
    params += [("exclude_journal", j) for j in exclude if j != CLOSING_JOURNAL]
    if CLOSING_JOURNAL not in exclude:
        params.append(("include_closing", "true"))
    return f"{DRILL_PATH}?{urlencode(params)}"


def _row(row: Row, columns: tuple[Column, ...]) -> StatementRowPublic:
    drill = None
    if row.drill is not None and row.drill.accounts:
        windows = [c.window(row.drill.span) for c in columns]
        drill = DrilldownPublic(
            accounts=list(row.drill.accounts),
            journals=list(row.drill.journals),
            exclude_journals=list(row.drill.exclude),
            periods=[DrillPeriodPublic(start=s, end=e) for s, e in windows],
            links=[
                drill_link(row.drill.accounts, s, e, row.drill.journals, row.drill.exclude)
                for s, e in windows
            ],
        )
    return StatementRowPublic(
        key=row.key,
        label=row.label,
        kind=row.kind.value,
        amounts=[money(a) for a in row.amounts],
        drilldown=drill,
    )


class DrillPostingPublic(BaseModel):
    """A posting behind a figure; ``base_amount`` is its value in the base currency
    (null when it has none)."""

    entry_id: int
    entry_number: str
    date: dt.date
    narration: str
    journal: str
    account: str
    commodity: str
    amount: str
    base_amount: str | None

    @classmethod
    def of(cls, p: DrillPosting) -> Self:
        """The API view of a posting."""
        return cls(
            entry_id=p.entry_id,
            entry_number=p.reference,
            date=p.date,
            narration=p.narration,
            journal=p.journal,
            account=p.account,
            commodity=p.commodity,
            amount=money(p.amount),
            base_amount=None if p.base is None else money(p.base),
        )


class DrillPagePublic(BaseModel):
    """A page of the postings behind a figure, whole entries at a time, by date; pass
    ``next_cursor`` as ``cursor`` for the next (null: no more)."""

    currency: str
    items: list[DrillPostingPublic]
    next_cursor: str | None


class YearClosePublic(BaseModel):
    """A close or reopening: the entry it posted (the closing entry, or its reversal;
    null when there was nothing to move), the year's result and the lock date after it."""

    year: int
    entry_id: int | None
    entry_number: str | None
    result: str
    currency: str
    lock_date: dt.date | None

    @classmethod
    def of(cls, done: YearClose) -> Self:
        """The API view of a close."""
        return cls(
            year=done.year,
            entry_id=done.entry.id if done.entry else None,
            entry_number=done.entry.ref if done.entry else None,
            result=money(done.result),
            currency=done.currency,
            lock_date=done.lock_date,
        )
