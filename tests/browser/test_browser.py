"""The web UI in a real browser: Debian's Chromium, driven by Playwright.

Each test signs in through the login form and uses the pages as a person would; every page
is screenshotted (full page) into ``build/artifacts/screenshots`` and every console error
(CSP violations show up there) fails the test.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from crmledger.core.entries import JournalEntry, Posting
from tests.browser.conftest import PASSWORD, PHONE, LiveServer

pytestmark = pytest.mark.browser


def fill_row(page: Page, row: int, account: str, amount: str) -> None:
    rows = page.locator("[data-posting-row]")
    rows.nth(row).get_by_label("Account").fill(account)
    rows.nth(row).get_by_label("Amount").fill(amount)


def post_directly(server: LiveServer, narration: str, debit: str, credit: str, amount: str) -> int:
    entry = JournalEntry(
        date(2026, 3, 2),
        narration,
        (Posting(debit, Decimal(amount), "EUR"), Posting(credit, -Decimal(amount), "EUR")),
    )
    [ref] = server.book.ledger.post([entry])
    return ref.id


def test_log_in_post_an_entry_see_it_in_the_trial_balance_and_log_out(open_session) -> None:
    s = open_session()
    page = s.page
    s.go("/journal")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fjournal$"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    s.shot("login")
    page.get_by_label("Email").fill("ann@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(s.base + "/journal")
    expect(page.get_by_role("heading", name="Journal")).to_be_visible()

    s.go("/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    s.shot("dashboard")
    s.go("/accounts")
    expect(page.get_by_role("row", name=re.compile("Assets:Bank:Savings"))).to_be_visible()
    s.shot("accounts")

    page.get_by_role("link", name="Journal", exact=True).click()
    page.get_by_role("link", name="New entry").click()
    expect(page.get_by_role("heading", name="New journal entry")).to_be_visible()
    expect(page.locator("[data-imbalance]")).to_have_text("Enter at least two postings")
    s.shot("entry-form")
    page.get_by_label("Narration").fill("Consulting for Acme")
    fill_row(page, 0, "Assets:Bank:Savings", "1250.00")
    fill_row(page, 1, "Income:Other", "-1250.00")
    expect(page.locator("[data-imbalance]")).to_have_text("Balanced")
    page.get_by_role("button", name="Post entry").click()

    expect(page).to_have_url(re.compile(r"/journal/\d+$"))
    expect(
        page.get_by_role("status").filter(has_text=re.compile(r"Posted GJ\/\d{4}\/\d+\."))
    ).to_be_visible()
    expect(
        page.get_by_role("row", name=re.compile(r"Assets:Bank:Savings 1,250\.00"))
    ).to_be_visible()
    s.shot("entry-detail")

    page.get_by_role("link", name="Reports").first.click()
    page.get_by_role("link", name="Trial balance").click()
    row = page.get_by_role("row", name=re.compile("Assets:Bank:Savings"))
    expect(row).to_contain_text("1,250.00")
    expect(page.get_by_role("row", name=re.compile("Income:Other"))).to_contain_text("-1,250.00")
    s.shot("trial-balance")
    row.get_by_role("link", name="Assets:Bank:Savings").click()
    expect(page.get_by_role("heading", name="Assets:Bank:Savings")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Consulting for Acme"))).to_contain_text(
        "1,250.00"
    )
    s.shot("account-ledger")

    s.go("/audit")
    expect(page.get_by_text("Verified", exact=True)).to_be_visible()
    s.shot("audit")
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("cell", name="journal.post").first).to_be_visible()
    s.shot("audit-log")
    s.go("/imports")
    expect(page.get_by_text("Imports is not available yet.")).to_be_visible()
    s.shot("placeholder")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(s.base + "/login")
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    s.go("/accounts")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Faccounts$"))
    s.assert_clean()


def test_an_unbalanced_entry_is_refused_by_the_page_and_by_the_server(open_session) -> None:
    s = open_session()
    page = s.page
    s.login("ann@example.com")
    s.go("/journal/new")
    page.get_by_label("Narration").fill("Office chairs")
    fill_row(page, 0, "Expenses:Office", "100")
    fill_row(page, 1, "Assets:Cash", "-90.50")
    expect(page.locator("[data-imbalance]")).to_have_text("Imbalance: 9.50 EUR")
    expect(page.get_by_role("button", name="Post entry")).to_be_disabled()
    s.shot("entry-form-unbalanced")
    page.locator("[data-add-row]").click()
    expect(page.locator("[data-posting-row]")).to_have_count(5)
    fill_row(page, 4, "Assets:Cash", "-9.50")
    expect(page.locator("[data-imbalance]")).to_have_text("Balanced")
    fill_row(page, 4, "Assets:Nope", "-9.50")
    page.get_by_role("button", name="Post entry").click()
    # Balanced, but the server knows no such account: the error sits under that row.
    expect(page.locator("#p4-account-error")).to_have_text("Unknown account 'Assets:Nope'.")
    expect(page.locator("#p4-account")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Narration")).to_have_value("Office chairs")
    s.assert_clean()

    # Without script nothing stops the form: the server refuses it and says why.
    plain = open_session(javascript=False)
    plain.login("ann@example.com")
    plain.go("/journal/new")
    plain.page.get_by_label("Narration").fill("Office chairs")
    fill_row(plain.page, 0, "Expenses:Office", "100")
    fill_row(plain.page, 1, "Assets:Cash", "-90.50")
    with plain.page.expect_response(lambda r: r.request.method == "POST") as answer:
        plain.page.get_by_role("button", name="Post entry").click()
    assert answer.value.status == 422
    expect(plain.page.locator("#postings-error")).to_have_text(
        "Entry does not balance: residual 9.50 EUR."
    )
    expect(plain.page.locator("#p0-amount")).to_have_value("100")
    expect(plain.page.locator("#p1-account")).to_have_value("Assets:Cash")
    plain.shot("entry-form-server-error")
    plain.assert_clean()


def test_a_viewer_sees_no_entry_form_and_may_not_post(open_session, live_server) -> None:
    entry_id = post_directly(live_server, "Rent for March", "Expenses:Rent", "Assets:Cash", "800")
    s = open_session()
    page = s.page
    s.login("vic@example.com")
    expect(page.get_by_role("link", name="New journal entry")).to_have_count(0)
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit")
    ).to_have_count(0)
    s.go("/journal")
    expect(page.get_by_role("link", name="New entry")).to_have_count(0)
    s.go(f"/journal/{entry_id}")
    expect(page.get_by_role("heading", name=re.compile(r"GJ\/2026\/\d+"))).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Reverse"))).to_have_count(0)
    token = s.csrf()
    response = page.goto(s.base + "/journal/new")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    s.shot("forbidden")
    answer = page.request.post(
        s.base + "/journal/new",
        form={
            "csrf_token": token,
            "date": "2026-03-03",
            "narration": "Sneaky",
            "account": "Assets:Cash",
            "amount": "1",
        },
    )
    assert answer.status == 403
    refused = page.request.post(f"{s.base}/journal/{entry_id}/reverse", form={"csrf_token": token})
    assert refused.status == 403
    assert live_server.book.ledger.get(entry_id).state.value == "posted"
    s.assert_clean()


def test_a_form_without_the_sessions_csrf_token_is_refused(open_session, live_server) -> None:
    entry_id = post_directly(live_server, "Software", "Expenses:Software", "Assets:Cash", "49")
    s = open_session()
    s.login("ann@example.com")
    s.go(f"/journal/{entry_id}")
    form = {"date": "2026-03-04"}
    for token in ("", "forged-token", s.csrf()[:-1] + "x"):
        answer = s.page.request.post(
            f"{s.base}/journal/{entry_id}/reverse", form={**form, "csrf_token": token}
        )
        assert answer.status == 403, token
        assert "security token" in answer.text()
    assert live_server.book.ledger.get(entry_id).state.value == "posted"
    # The reverse button on the page carries the right token.
    s.page.get_by_role("button", name=re.compile(r"^Reverse GJ\/")).click()
    expect(s.page.get_by_role("status").filter(has_text="Reversed")).to_be_visible()
    assert live_server.book.ledger.get(entry_id).state.value == "reversed"
    s.assert_clean()


def test_journal_filters_swap_the_table_with_htmx(open_session, live_server) -> None:
    post_directly(live_server, "Marketing flyers", "Expenses:Marketing", "Assets:Cash", "75")
    s = open_session()
    page = s.page
    s.login("ann@example.com")
    s.go("/journal")
    page.get_by_label("Account").fill("Expenses:Marketing")
    with page.expect_request(lambda r: r.headers.get("hx-request") == "true"):
        page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/journal\?.*account=Expenses%3AMarketing"))
    rows = page.locator("#journal-results tbody tr")
    expect(rows.first).to_contain_text("Marketing flyers")
    for text in rows.all_inner_texts():
        assert "Marketing" in text
    expect(page.get_by_role("heading", name="Journal")).to_have_count(1)  # no page in a page
    s.shot("journal")
    s.assert_clean()


def test_pages_fit_a_phone(open_session) -> None:
    s = open_session(viewport=PHONE)
    s.login("ann@example.com")
    for path, name in (("/", "phone-dashboard"), ("/journal/new", "phone-entry-form")):
        s.go(path)
        overflow = s.page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
        s.shot(name)
    s.assert_clean()
