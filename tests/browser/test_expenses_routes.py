"""The expense pages without a browser (FastAPI's TestClient on the whole app): who sees
which claims, the form's errors next to their inputs with nothing written, the CSRF token,
the four-eyes rule and the receipt download."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from crmledger.bootstrap import App
from crmledger.server import create_app
from tests.browser.conftest import make_book
from tests.browser.test_web_routes import log_in

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
CLAIM = {
    "description": "Train to Cologne",
    "claimed_on": "2026-06-02",
    "account": "Expenses:Travel",
    "amount": "89.00",
    "currency": "EUR",
    "tax_category": "standard",
    "amounts": "gross",
    "submit": "on",
}


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    book = make_book(tmp_path_factory.mktemp("expense-routes"))
    yield book
    book.engine.dispose()


def client_of(book: App) -> TestClient:
    return TestClient(create_app(book), follow_redirects=False)


def claim(
    client: TestClient, token: str, receipt: tuple[str, bytes, str], **changes: str
) -> object:
    return client.post(
        "/expenses",
        data={"csrf_token": token, **CLAIM, **changes},
        files=[("receipts", receipt)],
    )


def errors_of(html: str) -> dict[str, str]:
    return dict(re.findall(r'<p class="error" id="claim-([a-z_]+)-error">([^<]*)</p>', html))


def test_a_claim_is_saved_submitted_and_seen_by_its_employee_and_finance(book: App) -> None:
    sam = client_of(book)
    token = log_in(sam, "sam@example.com")
    saved = claim(sam, token, ("train.png", PNG, "image/png"))
    assert saved.status_code == 303
    page = sam.get(saved.headers["location"])
    assert "Submitted" in page.text
    assert "Approve and post" not in page.text
    receipt = re.search(r'href="(/expenses/\d+/receipts/\d+)"', page.text)
    assert receipt is not None
    download = sam.get(receipt.group(1))
    assert (download.status_code, download.content) == (200, PNG)
    assert download.headers["content-type"] == "image/png"

    sue = client_of(book)
    log_in(sue, "sue@example.com")  # support: claims of her own only
    assert "Train to Cologne" not in sue.get("/expenses").text
    assert sue.get(saved.headers["location"]).status_code == 404
    assert sue.get(receipt.group(1)).status_code == 404
    vic = client_of(book)
    log_in(vic, "vic@example.com")  # viewer: no expenses at all
    assert vic.get("/expenses").status_code == 403
    assert 'href="/expenses"' not in vic.get("/").text

    ann = client_of(book)
    ann_token = log_in(ann, "ann@example.com")
    assert "Train to Cologne" in ann.get("/expenses").text
    shown = ann.get(saved.headers["location"]).text
    version = re.search(r'name="version" value="(\d+)"', shown)
    assert version is not None
    approved = ann.post(
        f"{saved.headers['location']}/approve",
        data={"csrf_token": ann_token, "version": version.group(1)},
    )
    assert approved.status_code == 303
    assert "Posted" in ann.get(saved.headers["location"]).text


def test_bad_values_and_receipts_are_shown_next_to_their_inputs(book: App) -> None:
    sam = client_of(book)
    token = log_in(sam, "sam@example.com")
    before = len(book.expenses.page(_all()))
    text_file = claim(sam, token, ("notes.txt", b"no receipt", "text/plain"))
    assert text_file.status_code == 422
    assert "notes.txt is not a PDF, PNG or JPEG file" in errors_of(text_file.text)["receipts"]
    bad = claim(sam, token, ("train.png", PNG, "image/png"), amount="12.345", description="")
    assert bad.status_code == 422
    assert errors_of(bad.text)["description"] == "Description is required."
    unknown = claim(sam, token, ("train.png", PNG, "image/png"), account="Expenses:Yacht")
    assert "no account Expenses:Yacht" in errors_of(unknown.text)["account"]
    assert len(book.expenses.page(_all())) == before


def test_forms_need_the_sessions_token_and_nobody_approves_their_own(book: App) -> None:
    ann = client_of(book)
    token = log_in(ann, "ann@example.com")
    refused = claim(ann, "not-the-token", ("train.png", PNG, "image/png"))
    assert refused.status_code == 403
    own = claim(ann, token, ("train.png", PNG, "image/png"))
    assert own.status_code == 303
    page = ann.get(own.headers["location"]).text
    assert "Approve and post" not in page
    mine = ann.post(f"{own.headers['location']}/approve", data={"csrf_token": token})
    assert mine.status_code == 403
    assert "nobody may approve their own expense claim" in mine.text.lower()


def _all():
    from crmledger.services.expense_ports import ExpenseQuery

    return ExpenseQuery(limit=500)
