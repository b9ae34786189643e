"""Data fusion's web pages without a browser: upload a file, see its profile and suggested
mapping, preview (nothing written), fix a bad mapping (its line named), run, read the
report, decide a review pair side by side; writers only."""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from crmledger.bootstrap import App
from crmledger.server import create_app
from tests.api.examples.fusion import CONTENT
from tests.browser.conftest import make_book
from tests.browser.test_crm_routes import ROLES, main_of
from tests.browser.test_web_routes import log_in


@pytest.fixture
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    made = make_book(tmp_path_factory.mktemp("fusion-routes"))
    yield made
    made.engine.dispose()


def _client(book: App, role: str) -> tuple[TestClient, str]:
    client = TestClient(create_app(book), follow_redirects=False)
    return client, log_in(client, ROLES[role])


def _hidden(page: str, name: str) -> str:
    if name == "content":
        return html.unescape(
            page.split('name="content" hidden>', 1)[1].split("</textarea>", maxsplit=1)[0]
        )
    if name == "mapping":
        body = page.split('name="mapping"', 1)[1].split(">", 1)[1]
        return html.unescape(body.split("</textarea>")[0])
    return page.split(f'name="{name}" value="', 1)[1].split('"', 1)[0]


def test_upload_preview_run_report_and_review(book: App) -> None:
    client, csrf = _client(book, "sales")
    home = client.get("/imports/fusion")
    assert home.status_code == 200
    assert "Upload and suggest a mapping" in home.text
    upload = client.post(
        "/imports/fusion/upload",
        data={"csrf_token": csrf},
        files={"file": ("Shop Export.csv", CONTENT.encode(), "text/csv")},
    )
    assert upload.status_code == 200, upload.text
    page = main_of(upload)
    assert "5 rows, 0 exact duplicate rows" in page
    mapping = _hidden(page, "mapping")
    assert 'external_id: "id"' in mapping
    assert 'email: "email"' in mapping
    form = {k: _hidden(page, k) for k in ("name", "kind", "content")} | {"mapping": mapping}
    assert form["name"] == "shop-export"
    assert form["content"] == CONTENT
    bad = client.post(
        "/imports/fusion/run",
        data=form | {"csrf_token": csrf, "action": "preview", "mapping": "fields:\n  id: id\n"},
    )
    assert bad.status_code == 422
    assert "shop-export mapping:2: unknown field &#39;id&#39;" in bad.text
    preview = client.post(
        "/imports/fusion/run", data=form | {"csrf_token": csrf, "action": "preview"}
    )
    assert preview.status_code == 200
    assert "Preview (nothing written)" in preview.text
    assert "2 new parties" in preview.text
    assert book.parties.count() == 0
    ran = client.post(
        "/imports/fusion/run",
        data=form | {"csrf_token": csrf, "action": "run"},
        follow_redirects=False,
    )
    assert ran.status_code == 303
    assert ran.headers["location"] == "/imports/fusion/runs/1"
    assert book.parties.count() == 2
    report = client.get("/imports/fusion/runs/1")
    assert "Fusion run 1 · shop-export" in report.text
    assert "shop-export:6: email:" in html.unescape(report.text)
    standalone = client.get("/imports/fusion/runs/1/report.html")
    assert standalone.text.startswith("<!doctype html>")
    assert "<svg" in standalone.text
    queue = client.get("/imports/fusion/review")
    body = main_of(queue)
    assert body.count('class="review-pair"') == 1
    assert "Carl" in body
    assert "Brandt" in body
    [item] = book.fusion.review.list()
    decided = client.post(
        f"/imports/fusion/review/{item.id}",
        data={"csrf_token": csrf, "decision": "accept", "version": str(item.version)},
        follow_redirects=False,
    )
    assert decided.status_code == 303
    assert book.fusion.review.get(item.id).status == "accepted"
    assert "No pair waits for a decision." in client.get("/imports/fusion/review").text


def test_readers_see_but_cannot_upload_or_decide(book: App) -> None:
    client, csrf = _client(book, "viewer")
    home = client.get("/imports/fusion")
    assert home.status_code == 200
    assert "Upload and suggest" not in home.text
    refused = client.post(
        "/imports/fusion/upload",
        data={"csrf_token": csrf},
        files={"file": ("a.csv", CONTENT.encode(), "text/csv")},
    )
    assert refused.status_code == 403
    assert book.parties.count() == 0


def test_a_form_without_the_session_token_is_refused(book: App) -> None:
    client, _ = _client(book, "admin")
    answer = client.post(
        "/imports/fusion/upload", files={"file": ("a.csv", CONTENT.encode(), "text/csv")}
    )
    assert answer.status_code == 403
