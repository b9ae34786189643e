"""Financial statements through the real store, on SQLite and PostgreSQL: random balanced
ledgers read back to the same figures as a recomputation from the entries (and so balance,
reconcile cash and equal the change in equity), foreign currencies at their booked base
values, drill-down to the entries behind a figure, cash-flow class overrides and layouts,
and the year-end close: statements equal before and after, close then reopen gives the
same statements, and a closed year refuses postings."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmledger.bootstrap import App, build, migrate
from crmledger.core.access import PermissionDeniedError, Principal, Role
from crmledger.core.cash_flow import FlowClass
from crmledger.core.chart import chart
from crmledger.core.entries import Conversion, JournalEntry, Posting
from crmledger.core.errors import InvalidFieldError, UnknownAccountError
from crmledger.core.reports import TrialBalance
from crmledger.core.statement_periods import Period, year_period
from crmledger.core.statements import Column, Statement
from crmledger.persistence.ledger_reads import (
    recompute_base_conversions,
    stored_base_conversions,
)
from crmledger.services.errors import EntriesRejectedError, NotFoundError
from crmledger.services.ports import EntryQuery
from crmledger.services.trail import Actor
from crmledger.services.year_close import (
    YearClosedError,
    YearLockedError,
    YearNotClosedError,
    YearNotEndedError,
)
from tests.conftest import FAST_HASHER, FixedClock, settings_for
from tests.core.test_statements import Line, entries, statements
from tests.helpers import entry, sale

D = Decimal
YEAR_2025 = year_period(2025)
YEAR_2026 = year_period(2026)


def figures(statement: Statement) -> list[tuple[str, tuple[Decimal, ...]]]:
    return [(row.key, row.amounts) for row in statement.rows]


def post_lines(app: App, lines: list[Line]) -> None:
    app.ledger.post(
        [
            JournalEntry(
                date=lines[0].day,
                narration="Random",
                postings=tuple(Posting(x.account, x.amount, "EUR") for x in lines),
            )
        ]
    )


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batch=st.lists(entries(), min_size=1, max_size=6),
    first=st.integers(min_value=0, max_value=900),
    length=st.integers(min_value=0, max_value=400),
)
def test_statements_read_back_as_recomputed_from_the_entries(
    app: App, batch: list[list[Line]], first: int, length: int
) -> None:
    # The book grows from example to example; every statement must still equal the
    # statements computed from every entry posted so far.
    for lines in batch:
        post_lines(app, lines)
    posted = _posted(app)
    start = date(2025, 1, 1) + timedelta(days=first)
    column = Column("p", start, start + timedelta(days=length))
    expected = statements(posted, column)
    period = Period(column.start, column.end)
    income = app.statements.income_statement(period)
    sheet = app.statements.balance_sheet(column.end, start=column.start)
    flow = app.statements.cash_flow(period)
    assert figures(income) == figures(expected[0])
    assert figures(sheet) == figures(expected[1])
    assert figures(flow) == figures(expected[2])
    assert sheet.amount("total_assets") == sheet.amount("total_liabilities_and_equity")
    totals = ("operating_total", "investing_total", "financing_total")
    assert sum(flow.amount(k) for k in totals) == flow.amount("net_change")
    # The result is the change in equity from operations between the period's edges.
    before = app.statements.balance_sheet(column.start - timedelta(days=1))
    operations = ("prior_results", "current_result")
    change = sum(sheet.amount(k) for k in operations) - sum(before.amount(k) for k in operations)
    assert income.amount("net_result") == change


def _posted(app: App) -> list[Line]:
    found = app.ledger.entries(EntryQuery(limit=500))
    return [Line(e.date, p.account, p.amount) for e in found for p in e.postings]


def balances(trial: TrialBalance) -> dict[tuple[str, str], Decimal]:
    return {(r.account, r.commodity): r.balance for r in trial.rows if r.balance}


def two_years(app: App) -> None:
    """2025 and the first half of 2026 of a small company."""
    app.ledger.post(
        [
            entry(
                "2025-01-02",
                "Capital",
                ("Assets:Bank:Checking", "5000"),
                ("Equity:Capital", "-5000"),
            ),
            sale("2025-03-05", "1200.00"),
            entry("2025-04-01", "Rent", ("Expenses:Rent", "300"), ("Assets:Bank:Checking", "-300")),
            entry(
                "2025-06-15",
                "Invoice",
                ("Assets:Receivables:Customers", "595"),
                ("Income:Sales:Services", "-500"),
                ("Liabilities:Tax:Output", "-95"),
            ),
            entry(
                "2025-12-31",
                "Depreciation",
                ("Expenses:Depreciation", "120"),
                ("Assets:Fixed:Depreciation", "-120"),
            ),
            sale("2026-02-10", "80.00"),
            entry(
                "2026-03-01",
                "Paid",
                ("Assets:Bank:Checking", "595"),
                ("Assets:Receivables:Customers", "-595"),
            ),
        ]
    )


def snapshot(app: App) -> list[list[tuple[str, tuple[Decimal, ...]]]]:
    s = app.statements
    return [
        figures(s.income_statement(YEAR_2025, "previous")),
        figures(s.income_statement(Period(date(2026, 1, 1), date(2026, 6, 30)), "last-year")),
        figures(s.balance_sheet(date(2025, 12, 31), "last-year")),
        figures(s.balance_sheet(date(2026, 6, 30), "previous")),
        figures(s.cash_flow(YEAR_2025)),
        figures(s.cash_flow(YEAR_2026, "previous")),
    ]


def test_close_and_reopen_leave_the_statements_as_they_were(app: App) -> None:
    two_years(app)
    before = snapshot(app)
    trial_before = app.reports.trial_balance(date(2026, 6, 30))
    closed = app.statements.close_year(2025)
    assert closed.entry is not None
    assert closed.entry.ref == "CL/2025/1"
    assert closed.result == D("1280.00")  # 1,200 + 500 - 300 - 120
    assert app.ledger.info().lock_date == date(2025, 12, 31)
    assert snapshot(app) == before
    # The ledger itself moved the result: income and expenses are empty at the year end.
    trial = {
        (r.account, r.commodity): r.balance
        for r in app.reports.trial_balance(date(2025, 12, 31)).rows
    }
    assert trial[("Equity:RetainedEarnings", "EUR")] == D("-1280.00")
    assert trial[("Income:Sales:Products", "EUR")] == D("0.00")
    assert trial[("Expenses:Rent", "EUR")] == D("0.00")
    sheet = app.statements.balance_sheet(date(2026, 6, 30))
    assert sheet.amount("prior_results") == D("1280.00")
    assert sheet.amount("current_result") == D("80.00")
    # A closed year refuses postings and a second close.
    with pytest.raises(EntriesRejectedError, match="lock date"):
        app.ledger.post([sale("2025-07-01", "1.00")])
    with pytest.raises(YearClosedError):
        app.statements.close_year(2025)
    reopened = app.statements.reopen_year(2025)
    assert reopened.entry is not None
    assert reopened.entry.ref == "CL/2025/2"
    assert app.ledger.info().lock_date is None
    assert snapshot(app) == before
    assert balances(app.reports.trial_balance(date(2026, 6, 30))) == balances(trial_before)
    with pytest.raises(YearNotClosedError):
        app.statements.reopen_year(2025)
    app.ledger.post([sale("2025-07-01", "1.00")])  # open again
    again = app.statements.close_year(2025)
    assert again.entry is not None
    assert again.entry.ref == "CL/2025/3"
    assert again.result == D("1281.00")
    closes = app.statements.closes()
    assert [(c.year, c.reopened_at is not None) for c in closes] == [(2025, True), (2025, False)]


def test_close_keeps_the_lock_it_found_and_refuses_a_locked_year(app: App) -> None:
    two_years(app)
    app.ledger.lock_period(date(2025, 6, 30))
    app.statements.close_year(2025)
    app.statements.reopen_year(2025)
    assert app.ledger.info().lock_date == date(2025, 6, 30)
    app.ledger.lock_period(date(2025, 12, 31))
    with pytest.raises(YearLockedError, match="locked up to 2025-12-31"):
        app.statements.close_year(2025)
    app.ledger.lock_period(date(2026, 1, 31))
    with pytest.raises(YearLockedError):
        app.statements.close_year(2026 - 1)


def test_years_close_in_order_and_reopen_in_reverse(app: App, clock: FixedClock) -> None:
    two_years(app)
    with pytest.raises(YearNotEndedError, match="2026 ends on 2026-12-31"):
        app.statements.close_year(2026)
    clock.current = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
    empty = app.statements.close_year(2024)  # nothing to move, but the year is closed
    assert empty.entry is None
    app.statements.close_year(2025)
    with pytest.raises(YearLockedError, match="locked up to 2025-12-31"):
        app.statements.close_year(2024 - 1)
    app.statements.close_year(2026)
    with pytest.raises(YearLockedError, match="2026 is closed"):
        app.statements.reopen_year(2025)
    for year, lock in ((2026, date(2025, 12, 31)), (2025, date(2024, 12, 31)), (2024, None)):
        assert app.statements.reopen_year(year).lock_date == lock
        assert app.ledger.info().lock_date == lock


def test_the_closing_account_is_opened_when_missing(
    db_url: str, clock: FixedClock, tmp_path: Path
) -> None:
    # A book on the minimal chart has no retained earnings account yet.
    book = build(settings_for(db_url, tmp_path), clock, FAST_HASHER)
    try:
        migrate(book)
        book.ledger.init_book(chart("minimal"), "EUR")
        book.ledger.post([entry("2025-03-05", "Fee", ("Assets:Bank", "10"), ("Income", "-10"))])
        assert "Equity:RetainedEarnings" not in {a.name for a in book.ledger.accounts()}
        done = book.statements.close_year(2025)
        assert done.entry is not None
        assert "Equity:RetainedEarnings" in {a.name for a in book.ledger.accounts()}
        closing = book.ledger.get(done.entry.id)
        assert closing.journal == "CL"
        assert closing.tags == ("closing",)
        assert closing.reference == "CLOSE-2025"
        assert [(p.account, p.amount) for p in closing.postings] == [
            ("Income", D("10.00")),
            ("Equity:RetainedEarnings", D("-10.00")),
        ]
        actions = [r.action for r in book.audit.log(None, 10, {})]
        assert {"account.create", "period.close", "period.lock"} <= set(actions)
        income = book.statements.income_statement(YEAR_2025)
        assert income.amount("net_result") == D("10.00")  # the closing entry is left out
    finally:
        book.engine.dispose()


def test_foreign_amounts_count_at_their_base_value_or_a_rate(app: App, clock: FixedClock) -> None:
    booked = Conversion(D("107.10"), "EUR", total=True)
    app.ledger.post(
        [
            JournalEntry(
                date=date(2026, 6, 2),
                narration="Invoice in dollars",
                postings=(
                    Posting("Assets:Receivables:Customers", D("119.00"), "USD", price=booked),
                    Posting("Income:Sales:Services", D("-119.00"), "USD", price=booked),
                ),
            ),
            entry(
                "2026-06-03",
                "Dollars in",
                ("Assets:Bank:Savings", "50"),
                ("Equity:Capital", "-50"),
                ccy="USD",
            ),
        ]
    )
    june = Period(date(2026, 6, 1), date(2026, 6, 30))
    income = app.statements.income_statement(june)
    assert income.amount("revenue_total") == D("107.10")
    sheet = app.statements.balance_sheet(date(2026, 6, 30))
    assert sheet.amount("total_assets") == D("107.10")  # the dollars have no rate yet
    assert sheet.notes == (
        "2026-06-30: amounts in USD have no value in EUR "
        "(no rate on or before 2026-06-30) and are left out.",
    )
    app.rates.set_rate("USD", date(2026, 6, 1), D("0.9"))
    sheet = app.statements.balance_sheet(date(2026, 6, 30))
    assert sheet.notes == ()
    assert sheet.amount("assets:Assets:Bank:Savings") == D("45.00")
    assert sheet.amount("equity:Equity:Capital") == D("45.00")
    assert sheet.amount("total_assets") == sheet.amount("total_liabilities_and_equity")
    flow = app.statements.cash_flow(june)
    assert flow.amount("net_change") == D("45.00")
    assert flow.amount("financing_total") == D("45.00")
    # Closing a dollar income at its booked value empties it in both commodities.
    clock.current = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
    done = app.statements.close_year(2026)
    assert done.result == D("107.10")
    trial = app.reports.trial_balance(date(2026, 12, 31))
    left = {(r.account, r.commodity): r.balance for r in trial.rows}
    assert left[("Income:Sales:Services", "USD")] == D("0.00")
    assert left[("Equity:RetainedEarnings", "EUR")] == D("-107.10")


def test_drilldown_lists_the_entries_behind_a_figure(app: App) -> None:
    two_years(app)
    income = app.statements.income_statement(YEAR_2025)
    row = income.row("revenue_total")
    assert row.drill is not None
    start, end = income.columns[0].window(row.drill.span)
    page = app.statements.drilldown(row.drill.accounts, start, end)
    assert [p.reference for p in page.postings] == ["GJ/2025/2", "GJ/2025/4"]
    assert -page.total == row.amounts[0] == D("1700.00")
    assert page.next_after is None
    first = app.statements.drilldown(["Assets:Bank"], None, None, limit=2)
    assert [p.reference for p in first.postings] == ["GJ/2025/1", "GJ/2025/3"]
    assert first.next_after is not None
    rest = app.statements.drilldown(["Assets:Bank"], None, None, after=first.next_after)
    assert [p.reference for p in rest.postings] == ["GJ/2026/2"]
    journal = app.statements.drilldown(None, date(2026, 1, 1), date(2026, 12, 31))
    assert [(p.reference, p.account) for p in journal.postings] == [
        ("GJ/2026/1", "Assets:Cash"),
        ("GJ/2026/1", "Income:Sales:Products"),
        ("GJ/2026/2", "Assets:Bank:Checking"),
        ("GJ/2026/2", "Assets:Receivables:Customers"),
    ]
    app.statements.close_year(2025)
    hidden = app.statements.drilldown(["Equity:RetainedEarnings"], None, None)
    shown = app.statements.drilldown(["Equity:RetainedEarnings"], None, None, exclude=())
    assert hidden.postings == ()
    assert [p.reference for p in shown.postings] == ["CL/2025/1"]
    with pytest.raises(UnknownAccountError):
        app.statements.drilldown(["Assets:Nowhere"], None, None)
    with pytest.raises(InvalidFieldError):
        app.statements.drilldown(["Assets"], date(2026, 2, 1), date(2026, 1, 1))


def test_overrides_and_layouts_change_the_lines_not_the_totals(app: App) -> None:
    two_years(app)
    before = app.statements.cash_flow(YEAR_2026)
    app.statements.set_flow_class("Assets:Receivables:Customers", FlowClass.INVESTING)
    after = app.statements.cash_flow(YEAR_2026)
    assert after.amount("investing:Assets:Receivables:Customers") == D("595.00")
    assert after.amount("net_change") == before.amount("net_change")
    views = {v.account: v for v in app.statements.flow_classes()}
    assert views["Assets:Receivables:Customers"].flow_class is FlowClass.INVESTING
    assert views["Assets:Receivables:Customers"].overridden
    assert not views["Assets:Receivables:Other"].overridden
    with pytest.raises(UnknownAccountError):
        app.statements.set_flow_class("Assets:Receivables", FlowClass.CASH)
    app.statements.set_flow_class("Assets:Receivables:Customers", None)
    assert figures(app.statements.cash_flow(YEAR_2026)) == figures(before)
    with pytest.raises(InvalidFieldError):
        app.statements.set_flow_class("Income:Other", FlowClass.CASH)
    app.statements.save_layout(
        "board", [{"match": "Income:Sales", "section": "revenue", "line": "Sales"}]
    )
    income = app.statements.income_statement(YEAR_2025, layout="board")
    assert income.amount("revenue:Sales") == D("1700.00")
    assert [lay.name for lay in app.statements.layouts()] == ["default", "board"]
    with pytest.raises(NotFoundError):
        app.statements.income_statement(YEAR_2025, layout="nope")


def test_a_viewer_reads_statements_but_closes_nothing(app: App) -> None:
    two_years(app)
    viewer = app.statements.acting_as(Actor(Principal(7, "vic@example.com", Role.VIEWER)))
    assert viewer.income_statement(YEAR_2025).amount("net_result") == D("1280.00")
    with pytest.raises(PermissionDeniedError):
        viewer.close_year(2025)
    with pytest.raises(PermissionDeniedError):
        viewer.set_flow_class("Assets:Cash", FlowClass.WORKING_CAPITAL)
    sales = app.statements.acting_as(Actor(Principal(8, "sam@example.com", Role.SALES)))
    with pytest.raises(PermissionDeniedError):
        sales.balance_sheet(date(2025, 12, 31))


def test_conversion_sums_are_kept_in_the_posting_transaction(app: App) -> None:
    """The running sums of conversions into the base currency equal a recomputation from
    the postings after inserts, a draft posted later and a reversal."""
    booked = Conversion(D("92.00"), "EUR", total=True)
    dollars = JournalEntry(
        date=date(2026, 3, 2),
        narration="Invoice in dollars",
        postings=(
            Posting("Assets:Receivables:Customers", D("100.00"), "USD", price=booked),
            Posting("Income:Sales:Services", D("-100.00"), "USD", price=booked),
        ),
    )
    [first] = app.ledger.post([dollars, sale("2026-03-03", "5.00")])[:1]
    draft = app.ledger.save_draft(replace(dollars, date=date(2026, 4, 1)))
    app.ledger.post_draft(draft)
    app.ledger.reverse(first.id, date(2026, 5, 1))
    with app.engine.connect() as conn:
        stored = stored_base_conversions(conn)
        assert stored == recompute_base_conversions(conn, "EUR")
    assert len(stored) == 6  # two accounts in March, April and May
    assert sorted({period for _, _, period in stored}) == [202603, 202604, 202605]
    income = app.statements.income_statement(Period(date(2026, 3, 1), date(2026, 5, 31)))
    assert income.amount("revenue_total") == D("97.00")  # 92 + 92 - 92 + 5
