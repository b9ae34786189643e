"""Merging customers in the web UI without a browser: the customer page links to the
merge form, a merge moves the duplicate's invoice and lands on the survivor's page, the
list offers an undo that puts it back; readers see the list but no form."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from crmledger.bootstrap import App
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.server import create_app
from tests.browser.conftest import make_book
from tests.browser.test_crm_routes import ROLES, main_of
from tests.browser.test_web_routes import log_in
from tests.db.test_billing import invoice


@pytest.fixture
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    made = make_book(tmp_path_factory.mktemp("merge-routes"))
    yield made
    made.engine.dispose()


def _client(book: App, role: str) -> tuple[TestClient, str]:
    client = TestClient(create_app(book), follow_redirects=False)
    return client, log_in(client, ROLES[role])


def _org(book: App, name: str) -> int:
    return int(book.parties.add(Party(PartyKind.ORGANISATION, name)).id or 0)


def test_merge_from_the_customer_page_and_undo(book: App) -> None:
    acme, copy = _org(book, "Acme GmbH"), _org(book, "ACME Copy")
    bill = invoice(book, copy, "10.00")
    client, csrf = _client(book, "accountant")
    customer = client.get(f"/customers/{acme}")
    assert f'href="/imports/fusion/merges?survivor={acme}"' in customer.text
    form = main_of(client.get(f"/imports/fusion/merges?survivor={acme}"))
    assert "Keep <a" in form
    assert "Acme GmbH" in form
    assert 'name="version" value="1"' in form
    stale = client.post(
        "/imports/fusion/merges",
        data={"csrf_token": csrf, "survivor": acme, "absorbed": copy, "version": "7"},
    )
    assert stale.headers["location"] == "/imports/fusion/merges"
    assert book.invoices.get(bill.id).party_id == copy
    done = client.post(
        "/imports/fusion/merges",
        data={"csrf_token": csrf, "survivor": acme, "absorbed": copy, "version": "1"},
    )
    assert (done.status_code, done.headers["location"]) == (303, f"/customers/{acme}")
    assert book.invoices.get(bill.id).party_id == acme
    listed = main_of(client.get("/imports/fusion/merges"))
    assert "ACME Copy" in listed
    assert ">Undo</button>" in listed
    [merge] = book.party_merges.list()
    undone = client.post(f"/imports/fusion/merges/{merge.id}/undo", data={"csrf_token": csrf})
    assert undone.status_code == 303
    assert book.invoices.get(bill.id).party_id == copy
    assert "undone" in main_of(client.get("/imports/fusion/merges"))


def test_readers_see_merges_but_cannot_merge(book: App) -> None:
    acme, copy = _org(book, "Acme GmbH"), _org(book, "ACME Copy")
    client, csrf = _client(book, "viewer")
    page = main_of(client.get("/imports/fusion/merges"))
    assert "No merge yet." in page
    assert "data-merge-form" not in page
    refused = client.post(
        "/imports/fusion/merges", data={"csrf_token": csrf, "survivor": acme, "absorbed": copy}
    )
    assert refused.headers["location"] == "/imports/fusion/merges"
    assert book.party_merges.list() == []
