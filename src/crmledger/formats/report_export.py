"""Any report table (:class:`~crmledger.core.report_table.ReportTable`) as CSV, XLSX or PDF.

**CSV** has one header row, then the rows. Numbers are written as plain decimals with a
point and no thousands separator (``-1234.50``), dates as ``YYYY-MM-DD``. A text cell that
a spreadsheet would read as a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return) gets a leading apostrophe, so ``=HYPERLINK(...)`` in a narration stays
text; numbers are never escaped, so ``-5.00`` stays a number.

**XLSX** has the title in A1 and the subtitle in A2, the header in row 4 and the rows from
row 5. Numbers are numbers with a number format of the report's decimal places, dates are
dates, text is always stored as text (never as a formula). Totals and results are written
as **values**, not formulas: every figure is the one the ledger computed, and a sheet that
recalculates nothing still shows it exactly.

**PDF** is the table printed on A4 by WeasyPrint (landscape beyond four number columns),
offline: only ``data:`` URIs load, like the billing documents. Charts, as SVG with their
own style, print above the table::

    csv_text = to_csv(table)
    xlsx_bytes = to_xlsx(table)
    pdf_bytes = to_pdf(table, charts=[("Revenue and results", "<svg ...>")])
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from crmledger.core.report_table import NUMBER, Cell, ReportTable, TableColumn

#: The first characters that make a spreadsheet read a text cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: The media type and file extension of each format.
MEDIA_TYPES = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "pdf": ("application/pdf", "pdf"),
}
#: Charts printed above a PDF's table: ``(title, svg)``.
Charts = Sequence[tuple[str, str]]
_HEADER_ROW = 4
_BOLD_STYLES = ("heading", "total", "result")

_TEMPLATES = Environment(
    loader=PackageLoader("crmledger.formats", "templates/reports"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
)


def safe_text(text: str) -> str:
    """``text`` with a leading apostrophe when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_cell(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Decimal):
        return format(cell, "f")
    if isinstance(cell, bool):  # a bool is an int; reports hold none, but never write True
        return str(cell).lower()
    if isinstance(cell, int):
        return str(cell)
    if isinstance(cell, date):
        return cell.isoformat()
    return safe_text(cell)


def to_csv(table: ReportTable) -> str:
    """The table as CSV text (see the module docstring)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_text(c.label) for c in table.columns])
    for row in table.rows:
        writer.writerow([_csv_cell(cell) for cell in row])
    return out.getvalue()


def number_format(scale: int | None, value: Decimal | None = None) -> str:
    """An Excel number format with ``scale`` decimal places (those of ``value`` when
    ``scale`` is ``None``)."""
    if scale is None:
        exponent = value.as_tuple().exponent if value is not None else 0
        scale = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    places = "." + "0" * scale if scale else ""
    return f"#,##0{places};-#,##0{places}"


def _sheet_name(title: str) -> str:
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip()
    return (cleaned or "Report")[:31]


def to_xlsx(table: ReportTable) -> bytes:
    """The table as an XLSX workbook (see the module docstring)."""
    from openpyxl import Workbook  # noqa: PLC0415 - heavy; only exports need it
    from openpyxl.styles import Border, Font, Side  # noqa: PLC0415

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _sheet_name(table.title)
    bold = Font(bold=True)
    _text(sheet.cell(row=1, column=1), table.title).font = Font(bold=True, size=14)
    _text(sheet.cell(row=2, column=1), table.subtitle)
    for index, column in enumerate(table.columns, start=1):
        _text(sheet.cell(row=_HEADER_ROW, column=index), column.label).font = bold
        sheet.column_dimensions[_letter(index)].width = 48 if index == 1 else 16
    line = Border(top=Side(style="thin"))
    for offset, (row, style) in enumerate(zip(table.rows, table.styles, strict=True), start=1):
        for index, (column, cell) in enumerate(zip(table.columns, row, strict=True), start=1):
            target = sheet.cell(row=_HEADER_ROW + offset, column=index)
            _xlsx_cell(target, column, cell)
            if style in _BOLD_STYLES:
                target.font = bold
            if style in ("total", "result"):
                target.border = line
    for offset, note in enumerate(table.notes, start=len(table.rows) + 2):
        _text(sheet.cell(row=_HEADER_ROW + offset, column=1), note)
    sheet.freeze_panes = f"B{_HEADER_ROW + 1}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    return str(get_column_letter(index))


def _text(target: Any, text: str) -> Any:
    """Store ``text`` as text: openpyxl would take ``=...`` for a formula."""
    target.value = text
    target.data_type = "s"
    return target


def _xlsx_cell(target: Any, column: TableColumn, cell: Cell) -> None:
    if cell is None:
        return
    if isinstance(cell, Decimal | int) and not isinstance(cell, bool):
        target.value = cell
        target.number_format = number_format(column.scale, Decimal(cell))
    elif isinstance(cell, date):
        target.value = cell
        target.number_format = "yyyy-mm-dd"
    else:
        _text(target, str(cell))


def _pdf_text(column: TableColumn, cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Decimal):
        places = column.scale
        if places is not None:
            cell = cell.quantize(Decimal(1).scaleb(-places))
        return format(cell, ",f")
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell)


def render_html(table: ReportTable, charts: Charts = ()) -> str:
    """The HTML that :func:`to_pdf` prints: the table, after ``charts`` (``(title, svg)``
    pairs drawn with their own style, see :mod:`crmledger.formats.charts`)."""
    rows = [
        {
            "style": style,
            "cells": [
                {"kind": column.kind, "text": _pdf_text(column, cell)}
                for column, cell in zip(table.columns, row, strict=True)
            ],
        }
        for row, style in zip(table.rows, table.styles, strict=True)
    ]
    numbers = sum(1 for c in table.columns if c.kind == NUMBER)
    orientation = "landscape" if numbers > 4 or len(table.columns) > 6 else "portrait"
    return _TEMPLATES.get_template("report.html").render(
        table=table, rows=rows, orientation=orientation, charts=charts
    )


def to_pdf(table: ReportTable, charts: Charts = ()) -> bytes:
    """The table printed as a PDF, after ``charts`` (see the module docstring)."""
    from weasyprint import HTML  # noqa: PLC0415 - half a second to import
    from weasyprint.urls import URLFetcher  # noqa: PLC0415

    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    pdf: bytes = HTML(string=render_html(table, charts), url_fetcher=fetcher).write_pdf()
    return pdf


def _csv_bytes(table: ReportTable) -> bytes:
    return to_csv(table).encode("utf-8")


WRITERS: dict[str, Callable[[ReportTable], bytes]] = {
    "csv": _csv_bytes,
    "xlsx": to_xlsx,
    "pdf": to_pdf,
}


def export(table: ReportTable, fmt: str, charts: Charts = ()) -> bytes:
    """The table in ``fmt`` (``csv``, ``xlsx`` or ``pdf``) as bytes; a PDF shows ``charts``
    above the table."""
    if fmt == "pdf":
        return to_pdf(table, charts)
    writer = WRITERS.get(fmt)
    if writer is None:
        raise ValueError(f"unknown export format {fmt!r}; choose csv, xlsx or pdf")
    return writer(table)
