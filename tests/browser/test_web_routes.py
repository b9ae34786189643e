"""The web routes without a browser: FastAPI's TestClient against the whole application.

Sessions, CSRF, redirects, roles and error pages are checked at the HTTP level here, fast;
``test_browser.py`` checks the same pages in Chromium.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from crmledger.bootstrap import App
from crmledger.core.entries import JournalEntry, Posting
from crmledger.server import create_app
from crmledger.web.render import STATIC_DIR
from crmledger.web.session import SESSION_COOKIE, safe_next
from tests.browser.conftest import PASSWORD, make_book

PAGES = [
    "/",
    "/accounts",
    "/journal",
    "/journal/new",
    "/reports",
    "/reports/trial-balance",
    "/reports/account-ledger",
    "/audit",
    "/audit/log",
    "/customers",
    "/customers/new",
    "/customers/new?kind=person",
    "/complaints",
    "/deals",
    "/products",
    "/products/new",
    "/quotes",
    "/orders",
]
PLACEHOLDERS = [
    "/imports",
    "/settings",
]


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    book = make_book(tmp_path_factory.mktemp("routes"))
    yield book
    book.engine.dispose()


@pytest.fixture
def client(book: App) -> TestClient:
    return TestClient(create_app(book), follow_redirects=False)


def csrf_of(page: Response) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]*)">', page.text)
    assert found, "no csrf meta tag"
    return found.group(1)


def log_in(client: TestClient, email: str = "ann@example.com", next_path: str = "/") -> str:
    """Sign ``client`` in; returns the session's CSRF token."""
    form = client.get("/login")
    answer = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(form), "next": next_path},
    )
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/"))


def entry(day: date, narration: str, debit: str, credit: str, amount: str) -> JournalEntry:
    value = Decimal(amount)
    return JournalEntry(
        day, narration, (Posting(debit, value, "EUR"), Posting(credit, -value, "EUR"))
    )


def set_cookie_headers(answer: Response, name: str) -> list[str]:
    return [h for h in answer.headers.get_list("set-cookie") if h.startswith(name + "=")]


# -- signing in and out ---------------------------------------------------------------


@pytest.mark.parametrize("path", [*PAGES, *PLACEHOLDERS, "/journal?state=posted&from=2026-01-01"])
def test_pages_send_a_stranger_to_the_login_page_and_back(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 303
    target = urlsplit(answer.headers["location"])
    assert target.path == "/login"
    assert parse_qs(target.query)["next"] == [path]


def test_logging_in_goes_on_to_next(client: TestClient) -> None:
    log_in(client, next_path="/journal?state=posted")
    # log_in followed no redirect; a signed-in visit to /login goes straight on.
    answer = client.get("/login", params={"next": "/accounts"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/accounts"


@pytest.mark.parametrize(
    "given",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "journal",
        "/ok\r\nSet-Cookie: x=1",
        "",
    ],
)
def test_next_is_only_ever_a_local_path(client: TestClient, given: str) -> None:
    assert safe_next(given) == "/"
    form = client.get("/login")
    answer = client.post(
        "/login",
        data={
            "email": "ann@example.com",
            "password": PASSWORD,
            "csrf_token": csrf_of(form),
            "next": given,
        },
    )
    assert answer.headers["location"] == "/"


def test_local_next_paths_are_kept() -> None:
    assert safe_next("/journal?state=posted") == "/journal?state=posted"
    assert safe_next("/reports/account-ledger?account=Assets%3ABank") == (
        "/reports/account-ledger?account=Assets%3ABank"
    )


def test_the_session_cookie_is_http_only_lax_and_path_wide(client: TestClient) -> None:
    form = client.get("/login")
    [login_cookie] = set_cookie_headers(form, "crmledger_login_csrf")
    assert "HttpOnly" in login_cookie
    answer = client.post(
        "/login",
        data={"email": "ann@example.com", "password": PASSWORD, "csrf_token": csrf_of(form)},
    )
    [cookie] = set_cookie_headers(answer, SESSION_COOKIE)
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "path=/" in flags
    assert "secure" not in flags
    assert any(f.startswith("max-age=") for f in flags)


def test_the_session_cookie_is_secure_when_served_over_tls(book: App) -> None:
    client = TestClient(
        create_app(book, secure=True), base_url="https://testserver", follow_redirects=False
    )
    form = client.get("/login")
    assert "secure" in set_cookie_headers(form, "crmledger_login_csrf")[0].lower()
    answer = client.post(
        "/login",
        data={"email": "ann@example.com", "password": PASSWORD, "csrf_token": csrf_of(form)},
    )
    [cookie] = set_cookie_headers(answer, SESSION_COOKIE)
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert {"secure", "httponly", "samesite=lax", "path=/"} <= set(flags)


def test_a_wrong_password_shows_the_form_again(client: TestClient) -> None:
    form = client.get("/login")
    answer = client.post(
        "/login",
        data={"email": "ann@example.com", "password": "wrong", "csrf_token": csrf_of(form)},
    )
    assert answer.status_code == 422
    assert "Wrong email or password." in answer.text
    assert 'value="ann@example.com"' in answer.text
    assert not set_cookie_headers(answer, SESSION_COOKIE)


def test_the_login_form_needs_its_csrf_token(client: TestClient) -> None:
    client.get("/login")
    answer = client.post(
        "/login",
        data={"email": "ann@example.com", "password": PASSWORD, "csrf_token": "forged" * 8},
    )
    assert answer.status_code == 403
    assert not set_cookie_headers(answer, SESSION_COOKIE)


def test_too_many_failed_logins_are_throttled(tmp_path: Path) -> None:
    book = make_book(tmp_path)
    client = TestClient(create_app(book), follow_redirects=False)
    token = csrf_of(client.get("/login"))
    data = {"email": "ann@example.com", "password": "wrong", "csrf_token": token}
    statuses = [client.post("/login", data=data).status_code for _ in range(10)]
    assert statuses == [422] * 10
    answer = client.post("/login", data={**data, "password": PASSWORD})
    assert answer.status_code == 429
    assert int(answer.headers["retry-after"]) > 0
    assert "Too many failed logins" in answer.text
    book.engine.dispose()


def test_logging_out_ends_the_session(client: TestClient) -> None:
    token = log_in(client)
    secret = client.cookies[SESSION_COOKIE]
    answer = client.post("/logout", data={"csrf_token": token})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    [cleared] = set_cookie_headers(answer, SESSION_COOKIE)
    assert "max-age=0" in cleared.lower()
    # The old secret is worthless now, even if a browser kept it.
    client.cookies.set(SESSION_COOKIE, secret)
    assert client.get("/").status_code == 303
    assert "You are logged out." in client.get("/login").text


def test_an_unknown_session_cookie_is_cleared(client: TestClient) -> None:
    client.cookies.set(SESSION_COOKIE, "not-a-session")
    answer = client.get("/accounts")
    assert answer.status_code == 303
    assert "max-age=0" in set_cookie_headers(answer, SESSION_COOKIE)[0].lower()


# -- CSRF --------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "forged", "x" * 43])
def test_a_post_without_the_sessions_token_is_refused(
    client: TestClient, book: App, token: str | None
) -> None:
    log_in(client)
    before = book.audit.log(None, 1)[0].seq
    data: dict[str, str | list[str]] = {"date": "2026-02-01", "narration": "x"}
    data |= {"account": ["Assets:Cash", "Equity:Capital"], "amount": ["5", "-5"]}
    if token is not None:
        data["csrf_token"] = token
    answer = client.post("/journal/new", data=data)
    assert answer.status_code == 403
    assert "security token" in answer.text
    assert client.post("/logout", data=data).status_code == 403
    assert client.get("/").status_code == 200  # still signed in
    assert book.audit.log(None, 1)[0].seq == before  # nothing was written


def test_htmx_requests_may_send_the_token_as_a_header(client: TestClient) -> None:
    token = log_in(client)
    answer = client.post("/logout", headers={"X-CSRF-Token": token})
    assert answer.status_code == 303
    assert client.get("/").status_code == 303


# -- pages, roles and errors ------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_for_an_accountant(client: TestClient, path: str) -> None:
    log_in(client)
    answer = client.get(path)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert "ann@example.com" in answer.text


@pytest.mark.parametrize("path", PLACEHOLDERS)
def test_sections_still_to_come_render_a_placeholder(client: TestClient, path: str) -> None:
    log_in(client)
    answer = client.get(path)
    assert answer.status_code == 200
    assert "is not available yet." in answer.text
    assert f'href="{path}" aria-current="page"' in answer.text


def test_a_viewer_may_not_post_or_see_the_entry_form(client: TestClient, book: App) -> None:
    [ref] = book.ledger.post([entry(date(2026, 2, 2), "Rent", "Expenses:Rent", "Assets:Cash", "9")])
    token = log_in(client, "vic@example.com")
    assert "/journal/new" not in client.get("/").text
    assert "/journal/new" not in client.get("/journal").text
    assert "/reverse" not in client.get(f"/journal/{ref.id}").text
    assert client.get("/journal/new").status_code == 403
    form = {"csrf_token": token, "date": "2026-02-03", "narration": "x"}
    form |= {"account": ["Assets:Cash", "Equity:Capital"], "amount": ["5", "-5"]}
    answer = client.post("/journal/new", data=form)
    assert answer.status_code == 403
    assert "Not allowed" in answer.text
    assert "vic@example.com" in answer.text  # the 403 page is in the layout
    answer = client.post(f"/journal/{ref.id}/reverse", data={"csrf_token": token})
    assert answer.status_code == 403
    assert book.ledger.get(ref.id).state.value == "posted"
    assert client.get("/audit").status_code == 403  # viewers do not read the audit log


def test_a_role_without_ledger_access_sees_no_ledger_links(client: TestClient) -> None:
    log_in(client, "sue@example.com")
    home = client.get("/")
    assert home.status_code == 200
    nav = home.text.split('aria-label="Main"')[1].split("</nav>")[0]
    for hidden in ("/accounts", "/journal", "/reports", "/audit"):
        assert f'href="{hidden}"' not in nav
    assert 'href="/customers"' in nav
    assert client.get("/accounts").status_code == 403
    assert client.get("/reports/trial-balance").status_code == 403


def test_unknown_pages_and_entries_are_404_pages_in_the_layout(client: TestClient) -> None:
    log_in(client)
    for path in ("/no-such-page", "/journal/999999", f"/journal/{2**63}"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "ann@example.com" in answer.text
        assert 'aria-label="Main"' in answer.text
    assert client.get("/journal/by-ref", params={"ref": "GJ/1999/1"}).status_code == 404
    api_miss = client.get("/api/nothing")
    assert api_miss.headers["content-type"] == "application/problem+json"
    assert api_miss.json()["type"] == "urn:crmledger:problem:not-found"


def test_security_headers_are_on_every_page(client: TestClient) -> None:
    for answer in (client.get("/login"), client.get("/static/app.css"), client.get("/nope")):
        headers = answer.headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
    log_in(client)
    assert client.get("/journal").headers["cache-control"] == "no-store"


def test_pages_carry_no_inline_script_or_style(client: TestClient, book: App) -> None:
    [ref] = book.ledger.post(
        [entry(date(2026, 2, 4), "Tea", "Expenses:Office", "Assets:Cash", "3")]
    )
    pages = [client.get("/login")]
    log_in(client)
    pages += [client.get(path) for path in [*PAGES, "/invoices", "/nope", f"/journal/{ref.id}"]]
    pages.append(client.get("/reports/account-ledger", params={"account": "Assets"}))
    sri = json.loads((STATIC_DIR / "vendor" / "VENDORED.json").read_text())["sri"]
    for page in pages:
        html = page.text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), page.url
        assert not re.search(r"\sstyle=", html), page.url
        assert not re.search(r"\son[a-z]+=", html), page.url
        assert f'integrity="{sri}"' in html, page.url


def test_static_files_are_served(client: TestClient) -> None:
    script = client.get("/static/app.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert client.get("/static/vendor/htmx.min.js").status_code == 200
    assert client.get("/static/nothing.js").status_code == 404


# -- the journal and the entry form ------------------------------------------------------


def test_posting_through_the_form_redirects_with_a_flash_message(
    client: TestClient, book: App
) -> None:
    token = log_in(client)
    form = {
        "csrf_token": token,
        "date": "2026-02-10",
        "journal": "GJ",
        "narration": "Consulting",
        "account": ["Assets:Bank:Checking", "Income:Sales:Services", "", ""],
        "amount": ["1 200.50", "-1200.50", "", ""],
        "commodity": ["eur", "", "", ""],
    }
    answer = client.post("/journal/new", data=form)
    assert answer.status_code == 303
    location = answer.headers["location"]
    entry_id = int(location.rsplit("/", 1)[1])
    posted = book.ledger.get(entry_id)
    assert [p.amount for p in posted.postings] == [Decimal("1200.50"), Decimal("-1200.50")]
    assert posted.narration == "Consulting"
    shown = client.get(location)
    assert re.search(r"Posted GJ/2026/\d+\.", shown.text)
    assert "1,200.50" in shown.text
    assert "Posted GJ" not in client.get(location).text  # shown once


def test_the_server_refuses_an_unbalanced_entry_with_an_inline_error(client: TestClient) -> None:
    token = log_in(client)
    form = {
        "csrf_token": token,
        "date": "2026-02-11",
        "narration": "Chairs",
        "account": ["Expenses:Office", "Assets:Cash"],
        "amount": ["100", "-90"],
        "commodity": ["EUR", "EUR"],
    }
    answer = client.post("/journal/new", data=form)
    assert answer.status_code == 422
    assert '<p class="error form-error" id="postings-error">' in answer.text
    assert "Entry does not balance: residual 10.00 EUR." in answer.text
    assert 'value="Chairs"' in answer.text
    assert 'value="-90"' in answer.text


@pytest.mark.parametrize(
    ("rows", "where", "message"),
    [
        ([("Assets:Nope", "5"), ("Assets:Cash", "-5")], "p0-account", "Unknown account"),
        ([("Assets:Cash", "5"), ("Equity:Capital", "abc")], "p1-amount", "is not a number"),
        ([("Assets:Cash", "5.001"), ("Equity:Capital", "-5.001")], "p0-amount", "decimal place"),
        ([("", "5"), ("Equity:Capital", "-5")], "p0-account", "Choose an account"),
    ],
)
def test_a_bad_posting_is_marked_on_its_row(
    client: TestClient, rows: list[tuple[str, str]], where: str, message: str
) -> None:
    token = log_in(client)
    form = {
        "csrf_token": token,
        "date": "2026-02-12",
        "narration": "Bad",
        "account": [a for a, _ in rows],
        "amount": [m for _, m in rows],
        "commodity": ["EUR"] * len(rows),
    }
    answer = client.post("/journal/new", data=form)
    assert answer.status_code == 422
    error = re.search(rf'<p class="error" id="{where}-error">([^<]*)</p>', answer.text)
    assert error, answer.text
    assert message in error.group(1)
    assert re.search(rf'id="{where}"[^>]*aria-invalid="true"', answer.text)


def test_a_locked_period_is_reported_on_the_date(client: TestClient, book: App) -> None:
    token = log_in(client)
    book.ledger.lock_period(date(2025, 12, 31))
    form = {
        "csrf_token": token,
        "date": "2025-12-01",
        "narration": "Late",
        "account": ["Assets:Cash", "Equity:Capital"],
        "amount": ["5", "-5"],
    }
    answer = client.post("/journal/new", data=form)
    assert answer.status_code == 422
    assert re.search(r'id="f-date-error">[^<]*lock date', answer.text)


def test_add_posting_without_script_adds_a_row(client: TestClient) -> None:
    token = log_in(client)
    form = {"csrf_token": token, "action": "add-row", "date": "2026-02-13", "narration": "x"}
    form |= {"account": ["Assets:Cash"] * 4, "amount": ["1"] * 4}
    answer = client.post("/journal/new", data=form)
    assert answer.status_code == 200
    assert answer.text.count("data-posting-row") == 5


def test_the_journal_filters_and_pages_by_keyset(client: TestClient, book: App) -> None:
    start = date(2027, 1, 1)
    book.ledger.post(
        [
            entry(start + timedelta(days=i), f"Fee {i}", "Expenses:Bank:Fees", "Assets:Cash", "1")
            for i in range(55)
        ]
    )
    log_in(client)
    query = {"account": "Expenses:Bank:Fees", "from": "2027-01-01"}
    first = client.get("/journal", params=query)
    assert first.status_code == 200
    assert first.text.count("Fee ") == 50
    assert "Fee 54" in first.text  # newest first
    found = re.search(r'<a class="next" rel="next" href="([^"]+)"', first.text)
    assert found
    second = client.get(found.group(1).replace("&amp;", "&"))
    assert second.text.count("Fee ") == 5
    assert ">Fee 0</td>" in second.text
    assert 'class="next"' not in second.text
    fragment = client.get("/journal", params=query, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text
    assert "Fee 54" in fragment.text
    assert "HX-Request" in fragment.headers["vary"]


def test_bad_journal_filters_are_shown_inline(client: TestClient) -> None:
    log_in(client)
    answer = client.get("/journal", params={"from": "yesterday", "state": "odd", "journal": "G-J"})
    assert answer.status_code == 422
    assert "is not a date" in answer.text
    assert "Choose draft, posted or reversed." in answer.text
    assert client.get("/journal", params={"next": "garbage"}).status_code == 200
    answer = client.get("/reports/trial-balance", params={"as_of": "2026-13-01"})
    assert answer.status_code == 422
    answer = client.get("/reports/account-ledger", params={"account": "Assets:Nope"})
    assert answer.status_code == 422
    assert "No account is called" in answer.text


def test_an_htmx_request_without_a_session_is_redirected_by_header(client: TestClient) -> None:
    answer = client.get("/journal", headers={"HX-Request": "true"})
    assert answer.headers["hx-redirect"] == "/login?next=%2Fjournal"


def test_reversing_through_the_page(client: TestClient, book: App) -> None:
    [ref] = book.ledger.post(
        [entry(date(2026, 2, 20), "Pens", "Expenses:Office", "Assets:Cash", "4")]
    )
    token = log_in(client)
    answer = client.post(
        f"/journal/{ref.id}/reverse", data={"csrf_token": token, "date": "2026-02-21"}
    )
    assert answer.status_code == 303
    assert book.ledger.get(ref.id).state.value == "reversed"
    again = client.post(
        f"/journal/{ref.id}/reverse", data={"csrf_token": token, "date": "2026-02-21"}
    )
    assert again.status_code == 409
    assert "only posted entries reverse" in again.text


def test_the_audit_log_pages_by_sequence(client: TestClient, book: App) -> None:
    log_in(client)
    newest = book.audit.log(None, 1)[0].seq
    answer = client.get("/audit/log", params={"before": newest, "action": "user.login"})
    assert answer.status_code == 200
    assert "user.login" in answer.text
    assert "journal.post</code>" not in answer.text
