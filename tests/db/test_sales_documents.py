"""Quotes and sales orders on both databases: lines priced from the catalogue, totals as the
core computes them, gapless numbers per year, every status move allowed or refused exactly as
the core's tables say (a refused one changes nothing), one order per accepted quote."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import text

from crmledger.bootstrap import App
from crmledger.core.access import PermissionDeniedError, Principal, Role
from crmledger.core.crm.deals import Deal
from crmledger.core.crm.documents import (
    ORDER_TRANSITIONS,
    QUOTE_TRANSITIONS,
    Line,
    OrderStatus,
    QuoteStatus,
    TaxRule,
    totals,
)
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.core.crm.products import Price, Product
from crmledger.core.errors import InvalidFieldError, TransitionError
from crmledger.services.crm_ports import DocumentQuery
from crmledger.services.errors import NotFoundError, VersionConflictError
from crmledger.services.sales import DraftLine, Quote, SalesOrder
from crmledger.services.settling import NewPayment
from crmledger.services.trail import Actor
from tests.conftest import FixedClock

D = Decimal
RATES = {
    "standard": TaxRule(D("0.19"), "line"),
    "reduced": TaxRule(D("0.07"), "line"),
    "zero": TaxRule(D("0"), "line"),
}


def party(app: App, name: str = "Acme GmbH") -> int:
    return int(app.parties.add(Party(kind=PartyKind.ORGANISATION, display_name=name)).id or 0)


def product(app: App, sku: str = "WID-1", **changes: object) -> int:
    stored = app.products.add(
        replace(
            Product(
                sku=sku,
                name="Widget",
                income_account="Income:Sales:Products",
                prices=(Price("EUR", D("9.99")),),
            ),
            **changes,
        )
    )
    return stored.key


def audit_count(app: App) -> int:
    return len(app.audit.log(limit=1000))


def quote_in(app: App, status: QuoteStatus, customer: int) -> Quote:
    """A fresh quote moved to ``status`` along allowed transitions."""
    quote = app.sales.create_quote(customer, "EUR", [DraftLine(description="Pen", unit_price=D(1))])
    path = {
        QuoteStatus.DRAFT: [],
        QuoteStatus.SENT: ["send"],
        QuoteStatus.ACCEPTED: ["accept"],
        QuoteStatus.REJECTED: ["send", "reject"],
        QuoteStatus.EXPIRED: ["send", "expire"],
        QuoteStatus.CANCELLED: ["cancel"],
    }[status]
    for action in path:
        quote = _quote_action(app, action, quote)
    assert quote.status is status
    return quote


def _quote_action(app: App, action: str, quote: Quote) -> Quote:
    if action == "accept":
        return app.sales.accept_quote(quote.id, quote.version)[0]
    move = getattr(app.sales, f"{action}_quote")
    result: Quote = move(quote.id, quote.version)
    return result


def order_in(app: App, status: OrderStatus, customer: int) -> SalesOrder:
    order = app.sales.create_order(customer, "EUR", [DraftLine(description="Pen", unit_price=D(1))])
    path = {
        OrderStatus.DRAFT: [],
        OrderStatus.CONFIRMED: ["confirm"],
        OrderStatus.FULFILLED: ["confirm", "fulfil"],
        OrderStatus.CANCELLED: ["cancel"],
        OrderStatus.PAID: ["confirm", "pay"],
    }[status]
    for action in path:
        if action == "pay":  # its invoice paid in full
            draft = app.invoices.from_order(order.id)
            app.invoices.issue(draft.id)
            app.payments.record(NewPayment(party_id=customer, amount=draft.gross, currency="EUR"))
            order = app.sales.get_order(order.id)
            continue
        order = getattr(app.sales, f"{action}_order")(order.id, order.version)
    assert order.status is status
    return order


# -- pricing and totals ---------------------------------------------------------------------


def test_lines_take_the_product_s_name_price_and_tax_and_totals_match_the_core(app: App) -> None:
    customer = party(app)
    widget = product(app)
    book = product(app, "BOOK-1", name="Book", tax_category="reduced")
    lines = [
        DraftLine(product_id=widget, quantity=D("3")),
        DraftLine(product_id=book, quantity=D("2.5"), discount=D("12.5")),
        DraftLine(description="Setup", unit_price=D("120.00"), tax_category="zero"),
        DraftLine(product_id=widget, description="Widget, blue", unit_price=D("10.05")),
    ]
    quote = app.sales.create_quote(customer, "EUR", lines)
    expected_lines = [
        Line(widget, "Widget", D("3"), D("9.99")),
        Line(book, "Book", D("2.5"), D("9.99"), D("12.5"), "reduced"),
        Line(None, "Setup", D(1), D("120.00"), tax_category="zero"),
        Line(widget, "Widget, blue", D(1), D("10.05")),
    ]
    assert list(quote.lines) == expected_lines
    expected = totals(expected_lines, 2, RATES)
    assert quote.totals == expected
    assert (quote.totals.net, quote.totals.tax, quote.totals.gross) == (
        D("181.87"),  # 29.97 + 21.85 (2.5 x 9.99 less 12.5 %) + 120.00 + 10.05
        D("9.13"),  # 5.69 + 1.53 (reduced) + 0 (zero) + 1.91
        D("191.00"),
    )
    assert app.sales.get_quote(quote.id).totals == expected  # as stored, not recomputed
    assert app.sales.preview("EUR", lines).totals == expected


def test_a_per_document_category_and_a_changed_rate_keep_stored_totals(app: App) -> None:
    with app.engine.begin() as conn:
        conn.execute(text("INSERT INTO tax_categories VALUES ('flat', '0.10', 'document')"))
    customer = party(app)
    pens = [DraftLine(description="Pen", unit_price=D("1.05"), tax_category="flat")] * 3
    quote = app.sales.create_quote(customer, "EUR", pens)
    assert quote.totals.tax == D("0.32")  # 3.15 * 0.10 rounded once, half to even
    assert [t.tax for t in quote.totals.lines] == [D("0.11"), D("0.11"), D("0.10")]
    with app.engine.begin() as conn:
        conn.execute(text("UPDATE tax_categories SET rate = '0.20' WHERE category = 'flat'"))
    assert app.sales.get_quote(quote.id).totals == quote.totals
    assert app.sales.preview("EUR", pens).totals.tax == D("0.63")


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (DraftLine(description="Pen", unit_price=D(1), quantity=D(0)), "lines[2].quantity"),
        (
            DraftLine(description="Pen", unit_price=D(1), quantity=D("0.0000001")),
            "lines[2].quantity",
        ),
        (DraftLine(description="Pen", unit_price=D("1.001")), "lines[2].unit_price"),
        (DraftLine(description="Pen", unit_price=D(-1)), "lines[2].unit_price"),
        (DraftLine(description="Pen", unit_price=D(1), discount=D(101)), "lines[2].discount"),
        (
            DraftLine(description="Pen", unit_price=D(1), tax_category="luxury"),
            "lines[2].tax_category",
        ),
        (DraftLine(description="", unit_price=D(1)), "lines[2].description"),
        (DraftLine(description="Pen"), "lines[2].unit_price"),
        (DraftLine(product_id=999), "lines[2].product_id"),
    ],
)
def test_a_bad_line_is_refused_naming_it_and_nothing_is_stored(
    app: App, line: DraftLine, field: str
) -> None:
    customer = party(app)
    good = [DraftLine(product_id=product(app)), DraftLine(description="Fee", unit_price=D(5))]
    before = audit_count(app)
    with pytest.raises(InvalidFieldError) as caught:
        app.sales.create_quote(customer, "EUR", [*good, line])
    assert caught.value.field == field, caught.value
    with pytest.raises(InvalidFieldError):
        app.sales.create_order(customer, "EUR", [*good, line])
    assert app.sales.list_quotes(DocumentQuery()) == []
    assert app.sales.list_orders(DocumentQuery()) == []
    assert audit_count(app) == before
    assert app.sales.create_quote(customer, "EUR", good).number == "Q-2026-0001"


def test_a_product_without_a_price_in_the_currency_needs_an_explicit_one(app: App) -> None:
    customer, widget = party(app), product(app)
    with pytest.raises(InvalidFieldError) as caught:
        app.sales.create_quote(customer, "USD", [DraftLine(product_id=widget)])
    assert caught.value.field == "lines[0].unit_price"
    assert "WID-1" in str(caught.value)
    quote = app.sales.create_quote(customer, "USD", [DraftLine(widget, unit_price=D("11.50"))])
    assert quote.totals.gross == D("13.68")  # 2.185 tax rounds half to even
    with pytest.raises(InvalidFieldError) as caught:
        app.sales.create_quote(customer, "JPY", [DraftLine(widget, unit_price=D("1300.5"))])
    assert caught.value.field == "lines[0].unit_price"


def test_an_inactive_product_an_unknown_party_currency_or_deal_is_refused(app: App) -> None:
    customer, widget = party(app), product(app)
    app.products.update(widget, {"active": False}, None)
    cases = [
        ((customer, "EUR", [DraftLine(widget)]), "lines[0].product_id"),
        ((999, "EUR", []), "party_id"),
        ((customer, "XXQ", []), "currency"),
    ]
    for args, field in cases:
        with pytest.raises(InvalidFieldError) as caught:
            app.sales.create_quote(*args)
        assert caught.value.field == field
    with pytest.raises(InvalidFieldError) as caught:
        app.sales.create_quote(customer, "EUR", [], deal_id=999)
    assert caught.value.field == "deal_id"
    with pytest.raises(InvalidFieldError) as caught:
        app.sales.create_quote(customer, "EUR", [], valid_until=date(2026, 6, 29))
    assert caught.value.field == "valid_until"
    assert app.sales.list_quotes(DocumentQuery()) == []


# -- numbers ----------------------------------------------------------------------------------


def test_concurrent_quotes_get_distinct_gapless_numbers(app: App) -> None:
    customer = party(app)

    def create(_: int) -> str:
        return app.sales.create_quote(customer, "EUR", []).number

    with ThreadPoolExecutor(max_workers=4) as pool:
        numbers = list(pool.map(create, range(12)))
    assert sorted(numbers) == [f"Q-2026-{n:04d}" for n in range(1, 13)]


def test_numbers_are_gapless_per_series_and_year(app: App, clock: FixedClock) -> None:
    customer = party(app)
    numbers = [app.sales.create_quote(customer, "EUR", []).number for _ in range(3)]
    with pytest.raises(InvalidFieldError):
        app.sales.create_quote(customer, "XXQ", [])
    numbers.append(app.sales.create_quote(customer, "EUR", []).number)
    assert numbers == ["Q-2026-0001", "Q-2026-0002", "Q-2026-0003", "Q-2026-0004"]
    assert app.sales.create_order(customer, "EUR", []).number == "SO-2026-0001"
    assert app.sales.accept_quote(1, None)[1].number == "SO-2026-0002"
    clock.current = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
    assert app.sales.create_quote(customer, "EUR", []).number == "Q-2027-0001"
    assert app.sales.create_order(customer, "EUR", []).number == "SO-2027-0001"


# -- status machines --------------------------------------------------------------------------

QUOTE_ACTIONS = {
    "send": QuoteStatus.SENT,
    "accept": QuoteStatus.ACCEPTED,
    "reject": QuoteStatus.REJECTED,
    "expire": QuoteStatus.EXPIRED,
    "cancel": QuoteStatus.CANCELLED,
}
ORDER_ACTIONS = {
    "confirm": OrderStatus.CONFIRMED,
    "fulfil": OrderStatus.FULFILLED,
    "cancel": OrderStatus.CANCELLED,
}


def test_every_quote_transition_is_allowed_or_refused_as_the_core_says(app: App) -> None:
    customer = party(app)
    mismatches = []
    for status in QuoteStatus:
        for action, target in QUOTE_ACTIONS.items():
            quote = quote_in(app, status, customer)
            orders, records = len(app.sales.list_orders(DocumentQuery())), audit_count(app)
            allowed = target in QUOTE_TRANSITIONS.get(status, frozenset())
            try:
                moved = _quote_action(app, action, quote)
            except TransitionError:
                unchanged = app.sales.get_quote(quote.id) == quote
                same = (len(app.sales.list_orders(DocumentQuery())), audit_count(app))
                if allowed or not unchanged or same != (orders, records):
                    mismatches.append((status.value, action, "refused"))
                continue
            if not allowed or moved.status is not target or moved.version != quote.version + 1:
                mismatches.append((status.value, action, moved.status.value))
    assert mismatches == []


def test_every_order_transition_is_allowed_or_refused_as_the_core_says(app: App) -> None:
    customer = party(app)
    mismatches = []
    for status in OrderStatus:
        for action, target in ORDER_ACTIONS.items():
            order = order_in(app, status, customer)
            records = audit_count(app)
            allowed = target in ORDER_TRANSITIONS.get(status, frozenset())
            try:
                moved = getattr(app.sales, f"{action}_order")(order.id, order.version)
            except TransitionError:
                unchanged = app.sales.get_order(order.id) == order
                if allowed or not unchanged or audit_count(app) != records:
                    mismatches.append((status.value, action, "refused"))
                continue
            if not allowed or moved.status is not target:
                mismatches.append((status.value, action, moved.status.value))
    assert mismatches == []


def test_moves_are_dated_and_stale_versions_refused(app: App) -> None:
    customer = party(app)
    quote = app.sales.create_quote(customer, "EUR", [])
    sent = app.sales.send_quote(quote.id, quote.version)
    assert (sent.sent_on, sent.decided_on) == (date(2026, 6, 30), None)
    with pytest.raises(VersionConflictError):
        app.sales.reject_quote(quote.id, quote.version)
    assert app.sales.get_quote(quote.id) == sent
    rejected = app.sales.reject_quote(quote.id, sent.version)
    assert rejected.decided_on == date(2026, 6, 30)
    order = app.sales.create_order(customer, "EUR", [])
    confirmed = app.sales.confirm_order(order.id, None)
    fulfilled = app.sales.fulfil_order(order.id, confirmed.version)
    assert (fulfilled.confirmed_on, fulfilled.fulfilled_on) == (date(2026, 6, 30),) * 2
    with pytest.raises(NotFoundError):
        app.sales.send_quote(999, None)
    with pytest.raises(NotFoundError):
        app.sales.confirm_order(999, None)


# -- accepting --------------------------------------------------------------------------------


def test_accepting_creates_exactly_one_confirmed_order_with_the_quote_s_lines(app: App) -> None:
    customer = party(app)
    lines = [DraftLine(product_id=product(app), quantity=D(4)), DraftLine(None, "Fee", D(1), D(5))]
    quote = app.sales.send_quote(app.sales.create_quote(customer, "EUR", lines).id, None)
    accepted, order = app.sales.accept_quote(quote.id, quote.version)
    assert accepted.status is QuoteStatus.ACCEPTED
    assert accepted.order_id == order.id
    assert order.status is OrderStatus.CONFIRMED
    assert order.quote_id == quote.id
    assert (order.lines, order.totals) == (quote.lines, quote.totals)
    assert order.confirmed_on == date(2026, 6, 30)
    with pytest.raises(TransitionError):
        app.sales.accept_quote(quote.id, None)
    with pytest.raises(TransitionError):
        app.sales.order_from_quote(quote.id)
    orders = app.sales.list_orders(DocumentQuery(quote_id=quote.id))
    assert [o.id for o in orders] == [order.id]
    assert app.sales.get_quote(quote.id).order_id == order.id
    actions = [r.action for r in app.audit.log(limit=3)]
    assert actions == ["order.create", "quote.accept", "quote.send"]


def test_an_order_from_a_quote_accepts_it(app: App) -> None:
    quote = app.sales.create_quote(party(app), "EUR", [DraftLine(description="X", unit_price=D(2))])
    order = app.sales.order_from_quote(quote.id)
    assert order.quote_id == quote.id
    assert order.totals.gross == D("2.38")
    assert app.sales.get_quote(quote.id).status is QuoteStatus.ACCEPTED


def test_a_quote_past_its_validity_cannot_be_accepted(app: App, clock: FixedClock) -> None:
    quote = app.sales.create_quote(party(app), "EUR", [], valid_until=date(2026, 7, 15))
    clock.current = datetime(2026, 7, 15, 23, 0, tzinfo=UTC)
    sent = app.sales.send_quote(quote.id, None)
    clock.current = datetime(2026, 7, 16, 8, 0, tzinfo=UTC)
    with pytest.raises(TransitionError, match="expired on 2026-07-15"):
        app.sales.accept_quote(quote.id, None)
    assert app.sales.get_quote(quote.id) == sent
    assert app.sales.list_orders(DocumentQuery()) == []
    assert app.sales.expire_quote(quote.id, None).status is QuoteStatus.EXPIRED


def test_accepting_a_quote_wins_its_deal_in_the_same_transaction(app: App) -> None:
    customer, other = party(app), party(app, "Other AG")
    deal = app.deals.add(
        Deal(
            pipeline="sales",
            stage="",
            title="Fleet",
            party_id=customer,
            amount=D("100.00"),
            currency="EUR",
        )
    )
    with pytest.raises(InvalidFieldError) as caught:
        app.sales.create_quote(other, "EUR", [], deal_id=deal.id)
    assert caught.value.field == "deal_id"
    quote = app.sales.create_quote(customer, "EUR", [], deal_id=deal.id)
    _, order = app.sales.accept_quote(quote.id, None)
    assert order.deal_id == deal.id
    assert app.deals.get(deal.id or 0).stage == "won"


# -- editing ----------------------------------------------------------------------------------


def test_only_a_draft_s_lines_change(app: App) -> None:
    customer = party(app)
    quote = app.sales.create_quote(customer, "EUR", [DraftLine(description="A", unit_price=D(1))])
    edited = app.sales.update_quote(
        quote.id,
        {"lines": [DraftLine(description="B", unit_price=D(10), quantity=D(2))]},
        quote.version,
    )
    assert [line.description for line in edited.lines] == ["B"]
    assert edited.totals.gross == D("23.80")
    assert edited.version == 2
    assert app.sales.get_quote(quote.id) == edited
    with pytest.raises(VersionConflictError):
        app.sales.update_quote(quote.id, {"valid_until": date(2026, 8, 1)}, 1)
    with pytest.raises(InvalidFieldError) as caught:
        app.sales.update_quote(quote.id, {"currency": "USD"}, None)
    assert caught.value.field == "currency"
    with pytest.raises(InvalidFieldError) as caught:
        app.sales.update_quote(quote.id, {"lines": [DraftLine(description="C")]}, None)
    assert caught.value.field == "lines[0].unit_price"
    sent = app.sales.send_quote(quote.id, None)
    with pytest.raises(TransitionError):
        app.sales.update_quote(quote.id, {"valid_until": date(2026, 8, 1)}, None)
    assert app.sales.get_quote(quote.id) == sent


def test_lists_filter_and_page_newest_first(app: App) -> None:
    acme, other = party(app), party(app, "Other AG")
    ids = [app.sales.create_quote(acme if n % 2 else other, "EUR", []).id for n in range(5)]
    app.sales.send_quote(ids[0], None)
    pages, after = [], None
    while True:
        page = app.sales.list_quotes(DocumentQuery(limit=2, after=after))
        pages.append([q.id for q in page])
        if len(page) < 2:
            break
        after = page[-1].id
    assert pages == [[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]
    assert [q.id for q in app.sales.list_quotes(DocumentQuery(party_id=acme))] == [ids[3], ids[1]]
    assert [q.id for q in app.sales.list_quotes(DocumentQuery(status="sent"))] == [ids[0]]


def test_roles(app: App) -> None:
    customer = party(app)
    viewer = app.acting_as(Actor(Principal(user_id=5, label="v", role=Role.VIEWER)))
    with pytest.raises(PermissionDeniedError):
        viewer.sales.create_quote(customer, "EUR", [])
    assert viewer.sales.preview("EUR", [DraftLine(description="A", unit_price=D(1))]).totals
    quote = app.sales.create_quote(customer, "EUR", [])
    with pytest.raises(PermissionDeniedError):
        viewer.sales.send_quote(quote.id, None)
    assert app.sales.get_quote(quote.id).status is QuoteStatus.DRAFT
    accountant = app.acting_as(Actor(Principal(user_id=6, label="a", role=Role.ACCOUNTANT)))
    assert accountant.sales.send_quote(quote.id, None).status is QuoteStatus.SENT
