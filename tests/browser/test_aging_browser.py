"""The aging page and the customer statement download: over HTTP (the figures of the worked
book of :mod:`tests.db.test_aging_report`, a party's open documents, downloads, problems
next to their field, who may) and in Debian's Chromium (open the aging from the reports
page, drill into a customer, download the CSV; download a statement from the customer's
page).

The browser test books in 2020 for a customer of its own, so what other browser tests
write into the shared live server does not change its figures.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from playwright.sync_api import expect
from pypdf import PdfReader

from crmledger.bootstrap import App, build, migrate
from crmledger.config import Settings
from crmledger.core.chart import chart
from crmledger.server import create_app
from tests.browser.conftest import PASSWORD, USERS, LiveServer
from tests.browser.test_web_routes import log_in
from tests.conftest import FAST_HASHER, FixedClock
from tests.db.test_aging_report import Book, worked_book
from tests.db.test_billing import customer, invoice, pay

D = Decimal
DAY = "2026-06-30"


@pytest.fixture(scope="module")
def worked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[App, Book]]:
    """The worked book on a clock stopped on 30 June 2026, with a user per role."""
    folder = tmp_path_factory.mktemp("aging")
    settings = Settings(database_url=f"sqlite:///{folder / 'web.db'}", keyring_path=folder / "k")
    book = build(settings, FixedClock(), FAST_HASHER)
    migrate(book)
    book.ledger.init_book(chart("default"), "EUR")
    for email, role in USERS.items():
        book.access.add_user(email, role, PASSWORD)
    parties = worked_book(book)
    yield book, parties
    book.engine.dispose()


@pytest.fixture
def client(worked: tuple[App, Book]) -> TestClient:
    client = TestClient(create_app(worked[0]), follow_redirects=False)
    log_in(client, "vic@example.com")  # a viewer reads reports
    return client


def cells(html: str, marker: str) -> list[str]:
    """The cell texts of the table row marked ``marker`` (a data attribute)."""
    row = re.search(rf"<tr[^>]*{marker}[^>]*>(.*?)</tr>", html, re.S)
    assert row, marker
    return [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row.group(1), re.S)
    ]


def test_the_aging_page_shows_parties_buckets_and_the_control_account(
    client: TestClient, worked: tuple[App, Book]
) -> None:
    page = client.get("/reports")
    assert 'href="/reports/aging"' in page.text
    shown = client.get(f"/reports/aging?as_of={DAY}")
    assert shown.status_code == 200
    acme = worked[1].acme
    assert cells(shown.text, f'data-party="{acme}"') == [
        "Acme GmbH", "0.00", "238.00", "0.00", "0.00", "0.00", "-50.00", "188.00"
    ]  # fmt: skip
    assert cells(shown.text, 'data-party="total"')[-1] == "211.55"
    assert "Assets:Receivables:Customers on 2026-06-30: 211.55 EUR, the total above." in shown.text
    payables = client.get(f"/reports/aging?kind=payable&as_of={DAY}&buckets=0,15,45")
    assert cells(payables.text, 'data-party="total"') == [
        "Total", "0.00", "0.00", "100.00", "0.00", "-40.00", "60.00"
    ]  # fmt: skip
    assert "16-45" in payables.text


def test_a_party_row_opens_its_open_documents(client: TestClient, worked: tuple[App, Book]) -> None:
    acme = worked[1].acme
    summary = client.get(f"/reports/aging?as_of={DAY}")
    link = (
        f"/reports/aging?kind=receivable&amp;as_of={DAY}&amp;buckets=30%2C60%2C90&amp;party={acme}"
    )
    assert link in summary.text
    page = client.get(link.replace("&amp;", "&"))
    assert page.status_code == 200
    assert cells(page.text, 'data-document="INV-2026-0002"')[:4] == [
        "INV-2026-0002", "2026-05-20", "2026-06-19", "11"
    ]  # fmt: skip
    assert cells(page.text, 'data-document="CN-2026-0001"')[-1] == "Unapplied credit"
    assert re.search(r'href="/invoices/\d+">INV-2026-0002', page.text)


def test_downloads_and_problems(client: TestClient) -> None:
    query = f"as_of={DAY}"
    csv_answer = client.get(f"/reports/aging/export?{query}&format=csv")
    assert csv_answer.headers["content-type"].startswith("text/csv")
    assert 'filename="receivable-aging-2026-06-30.csv"' in csv_answer.headers["content-disposition"]
    read = list(csv.reader(io.StringIO(csv_answer.text)))
    assert read[0] == ["Party", "Current", "1-30", "31-60", "61-90", "Over 90",
                       "Unapplied credit", "Total"]  # fmt: skip
    assert read[-1][0] == "Total"
    assert D(read[-1][-1]) == D("211.55")
    xlsx = client.get(f"/reports/aging/export?{query}&format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert sheet["A1"].value == "Receivables aging (EUR)"
    pdf = client.get(f"/reports/aging/export?{query}&format=pdf")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Receivables aging (EUR)" in text
    assert "211.55" in text
    for bad, message in (
        ("buckets=60,30", "Bounds increase"),
        ("as_of=yesterday", "is not a date"),
        ("kind=loans", "Choose receivables or payables"),
        ("party=9999", "No party 9999"),
        ("party=x", "Not a party"),
    ):
        answer = client.get(f"/reports/aging?{bad}")
        assert answer.status_code == 422, bad
        assert message in answer.text, bad
    assert client.get(f"/reports/aging/export?{query}&format=doc").status_code == 422


def test_only_roles_that_read_reports_see_the_aging(worked: tuple[App, Book]) -> None:
    sam = TestClient(create_app(worked[0]), follow_redirects=False)
    log_in(sam, "sam@example.com")
    assert sam.get("/reports/aging").status_code == 403
    assert sam.get("/reports/aging/export?format=csv").status_code == 403


def test_the_customer_page_downloads_its_statement(worked: tuple[App, Book]) -> None:
    book, parties = worked
    sam = TestClient(create_app(book), follow_redirects=False)
    log_in(sam, "sam@example.com")  # sales reads billing, so statements
    page = sam.get(f"/customers/{parties.acme}")
    assert f'href="/customers/{parties.acme}/statement"' in page.text
    answer = sam.get(f"/customers/{parties.acme}/statement?from=2026-04-01&to={DAY}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(answer.content)).pages)
    for number in ("INV-2026-0002", "RC-2026-0001", "CN-2026-0001", "Kontoauszug"):
        assert number in text
    bad = sam.get(f"/customers/{parties.acme}/statement?from={DAY}&to=2026-01-01")
    assert bad.status_code == 422
    assert "The period ends before it starts" in bad.text
    assert sam.get("/customers/9999/statement").status_code == 404


def test_open_the_aging_drill_into_a_customer_and_download(
    open_session, live_server: LiveServer, tmp_path: Path
) -> None:
    book = live_server.book
    party = customer(book, "Zeta Aging Test Ltd", payment_terms_days=30)
    invoice(book, party, "100.00", on=date(2020, 3, 2))  # 119.00, due 1 April
    invoice(book, party, "50.00", on=date(2020, 6, 10))  # 59.50, due 10 July
    pay(book, party, "19.00", paid_on=date(2020, 6, 20))
    s = open_session()
    page = s.page
    s.login("ann@example.com")
    s.go("/reports")
    page.get_by_role("link", name="Aging").click()
    page.get_by_label("As of").fill("2020-06-30")
    page.get_by_role("button", name="Show").click()
    row = page.locator(f'tr[data-party="{party}"]')
    expect(row).to_contain_text("59.50")  # current
    expect(row).to_contain_text("100.00")  # 61-90 days
    expect(row).to_contain_text("159.50")
    s.shot("aging")
    row.get_by_role("link", name="Zeta Aging Test Ltd").click()
    documents = page.locator("table.aging-documents tbody tr")
    expect(documents).to_have_count(2)
    expect(documents.nth(0)).to_contain_text("90")  # days overdue of the first
    page.get_by_role("link", name="← Every party").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    assert download.value.suggested_filename == "receivable-aging-2020-06-30.csv"
    saved = tmp_path / "aging.csv"
    download.value.save_as(saved)
    found = {r[0]: r for r in csv.reader(io.StringIO(saved.read_text(encoding="utf-8")))}
    assert D(found["Zeta Aging Test Ltd"][-1]) == D("159.50")
    s.go(f"/customers/{party}")
    with page.expect_download() as statement:
        page.get_by_role("link", name="Statement (PDF)").click()
    pdf = tmp_path / "statement.pdf"
    statement.value.save_as(pdf)
    text = " ".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "Statement of account" in text
    assert "Zeta Aging Test Ltd" in text
    assert "Opening balance €159.50" in " ".join(text.split())
    s.assert_clean()


def test_a_bucket_opens_every_partys_documents_in_it(
    client: TestClient, worked: tuple[App, Book]
) -> None:
    summary = client.get(f"/reports/aging?as_of={DAY}")
    link = f"/reports/aging?kind=receivable&amp;as_of={DAY}&amp;buckets=30%2C60%2C90&amp;bucket=1"
    assert f'<a href="{link}">1-30</a>' in summary.text  # the column heading
    assert '<figure class="chart-card" data-chart="aging">' in summary.text
    assert re.search(rf'href="{re.escape(link)}"[^>]*aria-label="1-30: 291.55 EUR"', summary.text)
    page = client.get(link.replace("&amp;", "&"))
    assert page.status_code == 200
    assert "1-30: open documents" in page.text
    acme = worked[1].acme
    assert cells(page.text, 'data-document="INV-2026-0002"')[:5] == [
        "INV-2026-0002", "Acme GmbH", "2026-05-20", "2026-06-19", "11"
    ]  # fmt: skip
    assert f"party={acme}" in page.text
    assert "CN-2026-0001" not in page.text  # credit sits in no bucket
    # Oldest due first, in the base currency, totalled.
    assert re.findall(r'data-document="([^"]+)"', page.text) == ["INV-2026-0003", "INV-2026-0002"]
    assert cells(page.text, 'data-document="INV-2026-0003"')[1:] == [
        "Globex Inc", "2026-05-01", "2026-05-31", "30", "59.50", "USD", "53.55", "1-30"
    ]  # fmt: skip
    assert re.search(r'colspan="7">Total</th><td class="num">291.55</td>', page.text)
    too_far = client.get(f"/reports/aging?as_of={DAY}&bucket=9")
    assert too_far.status_code == 422
    assert "These bounds make buckets 0 to 4." in too_far.text
    assert client.get(f"/reports/aging?as_of={DAY}&bucket=x").status_code == 422
