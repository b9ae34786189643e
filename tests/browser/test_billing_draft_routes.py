"""Drafts on the web without a browser (FastAPI's TestClient against the whole app): a draft
opens in the editor, is saved at the version it was shown (a stale one comes back 409),
priced with or without tax as the "Prices include tax" box says, and deleted from its page;
an issued document offers neither and refuses both."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from crmledger.bootstrap import App
from crmledger.server import create_app
from crmledger.services.errors import NotFoundError
from crmledger.services.invoicing import DocumentLine, NewDocument
from tests.browser.conftest import make_book
from tests.browser.test_billing_routes import consulting, issued, party, rows
from tests.browser.test_crm_routes import ROLES, main_of
from tests.browser.test_web_routes import log_in


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    book = make_book(tmp_path_factory.mktemp("billing-drafts"))
    yield book
    book.engine.dispose()


@pytest.fixture
def client(book: App) -> TestClient:
    return TestClient(create_app(book), follow_redirects=False)


def _form(token: str, version: int, action: str = "save", **values: str) -> dict[str, object]:
    head = {"csrf_token": token, "currency": "EUR", "version": str(version), "action": action}
    return head | values | rows(("", "Consulting", "1", "119.00"))


def test_a_draft_opens_in_the_editor_and_is_saved_at_its_version(
    client: TestClient, book: App
) -> None:
    token = log_in(client)
    draft = book.invoices.get(consulting(book, party(book, "Draft Org")))
    page = main_of(client.get(f"/invoices/{draft.id}"))
    assert f'href="/invoices/{draft.id}/edit"' in page
    assert f'action="/invoices/{draft.id}/delete"' in page
    editor = main_of(client.get(f"/invoices/{draft.id}/edit"))
    assert f'action="/invoices/{draft.id}/edit"' in editor
    assert 'name="version" value="1"' in editor
    assert re.search(r'<input id="f-prices_include_tax" name="prices_include_tax"', editor)
    assert 'value="100.00"' in editor  # the stored unit price
    saved = client.post(f"/invoices/{draft.id}/edit", data=_form(token, 1, prices_include_tax="on"))
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"/invoices/{draft.id}"
    changed = book.invoices.get(draft.id)
    # 119.00 including 19 %: tax 19.00, net 100.00
    assert (changed.prices_include_tax, changed.net, changed.tax, changed.gross) == (
        True,
        Decimal("100.00"),
        Decimal("19.00"),
        Decimal("119.00"),
    )
    assert changed.version == 2
    shown = main_of(client.get(f"/invoices/{draft.id}"))
    assert "Include tax" in shown
    stale = client.post(f"/invoices/{draft.id}/edit", data=_form(token, 1))
    assert stale.status_code == 409
    assert "changed this draft meanwhile" in stale.text
    done = client.post(f"/invoices/{draft.id}/edit", data=_form(token, 2, action="issue"))
    assert done.status_code == 303
    final = book.invoices.get(draft.id)
    assert (final.status, final.gross, final.prices_include_tax) == (
        "issued",
        Decimal("141.61"),  # saved without the box: 119.00 net + 19 %
        False,
    )
    page = main_of(client.get(f"/invoices/{draft.id}"))
    assert "/edit" not in page
    assert "Delete draft" not in page
    back = client.get(f"/invoices/{draft.id}/edit")
    assert (back.status_code, back.headers["location"]) == (303, f"/invoices/{draft.id}")
    refused = client.post(f"/invoices/{draft.id}/edit", data=_form(token, final.version))
    assert refused.status_code == 409
    assert "only a draft can be changed" in refused.text


def test_the_totals_follow_the_tax_inclusive_box_as_you_type(client: TestClient, book: App) -> None:
    token = log_in(client)
    form = {"csrf_token": token, "currency": "EUR", **rows(("", "Fee", "2", "59.50"))}
    headers = {"HX-Request": "true"}
    net = client.post("/invoices/preview", data=form, headers=headers)
    assert '<dd data-total="gross">141.61 EUR</dd>' in net.text
    gross = client.post(
        "/invoices/preview", data=form | {"prices_include_tax": "on"}, headers=headers
    )
    assert '<dd data-total="gross">119.00 EUR</dd>' in gross.text
    assert '<dd data-total="net">100.00 EUR</dd>' in gross.text
    assert '<output id="net-0" hx-swap-oob="true">100.00</output>' in gross.text


def test_a_draft_is_deleted_from_its_page_and_an_issued_one_is_not(
    client: TestClient, book: App
) -> None:
    token = log_in(client)
    customer = party(book, "Deleting Org")
    draft = book.invoices.get(consulting(book, customer))
    stale = client.post(f"/invoices/{draft.id}/delete", data={"csrf_token": token, "version": "9"})
    assert stale.status_code == 409
    gone = client.post(
        f"/invoices/{draft.id}/delete", data={"csrf_token": token, "version": str(draft.version)}
    )
    assert (gone.status_code, gone.headers["location"]) == (303, "/invoices")
    assert f"Deleted draft invoice #{draft.id}." in client.get("/invoices").text
    with pytest.raises(NotFoundError):
        book.invoices.get(draft.id)
    kept = issued(book, customer)
    refused = client.post(f"/invoices/{kept}/delete", data={"csrf_token": token, "version": "2"})
    assert refused.status_code == 409
    assert "is issued: only a draft can be deleted" in refused.text
    assert book.invoices.get(kept).status == "issued"
    other = book.invoices.get(consulting(book, customer))
    sales = TestClient(create_app(book), follow_redirects=False)
    sales_token = log_in(sales, ROLES["sales"])
    assert "Delete draft" not in main_of(sales.get(f"/invoices/{other.id}"))
    denied = sales.post(
        f"/invoices/{other.id}/delete", data={"csrf_token": sales_token, "version": "1"}
    )
    assert denied.status_code == 403
    assert book.invoices.get(other.id).status == "draft"


def test_a_draft_bill_keeps_its_expense_accounts_in_the_editor(
    client: TestClient, book: App
) -> None:
    token = log_in(client)
    vendor = party(book, "Toner Ltd")
    line = DocumentLine(description="Toner", unit_price=Decimal(40), account="Expenses:Office")
    bill = book.invoices.create(
        NewDocument(kind="bill", party_id=vendor, currency="EUR", lines=[line])
    )
    editor = main_of(client.get(f"/bills/{bill.id}/edit"))
    assert "Expenses:Office" in editor
    lines = rows(("", "Toner", "3", "40.00", "Expenses:Office"), account=True)
    form = {"csrf_token": token, "currency": "EUR", "version": "1", "action": "save", **lines}
    saved = client.post(f"/bills/{bill.id}/edit", data=form)
    assert (saved.status_code, saved.headers["location"]) == (303, f"/bills/{bill.id}")
    changed = book.invoices.get(bill.id)
    assert (changed.gross, changed.lines[0].account) == (Decimal("142.80"), "Expenses:Office")
    gone = client.post(f"/bills/{bill.id}/delete", data={"csrf_token": token, "version": "2"})
    assert (gone.status_code, gone.headers["location"]) == (303, "/bills")
