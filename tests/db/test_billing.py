"""Invoices, payments and credit notes on both databases: issuing posts the entry, payments
allocate oldest first, status follows the money, credit notes reverse revenue and tax,
foreign currencies settle with realised gains and losses, contract billing runs once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import text

from crmledger.bootstrap import App
from crmledger.core.access import PermissionDeniedError, Principal, Role
from crmledger.core.billing.settlement import Allocation
from crmledger.core.crm.contracts import Contract, Frequency, PriceChange
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.core.crm.products import Price, Product
from crmledger.core.errors import InvalidFieldError, TransitionError
from crmledger.services.billing_ports import BillingQuery
from crmledger.services.billing_views import BillingDoc
from crmledger.services.errors import CreditLimitError
from crmledger.services.invoicing import DocumentLine, NewDocument
from crmledger.services.sales import DraftLine
from crmledger.services.settling import NewPayment
from crmledger.services.trail import Actor
from tests.conftest import FixedClock

D = Decimal


def customer(app: App, name: str = "Acme GmbH", **changes: object) -> int:
    party = replace(Party(kind=PartyKind.ORGANISATION, display_name=name), **changes)
    return int(app.parties.add(party).id or 0)


def widget(app: App, **changes: object) -> int:
    product = Product(
        sku="WID-1",
        name="Widget",
        income_account="Income:Sales:Products",
        prices=(Price("EUR", D("100.00")),),
        cost=D("40.00"),
        cost_account="Expenses:COGS",
    )
    return app.products.add(replace(product, **changes)).key


def invoice(
    app: App, party: int, amount: str = "100.00", currency: str = "EUR", on: date | None = None
) -> BillingDoc:
    line = DocumentLine(description="Consulting", unit_price=D(amount))
    draft = app.invoices.create(
        NewDocument(party_id=party, currency=currency, lines=[line], issued_on=on)
    )
    return app.invoices.issue(draft.id, draft.version)


def pay(app: App, party: int, amount: str, currency: str = "EUR", **kw: object) -> None:
    new = NewPayment(party_id=party, amount=D(amount), currency=currency)
    allocations = kw.pop("allocations", None)
    app.payments.record(replace(new, **kw), allocations)  # type: ignore[arg-type]


def balance(app: App, account: str, party: int | None = None) -> dict[str, int]:
    """Σ postings of ``account`` per commodity (and party), straight from the tables."""
    sql = (
        "SELECT p.commodity, SUM(p.amount_minor) FROM postings p "
        "JOIN accounts a ON a.id = p.account_id WHERE a.name = :account"
        + (" AND p.party = :party" if party is not None else "")
        + " GROUP BY p.commodity"
    )
    with app.engine.connect() as conn:
        rows = conn.execute(text(sql), {"account": account, "party": str(party)}).all()
    return {c: int(s) for c, s in rows if s}


def test_issuing_posts_receivable_revenue_tax_and_cost(app: App) -> None:
    party = customer(app, payment_terms_days=14)
    product = widget(app)
    draft = app.invoices.create(
        NewDocument(
            party_id=party,
            currency="EUR",
            lines=[DocumentLine(product_id=product, quantity=D(2), discount=D(10))],
            issued_on=date(2026, 6, 1),
        )
    )
    assert draft.status == "draft"
    assert draft.number is None
    assert (draft.net, draft.tax, draft.gross) == (D("180.00"), D("34.20"), D("214.20"))
    issued = app.invoices.issue(draft.id, draft.version)
    assert issued.number == "INV-2026-0001"
    assert issued.status == "issued"
    assert issued.due_on == date(2026, 6, 15)
    assert balance(app, "Assets:Receivables:Customers", party) == {"EUR": 21420}
    assert balance(app, "Income:Sales:Products") == {"EUR": -18000}
    assert balance(app, "Liabilities:Tax:Output") == {"EUR": -3420}
    assert balance(app, "Expenses:COGS") == {"EUR": 8000}
    assert balance(app, "Assets:Inventory") == {"EUR": -8000}
    with pytest.raises(TransitionError):
        app.invoices.issue(draft.id)
    assert app.audit.verify().ok


def test_numbers_are_gapless_and_drafts_unnumbered(app: App) -> None:
    party = customer(app)
    first = invoice(app, party)
    app.invoices.create(
        NewDocument(
            party_id=party, currency="EUR", lines=[DocumentLine(description="x", unit_price=D(1))]
        )
    )
    second = invoice(app, party)
    assert [first.number, second.number] == ["INV-2026-0001", "INV-2026-0002"]


def test_payments_allocate_oldest_first_and_status_follows(app: App) -> None:
    party = customer(app)
    old = invoice(app, party, "100.00", on=date(2026, 5, 1))
    new = invoice(app, party, "50.00", on=date(2026, 6, 1))
    pay(app, party, "130.00")
    assert app.invoices.get(old.id).status == "paid"
    later = app.invoices.get(new.id)
    assert later.status == "partially_paid"
    assert later.open == D("48.50")  # 119.00 + 59.50 owed, 130.00 paid
    pay(app, party, "59.00")  # 48.50 settles the rest, 10.50 becomes credit
    assert app.invoices.get(new.id).status == "paid"
    bal = app.payments.balance(party)
    assert bal.currencies[0].unapplied == D("10.50")
    assert bal.currencies[0].due == D("-10.50")
    assert balance(app, "Assets:Receivables:Customers", party) == {"EUR": -1050}
    assert bal.paid_invoices == 2
    assert bal.average_days_to_pay is not None


def test_chosen_allocation_and_bad_allocations_change_nothing(app: App) -> None:
    party = customer(app)
    old = invoice(app, party, "100.00", on=date(2026, 5, 1))
    new = invoice(app, party, "100.00", on=date(2026, 6, 1))
    pay(app, party, "119.00", allocations=[Allocation(new.id, D("119.00"))])
    assert app.invoices.get(new.id).status == "paid"
    assert app.invoices.get(old.id).status == "issued"
    before = balance(app, "Assets:Bank:Checking")
    with pytest.raises(InvalidFieldError) as err:
        pay(app, party, "300.00", allocations=[Allocation(old.id, D("200.00"))])
    assert err.value.field == "allocations[0].amount"
    assert "119.00" in str(err.value)  # named in euros, as written
    assert balance(app, "Assets:Bank:Checking") == before


def test_credit_note_reverses_revenue_and_tax_and_voids(app: App) -> None:
    party = customer(app)
    issued = invoice(app, party, "100.00")
    note = app.invoices.credit(issued.id)
    assert note.kind == "credit_note"
    assert note.number == "CN-2026-0001"
    assert app.invoices.get(issued.id).status == "void"
    assert balance(app, "Assets:Receivables:Customers", party) == {}
    assert balance(app, "Liabilities:Tax:Output") == {}
    with pytest.raises(TransitionError):
        app.invoices.credit(issued.id)


def test_partial_credit_after_payment_leaves_credit(app: App) -> None:
    party = customer(app)
    product = widget(app)
    draft = app.invoices.create(
        NewDocument(
            party_id=party,
            currency="EUR",
            lines=[DocumentLine(product_id=product, quantity=D(3))],
        )
    )
    issued = app.invoices.issue(draft.id)
    pay(app, party, "357.00")
    note = app.invoices.credit(issued.id, [(1, D(1))])
    assert note.gross == D("119.00")
    assert note.open == D("119.00")
    assert app.payments.balance(party).currencies[0].due == D("-119.00")


def test_foreign_currency_settles_with_realised_difference(app: App) -> None:
    party = customer(app)
    app.rates.set_rate("USD", date(2026, 6, 1), D("0.9"))
    issued = invoice(app, party, "100.00", "USD", on=date(2026, 6, 1))
    assert issued.rate == D("0.9")
    assert issued.open_base == D("107.10")
    app.rates.set_rate("USD", date(2026, 6, 20), D("0.95"))
    pay(app, party, "119.00", "USD", paid_on=date(2026, 6, 20))
    assert app.invoices.get(issued.id).status == "paid"
    # 119 USD booked at 107.10 EUR, received at 113.05 EUR: a 5.95 EUR gain
    assert balance(app, "Income:FX:Gains") == {"EUR": -595}
    # the USD side is settled to zero; the gain's EUR stays on the receivable's EUR side
    assert balance(app, "Assets:Receivables:Customers", party) == {"EUR": 595}


def test_missing_rate_is_refused_by_field(app: App) -> None:
    party = customer(app)
    draft = app.invoices.create(
        NewDocument(
            party_id=party, currency="USD", lines=[DocumentLine(description="x", unit_price=D(1))]
        )
    )
    with pytest.raises(InvalidFieldError) as err:
        app.invoices.issue(draft.id)
    assert err.value.field == "currency"
    assert app.invoices.get(draft.id).status == "draft"


def test_credit_limit_refuses_unless_overridden(app: App) -> None:
    party = customer(app, credit_limit=D("150.00"), currency="EUR")
    invoice(app, party, "100.00")
    line = DocumentLine(description="More", unit_price=D("100.00"))
    draft = app.invoices.create(NewDocument(party_id=party, currency="EUR", lines=[line]))
    with pytest.raises(CreditLimitError):
        app.invoices.issue(draft.id)
    assert app.invoices.get(draft.id).status == "draft"
    issued = app.invoices.issue(draft.id, override_credit=True)
    assert issued.status == "issued"
    assert any(r.action == "credit_limit.override" for r in app.audit.log(limit=100))


def test_sales_role_may_read_but_not_issue(app: App) -> None:
    party = customer(app)
    draft = app.invoices.create(
        NewDocument(
            party_id=party, currency="EUR", lines=[DocumentLine(description="x", unit_price=D(1))]
        )
    )
    sales = app.acting_as(Actor(Principal(user_id=9, label="s", role=Role.SALES)))
    assert sales.invoices.get(draft.id).id == draft.id
    with pytest.raises(PermissionDeniedError):
        sales.invoices.issue(draft.id)


def test_invoice_from_order(app: App) -> None:
    party = customer(app)
    product = widget(app)
    order = app.sales.create_order(party, "EUR", [DraftLine(product_id=product, quantity=D(2))])
    with pytest.raises(TransitionError):
        app.invoices.from_order(order.id)
    order = app.sales.confirm_order(order.id, order.version)
    draft = app.invoices.from_order(order.id)
    assert draft.order_id == order.id
    assert draft.gross == order.totals.gross


def test_contract_billing_runs_once(app: App, clock: FixedClock) -> None:
    party = customer(app)
    start = date(2026, 4, 1)
    app.contracts.create(
        Contract(
            party_id=party,
            description="Support",
            currency="EUR",
            frequency=Frequency.MONTHLY,
            start=start,
            next_billing=start,
            prices=(PriceChange(start, D("300.00")),),
        )
    )
    first = app.invoices.billing_run(date(2026, 6, 30))
    assert [d.billing_date for d in first] == [date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1)]
    assert app.invoices.billing_run(date(2026, 6, 30)) == []
    clock.current = datetime(2026, 7, 2, tzinfo=UTC)
    assert len(app.invoices.billing_run(date(2026, 7, 1))) == 1


def test_timeline_shows_invoices_and_payments(app: App, clock: FixedClock) -> None:
    party = customer(app)
    issued = invoice(app, party, "100.00", on=date(2026, 5, 1))
    clock.current = datetime(2026, 6, 30, 13, 0, tzinfo=UTC)
    pay(app, party, "50.00")
    items = app.interactions.timeline(party, None, 10)
    assert [(i.type, i.status) for i in items] == [("payment", "received"), ("invoice", "overdue")]
    assert issued.number in items[1].subject


def test_invoice_pdf_shows_its_totals(app: App) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    party = customer(app, legal_name="Acme Trading GmbH")
    issued = invoice(app, party, "1000.00")
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(app.printer.pdf(issued.id))).pages)
    assert issued.number in text
    assert "Acme Trading GmbH" in text
    assert "€1,190.00" in text


def test_aging_buckets_by_days_overdue(app: App) -> None:
    party = customer(app, payment_terms_days=0)
    invoice(app, party, "100.00", on=date(2026, 6, 30))  # due today: not overdue
    invoice(app, party, "10.00", on=date(2026, 6, 10))  # 20 days
    invoice(app, party, "1.00", on=date(2026, 3, 1))  # 121 days
    [line] = app.payments.aging(party_id=party)
    assert line.buckets == (D("119.00"), D("11.90"), D("0.00"), D("0.00"), D("1.19"))
    assert line.total == D("132.09")


def test_an_order_is_invoiced_once(app: App) -> None:
    party = customer(app)
    order = app.sales.create_order(party, "EUR", [DraftLine(description="x", unit_price=D(5))])
    order = app.sales.confirm_order(order.id, order.version)
    app.invoices.from_order(order.id)
    with pytest.raises(TransitionError):
        app.invoices.from_order(order.id)


def test_a_batch_issues_all_or_nothing(app: App) -> None:
    party = customer(app)
    line = DocumentLine(description="Work", unit_price=D("10.00"))
    good = NewDocument(party_id=party, currency="EUR", lines=[line])
    with pytest.raises(InvalidFieldError) as err:
        app.invoices.issue_batch([good, good, replace(good, party_id=999_999)])
    assert err.value.field == "documents[2].party_id"
    assert app.invoices.page(BillingQuery()) == []
    ids = app.invoices.issue_batch([good, good])
    assert [app.invoices.get(i).number for i in ids] == ["INV-2026-0001", "INV-2026-0002"]
    app.payments.record_batch([NewPayment(party_id=party, amount=D("15.00"), currency="EUR")])
    assert [app.invoices.get(i).status for i in ids] == ["paid", "partially_paid"]


def test_paying_an_orders_invoice_wins_its_deal(app: App) -> None:
    from sqlalchemy import text as sql

    from crmledger.core.crm.deals import Deal

    party = customer(app)
    deal = app.deals.add(
        Deal(
            pipeline="sales", stage="", title="Gears", party_id=party, amount=D(100), currency="EUR"
        )
    )
    order = app.sales.create_order(
        party, "EUR", [DraftLine(description="Gear", unit_price=D(100))], deal_id=deal.id
    )
    order = app.sales.confirm_order(order.id, order.version)
    draft = app.invoices.from_order(order.id)
    app.invoices.issue(draft.id)
    pay(app, party, "50.00")
    assert app.deals.get(deal.id).stage != "won"
    pay(app, party, "69.00")
    assert app.deals.get(deal.id).stage == "won"
    with app.engine.connect() as conn:
        events = conn.execute(sql("SELECT type FROM outbox_events WHERE aggregate = 'order'")).all()
    assert [e for (e,) in events] == ["order.confirmed", "order.paid"]
