"""The CRM's web routes without a browser: FastAPI's TestClient against the whole app.

Every page renders for the roles that may read it and refuses (403) those that may not;
links and forms a role cannot use are left out; a form with a bad value comes back (422)
with the message next to the input the service named, and nothing is written; every
state-changing route refuses a request without the session's CSRF token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from crmledger.bootstrap import App
from crmledger.core.crm.deals import Deal
from crmledger.core.crm.interactions import (
    Channel,
    Direction,
    Interaction,
    InteractionKind,
    Priority,
)
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.core.crm.products import Price, Product
from crmledger.server import create_app
from crmledger.services.crm_ports import DealQuery, DocumentQuery, InteractionQuery
from crmledger.services.sales import DraftLine
from crmledger.services.settling import NewPayment
from tests.browser.conftest import make_book
from tests.browser.test_web_routes import log_in

ROLES = {
    "admin": "adm@example.com",
    "accountant": "ann@example.com",
    "sales": "sam@example.com",
    "support": "sue@example.com",
    "auditor": "aud@example.com",
    "viewer": "vic@example.com",
}


@dataclass(frozen=True)
class Seed:
    """Records every page test can open."""

    org: int
    person: int
    deal: int
    product: int
    complaint: int
    quote: int
    order: int


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    book = make_book(tmp_path_factory.mktemp("crm-routes"))
    yield book
    book.engine.dispose()


@pytest.fixture(scope="module")
def seed(book: App) -> Seed:
    org = book.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Seed Org"))
    person = book.parties.add(
        Party(kind=PartyKind.PERSON, display_name="", given_name="Sid", family_name="Seed")
    )
    assert org.id is not None
    assert person.id is not None
    deal = book.deals.add(
        Deal(
            pipeline="sales",
            stage="lead",
            title="Seed deal",
            party_id=org.id,
            amount=Decimal(100),
            currency="EUR",
        )
    )
    product = book.products.add(
        Product(
            sku="SEED-1",
            name="Seed widget",
            income_account="Income:Sales:Products",
            prices=(Price("EUR", Decimal("10.00")),),
        )
    )
    complaint = book.interactions.add(complaint_of(org.id, "Seed complaint"))
    lines = [DraftLine(product_id=product.id, quantity=Decimal(2))]
    quote = book.sales.create_quote(org.id, "EUR", lines)
    order = book.sales.create_order(org.id, "EUR", lines)
    assert deal.id is not None
    assert product.id is not None
    assert complaint.id is not None
    return Seed(org.id, person.id, deal.id, product.id, complaint.id, quote.id, order.id)


@pytest.fixture
def client(book: App) -> TestClient:
    return TestClient(create_app(book), follow_redirects=False)


def complaint_of(party_id: int, subject: str) -> Interaction:
    return Interaction(
        kind=InteractionKind.COMPLAINT,
        party_id=party_id,
        subject=subject,
        channel=Channel.EMAIL,
        direction=Direction.INBOUND,
        occurred_at=datetime.now(UTC),
        priority=Priority.NORMAL,
    )


def error_of(page: Response, input_id: str) -> str:
    """The inline message under the input ``input_id``."""
    found = re.search(rf'<p class="error" id="{re.escape(input_id)}-error">([^<]*)</p>', page.text)
    assert found, f"no error under #{input_id}"
    assert re.search(rf'id="{re.escape(input_id)}"[^>]*aria-invalid="true"', page.text, re.S)
    return found.group(1)


def main_of(page: Response) -> str:
    """The page's main content (without the header's log-out form and the nav)."""
    return page.text.split("<main", 1)[1].split("</main>", 1)[0]


def audit_head(book: App) -> int:
    return book.audit.log(None, 1)[0].seq


# -- pages and roles ----------------------------------------------------------------------


READ_PAGES = [
    "/customers",
    "/customers/{org}",
    "/customers/{person}",
    "/customers/{org}/timeline",
    "/complaints",
    "/interactions/{complaint}",
    "/deals",
    "/deals/{deal}",
    "/products",
    "/products/{product}",
    "/quotes",
    "/quotes/{quote}",
    "/orders",
    "/orders/{order}",
]
#: Forms, and who may open them.
WRITE_PAGES = {
    "/customers/new": {"admin", "accountant", "sales", "support"},
    "/customers/{org}/edit": {"admin", "accountant", "sales", "support"},
    "/products/new": {"admin", "accountant"},
    "/customers/{org}/quotes/new": {"admin", "accountant", "sales"},
}


def url(path: str, seed: Seed) -> str:
    return path.format(**seed.__dict__)


@pytest.mark.parametrize("role", ROLES)
def test_every_crm_page_renders_for_every_role_that_reads_the_crm(
    client: TestClient, seed: Seed, role: str
) -> None:
    log_in(client, ROLES[role])
    for path in READ_PAGES:
        answer = client.get(url(path, seed))
        assert answer.status_code == 200, (path, answer.text[:500])
        assert ROLES[role] in answer.text  # in the layout, signed in
    for path, allowed in WRITE_PAGES.items():
        answer = client.get(url(path, seed))
        expected = 200 if role in allowed else 403
        assert answer.status_code == expected, (role, path)
        if expected == 403:
            assert "Your role does not allow this" in answer.text


@pytest.mark.parametrize("path", [*READ_PAGES, *WRITE_PAGES])
def test_crm_pages_send_a_stranger_to_log_in(client: TestClient, seed: Seed, path: str) -> None:
    answer = client.get(url(path, seed))
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")


def test_a_viewer_sees_no_crm_forms_or_buttons(client: TestClient, seed: Seed) -> None:
    log_in(client, "vic@example.com")
    customer = main_of(client.get(f"/customers/{seed.org}"))
    for absent in ("/edit", "Log an interaction", "Add a contact", "New deal", "New quote"):
        assert absent not in customer, absent
    assert 'method="post"' not in customer
    assert "New customer" not in client.get("/customers").text
    board = client.get("/deals").text
    assert 'draggable="true"' not in board
    assert "/move" not in board
    assert "New product" not in client.get("/products").text
    assert "Resolve" not in client.get("/complaints").text.split("</thead>")[1]
    assert "/status" not in client.get(f"/interactions/{seed.complaint}").text
    quote = client.get(f"/quotes/{seed.quote}").text  # a draft, but not the editor
    assert "data-quote-form" not in quote
    assert "/send" not in quote


def test_each_role_sees_the_forms_of_what_it_may_change(client: TestClient, seed: Seed) -> None:
    log_in(client, "sue@example.com")  # support: the timeline, not the pipeline
    page = client.get(f"/customers/{seed.org}").text
    assert "Log an interaction" in page
    assert "New deal" not in page
    assert "New quote" not in page
    assert 'draggable="true"' not in client.get("/deals").text
    client.cookies.clear()
    log_in(client, "sam@example.com")  # sales: the pipeline and quotes as well
    page = client.get(f"/customers/{seed.org}").text
    assert "New deal" in page
    assert f"/customers/{seed.org}/quotes/new" in page
    assert 'draggable="true"' in client.get("/deals").text
    assert "New product" not in client.get("/products").text


def test_a_refused_action_shows_the_message(client: TestClient, book: App, seed: Seed) -> None:
    token = log_in(client, "ann@example.com")  # an accountant reads the pipeline only
    before = book.deals.get(seed.deal)
    answer = client.post(
        f"/deals/{seed.deal}/move",
        data={"csrf_token": token, "to_stage": "won", "version": str(before.version)},
    )
    assert answer.status_code == 403
    assert "Your role does not allow this: accountant may not write deals." in answer.text
    assert book.deals.get(seed.deal).stage == before.stage


def test_the_crm_nav_links_are_marked_current(client: TestClient, seed: Seed) -> None:
    log_in(client)
    for path, link in (
        ("/customers", "/customers"),
        (f"/customers/{seed.org}", "/customers"),
        ("/complaints", "/complaints"),
        ("/deals", "/deals"),
        ("/orders", "/quotes"),
        ("/products/new", "/products"),
    ):
        nav = client.get(path).text.split('aria-label="Main"')[1].split("</nav>")[0]
        assert f'href="{link}" aria-current="page"' in nav, path


def test_crm_pages_carry_no_inline_script_or_style(client: TestClient, seed: Seed) -> None:
    log_in(client, "adm@example.com")
    for path in [*READ_PAGES, *WRITE_PAGES]:
        html = client.get(url(path, seed)).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\sstyle=", html), path
        assert not re.search(r"\son[a-z]+=", html), path


# -- customers ----------------------------------------------------------------------------


def customer_form(token: str, **values: str | list[str]) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "csrf_token": token,
        "kind": "organisation",
        "display_name": "Form Org",
        "lifecycle": "lead",
    }
    return form | values


@pytest.mark.parametrize(
    ("values", "where", "message"),
    [
        ({"phone": ["+49 30 1234567", "call me"]}, "f-phone-1", "Not a phone number."),
        ({"email": ["not-an-email"]}, "f-email-0", "@"),
        ({"iban": "DE00 1234"}, "f-iban", ""),
        ({"tax_id": "DE123", "country": "DE"}, "f-tax_id", "tax id"),
        ({"country": "Atlantis", "city": "Poseidonia"}, "f-country", "Atlantis"),
        ({"credit_limit": "5000"}, "f-currency", "currency"),
        ({"credit_limit": "lots", "currency": "EUR"}, "f-credit_limit", "not a number"),
        ({"payment_terms_days": "400"}, "f-payment_terms_days", "366"),
        ({"display_name": ""}, "f-display_name", "name"),
        ({"tags": "ok, !bad"}, "f-tags", "A tag is 1-50 letters"),
        ({"website": "ftp://example.com"}, "f-website", "http"),
    ],
)
def test_a_bad_customer_value_is_refused_next_to_its_input(
    client: TestClient,
    book: App,
    values: dict[str, str | list[str]],
    where: str,
    message: str,
) -> None:
    token = log_in(client)
    count = book.parties.count()
    answer = client.post("/customers/new", data=customer_form(token, **values))
    assert answer.status_code == 422
    assert message in error_of(answer, where)
    assert "Not saved. Check the fields marked below." in answer.text
    assert book.parties.count() == count


def test_a_customer_is_added_with_normalised_values(client: TestClient, book: App) -> None:
    token = log_in(client)
    values = {
        "display_name": "Normal Org",
        "email": ["Info@Normal.Example", ""],
        "phone": ["030 1234567"],
        "street": "Unter den Linden 1",
        "postcode": "10117",
        "city": "Berlin",
        "country": "Germany",
        "tax_id": "DE 136 695 976",
        "iban": "DE89 3704 0044 0532 0130 00",
        "tags": "b2b, berlin",
        "currency": "eur",
        "payment_terms_days": "30",
        "credit_limit": "10 000.00",
    }
    answer = client.post("/customers/new", data=customer_form(token, **values))
    assert answer.status_code == 303, answer.text
    party = book.parties.get(int(answer.headers["location"].rsplit("/", 1)[1]))
    assert [p.number for p in party.phones] == ["+49301234567"]
    assert party.addresses[0].country == "DE"
    assert party.tax_ids[0].value == "DE136695976"
    assert party.currency == "EUR"
    assert party.credit_limit == Decimal("10000.00")
    assert party.tags == ("b2b", "berlin")
    page = client.get(answer.headers["location"])
    assert "Added Normal Org." in page.text
    assert "+49301234567" in page.text


def test_an_edit_from_a_stale_form_is_refused(client: TestClient, book: App) -> None:
    party = book.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Stale Org"))
    token = log_in(client)
    form = customer_form(token, display_name="Stale Org (renamed)", version=str(party.version))
    book.parties.update(party.id or 0, {"segment": "moved on"}, if_version=party.version)
    answer = client.post(f"/customers/{party.id}/edit", data=form)
    assert answer.status_code == 409
    assert "Someone else changed this customer" in answer.text
    assert 'value="Stale Org (renamed)"' in answer.text  # what was typed is kept
    assert book.parties.get(party.id or 0).display_name == "Stale Org"
    form["version"] = str(party.version + 1)
    assert client.post(f"/customers/{party.id}/edit", data=form).status_code == 303
    saved = book.parties.get(party.id or 0)
    assert saved.display_name == "Stale Org (renamed)"
    assert saved.segment == ""  # the form holds every field it shows


def test_the_customer_list_searches_filters_and_pages(client: TestClient, book: App) -> None:
    book.parties.add_many(
        [
            Party(kind=PartyKind.ORGANISATION, display_name=f"Bulk {i:02}", tags=("bulk",))
            for i in range(55)
        ]
    )
    log_in(client)
    first = client.get("/customers", params={"tag": "bulk"})
    assert first.status_code == 200
    assert first.text.count(">Bulk ") == 50
    assert "Bulk 54" in first.text  # newest first
    found = re.search(r'<a class="next" rel="next" href="([^"]+)"', first.text)
    assert found
    second = client.get(found.group(1).replace("&amp;", "&"))
    assert second.text.count(">Bulk ") == 5
    assert ">Bulk 00</a>" in second.text
    searched = client.get("/customers", params={"q": "bulk 07"}, headers={"HX-Request": "true"})
    assert "<html" not in searched.text
    assert ">Bulk 07</a>" in searched.text
    assert client.get("/customers", params={"kind": "robot"}).status_code == 422


# -- contacts -----------------------------------------------------------------------------


def test_a_contact_is_created_on_the_spot_or_found(client: TestClient, book: App) -> None:
    org = book.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Contact Org"))
    token = log_in(client)
    count = book.parties.count()
    refused = client.post(f"/customers/{org.id}/contacts", data={"csrf_token": token})
    assert refused.status_code == 422
    assert "Choose a person found above" in refused.text
    bad = client.post(
        f"/customers/{org.id}/contacts",
        data={"csrf_token": token, "given_name": "Grace", "phone": "+1 555"},
    )
    assert bad.status_code == 422
    assert "phone number" in error_of(bad, "contact-phone")
    assert book.parties.count() == count
    made = client.post(
        f"/customers/{org.id}/contacts",
        data={"csrf_token": token, "given_name": "Grace", "family_name": "Hopper", "role": "CTO"},
    )
    assert made.status_code == 303
    [link] = book.parties.contacts(organisation_id=org.id)
    assert (link.person.display_name, link.contact.role) == ("Grace Hopper", "CTO")
    other = book.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Navy"))
    found = client.get(
        f"/customers/{other.id}/contacts/candidates",
        params={"q": "hopper"},
        headers={"HX-Request": "true"},
    )
    assert f'name="person_id" value="{link.person.id}"' in found.text
    linked = client.post(
        f"/customers/{other.id}/contacts",
        data={"csrf_token": token, "person_id": str(link.person.id), "role": "Admiral"},
    )
    assert linked.status_code == 303
    again = client.post(
        f"/customers/{other.id}/contacts",
        data={"csrf_token": token, "person_id": str(link.person.id)},
    )
    assert again.status_code == 422
    assert "already a contact" in again.text


# -- timeline and complaints --------------------------------------------------------------


def test_logging_an_interaction_checks_its_fields(client: TestClient, book: App) -> None:
    org = book.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Log Org"))
    token = log_in(client, "sue@example.com")
    form = {"csrf_token": token, "kind": "call", "channel": "phone", "direction": "inbound"}
    form |= {"priority": "normal"}
    for values, where, message in (
        ({"subject": ""}, "log-subject", "Say what it was about."),
        ({"subject": "x", "due": "tomorrow"}, "log-due", "is not a date and time"),
        ({"subject": "x", "kind": "telepathy"}, "log-kind", "Choose a kind"),
    ):
        answer = client.post(f"/customers/{org.id}/interactions", data=form | values)
        assert answer.status_code == 422
        assert message in error_of(answer, where)
    assert book.interactions.list(InteractionQuery(party_id=org.id)) == []
    ok = client.post(
        f"/customers/{org.id}/interactions",
        data=form | {"subject": "Asked about prices", "due": "2030-01-02T09:30"},
    )
    assert ok.status_code == 303
    [item] = book.interactions.list(InteractionQuery(party_id=org.id))
    assert item.due_at == datetime(2030, 1, 2, 9, 30, tzinfo=UTC)
    assert "Asked about prices" in client.get(f"/customers/{org.id}").text


def test_the_timeline_pages_back_by_time(client: TestClient, book: App) -> None:
    org = book.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Chatty Org"))
    start = datetime(2025, 1, 1, tzinfo=UTC)
    book.interactions.add_many(
        [
            Interaction(
                kind=InteractionKind.NOTE,
                party_id=org.id or 0,
                subject=f"Note {i:02}",
                channel=Channel.OTHER,
                direction=Direction.INTERNAL,
                occurred_at=start + timedelta(hours=i),
            )
            for i in range(55)
        ]
    )
    log_in(client)
    page = client.get(f"/customers/{org.id}").text
    assert page.count(">Note ") == 50
    assert "Note 54" in page
    older = re.search(r'<a class="next" href="([^"]+)"', page)
    assert older
    fragment = client.get(older.group(1), headers={"HX-Request": "true"})
    assert "<html" not in fragment.text
    assert fragment.text.count(">Note ") == 5
    assert ">Note 00</a>" in fragment.text
    assert client.get(older.group(1)).status_code == 200  # a page of its own without htmx


def test_resolving_a_complaint_needs_a_resolution(client: TestClient, book: App) -> None:
    org = book.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Unhappy Org"))
    item = book.interactions.add(complaint_of(org.id or 0, "Late delivery"))
    token = log_in(client, "sue@example.com")
    queue = client.get("/complaints").text
    assert "Late delivery" in queue
    assert "On track" in queue
    form = {"csrf_token": token, "status": "resolved", "version": str(item.version)}
    refused = client.post(f"/interactions/{item.id}/status", data=form | {"next": "/complaints"})
    assert refused.status_code == 422
    assert "A complaint needs a resolution to be resolved." in error_of(
        refused, f"resolution-{item.id}"
    )
    refused = client.post(f"/interactions/{item.id}/status", data=form)
    assert refused.status_code == 422
    assert "needs a resolution" in error_of(refused, "f-resolution")
    assert book.interactions.get(item.id or 0).status.value == "open"
    done = client.post(
        f"/interactions/{item.id}/status",
        data=form | {"resolution": "Sent by express", "next": "/complaints"},
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/complaints"
    assert book.interactions.get(item.id or 0).resolution == "Sent by express"
    assert ">Late delivery</a>" not in client.get("/complaints").text
    stale = client.post(f"/interactions/{item.id}/status", data=form | {"status": "closed"})
    assert stale.status_code == 409


# -- deals ---------------------------------------------------------------------------------


def test_a_new_deal_checks_its_fields(client: TestClient, book: App) -> None:
    org = book.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Deal Org"))
    token = log_in(client, "sam@example.com")
    form = {"csrf_token": token, "title": "Big one", "currency": "EUR", "pipeline": "sales"}
    for values, where, message in (
        ({"amount": "lots"}, "deal-amount", "is not a number"),
        ({"amount": "10.005"}, "deal-amount", "decimal place"),
        ({"amount": "10", "currency": "XXY"}, "deal-currency", "nknown currency"),
        ({"amount": "10", "title": ""}, "deal-title", "Give the deal a title."),
        ({"amount": "10", "expected_close": "soon"}, "deal-close", "is not a date"),
        ({"amount": "10", "stage": "won"}, "deal-stage", "open stage"),
    ):
        answer = client.post(f"/customers/{org.id}/deals", data=form | values)
        assert answer.status_code == 422, values
        assert message in error_of(answer, where), values
    assert book.deals.list(DealQuery(party_id=org.id)) == []
    ok = client.post(f"/customers/{org.id}/deals", data=form | {"amount": "2 500.50"})
    assert ok.status_code == 303
    [deal] = book.deals.list(DealQuery(party_id=org.id))
    assert (deal.amount, deal.stage) == (Decimal("2500.50"), "lead")


def test_moving_a_deal_by_htmx_and_by_form(client: TestClient, book: App, seed: Seed) -> None:
    org = book.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Move Org"))
    deal = book.deals.add(
        Deal(
            pipeline="sales",
            stage="lead",
            title="Movable",
            party_id=org.id or 0,
            amount=Decimal(5),
            currency="EUR",
        )
    )
    token = log_in(client, "sam@example.com")
    htmx = {"HX-Request": "true"}
    lost = {"csrf_token": token, "to_stage": "lost", "version": str(deal.version)}
    answer = client.post(f"/deals/{deal.id}/move", data=lost, headers=htmx)
    assert answer.status_code == 200  # htmx swaps only 2xx: the refusal is on the board
    assert "<html" not in answer.text
    assert "Movable: Say why the deal was lost." in answer.text
    plain = client.post(f"/deals/{deal.id}/move", data=lost | {"next": f"/deals/{deal.id}"})
    assert plain.status_code == 422
    assert "Say why the deal was lost." in plain.text
    assert book.deals.get(deal.id or 0).stage == "lead"
    moved = client.post(
        f"/deals/{deal.id}/move",
        data={"csrf_token": token, "to_stage": "proposal", "version": str(deal.version)},
        headers=htmx,
    )
    assert "Moved Movable to Proposal." in moved.text
    stale = client.post(f"/deals/{deal.id}/move", data=lost | {"reason": "x"}, headers=htmx)
    assert "changed since the board was drawn" in stale.text
    assert book.deals.get(deal.id or 0).stage == "proposal"


# -- products -----------------------------------------------------------------------------


def product_form(token: str, **values: str | list[str]) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "csrf_token": token,
        "sku": "FORM-1",
        "name": "Form product",
        "unit": "pc",
        "kind": "good",
        "tax_category": "standard",
        "income_account": "Income:Sales:Products",
        "active": "on",
        "price_currency": ["EUR"],
        "price_amount": ["12.50"],
    }
    return form | values


@pytest.mark.parametrize(
    ("values", "where", "message"),
    [
        ({"price_amount": ["12.505"]}, "price-amount-0", "decimal place"),
        ({"price_amount": ["12", "ten"]}, "price-amount-1", "is not a number"),
        ({"price_currency": ["EUR", "ZZZ"], "price_amount": ["1", "2"]}, "price-currency-1", "ZZZ"),
        ({"sku": "has space"}, "f-sku", "SKU"),
        ({"sku": "SEED-1"}, "f-sku", "exists already"),
        ({"income_account": "Expenses:Rent"}, "f-income_account", "Income"),
        ({"tax_category": "luxury"}, "f-tax_category", "luxury"),
        ({"cost": "3"}, "f-cost_account", "cost account"),
    ],
)
def test_a_bad_product_value_is_refused_next_to_its_input(
    client: TestClient,
    book: App,
    seed: Seed,
    values: dict[str, str | list[str]],
    where: str,
    message: str,
) -> None:
    token = log_in(client)
    before = audit_head(book)
    answer = client.post("/products/new", data=product_form(token, **values))
    assert answer.status_code == 422
    assert message in error_of(answer, where)
    assert audit_head(book) == before


def test_a_product_is_added_and_changed_with_its_version(client: TestClient, book: App) -> None:
    token = log_in(client)
    answer = client.post("/products/new", data=product_form(token, sku="PRICED-1"))
    assert answer.status_code == 303
    product = book.products.by_sku("PRICED-1")
    assert [(p.currency, p.amount) for p in product.prices] == [("EUR", Decimal("12.50"))]
    change = product_form(
        token,
        sku="PRICED-1",
        version=str(product.version),
        price_currency=["EUR", "USD"],
        price_amount=["13.00", "14.00"],
        active="",
    )
    assert client.post(f"/products/{product.id}", data=change).status_code == 303
    changed = book.products.get(product.key)
    assert {p.currency: p.amount for p in changed.prices} == {
        "EUR": Decimal("13.00"),
        "USD": Decimal("14.00"),
    }
    assert not changed.active
    stale = client.post(f"/products/{product.id}", data=change)
    assert stale.status_code == 409
    listed = client.get("/products", params={"q": "priced", "active": "inactive"})
    assert "PRICED-1" in listed.text
    assert "PRICED-1" not in client.get("/products", params={"active": "active"}).text


# -- quotes and orders --------------------------------------------------------------------


def quote_rows(*rows: tuple[str, str, str, str]) -> dict[str, list[str]]:
    """(product id, description, quantity, unit price) per row."""
    return {
        "line_key": [str(i) for i in range(len(rows))],
        "product_id": [r[0] for r in rows],
        "description": [r[1] for r in rows],
        "quantity": [r[2] for r in rows],
        "unit_price": [r[3] for r in rows],
        "discount": ["" for _ in rows],
        "tax_category": ["" for _ in rows],
    }


def test_the_preview_prices_lines_on_the_server(client: TestClient, seed: Seed) -> None:
    token = log_in(client, "sam@example.com")
    rows = quote_rows((str(seed.product), "", "3", ""), ("", "", "", ""), ("", "Fee", "1", "5"))
    answer = client.post(
        "/quotes/preview",
        data={"csrf_token": token, "currency": "EUR", **rows},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200
    assert '<dd data-total="gross">41.65 EUR</dd>' in answer.text  # (30 + 5) * 1.19
    assert '<output id="net-0" hx-swap-oob="true">30.00</output>' in answer.text
    assert '<output id="net-1" hx-swap-oob="true"></output>' in answer.text
    assert '<output id="net-2" hx-swap-oob="true">5.00</output>' in answer.text
    bad = quote_rows((str(seed.product), "", "0", ""), ("", "Fee", "1", "5"))
    refused = client.post("/quotes/preview", data={"csrf_token": token, "currency": "EUR", **bad})
    assert "Line 1: The quantity must be more than 0." in refused.text
    filled = client.post(
        "/quotes/line",
        data={
            "csrf_token": token,
            "currency": "EUR",
            **quote_rows((str(seed.product), "", "", "")),
        },
        headers={"HX-Request": "true", "HX-Trigger": "line-product_id-0"},
    )
    assert 'id="line-description-0" name="description" type="text" value="Seed widget"' in (
        filled.text
    )
    assert 'value="10.00"' in filled.text


def test_a_quote_is_saved_sent_and_accepted(client: TestClient, book: App, seed: Seed) -> None:
    org = book.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Quote Org"))
    deal = book.deals.add(
        Deal(
            pipeline="sales",
            stage="proposal",
            title="Quoted deal",
            party_id=org.id or 0,
            amount=Decimal(50),
            currency="EUR",
        )
    )
    token = log_in(client, "sam@example.com")
    form = {"csrf_token": token, "currency": "EUR", "deal_id": str(deal.id), "action": "save"}
    bad = quote_rows((str(seed.product), "", "-1", ""))
    refused = client.post(f"/customers/{org.id}/quotes/new", data=form | bad)
    assert refused.status_code == 422
    assert "more than 0" in error_of(refused, "line-quantity-0")
    empty = client.post(f"/customers/{org.id}/quotes/new", data=form)
    assert "Add at least one line." in empty.text
    assert book.sales.list_quotes(DocumentQuery(party_id=org.id)) == []
    rows = quote_rows((str(seed.product), "", "2", ""), ("", "Setup", "1", "100"))
    added = client.post(f"/customers/{org.id}/quotes/new", data=form | rows | {"action": "send"})
    assert added.status_code == 303
    [quote] = book.sales.list_quotes(DocumentQuery(party_id=org.id))
    assert quote.status.value == "sent"
    assert quote.totals.gross == Decimal("142.80")
    shown = client.get(f"/quotes/{quote.id}").text
    assert "data-quote-form" not in shown  # a sent quote is not edited
    accepted = client.post(
        f"/quotes/{quote.id}/accept", data={"csrf_token": token, "version": str(quote.version)}
    )
    assert accepted.status_code == 303
    assert accepted.headers["location"].startswith("/orders/")
    order_page = client.get(accepted.headers["location"]).text
    assert "accepted: order SO-" in order_page
    assert "142.80 EUR" in order_page
    assert book.deals.get(deal.id or 0).stage == "won"
    again = client.post(
        f"/quotes/{quote.id}/accept", data={"csrf_token": token, "version": str(quote.version)}
    )
    assert again.status_code == 409


def test_a_quote_priced_with_tax_is_previewed_created_and_changed_so(
    client: TestClient, book: App
) -> None:
    org = book.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Gross Org"))
    token = log_in(client, "sam@example.com")
    rows = quote_rows(("", "Shirt", "2", "11.90"))
    gross = {"csrf_token": token, "currency": "EUR", "prices_include_tax": "on", **rows}
    preview = client.post("/quotes/preview", data=gross, headers={"HX-Request": "true"})
    assert '<dd data-total="gross">23.80 EUR</dd>' in preview.text  # 20.00 + 3.80 tax
    assert '<output id="net-0" hx-swap-oob="true">20.00</output>' in preview.text
    net = client.post("/quotes/preview", data=gross | {"prices_include_tax": ""})
    assert '<dd data-total="gross">28.32 EUR</dd>' in net.text  # 23.80 * 1.19
    created = client.post(f"/customers/{org.id}/quotes/new", data=gross | {"action": "save"})
    assert created.status_code == 303, created.text
    [quote] = book.sales.list_quotes(DocumentQuery(party_id=org.id))
    assert quote.prices_include_tax
    assert (quote.totals.net, quote.totals.gross) == (Decimal("20.00"), Decimal("23.80"))
    editor = client.get(f"/quotes/{quote.id}").text
    assert re.search(r'id="f-prices_include_tax"[^>]* checked', editor)
    unticked = {k: v for k, v in gross.items() if k != "prices_include_tax"}
    form = unticked | {"action": "save", "version": str(quote.version)}
    saved = client.post(f"/quotes/{quote.id}", data=form)
    assert saved.status_code == 303, saved.text
    changed = book.sales.get_quote(quote.id)
    assert (changed.prices_include_tax, changed.totals.gross) == (False, Decimal("28.32"))


def test_a_paid_order_wears_a_paid_badge(client: TestClient, book: App) -> None:
    org = book.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Paying Org"))
    assert org.id is not None
    order = book.sales.create_order(
        org.id, "EUR", [DraftLine(description="Gear", unit_price=Decimal(100))]
    )
    order = book.sales.confirm_order(order.id, order.version)
    invoice = book.invoices.issue(book.invoices.from_order(order.id).id)
    book.payments.record(NewPayment(party_id=org.id, amount=invoice.gross, currency="EUR"))
    assert book.sales.get_order(order.id).status.value == "paid"
    log_in(client, "sam@example.com")
    shown = client.get(f"/orders/{order.id}").text
    assert '<span class="badge badge-ok">Paid</span>' in shown


def test_adding_and_removing_lines_works_without_script(client: TestClient, seed: Seed) -> None:
    token = log_in(client, "sam@example.com")
    rows = quote_rows((str(seed.product), "", "2", ""), ("", "Fee", "1", "5"))
    form = {"csrf_token": token, "currency": "EUR", **rows}
    more = client.post(f"/customers/{seed.org}/quotes/new", data=form | {"action": "add-line"})
    assert more.status_code == 200
    assert more.text.count("data-quote-line ") == 4  # two typed, one added, one blank
    fewer = client.post(f"/customers/{seed.org}/quotes/new", data=form | {"action": "remove-0"})
    assert fewer.text.count("data-quote-line ") == 2
    assert 'value="Fee"' in fewer.text


# -- CSRF ---------------------------------------------------------------------------------

POSTS = [
    "/customers/new",
    "/customers/{org}/edit",
    "/customers/{org}/contacts",
    "/customers/{org}/interactions",
    "/customers/{org}/deals",
    "/customers/{org}/quotes/new",
    "/interactions/{complaint}/status",
    "/interactions/{complaint}/respond",
    "/deals/{deal}/move",
    "/products/new",
    "/products/{product}",
    "/quotes/{quote}",
    "/quotes/{quote}/send",
    "/quotes/preview",
    "/quotes/line",
    "/orders/{order}/confirm",
]


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize("token", [None, "forged"])
def test_every_crm_form_needs_the_sessions_token(
    client: TestClient, book: App, seed: Seed, path: str, token: str | None
) -> None:
    log_in(client, "adm@example.com")
    before = audit_head(book)
    data = {"display_name": "Sneaky", "to_stage": "won", "status": "resolved", "resolution": "x"}
    if token is not None:
        data["csrf_token"] = token
    answer = client.post(url(path, seed), data=data)
    assert answer.status_code == 403
    assert "security token" in answer.text
    assert audit_head(book) == before
