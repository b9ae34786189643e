"""The charts of the financial statements, drawn the same on their pages and in their PDFs.

Each statement gets the chart an accountant would sketch beside it:

- the income statement: revenue, gross profit, operating result and net result, one bar
  per column, so the period and its comparisons stand side by side;
- the balance sheet: assets, liabilities and equity per column;
- the cash-flow statement: a waterfall from the opening cash through the operating,
  investing and financing flows to the closing cash, for the period asked for.

::

    for title, drawn in statement_charts(statement):            # for a PDF: own <style>
        ...
    statement_charts(statement, inline_style=False, href=link)  # for a page: each bar
                                                                # opens its entries
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from crmledger.core.statements import Column, Row, Statement
from crmledger.formats.charts import Chart, Point, Series, Step, svg, waterfall

#: Opens the entries behind a row's figure in a column (``None``: nothing to open).
Href = Callable[[Row, Column], str | None]

#: The rows each statement charts, in order: key -> label on the axis.
INCOME_FIGURES = (
    ("revenue_total", "Revenue"),
    ("gross_profit", "Gross profit"),
    ("operating_result", "Operating result"),
    ("net_result", "Net result"),
)
BALANCE_FIGURES = (
    ("total_assets", "Assets"),
    ("total_liabilities", "Liabilities"),
    ("total_equity", "Equity"),
)
CASH_STEPS = (
    ("operating_total", "Operating"),
    ("investing_total", "Investing"),
    ("financing_total", "Financing"),
    ("differences", "Exchange and rounding"),
)


def _nowhere(row: Row, column: Column) -> str | None:
    return None


def _rows(statement: Statement, wanted: Sequence[tuple[str, str]]) -> list[tuple[Row, str]]:
    keys = {row.key: row for row in statement.rows}
    return [(keys[key], label) for key, label in wanted if key in keys]


def _text(amount: Decimal, statement: Statement) -> str:
    return f"{amount:,f} {statement.currency}"


def _figures(
    statement: Statement, title: str, wanted: Sequence[tuple[str, str]], href: Href
) -> Chart:
    """A bar per figure and column: the columns are the series, the figures the labels."""
    rows = _rows(statement, wanted)
    series = tuple(
        Series(
            column.label,
            tuple(
                Point(
                    row.amounts[i],
                    _text(row.amounts[i], statement),
                    href(row, column),
                    f"{label}, {column.label}: {_text(row.amounts[i], statement)}",
                )
                for row, label in rows
            ),
        )
        for i, column in enumerate(statement.columns)
    )
    return Chart("bar", title, tuple(label for _, label in rows), series)


def cash_steps(statement: Statement, href: Href = _nowhere) -> list[Step]:
    """The waterfall of the cash-flow statement's first column: opening cash, each flow
    (exchange and rounding differences when there are any), closing cash."""
    column = statement.columns[0]
    keys = {row.key: row for row in statement.rows}
    opening, closing = keys["cash_opening"], keys["cash_closing"]

    def step(row: Row, label: str, *, total: bool = False) -> Step:
        amount = row.amounts[0]
        return Step(label, amount, total, _text(amount, statement), href(row, column))

    middle = [step(keys[key], label) for key, label in CASH_STEPS if key in keys]
    return [
        step(opening, "Opening cash", total=True),
        *middle,
        step(closing, "Closing cash", total=True),
    ]


def statement_charts(
    statement: Statement, *, inline_style: bool = True, href: Href = _nowhere
) -> list[tuple[str, str]]:
    """``(title, svg)`` of each chart of ``statement`` (see the module docstring)."""
    if statement.kind == "cash_flow":
        title = f"Cash flow, {statement.columns[0].label}"
        return [(title, waterfall(title, cash_steps(statement, href), inline_style=inline_style))]
    if statement.kind == "income_statement":
        chart = _figures(statement, "Revenue and results", INCOME_FIGURES, href)
    else:
        chart = _figures(statement, "Assets, liabilities and equity", BALANCE_FIGURES, href)
    return [(chart.title, svg(chart, inline_style=inline_style))]
