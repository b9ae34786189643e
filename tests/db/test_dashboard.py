"""The home dashboard on both databases: a small book built through the real services
(invoices with cost of goods, a dollar invoice, a credit note, receipts, cash sales, rent,
a loan, equipment, deals, NPS answers) over this year and the last, and every key figure
recomputed here from the raw rows: revenue and cost of goods from the postings to income and
cost accounts, cash from the postings to the bank and cash accounts, receivables from the
control account, overdue and aging from the open documents, NPS from the answers; every
series adds up to its key figure, and the top customers are the profitability report's."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest
from sqlalchemy import event, text

from crmledger.bootstrap import App
from crmledger.core.access import PermissionDeniedError, Principal, Role
from crmledger.core.crm.deals import Deal
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.core.crm.products import Price, Product
from crmledger.core.crm.satisfaction import Response, SurveyKind
from crmledger.core.dashboard import bucket_of
from crmledger.core.errors import InvalidFieldError
from crmledger.core.statement_periods import Period
from crmledger.services.dashboard import Dashboard
from crmledger.services.invoicing import DocumentLine, NewDocument
from crmledger.services.settling import NewPayment
from crmledger.services.trail import Actor
from tests.conftest import FixedClock
from tests.helpers import entry

D = Decimal
TODAY = date(2026, 6, 30)
YEAR = Period(date(2026, 1, 1), TODAY)
LAST_YEAR = Period(date(2025, 1, 1), date(2025, 6, 30))
CENT = D("0.01")
#: The default layout's revenue accounts in the default chart (other income is not revenue).
REVENUE = ("Income:Sales:Products", "Income:Sales:Services")
CASH = ("Assets:Cash", "Assets:Bank:Checking", "Assets:Bank:Savings")


def _invoice(app: App, party: int, day: date, *lines: DocumentLine, cur: str = "EUR") -> Any:
    draft = app.invoices.create(
        NewDocument(party_id=party, currency=cur, lines=list(lines), issued_on=day)
    )
    return app.invoices.issue(draft.id, draft.version)


def _consulting(amount: str) -> DocumentLine:
    return DocumentLine(description="Consulting", unit_price=D(amount))


def _customers(app: App) -> list[int]:
    names = [f"Customer {chr(65 + i)}" for i in range(12)]
    found = []
    for name in names:
        party = app.parties.add(Party(kind=PartyKind.ORGANISATION, display_name=name))
        assert party.id is not None
        found.append(party.id)
    return found


def _sales(app: App, parties: list[int], widget: int) -> None:
    """Invoices of this year and the last; a dollar invoice; a credit note."""
    for i, party in enumerate(parties):
        day = date(2026, 1 + i % 6, 3 + i)
        _invoice(app, party, day, _consulting(f"{100 * (i + 1)}.00"))
        _invoice(app, party, day.replace(year=2025), _consulting(f"{50 * (i + 1)}.00"))
    widgets = DocumentLine(product_id=widget, quantity=D(5))
    first = _invoice(app, parties[0], date(2026, 3, 20), widgets)
    app.invoices.credit(first.id, [(1, D(1))], reason="one came back broken")
    app.rates.set_rate("USD", date(2026, 1, 1), D("0.9"))
    _invoice(app, parties[11], date(2026, 4, 2), _consulting("3000.00"), cur="USD")


def _money(app: App, parties: list[int]) -> None:
    """Receipts, a cash sale, rent, a loan and equipment."""
    for party, amount, day in (
        (parties[1], "238.00", date(2026, 3, 1)),
        (parties[2], "100.00", date(2026, 5, 5)),
        (parties[3], "59.50", date(2025, 5, 5)),
    ):
        app.payments.record(
            NewPayment(party_id=party, amount=D(amount), currency="EUR", paid_on=day)
        )
    app.ledger.post(
        [
            entry(
                "2025-02-01",
                "Capital",
                ("Assets:Bank:Checking", "20000"),
                ("Equity:Capital", "-20000"),
            ),
            entry(
                "2026-02-10", "Cash sale", ("Assets:Cash", "80"), ("Income:Sales:Products", "-80")
            ),
            entry("2026-03-31", "Rent", ("Expenses:Rent", "900"), ("Assets:Bank:Checking", "-900")),
            entry(
                "2026-04-15",
                "Loan",
                ("Assets:Bank:Checking", "5000"),
                ("Liabilities:Loans", "-5000"),
            ),
            entry(
                "2026-05-20",
                "Laptop",
                ("Assets:Fixed:Equipment", "1500"),
                ("Assets:Bank:Checking", "-1500"),
            ),
            entry("2026-06-02", "Interest", ("Assets:Bank:Savings", "12"), ("Income:Other", "-12")),
        ]
    )


def _pipeline(app: App, party: int) -> None:
    app.rates.set_rate("USD", date(2026, 6, 1), D("0.92"))
    for stage, amount, cur, chance in (
        ("lead", "1000.00", "EUR", None),
        ("proposal", "4000.00", "EUR", None),
        ("proposal", "2000.00", "EUR", D("0.5")),
        ("negotiation", "500.00", "USD", None),
        ("qualified", "700.00", "GBP", None),  # no GBP rate: left out and named
    ):
        app.deals.add(
            Deal(
                pipeline="sales",
                stage=stage,
                title=f"{stage} deal",
                party_id=party,
                amount=D(amount),
                currency=cur,
                probability=chance,
            )
        )


def _answers(app: App, parties: list[int]) -> None:
    scores = [(date(2026, 1, 5), 10), (date(2026, 1, 9), 6), (date(2026, 3, 3), 9)]
    scores += [(date(2026, 3, 4), 8), (date(2026, 6, 29), 3), (date(2025, 2, 2), 9)]
    scores += [(date(2025, 7, 1), 0)]  # after the comparison period
    for i, (day, score) in enumerate(scores):
        app.satisfaction.record(
            Response(kind=SurveyKind.NPS, score=score, party_id=parties[i], answered_on=day)
        )


def build(app: App) -> list[int]:
    """The book every test here reads."""
    parties = _customers(app)
    widget = app.products.add(
        Product(
            sku="WID-1",
            name="Widget",
            income_account="Income:Sales:Products",
            prices=(Price("EUR", D("100.00")),),
            cost=D("40.00"),
            cost_account="Expenses:COGS",
        )
    ).key
    _sales(app, parties, widget)
    _money(app, parties)
    _pipeline(app, parties[0])
    _answers(app, parties)
    return parties


@pytest.fixture
def board(app: App) -> tuple[App, Dashboard, list[int]]:
    parties = build(app)
    return app, app.dashboard.dashboard(), parties


# -- recomputation from the raw rows ----------------------------------------------------


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def rows(app: App, sql: str, **params: Any) -> list[Any]:
    with app.engine.connect() as conn:
        return list(conn.execute(text(sql), params))


def posted(app: App, names: tuple[str, ...], start: date | None, end: date) -> Decimal:
    """The base value of the postings to ``names`` (and their sub-accounts) dated ``start``
    to ``end``: the amount in euros, or the weight in euros of a priced posting."""
    found = rows(
        app,
        "SELECT a.name, p.commodity, p.amount_minor, c.weight_commodity, c.weight_minor, e.date "
        "FROM postings p JOIN journal_entries e ON e.id = p.entry_id "
        "JOIN accounts a ON a.id = p.account_id "
        "LEFT JOIN posting_conversions c ON c.posting_id = p.id "
        "WHERE e.state = 'posted'",
    )
    total = D(0)
    for name, commodity, minor, weight_ccy, weight, stored in found:
        day = _day(stored)
        if not any(name == n or name.startswith(n + ":") for n in names):
            continue
        if (start is not None and day < start) or day > end:
            continue
        if commodity == "EUR":
            total += D(minor) / 100
        else:
            assert weight_ccy == "EUR"
            total += D(weight) / 100
    return total


def revenue(app: App, period: Period) -> Decimal:
    return -posted(app, REVENUE, period.start, period.end)


def open_invoices(app: App) -> list[tuple[date | None, Decimal]]:
    found = rows(
        app,
        "SELECT due_on, open_base_minor FROM billing_documents WHERE kind = 'invoice' "
        "AND status IN ('issued', 'partially_paid') AND open_minor > 0",
    )
    return [
        (
            None if due is None else due if isinstance(due, date) else date.fromisoformat(str(due)),
            D(m) / 100,
        )
        for due, m in found
    ]


def charged(app: App, period: Period, usd_rate: Decimal) -> Decimal:
    """The debits to the receivables control account in ``period``: euros as they are,
    dollars at ``usd_rate`` (the rate of the period's last day)."""
    found = rows(
        app,
        "SELECT p.commodity, p.amount_minor, e.date FROM postings p "
        "JOIN journal_entries e ON e.id = p.entry_id JOIN accounts a ON a.id = p.account_id "
        "WHERE e.state = 'posted' AND a.name = 'Assets:Receivables:Customers' "
        "AND p.amount_minor > 0",
    )
    sums: dict[str, Decimal] = {}
    for commodity, minor, stored in found:
        if period.start <= _day(stored) <= period.end:
            sums[commodity] = sums.get(commodity, D(0)) + D(minor) / 100
    dollars = (sums.get("USD", D(0)) * usd_rate).quantize(CENT, ROUND_HALF_EVEN)
    return sums.get("EUR", D(0)) + dollars


def nps_of(scores: list[int]) -> Decimal | None:
    if not scores:
        return None
    lead = sum(1 for s in scores if s >= 9) - sum(1 for s in scores if s <= 6)
    return (D(lead) * 100 / len(scores)).quantize(D("0.1"), ROUND_HALF_EVEN)


def answers(app: App, period: Period) -> list[int]:
    found = rows(app, "SELECT score, answered_on FROM satisfaction_responses WHERE kind = 'nps'")
    return [
        int(score)
        for score, day in found
        if period.start
        <= (day if isinstance(day, date) else date.fromisoformat(str(day)))
        <= period.end
    ]


# -- the key figures ----------------------------------------------------------------------


def test_revenue_and_margin_are_the_income_and_cost_postings(board: Any) -> None:
    app, dash, _ = board
    assert dash.period == YEAR
    assert dash.comparison == LAST_YEAR
    kpi = dash.kpi("revenue")
    assert kpi.value == revenue(app, YEAR)
    assert kpi.previous == revenue(app, LAST_YEAR)
    assert kpi.value == D("7800.00") + D("500.00") - D("100.00") + D("2700.00") + D("80.00")
    assert kpi.change == kpi.value - kpi.previous
    cogs = posted(app, ("Expenses:COGS",), YEAR.start, YEAR.end)
    assert cogs == D("200.00")  # five widgets at 40; the credit note does not take it back
    assert dash.kpi("gross_margin").value == kpi.value - cogs
    assert dash.kpi("gross_margin").previous == kpi.previous


def test_cash_and_receivables_are_account_balances(board: Any) -> None:
    app, dash, _ = board
    cash = dash.kpi("cash")
    assert cash.value == posted(app, CASH, None, YEAR.end)
    assert cash.previous == posted(app, CASH, None, LAST_YEAR.end)
    assert cash.value == D("20000") + D("59.50") + D("238") + D("100") + 80 - 900 + 5000 - 1500 + 12
    owed = dash.kpi("receivables")
    control = ("Assets:Receivables:Customers",)
    assert owed.value == posted(app, control, None, YEAR.end)
    assert owed.previous == posted(app, control, None, LAST_YEAR.end)


def test_overdue_and_aging_come_from_the_open_documents(board: Any) -> None:
    app, dash, _ = board
    documents = open_invoices(app)
    late = [amount for due, amount in documents if due is not None and due < TODAY]
    assert dash.kpi("overdue").value == sum(late, D(0))
    assert dash.kpi("overdue").value > 0
    assert dash.kpi("overdue").previous is None
    by_bucket: Counter[int] = Counter()
    sums: dict[int, Decimal] = {}
    for due, amount in documents:
        index = bucket_of(due, TODAY)
        by_bucket[index] += 1
        sums[index] = sums.get(index, D(0)) + amount
    assert [b.documents for b in dash.aging] == [by_bucket[i] for i in range(5)]
    assert [b.amount for b in dash.aging] == [sums.get(i, D(0)) for i in range(5)]
    assert [b.label for b in dash.aging] == [
        "Not yet due",
        "1-30 days",
        "31-60 days",
        "61-90 days",
        "Over 90 days",
    ]
    assert sum(b.amount for b in dash.aging if b.overdue) == dash.kpi("overdue").value


def test_dso_divides_receivables_by_what_was_charged(board: Any) -> None:
    app, dash, _ = board
    owed = dash.kpi("receivables")
    days = (YEAR.end - YEAR.start).days + 1
    sales = charged(app, YEAR, D("0.92"))
    assert sales == D("7800.00") * D("1.19") + D("500.00") * D("1.19") + D("3570.00") * D("0.92")
    expected = (owed.value / sales * days).quantize(D("0.1"), ROUND_HALF_EVEN)
    assert dash.kpi("dso").value == expected
    before = charged(app, LAST_YEAR, D("0.92"))
    assert before == D("3900.00") * D("1.19")
    assert dash.kpi("dso").previous == (owed.previous / before * 181).quantize(
        D("0.1"), ROUND_HALF_EVEN
    )


def test_nps_counts_the_answers_of_each_period(board: Any) -> None:
    app, dash, _ = board
    now, then = answers(app, YEAR), answers(app, LAST_YEAR)
    assert dash.kpi("nps").value == nps_of(now) == D("0.0")
    assert dash.kpi("nps").previous == nps_of(then) == D("100.0")
    assert [m.month for m in dash.nps] == [f"2026-{m:02d}" for m in range(1, 7)]
    assert [m.responses for m in dash.nps] == [2, 0, 2, 0, 0, 1]
    assert [m.score for m in dash.nps] == [D("0.0"), None, D("50.0"), None, None, D("-100.0")]
    assert sum(m.responses for m in dash.nps) == len(now)


def test_the_pipeline_weighs_open_deals_in_the_base_currency(board: Any) -> None:
    app, dash, _ = board
    stages = {s.stage: s for s in dash.pipeline}
    assert [s.stage for s in dash.pipeline] == ["lead", "qualified", "proposal", "negotiation"]
    assert stages["lead"].weighted == D("100.00")  # 1,000 at the lead stage's 10 %
    assert stages["proposal"].deals == 2
    assert stages["proposal"].weighted == D("2000.00") + D("1000.00")  # 50 %, and an override
    assert stages["negotiation"].amount == D("460.00")  # 500 dollars at 0.92
    assert stages["negotiation"].weighted == D("345.00")  # at 75 %
    assert stages["qualified"].deals == 0
    assert any("GBP" in note for note in dash.notes)
    forecast = sum(r.weighted_amount for r in app.deals.forecast() if r.currency == "EUR")
    dollars = sum(r.weighted_amount for r in app.deals.forecast() if r.currency == "USD")
    assert dash.kpi("pipeline").value == forecast + (dollars * D("0.92")).quantize(CENT)
    assert dash.kpi("pipeline").value == sum(s.weighted for s in dash.pipeline)


# -- the series add up to the figures ------------------------------------------------------


def test_monthly_series_add_up_to_the_period(board: Any) -> None:
    app, dash, _ = board
    assert [m.month for m in dash.months] == [f"2026-{m:02d}" for m in range(1, 7)]
    assert sum(m.revenue for m in dash.months) == dash.kpi("revenue").value
    assert sum(m.gross_margin for m in dash.months) == dash.kpi("gross_margin").value
    for month in dash.months:
        assert month.revenue == revenue(app, month.period)


def test_the_waterfall_is_the_cash_flow_statement(board: Any) -> None:
    app, dash, _ = board
    steps = {s.key: s for s in dash.cash_flow}
    assert [s.key for s in dash.cash_flow] == [
        "cash_opening",
        "operating_total",
        "investing_total",
        "financing_total",
        "cash_closing",
    ]
    flows = sum(s.amount for s in dash.cash_flow if not s.total)
    assert steps["cash_opening"].amount + flows == steps["cash_closing"].amount
    assert steps["cash_closing"].amount == dash.kpi("cash").value
    assert steps["cash_opening"].amount == posted(app, CASH, None, date(2025, 12, 31))
    statement = app.statements.cash_flow(YEAR)
    for key, step in steps.items():
        assert step.amount == statement.amount(key), key
    assert steps["investing_total"].amount == D("-1500.00")
    assert steps["financing_total"].amount == D("5000.00")


def test_top_customers_are_the_profitability_reports(board: Any) -> None:
    app, dash, parties = board
    assert len(dash.top_customers) == 10
    report = app.intelligence.profitability(
        "customer", YEAR.start, YEAR.end, sort="-gross_margin", limit=10
    )
    assert [
        (c.party_id, c.revenue, c.cost_of_goods, c.gross_margin) for c in dash.top_customers
    ] == [
        (int(line.key), line.revenue, line.cost_of_goods, line.gross_margin)
        for line in report.lines
    ]
    first = dash.top_customers[0]
    assert first.party_id == parties[11]  # and a dollar invoice: 3,000 at 0.9
    assert first.name == "Customer L"
    assert first.revenue == D("1200.00") + D("2700.00")
    margins = [c.gross_margin for c in dash.top_customers]
    assert margins == sorted(margins, reverse=True)


def test_document_reads_are_kept_until_billing_changes(board: Any) -> None:
    app, dash, parties = board
    ranked: list[str] = []

    def seen(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        if "per_party" in sql or "GROUP BY billing_documents.due_on" in sql:
            ranked.append(sql)

    event.listen(app.engine, "before_cursor_execute", seen)
    try:
        again = app.dashboard.dashboard()
        assert ranked == []  # nothing changed since: the ranking and open invoices are reused
        assert again.top_customers == dash.top_customers
        assert again.aging == dash.aging
        _invoice(app, parties[5], date(2026, 6, 1), _consulting("9000.00"))
        moved = app.dashboard.dashboard()
        assert len(ranked) == 2
    finally:
        event.remove(app.engine, "before_cursor_execute", seen)
    assert moved.top_customers[0].party_id == parties[5]
    assert moved.top_customers[0].gross_margin == D("9600.00")
    assert moved.aging[0].amount == dash.aging[0].amount + D("10710.00")  # due in July
    assert dash.top_customers[0].party_id == parties[11]


# -- periods, permissions, an empty book ---------------------------------------------------


def test_a_chosen_period_compares_with_the_one_before(board: Any) -> None:
    app, _, _ = board
    spring = app.dashboard.dashboard(date(2026, 4, 1), date(2026, 6, 30), compare="previous")
    assert spring.comparison == Period(date(2026, 1, 1), date(2026, 3, 31))
    assert spring.kpi("revenue").value == revenue(app, spring.period)
    assert spring.kpi("revenue").previous == revenue(app, spring.comparison)
    with pytest.raises(InvalidFieldError) as bad:
        app.dashboard.dashboard(compare="forever")
    assert bad.value.field == "compare"
    with pytest.raises(InvalidFieldError):
        app.dashboard.dashboard(date(2026, 6, 1), date(2026, 5, 1))


def test_only_report_readers_see_the_dashboard(app: App) -> None:
    sales = Actor(Principal(user_id=None, label="sam", role=Role.SALES))
    with pytest.raises(PermissionDeniedError):
        app.acting_as(sales).dashboard.dashboard()
    viewer = Actor(Principal(user_id=None, label="vic", role=Role.VIEWER))
    assert app.acting_as(viewer).dashboard.dashboard().currency == "EUR"


def test_an_empty_book_has_zeros_and_no_answers(app: App, clock: FixedClock) -> None:
    dash = app.dashboard.dashboard()
    assert dash.kpi("revenue").value == D("0.00")
    assert dash.kpi("cash").value == D("0.00")
    assert dash.kpi("dso").value is None
    assert dash.kpi("nps").value is None
    assert dash.top_customers == ()
    assert [s.amount for s in dash.aging] == [D("0.00")] * 5
    assert len(dash.months) == 6
    assert dash.as_of == clock.today() == TODAY
