"""Billing documents on both databases: prices that include tax (the ledger posts exactly
what the customer saw), drafts changed and deleted at their version without a gap in the
numbers, credit notes named line by line and checked in the service, an order paid by its
invoice, the timeline dated by the day a document was issued, and the migration's backfill."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from crmledger.bootstrap import App
from crmledger.core.crm.deals import Deal
from crmledger.core.crm.documents import OrderStatus
from crmledger.core.errors import InvalidFieldError, TransitionError
from crmledger.persistence.migrate import downgrade, upgrade
from crmledger.services.billing_ports import BillingQuery
from crmledger.services.billing_views import BillingDoc
from crmledger.services.crm_ports import DocumentQuery
from crmledger.services.errors import NotFoundError, VersionConflictError
from crmledger.services.invoicing import DocumentLine, NewDocument
from crmledger.services.sales import DraftLine
from tests.conftest import FixedClock
from tests.db.test_billing import balance, customer, pay, widget

D = Decimal


def line(
    price: str, quantity: str = "1", tax_category: str | None = None, account: str | None = None
) -> DocumentLine:
    return DocumentLine(
        description="Shirt",
        unit_price=D(price),
        quantity=D(quantity),
        tax_category=tax_category,
        account=account,
    )


def draft(
    app: App,
    party: int,
    *lines: DocumentLine,
    prices_include_tax: bool = False,
    due_on: date | None = None,
) -> BillingDoc:
    new = NewDocument(
        party_id=party,
        currency="EUR",
        lines=list(lines),
        prices_include_tax=prices_include_tax,
        due_on=due_on,
    )
    return app.invoices.create(new)


def events(app: App, kind: str) -> list[str]:
    with app.engine.connect() as conn:
        found = conn.execute(
            text("SELECT payload FROM outbox_events WHERE type = :t ORDER BY id"), {"t": kind}
        )
        return [p for (p,) in found]


def audited(app: App, action: str) -> int:
    return len(app.audit.log(limit=500, filters={"action": action}))


# -- prices that include tax ---------------------------------------------------------------


def test_a_tax_inclusive_invoice_posts_exactly_what_the_customer_saw(app: App) -> None:
    party = customer(app)
    shown = draft(app, party, line("11.90", "2"), line("10.00"), prices_include_tax=True)
    assert shown.prices_include_tax
    # 23.80 * 0.19 / 1.19 = 3.80 exactly; 10.00 * 0.19 / 1.19 = 1.5966… → 1.60 (per line)
    assert [(ln.net, ln.tax) for ln in shown.lines] == [
        (D("20.00"), D("3.80")),
        (D("8.40"), D("1.60")),
    ]
    assert (shown.net, shown.tax, shown.gross) == (D("28.40"), D("5.40"), D("33.80"))
    issued = app.invoices.issue(shown.id, shown.version)
    assert (issued.gross, issued.open, issued.prices_include_tax) == (D("33.80"), D("33.80"), True)
    assert balance(app, "Assets:Receivables:Customers", party) == {"EUR": 3380}
    assert balance(app, "Income:Sales:Services") == {"EUR": -2840}
    assert balance(app, "Liabilities:Tax:Output") == {"EUR": -540}
    assert app.audit.verify().ok


def test_a_per_document_tax_is_taken_once_out_of_the_summed_gross(app: App) -> None:
    app.rates.add_tax_rate("flat", date(2026, 1, 1), D("0.19"), "document")
    party = customer(app)
    flat = [line("10.00", tax_category="flat"), line("10.00", tax_category="flat")]
    ids = app.invoices.issue_batch(
        [NewDocument(party_id=party, currency="EUR", lines=flat, prices_include_tax=True)]
    )
    issued = app.invoices.get(ids[0])
    # 20.00 * 0.19 / 1.19 = 3.1932… → 3.19 once, shared 1.60 + 1.59 by largest remainder
    assert [ln.tax for ln in issued.lines] == [D("1.60"), D("1.59")]
    assert (issued.net, issued.tax, issued.gross) == (D("16.81"), D("3.19"), D("20.00"))
    assert issued.issued_at == datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
    assert balance(app, "Assets:Receivables:Customers", party) == {"EUR": 2000}
    assert balance(app, "Income:Sales:Services") == {"EUR": -1681}
    assert balance(app, "Liabilities:Tax:Output") == {"EUR": -319}


def test_a_quote_priced_with_tax_is_ordered_and_invoiced_so(app: App) -> None:
    party = customer(app)
    shirts = [DraftLine(description="Shirt", unit_price=D("11.90"), quantity=D(2))]
    quote = app.sales.create_quote(party, "EUR", shirts, prices_include_tax=True)
    assert (quote.prices_include_tax, quote.totals.gross, quote.totals.tax) == (
        True,
        D("23.80"),
        D("3.80"),
    )
    net_quote = app.sales.update_quote(quote.id, {"prices_include_tax": False}, quote.version)
    assert (net_quote.totals.net, net_quote.totals.gross) == (D("23.80"), D("28.32"))
    quote = app.sales.update_quote(quote.id, {"prices_include_tax": True}, net_quote.version)
    _, order = app.sales.accept_quote(quote.id, quote.version)
    assert (order.prices_include_tax, order.totals.gross) == (True, D("23.80"))
    invoice = app.invoices.from_order(order.id)
    assert (invoice.prices_include_tax, invoice.gross, invoice.tax) == (True, D("23.80"), D("3.80"))
    direct = app.sales.create_order(party, "EUR", shirts, prices_include_tax=True)
    assert app.sales.get_order(direct.id).totals.gross == D("23.80")


# -- drafts: change, delete ----------------------------------------------------------------


def test_a_draft_is_changed_at_its_version_and_priced_anew(app: App) -> None:
    party, other = customer(app), customer(app, "Other AG")
    app.rates.set_rate("USD", date(2026, 6, 1), D("0.9"))
    first = draft(app, party, line("100.00"), due_on=date(2026, 7, 31))
    assert (first.gross, first.version) == (D("119.00"), 1)
    changed = app.invoices.update(
        first.id,
        {
            "party_id": other,
            "currency": "USD",
            "issued_on": date(2026, 6, 15),
            "due_on": None,
            "prices_include_tax": True,
            "reference": "PO-7",
        },
        first.version,
    )
    assert (changed.party_id, changed.currency, changed.issued_on, changed.due_on) == (
        other,
        "USD",
        date(2026, 6, 15),
        None,
    )
    # the stored line is priced anew: 100.00 now includes its 19 %
    assert (changed.net, changed.tax, changed.gross, changed.version) == (
        D("84.03"),
        D("15.97"),
        D("100.00"),
        2,
    )
    assert changed.reference == "PO-7"
    lines = app.invoices.update(first.id, {"lines": [line("5.00", "3")]}, changed.version)
    assert [(ln.quantity, ln.unit_price, ln.net) for ln in lines.lines] == [
        (D(3), D("5.00"), D("12.61"))
    ]
    assert lines.gross == D("15.00")
    with pytest.raises(VersionConflictError):
        app.invoices.update(first.id, {"note": "late"}, changed.version)
    with pytest.raises(InvalidFieldError) as err:
        app.invoices.update(first.id, {"issued_on": None}, lines.version)
    assert err.value.field == "issued_on"
    with pytest.raises(InvalidFieldError) as err:
        app.invoices.update(first.id, {"number": "INV-9"}, lines.version)
    assert err.value.field == "number"
    issued = app.invoices.issue(first.id, lines.version)
    assert (issued.gross, issued.due_on) == (D("15.00"), date(2026, 7, 15))  # terms: 30 days
    with pytest.raises(TransitionError, match="only a draft"):
        app.invoices.update(first.id, {"note": "late"}, issued.version)
    assert app.invoices.get(first.id) == issued
    assert audited(app, "invoice.update") == 2


def test_a_deleted_draft_leaves_no_gap_in_the_numbers(app: App) -> None:
    party = customer(app)
    doomed = draft(app, party, line("10.00"), line("20.00"))
    kept = draft(app, party, line("30.00"))
    with pytest.raises(VersionConflictError):
        app.invoices.delete(doomed.id, doomed.version + 1)
    app.invoices.delete(doomed.id, doomed.version)
    with pytest.raises(NotFoundError):
        app.invoices.get(doomed.id)
    with app.engine.connect() as conn:
        left = conn.execute(
            text("SELECT COUNT(*) FROM billing_lines WHERE document_id = :d"), {"d": doomed.id}
        ).scalar_one()
    assert left == 0
    issued = app.invoices.issue(kept.id, kept.version)
    assert issued.number == "INV-2026-0001"
    with pytest.raises(TransitionError, match="INV-2026-0001 is issued"):
        app.invoices.delete(kept.id, issued.version)
    assert app.invoices.get(kept.id).status == "issued"
    assert audited(app, "invoice.delete") == 1


def test_a_draft_bill_is_changed_and_deleted_like_an_invoice(app: App) -> None:
    vendor = customer(app, "Paper Ltd")
    paper = line("40.00", account="Expenses:Office")
    bill = app.invoices.create(
        NewDocument(kind="bill", party_id=vendor, currency="EUR", lines=[paper])
    )
    toner = line("80.00", account="Expenses:Office")
    changed = app.invoices.update(bill.id, {"lines": [paper, toner], "reference": "V-1"}, 1)
    assert (changed.kind, changed.gross, changed.reference) == ("bill", D("142.80"), "V-1")
    assert [ln.account for ln in changed.lines] == ["Expenses:Office"] * 2
    flag = app.invoices.update(bill.id, {"prices_include_tax": True}, changed.version)
    assert [ln.account for ln in flag.lines] == ["Expenses:Office"] * 2  # kept when re-priced
    assert flag.gross == D("120.00")
    app.invoices.delete(bill.id, flag.version)
    assert app.invoices.page(BillingQuery(kind="bill")) == []


# -- credit notes named line by line -------------------------------------------------------


def test_credited_lines_are_checked_in_the_service_naming_the_line(app: App) -> None:
    party = customer(app)
    product = widget(app)
    doc = draft(app, party, DocumentLine(product_id=product, quantity=D(3)), line("20.00"))
    invoice = app.invoices.issue(doc.id)
    first = app.invoices.credit(invoice.id, [(1, D(1))])
    assert [(ln.position, ln.quantity) for ln in first.lines] == [(1, D(1))]
    assert first.gross == D("119.00")
    refusals = [
        ([(1, D(1)), (1, D(1))], "lines[1].position", "credited twice"),
        ([(3, D(1))], "lines[3]", "no line 3"),
        ([(2, D(1)), (1, D(3))], "lines[1].quantity", "<= 2 (3 invoiced, 1 credited before)"),
        ([(2, D(0))], "lines[2].quantity", "0 < quantity <= 1"),
        ([(2, D("0.0000001"))], "lines[2].quantity", "6 decimal places"),
        ([], "lines", "name a line"),
    ]
    for wanted, field, reason in refusals:
        with pytest.raises(InvalidFieldError) as err:
            app.invoices.credit(invoice.id, wanted)
        assert (err.value.field, reason in str(err.value)) == (field, True), str(err.value)
    assert len(app.invoices.page(BillingQuery(kind="credit_note"))) == 1  # nothing written
    second = app.invoices.credit(invoice.id, [(2, D(1)), (1, D(2))])
    assert [(ln.position, ln.quantity) for ln in second.lines] == [(1, D(2)), (2, D(1))]
    assert app.invoices.get(invoice.id).status == "void"


def test_a_tax_inclusive_line_is_credited_out_of_its_gross(app: App) -> None:
    party = customer(app)
    doc = draft(app, party, line("11.90", "3"), prices_include_tax=True)
    invoice = app.invoices.issue(doc.id)
    note = app.invoices.credit(invoice.id, [(1, D(1))])
    assert (note.net, note.tax, note.gross, note.prices_include_tax) == (
        D("10.00"),
        D("1.90"),
        D("11.90"),
        True,
    )


# -- an order paid by its invoice ----------------------------------------------------------


def test_an_order_is_paid_when_its_invoice_is_paid_in_full(app: App) -> None:
    party = customer(app)
    deal = app.deals.add(
        Deal(
            pipeline="sales", stage="", title="Gears", party_id=party, amount=D(100), currency="EUR"
        )
    )
    assert deal.id is not None
    order = app.sales.create_order(
        party, "EUR", [DraftLine(description="Gear", unit_price=D(100))], deal_id=deal.id
    )
    order = app.sales.confirm_order(order.id, order.version)
    order = app.sales.fulfil_order(order.id, order.version)
    invoice = app.invoices.from_order(order.id)
    app.invoices.issue(invoice.id)
    pay(app, party, "50.00")
    assert app.sales.get_order(order.id).status is OrderStatus.FULFILLED
    pay(app, party, "69.00")
    paid = app.sales.get_order(order.id)
    assert (paid.status, paid.version) == (OrderStatus.PAID, order.version + 1)
    assert app.deals.get(deal.id).stage == "won"
    assert len(events(app, "order.paid")) == 1
    assert audited(app, "order.pay") == 1
    with pytest.raises(TransitionError):
        app.sales.cancel_order(paid.id, paid.version)
    assert [o.id for o in app.sales.list_orders(DocumentQuery(status="paid"))] == [order.id]


def test_a_cancelled_order_stays_cancelled_when_its_invoice_is_paid(app: App) -> None:
    party = customer(app)
    order = app.sales.create_order(party, "EUR", [DraftLine(description="x", unit_price=D(10))])
    order = app.sales.confirm_order(order.id, order.version)
    invoice = app.invoices.from_order(order.id)
    app.invoices.issue(invoice.id)
    app.sales.cancel_order(order.id, order.version)
    pay(app, party, "11.90")
    assert app.invoices.get(invoice.id).status == "paid"
    assert app.sales.get_order(order.id).status is OrderStatus.CANCELLED
    assert events(app, "order.paid") == []


# -- timeline, indexes, migration ----------------------------------------------------------


def test_the_timeline_dates_a_document_by_when_it_was_issued(app: App, clock: FixedClock) -> None:
    party = customer(app)
    clock.current = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    early = draft(app, party, line("10.00"))  # drafted first ...
    clock.current = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)
    other = draft(app, party, line("20.00"))
    app.invoices.issue(other.id)
    clock.current = datetime(2026, 6, 3, 9, 0, tzinfo=UTC)
    issued = app.invoices.issue(early.id)  # ... issued last
    assert issued.issued_at == datetime(2026, 6, 3, 9, 0, tzinfo=UTC)
    assert issued.created_at == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    items = app.interactions.timeline(party, None, 10)
    assert [(i.id, i.at) for i in items] == [
        (early.id, datetime(2026, 6, 3, 9, 0, tzinfo=UTC)),
        (other.id, datetime(2026, 6, 2, 9, 0, tzinfo=UTC)),
    ]
    page = app.interactions.timeline(party, (items[0].at, items[0].id), 10)
    assert [i.id for i in page] == [other.id]


def test_issue_dates_and_times_are_indexed(app: App) -> None:
    indexes = {
        ix["name"]: ix["column_names"]
        for ix in inspect(app.engine).get_indexes("billing_documents")
    }
    assert indexes["ix_billing_documents_issued"] == ["issued_on"]
    assert indexes["ix_billing_documents_timeline"] == ["party_id", "issued_at"]
    assert indexes["ix_billing_documents_party"] == ["party_id", "kind", "status"]


def test_the_migration_backfills_issue_times_and_takes_paid_orders_back(app: App) -> None:
    party = customer(app)
    order = app.sales.create_order(party, "EUR", [DraftLine(description="x", unit_price=D(10))])
    order = app.sales.confirm_order(order.id, order.version)
    invoice = app.invoices.issue(app.invoices.from_order(order.id).id)
    pending = draft(app, party, line("5.00"), prices_include_tax=True)
    pay(app, party, "11.90")
    assert app.sales.get_order(order.id).status is OrderStatus.PAID
    downgrade(app.engine, "0012")
    with app.engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM sales_orders")).scalar_one() == "confirmed"
        assert "issued_at" not in {
            c["name"] for c in inspect(conn).get_columns("billing_documents")
        }
    upgrade(app.engine)
    assert app.invoices.get(invoice.id).issued_at == app.invoices.get(invoice.id).created_at
    assert app.invoices.get(pending.id).issued_at is None
    assert not app.invoices.get(pending.id).prices_include_tax  # the old rows priced net
    with app.engine.begin() as conn:
        conn.execute(text("UPDATE sales_orders SET status = 'paid'"))
    assert app.sales.get_order(order.id).status is OrderStatus.PAID
    with pytest.raises(IntegrityError), app.engine.begin() as conn:
        conn.execute(text("UPDATE sales_orders SET status = 'lost'"))
