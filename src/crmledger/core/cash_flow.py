"""The cash-flow statement by the indirect method, and how accounts are classified for it.

Every balance-sheet account has a class: cash (what the statement explains), working
capital, non-cash (accumulated depreciation, provisions), investing or financing. A default
rule reads the class from the name; an accountant overrides it per account (an override
covers the account's sub-accounts too, unless they have their own)::

    >>> default_class("Assets:Bank:Checking"), default_class("Assets:Fixed:Depreciation")
    (<FlowClass.CASH: 'cash'>, <FlowClass.NON_CASH: 'non_cash'>)
    >>> classify(["Assets:Deposits:Term"], {"Assets:Deposits": FlowClass.CASH})
    {'Assets:Deposits:Term': <FlowClass.CASH: 'cash'>}

The statement starts from the net result and adds back, line by line, the movement of every
account that is not cash, with the sign of its effect on cash (an increase of receivables
is an outflow). Movements in the *non-cash journals* (``FX``, the unrealised exchange
revaluation and its reversal) are shown as one line of their own instead of under the
account they touch. Because every entry balances, the lines add up to the change of the
cash accounts by construction: with ``R`` the sum of every account's movement (zero when
every posting balances in the base currency)::

    lines = -(income and expenses) - (every non-cash account) = (cash accounts) - R

``R``, and the valuation of cash held in amounts without a base value, make the one line
*exchange and rounding differences*, shown only when it is not zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from crmledger.core.accounts import Account, AccountType
from crmledger.core.money import from_minor
from crmledger.core.statements import (
    CLOSING_JOURNAL,
    Balances,
    Column,
    Drill,
    Row,
    RowKind,
    Span,
    Statement,
    add,
    by_group,
    column_sums,
    heading,
    item_rows,
    of_type,
)

#: Journals whose entries move no cash by nature: the unrealised exchange revaluation.
NON_CASH_JOURNALS: tuple[str, ...] = ("FX",)


class FlowClass(StrEnum):
    """What the movement of a balance-sheet account means for cash."""

    CASH = "cash"
    WORKING_CAPITAL = "working_capital"
    NON_CASH = "non_cash"
    INVESTING = "investing"
    FINANCING = "financing"


_NON_CASH_WORDS = ("depreciation", "amortisation", "amortization", "provision", "impairment")
_PREFIXES: tuple[tuple[str, FlowClass], ...] = (
    ("Assets:Cash", FlowClass.CASH),
    ("Assets:Bank", FlowClass.CASH),
    ("Assets:Fixed", FlowClass.INVESTING),
    ("Assets:Investments", FlowClass.INVESTING),
    ("Assets:Intangible", FlowClass.INVESTING),
    ("Liabilities:Loans", FlowClass.FINANCING),
    ("Liabilities:LongTerm", FlowClass.FINANCING),
    ("Equity", FlowClass.FINANCING),
)


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ":")


def default_class(name: str) -> FlowClass | None:
    """The class the name suggests; ``None`` for income and expense accounts."""
    if name.split(":", 1)[0] in (AccountType.INCOME.value, AccountType.EXPENSES.value):
        return None
    lowered = name.lower()
    if any(word in lowered for word in _NON_CASH_WORDS):
        return FlowClass.NON_CASH
    for prefix, flow in _PREFIXES:
        if _under(name, prefix):
            return flow
    return FlowClass.WORKING_CAPITAL


def classify(names: Iterable[str], overrides: Mapping[str, FlowClass]) -> dict[str, FlowClass]:
    """The class of each balance-sheet account of ``names``: the override of the account or
    its nearest parent, else the default."""
    classes: dict[str, FlowClass] = {}
    for name in names:
        found = default_class(name)
        if found is None:
            continue
        parents = [p for p in overrides if _under(name, p)]
        classes[name] = overrides[max(parents, key=len)] if parents else found
    return classes


_SECTIONS = (
    (FlowClass.INVESTING, "investing", "Investing activities"),
    (FlowClass.FINANCING, "financing", "Financing activities"),
)


class _Flows:
    """The inputs of one cash-flow statement and the rows built so far."""

    def __init__(
        self,
        activity: Sequence[Balances],
        noncash: Sequence[Balances],
        classes: Mapping[str, FlowClass],
        chart: Mapping[str, Account],
        zero: Decimal,
        depth: int | None,
    ) -> None:
        self.activity, self.noncash, self.classes = activity, noncash, classes
        self.chart, self.zero, self.depth = chart, zero, depth
        kinds = (AccountType.ASSETS, AccountType.LIABILITIES, AccountType.EQUITY)
        self.moved = of_type(chart, [*activity, *noncash], *kinds)
        # Activity outside the non-cash journals, per column.
        self.cash_journals = [
            {n: v - nc.get(n, zero) for n, v in a.items()}
            for a, nc in zip(activity, noncash, strict=True)
        ]
        self.rows: list[Row] = []

    def of_class(self, flow: FlowClass) -> list[str]:
        return [n for n in self.moved if self.classes.get(n, FlowClass.WORKING_CAPITAL) is flow]

    def section(self, flow: FlowClass, key: str) -> tuple[Decimal, ...]:
        """Rows of one class's movements outside the non-cash journals; their total."""
        names = self.of_class(flow)
        exclude = (CLOSING_JOURNAL, *NON_CASH_JOURNALS)
        self.rows += item_rows(
            key,
            by_group(names, self.depth),
            self.cash_journals,
            self.chart,
            -1,
            self.zero,
            lambda a: Drill(a, Span.PERIOD, exclude=exclude),
        )
        return column_sums(self.cash_journals, names, -1, self.zero)

    def operating(self) -> tuple[Decimal, ...]:
        """Net result, non-cash items, changes in working capital; their total."""
        results = tuple(
            sorted(
                n
                for n, a in self.chart.items()
                if a.type in (AccountType.INCOME, AccountType.EXPENSES)
            )
        )
        net = column_sums(self.activity, results, -1, self.zero)
        self.rows.append(
            Row("net_result", "Net result", RowKind.ITEM, net, Drill(results, Span.PERIOD))
        )
        self.rows.append(heading("non_cash", "Non-cash items"))
        names = self.of_class(FlowClass.NON_CASH)
        self.rows += item_rows(
            "non_cash",
            by_group(names, self.depth),
            self.activity,
            self.chart,
            -1,
            self.zero,
            lambda a: Drill(a, Span.PERIOD),
        )
        non_cash = column_sums(self.activity, names, -1, self.zero)
        others = [
            n for n in self.moved if self.classes.get(n) not in (FlowClass.CASH, FlowClass.NON_CASH)
        ]
        unrealised = column_sums(self.noncash, others, -1, self.zero)
        if any(unrealised):
            touched = tuple(n for n in others if any(c.get(n) for c in self.noncash))
            self.rows.append(
                Row(
                    "unrealised",
                    "Unrealised exchange differences",
                    RowKind.ITEM,
                    unrealised,
                    Drill(touched, Span.PERIOD, NON_CASH_JOURNALS),
                )
            )
        self.rows.append(heading("working_capital", "Changes in working capital"))
        working = self.section(FlowClass.WORKING_CAPITAL, "working_capital")
        return add(net, non_cash, unrealised, working)


@dataclass(frozen=True, slots=True)
class FlowBalances:
    """Per column: balances before the period (``opening``) and at its end (``closing``),
    the movements in the period (``activity``) and the part of them posted in the non-cash
    journals (``noncash``)."""

    opening: Sequence[Balances]
    activity: Sequence[Balances]
    closing: Sequence[Balances]
    noncash: Sequence[Balances]


def cash_flow(
    columns: Sequence[Column],
    balances: FlowBalances,
    classes: Mapping[str, FlowClass],
    chart: Mapping[str, Account],
    currency: str,
    scale: int,
    depth: int | None = None,
) -> Statement:
    """The cash-flow statement of each column's period; ``classes`` is :func:`classify`
    of the chart."""
    zero = from_minor(0, scale)
    flows = _Flows(balances.activity, balances.noncash, classes, chart, zero, depth)
    flows.rows.append(heading("operating", "Operating activities"))
    operating = flows.operating()
    flows.rows.append(
        Row("operating_total", "Cash flow from operating activities", RowKind.TOTAL, operating)
    )
    total = operating
    for flow, key, title in _SECTIONS:
        flows.rows.append(heading(key, title))
        amounts = flows.section(flow, key)
        flows.rows.append(
            Row(f"{key}_total", f"Cash flow from {title.lower()}", RowKind.TOTAL, amounts)
        )
        total = add(total, amounts)
    cash = tuple(n for n, c in sorted(classes.items()) if c is FlowClass.CASH)
    before = column_sums(balances.opening, cash, 1, zero)
    after = column_sums(balances.closing, cash, 1, zero)
    change = add(after, tuple(-b for b in before))
    differences = add(change, tuple(-t for t in total))
    if any(differences):
        flows.rows.append(
            Row("differences", "Exchange and rounding differences", RowKind.ITEM, differences)
        )
    flows.rows += [
        Row("net_change", "Net change in cash", RowKind.RESULT, change, Drill(cash, Span.PERIOD)),
        Row(
            "cash_opening",
            "Cash at the beginning of the period",
            RowKind.ITEM,
            before,
            Drill(cash, Span.OPENING),
        ),
        Row(
            "cash_closing",
            "Cash at the end of the period",
            RowKind.ITEM,
            after,
            Drill(cash, Span.TO_DATE),
        ),
    ]
    return Statement(
        "cash_flow", "Cash-flow statement", currency, scale, tuple(columns), tuple(flows.rows)
    )
