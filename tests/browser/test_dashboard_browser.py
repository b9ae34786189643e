"""The home dashboard in a real browser: the key-figure cards, the six charts drawn as inline
SVG without a console error (the content security policy refuses inline style and script,
so a chart that carried either would show one), and a top customer's bar opening that
customer's page; a phone gets the same charts without scrolling sideways (Debian's
Chromium, driven by Playwright).

The customer is added through the services as the local operator, dated today (the live
server runs on the real clock), with an invoice large enough to lead whatever else the
session's book holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from playwright.sync_api import expect

from crmledger.core.crm.parties import Party, PartyKind
from crmledger.services.invoicing import DocumentLine, NewDocument
from tests.browser.conftest import PHONE, LiveServer, Session

CHARTS = ("months", "aging", "pipeline", "nps", "customers", "cash")
KPIS = ("revenue", "gross_margin", "cash", "receivables", "overdue", "dso", "pipeline", "nps")
NAME = "Zenith Dashboard Corp"


def _leader(server: LiveServer) -> int:
    party = server.book.parties.add(Party(kind=PartyKind.ORGANISATION, display_name=NAME))
    assert party.id is not None
    today = datetime.now(UTC).date()
    line = DocumentLine(description="Platform", unit_price=Decimal("9999000.00"))
    draft = server.book.invoices.create(
        NewDocument(party_id=party.id, currency="EUR", lines=[line], issued_on=today)
    )
    server.book.invoices.issue(draft.id, draft.version)
    return party.id


def test_the_dashboard_opens_a_customer_from_its_bar(
    open_session: Callable[..., Session], live_server: LiveServer
) -> None:
    party = _leader(live_server)
    s = open_session()
    s.login("ann@example.com")
    s.go("/")
    page = s.page
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    for key in KPIS:
        expect(page.locator(f'[data-kpi="{key}"] .value')).to_be_visible()
    revenue = page.locator('[data-kpi="revenue"] .value')
    expect(revenue).to_contain_text("EUR")
    for key in CHARTS:
        expect(page.locator(f'[data-chart="{key}"] svg')).to_be_visible()
    assert page.locator("svg script").count() == 0
    s.shot("dashboard-charts")

    bar = page.get_by_role("link", name=re.compile(rf"^{NAME}: 9,999,000\.00 EUR gross margin"))
    expect(bar).to_have_count(1)
    bar.click()
    expect(page).to_have_url(re.compile(rf"/customers/{party}$"))
    expect(page.get_by_role("heading", name=NAME, exact=True)).to_be_visible()
    s.assert_clean()


def test_the_charts_fit_a_phone(open_session: Callable[..., Session]) -> None:
    s = open_session(viewport=PHONE)
    s.login("ann@example.com")
    s.go("/")
    expect(s.page.locator('[data-chart="cash"] svg')).to_be_visible()
    overflow = s.page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the dashboard scrolls sideways by {overflow}px"
    s.shot("phone-dashboard-charts")
    s.assert_clean()


def test_a_role_without_reports_sees_the_book_panel_only(
    open_session: Callable[..., Session],
) -> None:
    s = open_session()
    s.login("sue@example.com")
    s.go("/")
    expect(s.page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    expect(s.page.get_by_role("heading", name="The book")).to_be_visible()
    assert s.page.locator("[data-kpi]").count() == 0
    assert s.page.locator("[data-chart]").count() == 0
    s.assert_clean()


def test_the_insights_chart_opens_a_customer(
    open_session: Callable[..., Session], live_server: LiveServer
) -> None:
    party = live_server.book.parties.add(
        Party(kind=PartyKind.ORGANISATION, display_name="Quasar Insight Ltd")
    )
    assert party.id is not None
    line = DocumentLine(description="Audit", unit_price=Decimal("5000000.00"))
    draft = live_server.book.invoices.create(
        NewDocument(party_id=party.id, currency="EUR", lines=[line])
    )
    live_server.book.invoices.issue(draft.id, draft.version)
    s = open_session()
    s.login("ann@example.com")
    s.go("/insights")
    expect(s.page.locator('[data-chart="segments"] svg')).to_be_visible()
    bar = s.page.locator('[data-chart="profit"]').get_by_role(
        "link", name=re.compile(r"^Quasar Insight Ltd: .* net on 5,000,000\.00 EUR$")
    )
    expect(bar).to_have_count(1)
    s.shot("insights-charts")
    bar.click()
    expect(s.page).to_have_url(re.compile(rf"/customers/{party.id}$"))
    s.assert_clean()


def test_an_aging_bar_opens_the_documents_of_its_bucket(
    open_session: Callable[..., Session], live_server: LiveServer
) -> None:
    name = "Tardy Aging Bar Ltd"
    party = live_server.book.parties.add(Party(kind=PartyKind.ORGANISATION, display_name=name))
    assert party.id is not None
    today = datetime.now(UTC).date()
    line = DocumentLine(description="Late work", unit_price=Decimal("410.00"))
    draft = live_server.book.invoices.create(
        NewDocument(
            party_id=party.id,
            currency="EUR",
            lines=[line],
            issued_on=today - timedelta(days=50),
            due_on=today - timedelta(days=20),
        )
    )
    issued = live_server.book.invoices.issue(draft.id, draft.version)
    s = open_session()
    s.login("ann@example.com")
    s.go("/")
    page = s.page
    bar = page.locator('[data-chart="aging"]').get_by_role("link", name=re.compile(r"^1-30 days: "))
    expect(bar).to_have_count(1)
    bar.click()
    expect(page).to_have_url(re.compile(r"/reports/aging\?.*bucket=1"))
    expect(page.get_by_role("heading", name="1-30: open documents")).to_be_visible()
    row = page.locator(f'tr[data-document="{issued.number}"]')
    expect(row).to_contain_text(name)
    expect(row).to_contain_text("20")
    row.get_by_role("link", name=issued.number).click()
    expect(page).to_have_url(re.compile(rf"/invoices/{issued.id}$"))
    s.assert_clean()
