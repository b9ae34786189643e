"""The CRM pages in a real browser: customers and contacts, complaints, the pipeline board
and the quote editor, used as a person would (Debian's Chromium, driven by Playwright).

Each test screenshots its pages into ``build/artifacts/screenshots``; any console error (a
CSP violation, a failed script) fails the test. Records the tests start from are added
through the services as the local operator, the way an import would.
"""

from __future__ import annotations

import re
from decimal import Decimal

from playwright.sync_api import Page, expect

from crmledger.core.crm.deals import Deal
from crmledger.core.crm.interactions import Status
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.core.crm.products import Price, Product
from crmledger.services.crm_ports import DocumentQuery, InteractionQuery
from tests.browser.conftest import PHONE, LiveServer


def organisation(server: LiveServer, name: str, currency: str | None = None) -> int:
    party = server.book.parties.add(
        Party(kind=PartyKind.ORGANISATION, display_name=name, currency=currency)
    )
    assert party.id is not None
    return party.id


def deal(server: LiveServer, party_id: int, title: str, amount: str, currency: str) -> int:
    stored = server.book.deals.add(
        Deal(
            pipeline="sales",
            stage="lead",
            title=title,
            party_id=party_id,
            amount=Decimal(amount),
            currency=currency,
        )
    )
    assert stored.id is not None
    return stored.id


def main_nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def test_create_a_customer_with_a_contact(open_session, live_server: LiveServer) -> None:
    s = open_session()
    page = s.page
    s.login("ann@example.com")
    main_nav(page, "Customers")
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    page.get_by_role("link", name="New customer").click()
    expect(page.get_by_role("heading", name="New customer")).to_be_visible()
    page.get_by_label("Name (required)", exact=True).fill("Babbage Engines Ltd")
    page.get_by_label("Email", exact=True).fill("orders@babbage.example")
    page.get_by_label("Phone", exact=True).fill("020 7946 0958 ext")
    page.get_by_label("Street").fill("1 Dorset Street")
    page.get_by_label("Postcode").fill("W1U 4EG")
    page.get_by_label("City").fill("London")
    page.get_by_label("Country").fill("United Kingdom")
    page.get_by_label("Tax id").fill("GB980780684")
    page.get_by_label("IBAN").fill("GB82 WEST 1234 5698 7654 32")
    page.get_by_label("Tags").fill("vip, engines")
    page.get_by_label("Lifecycle").select_option("customer")
    before = live_server.book.parties.count()
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Add customer").click()
    assert answer.value.status == 422
    # The service named phones[0].number: the message sits under the first phone input.
    expect(page.locator("#f-phone-0-error")).to_have_text(
        "Letters are not allowed in a phone number."
    )
    expect(page.locator("#f-phone-0")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Name (required)", exact=True)).to_have_value("Babbage Engines Ltd")
    assert live_server.book.parties.count() == before
    s.shot("customer-form-error")

    page.locator("#f-phone-0").fill("020 7946 0958")
    page.get_by_role("button", name="Add customer").click()
    expect(page.get_by_role("heading", name="Babbage Engines Ltd")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Added Babbage Engines Ltd.")).to_be_visible()
    expect(page.get_by_role("link", name="+442079460958")).to_be_visible()
    expect(page.get_by_text("GB980780684")).to_be_visible()

    page.get_by_text("Add a contact").click()
    page.get_by_label("Given name").fill("Ada")
    page.get_by_label("Family name").fill("Lovelace")
    page.locator("#contact-email").fill("ada@babbage.example")
    page.get_by_label("Role").fill("Head of Purchasing")
    page.get_by_label("Primary contact").check()
    page.get_by_role("button", name="Add contact").click()
    expect(
        page.get_by_role("status").filter(has_text="Added Ada Lovelace as a contact")
    ).to_be_visible()
    contacts = page.locator("#contacts")
    expect(contacts.get_by_role("link", name="Ada Lovelace")).to_be_visible()
    expect(contacts).to_contain_text("Head of Purchasing")
    s.shot("customer-page")

    # The same person joins a second organisation, found by the contact search (htmx).
    society = organisation(live_server, "Analytical Society")
    s.go(f"/customers/{society}")
    page.get_by_text("Add a contact").click()
    with page.expect_request(lambda r: r.headers.get("hx-request") == "true"):
        page.get_by_label("Find a person").fill("lovelace")
    page.get_by_role("radio", name=re.compile("Ada Lovelace")).check()
    page.get_by_label("Role").fill("Member")
    page.get_by_role("button", name="Add contact").click()
    expect(page.locator("#contacts").get_by_role("link", name="Ada Lovelace")).to_be_visible()
    page.locator("#contacts").get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", name="Works at")).to_be_visible()
    expect(page.locator("#contacts")).to_contain_text("Babbage Engines Ltd")
    expect(page.locator("#contacts")).to_contain_text("Analytical Society")

    # The list finds the customer by a phone number typed another way.
    main_nav(page, "Customers")
    with page.expect_request(lambda r: r.headers.get("hx-request") == "true"):
        page.get_by_label("Search").fill("+44 20 7946 0958")
    expect(page.locator("#customer-results tbody tr")).to_have_count(1)
    expect(page.locator("#customer-results")).to_contain_text("Babbage Engines Ltd")
    s.shot("customers")
    s.go("/products/new")
    expect(page.get_by_role("heading", name="New product")).to_be_visible()
    s.shot("product-form")
    s.assert_clean()


def test_log_a_complaint_and_resolve_it(open_session, live_server: LiveServer) -> None:
    party = organisation(live_server, "Difference Engines Co")
    s = open_session()
    page = s.page
    s.login("sue@example.com")
    s.go(f"/customers/{party}")
    page.get_by_text("Log an interaction").click()
    page.get_by_label("Kind").select_option("complaint")
    page.get_by_label("Priority").select_option("high")
    page.get_by_label("Channel").select_option("email")
    page.get_by_label("Subject").fill("Gear train arrived bent")
    page.get_by_label("Notes").fill("Two teeth of the third wheel are bent; photos attached.")
    page.get_by_role("button", name="Log interaction").click()
    expect(
        page.get_by_role("status").filter(has_text="Logged complaint: Gear train arrived bent.")
    ).to_be_visible()
    item = page.locator(".timeline-item").filter(has_text="Gear train arrived bent")
    expect(item).to_contain_text("SLA on track")
    expect(item).to_contain_text("High priority")
    s.shot("customer-timeline")
    item.get_by_role("link", name="Gear train arrived bent").click()
    expect(page.get_by_role("heading", name="Gear train arrived bent")).to_be_visible()
    expect(page.get_by_role("button", name="Resolve")).to_be_visible()
    s.shot("interaction")

    main_nav(page, "Complaints")
    row = page.locator("tr").filter(has_text="Gear train arrived bent")
    expect(row).to_contain_text("On track")
    expect(row).to_contain_text("Difference Engines Co")
    row.get_by_text("Resolve", exact=True).first.click()
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        row.get_by_role("button", name="Resolve").click()
    assert answer.value.status == 422
    row = page.locator("tr").filter(has_text="Gear train arrived bent")
    expect(row.locator(".error")).to_have_text("A complaint needs a resolution to be resolved.")
    expect(row.get_by_label("Resolution")).to_have_attribute("aria-invalid", "true")
    s.shot("complaints-error")
    row.get_by_label("Resolution").fill("Replacement wheel sent by courier.")
    row.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status").filter(has_text="now Resolved")).to_be_visible()
    expect(page.locator("tr").filter(has_text="Gear train arrived bent")).to_have_count(0)
    s.shot("complaints")
    [found] = live_server.book.interactions.list(InteractionQuery(party_id=party))
    assert found.status is Status.RESOLVED
    assert found.resolution == "Replacement wheel sent by courier."
    s.assert_clean()


def test_move_a_deal_across_the_board_to_won(open_session, live_server: LiveServer) -> None:
    party = organisation(live_server, "Jacquard Looms")
    loom = deal(live_server, party, "Loom upgrade", "8400.00", "CHF")
    cards = deal(live_server, party, "Punch card supply", "1200.00", "CHF")
    s = open_session()
    page = s.page
    s.login("sam@example.com")
    main_nav(page, "Deals")
    expect(page.get_by_role("heading", name="Pipeline: Sales")).to_be_visible()
    column = {
        key: page.locator(f'.board-column[data-stage="{key}"]')
        for key in ("lead", "qualified", "negotiation", "won", "lost")
    }
    expect(column["lead"].locator(f"#deal-{loom}")).to_be_visible()

    for stage, name in (("qualified", "Qualified"), ("negotiation", "Negotiation"), ("won", "Won")):
        page.locator(f"#deal-{loom}").drag_to(column[stage])
        expect(
            page.get_by_role("status").filter(has_text=f"Loom upgrade to {name}")
        ).to_be_visible()
        expect(column[stage].locator(f"#deal-{loom}")).to_be_visible()
    expect(column["won"].locator(".column-total")).to_contain_text("8,400.00 CHF")
    won = live_server.book.deals.get(loom)
    assert won.stage == "won"
    assert won.won_at is not None

    # Dropping on the lost column asks why first; the dialog will not go without a reason.
    page.locator(f"#deal-{cards}").drag_to(column["lost"])
    dialog = page.get_by_role("dialog", name="Why was the deal lost?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Mark as lost").click()
    expect(dialog.locator("[data-lost-error]")).to_have_text("Say why the deal was lost.")
    s.shot("pipeline-lost-dialog")
    dialog.get_by_label("Reason").fill("Budget moved to next year")
    dialog.get_by_role("button", name="Mark as lost").click()
    expect(page.get_by_role("status").filter(has_text="Punch card supply to Lost")).to_be_visible()
    expect(column["lost"].locator(f"#deal-{cards}")).to_be_visible()
    assert live_server.book.deals.get(cards).lost_reason == "Budget moved to next year"
    s.shot("pipeline-board")
    page.get_by_role("link", name="Loom upgrade").click()
    expect(page.get_by_role("heading", name="Loom upgrade")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Won"))).to_be_visible()
    s.shot("deal")
    s.assert_clean()


def _line(page: Page, index: int, name: str) -> object:
    return page.locator("[data-quote-line]").nth(index).get_by_label(name, exact=True)


def test_build_a_quote_with_three_lines_and_accept_it(
    open_session, live_server: LiveServer
) -> None:
    book = live_server.book
    book.products.add(
        Product(
            sku="LENS-1",
            name="Brass lens",
            income_account="Income:Sales:Products",
            prices=(Price("EUR", Decimal("120.00")),),
        )
    )
    book.products.add(
        Product(
            sku="OIL-1",
            name="Lubricating oil",
            income_account="Income:Sales:Products",
            tax_category="reduced",
            prices=(Price("EUR", Decimal("8.50")),),
        )
    )
    party = organisation(live_server, "Royal Society", "EUR")
    lens_deal = deal(live_server, party, "Telescope lenses", "5000.00", "EUR")
    s = open_session()
    page = s.page
    s.login("sam@example.com")
    s.go(f"/customers/{party}")
    page.get_by_role("link", name="New quote").click()
    expect(page.get_by_role("heading", name="New quote")).to_be_visible()
    page.get_by_label("Deal").select_option(str(lens_deal))
    gross = page.locator('[data-total="gross"]')
    lines = page.locator("[data-quote-line]")

    # Line 1: the product fills description, price and tax category; the total follows
    # every keystroke of the quantity (priced by the server, never in the browser).
    lines.nth(0).get_by_label("Product").select_option(label="LENS-1 · Brass lens")
    expect(lines.nth(0).get_by_label("Description")).to_have_value("Brass lens")
    expect(lines.nth(0).get_by_label("Unit price")).to_have_value("120.00")
    expect(gross).to_have_text("142.80 EUR")
    quantity = lines.nth(0).get_by_label("Quantity")
    quantity.press_sequentially("1")
    expect(gross).to_have_text("142.80 EUR")
    quantity.press_sequentially("0")
    expect(gross).to_have_text("1,428.00 EUR")
    quantity.fill("2")
    expect(gross).to_have_text("285.60 EUR")
    expect(page.locator("#net-0")).to_have_text("240.00")

    page.get_by_role("button", name="Add line").click()
    expect(lines).to_have_count(2)
    lines.nth(1).get_by_label("Product").select_option(label="OIL-1 · Lubricating oil")
    expect(lines.nth(1).get_by_label("Tax category")).to_have_value("reduced")
    lines.nth(1).get_by_label("Quantity").fill("4")
    expect(gross).to_have_text("321.98 EUR")

    page.get_by_role("button", name="Add line").click()
    expect(lines).to_have_count(3)
    lines.nth(2).get_by_label("Description").fill("Installation on site")
    lines.nth(2).get_by_label("Unit price").fill("150")
    lines.nth(2).get_by_label("Discount %").fill("10")
    expect(gross).to_have_text("482.63 EUR")
    expect(page.locator('[data-total="net"]')).to_have_text("409.00 EUR")
    s.shot("quote-editor")

    page.get_by_role("button", name="Save and accept").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    expect(
        page.get_by_role("status").filter(has_text=re.compile(r"accepted: order SO-"))
    ).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^Order SO-\d{4}-\d{4}$"))).to_be_visible()
    expect(page.locator("tfoot")).to_contain_text("482.63 EUR")
    expect(page.locator("tbody tr")).to_have_count(3)
    s.shot("order")
    main_nav(page, "Products")
    expect(page.get_by_role("link", name="LENS-1")).to_be_visible()
    s.shot("products")
    assert book.deals.get(lens_deal).stage == "won"
    [quote] = book.sales.list_quotes(DocumentQuery(party_id=party))
    assert quote.status.value == "accepted"
    assert quote.totals.gross == Decimal("482.63")
    s.assert_clean()


def test_crm_pages_fit_a_phone(open_session, live_server: LiveServer) -> None:
    party = organisation(live_server, "Pocket Calculators Ltd")
    s = open_session(viewport=PHONE)
    s.login("sam@example.com")
    for path, name in (
        ("/customers", "phone-customers"),
        (f"/customers/{party}", "phone-customer"),
        ("/complaints", "phone-complaints"),
    ):
        s.go(path)
        overflow = s.page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
        s.shot(name)
    s.assert_clean()
