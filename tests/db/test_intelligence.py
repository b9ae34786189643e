"""Customer intelligence on both databases: a small book built through the real services
(orders invoiced, payments, a credit note, a foreign-currency invoice, a dunning letter,
calls, complaints, surveys, a deal), and every figure of the customer 360 and of the
profitability report recomputed here from the raw rows of the documents."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest
from sqlalchemy import text

from crmledger.bootstrap import App
from crmledger.core.access import PermissionDeniedError, Principal, Role
from crmledger.core.churn import ChurnSignals, churn_risk
from crmledger.core.crm.deals import Deal
from crmledger.core.crm.interactions import (
    Channel,
    Direction,
    Interaction,
    InteractionKind,
    Priority,
)
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.core.crm.products import Price, Product
from crmledger.core.crm.satisfaction import Response, SurveyKind
from crmledger.core.errors import InvalidFieldError
from crmledger.core.intelligence import CustomerActivity, rfm_scores
from crmledger.core.profitability import DEFAULT_COST_TO_SERVE
from crmledger.services.errors import NotFoundError
from crmledger.services.invoicing import DocumentLine, NewDocument
from crmledger.services.sales import DraftLine
from crmledger.services.settling import NewPayment
from crmledger.services.trail import Actor
from tests.conftest import FixedClock

D = Decimal
TODAY = date(2026, 6, 30)
CENT = Decimal("0.01")


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)


@dataclass
class Book:
    acme: int
    beta: int
    cara: int
    idle: int
    owner: int
    widget: int


def _on(clock: FixedClock, day: date) -> None:
    clock.current = at(day)


def _order_invoice(
    app: App, clock: FixedClock, party: int, day: date, lines: list[DraftLine]
) -> Any:
    _on(clock, day)
    order = app.sales.create_order(party, "EUR", lines)
    app.sales.confirm_order(order.id, order.version)
    draft = app.invoices.from_order(order.id)
    return app.invoices.issue(draft.id, draft.version)


def _invoice(app: App, clock: FixedClock, party: int, day: date, amount: str, cur: str) -> Any:
    _on(clock, day)
    line = DocumentLine(description="Consulting", unit_price=D(amount))
    draft = app.invoices.create(NewDocument(party_id=party, currency=cur, lines=[line]))
    return app.invoices.issue(draft.id, draft.version)


def _pay(app: App, party: int, amount: str, day: date, currency: str = "EUR") -> None:
    app.payments.record(
        NewPayment(party_id=party, amount=D(amount), currency=currency, paid_on=day)
    )


def _touch(app: App, party: int, kind: InteractionKind, day: date, **more: Any) -> int:
    item = Interaction(
        kind=kind,
        party_id=party,
        subject=f"{kind.value} on {day}",
        channel=Channel.PHONE,
        direction=Direction.INBOUND,
        occurred_at=at(day, 10),
        **more,
    )
    return int(app.interactions.add(item).id or 0)


def _nps(app: App, party: int, score: int, day: date) -> None:
    app.satisfaction.record(
        Response(kind=SurveyKind.NPS, score=score, party_id=party, answered_on=day)
    )


def build_book(app: App, clock: FixedClock) -> Book:
    """The book every test here reads; the clock ends on 30 June 2026, noon UTC."""
    owner = app.access.add_user("owner@example.com", Role.SALES, "correct horse battery").id
    org = PartyKind.ORGANISATION
    acme = app.parties.add(
        Party(
            kind=org, display_name="Acme GmbH", segment="SMB", owner_id=owner, payment_terms_days=14
        )
    ).id
    beta = app.parties.add(Party(kind=org, display_name="Beta AG", segment="Enterprise")).id
    cara = app.parties.add(
        Party(kind=PartyKind.PERSON, display_name="", given_name="Cara", family_name="Diaz")
    ).id
    idle = app.parties.add(Party(kind=org, display_name="Idle Ltd")).id
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
    assert acme
    assert beta
    assert cara
    assert idle
    _order_invoice(
        app, clock, acme, date(2026, 1, 10), [DraftLine(product_id=widget, quantity=D(2))]
    )
    _pay(app, acme, "238.00", date(2026, 2, 5))
    _invoice(app, clock, beta, date(2026, 2, 20), "1000.00", "EUR")
    _order_invoice(app, clock, acme, date(2026, 3, 15), [DraftLine(product_id=widget)])
    _pay(app, beta, "500.00", date(2026, 4, 1))
    _pay(app, acme, "119.00", date(2026, 4, 10))
    app.rates.set_rate("USD", date(2026, 5, 1), D("0.9"))
    _invoice(app, clock, cara, date(2026, 5, 2), "100.00", "USD")
    may = _order_invoice(
        app, clock, acme, date(2026, 5, 20), [DraftLine(product_id=widget, quantity=D(3))]
    )
    _on(clock, date(2026, 5, 25))
    app.invoices.credit(may.id, [(1, D(1))], reason="one came back broken")
    _on(clock, date(2026, 6, 1))
    assert [n.party_id for n in app.dunning.run()] == [beta]
    _touch(app, acme, InteractionKind.CALL, date(2026, 3, 1))
    _touch(app, acme, InteractionKind.MEETING, date(2026, 4, 15))
    _touch(app, acme, InteractionKind.COMPLAINT, date(2026, 6, 10), priority=Priority.HIGH)
    _touch(app, beta, InteractionKind.EMAIL, date(2026, 2, 21))
    old = _touch(app, beta, InteractionKind.COMPLAINT, date(2025, 12, 1))
    app.interactions.change_status(old, "resolved", "Refunded the shipping", None)
    _nps(app, acme, 9, date(2026, 2, 10))
    _nps(app, acme, 5, date(2026, 6, 15))
    _nps(app, beta, 7, date(2026, 3, 1))
    app.deals.add(
        Deal(
            pipeline="sales",
            stage="proposal",
            title="Fleet",
            party_id=acme,
            amount=D("12000.00"),
            currency="EUR",
        )
    )
    clock.current = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
    return Book(acme, beta, cara, idle, owner, widget)


@pytest.fixture
def book(app: App, clock: FixedClock) -> Book:
    return build_book(app, clock)


# -- recomputation from the raw rows ----------------------------------------------------


def rows(app: App, sql: str, **params: Any) -> list[Any]:
    with app.engine.connect() as conn:
        return list(conn.execute(text(sql), params))


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date()
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _base(minor: int, rate: Any) -> Decimal:
    value = Decimal(minor) / 100 * (Decimal(rate) if rate else 1)
    return value.quantize(CENT, ROUND_HALF_EVEN)


@dataclass
class Raw:
    """Per (party, month): revenue, cost of goods and the events that cost to serve."""

    revenue: Decimal = Decimal(0)
    goods: Decimal = Decimal(0)
    touches: dict[str, int] | None = None
    complaints: int = 0
    credit_notes: int = 0
    dunning: int = 0
    money_days: Decimal = Decimal(0)

    def cost(self) -> tuple[Decimal, ...]:
        c = DEFAULT_COST_TO_SERVE
        touches = sum((c.interactions[k] * n for k, n in (self.touches or {}).items()), D(0))
        financing = (self.money_days * c.credit_rate / 365).quantize(CENT, ROUND_HALF_EVEN)
        return (
            touches,
            c.complaint * self.complaints,
            c.credit_note * self.credit_notes,
            c.dunning_step * self.dunning,
            financing,
        )


def recompute(
    app: App, start: date | None = None, end: date | None = None
) -> dict[tuple[int, int], Raw]:
    """Every customer's months, straight from the tables (``start..end`` inclusive)."""

    def within(day: date) -> bool:
        return (start is None or day >= start) and (end is None or day <= end)

    cells: dict[tuple[int, int], Raw] = defaultdict(Raw)
    docs = rows(
        app,
        "SELECT id, kind, party_id, rate, issued_on, net_minor, open_minor, status "
        "FROM billing_documents WHERE status <> 'draft'",
    )
    issued = {d.id: d for d in docs}
    for d in docs:
        day = _day(d.issued_on)
        if not within(day):
            continue
        cell = cells[(d.party_id, day.year * 100 + day.month)]
        value = _base(d.net_minor, d.rate)
        if d.kind == "invoice":
            cell.revenue += value
        else:
            cell.revenue -= value
            cell.credit_notes += 1
        if d.kind == "invoice" and d.status in ("issued", "partially_paid"):
            cell.money_days += _base(d.open_minor, d.rate) * (TODAY - day).days
    for line in rows(
        app, "SELECT document_id, cost_minor FROM billing_lines WHERE cost_minor IS NOT NULL"
    ):
        d = issued.get(line.document_id)
        if d is not None and d.kind == "invoice" and within(_day(d.issued_on)):
            day = _day(d.issued_on)
            cells[(d.party_id, day.year * 100 + day.month)].goods += Decimal(line.cost_minor) / 100
    for a in rows(
        app,
        "SELECT invoice_id, amount_minor, allocated_on FROM allocations "
        "WHERE invoice_id IS NOT NULL",
    ):
        d = issued[a.invoice_id]
        day = _day(d.issued_on)
        if within(day):
            days = max(0, (_day(a.allocated_on) - day).days)
            cells[(d.party_id, day.year * 100 + day.month)].money_days += (
                _base(a.amount_minor, d.rate) * days
            )
    letters = {n.interaction_id for n in rows(app, "SELECT interaction_id FROM dunning_notices")}
    for n in rows(app, "SELECT party_id, sent_on FROM dunning_notices"):
        day = _day(n.sent_on)
        if within(day):
            cells[(n.party_id, day.year * 100 + day.month)].dunning += 1
    for i in rows(app, "SELECT id, party_id, kind, occurred_at FROM interactions"):
        day = _day(i.occurred_at)
        if i.id in letters or not within(day):
            continue
        cell = cells[(i.party_id, day.year * 100 + day.month)]
        if i.kind == "complaint":
            cell.complaints += 1
        else:
            cell.touches = (cell.touches or {}) | {i.kind: (cell.touches or {}).get(i.kind, 0) + 1}
    return cells


def per_party(cells: dict[tuple[int, int], Raw]) -> dict[int, tuple[Decimal, ...]]:
    """(revenue, goods, five cost parts) per party, costs rounded per month as documented."""
    found: dict[int, list[Decimal]] = defaultdict(lambda: [D(0)] * 7)
    for (party, _), cell in cells.items():
        values = (cell.revenue, cell.goods, *cell.cost())
        found[party] = [a + b for a, b in zip(found[party], values, strict=True)]
    return {p: tuple(v) for p, v in found.items()}


def _line(line: Any) -> tuple[Decimal, ...]:
    c = line.cost_to_serve
    return (
        line.revenue,
        line.cost_of_goods,
        c.interactions,
        c.complaints,
        c.credit_notes,
        c.dunning,
        c.financing,
    )


# -- the tests ---------------------------------------------------------------------------


def test_the_360_lifetime_figures_match_the_raw_documents(app: App, book: Book) -> None:
    expected = per_party(recompute(app))
    view = app.intelligence.customer_360(book.acme)
    assert _line(view.lifetime) == expected[book.acme]
    # by hand: 200 + 100 + 300 invoiced, 100 credited; 2 + 1 + 3 widgets at 40.00 cost
    assert (view.lifetime.revenue, view.lifetime.cost_of_goods) == (D("500.00"), D("240.00"))
    assert view.lifetime.gross_margin == D("260.00")
    # a call (8.00) and a meeting (60.00), one complaint, one credit note
    assert view.lifetime.cost_to_serve.interactions == D("68.00")
    assert view.lifetime.cost_to_serve.complaints == D("40.00")
    assert view.lifetime.cost_to_serve.credit_notes == D("15.00")
    # money-days: Jan 238 x 26 -> 1.36; Mar 119 x 26 -> 0.68; May 119 x 5 + 238 x 41 -> 2.27
    assert view.lifetime.cost_to_serve.financing == D("4.31")
    assert view.lifetime.net == D("260.00") - D("68.00") - D("40.00") - D("15.00") - D("4.31")
    beta = app.intelligence.customer_360(book.beta)
    assert _line(beta.lifetime) == expected[book.beta]
    assert beta.lifetime.cost_to_serve.dunning == D("10.00")
    cara = app.intelligence.customer_360(book.cara)
    assert cara.lifetime.revenue == D("90.00")  # 100 USD at 0.9
    assert _line(cara.lifetime) == expected[book.cara]


def test_the_360_money_and_payment_behaviour_match(app: App, book: Book) -> None:
    view = app.intelligence.customer_360(book.acme)
    open_rows = rows(
        app,
        "SELECT open_minor, due_on FROM billing_documents WHERE party_id = :p AND kind = 'invoice' "
        "AND status IN ('issued', 'partially_paid')",
        p=book.acme,
    )
    due = sum((Decimal(r.open_minor) / 100 for r in open_rows), D(0))
    overdue = sum((Decimal(r.open_minor) / 100 for r in open_rows if _day(r.due_on) < TODAY), D(0))
    assert (view.balance.due_base, view.balance.overdue_base) == (due, overdue)
    assert due == D("238.00")  # 357.00 less the 119.00 credit note, due 3 June
    paid = rows(
        app,
        "SELECT issued_on, settled_on FROM billing_documents WHERE party_id = :p "
        "AND kind = 'invoice' AND status = 'paid' ORDER BY issued_on",
        p=book.acme,
    )
    days = [(_day(r.settled_on) - _day(r.issued_on)).days for r in paid]
    assert days == [26, 26]
    assert view.payment.average == D("26.0")
    assert view.payment.trend is None  # fewer than four paid invoices
    assert [(d.title, d.weighted) for d in view.open_deals] == [("Fleet", D("6000.00"))]
    assert [(p.currency, p.weighted) for p in view.pipeline] == [("EUR", D("6000.00"))]
    assert [c.subject for c in view.open_complaints] == ["complaint on 2026-06-10"]
    assert [i.kind for i in view.interactions][:1] == ["complaint"]
    assert len(view.orders) == 3
    assert [i.status for i in view.invoices] == ["partially_paid", "paid", "paid"]


def test_the_360_satisfaction_segment_value_and_churn(app: App, book: Book) -> None:
    view = app.intelligence.customer_360(book.acme)
    answers = rows(
        app,
        "SELECT score, answered_on FROM satisfaction_responses WHERE party_id = :p "
        "ORDER BY answered_on",
        p=book.acme,
    )
    assert [(p.period, p.responses, p.score) for p in view.satisfaction] == [
        ("2026-Q1", 1, D("100.0")),
        ("2026-Q2", 1, D("-100.0")),
    ]
    assert answers[-1].score == 5
    # RFM: the 360's score is the report's
    report = app.intelligence.rfm()
    assert report.count == 3  # Idle Ltd never bought
    by_party = {s.party_id: s for s in report.scores}
    assert view.rfm == by_party[book.acme]
    invoices = rows(
        app,
        "SELECT party_id, kind, rate, net_minor, issued_on FROM billing_documents "
        "WHERE status <> 'draft'",
    )
    acts = []
    for party in (book.acme, book.beta, book.cara):
        mine = [r for r in invoices if r.party_id == party]
        bought = [r for r in mine if r.kind == "invoice"]
        revenue = sum(
            (_base(r.net_minor, r.rate) * (1 if r.kind == "invoice" else -1) for r in mine), D(0)
        )
        acts.append(
            CustomerActivity(party, max(_day(r.issued_on) for r in bought), len(bought), revenue)
        )
    _, expected = rfm_scores(acts, TODAY)
    assert list(report.scores) == expected
    assert view.rfm is not None
    assert view.rfm.frequency == 3
    # lifetime value: 260.00 margin over Jan..Jun (6 months) = 43.33 a month
    clv = view.lifetime_value
    assert clv is not None
    assert clv.assumptions.months_active == 6
    assert clv.assumptions.monthly_margin == D("43.33")
    assert clv.assumptions.retention_source == "default"
    assert clv.value == (D("43.33") * clv.expected_lifetime_months).quantize(CENT)
    # churn: recomputed signals give the same drivers
    signals = ChurnSignals(
        recency_days=(TODAY - date(2026, 5, 20)).days,
        usual_gap_days=D("65.0"),  # 10 Jan .. 20 May over two gaps
        days_to_pay_trend=None,
        max_days_overdue=(TODAY - date(2026, 6, 3)).days,
        recent_complaints=1,
        open_complaints=1,
        latest_nps=5,
    )
    assert view.churn == churn_risk(signals)
    named = {d.name: d.contribution for d in view.churn.drivers}
    assert named["complaints"] == D("10.0")
    assert named["satisfaction"] == D("7.5")  # 3 points below 8, 2.5 each
    assert view.churn.score == int(sum(named.values(), D(0)).quantize(D(1), ROUND_HALF_EVEN))
    idle = app.intelligence.customer_360(book.idle)
    assert idle.rfm is None
    assert idle.lifetime_value is None
    assert idle.lifetime.revenue == D("0.00")


@pytest.mark.parametrize("period", [(None, None), (date(2026, 3, 1), date(2026, 5, 31))])
def test_profitability_by_customer_and_month_match_the_raw_documents(
    app: App, book: Book, period: tuple[date | None, date | None]
) -> None:
    start, end = period
    raw = recompute(app, start, end)
    expected = per_party(raw)
    report = app.intelligence.profitability("customer", start, end, sort="key")
    assert {int(line.key): _line(line) for line in report.lines} == expected
    assert "Acme GmbH" in {line.label for line in report.lines}
    months: dict[int, list[Decimal]] = defaultdict(lambda: [D(0)] * 7)
    for (_, month), cell in raw.items():
        values = (cell.revenue, cell.goods, *cell.cost())
        months[month] = [a + b for a, b in zip(months[month], values, strict=True)]
    by_month = app.intelligence.profitability("month", start, end, sort="key")
    assert {line.key: _line(line) for line in by_month.lines} == {
        f"{m // 100}-{m % 100:02d}": tuple(v) for m, v in months.items()
    }
    totals = {
        by: _line(app.intelligence.profitability(by, start, end).totals)
        for by in ("customer", "product", "owner", "segment", "rfm_segment", "month")
    }
    assert len(set(totals.values())) == 1, totals


def test_profitability_by_product_owner_and_segment(app: App, book: Book) -> None:
    report = app.intelligence.profitability("product", sort="key")
    lines = {line.label: line for line in report.lines}
    widget = lines["WID-1 Widget"]
    assert (widget.revenue, widget.cost_of_goods) == (D("500.00"), D("240.00"))
    free = lines["(no product)"]
    assert free.revenue == D("1090.00")  # Beta 1000.00 + Cara 90.00
    # Idle Ltd has no costs; every cost is shared out over products
    customers = app.intelligence.profitability("customer")
    assert report.totals.cost_to_serve == customers.totals.cost_to_serve
    owners = {line.key: line for line in app.intelligence.profitability("owner").lines}
    assert owners[str(book.owner)].revenue == D("500.00")
    assert owners[""].label == "(no owner)"
    segments = {
        line.label: line.revenue for line in app.intelligence.profitability("segment").lines
    }
    assert segments == {"SMB": D("500.00"), "Enterprise": D("1000.00"), "(no segment)": D("90.00")}
    worst = app.intelligence.profitability("customer", sort="net").lines[0]
    assert worst.net == min(line.net for line in customers.lines)


def test_cohorts_and_receivables_kpis(app: App, book: Book) -> None:
    cohorts = app.intelligence.cohorts()
    assert [(c.label, c.active) for c in cohorts.cohorts] == [
        ("2026-01", (1, 0, 1, 0, 1, 0)),  # Acme: Jan, Mar, May
        ("2026-02", (1, 0, 0, 0, 0)),
        ("2026-05", (1, 0)),
    ]
    assert cohorts.retention.base == 0  # no year before the last yet
    kpis = app.intelligence.receivables_kpis(date(2026, 4, 1), date(2026, 6, 30), top=2)
    open_now = rows(
        app,
        "SELECT party_id, open_base_minor FROM billing_documents "
        "WHERE kind = 'invoice' AND status IN ('issued', 'partially_paid')",
    )
    owed = sum((Decimal(r.open_base_minor) / 100 for r in open_now), D(0))
    assert kpis.receivables == owed == D("690.00") + D("238.00") + D("107.10")
    assert [d.name for d in kpis.top_debtors] == ["Beta AG", "Acme GmbH"]
    assert [d.days_overdue for d in kpis.top_debtors] == [100, 27]  # due 22 March, 3 June
    # on 31 March: Beta's 1190.00 and Acme's March 119.00 (paid 10 April) were open
    assert kpis.opening == D("1309.00")
    # April to June: Cara's 107.10 (100 USD incl. tax at 0.9) and Acme's 357.00
    assert kpis.credit_sales == D("464.10")
    assert kpis.overdue == kpis.receivables  # nothing open on 30 June is due later
    assert kpis.collected == D("738.00")  # 500.00 + 119.00 paid, 119.00 credited
    assert kpis.dso == D("203.0")  # 1035.10 / 464.10 x 91 days
    assert kpis.cei == D("41.6")  # 738.00 / 1773.10
    c = kpis.concentration
    assert (c.customers, c.total) == (2, D("290.00"))  # Acme 200.00, Cara 90.00
    assert c.top[0] == (1, D("69.0"))
    assert c.herfindahl == D("5719")


def test_cost_to_serve_settings_change_the_figures_and_are_audited(app: App, book: Book) -> None:
    before = app.intelligence.customer_360(book.acme).lifetime
    app.intelligence.set_cost_to_serve({"interaction.meeting": "100.00", "credit_rate": "0"})
    after = app.intelligence.customer_360(book.acme).lifetime
    assert after.cost_to_serve.interactions == D("108.00")
    assert after.cost_to_serve.financing == D("0.00")
    assert after.net == before.net - D("40.00") + before.cost_to_serve.financing
    with pytest.raises(InvalidFieldError) as err:
        app.intelligence.set_cost_to_serve({"complaint": "1.001"})
    assert err.value.field == "complaint"
    with pytest.raises(InvalidFieldError) as err:
        app.intelligence.set_cost_to_serve({"interaction.complaint": "1"})
    assert err.value.field == "interaction.complaint"
    assert app.intelligence.cost_to_serve().interactions["meeting"] == D("100.00")
    [record] = [r for r in app.audit.log() if r.action == "cost_to_serve.set"]
    assert record.changes["before"] == {"credit_rate": "0.08", "interaction.meeting": "60.00"}
    assert record.changes["after"] == {"credit_rate": "0", "interaction.meeting": "100.00"}
    app.intelligence.set_cost_to_serve({}, reset=True)
    assert app.intelligence.cost_to_serve() == DEFAULT_COST_TO_SERVE


def test_permissions_and_unknown_party(app: App, book: Book) -> None:
    sales = Principal(user_id=book.owner, label="owner@example.com", role=Role.SALES)
    with pytest.raises(PermissionDeniedError):
        app.intelligence.acting_as(Actor(sales)).customer_360(book.acme)
    viewer = Principal(user_id=None, label="v", role=Role.VIEWER)
    assert app.intelligence.acting_as(Actor(viewer)).rfm().count == 3
    with pytest.raises(PermissionDeniedError):
        app.intelligence.acting_as(Actor(viewer)).set_cost_to_serve({"complaint": "1"})
    with pytest.raises(NotFoundError):
        app.intelligence.customer_360(9999)
    with pytest.raises(InvalidFieldError) as err:
        app.intelligence.profitability("colour")
    assert err.value.field == "by"


def test_the_snapshot_follows_the_book(app: App, book: Book, clock: FixedClock) -> None:
    first = app.intelligence.customer_360(book.beta).rfm
    _invoice(app, clock, book.beta, date(2026, 6, 29), "10.00", "EUR")
    clock.current = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
    # within five minutes the boundaries stay; the customer's own figures move at once
    same = app.intelligence.customer_360(book.beta).rfm
    assert first is not None
    assert same is not None
    assert same.frequency == first.frequency + 1
    clock.current = datetime(2026, 6, 30, 12, 6, tzinfo=UTC)
    later = app.intelligence.customer_360(book.beta).rfm
    report = {s.party_id: s for s in app.intelligence.rfm().scores}
    assert later == report[book.beta]
