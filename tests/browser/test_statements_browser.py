"""The statement pages: over HTTP (every statement, its comparison columns, downloads and
problems shown next to their field) and in Debian's Chromium (open the balance sheet, click a
line, see its entries; download the CSV).

The browser test works in 2031 on an account of its own, so the books other browser tests
write into the shared live server do not change its figures.
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

from crmledger.bootstrap import App
from crmledger.core.accounts import Account
from crmledger.server import create_app
from tests.browser.conftest import LiveServer, make_book
from tests.browser.test_web_routes import log_in
from tests.helpers import entry, sale

ACCOUNT = "Assets:Bank:Statements"


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    book = make_book(tmp_path_factory.mktemp("statements"))
    book.ledger.post(
        [
            entry(
                "2025-01-02",
                "Capital",
                ("Assets:Bank:Checking", "5000"),
                ("Equity:Capital", "-5000"),
            ),
            sale("2025-03-05", "1200.00"),
            entry("2025-04-01", "Rent", ("Expenses:Rent", "300"), ("Assets:Bank:Checking", "-300")),
        ]
    )
    yield book
    book.engine.dispose()


@pytest.fixture
def client(book: App) -> TestClient:
    client = TestClient(create_app(book), follow_redirects=False)
    log_in(client, "vic@example.com")  # a viewer reads reports
    return client


def test_every_statement_page_shows_its_figures(client: TestClient) -> None:
    income = client.get(
        "/reports/income-statement",
        params={"from": "2025-01-01", "to": "2025-12-31", "previous": "on"},
    )
    assert income.status_code == 200
    assert '<th scope="col" class="num">2024</th>' in income.text
    assert re.search(r'data-key="net_result">\s*<th scope="row">Net result</th>\s*<td class="num">'
                     r'<a href="/reports/drilldown\?[^"]*">900.00</a>', income.text)  # fmt: skip
    sheet = client.get("/reports/balance-sheet", params={"as_of": "2025-12-31"})
    assert sheet.status_code == 200
    assert "5,900.00" in sheet.text
    assert "accounts=Assets%3ABank%3AChecking&amp;to=2025-12-31" in sheet.text
    flow = client.get("/reports/cash-flow", params={"from": "2025-01-01", "to": "2025-12-31"})
    assert flow.status_code == 200
    assert "Net change in cash" in flow.text
    assert "/reports/cash-flow/export?" in flow.text
    # Each page charts its figures; every bar opens the entries behind it.
    for answer, label in (
        (income, "Net result, 2025: 900.00 EUR"),
        (income, "Net result, 2024: 0.00 EUR"),
        (sheet, "Assets, 2025-12-31: 5,900.00 EUR"),
        (flow, "Closing cash: 5,900.00 EUR"),
    ):
        assert '<figure class="chart-card"' in answer.text
        assert '<link rel="stylesheet" href="/charts.css">' in answer.text
        bar = re.search(rf'<a [^>]*href="(/reports/drilldown\?[^"]*)"[^>]*aria-label="{label}"',
                        answer.text)  # fmt: skip
        assert bar, label


def test_drilldown_page_lists_the_entries(client: TestClient) -> None:
    page = client.get(
        "/reports/drilldown",
        params={"accounts": "Assets:Bank:Checking", "to": "2025-12-31"},
    )
    assert page.status_code == 200
    assert page.text.count('href="/journal/') == 2
    assert "Total of this page" in page.text
    assert "4,700.00" in page.text
    missing = client.get("/reports/drilldown", params={"accounts": "Assets:Nowhere"})
    assert missing.status_code == 422
    assert "Unknown account" in missing.text or "Assets:Nowhere" in missing.text
    assert client.get("/reports/drilldown").status_code == 422


def test_downloads_and_problems(client: TestClient) -> None:
    xlsx = client.get(
        "/reports/balance-sheet/export", params={"as_of": "2025-12-31", "format": "xlsx"}
    )
    assert xlsx.status_code == 200
    assert xlsx.headers["content-disposition"] == (
        'attachment; filename="balance-sheet-2025-12-31.xlsx"'
    )
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = {r[0].value: r[1].value for r in sheet.iter_rows(min_row=5) if r[0].value}
    assert values["Total assets"] == 5900
    bad = client.get("/reports/income-statement", params={"from": "2025-12-31", "to": "2025-01-01"})
    assert bad.status_code == 422
    assert "before it starts" in bad.text
    half = client.get(
        "/reports/cash-flow",
        params={"from": "2025-01-01", "to": "2025-12-31", "earlier_from": "2023-01-01"},
    )
    assert half.status_code == 422
    assert "Give both days of the earlier period." in half.text
    wrong = client.get("/reports/cash-flow/export", params={"format": "docx"})
    assert wrong.status_code == 422


def test_a_role_without_reports_is_refused(book: App) -> None:
    client = TestClient(create_app(book), follow_redirects=False)
    log_in(client, "sam@example.com")
    assert client.get("/reports/balance-sheet").status_code == 403


# -- in the browser -------------------------------------------------------------------------


def test_open_the_balance_sheet_click_a_line_and_download(
    open_session, live_server: LiveServer, tmp_path: Path
) -> None:
    book = live_server.book
    book.ledger.add_account(Account(ACCOUNT))
    book.ledger.post(
        [
            entry("2031-02-01", "Deposit", (ACCOUNT, "750"), ("Equity:Capital", "-750")),
            entry("2031-03-01", "Fees", ("Expenses:Bank:Fees", "12.50"), (ACCOUNT, "-12.50")),
        ]
    )
    s = open_session()
    page = s.page
    s.login("ann@example.com")
    s.go("/reports")
    page.get_by_role("link", name="Balance sheet").click()
    page.get_by_label("As of").fill("2031-06-30")
    page.get_by_role("button", name="Show").click()
    line = page.locator(f'tr[data-key="assets:{ACCOUNT}"]')
    expect(line).to_contain_text("737.50")
    s.shot("balance-sheet")
    line.get_by_role("link", name="737.50").click()
    expect(page.get_by_role("heading", name="Entries behind the figure")).to_be_visible()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Deposit")
    expect(rows.nth(1)).to_contain_text("-12.50")
    expect(page.locator("tfoot")).to_contain_text("737.50")
    s.shot("balance-sheet-drilldown")
    page.go_back()
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    assert download.value.suggested_filename == "balance-sheet-2031-06-30.csv"
    saved = tmp_path / "bs.csv"
    download.value.save_as(saved)
    rows_read = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"))))
    found = {r[0]: r[1] for r in rows_read[1:]}
    assert Decimal(found[ACCOUNT]) == Decimal("737.50")
    assert found["Total assets"] == found["Total liabilities and equity"]
    assert date.fromisoformat(rows_read[0][1]) == date(2031, 6, 30)
    s.assert_clean()
