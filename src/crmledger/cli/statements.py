"""``crmledger report income-statement|balance-sheet|cash-flow|general-ledger|journal|
drilldown`` and ``crmledger period close|reopen|closes``.

Every report prints as a table, or writes JSON, CSV, XLSX or PDF (``--output FILE``; XLSX
and PDF need one)::

    crmledger report income-statement --from 2026-01-01 --to 2026-12-31 \\
        --compare previous,last-year
    crmledger report balance-sheet --as-of 2026-12-31 --compare last-year -f xlsx -o bs.xlsx
    crmledger report cash-flow --from 2026-01-01 --to 2026-12-31 -f pdf -o cash.pdf
    crmledger report drilldown Expenses:Rent --from 2026-01-01 --to 2026-12-31
    crmledger period close --year 2026      # CL/2026/1, locked up to 2026-12-31
    crmledger period reopen --year 2026

Amounts are in the base currency. ``--compare`` takes ``previous``, ``last-year`` and
``YYYY-MM-DD..YYYY-MM-DD``, comma-separated, one column each.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from crmledger.cli.render import console, dumps
from crmledger.cli.state import state
from crmledger.core.cash_flow import FlowClass
from crmledger.core.report_table import (
    DATE,
    NUMBER,
    Cell,
    ReportTable,
    TableColumn,
    statement_table,
)
from crmledger.core.statement_periods import Period
from crmledger.core.statements import Statement
from crmledger.formats.report_export import Charts, export
from crmledger.formats.statement_charts import statement_charts
from crmledger.services.errors import InvalidInputError
from crmledger.services.statements import DrillPage, LedgerSection


class ReportFormat(StrEnum):
    """How a report is printed or written."""

    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"
    pdf = "pdf"


ReportFormatOption = Annotated[
    ReportFormat, typer.Option("--format", "-f", help="table, json, csv, xlsx or pdf.")
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to FILE (needed for xlsx, pdf).")
]
FromOption = Annotated[str, typer.Option("--from", help="First day YYYY-MM-DD.")]
ToOption = Annotated[str, typer.Option("--to", help="Last day YYYY-MM-DD.")]
CompareOption = Annotated[
    str | None,
    typer.Option(
        "--compare", help="Comparison columns: previous, last-year, YYYY-MM-DD..YYYY-MM-DD."
    ),
]
DepthOption = Annotated[
    int | None,
    typer.Option("--depth", min=1, max=10, help="Group accounts by their first N segments."),
]
YearOption = Annotated[int, typer.Option("--year", min=1900, max=2999, help="Fiscal year.")]


def day(field: str, text: str) -> date:
    """``YYYY-MM-DD`` as a date; anything else names the option."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(field, f"{text!r} is not a date as YYYY-MM-DD") from None


def statement_document(statement: Statement) -> dict[str, Any]:
    """The JSON shape of a statement (amounts as decimal strings)."""
    return {
        "kind": statement.kind,
        "title": statement.title,
        "currency": statement.currency,
        "columns": [{"label": c.label, "from": c.start, "to": c.end} for c in statement.columns],
        "rows": [
            {
                "key": row.key,
                "label": row.label,
                "kind": row.kind.value,
                "amounts": list(row.amounts),
                "accounts": list(row.drill.accounts) if row.drill else [],
            }
            for row in statement.rows
        ],
        "notes": list(statement.notes),
    }


def _text(column: TableColumn, cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Decimal):
        return format(cell, ",f")
    return cell.isoformat() if isinstance(cell, date) else str(cell)


def print_table(table: ReportTable) -> None:
    """The table on the terminal: headings and totals in bold, items indented."""
    shown = Table(title=f"{table.title}\n{table.subtitle}")
    for column in table.columns:
        shown.add_column(column.label, justify="right" if column.kind == NUMBER else "left")
    for row, style in zip(table.rows, table.styles, strict=True):
        cells = [escape(_text(c, v)) for c, v in zip(table.columns, row, strict=True)]
        if style == "item" and table.columns[0].kind not in (NUMBER, DATE):
            cells[0] = "  " + cells[0]
        shown.add_row(*cells, style="bold" if style in ("heading", "total", "result") else None)
    console.print(shown)
    for note in table.notes:
        console.print(escape(note))


def write_report(
    table: ReportTable,
    document: Any,
    fmt: ReportFormat,
    output: Path | None,
    charts: Charts = (),
) -> None:
    """Print or write ``table`` (``document`` is its JSON) in ``fmt``; a PDF shows
    ``charts`` above the table."""
    if fmt is ReportFormat.table:
        print_table(table)
        return
    if fmt is ReportFormat.json:
        data = dumps(document).encode("utf-8") + b"\n"
    else:
        data = export(table, fmt.value, charts)
    if output is None:
        if fmt in (ReportFormat.xlsx, ReportFormat.pdf):
            raise InvalidInputError("output", f"{fmt.value} is written to a file: add --output")
        print(data.decode("utf-8"), end="")
        return
    output.write_bytes(data)
    console.print(f"Wrote {escape(str(output))} ({fmt.value}, {len(data)} bytes)")


def _statement(statement: Statement, fmt: ReportFormat, output: Path | None) -> None:
    charts = statement_charts(statement) if fmt is ReportFormat.pdf else ()
    write_report(statement_table(statement), statement_document(statement), fmt, output, charts)


def income_statement(
    start: FromOption,
    end: ToOption,
    compare: CompareOption = None,
    layout: Annotated[str, typer.Option(help="Statement layout (see report layout).")] = "default",
    depth: DepthOption = None,
    fmt: ReportFormatOption = ReportFormat.table,
    output: OutputOption = None,
) -> None:
    """Revenue, cost of sales, gross profit, operating expenses, operating result, other
    income and expenses, net result; closing entries are left out."""
    period = Period(day("from", start), day("to", end))
    found = state.app.statements.income_statement(period, compare, layout, depth)
    _statement(found, fmt, output)


def balance_sheet(
    as_of: Annotated[str, typer.Option("--as-of", help="Day YYYY-MM-DD.")],
    start: Annotated[
        str | None, typer.Option("--from", help="Period start for comparisons (1 Jan).")
    ] = None,
    compare: CompareOption = None,
    depth: DepthOption = None,
    fmt: ReportFormatOption = ReportFormat.table,
    output: OutputOption = None,
) -> None:
    """Assets, liabilities and equity (with the results of earlier years and of the year
    to date) at a day; assets equal liabilities plus equity."""
    first = day("from", start) if start else None
    found = state.app.statements.balance_sheet(day("as-of", as_of), compare, first, depth)
    _statement(found, fmt, output)


def cash_flow(
    start: FromOption,
    end: ToOption,
    compare: CompareOption = None,
    depth: DepthOption = None,
    fmt: ReportFormatOption = ReportFormat.table,
    output: OutputOption = None,
) -> None:
    """Cash flows from operating, investing and financing activities by the indirect
    method; their sum is the change in cash and bank accounts."""
    period = Period(day("from", start), day("to", end))
    _statement(state.app.statements.cash_flow(period, compare, depth), fmt, output)


_POSTING_COLUMNS = (
    TableColumn("date", "Date", DATE),
    TableColumn("entry", "Entry"),
    TableColumn("narration", "Narration"),
    TableColumn("account", "Account"),
    TableColumn("commodity", "Commodity"),
    TableColumn("amount", "Amount", NUMBER),
    TableColumn("base", "Base amount", NUMBER),
)


def _posting_row(p: Any) -> tuple[Cell, ...]:
    return (p.date, p.reference, p.narration, p.account, p.commodity, p.amount, p.base)


def _page_document(page: DrillPage) -> dict[str, Any]:
    keys = [c.key for c in _POSTING_COLUMNS]
    return {
        "accounts": list(page.accounts),
        "from": page.start,
        "to": page.end,
        "currency": page.currency,
        "postings": [dict(zip(keys, _posting_row(p), strict=True)) for p in page.postings],
    }


def drilldown(
    accounts: Annotated[list[str], typer.Argument(help="Accounts (with sub-accounts).")],
    start: Annotated[str | None, typer.Option("--from", help="First day.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day.")] = None,
    closing: Annotated[bool, typer.Option(help="Include closing entries (journal CL).")] = False,
    limit: Annotated[int, typer.Option(min=1, max=500, help="Entries to show.")] = 500,
    fmt: ReportFormatOption = ReportFormat.table,
    output: OutputOption = None,
) -> None:
    """The entries behind a figure: postings to ACCOUNTS in a period, by date."""
    page = state.app.statements.drilldown(
        accounts,
        day("from", start) if start else None,
        day("to", end) if end else None,
        exclude=() if closing else ("CL",),
        limit=limit,
    )
    rows = tuple(_posting_row(p) for p in page.postings)
    table = ReportTable(
        f"Entries of {', '.join(accounts)}",
        f"{start or 'the beginning'} to {end or 'the end'}, in {page.currency}",
        _POSTING_COLUMNS,
        rows,
        ("item",) * len(rows),
    )
    write_report(table, _page_document(page), fmt, output)


def journal(
    start: FromOption,
    end: ToOption,
    fmt: ReportFormatOption = ReportFormat.table,
    output: OutputOption = None,
) -> None:
    """Every posting of the period's entries, by date, closing entries included."""
    first, last = day("from", start), day("to", end)
    if last < first:
        raise InvalidInputError("to", "the period ends before it starts")
    postings: list[Any] = []
    after = None
    while True:
        page = state.app.statements.drilldown(None, first, last, exclude=(), after=after, limit=500)
        postings += page.postings
        if page.next_after is None:
            break
        after = page.next_after
    rows = tuple(_posting_row(p) for p in postings)
    table = ReportTable(
        "Journal", f"{start} to {end}", _POSTING_COLUMNS, rows, ("item",) * len(rows)
    )
    keys = [c.key for c in _POSTING_COLUMNS]
    document = {
        "from": start,
        "to": end,
        "postings": [dict(zip(keys, r, strict=True)) for r in rows],
    }
    write_report(table, document, fmt, output)


def _ledger_rows(section: LedgerSection) -> list[tuple[tuple[Cell, ...], str]]:
    out: list[tuple[tuple[Cell, ...], str]] = [
        ((None, "", "Opening balance", section.account, "", None, section.opening), "heading")
    ]
    out += [(_posting_row(p), "item") for p in section.postings]
    out.append(((None, "", "Closing balance", section.account, "", None, section.closing), "total"))
    return out


def general_ledger(
    start: FromOption,
    end: ToOption,
    account: Annotated[
        list[str] | None, typer.Option("--account", help="Only these accounts (repeat).")
    ] = None,
    fmt: ReportFormatOption = ReportFormat.table,
    output: OutputOption = None,
) -> None:
    """Per account: the opening balance, the period's postings and the closing balance,
    in the base currency."""
    period = Period(day("from", start), day("to", end))
    sections = state.app.statements.general_ledger(period, account or None)
    rows = [row for section in sections for row in _ledger_rows(section)]
    table = ReportTable(
        "General ledger",
        f"{start} to {end}",
        _POSTING_COLUMNS,
        tuple(r for r, _ in rows),
        tuple(s for _, s in rows),
    )
    document = {
        "from": start,
        "to": end,
        "accounts": [
            {
                "account": s.account,
                "opening": s.opening,
                "closing": s.closing,
                "postings": [_posting_row(p) for p in s.postings],
            }
            for s in sections
        ],
    }
    write_report(table, document, fmt, output)


def flow_class(
    account: Annotated[str, typer.Argument(help="A balance-sheet account.")],
    chosen: Annotated[
        str,
        typer.Argument(help="cash, working_capital, non_cash, investing, financing or default."),
    ],
) -> None:
    """Choose the cash-flow class of an account (``default``: by its name again)."""
    flow = None if chosen == "default" else _flow(chosen)
    state.app.statements.set_flow_class(account, flow)
    console.print(f"{escape(account)}: {flow.value if flow else 'default class'}")


def _flow(text: str) -> FlowClass:
    try:
        return FlowClass(text)
    except ValueError:
        choices = ", ".join(f.value for f in FlowClass)
        raise InvalidInputError("class", f"{text!r} is not one of {choices}, default") from None


def layout(
    name: Annotated[str, typer.Argument(help="Layout name.")],
    rules: Annotated[Path, typer.Option("--rules", help="JSON list of {match, section, line}.")],
) -> None:
    """Store an income-statement layout (use it with ``--layout NAME``)."""
    try:
        data = json.loads(rules.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InvalidInputError("rules", f"{rules}: {error}") from None
    if not isinstance(data, list):
        raise InvalidInputError("rules", "the file holds a JSON list of rules")
    saved = state.app.statements.save_layout(name, data)
    console.print(f"Saved layout {escape(saved.name)} with {len(saved.rules)} rule(s)")


def close(year: YearOption) -> None:
    """Close a fiscal year: move its result to retained earnings with a closing entry
    dated 31 December (journal CL) and lock everything up to that day."""
    done = state.app.statements.close_year(year)
    moved = f"posted {done.entry.ref}" if done.entry else "nothing to move"
    console.print(
        f"Closed {year}: result {done.result:,f} {done.currency}, {moved}; "
        f"locked up to {done.lock_date}"
    )


def reopen(year: YearOption) -> None:
    """Reopen a closed fiscal year: reverse its closing entry and restore the lock date
    the close found."""
    done = state.app.statements.reopen_year(year)
    reversed_by = f"reversed by {done.entry.ref}" if done.entry else "no entry to reverse"
    lock = done.lock_date.isoformat() if done.lock_date else "nothing is locked"
    console.print(f"Reopened {year}: {reversed_by}; lock date {lock}")


def closes() -> None:
    """Every year-end close, reopened ones included."""
    for c in state.app.statements.closes():
        status = f"reopened {c.reopened_at:%Y-%m-%d}" if c.reopened_at else "closed"
        console.print(f"{c.year}: {status} (entry id {c.entry_id or '-'})")


def attach(report_app: typer.Typer, period_app: typer.Typer) -> None:
    """Add the statements to ``crmledger report`` and close / reopen to ``period``."""
    for name, command in (
        ("income-statement", income_statement),
        ("balance-sheet", balance_sheet),
        ("cash-flow", cash_flow),
        ("general-ledger", general_ledger),
        ("journal", journal),
        ("drilldown", drilldown),
        ("cash-flow-class", flow_class),
        ("layout", layout),
    ):
        report_app.command(name)(command)
    period_app.command("close")(close)
    period_app.command("reopen")(reopen)
    period_app.command("closes")(closes)
