"""An aging report as a :class:`~crmledger.core.report_table.ReportTable`, the shape every
export format writes.

The summary has a row per party (its buckets, unapplied credit and total) and a total row;
the detailed table lists each party's open items under it, with the document, its days,
its currency amount and its bucket, and a total row per party::

    Party        Current   1-30    31-60  61-90  Over 90  Unapplied credit  Total
    Acme GmbH     119.00  50.00     0.00   0.00     0.00            -10.00  159.00
    Total         119.00  50.00     0.00   0.00     0.00            -10.00  159.00
"""

from __future__ import annotations

from decimal import Decimal

from crmledger.core.aging import AgedItem, AgedParty, AgingReport
from crmledger.core.report_table import DATE, NUMBER, Cell, ReportTable, TableColumn

TITLES = {"receivable": "Receivables aging", "payable": "Payables aging"}


def _amount_columns(report: AgingReport) -> tuple[TableColumn, ...]:
    scale = report.scale
    return (
        *(TableColumn(f"b{b.index}", b.label, NUMBER, scale) for b in report.buckets),
        TableColumn("credit", "Unapplied credit", NUMBER, scale),
        TableColumn("total", "Total", NUMBER, scale),
    )


def _amounts(buckets: tuple[Decimal, ...], credit: Decimal, total: Decimal) -> tuple[Cell, ...]:
    return (*buckets, credit, total)


def _item_amounts(item: AgedItem, size: int) -> tuple[Cell, ...]:
    cells: list[Cell] = [None] * size
    if item.bucket is not None:
        cells[item.bucket] = item.base
    credit = item.base if item.bucket is None else None
    return (*cells, credit, item.base)


def _title(report: AgingReport) -> tuple[str, str]:
    title = f"{TITLES[report.kind]} ({report.currency})"
    days = ", ".join(str(b) for b in report.bounds)
    return title, f"as of {report.as_of.isoformat()}, buckets by days overdue: {days}"


def aging_table(report: AgingReport) -> ReportTable:
    """A row per party and a total row."""
    columns = (TableColumn("party", "Party"), *_amount_columns(report))
    rows: list[tuple[Cell, ...]] = [
        (p.name, *_amounts(p.buckets, p.credit, p.total)) for p in report.parties
    ]
    rows.append(("Total", *_amounts(report.totals, report.credit, report.total)))
    styles = ("item",) * len(report.parties) + ("total",)
    title, subtitle = _title(report)
    return ReportTable(title, subtitle, columns, tuple(rows), styles, report.notes)


_ITEM_COLUMNS = (
    TableColumn("party", "Party"),
    TableColumn("document", "Document"),
    TableColumn("date", "Date", DATE),
    TableColumn("due", "Due", DATE),
    TableColumn("days", "Days overdue", NUMBER, 0),
    TableColumn("currency", "Currency"),
    TableColumn("open", "Open", NUMBER),
)


def _party_rows(party: AgedParty, size: int) -> list[tuple[tuple[Cell, ...], str]]:
    rows: list[tuple[tuple[Cell, ...], str]] = [
        (
            (
                party.name,
                item.number,
                item.day,
                item.due_on,
                item.days_overdue,
                item.currency,
                item.open,
                *_item_amounts(item, size),
            ),
            "item",
        )
        for item in party.items
    ]
    total = (f"Total {party.name}", None, None, None, None, None, None)
    rows.append(((*total, *_amounts(party.buckets, party.credit, party.total)), "total"))
    return rows


def aging_detail_table(report: AgingReport) -> ReportTable:
    """Each party's open items, a total row per party and a grand total row."""
    columns = (*_ITEM_COLUMNS, *_amount_columns(report))
    size = len(report.buckets)
    pairs = [row for party in report.parties for row in _party_rows(party, size)]
    grand = ("Total", None, None, None, None, None, None)
    pairs.append(((*grand, *_amounts(report.totals, report.credit, report.total)), "result"))
    title, subtitle = _title(report)
    return ReportTable(
        title,
        subtitle,
        columns,
        tuple(r for r, _ in pairs),
        tuple(s for _, s in pairs),
        report.notes,
    )
