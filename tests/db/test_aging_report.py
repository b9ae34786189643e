"""AR and AP aging on SQLite and PostgreSQL: a small book worked by hand (an invoice paid in
part and credited, one overdue and one not yet due, a dollar invoice paid in part at
another rate, money received before any invoice, a bill and a vendor prepayment), read on
several days with the default and custom buckets; every total equals the control
account's balance that day, summed here straight from the postings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from crmledger.bootstrap import App
from crmledger.core.access import PermissionDeniedError, Principal, Role
from crmledger.core.errors import InvalidFieldError
from crmledger.services.errors import NotFoundError
from crmledger.services.invoicing import DocumentLine, NewDocument
from crmledger.services.trail import Actor
from tests.db.test_billing import customer, invoice, pay

D = Decimal
RECEIVABLE = "Assets:Receivables:Customers"
PAYABLE = "Liabilities:Payables:Vendors"
TODAY = date(2026, 6, 30)


@dataclass(frozen=True)
class Book:
    """The parties of the worked book."""

    acme: int
    globex: int
    beta: int
    vendor: int
    supplier: int


def bill(app: App, vendor: int, amount: str, on: date) -> int:
    line = DocumentLine(description="Paper", unit_price=D(amount), account="Expenses:Office")
    draft = app.invoices.create(
        NewDocument(kind="bill", party_id=vendor, currency="EUR", lines=[line], issued_on=on)
    )
    return int(app.invoices.issue(draft.id, draft.version).id)


def worked_book(app: App) -> Book:
    """The book of this module (figures in the comments are EUR unless said)."""
    acme = customer(app, "Acme GmbH", payment_terms_days=30, language="de")
    globex = customer(app, "Globex Inc", payment_terms_days=30, currency="USD")
    beta = customer(app, "Beta SARL", payment_terms_days=30)
    vendor = customer(app, "Paper Mill", payment_terms_days=30)
    supplier = customer(app, "Print Shop", payment_terms_days=30)
    first = invoice(app, acme, "100.00", on=date(2026, 3, 2))  # 119.00 due 1 April
    invoice(app, acme, "200.00", on=date(2026, 5, 20))  # 238.00 due 19 June
    pay(app, acme, "50.00", paid_on=date(2026, 6, 10))  # to the first: 69.00 left
    app.rates.set_rate("USD", date(2026, 5, 1), D("0.90"))
    invoice(app, globex, "100.00", "USD", on=date(2026, 5, 1))  # 119 USD = 107.10, due 31 May
    app.rates.set_rate("USD", date(2026, 6, 15), D("0.95"))
    # Half of it at 0.95: 56.52 received against 53.55 booked, a 2.97 gain.
    pay(app, globex, "59.50", "USD", paid_on=date(2026, 6, 15))
    pay(app, beta, "30.00", paid_on=date(2026, 6, 20))  # nothing to pay yet: credit
    app.invoices.credit(first.id)  # today: 119.00, of which 69.00 settle the first
    bill(app, vendor, "100.00", date(2026, 5, 2))  # 119.00 due 1 June
    pay(app, vendor, "19.00", kind="vendor_payment", paid_on=date(2026, 6, 5))
    pay(app, supplier, "40.00", kind="vendor_payment", paid_on=date(2026, 6, 6))
    return Book(acme, globex, beta, vendor, supplier)


def control(app: App, account: str, day: date, party: int | None = None) -> Decimal:
    """The base value of ``account``'s postings up to ``day``, summed from the tables."""
    sql = (
        "SELECT COALESCE(SUM(CASE WHEN p.commodity = 'EUR' THEN p.amount_minor "
        "ELSE c.weight_minor END), 0) FROM postings p "
        "JOIN accounts a ON a.id = p.account_id JOIN journal_entries e ON e.id = p.entry_id "
        "LEFT JOIN posting_conversions c ON c.posting_id = p.id "
        "WHERE a.name = :account AND e.date <= :day"
        + (" AND p.party = :party" if party is not None else "")
    )
    with app.engine.connect() as conn:
        found = conn.execute(text(sql), {"account": account, "day": day, "party": str(party)})
        return D(int(found.scalar_one())) / 100


def rows(app: App, kind: str, day: date, buckets: str = "30,60,90") -> dict[str, tuple]:
    report = app.aging.report(kind, day, buckets)
    return {p.name: (*p.buckets, p.credit, p.total) for p in report.parties}


def test_receivables_on_several_days_reconcile_with_the_control_account(app: App) -> None:
    worked_book(app)
    z = D("0.00")
    assert rows(app, "receivable", TODAY) == {
        "Acme GmbH": (z, D("238.00"), z, z, z, D("-50.00"), D("188.00")),
        "Beta SARL": (z, z, z, z, z, D("-30.00"), D("-30.00")),
        "Globex Inc": (z, D("53.55"), z, z, z, z, D("53.55")),  # 30 days overdue
    }
    assert rows(app, "receivable", date(2026, 6, 12)) == {
        "Acme GmbH": (D("238.00"), z, z, D("69.00"), z, z, D("307.00")),
        "Globex Inc": (z, D("107.10"), z, z, z, z, D("107.10")),
    }
    assert rows(app, "receivable", date(2026, 5, 31)) == {
        "Acme GmbH": (D("238.00"), z, D("119.00"), z, z, z, D("357.00")),
        "Globex Inc": (D("107.10"), z, z, z, z, z, D("107.10")),  # due today: current
    }
    expected = {TODAY: "211.55", date(2026, 6, 12): "414.10", date(2026, 5, 31): "464.10"}
    for day in (*expected, date(2026, 3, 1), date(2026, 6, 15), date(2026, 6, 20)):
        report = app.aging.report("receivable", day)
        assert report.total == report.control == control(app, RECEIVABLE, day), day
        assert report.total == sum(report.totals) + report.credit
        if day in expected:
            assert report.total == D(expected[day])
    empty = app.aging.report("receivable", date(2026, 3, 1))
    assert (empty.parties, empty.total, empty.difference) == ((), z, z)


def test_custom_buckets_and_one_party_with_its_open_documents(app: App) -> None:
    book = worked_book(app)
    z = D("0.00")
    assert rows(app, "receivable", TODAY, "0,15,45") == {
        "Acme GmbH": (z, D("238.00"), z, z, D("-50.00"), D("188.00")),
        "Beta SARL": (z, z, z, z, D("-30.00"), D("-30.00")),
        "Globex Inc": (z, z, D("53.55"), z, z, D("53.55")),
    }
    report = app.aging.report("receivable", TODAY, "0,15,45", book.globex)
    assert [b.label for b in report.buckets] == ["Current", "1-15", "16-45", "Over 45"]
    (party,) = report.parties
    (item,) = party.items
    assert (item.number, item.currency, item.open, item.base) == (
        "INV-2026-0003",
        "USD",
        D("59.50"),
        D("53.55"),
    )
    assert (item.due_on, item.days_overdue, item.bucket) == (date(2026, 5, 31), 30, 2)
    acme = app.aging.report("receivable", TODAY, party_id=book.acme)
    assert [(i.number, i.base, i.bucket) for i in acme.parties[0].items] == [
        ("INV-2026-0002", D("238.00"), 1),
        ("CN-2026-0001", D("-50.00"), None),
    ]
    for party_id in (book.acme, book.globex, book.beta):
        one = app.aging.report("receivable", TODAY, party_id=party_id)
        assert one.control == control(app, RECEIVABLE, TODAY, party_id) == one.total


def test_payables_are_bills_less_payments_not_yet_allocated(app: App) -> None:
    worked_book(app)
    z = D("0.00")
    assert rows(app, "payable", TODAY) == {
        "Paper Mill": (z, D("100.00"), z, z, z, z, D("100.00")),  # 29 days overdue
        "Print Shop": (z, z, z, z, z, D("-40.00"), D("-40.00")),
    }
    for day in (TODAY, date(2026, 6, 5), date(2026, 5, 2), date(2026, 5, 1)):
        report = app.aging.report("payable", day)
        assert report.total == report.control == -control(app, PAYABLE, day), day
    assert app.aging.report("payable", date(2026, 6, 1)).total == D("119.00")


def test_a_revaluation_shows_as_a_named_difference_until_it_is_reversed(app: App) -> None:
    book = worked_book(app)
    app.rates.set_rate("USD", TODAY, D("1.00"))
    app.revaluation.revalue(TODAY)  # 59.50 USD now 59.50, booked 53.55: 5.95 more
    report = app.aging.report("receivable", TODAY)
    assert report.total == D("211.55")
    assert report.control == control(app, RECEIVABLE, TODAY) == D("217.50")
    assert report.difference == D("5.95")
    assert "5.95 of it is not from open documents" in report.notes[0]
    one = app.aging.report("receivable", TODAY, party_id=book.globex)
    assert (one.total, one.difference) == (D("53.55"), D("5.95"))
    after = app.aging.report("receivable", date(2026, 7, 1))  # the reversal
    assert after.difference == D("0.00")


def test_bad_requests_are_refused_naming_the_field(app: App) -> None:
    worked_book(app)
    for kwargs, field in (
        ({"kind": "loans"}, "kind"),
        ({"buckets": "60,30"}, "buckets"),
        ({"as_of": date(3000, 1, 1)}, "as_of"),
    ):
        with pytest.raises(InvalidFieldError) as refused:
            app.aging.report(**kwargs)  # type: ignore[arg-type]
        assert refused.value.field == field
    with pytest.raises(NotFoundError):
        app.aging.report(party_id=9999)


def test_reading_the_aging_needs_reports_read(app: App) -> None:
    worked_book(app)
    sales = app.acting_as(Actor(Principal(8, "sam@example.com", Role.SALES)))
    with pytest.raises(PermissionDeniedError):
        sales.aging.report()
    viewer = app.acting_as(Actor(Principal(7, "vic@example.com", Role.VIEWER)))
    assert viewer.aging.report().total == D("211.55")
