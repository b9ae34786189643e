"""Billing's web routes without a browser: FastAPI's TestClient against the whole app.

Every billing page renders for every role (all of them read billing) and the forms only for
the roles that may write it; a sales user sees no Issue button and is refused (403) when
posting anyway; a bad value comes back (422) with the message under the input it concerns
and nothing is written; an invoice downloads as PDF; every form needs the session's token.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from crmledger.bootstrap import App
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.core.crm.products import Price, Product
from crmledger.server import create_app
from crmledger.services.billing_ports import BillingQuery
from crmledger.services.invoicing import DocumentLine, NewDocument
from crmledger.services.sales import DraftLine
from crmledger.services.settling import NewPayment
from crmledger.web.billing_view import today
from tests.browser.conftest import make_book
from tests.browser.test_crm_routes import ROLES, audit_head, error_of, main_of
from tests.browser.test_web_routes import log_in

WRITERS = {"admin", "accountant"}


@dataclass(frozen=True)
class Seed:
    """Records every page test can open."""

    org: int
    vendor: int
    product: int
    order: int
    draft: int
    invoice: int
    late: int
    bill: int


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    book = make_book(tmp_path_factory.mktemp("billing-routes"))
    yield book
    book.engine.dispose()


def party(book: App, name: str) -> int:
    stored = book.parties.add(Party(kind=PartyKind.ORGANISATION, display_name=name))
    assert stored.id is not None
    return stored.id


def consulting(
    book: App,
    party_id: int,
    amount: str = "100.00",
    on: date | None = None,
    due: date | None = None,
) -> int:
    """A draft invoice of one line (net ``amount``, 19% tax)."""
    line = DocumentLine(description="Consulting", unit_price=Decimal(amount))
    new = NewDocument(party_id=party_id, currency="EUR", lines=[line], issued_on=on, due_on=due)
    return book.invoices.create(new).id


def issued(
    book: App,
    party_id: int,
    amount: str = "100.00",
    on: date | None = None,
    due: date | None = None,
) -> int:
    draft = book.invoices.get(consulting(book, party_id, amount, on, due))
    return book.invoices.issue(draft.id, draft.version).id


@pytest.fixture(scope="module")
def seed(book: App) -> Seed:
    org, vendor = party(book, "Billing Org"), party(book, "Paper Supplies Ltd")
    product = book.products.add(
        Product(
            sku="BILL-1",
            name="Billed widget",
            income_account="Income:Sales:Products",
            prices=(Price("EUR", Decimal("10.00")),),
        )
    )
    assert product.id is not None
    order = book.sales.create_order(
        org, "EUR", [DraftLine(product_id=product.id, quantity=Decimal(2))]
    )
    book.sales.confirm_order(order.id, order.version)
    invoice = issued(book, org)
    past = today() - timedelta(days=60)
    late = issued(book, org, "50.00", past, past + timedelta(days=14))
    book.payments.record(NewPayment(party_id=org, amount=Decimal("20.00"), currency="EUR"))
    line = DocumentLine(description="Paper", unit_price=Decimal(30), account="Expenses:Office")
    bill = book.invoices.create(
        NewDocument(party_id=vendor, currency="EUR", lines=[line], kind="bill")
    )
    book.invoices.issue(bill.id)
    draft = consulting(book, org)
    return Seed(org, vendor, product.id, order.id, draft, invoice, late, bill.id)


@pytest.fixture
def client(book: App) -> TestClient:
    return TestClient(create_app(book), follow_redirects=False)


def url(path: str, seed: Seed) -> str:
    return path.format(**seed.__dict__)


def rows(*lines: tuple[str, ...], account: bool = False) -> dict[str, list[str]]:
    """Editor rows: (product id, description, quantity, unit price[, account])."""
    form: dict[str, list[str]] = {
        "line_key": [str(i) for i in range(len(lines))],
        "product_id": [line[0] for line in lines],
        "description": [line[1] for line in lines],
        "quantity": [line[2] for line in lines],
        "unit_price": [line[3] for line in lines],
        "discount": ["" for _ in lines],
        "tax_category": ["" for _ in lines],
    }
    if account:
        form["account"] = [line[4] for line in lines]
    return form


def error_at(page: Response, input_id: str) -> str:
    """The inline message under the input ``input_id``, as the reader sees it."""
    return html.unescape(error_of(page, input_id))


def documents(book: App, party_id: int, kind: str = "invoice") -> list[int]:
    return [d.id for d in book.invoices.page(BillingQuery(kind=kind, party_id=party_id))]


# -- pages and roles ----------------------------------------------------------------------

READ_PAGES = [
    "/invoices",
    "/invoices?kind=credit_note",
    "/invoices?status=issued&party={org}&overdue=on",
    "/invoices/{draft}",
    "/invoices/{invoice}",
    "/invoices/{late}",
    "/bills",
    "/bills/{bill}",
    "/payments",
    "/payments?party={org}&kind=receipt",
    "/rates",
    "/customers/{org}",
    "/orders/{order}",
]
WRITE_PAGES = [
    "/invoices/new",
    "/invoices/new?q=billing",
    "/invoices/new?party={org}",
    "/bills/new",
    "/bills/new?party={vendor}",
]


@pytest.mark.parametrize("role", ROLES)
def test_every_billing_page_renders_for_every_role(
    client: TestClient, seed: Seed, role: str
) -> None:
    log_in(client, ROLES[role])
    for path in READ_PAGES:
        answer = client.get(url(path, seed))
        assert answer.status_code == 200, (path, answer.text[:500])
        assert ROLES[role] in answer.text
    for path in WRITE_PAGES:
        answer = client.get(url(path, seed))
        assert answer.status_code == (200 if role in WRITERS else 403), (role, path)


@pytest.mark.parametrize("path", [*READ_PAGES, *WRITE_PAGES, "/invoices/{invoice}/pdf"])
def test_billing_pages_send_a_stranger_to_log_in(client: TestClient, seed: Seed, path: str) -> None:
    answer = client.get(url(path, seed))
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")


def test_unknown_documents_are_not_found(client: TestClient, seed: Seed) -> None:
    log_in(client)
    for path in (
        "/invoices/999999",
        "/bills/{invoice}",
        "/invoices/{bill}",
        "/invoices/{bill}/pdf",
    ):
        assert client.get(url(path, seed)).status_code == 404, path


def test_the_lists_show_state_and_filter(client: TestClient, seed: Seed) -> None:
    log_in(client)
    overdue = main_of(client.get(url("/invoices?overdue=on&party={org}", seed)))
    assert "Overdue" in overdue
    assert f'href="/invoices/{seed.late}"' in overdue
    assert f'href="/invoices/{seed.invoice}"' not in overdue
    drafts = main_of(client.get("/invoices?status=draft"))
    assert f'href="/invoices/{seed.draft}"' in drafts
    assert f'href="/invoices/{seed.invoice}"' not in drafts
    refused = client.get("/invoices?status=lost&party=x")
    assert refused.status_code == 422
    assert error_at(refused, "f-status") == "Choose a status from the list."
    assert error_at(refused, "f-party") == "Choose a party from the list."
    assert "Paper Supplies Ltd" in main_of(client.get("/bills"))
    payments = main_of(client.get(url("/payments?party={org}", seed)))
    assert "RC-" in payments
    assert "Billing Org" in payments
    assert client.get("/payments?kind=gift").status_code == 422


def test_the_customer_page_shows_the_finance_section(client: TestClient, seed: Seed) -> None:
    log_in(client, "vic@example.com")
    page = main_of(client.get(url("/customers/{org}", seed)))
    finance = page.split('id="finance"', 1)[1].split("</section>", 1)[0]
    # 119.00 + 59.50 issued, 20.00 paid to the oldest (the late one): 158.50 due.
    assert '<dd class="num" data-finance="due">158.50 EUR</dd>' in finance
    assert 'data-finance="overdue">39.50 EUR</dd>' in finance
    assert f'href="/invoices/{seed.late}"' in finance
    assert f"/invoices/new?party={seed.org}" not in finance  # a viewer bills nobody
    timeline = page.split('id="timeline-items"', 1)[1].split("</ol>", 1)[0]
    assert f'href="/invoices/{seed.late}"' in timeline
    assert "Payment received RC-" in timeline
    assert "/interactions/" not in timeline


def test_a_sales_user_sees_no_billing_actions_and_may_not_post(
    client: TestClient, book: App, seed: Seed
) -> None:
    token = log_in(client, "sam@example.com")
    draft = main_of(client.get(url("/invoices/{draft}", seed)))
    assert "Issue" not in draft
    assert 'method="post"' not in draft
    invoice = main_of(client.get(url("/invoices/{invoice}", seed)))
    assert "Record payment" not in invoice
    assert "Credit note" not in invoice
    assert "Download PDF" in invoice
    assert "Invoice this order" not in main_of(client.get(url("/orders/{order}", seed)))
    assert "New invoice" not in main_of(client.get("/invoices"))
    assert "Add exchange rate" not in main_of(client.get("/rates"))
    before = audit_head(book)
    version = str(book.invoices.get(seed.draft).version)
    for path, data in (
        ("/invoices/{draft}/issue", {"version": version}),
        ("/invoices/{invoice}/payments", {"amount": "1", "method": "cash"}),
        ("/invoices/{invoice}/credit", {}),
        ("/invoices/from-order/{order}", {}),
        ("/invoices/new?party={org}", rows(("", "Fee", "1", "5")) | {"currency": "EUR"}),
        ("/rates/exchange", {"currency": "USD", "day": "2026-01-02", "rate": "0.9"}),
    ):
        answer = client.post(url(path, seed), data={"csrf_token": token, **data})
        assert answer.status_code == 403, path
        assert "sales may not write billing" in answer.text
    assert audit_head(book) == before
    assert book.invoices.get(seed.draft).status == "draft"


# -- the editor ---------------------------------------------------------------------------


def test_the_editor_refuses_bad_values_next_to_their_inputs(
    client: TestClient, book: App, seed: Seed
) -> None:
    token = log_in(client)
    customer = party(book, "Editor Org")
    form = {"csrf_token": token, "currency": "EUR", "action": "save"}
    new = f"/invoices/new?party={customer}"
    bad = client.post(new, data=form | rows((str(seed.product), "", "lots", "")))
    assert bad.status_code == 422
    assert error_at(bad, "line-quantity-0") == "Quantity: 'lots' is not a number, e.g. 1200.50."
    negative = client.post(new, data=form | rows(("", "Fee", "-1", "5")))
    assert "more than 0" in error_at(negative, "line-quantity-0")
    dates = form | {"issued_on": "2026-05-10", "due_on": "2026-05-01"}
    late = client.post(new, data=dates | rows(("", "Fee", "1", "5")))
    assert error_at(late, "f-due_on") == "The due date lies before the document's date."
    assert "Add at least one line." in client.post(new, data=form).text
    assert documents(book, customer) == []


def test_an_invoice_is_saved_and_issued_from_the_editor(
    client: TestClient, book: App, seed: Seed
) -> None:
    token = log_in(client)
    customer = party(book, "Issued Org")
    lines = rows((str(seed.product), "", "3", ""), ("", "Setup", "1", "100"))
    form = {"csrf_token": token, "currency": "EUR", "action": "issue", **lines}
    answer = client.post(f"/invoices/new?party={customer}", data=form)
    assert answer.status_code == 303
    [made] = documents(book, customer)
    assert answer.headers["location"] == f"/invoices/{made}"
    invoice = book.invoices.get(made)
    assert invoice.status == "issued"
    assert invoice.gross == Decimal("154.70")  # (30 + 100) * 1.19
    shown = client.get(answer.headers["location"]).text
    assert f"Issued Invoice {invoice.number}." in shown
    more = client.post(f"/invoices/new?party={customer}", data=form | {"action": "add-line"})
    assert more.text.count("data-quote-line ") == 4  # two typed, one added, one blank


def test_the_preview_prices_invoice_lines_on_the_server(client: TestClient, seed: Seed) -> None:
    token = log_in(client)
    lines = rows((str(seed.product), "", "3", ""), ("", "", "", ""), ("", "Fee", "1", "5"))
    answer = client.post(
        "/invoices/preview",
        data={"csrf_token": token, "currency": "EUR", **lines},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200
    assert '<dd data-total="gross">41.65 EUR</dd>' in answer.text
    assert '<output id="net-2" hx-swap-oob="true">5.00</output>' in answer.text


def test_a_bill_names_its_expense_account(client: TestClient, book: App, seed: Seed) -> None:
    token = log_in(client)
    form = {"csrf_token": token, "currency": "EUR", "action": "save", "reference": "PS-881"}
    new = url("/bills/new?party={vendor}", seed)
    before = documents(book, seed.vendor, "bill")
    missing = client.post(new, data=form | rows(("", "Toner", "2", "40", ""), account=True))
    assert missing.status_code == 422
    assert error_at(missing, "line-account-0") == "Choose the expense account."
    line = ("", "Toner", "2", "40", "Expenses:Office")
    saved = client.post(new, data=form | rows(line, account=True))
    assert saved.status_code == 303
    assert saved.headers["location"].startswith("/bills/")
    [made] = [d for d in documents(book, seed.vendor, "bill") if d not in before]
    bill = book.invoices.get(made)
    assert (bill.kind, bill.reference, bill.lines[0].account) == (
        "bill",
        "PS-881",
        "Expenses:Office",
    )


# -- acting on an invoice -----------------------------------------------------------------


def test_a_draft_is_issued_at_the_version_it_was_shown(
    client: TestClient, book: App, seed: Seed
) -> None:
    token = log_in(client)
    draft = book.invoices.get(consulting(book, seed.org))
    page = main_of(client.get(f"/invoices/{draft.id}"))
    assert f'action="/invoices/{draft.id}/issue"' in page
    stale = client.post(
        f"/invoices/{draft.id}/issue", data={"csrf_token": token, "version": str(draft.version + 1)}
    )
    assert stale.status_code == 409
    assert "changed this document meanwhile" in stale.text
    done = client.post(
        f"/invoices/{draft.id}/issue", data={"csrf_token": token, "version": str(draft.version)}
    )
    assert done.status_code == 303
    assert book.invoices.get(draft.id).status == "issued"
    again = client.post(f"/invoices/{draft.id}/issue", data={"csrf_token": token})
    assert again.status_code == 409
    assert "not a draft" in again.text


def test_an_order_is_invoiced_from_its_page(client: TestClient, book: App, seed: Seed) -> None:
    token = log_in(client)
    assert "Invoice this order" in main_of(client.get(url("/orders/{order}", seed)))
    answer = client.post(url("/invoices/from-order/{order}", seed), data={"csrf_token": token})
    assert answer.status_code == 303
    draft = book.invoices.get(int(answer.headers["location"].rsplit("/", 1)[1]))
    assert (draft.status, draft.order_id, draft.gross) == ("draft", seed.order, Decimal("23.80"))
    assert client.post("/invoices/from-order/999999", data={"csrf_token": token}).status_code == 404


def test_recording_a_payment_checks_its_fields(client: TestClient, book: App, seed: Seed) -> None:
    token = log_in(client)
    customer = party(book, "Paying Org")
    invoice = issued(book, customer)  # 119.00 EUR
    path = f"/invoices/{invoice}/payments"
    form = {"csrf_token": token, "method": "transfer", "paid_on": ""}
    for amount, message in (
        ("abc", "Amount: 'abc' is not a number, e.g. 1200.50."),
        ("", "Amount is required."),
        ("0", "The amount must be more than 0."),
        ("1.005", "decimal"),
    ):
        refused = client.post(path, data=form | {"amount": amount})
        assert refused.status_code == 422, amount
        assert message in error_at(refused, "pay-amount"), amount
    bad_day = client.post(path, data=form | {"amount": "5", "paid_on": "tomorrow"})
    assert "is not a date" in error_at(bad_day, "pay-paid_on")
    bad_method = client.post(path, data=form | {"amount": "5", "method": "barter"})
    assert error_at(bad_method, "pay-method") == "Choose a payment method from the list."
    assert book.invoices.get(invoice).paid == 0
    partly = client.post(path, data=form | {"amount": "19.00"})
    assert partly.status_code == 303
    assert book.invoices.get(invoice).status == "partially_paid"
    page = client.get(f"/invoices/{invoice}").text
    assert "RC-" in page
    assert 'id="pay-amount" name="amount" type="text" value="100.00"' in page  # what is open
    more = client.post(path, data=form | {"amount": "130"})
    assert more.status_code == 303
    assert "30.00 EUR is kept as credit" in client.get(f"/invoices/{invoice}").text
    assert book.invoices.get(invoice).status == "paid"
    assert book.payments.balance(customer).currencies[0].unapplied == Decimal("30.00")


def test_a_credit_note_credits_lines_or_the_whole_invoice(
    client: TestClient, book: App, seed: Seed
) -> None:
    token = log_in(client)
    customer = party(book, "Credited Org")
    invoice = issued(book, customer)
    path = f"/invoices/{invoice}/credit"
    too_many = client.post(path, data={"csrf_token": token, "credit-1": "2"})
    assert too_many.status_code == 422
    assert "quantity <= 1" in error_at(too_many, "f-credit-1")
    typo = client.post(path, data={"csrf_token": token, "credit-1": "one"})
    assert "is not a number" in error_at(typo, "f-credit-1")
    assert documents(book, customer, "credit_note") == []
    done = client.post(path, data={"csrf_token": token, "reason": "Cancelled"})
    assert done.status_code == 303
    [note] = documents(book, customer, "credit_note")
    assert done.headers["location"] == f"/invoices/{note}"
    shown = client.get(done.headers["location"]).text
    assert "Issued Credit note CN-" in shown
    assert f'href="/invoices/{invoice}"' in shown
    assert book.invoices.get(invoice).status == "void"


def test_an_invoice_downloads_as_pdf_and_factur_x(client: TestClient, seed: Seed) -> None:
    log_in(client, "vic@example.com")
    for path, name in (("pdf", ".pdf"), ("facturx", "-facturx.pdf")):
        answer = client.get(url(f"/invoices/{{invoice}}/{path}", seed))
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/pdf"
        assert answer.content.startswith(b"%PDF")
        assert answer.headers["content-disposition"].endswith(f'{name}"')


# -- rates --------------------------------------------------------------------------------


def test_rates_are_added_and_checked(client: TestClient, book: App) -> None:
    token = log_in(client)
    exchange = {"csrf_token": token, "currency": "USD", "day": "2026-03-02"}
    refused = client.post("/rates/exchange", data=exchange | {"rate": "-0.9"})
    assert refused.status_code == 422
    assert error_at(refused, "fx-rate") == "An exchange rate must be more than 0."
    blank = client.post("/rates/exchange", data=exchange | {"currency": "", "rate": "1"})
    assert error_at(blank, "fx-currency") == "Currency is required."
    added = client.post("/rates/exchange", data=exchange | {"rate": "0.9125"})
    assert added.status_code == 303
    assert "0.9125 EUR" in main_of(client.get("/rates"))
    tax = {"csrf_token": token, "category": "books", "valid_from": "2026-01-01", "per": "line"}
    too_high = client.post("/rates/tax", data=tax | {"rate": "107"})
    assert error_at(too_high, "tax-rate") == "Rate: a percentage from 0 to 100."
    bad_name = client.post("/rates/tax", data=tax | {"category": "book shop", "rate": "7"})
    assert "letters, digits" in error_at(bad_name, "tax-category")
    assert client.post("/rates/tax", data=tax | {"rate": "7"}).status_code == 303
    assert ("books", Decimal("0.07")) in [(t.category, t.rate) for t in book.rates.tax_rates()]


# -- layout, scripts and tokens -------------------------------------------------------------


def test_billing_nav_links_are_marked_current(client: TestClient, seed: Seed) -> None:
    log_in(client)
    for path, link in (
        ("/invoices", "/invoices"),
        (f"/invoices/{seed.invoice}", "/invoices"),
        ("/invoices/new", "/invoices"),
        ("/payments", "/payments"),
        (f"/bills/{seed.bill}", "/bills"),
        ("/rates", "/rates"),
    ):
        nav = client.get(path).text.split('aria-label="Main"')[1].split("</nav>")[0]
        assert f'href="{link}" aria-current="page"' in nav, path


def test_billing_pages_carry_no_inline_script_or_style(client: TestClient, seed: Seed) -> None:
    log_in(client, "adm@example.com")
    for path in [*READ_PAGES, *WRITE_PAGES]:
        html = client.get(url(path, seed)).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\sstyle=", html), path
        assert not re.search(r"\son[a-z]+=", html), path


POSTS = [
    "/invoices/new?party={org}",
    "/bills/new?party={vendor}",
    "/invoices/preview",
    "/invoices/{draft}/issue",
    "/bills/{bill}/issue",
    "/invoices/{invoice}/credit",
    "/invoices/{invoice}/payments",
    "/bills/{bill}/payments",
    "/invoices/from-order/{order}",
    "/rates/exchange",
    "/rates/tax",
]


@pytest.mark.parametrize("path", POSTS)
def test_every_billing_form_needs_the_sessions_token(
    client: TestClient, book: App, seed: Seed, path: str
) -> None:
    log_in(client, "adm@example.com")
    before = audit_head(book)
    data = {"amount": "1", "method": "cash", "currency": "USD", "day": "2026-01-01", "rate": "1"}
    for token in (None, "forged"):
        sent = data | ({"csrf_token": token} if token else {})
        answer = client.post(url(path, seed), data=sent)
        assert answer.status_code == 403
        assert "security token" in answer.text
    assert audit_head(book) == before
