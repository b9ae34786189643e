"""Financial statements as pure functions: a small company's year read line by line, and
properties on random balanced ledgers (the balance sheet balances, the cash-flow
statement's lines add up to the change in cash, the income statement's result is the
change in equity from operations, a layout never changes the result, the closing entry
empties every income and expense account)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmledger.core.accounts import Account, AccountType
from crmledger.core.cash_flow import FlowBalances, FlowClass, cash_flow, classify, default_class
from crmledger.core.chart import chart as default_chart
from crmledger.core.entries import check_balanced
from crmledger.core.errors import InvalidFieldError
from crmledger.core.report_table import NUMBER, statement_table
from crmledger.core.statement_layout import DEFAULT_LAYOUT, parse_layout
from crmledger.core.statement_periods import (
    Period,
    comparisons,
    previous_period,
    same_period_last_year,
)
from crmledger.core.statements import (
    Balances,
    Column,
    RowKind,
    Span,
    Statement,
    balance_sheet,
    income_statement,
)
from crmledger.core.year_end import Bucket, closing_entry

D = Decimal
CHART = {a.name: a for a in default_chart("default")}
NAMES = sorted(CHART)
YEAR = Column("2026", date(2026, 1, 1), date(2026, 12, 31))


@dataclass(frozen=True)
class Line:
    """One posting of a test ledger: a day, an account and an amount in EUR."""

    day: date
    account: str
    amount: Decimal


def sums(lines: Iterable[Line], first: date | None, last: date, *kinds: AccountType) -> Balances:
    """Balances of the lines dated ``first`` (None: from the start) to ``last``."""
    out: dict[str, Decimal] = {}
    for line in lines:
        in_span = (first is None or line.day >= first) and line.day <= last
        if in_span and (not kinds or CHART[line.account].type in kinds):
            out[line.account] = out.get(line.account, D("0.00")) + line.amount
    return out


def ledger(*entries: tuple[str, Sequence[tuple[str, str]]]) -> list[Line]:
    """``("2026-01-05", [("Assets:Cash", "100"), ("Income:Other", "-100")])`` ..."""
    lines = []
    for day, postings in entries:
        assert sum(D(a) for _, a in postings) == 0
        lines += [
            Line(date.fromisoformat(day), acc, D(a).quantize(D("0.01"))) for acc, a in postings
        ]
    return lines


def statements(lines: list[Line], column: Column = YEAR) -> tuple[Statement, Statement, Statement]:
    """The income statement, balance sheet and cash-flow statement of ``column``."""
    before = column.start - timedelta(days=1)
    activity = sums(lines, column.start, column.end)
    to_date = sums(lines, None, column.end)
    ytd = sums(
        lines, date(column.end.year, 1, 1), column.end, AccountType.INCOME, AccountType.EXPENSES
    )
    flows = FlowBalances(
        opening=(sums(lines, None, before),),
        activity=(activity,),
        closing=(to_date,),
        noncash=({},),
    )
    return (
        income_statement((column,), (activity,), CHART, "EUR", 2),
        balance_sheet((column,), (to_date,), (ytd,), CHART, "EUR", 2),
        cash_flow((column,), flows, classify(NAMES, {}), CHART, "EUR", 2),
    )


# -- a small company's year, by hand ----------------------------------------------------

YEAR_ONE = ledger(
    ("2026-01-02", [("Assets:Bank:Checking", "10000"), ("Equity:Capital", "-10000")]),
    ("2026-02-01", [("Assets:Fixed:Equipment", "3000"), ("Assets:Bank:Checking", "-3000")]),
    (
        "2026-03-10",
        [
            ("Assets:Receivables:Customers", "2380"),
            ("Income:Sales:Services", "-2000"),
            ("Liabilities:Tax:Output", "-380"),
        ],
    ),
    ("2026-03-20", [("Expenses:COGS", "500"), ("Assets:Inventory", "-500")]),
    ("2026-01-15", [("Assets:Inventory", "800"), ("Liabilities:Payables:Vendors", "-800")]),
    ("2026-04-01", [("Assets:Bank:Checking", "500"), ("Assets:Receivables:Customers", "-500")]),
    ("2026-05-31", [("Expenses:Rent", "400"), ("Assets:Bank:Checking", "-400")]),
    ("2026-12-31", [("Expenses:Depreciation", "600"), ("Assets:Fixed:Depreciation", "-600")]),
    ("2026-12-31", [("Expenses:Interest", "50"), ("Liabilities:Loans", "-50")]),
)


def test_income_statement_reads_gross_profit_operating_and_net_result() -> None:
    income, _, _ = statements(YEAR_ONE)
    assert income.amount("revenue_total") == D("2000.00")
    assert income.amount("cost_of_sales_total") == D("-500.00")
    assert income.amount("gross_profit") == D("1500.00")
    assert income.amount("operating_expenses_total") == D("-1000.00")  # rent and depreciation
    assert income.amount("operating_result") == D("500.00")
    assert income.amount("other_total") == D("-50.00")  # interest
    assert income.amount("net_result") == D("450.00")
    rent = income.row("operating_expenses:Expenses:Rent")
    assert rent.amounts == (D("-400.00"),)
    assert rent.drill is not None
    assert rent.drill.accounts == ("Expenses:Rent",)
    assert YEAR.window(rent.drill.span) == (date(2026, 1, 1), date(2026, 12, 31))
    assert [r.key for r in income.rows if r.kind is RowKind.RESULT] == [
        "gross_profit",
        "operating_result",
        "net_result",
    ]


def test_balance_sheet_shows_the_result_as_equity_and_balances() -> None:
    _, sheet, _ = statements(YEAR_ONE)
    assert sheet.amount("total_assets") == D("11680.00")
    assert sheet.amount("assets:Assets:Fixed:Depreciation") == D("-600.00")
    assert sheet.amount("total_liabilities") == D("1230.00")
    assert sheet.amount("current_result") == D("450.00")
    assert sheet.amount("prior_results") == D("0.00")
    assert sheet.amount("total_equity") == D("10450.00")
    assert sheet.amount("total_liabilities_and_equity") == D("11680.00")
    with pytest.raises(KeyError):
        sheet.row("differences")
    drill = sheet.row("assets:Assets:Bank:Checking").drill
    assert drill is not None
    assert drill.span is Span.TO_DATE


def test_cash_flow_by_the_indirect_method() -> None:
    _, _, flow = statements(YEAR_ONE)
    assert flow.amount("net_result") == D("450.00")
    assert flow.amount("non_cash:Assets:Fixed:Depreciation") == D("600.00")
    assert flow.amount("working_capital:Assets:Receivables:Customers") == D("-1880.00")
    assert flow.amount("working_capital:Assets:Inventory") == D("-300.00")
    assert flow.amount("working_capital:Liabilities:Payables:Vendors") == D("800.00")
    assert flow.amount("working_capital:Liabilities:Tax:Output") == D("380.00")
    assert flow.amount("operating_total") == D("50.00")
    assert flow.amount("investing_total") == D("-3000.00")
    assert flow.amount("financing_total") == D("10050.00")  # capital and the accrued loan
    assert flow.amount("net_change") == D("7100.00")
    assert flow.amount("cash_opening") == D("0.00")
    assert flow.amount("cash_closing") == D("7100.00")
    with pytest.raises(KeyError):
        flow.row("differences")


def test_comparison_columns_and_results_of_prior_years() -> None:
    later = [*YEAR_ONE, *ledger(("2027-03-01", [("Assets:Cash", "99"), ("Income:Other", "-99")]))]
    columns = (Column("2027", date(2027, 1, 1), date(2027, 12, 31)), YEAR)
    to_date = tuple(sums(later, None, c.end) for c in columns)
    ytd = tuple(
        sums(later, c.start, c.end, AccountType.INCOME, AccountType.EXPENSES) for c in columns
    )
    sheet = balance_sheet(columns, to_date, ytd, CHART, "EUR", 2)
    assert sheet.row("current_result").amounts == (D("99.00"), D("450.00"))
    assert sheet.row("prior_results").amounts == (D("450.00"), D("0.00"))
    assert sheet.row("total_assets").amounts == sheet.row("total_liabilities_and_equity").amounts
    prior = sheet.row("prior_results").drill
    assert prior is not None
    assert columns[0].window(prior.span) == (None, date(2026, 12, 31))


def test_a_layout_names_lines_and_moves_accounts() -> None:
    layout = parse_layout(
        "management",
        [
            {"match": "code:6000-6499", "section": "operating_expenses", "line": "Overheads"},
            {"match": "Expenses:Depreciation", "section": "other", "line": "D&A"},
        ],
    )
    activity = sums(YEAR_ONE, YEAR.start, YEAR.end)
    income = income_statement((YEAR,), (activity,), CHART, "EUR", 2, layout)
    assert income.amount("operating_expenses:Overheads") == D("-400.00")  # rent (6100)
    assert income.amount("other:D&A") == D("-600.00")
    assert income.amount("net_result") == D("450.00")
    overheads = income.row("operating_expenses:Overheads").drill
    assert overheads is not None
    assert overheads.accounts == ("Expenses:Rent",)


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ([{"match": "Assets:Cash", "section": "revenue"}], "rules[0].match"),
        ([{"match": "Income", "section": "gains"}], "rules[0].section"),
        ([{"match": "Income"}], "rules[0].section"),
        ([{"match": "Income", "section": "revenue", "colour": "red"}], "rules[0]"),
        (
            [{"match": "Income", "section": "revenue"}, {"match": "code:", "section": "other"}],
            "rules[1].match",
        ),
    ],
)
def test_a_bad_layout_rule_is_refused_naming_it(rules: list[dict[str, str]], field: str) -> None:
    with pytest.raises(InvalidFieldError) as refused:
        parse_layout("x", rules)
    assert refused.value.field == field


def test_default_cash_flow_classes_and_overrides() -> None:
    assert default_class("Assets:Cash") is FlowClass.CASH
    assert default_class("Assets:Receivables:Customers") is FlowClass.WORKING_CAPITAL
    assert default_class("Liabilities:Tax:Output") is FlowClass.WORKING_CAPITAL
    assert default_class("Assets:Fixed:Equipment") is FlowClass.INVESTING
    assert default_class("Liabilities:Loans") is FlowClass.FINANCING
    assert default_class("Equity:Capital") is FlowClass.FINANCING
    assert default_class("Income:Sales") is None
    classes = classify(
        ["Assets:Prepaid", "Assets:Bank:Savings", "Assets:Bank:Checking"],
        {"Assets:Bank": FlowClass.INVESTING, "Assets:Bank:Checking": FlowClass.CASH},
    )
    assert classes == {
        "Assets:Prepaid": FlowClass.WORKING_CAPITAL,
        "Assets:Bank:Savings": FlowClass.INVESTING,
        "Assets:Bank:Checking": FlowClass.CASH,
    }


def test_unrealised_exchange_differences_are_a_non_cash_item() -> None:
    # A receivable revalued in the FX journal: its movement moves from working capital
    # to the non-cash line; the totals do not change.
    lines = ledger(
        (
            "2026-06-01",
            [("Assets:Receivables:Customers", "119"), ("Income:Sales:Services", "-119")],
        ),
        ("2026-06-30", [("Assets:Receivables:Customers", "6"), ("Income:Other", "-6")]),
    )
    revaluation = {"Assets:Receivables:Customers": D("6.00"), "Income:Other": D("-6.00")}
    activity = sums(lines, YEAR.start, YEAR.end)
    flows = FlowBalances(({},), (activity,), (sums(lines, None, YEAR.end),), (revaluation,))
    flow = cash_flow((YEAR,), flows, classify(NAMES, {}), CHART, "EUR", 2)
    assert flow.amount("unrealised") == D("-6.00")
    assert flow.amount("working_capital:Assets:Receivables:Customers") == D("-119.00")
    assert flow.amount("net_change") == D("0.00")
    unrealised = flow.row("unrealised").drill
    assert unrealised is not None
    assert unrealised.journals == ("FX",)


def test_periods_and_comparisons() -> None:
    quarter = Period(date(2026, 4, 1), date(2026, 6, 30))
    assert previous_period(quarter) == Period(date(2026, 1, 1), date(2026, 3, 31))
    february = Period(date(2024, 2, 1), date(2024, 2, 29))
    assert previous_period(february) == Period(date(2024, 1, 1), date(2024, 1, 31))
    assert same_period_last_year(february) == Period(date(2023, 2, 1), date(2023, 2, 28))
    ten_days = Period(date(2026, 3, 11), date(2026, 3, 20))
    assert previous_period(ten_days) == Period(date(2026, 3, 1), date(2026, 3, 10))
    found = comparisons(quarter, "previous, last-year,2020-01-01..2020-12-31")
    assert [p.label for p in found] == ["2026-01-01..2026-03-31", "2025-04-01..2025-06-30", "2020"]
    with pytest.raises(InvalidFieldError) as refused:
        comparisons(quarter, "yesterday")
    assert refused.value.field == "compare"
    with pytest.raises(InvalidFieldError):
        Period(date(2026, 2, 1), date(2026, 1, 1))


def test_statement_as_a_table_keeps_numbers_as_numbers() -> None:
    income, _, _ = statements(YEAR_ONE)
    table = statement_table(income)
    assert table.columns[1].kind == NUMBER
    assert table.columns[1].scale == 2
    results = [
        row for row, style in zip(table.rows, table.styles, strict=True) if style == "result"
    ]
    assert results[-1] == ("Net result", D("450.00"))
    assert table.rows[0] == ("Revenue", None)
    assert table.subtitle == "2026-01-01 to 2026-12-31"


# -- properties on random balanced ledgers -----------------------------------------------

DAYS = st.integers(min_value=0, max_value=3 * 365 - 1)
AMOUNTS = st.integers(min_value=-(10**7), max_value=10**7).filter(bool)


@st.composite
def entries(draw: st.DrawFn) -> list[Line]:
    """One balanced entry: 2-4 postings, amounts in cents, the last one balancing."""
    day = date(2025, 1, 1) + timedelta(days=draw(DAYS))
    accounts = draw(st.lists(st.sampled_from(NAMES), min_size=2, max_size=4))
    amounts = [D(draw(AMOUNTS)).scaleb(-2) for _ in accounts[1:]]
    amounts.append(-sum(amounts, D("0.00")))
    return [Line(day, a, x) for a, x in zip(accounts, amounts, strict=True)]


LEDGERS = st.lists(entries(), max_size=25).map(lambda es: [line for e in es for line in e])
PERIODS = st.tuples(DAYS, st.integers(min_value=0, max_value=400)).map(
    lambda p: Column(
        "p",
        date(2025, 1, 1) + timedelta(days=p[0]),
        date(2025, 1, 1) + timedelta(days=p[0] + p[1]),
    )
)


@given(LEDGERS, PERIODS)
@settings(max_examples=150, deadline=None)
def test_properties_of_the_three_statements(lines: list[Line], column: Column) -> None:
    income, sheet, flow = statements(lines, column)
    # The balance sheet balances, with nothing left over.
    assert sheet.amount("total_assets") == sheet.amount("total_liabilities_and_equity")
    assert "differences" not in {r.key for r in sheet.rows}
    # The lines of the cash-flow statement add up to the change of the cash accounts.
    sections = sum(
        flow.amount(k) for k in ("operating_total", "investing_total", "financing_total")
    )
    assert "differences" not in {r.key for r in flow.rows}
    assert sections == flow.amount("net_change")
    assert flow.amount("net_change") == flow.amount("cash_closing") - flow.amount("cash_opening")
    cash = [n for n in NAMES if default_class(n) is FlowClass.CASH]
    moved = sum((v for n, v in sums(lines, column.start, column.end).items() if n in cash), D(0))
    assert flow.amount("net_change") == moved
    # The result is the change in equity from operations (prior and current results).
    _, opening, _ = statements(
        lines, Column("o", column.start - timedelta(days=400), column.start - timedelta(days=1))
    )
    operations = ("prior_results", "current_result")
    change = sum(sheet.amount(k) for k in operations) - sum(opening.amount(k) for k in operations)
    assert income.amount("net_result") == change == flow.amount("net_result")


@given(LEDGERS)
@settings(max_examples=60, deadline=None)
def test_a_layout_never_changes_the_result(lines: list[Line]) -> None:
    activity = sums(lines, date(2025, 1, 1), date(2027, 12, 31))
    odd = parse_layout(
        "odd",
        [
            {"match": "code:6*", "section": "cost_of_sales", "line": "Sixes"},
            {"match": "Income:Sales", "section": "other"},
            {"match": "Expenses", "section": "revenue", "line": "Everything else"},
        ],
    )
    column = Column("all", date(2025, 1, 1), date(2027, 12, 31))
    default = income_statement((column,), (activity,), CHART, "EUR", 2, DEFAULT_LAYOUT)
    other = income_statement((column,), (activity,), CHART, "EUR", 2, odd, depth=2)
    assert default.amount("net_result") == other.amount("net_result")


@given(LEDGERS)
@settings(max_examples=80, deadline=None)
def test_the_closing_entry_moves_the_result_to_retained_earnings(lines: list[Line]) -> None:
    end = date(2026, 12, 31)
    results = sums(lines, None, end, AccountType.INCOME, AccountType.EXPENSES)
    buckets = [Bucket(n, "EUR", v, D(0), v) for n, v in sorted(results.items())]
    entry = closing_entry(2026, buckets, "Equity:RetainedEarnings", "EUR")
    if not any(results.values()):
        assert entry is None
        return
    assert entry is not None
    check_balanced(entry.postings, {"EUR": 2})
    after = [*lines, *(Line(entry.date, p.account, p.amount) for p in entry.postings)]
    closed = sums(after, None, end, AccountType.INCOME, AccountType.EXPENSES)
    assert not any(closed.values())
    retained = sums(after, None, end).get("Equity:RetainedEarnings", D(0))
    before = sums(lines, None, end).get("Equity:RetainedEarnings", D(0))
    assert retained - before == sum(results.values(), D(0))


def test_closing_a_foreign_currency_amount_at_its_base_value() -> None:
    entry = closing_entry(
        2026,
        [
            Bucket("Income:Sales:Services", "USD", D("-500.00"), D("-100.00"), D("-368.00")),
            Bucket("Expenses:Rent", "EUR", D("100.00"), D(0), D("100.00")),
        ],
        "Equity:RetainedEarnings",
        "EUR",
    )
    assert entry is not None
    check_balanced(entry.postings, {"EUR": 2, "USD": 2})
    lines = [(p.account, p.amount, p.commodity, p.weight) for p in entry.postings]
    assert lines == [
        ("Income:Sales:Services", D("400.00"), "USD", D("368.00")),
        ("Income:Sales:Services", D("100.00"), "USD", D("100.00")),
        ("Expenses:Rent", D("-100.00"), "EUR", D("-100.00")),
        ("Equity:RetainedEarnings", D("-268.00"), "EUR", D("-268.00")),
        ("Equity:RetainedEarnings", D("-100.00"), "USD", D("-100.00")),
    ]
    assert CHART["Equity:RetainedEarnings"] == Account(
        "Equity:RetainedEarnings", code="3100", description="Retained earnings"
    )
