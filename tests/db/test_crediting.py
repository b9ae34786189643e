"""Credit notes take back no more than an invoice still has, on both databases: a credit "in
full" after a partial one credits only the rest of each line, an invoice with nothing left
is refused, and rounding per note never adds up to more (or less) than the line invoiced."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crmledger.bootstrap import App
from crmledger.core.errors import InvalidFieldError, TransitionError
from crmledger.services.billing_ports import BillingQuery
from crmledger.services.invoicing import DocumentLine, NewDocument
from tests.db.test_billing import balance, customer, pay

D = Decimal
REVENUE, TAX = "Income:Sales:Services", "Liabilities:Tax:Output"


def issued(app: App, party: int, *lines: tuple[str, str]) -> int:
    """An issued EUR invoice of ``(unit price, quantity)`` lines at the standard rate."""
    new = NewDocument(
        party_id=party,
        currency="EUR",
        lines=[
            DocumentLine(description=f"Item {i}", unit_price=D(price), quantity=D(quantity))
            for i, (price, quantity) in enumerate(lines, 1)
        ],
    )
    return app.invoices.issue(app.invoices.create(new).id).id


def notes(app: App) -> int:
    return len(app.invoices.page(BillingQuery(kind="credit_note")))


def test_a_full_credit_after_a_partial_one_credits_only_the_rest(app: App) -> None:
    party = customer(app)
    invoice = issued(app, party, ("100.00", "1"), ("20.00", "3"))
    part = app.invoices.credit(invoice, [(2, D(1))])
    assert (part.net, part.tax, part.gross) == (D("20.00"), D("3.80"), D("23.80"))
    rest = app.invoices.credit(invoice, None)
    assert [(ln.position, ln.quantity) for ln in rest.lines] == [(1, D(1)), (2, D(2))]
    assert (rest.net, rest.tax, rest.gross) == (D("140.00"), D("26.60"), D("166.60"))
    assert (rest.open, app.invoices.get(invoice).status) == (D("0.00"), "void")
    assert balance(app, REVENUE) == {}  # 160.00 invoiced, 20.00 + 140.00 credited
    assert balance(app, TAX) == {}
    assert balance(app, "Assets:Receivables:Customers", party) == {}
    assert app.payments.balance(party).currencies == ()  # nothing due, no credit left over


def test_a_line_credited_in_full_before_is_left_out(app: App) -> None:
    party = customer(app)
    invoice = issued(app, party, ("100.00", "1"), ("20.00", "3"))
    app.invoices.credit(invoice, [(2, D(3))])
    rest = app.invoices.credit(invoice)
    assert [(ln.position, ln.quantity, ln.net) for ln in rest.lines] == [(1, D(1), D("100.00"))]


def test_a_paid_invoice_credited_in_full_is_refused_a_second_time(app: App) -> None:
    party = customer(app)
    invoice = issued(app, party, ("100.00", "2"))
    pay(app, party, "238.00")
    half = app.invoices.credit(invoice, [(1, D(1))])
    rest = app.invoices.credit(invoice)
    assert (half.gross, rest.gross, rest.open) == (D("119.00"), D("119.00"), D("119.00"))
    assert app.invoices.get(invoice).status == "paid"  # paid before: the notes are credit
    with pytest.raises(TransitionError, match="INV-2026-0001 is credited in full already"):
        app.invoices.credit(invoice)
    assert notes(app) == 2
    assert app.payments.balance(party).currencies[0].unapplied == D("238.00")
    assert balance(app, REVENUE) == {}


def test_the_rest_of_a_line_takes_back_exactly_what_is_left(app: App) -> None:
    party = customer(app)
    invoice = issued(app, party, ("0.35", "3"))  # net 1.05, tax 0.1995 → 0.20
    first = app.invoices.credit(invoice, [(1, D(1))])
    second = app.invoices.credit(invoice, [(1, D(1))])
    last = app.invoices.credit(invoice, [(1, D(1))])  # 0.0665 → 0.07 would be one cent too much
    assert [(n.net, n.tax) for n in (first, second, last)] == [
        (D("0.35"), D("0.07")),
        (D("0.35"), D("0.07")),
        (D("0.35"), D("0.06")),
    ]
    assert app.invoices.get(invoice).status == "void"
    assert balance(app, TAX) == {}


def test_rounding_per_note_never_credits_more_than_the_line(app: App) -> None:
    party = customer(app)
    invoice = issued(app, party, ("0.01", "3"))  # net 0.03, tax 0.0057 → 0.01
    parts = [app.invoices.credit(invoice, [(1, D("0.6"))]) for _ in range(3)]
    assert [(n.net, n.tax) for n in parts] == [(D("0.01"), D("0.00"))] * 3  # 0.006 → 0.01
    with pytest.raises(InvalidFieldError, match="more than 0"):  # the net is used up
        app.invoices.credit(invoice, [(1, D("0.6"))])
    rest = app.invoices.credit(invoice)  # the tax cent is left
    assert [(ln.quantity, ln.net, ln.tax) for ln in rest.lines] == [(D("1.2"), D(0), D("0.01"))]
    assert app.invoices.get(invoice).status == "void"
    assert balance(app, REVENUE) == {}
    assert balance(app, TAX) == {}
