"""Expense claims in a real browser: a sales employee claims a taxi ride with its receipt
uploaded from the form, a finance user approves it (the claim is posted) and reimburses it,
and the receipt downloads as it was uploaded (Debian's Chromium, driven by Playwright).

Pages are screenshotted into ``build/artifacts/screenshots``; any console error (a CSP
violation, a failed script) fails the test.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import LiveServer

#: One transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
LIABILITY = "Liabilities:Employees:Reimbursements"


def test_claim_with_a_receipt_then_approve_and_reimburse(
    open_session, live_server: LiveServer, tmp_path: Path
) -> None:
    receipt = tmp_path / "taxi-receipt.png"
    receipt.write_bytes(PNG)
    sam = open_session()
    page = sam.page
    sam.login("sam@example.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Expenses").click()
    expect(page.get_by_role("heading", name="Expenses", exact=True)).to_be_visible()
    form = page.get_by_role("form", name="Claim an expense")
    form.get_by_label("Description").fill("Taxi to the Hamburg trade fair")
    form.get_by_label("Date").fill("2026-06-12")
    form.get_by_label("Account").select_option("Expenses:Travel")
    form.get_by_label(re.compile(r"^Amount")).fill("59.50")
    form.get_by_label("Tax").select_option("standard")
    form.get_by_label("Receipts").set_input_files(str(receipt))
    expect(form.get_by_label("Submit for approval now")).to_be_checked()
    sam.shot("expense-claim-form")
    form.get_by_role("button", name="Save claim").click()
    heading = page.get_by_role("heading", name=re.compile(r"^Expense claim #\d+$"))
    expect(heading).to_be_visible()
    claim_url = page.url
    claim_id = int(claim_url.rsplit("/", 1)[1])
    expect(page.get_by_role("status").filter(has_text="submitted for approval")).to_be_visible()
    expect(page.locator(".title-line .badge")).to_have_text("Submitted")
    expect(page.locator('[data-total="gross"]')).to_have_text("59.50 EUR")
    expect(page.get_by_role("link", name="taxi-receipt.png")).to_be_visible()
    expect(page.get_by_role("button", name="Approve and post")).to_have_count(0)
    sam.assert_clean()

    ann = open_session()
    finance = ann.page
    ann.login("ann@example.com")
    ann.go("/expenses")
    row = finance.locator("tbody tr").filter(has_text="Taxi to the Hamburg trade fair")
    expect(row).to_contain_text("Submitted")
    row.get_by_role("link").click()
    expect(finance.get_by_role("heading", name=f"Expense claim #{claim_id}")).to_be_visible()
    with finance.expect_download() as download:
        finance.get_by_role("link", name="taxi-receipt.png").click()
    assert Path(download.value.path()).read_bytes() == PNG
    finance.get_by_role("button", name="Approve and post").click()
    posted = finance.get_by_role("heading", name=re.compile(r"^EXP-2026-\d{4}$"))
    expect(posted).to_be_visible()
    expect(finance.locator(".title-line .badge")).to_have_text("Posted")
    expect(finance.get_by_role("link", name="View the entry")).to_be_visible()
    ann.shot("expense-claim-posted")
    claim = live_server.book.expenses.get(claim_id)
    assert (claim.status, claim.gross, claim.tax) == ("posted", Decimal("59.50"), Decimal("9.50"))
    entry = live_server.book.ledger.get(claim.entry_id or 0)
    owed = [p for p in entry.postings if p.account == LIABILITY]
    assert [(p.amount, p.party) for p in owed] == [(Decimal("-59.50"), f"user:{claim.employee_id}")]

    finance.get_by_label("Paid on").fill("2026-06-30")
    finance.get_by_role("button", name="Reimburse", exact=True).click()
    expect(finance.locator(".title-line .badge")).to_have_text("Reimbursed")
    expect(finance.get_by_text("2026-06-30 from Assets:Bank:Checking")).to_be_visible()
    ann.assert_clean()
    assert live_server.book.expenses.get(claim_id).status == "reimbursed"
