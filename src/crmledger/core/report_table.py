"""Any report as one table of typed cells, the shape every export format writes.

A cell is text, a number (``Decimal``, never a float), a date or empty; each column says
which, and a number column how many decimal places it shows. A row has a style (a section
heading, a figure, a total, a result) that formats may show but never need::

    >>> table = ReportTable("Trial balance", "as of 2026-06-30",
    ...     (TableColumn("account", "Account"), TableColumn("balance", "Balance", NUMBER, 2)),
    ...     (("Assets:Cash", Decimal("600.00")),), ("",))
    >>> table.rows[0][1]
    Decimal('600.00')
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from crmledger.core.reports import TrialBalance
from crmledger.core.statements import RowKind, Statement

TEXT = "text"
NUMBER = "number"
DATE = "date"

Cell = str | Decimal | date | int | None


@dataclass(frozen=True, slots=True)
class TableColumn:
    """A column: its key, its heading, the kind of its cells, and the decimal places of a
    number column (``None``: as many as each number has)."""

    key: str
    label: str
    kind: str = TEXT
    scale: int | None = None


@dataclass(frozen=True, slots=True)
class ReportTable:
    """A titled table; ``styles`` has one entry per row (``""``, ``heading``, ``item``,
    ``total`` or ``result``)."""

    title: str
    subtitle: str
    columns: tuple[TableColumn, ...]
    rows: tuple[tuple[Cell, ...], ...]
    styles: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        assert len(self.styles) == len(self.rows)
        assert all(len(row) == len(self.columns) for row in self.rows)


def statement_table(statement: Statement) -> ReportTable:
    """A statement as a table: the line, then an amount per column (empty on headings)."""
    columns = (
        TableColumn("line", "Line"),
        *(
            TableColumn(f"c{i}", column.label, NUMBER, statement.scale)
            for i, column in enumerate(statement.columns)
        ),
    )
    rows: list[tuple[Cell, ...]] = []
    styles: list[str] = []
    for row in statement.rows:
        amounts: tuple[Cell, ...] = (
            tuple(row.amounts) if row.kind is not RowKind.HEADING else (None,) * len(columns[1:])
        )
        rows.append((row.label, *amounts))
        styles.append(row.kind.value)
    last = statement.columns[0]
    subtitle = (
        f"as of {last.end.isoformat()}"
        if statement.kind == "balance_sheet"
        else f"{last.start.isoformat()} to {last.end.isoformat()}"
    )
    return ReportTable(
        f"{statement.title} ({statement.currency})",
        subtitle,
        columns,
        tuple(rows),
        tuple(styles),
        statement.notes,
    )


def trial_balance_table(tb: TrialBalance) -> ReportTable:
    """A trial balance as a table, with a total row per commodity."""
    columns = (
        TableColumn("account", "Account"),
        TableColumn("commodity", "Commodity"),
        TableColumn("debit", "Debit", NUMBER),
        TableColumn("credit", "Credit", NUMBER),
        TableColumn("balance", "Balance", NUMBER),
    )
    rows: list[tuple[Cell, ...]] = [
        (r.account, r.commodity, r.debit, r.credit, r.balance) for r in tb.rows
    ]
    totals = [(f"Total {c}", c, t.debit, t.credit, t.balance) for c, t in tb.totals().items()]
    moved: list[tuple[Cell, ...]] = [
        (f"Conversions {c}", c, None, None, v) for c, v in tb.conversions
    ]
    styles = ("item",) * len(rows) + ("total",) * (len(totals) + len(moved))
    subtitle = f"as of {tb.as_of.isoformat()}" if tb.as_of else "all entries"
    return ReportTable("Trial balance", subtitle, columns, (*rows, *totals, *moved), styles)
