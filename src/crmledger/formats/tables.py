"""Spreadsheet-shaped files (CSV, XLSX) as a header and numbered rows of text.

Every record import starts here: the reader knows nothing about parties or products, it
only hands over cells as strings with the line (CSV) or row (XLSX) they came from, so a
problem report can point at it::

    table = read_table(Path("customers.csv"))
    table.headers        # ['Company', 'E-Mail', 'Phone']
    next(table.rows)     # (2, {'Company': 'Acme GmbH', 'E-Mail': ..., 'Phone': ...})

CSV is read as UTF-8 (a byte-order mark is dropped) with the delimiter sniffed from the
header line (comma, semicolon or tab); XLSX through openpyxl in read-only mode, first sheet,
dates written as ISO dates.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from crmledger.core.errors import InvalidFieldError

Row = tuple[int, dict[str, str]]


@dataclass
class Table:
    """The header and a one-pass iterator over ``(line, {header: cell})``."""

    headers: list[str]
    rows: Iterator[Row]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        # Excel stores every number as a float; 12.5 must read "12.5", not "12.500000001".
        return format(Decimal(repr(value)).normalize(), "f")
    return str(value).strip()


def _headers(raw: list[object], source: str) -> list[str]:
    headers = [_cell(h) for h in raw]
    seen: set[str] = set()
    for i, header in enumerate(headers):
        if not header:
            raise InvalidFieldError("header", f"{source}: column {i + 1} has no name")
        if header in seen:
            raise InvalidFieldError("header", f"{source}: column {header!r} appears twice")
        seen.add(header)
    return headers


def _read_csv(path: Path) -> Table:
    handle = path.open(encoding="utf-8-sig", newline="")
    first = handle.readline()
    handle.seek(0)
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(handle, delimiter=delimiter)
    headers = _headers(list(next(reader, [])), path.name)

    def rows() -> Iterator[Row]:
        with handle:
            for values in reader:
                if not any(v.strip() for v in values):
                    continue
                if len(values) > len(headers):
                    raise InvalidFieldError(
                        "row", f"{path.name}:{reader.line_num}: more cells than columns"
                    )
                cells = [v.strip() for v in values] + [""] * (len(headers) - len(values))
                yield reader.line_num, dict(zip(headers, cells, strict=True))

    return Table(headers, rows())


def _read_xlsx(path: Path) -> Table:
    from openpyxl import load_workbook  # noqa: PLC0415  (heavy; only for spreadsheets)

    book = load_workbook(path, read_only=True, data_only=True)
    sheet = book.worksheets[0]
    cells = sheet.iter_rows(values_only=True)
    headers = _headers(list(next(cells, ())), path.name)

    def rows() -> Iterator[Row]:
        try:
            for number, values in enumerate(cells, start=2):
                texts = [_cell(v) for v in values][: len(headers)]
                if not any(texts):
                    continue
                texts += [""] * (len(headers) - len(texts))
                yield number, dict(zip(headers, texts, strict=True))
        finally:
            book.close()

    return Table(headers, rows())


def read_table(path: Path) -> Table:
    """Open ``path`` by its suffix (``.csv``, ``.xlsx``)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    raise InvalidFieldError("file", f"{path.name}: not a .csv or .xlsx file")
