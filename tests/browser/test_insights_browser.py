"""Customer intelligence in a real browser: the customer page's 360 panel shows the figures
the service computes (balance, days to pay, lifetime revenue and margin, value, churn risk
and its drivers, segment, NPS); the insights page marks the customers that cost more than
they bring, sorts by net, and opens a customer (Debian's Chromium, driven by Playwright).

The customers are added through the services as the local operator, dated relative to
today (the live server runs on the real clock).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from playwright.sync_api import expect

from crmledger.core.crm.interactions import Channel, Direction, Interaction, InteractionKind
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.core.crm.satisfaction import Response, SurveyKind
from crmledger.services.invoicing import DocumentLine, NewDocument
from crmledger.services.settling import NewPayment
from crmledger.web.crm_view import money
from tests.browser.conftest import LiveServer, Session


def _customer(server: LiveServer, name: str) -> int:
    party = server.book.parties.add(Party(kind=PartyKind.ORGANISATION, display_name=name))
    assert party.id is not None
    return party.id


def _invoice(server: LiveServer, party: int, amount: str, day: date) -> None:
    line = DocumentLine(description="Analysis", unit_price=Decimal(amount))
    draft = server.book.invoices.create(
        NewDocument(party_id=party, currency="EUR", lines=[line], issued_on=day)
    )
    server.book.invoices.issue(draft.id, draft.version)


def _touch(server: LiveServer, party: int, kind: InteractionKind, day: date) -> None:
    server.book.interactions.add(
        Interaction(
            kind=kind,
            party_id=party,
            subject=f"A {kind.value}",
            channel=Channel.PHONE,
            direction=Direction.INBOUND,
            occurred_at=datetime(day.year, day.month, day.day, 10, tzinfo=UTC),
        )
    )


def _book(server: LiveServer) -> tuple[int, int]:
    today = datetime.now(UTC).date()
    good = _customer(server, "Babbage Analytics")
    _invoice(server, good, "1000.00", today - timedelta(days=90))
    _invoice(server, good, "500.00", today - timedelta(days=30))
    server.book.payments.record(
        NewPayment(
            party_id=good,
            amount=Decimal("1190.00"),
            currency="EUR",
            paid_on=today - timedelta(days=60),
        )
    )
    _touch(server, good, InteractionKind.COMPLAINT, today - timedelta(days=5))
    server.book.satisfaction.record(
        Response(kind=SurveyKind.NPS, score=4, party_id=good, answered_on=today)
    )
    lossy = _customer(server, "Lossy Lace Ltd")
    _invoice(server, lossy, "10.00", today - timedelta(days=10))
    _touch(server, lossy, InteractionKind.MEETING, today - timedelta(days=9))
    return good, lossy


def test_the_360_panel_and_the_insights_page(
    open_session: Callable[..., Session], live_server: LiveServer
) -> None:
    good, lossy = _book(live_server)
    view = live_server.book.intelligence.customer_360(good)
    s = open_session()
    page = s.page
    s.login("ann@example.com")
    s.go(f"/customers/{good}")
    panel = page.locator("#insight")
    expect(panel).to_be_visible()
    expect(panel.locator('[data-insight="due"]')).to_have_text(money(view.balance.due_base, "EUR"))
    assert view.balance.due_base == Decimal("595.00")
    expect(panel.locator('[data-insight="revenue"]')).to_have_text("1,500.00 EUR")
    expect(panel.locator('[data-insight="margin"]')).to_contain_text("gross margin 1,500.00 EUR")
    expect(panel.locator('[data-insight="days"]')).to_have_text("30.0")
    expect(panel.locator('[data-insight="net"]')).to_have_text(money(view.lifetime.net, "EUR"))
    assert view.lifetime_value is not None
    expect(panel.locator('[data-insight="clv"]')).to_have_text(
        money(view.lifetime_value.value, "EUR")
    )
    expect(panel.locator('[data-insight="churn"]')).to_contain_text(str(view.churn.score))
    expect(panel.locator('[data-insight="segment"]')).to_have_text(view.rfm.segment)  # type: ignore[union-attr]
    expect(panel.locator('[data-insight="nps"]')).to_contain_text("-100.0")
    panel.get_by_text(f"Why churn risk {view.churn.score}").click()
    drivers = panel.locator("#churn-drivers tbody tr")
    expect(drivers).to_have_count(5)
    complaints = panel.locator('[data-driver="complaints"]')
    expect(complaints).to_contain_text("1 recent, 1 open")
    expect(complaints.locator("td.num")).to_have_text("10.0")
    panel.get_by_text("How lifetime value is reckoned").click()
    expect(panel.locator("#clv-assumptions")).to_contain_text("Monthly retention")
    s.shot("customer-360")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Insights").click()
    expect(page.get_by_role("heading", name="Insights", exact=True)).to_be_visible()
    table = page.locator('[data-table="profitability"]')
    lossy_row = table.locator(f'tr[data-party="{lossy}"]')
    expect(lossy_row).to_have_class("loss")
    expect(lossy_row.locator(".badge")).to_have_text("Loss")
    expect(table.locator(f'tr[data-party="{good}"]')).not_to_have_class("loss")
    table.locator('a[data-sort="net"]').click()  # largest net first
    table.locator('a[data-sort="net"]').click()  # now smallest first
    expect(page).to_have_url(f"{live_server.url}/insights?sort=net")
    first = table.locator("tbody tr").first
    expect(first.locator("[data-net]")).to_contain_text("-")
    expect(page.locator('#segments tr[data-segment="Champions"]')).to_be_visible()
    expect(page.locator("#cohorts tbody tr").first).to_be_visible()
    s.shot("insights")
    table.get_by_role("link", name="Babbage Analytics").click()
    expect(page.get_by_role("heading", name="Babbage Analytics")).to_be_visible()
    expect(page.locator("#insight")).to_be_visible()
    s.assert_clean()


def test_a_role_without_reports_sees_neither(
    open_session: Callable[..., Session], live_server: LiveServer
) -> None:
    party = _customer(live_server, "Quiet Quills")
    s = open_session()
    page = s.page
    s.login("sam@example.com")
    s.go(f"/customers/{party}")
    expect(page.get_by_role("heading", name="Quiet Quills")).to_be_visible()
    expect(page.locator("#insight")).to_have_count(0)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Insights")).to_have_count(0)
    answer = page.goto(f"{live_server.url}/insights")
    assert answer is not None
    assert answer.status == 403
    s.assert_clean()
