"""Billing in a real browser: an order becomes an invoice, is issued, downloaded as PDF and
paid in two parts, and the customer's page follows; the invoice editor totals as you type,
with prices that exclude or include tax (Debian's Chromium, driven by Playwright).

Each test screenshots its pages into ``build/artifacts/screenshots``; any console error (a
CSP violation, a failed script) fails the test. The customer, products and the confirmed
order the tests start from are added through the services as the local operator.
"""

from __future__ import annotations

import re
from decimal import Decimal
from io import BytesIO
from pathlib import Path

from playwright.sync_api import Page, expect
from pypdf import PdfReader

from crmledger.core.crm.parties import Party, PartyKind
from crmledger.core.crm.products import Price, Product
from crmledger.services.sales import DraftLine
from tests.browser.conftest import PHONE, LiveServer


def customer(server: LiveServer, name: str) -> int:
    party = server.book.parties.add(
        Party(kind=PartyKind.ORGANISATION, display_name=name, currency="EUR")
    )
    assert party.id is not None
    return party.id


def product(server: LiveServer, sku: str, name: str, price: str) -> int:
    stored = server.book.products.add(
        Product(
            sku=sku,
            name=name,
            income_account="Income:Sales:Products",
            prices=(Price("EUR", Decimal(price)),),
        )
    )
    assert stored.id is not None
    return stored.id


def confirmed_order(server: LiveServer, party_id: int, product_id: int, quantity: int) -> int:
    sales = server.book.sales
    order = sales.create_order(party_id, "EUR", [DraftLine(product_id, quantity=Decimal(quantity))])
    return sales.confirm_order(order.id, order.version).id


def finance(page: Page, name: str) -> str:
    text = page.locator(f'#finance [data-finance="{name}"]').text_content()
    return (text or "").strip()


def pdf_text(path: Path) -> str:
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    return "\n".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages)


def test_invoice_an_order_issue_it_and_get_paid(open_session, live_server: LiveServer) -> None:
    party = customer(live_server, "Analytical Engines plc")
    gear = product(live_server, "GEAR-9", "Brass gear train", "400.00")
    order = confirmed_order(live_server, party, gear, 3)  # 1,200.00 + 19% = 1,428.00
    s = open_session()
    page = s.page
    s.login("ann@example.com")
    s.go(f"/orders/{order}")
    page.get_by_role("button", name="Invoice this order").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Draft invoice #\d+$"))).to_be_visible()
    expect(page.locator('[data-total="gross"]')).to_have_text("1,428.00 EUR")
    page.get_by_role("button", name="Issue").click()
    heading = page.get_by_role("heading", name=re.compile(r"^Invoice INV-\d{4}-\d{4}$"))
    expect(heading).to_be_visible()
    number = (heading.text_content() or "").removeprefix("Invoice ")
    expect(page.get_by_role("status").filter(has_text=f"Issued Invoice {number}.")).to_be_visible()
    s.shot("invoice-issued")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename == f"{number}.pdf"
    assert number in pdf_text(download.value.path())

    s.go(f"/customers/{party}")
    assert finance(page, "due") == "1,428.00 EUR"
    item = page.locator(".timeline-item").filter(has_text=f"Invoice {number}")
    expect(item).to_contain_text("Issued")
    customer_url = page.url

    item.get_by_role("link").click()
    expect(heading).to_be_visible()
    page.get_by_label("Amount (EUR)").fill("428.00")
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_role("status").filter(has_text="Recorded RC-")).to_be_visible()
    expect(page.locator(".title-line .badge")).to_have_text("Partially paid")
    expect(page.locator('[data-total="open"]')).to_have_text("1,000.00 EUR")
    expect(page.get_by_label("Amount (EUR)")).to_have_value("1000.00")
    page.get_by_role("button", name="Record payment").click()
    expect(page.locator(".title-line .badge")).to_have_text("Paid")
    expect(page.locator('[data-total="open"]')).to_have_text("0.00 EUR")
    expect(page.get_by_role("button", name="Record payment")).to_have_count(0)
    s.shot("invoice-paid")

    page.goto(customer_url)
    assert finance(page, "due") == "0.00 EUR"
    assert finance(page, "days").startswith("0")
    expect(page.locator(".timeline-item").filter(has_text="Payment received")).to_have_count(2)
    expect(page.locator(".timeline-item").filter(has_text=f"Invoice {number}")).to_contain_text(
        "Paid"
    )
    expect(page.locator("#finance").get_by_role("link", name=number)).to_be_visible()
    s.shot("customer-finance")
    s.assert_clean()


def test_the_invoice_editor_totals_as_you_type(open_session, live_server: LiveServer) -> None:
    party = customer(live_server, "Difference Engines Co")
    product(live_server, "LEVER-2", "Steel lever", "25.00")
    s = open_session()
    page = s.page
    s.login("ann@example.com")
    s.go(f"/customers/{party}")
    page.locator("#finance").get_by_role("link", name="New invoice").click()
    expect(page.get_by_role("heading", name="New invoice")).to_be_visible()
    gross = page.locator('[data-total="gross"]')
    lines = page.locator("[data-quote-line]")
    lines.nth(0).get_by_label("Product").select_option(label="LEVER-2 · Steel lever")
    expect(lines.nth(0).get_by_label("Unit price")).to_have_value("25.00")
    expect(gross).to_have_text("29.75 EUR")
    lines.nth(0).get_by_label("Quantity").fill("4")
    expect(gross).to_have_text("119.00 EUR")
    page.get_by_role("button", name="Add line").click()
    lines.nth(1).get_by_label("Description").fill("Fitting")
    lines.nth(1).get_by_label("Unit price").fill("50")
    lines.nth(1).get_by_label("Discount %").fill("10")
    expect(gross).to_have_text("172.55 EUR")  # (100 + 45) * 1.19
    s.shot("invoice-editor")
    page.get_by_label("Prices include tax").check()
    expect(gross).to_have_text("145.00 EUR")  # the prices as typed hold their tax
    expect(page.locator('[data-total="net"]')).to_have_text("121.85 EUR")  # 84.03 + 37.82
    page.get_by_label("Prices include tax").uncheck()
    expect(gross).to_have_text("172.55 EUR")
    page.get_by_role("button", name="Save and issue").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Invoice INV-"))).to_be_visible()
    expect(page.locator('[data-total="gross"]')).to_have_text("172.55 EUR")

    phone = open_session(viewport=PHONE)
    phone.login("ann@example.com")
    for path, name in (
        (page.url.removeprefix(s.base), "phone-invoice"),
        ("/invoices", "phone-invoices"),
    ):
        phone.go(path)
        overflow = phone.page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
        phone.shot(name)
    s.assert_clean()
    phone.assert_clean()
