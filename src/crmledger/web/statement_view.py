"""What the statement pages show: the period form read back with a message per bad field,
and each figure as text with the link to the entries behind it.

A statement page is a plain GET form, so a statement is a URL that can be bookmarked::

    /reports/income-statement?from=2026-01-01&to=2026-12-31&previous=on&last_year=on
    /reports/balance-sheet?as_of=2026-12-31&earlier_from=2024-01-01&earlier_to=2024-12-31
    /reports/drilldown?accounts=Expenses:Rent&from=2026-01-01&to=2026-12-31

Every figure links to ``/reports/drilldown`` with the accounts and days it sums.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from crmledger.core.errors import LedgerError
from crmledger.core.statement_periods import Period, year_start
from crmledger.core.statements import CLOSING_JOURNAL, Column, Row, Statement
from crmledger.web.params import parse_date, sentence, text
from crmledger.web.session import Viewer

#: The statement pages: path segment -> title.
KINDS = {
    "income-statement": "Income statement",
    "balance-sheet": "Balance sheet",
    "cash-flow": "Cash-flow statement",
}
FIELDS = ("from", "to", "as_of", "previous", "last_year", "earlier_from", "earlier_to", "depth")


@dataclass
class StatementForm:
    """The form as typed, its errors, and what it asks for when it has none."""

    kind: str
    shown: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    period: Period | None = None
    compare: str | None = None
    depth: int | None = None

    @property
    def query(self) -> str:
        """The form's query string (for the download links)."""
        return urlencode({k: v for k, v in self.shown.items() if v})


def _period(kind: str, shown: dict[str, str], errors: dict[str, str], today: date) -> Period | None:
    if kind == "balance-sheet":
        as_of = parse_date(shown["as_of"], "as_of", errors) or today
        start = parse_date(shown["from"], "from", errors) or year_start(as_of)
        shown["as_of"] = as_of.isoformat()
        first, last, field_name = start, as_of, "as_of"
    else:
        first = parse_date(shown["from"], "from", errors) or year_start(today)
        last = parse_date(shown["to"], "to", errors) or date(first.year, 12, 31)
        shown["from"], shown["to"] = first.isoformat(), last.isoformat()
        field_name = "to"
    if errors:
        return None
    try:
        return Period(first, last)
    except LedgerError as error:
        errors[field_name] = sentence(error)
        return None


def _compare(shown: dict[str, str], errors: dict[str, str]) -> str | None:
    names = [n for n, key in (("previous", "previous"), ("last-year", "last_year")) if shown[key]]
    first = parse_date(shown["earlier_from"], "earlier_from", errors)
    last = parse_date(shown["earlier_to"], "earlier_to", errors)
    if (first is None) != (last is None) and "earlier_from" not in errors:
        errors["earlier_to" if first else "earlier_from"] = "Give both days of the earlier period."
    elif first and last:
        names.append(f"{first.isoformat()}..{last.isoformat()}")
    return ",".join(names) or None


def read_form(kind: str, query: Mapping[str, str], today: date) -> StatementForm:
    """The statement form of ``query``, with defaults: this year, or today."""
    shown = {name: text(query, name) for name in FIELDS}
    form = StatementForm(kind, shown)
    form.period = _period(kind, shown, form.errors, today)
    form.compare = _compare(shown, form.errors)
    if shown["depth"]:
        if shown["depth"].isdigit() and 1 <= int(shown["depth"]) <= 10:
            form.depth = int(shown["depth"])
        else:
            form.errors["depth"] = "Choose 1 to 10 name segments, or leave it blank."
    return form


def statement_of(viewer: Viewer, form: StatementForm) -> Statement | None:
    """The statement the form asks for; ``None`` (and errors set) when it cannot be read."""
    if form.errors or form.period is None:
        return None
    statements = viewer.book.statements
    try:
        if form.kind == "income-statement":
            return statements.income_statement(form.period, form.compare, depth=form.depth)
        if form.kind == "balance-sheet":
            return statements.balance_sheet(
                form.period.end, form.compare, form.period.start, form.depth
            )
        return statements.cash_flow(form.period, form.compare, form.depth)
    except LedgerError as error:
        form.errors[getattr(error, "field", "compare")] = sentence(error)
        return None


def drill_href(row: Row, column: Column) -> str | None:
    """The drill-down page of ``row``'s figure in ``column``."""
    if row.drill is None or not row.drill.accounts:
        return None
    start, end = column.window(row.drill.span)
    params: list[tuple[str, str]] = [("accounts", a) for a in row.drill.accounts]
    if start is not None:
        params.append(("from", start.isoformat()))
    params.append(("to", end.isoformat()))
    params += [("journal", j) for j in row.drill.journals]
    params += [("exclude_journal", j) for j in row.drill.exclude if j != CLOSING_JOURNAL]
    if CLOSING_JOURNAL not in row.drill.exclude:
        params.append(("include_closing", "on"))
    return "/reports/drilldown?" + urlencode(params)


def rows_of(statement: Statement) -> list[dict[str, Any]]:
    """The rows as the template shows them: label, kind and a cell per column."""
    shown = []
    for row in statement.rows:
        cells = [
            {
                "text": format(amount, ",f"),
                "negative": amount < 0,
                "href": drill_href(row, column),
            }
            for amount, column in zip(row.amounts, statement.columns, strict=False)
        ]
        shown.append({"key": row.key, "label": row.label, "kind": row.kind.value, "cells": cells})
    return shown


def page_total(amounts: Sequence[Decimal | None]) -> Decimal:
    """The sum of the amounts that are there."""
    return sum((a for a in amounts if a is not None), Decimal(0))
