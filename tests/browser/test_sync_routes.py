"""The sync and webhook pages without a browser: FastAPI's TestClient against the whole app.

An admin sees connectors, runs a dry run (the diff, nothing written) and a real run (its
log), and decides a conflict; an auditor reads but gets no buttons and is refused when
posting anyway; other roles do not see the section; a webhook form refuses a loopback
target under its input and shows a new secret once; forms need the session's token.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from crmledger.bootstrap import App
from crmledger.core.crm.parties import Email
from crmledger.server import create_app
from tests.browser.conftest import make_book
from tests.browser.test_crm_routes import ROLES, error_of, main_of
from tests.browser.test_web_routes import log_in


@pytest.fixture
def book(tmp_path: Path) -> Iterator[App]:
    book = make_book(tmp_path)
    yield book
    book.engine.dispose()


@pytest.fixture
def client(book: App) -> TestClient:
    return TestClient(create_app(book), follow_redirects=False)


def drop(folder: Path, name: str, rows: str, mtime: int) -> None:
    (folder / name).write_text("No,Name,Mail,Changed\n" + rows, encoding="utf-8")
    os.utime(folder / name, ns=(mtime, mtime))


def connector(book: App, tmp_path: Path) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir()
    drop(folder, "customers-1.csv", "C-1,Acme GmbH,ap@acme.example,2026-06-01T00:00:00\n", 1000)
    config = {
        "path": str(folder),
        "objects": {
            "customer": {
                "source": "customers*.csv",
                "id": "No",
                "version": "Changed",
                "fields": {"name": "Name", "email": "Mail"},
            }
        },
        "rules": {"default": "newest", "fields": {"email": "review"}},
    }
    book.sync.add("shop", "folder", config)
    return folder


def test_an_admin_runs_a_connector_and_decides_a_conflict(
    book: App, client: TestClient, tmp_path: Path
) -> None:
    folder = connector(book, tmp_path)
    token = log_in(client, ROLES["admin"])
    page = client.get("/sync")
    assert page.status_code == 200
    assert "shop" in main_of(page)
    assert "Dry run" in page.text
    dry = client.post("/sync/shop/run", data={"csrf_token": token, "dry": "1"})
    assert dry.status_code == 200
    assert "A dry run: nothing was written." in dry.text
    assert "name: — → Acme GmbH" in html.unescape(dry.text)
    assert book.parties.count() == 0
    done = client.post("/sync/shop/run", data={"csrf_token": token, "dry": "0"})
    assert done.status_code == 303
    log = client.get(done.headers["location"])
    assert "C-1" in log.text
    assert "created" in log.text
    party = book.parties.find_external("shop", "C-1")
    assert party is not None
    book.parties.update(party, {"emails": (Email("local@acme.example"),)}, None)
    drop(folder, "customers-2.csv", "C-1,Acme GmbH,remote@acme.example,2030-01-01T00:00:00\n", 2000)
    book.sync.run("shop")
    page = client.get("/sync")
    assert "remote@acme.example" in page.text
    assert "Take outside" in page.text
    [conflict] = book.sync.conflicts("shop")
    refused = client.post(f"/sync/conflicts/{conflict.id}", data={"keep": "remote"})
    assert refused.status_code == 403  # no token
    decided = client.post(
        f"/sync/conflicts/{conflict.id}", data={"csrf_token": token, "keep": "remote"}
    )
    assert decided.status_code == 303
    assert book.parties.get(party).emails[0].address == "remote@acme.example"
    assert "No conflicts are waiting." in client.get("/sync").text


def test_an_auditor_reads_and_other_roles_do_not_see_the_section(
    book: App, client: TestClient, tmp_path: Path
) -> None:
    connector(book, tmp_path)
    token = log_in(client, ROLES["auditor"])
    page = client.get("/sync")
    assert page.status_code == 200
    assert "Run now" not in page.text
    assert client.post("/sync/shop/run", data={"csrf_token": token}).status_code == 403
    client.post("/logout", data={"csrf_token": token})
    other = TestClient(create_app(book), follow_redirects=False)
    log_in(other, ROLES["accountant"])
    assert other.get("/sync").status_code == 403
    assert 'href="/sync"' not in other.get("/").text


def test_a_webhook_is_added_with_its_secret_shown_once(book: App, client: TestClient) -> None:
    token = log_in(client, ROLES["admin"])
    bad = client.post(
        "/sync/webhooks",
        data={"csrf_token": token, "url": "http://127.0.0.1:9/x", "event_types": "*"},
    )
    assert bad.status_code == 422
    assert "loopback" in error_of(bad, "hook-url")
    added = client.post(
        "/sync/webhooks",
        data={
            "csrf_token": token,
            "url": "https://erp.example.com/in",
            "event_types": "invoice.* party.created",
        },
    )
    assert added.status_code == 201
    assert "whsec_" in added.text
    [sub] = book.webhooks.list()
    assert sub.event_types == ("invoice.*", "party.created")
    assert "whsec_" not in client.get("/sync/webhooks").text
    delivery = book.webhooks.queue_test(sub.id)
    page = client.get(f"/sync/webhooks/{sub.id}")
    assert delivery.msg_id in page.text
    assert "Replay" in page.text
    replayed = client.post(
        f"/sync/webhook-deliveries/{delivery.id}/replay", data={"csrf_token": token}
    )
    assert replayed.status_code == 303
    assert replayed.headers["location"] == f"/sync/webhooks/{sub.id}"
