"""Printing rows as a Rich table, JSON or CSV (``--format table|json|csv``)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console(emoji=False, highlight=False)
errors = Console(stderr=True, emoji=False, highlight=False)


class OutputFormat(StrEnum):
    """How a command prints data."""

    table = "table"
    json = "json"
    csv = "csv"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def dumps(document: Any) -> str:
    """JSON with decimals as strings and dates in ISO form."""
    return json.dumps(document, default=_plain, indent=2, ensure_ascii=False)


def emit(
    rows: Sequence[dict[str, Any]],
    fmt: OutputFormat,
    title: str = "",
    document: dict[str, Any] | None = None,
    right: Sequence[str] = (),
) -> None:
    """Print ``rows``; for JSON print ``document`` when given, else the rows."""
    if fmt is OutputFormat.json:
        print(dumps(document if document is not None else rows))
        return
    if fmt is OutputFormat.csv:
        buffer = io.StringIO()
        if rows:
            writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows({k: _plain(v) for k, v in row.items()} for row in rows)
        print(buffer.getvalue(), end="")
        return
    table = Table(title=title or None)
    for column in rows[0] if rows else ():
        table.add_column(column, justify="right" if column in right else "left")
    for row in rows:
        table.add_row(*("" if v is None else escape(str(_plain(v))) for v in row.values()))
    console.print(table)


FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
