"""Financial statements from balances in the base currency: pure functions, no I/O.

Every statement is a list of rows over one or more columns (the period asked for and its
comparisons). A figure row carries a :class:`Drill`: the accounts behind it and which part
of the ledger counts (the column's period, everything up to its end, ...), so any figure
can be opened to the entries that make it.

Balances come in the plain-text-accounting sign (debits positive). Statements show them
the way they are read: the income statement as contributions to the result (revenue
positive, expenses negative), the balance sheet with assets, liabilities and equity
positive. With a EUR book that sold 1,000.00 for cash and paid 400.00 of rent::

    >>> year = Column("2026", date(2026, 1, 1), date(2026, 12, 31))
    >>> activity = {"Income:Sales": Decimal("-1000.00"), "Expenses:Rent": Decimal("400.00"),
    ...             "Assets:Cash": Decimal("600.00")}
    >>> chart = {name: Account(name) for name in activity}
    >>> income_statement((year,), (activity,), chart, "EUR", 2).amount("net_result")
    Decimal('600.00')
    >>> sheet = balance_sheet((year,), (activity,), (activity,), chart, "EUR", 2)
    >>> sheet.amount("total_assets"), sheet.amount("total_liabilities_and_equity")
    (Decimal('600.00'), Decimal('600.00'))

The balance sheet shows the result of the year to date and the results of earlier years as
equity lines, so it balances without a closing entry. Closing entries (journal ``CL``)
only move those results into retained earnings; statements leave them out, so they read
the same before and after a year is closed (see ``services.statements``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from crmledger.core.accounts import Account, AccountType
from crmledger.core.money import from_minor
from crmledger.core.statement_layout import DEFAULT_LAYOUT, SECTIONS, Layout

#: The journal of year-end closing entries, which statements leave out.
CLOSING_JOURNAL = "CL"

#: Balances of one column: account name -> value in the base currency, debits positive.
Balances = Mapping[str, Decimal]


class Span(StrEnum):
    """Which entries a figure of a column sums, relative to the column's dates."""

    PERIOD = "period"  # start .. end
    TO_DATE = "to_date"  # everything up to end
    YEAR_TO_DATE = "year_to_date"  # 1 January of end's year .. end
    BEFORE_YEAR = "before_year"  # everything before 1 January of end's year
    OPENING = "opening"  # everything before start


@dataclass(frozen=True, slots=True)
class Column:
    """One column: the period asked for, or one it is compared with."""

    label: str
    start: date
    end: date

    def window(self, span: Span) -> tuple[date | None, date]:
        """First and last day (``None``: from the beginning) that ``span`` covers."""
        if span is Span.PERIOD:
            return self.start, self.end
        if span is Span.TO_DATE:
            return None, self.end
        if span is Span.YEAR_TO_DATE:
            return date(self.end.year, 1, 1), self.end
        if span is Span.BEFORE_YEAR:
            return None, date(self.end.year, 1, 1) - timedelta(days=1)
        return None, self.start - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Drill:
    """The entries behind a figure: postings to ``accounts`` in ``span``, in ``journals``
    only when given, never in ``exclude``."""

    accounts: tuple[str, ...]
    span: Span
    journals: tuple[str, ...] = ()
    exclude: tuple[str, ...] = (CLOSING_JOURNAL,)


class RowKind(StrEnum):
    """How a row reads: a section heading, a figure, a section total, a result."""

    HEADING = "heading"
    ITEM = "item"
    TOTAL = "total"
    RESULT = "result"


@dataclass(frozen=True, slots=True)
class Row:
    """One row: a label and an amount per column (none for a heading)."""

    key: str
    label: str
    kind: RowKind
    amounts: tuple[Decimal, ...] = ()
    drill: Drill | None = None


@dataclass(frozen=True, slots=True)
class Statement:
    """A statement: its columns and rows, amounts in ``currency`` at ``scale`` places."""

    kind: str
    title: str
    currency: str
    scale: int
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()

    def row(self, key: str) -> Row:
        """The row called ``key``; ``KeyError`` when there is none."""
        for row in self.rows:
            if row.key == key:
                return row
        raise KeyError(key)

    def amount(self, key: str, column: int = 0) -> Decimal:
        """The amount of row ``key`` in ``column``."""
        return self.row(key).amounts[column]

    def with_notes(self, notes: Iterable[str]) -> Statement:
        """The same statement with ``notes`` added."""
        return replace(self, notes=(*self.notes, *notes))


# -- shared building blocks ------------------------------------------------------------


def group_key(name: str, depth: int | None) -> str:
    """The first ``depth`` segments of ``name`` (all of them when ``depth`` is None)."""
    return name if depth is None else ":".join(name.split(":")[:depth])


def _order(chart: Mapping[str, Account], names: Iterable[str]) -> tuple[str | None, str]:
    codes = sorted(c for c in (chart[n].code if n in chart else None for n in names) if c)
    return (codes[0] if codes else None, min(names))


def column_sums(
    columns: Sequence[Balances], names: Iterable[str], sign: int, zero: Decimal
) -> tuple[Decimal, ...]:
    """Per column, ``sign`` times the sum of ``names``' balances (adding ``zero`` turns a
    negated zero into a plain one)."""
    kept = tuple(names)
    return tuple(sign * sum((c.get(n, zero) for n in kept), zero) + zero for c in columns)


def item_rows(
    prefix: str,
    groups: Mapping[str, Sequence[str]],
    columns: Sequence[Balances],
    chart: Mapping[str, Account],
    sign: int,
    zero: Decimal,
    drill: Callable[[tuple[str, ...]], Drill],
) -> list[Row]:
    """A row per group of accounts (label -> names) with a non-zero amount in some
    column, in the order of the chart's codes, then names."""
    rows = []
    ordered = sorted(groups.items(), key=lambda kv: (*_key(_order(chart, kv[1])), kv[0]))
    for label, names in ordered:
        amounts = column_sums(columns, names, sign, zero)
        if any(amounts):
            rows.append(
                Row(f"{prefix}:{label}", label, RowKind.ITEM, amounts, drill(tuple(sorted(names))))
            )
    return rows


def _key(order: tuple[str | None, str]) -> tuple[bool, str, str]:
    code, name = order
    return (code is None, code or "", name)


def by_group(names: Iterable[str], depth: int | None) -> dict[str, list[str]]:
    """``names`` grouped by their first ``depth`` segments."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(group_key(name, depth), []).append(name)
    return groups


def of_type(
    chart: Mapping[str, Account], columns: Sequence[Balances], *kinds: AccountType
) -> list[str]:
    """The accounts of ``kinds`` with a balance in some column."""
    seen = {name for c in columns for name, value in c.items() if value}
    return sorted(n for n in seen if n in chart and chart[n].type in kinds)


def add(*parts: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
    """Column-wise sum of amount tuples."""
    return tuple(sum(values, Decimal(0)) for values in zip(*parts, strict=True))


def heading(key: str, label: str) -> Row:
    """A section heading."""
    return Row(key, label, RowKind.HEADING)


# -- income statement ------------------------------------------------------------------

_RESULTS = {
    "cost_of_sales": ("gross_profit", "Gross profit"),
    "operating_expenses": ("operating_result", "Operating result"),
    "other": ("net_result", "Net result"),
}


def income_statement(
    columns: Sequence[Column],
    activity: Sequence[Balances],
    chart: Mapping[str, Account],
    currency: str,
    scale: int,
    layout: Layout = DEFAULT_LAYOUT,
    depth: int | None = None,
) -> Statement:
    """Revenue, cost of sales -> gross profit, operating expenses -> operating result,
    other income and expenses -> net result, each column the activity of its period.

    Lines follow ``layout``; an account without a named line is a line of its own, or of
    its group of the first ``depth`` name segments.
    """
    zero = from_minor(0, scale)
    names = of_type(chart, activity, AccountType.INCOME, AccountType.EXPENSES)
    sections: dict[str, dict[str, list[str]]] = {key: {} for key, _ in SECTIONS}
    for name in names:
        section, line = layout.place(chart[name])
        sections[section].setdefault(line or group_key(name, depth), []).append(name)
    rows: list[Row] = []
    result = tuple(zero for _ in columns)
    every = tuple(names)
    for key, title in SECTIONS:
        rows.append(heading(key, title))
        rows += item_rows(
            key, sections[key], activity, chart, -1, zero, lambda a: Drill(a, Span.PERIOD)
        )
        members = tuple(n for group in sections[key].values() for n in group)
        total = column_sums(activity, members, -1, zero)
        rows.append(
            Row(
                f"{key}_total",
                f"Total {title.lower()}",
                RowKind.TOTAL,
                total,
                Drill(tuple(sorted(members)), Span.PERIOD),
            )
        )
        result = add(result, total)
        if key in _RESULTS:
            result_key, label = _RESULTS[key]
            rows.append(Row(result_key, label, RowKind.RESULT, result, Drill(every, Span.PERIOD)))
    return Statement(
        "income_statement", "Income statement", currency, scale, tuple(columns), tuple(rows)
    )


# -- balance sheet ---------------------------------------------------------------------


def balance_sheet(
    columns: Sequence[Column],
    to_date: Sequence[Balances],
    year_to_date: Sequence[Balances],
    chart: Mapping[str, Account],
    currency: str,
    scale: int,
    depth: int | None = None,
) -> Statement:
    """Assets, liabilities and equity at each column's end; equity holds the results of
    earlier years and of the year to date, so assets = liabilities + equity exactly.

    ``to_date`` holds every account's balance at the column's end, ``year_to_date`` the
    income and expense activity since 1 January of that year. A last equity line,
    *translation and rounding differences*, holds what the whole ledger does not add up to
    in the base currency (the rounding of converted amounts, amounts valued at a rate);
    it is zero, and not shown, when every posting has a base value that balances.
    """
    zero = from_minor(0, scale)
    rows: list[Row] = []
    totals: dict[str, tuple[Decimal, ...]] = {}
    for kind, sign in ((AccountType.ASSETS, 1), (AccountType.LIABILITIES, -1)):
        key = kind.value.lower()
        names = of_type(chart, to_date, kind)
        rows.append(heading(key, kind.value))
        rows += item_rows(
            key,
            by_group(names, depth),
            to_date,
            chart,
            sign,
            zero,
            lambda a: Drill(a, Span.TO_DATE),
        )
        totals[key] = column_sums(to_date, names, sign, zero)
        rows.append(
            Row(
                f"total_{key}",
                f"Total {key}",
                RowKind.TOTAL,
                totals[key],
                Drill(tuple(names), Span.TO_DATE),
            )
        )
    equity_rows, equity = _equity(to_date, year_to_date, chart, zero, depth)
    rows += equity_rows
    rows.append(Row("total_equity", "Total equity", RowKind.TOTAL, equity))
    both = add(totals["liabilities"], equity)
    rows.append(
        Row("total_liabilities_and_equity", "Total liabilities and equity", RowKind.RESULT, both)
    )
    assert both == totals["assets"], "a balance sheet always balances"
    return Statement("balance_sheet", "Balance sheet", currency, scale, tuple(columns), tuple(rows))


def _equity(
    to_date: Sequence[Balances],
    year_to_date: Sequence[Balances],
    chart: Mapping[str, Account],
    zero: Decimal,
    depth: int | None,
) -> tuple[list[Row], tuple[Decimal, ...]]:
    names = of_type(chart, to_date, AccountType.EQUITY)
    results = tuple(n for n in chart if chart[n].type in (AccountType.INCOME, AccountType.EXPENSES))
    rows = [heading("equity", "Equity")]
    rows += item_rows(
        "equity", by_group(names, depth), to_date, chart, -1, zero, lambda a: Drill(a, Span.TO_DATE)
    )
    accounts = column_sums(to_date, names, -1, zero)
    current = column_sums(year_to_date, results, -1, zero)
    prior = add(column_sums(to_date, results, -1, zero), tuple(-c for c in current))
    differences = tuple(sum((v for n, v in c.items() if n in chart), zero) for c in to_date)
    rows.append(
        Row(
            "prior_results",
            "Results of prior years",
            RowKind.ITEM,
            prior,
            Drill(tuple(sorted(results)), Span.BEFORE_YEAR),
        )
    )
    rows.append(
        Row(
            "current_result",
            "Result for the year to date",
            RowKind.ITEM,
            current,
            Drill(tuple(sorted(results)), Span.YEAR_TO_DATE),
        )
    )
    if any(differences):
        rows.append(
            Row("differences", "Translation and rounding differences", RowKind.ITEM, differences)
        )
    return rows, add(accounts, prior, current, differences)
