"""The dashboard's routes without a browser (FastAPI's TestClient): the figures and charts
for report readers, the period form's errors, the shared chart stylesheet, and a page with
no inline style or script for the content security policy to refuse."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from crmledger.bootstrap import App
from crmledger.server import create_app
from tests.browser.conftest import make_book
from tests.browser.test_web_routes import log_in
from tests.db.test_dashboard import build


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    book = make_book(tmp_path_factory.mktemp("dashboard"))
    build(book)
    yield book
    book.engine.dispose()


@pytest.fixture
def client(book: App) -> TestClient:
    return TestClient(create_app(book), follow_redirects=False)


def test_report_readers_get_the_figures_and_the_charts(client: TestClient) -> None:
    log_in(client)
    page = client.get("/")
    assert page.status_code == 200
    assert re.findall(r'data-kpi="([a-z_]+)"', page.text) == [
        "revenue",
        "gross_margin",
        "cash",
        "receivables",
        "overdue",
        "dso",
        "pipeline",
        "nps",
    ]
    assert re.findall(r'data-chart="([a-z]+)"', page.text) == [
        "months",
        "aging",
        "pipeline",
        "nps",
        "customers",
        "cash",
    ]
    assert page.text.count("<svg") == 6
    assert '<link rel="stylesheet" href="/charts.css">' in page.text
    assert "<style" not in page.text
    assert " style=" not in page.text
    assert page.text.count("<script") == 2  # htmx and app.js, both from /static
    assert 'xlink:href="/customers/' in page.text
    assert "/deals?pipeline=sales#col-proposal" in page.text
    assert "Open deals in GBP have no exchange rate to EUR" in page.text


def test_the_period_form_names_its_errors(client: TestClient) -> None:
    log_in(client)
    backwards = client.get("/", params={"from": "2026-06-01", "to": "2026-05-01"})
    assert backwards.status_code == 422
    assert 'id="f-to-error"' in backwards.text
    assert "data-kpi" not in backwards.text
    unknown = client.get("/", params={"compare": "forever"})
    assert unknown.status_code == 422
    assert "Choose a comparison from the list." in unknown.text
    spring = client.get(
        "/", params={"from": "2026-04-01", "to": "2026-06-30", "compare": "previous"}
    )
    assert spring.status_code == 200
    assert "compared with 2026-01-01 to 2026-03-31" in spring.text


def test_roles_without_reports_see_no_figures(client: TestClient) -> None:
    log_in(client, "sam@example.com")
    page = client.get("/")
    assert page.status_code == 200
    assert "data-kpi" not in page.text
    assert "charts.css" not in page.text


def test_the_chart_stylesheet_is_css_for_anyone(client: TestClient) -> None:
    sheet = client.get("/charts.css")
    assert sheet.status_code == 200
    assert sheet.headers["content-type"].startswith("text/css")
    assert ".pygal-chart .color-0" in sheet.text
    assert "#chart-" not in sheet.text
