"""Merging a duplicate customer in a real browser (Debian's Chromium, Playwright): from
the customer page to the merge form, the merge, the survivor's page with the duplicate's
invoice, and the undo from the list. Screenshots go to ``build/artifacts/screenshots``."""

from __future__ import annotations

from playwright.sync_api import expect

from crmledger.core.crm.parties import Party, PartyKind
from tests.browser.conftest import LiveServer
from tests.db.test_billing import invoice


def test_merge_a_duplicate_and_undo(open_session, live_server: LiveServer) -> None:
    book = live_server.book
    keep = book.parties.add(Party(PartyKind.ORGANISATION, "Merge Keep GmbH"))
    copy = book.parties.add(Party(PartyKind.ORGANISATION, "MERGE KEEP"))
    bill = invoice(book, copy.id or 0, "42.00")
    s = open_session()
    s.login("ann@example.com")
    s.go(f"/customers/{keep.id}")
    page = s.page
    page.get_by_role("link", name="Merge a duplicate").click()
    expect(page.get_by_role("heading", name="Merge customers")).to_be_visible()
    page.get_by_label("Duplicate to merge into it (id)").fill(str(copy.id))
    s.shot("party-merge-form")
    page.get_by_role("button", name="Merge", exact=True).click()
    expect(page.get_by_text(f"Customer {copy.id} merged into {keep.id}")).to_be_visible()
    expect(page.get_by_role("link", name=bill.number or "", exact=True)).to_be_visible()
    s.shot("party-merge-survivor")
    s.go("/imports/fusion/merges")
    page.get_by_role("button", name="Undo").first.click()
    expect(page.get_by_text("undone: customer")).to_be_visible()
    assert book.invoices.get(bill.id).party_id == copy.id
    s.shot("party-merge-undone")
    s.assert_clean()
