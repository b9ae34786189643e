"""The VAT / sales-tax summary on both databases: per category and rate, invoices less
credit notes collected, bills deductible, a dollar invoice at its own rate, and totals
that equal the period's movement of the tax accounts in the base currency to the cent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crmledger.bootstrap import App
from crmledger.core.access import PermissionDeniedError, Principal, Role
from crmledger.core.errors import InvalidFieldError
from crmledger.services.invoicing import DocumentLine, NewDocument
from crmledger.services.ports import EntryQuery
from crmledger.services.trail import Actor
from tests.db.test_billing import customer

D = Decimal
JUNE = (date(2026, 6, 1), date(2026, 6, 30))


def issue(app: App, party: int, on: date, *lines: DocumentLine, **kw: object) -> int:
    draft = app.invoices.create(
        NewDocument(party_id=party, lines=list(lines), issued_on=on, **kw)  # type: ignore[arg-type]
    )
    return int(app.invoices.issue(draft.id, draft.version).id)


def line(price: str, category: str = "standard", quantity: str = "1") -> DocumentLine:
    return DocumentLine(
        description="Item", unit_price=D(price), quantity=D(quantity), tax_category=category
    )


def tax_movement(app: App, account: str, start: date, end: date) -> Decimal:
    """Σ base-currency weights of ``account``'s postings dated ``start`` to ``end``."""
    entries = app.ledger.entries(EntryQuery(limit=1000, date_from=start, date_to=end))
    return sum((p.weight for e in entries for p in e.postings if p.account == account), D("0.00"))


def june_book(app: App) -> None:
    """19 % and 7 % in EUR, a dollar invoice at an awkward rate, a credit note, a bill,
    and what must not count: July, a draft."""
    acme = customer(app)
    vendor = customer(app, "Paper AG")
    app.rates.set_rate("USD", date(2026, 6, 1), D("0.9137"))
    first = issue(
        app, acme, date(2026, 6, 3), line("100.00"), line("50.00", "reduced"), currency="EUR"
    )
    issue(app, acme, date(2026, 6, 5), line("33.33", quantity="3"), currency="USD")
    app.invoices.credit(first, [(2, D(1))])  # the reduced line back: dated 2026-06-30
    issue(
        app,
        vendor,
        date(2026, 6, 10),
        DocumentLine(description="Paper", unit_price=D("40.00"), account="Expenses:Office"),
        currency="EUR",
        kind="bill",
    )
    issue(app, acme, date(2026, 7, 1), line("1000.00"), currency="EUR")
    app.invoices.create(NewDocument(party_id=acme, currency="EUR", lines=[line("500.00")]))


def test_vat_summary_per_category_and_rate(app: App) -> None:
    june_book(app)
    summary = app.tax_report.vat_summary(*JUNE)
    assert summary.currency == "EUR"
    assert summary.documents == 4  # two invoices, the credit note, the bill
    rows = [
        (v.category, v.rate, v.collected_net, v.collected_tax, v.deductible_net, v.deductible_tax)
        for v in summary.lines
    ]
    # 99.99 USD net, 19.00 USD tax (per line: 3 x 6.3327 -> 19.00) at 0.9137
    usd_net, usd_tax = D("91.36"), D("17.36")
    assert rows == [
        ("reduced", D("0.07"), D("0.00"), D("0.00"), D("0.00"), D("0.00")),
        ("standard", D("0.19"), D("100.00") + usd_net, D("19.00") + usd_tax, D("40.00"), D("7.60")),
    ]
    assert summary.collected == D("36.36")
    assert summary.deductible == D("7.60")
    assert summary.payable == D("28.76")


def test_totals_equal_the_tax_accounts_movement_in_the_base_currency(app: App) -> None:
    june_book(app)
    for start, end in (JUNE, (date(2026, 6, 1), date(2026, 7, 31)), (date(2026, 6, 4), JUNE[1])):
        summary = app.tax_report.vat_summary(start, end)
        output = tax_movement(app, "Liabilities:Tax:Output", start, end)
        deductible = tax_movement(app, "Assets:Tax:Input", start, end)
        assert summary.collected == -output
        assert summary.deductible == deductible
        assert summary.payable == -output - deductible


def test_an_empty_period_and_a_backwards_one(app: App) -> None:
    empty = app.tax_report.vat_summary(date(2025, 1, 1), date(2025, 12, 31))
    assert (empty.lines, empty.collected, empty.payable, empty.documents) == ((), 0, 0, 0)
    with pytest.raises(InvalidFieldError) as refused:
        app.tax_report.vat_summary(date(2026, 6, 30), date(2026, 6, 1))
    assert refused.value.field == "to"


def test_reading_it_needs_reports_read(app: App) -> None:
    for role, allowed in ((Role.SALES, False), (Role.SUPPORT, False), (Role.VIEWER, True)):
        book = app.acting_as(Actor(Principal(user_id=9, label="x", role=role)))
        if allowed:
            assert book.tax_report.vat_summary(*JUNE).documents == 0
        else:
            with pytest.raises(PermissionDeniedError):
                book.tax_report.vat_summary(*JUNE)
