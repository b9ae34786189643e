"""The REST connector against a real HTTP server (FastAPI under uvicorn on 127.0.0.1)
playing an outside CRM: customers with nested JSON and ``updated_at``, listed by page
number, by a cursor in the body or by ``Link`` headers, behind a bearer token or an API
key header. Pages are followed to the end and a second walk starts after the last version
seen; a wrong token is an error naming the token; pushes create by ``POST`` (once, whatever
the retries) or ``PUT`` and update by ``PATCH`` / ``PUT`` with ``If-Match``; a run pulls
the customers into the book (SQLite and PostgreSQL) and a second run adds nothing."""

from __future__ import annotations

import doctest
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import text

from crmledger.bootstrap import App
from crmledger.core.crm.parties import Address, Email
from crmledger.core.errors import InvalidFieldError
from crmledger.core.integration import json_paths
from crmledger.integration.connectors.rest import RestConnector
from crmledger.services.sync_config import compile_config
from crmledger.services.sync_ports import OutboundChange
from tests.api.live import serving
from tests.integration_sync.helpers import customer

TOKEN = "s3cret-token"
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


class OutsideCrm:
    """An outside CRM: customers in memory, served over HTTP, every request recorded."""

    def __init__(self) -> None:
        self.customers: dict[str, dict[str, Any]] = {}
        self.auth: tuple[str, str] = ("Authorization", f"Bearer {TOKEN}")
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.keys: dict[str, str] = {}
        self.ticks = 0
        self.url = ""

    def stamp(self) -> str:
        self.ticks += 1
        return (START + timedelta(minutes=self.ticks)).isoformat()

    def add(self, ident: str, company: str, email: str, city: str, **extra: Any) -> None:
        self.customers[ident] = {
            "id": ident,
            "company": company,
            "emails": [{"value": email, "type": "work"}, {"value": f"old-{email}", "type": "x"}],
            "billing": {"address": {"city": city, "country": "DE"}},
            "employees": 12,
            "updated_at": self.stamp(),
            **extra,
        }

    def ordered(self, since: str | None) -> list[dict[str, Any]]:
        rows = sorted(self.customers.values(), key=lambda c: (c["updated_at"], c["id"]))
        return [c for c in rows if since is None or c["updated_at"] >= since]

    def app(self) -> FastAPI:
        api = FastAPI()
        crm = self

        @api.middleware("http")
        async def check(request: Request, call_next: Any) -> Response:
            crm.requests.append((request.method, str(request.url), dict(request.headers)))
            name, value = crm.auth
            if request.headers.get(name) != value:
                return JSONResponse({"error": "invalid credentials"}, status_code=401)
            return await call_next(request)  # type: ignore[no-any-return]

        @api.get("/page/customers")
        def by_page(page: int = 1, per_page: int = 100, updated_since: str | None = None) -> Any:
            rows = crm.ordered(updated_since)
            return {"data": rows[(page - 1) * per_page : page * per_page]}

        @api.get("/cursor/customers")
        def by_cursor(
            cursor: str | None = None, limit: int = 100, updated_since: str | None = None
        ) -> Any:
            rows = crm.ordered(updated_since)
            start = int(cursor.removeprefix("after-")) if cursor else 0
            chunk = rows[start : start + limit]
            more = start + limit < len(rows)
            return {"data": chunk, "meta": {"next": f"after-{start + limit}" if more else None}}

        @api.get("/link/customers")
        def by_link(
            response: Response, offset: int = 0, limit: int = 100, since: str | None = None
        ) -> Any:
            rows = crm.ordered(since)
            if offset + limit < len(rows):
                following = {"offset": offset + limit, "limit": limit} | (
                    {"since": since} if since else {}
                )
                query = urlencode(following)
                response.headers["Link"] = f'</link/customers?{query}>; rel="next"'
            return rows[offset : offset + limit]

        @api.get("/moved/customers")
        def moved() -> Any:
            return RedirectResponse(crm.url.replace("127.0.0.1", "localhost") + "/page/customers")

        @api.get("/page/customers/{ident}")
        def one(ident: str) -> Any:
            if ident not in crm.customers:
                return JSONResponse({"error": "not found"}, status_code=404)
            found = crm.customers[ident]
            return JSONResponse(found, headers={"ETag": f'"{found["updated_at"]}"'})

        @api.post("/page/customers", status_code=201)
        async def create(request: Request) -> Any:
            key = request.headers.get("idempotency-key", "")
            if key in crm.keys:
                return crm.customers[crm.keys[key]]
            body = await request.json()
            ident = f"R{len(crm.customers) + 1}"
            crm.customers[ident] = body | {"id": ident, "updated_at": crm.stamp()}
            crm.keys[key] = ident
            return crm.customers[ident]

        @api.api_route("/page/customers/{ident}", methods=["PATCH", "PUT"])
        async def change(ident: str, request: Request) -> Any:
            current = crm.customers.get(ident)
            if request.method == "PATCH" and current is None:
                return JSONResponse({"error": "not found"}, status_code=404)
            match = request.headers.get("if-match")
            if current is not None and match and match != f'"{current["updated_at"]}"':
                return JSONResponse({"message": "stale"}, status_code=412)
            body = await request.json()
            if "company" in body and not body["company"]:
                return JSONResponse({"message": "company is required"}, status_code=422)
            after = (current or {}) | body if request.method == "PATCH" else body
            crm.customers[ident] = after | {"id": ident, "updated_at": crm.stamp()}
            return crm.customers[ident]

        return api


@pytest.fixture
def outside() -> Iterator[OutsideCrm]:
    crm = OutsideCrm()
    with serving(crm.app()) as url:
        crm.url = url
        yield crm


def config(url: str, style: str = "page", **extra: Any) -> dict[str, Any]:
    paging = {
        "page": {"style": "page", "size_param": "per_page"},
        "cursor": {"style": "cursor", "next": "meta.next", "size_param": "limit"},
        "link": {"style": "link", "size_param": "limit"},
    }[style]
    customer = {
        "source": f"{style}/customers",
        "id": "id",
        "version": "updated_at",
        "fields": {
            "name": "company",
            "email": "emails[0].value",
            "city": "billing.address.city",
            "country": "billing.address.country",
            "payment_terms_days": "terms.days",
        },
        "items": "" if style == "link" else "data",
        "since_param": "since" if style == "link" else "updated_since",
        "pagination": paging,
    }
    objects = {"customer": customer | extra.pop("customer", {})}
    return {"url": url, "objects": objects, **extra}


def connector(url: str, style: str = "page", token: str = TOKEN, **extra: Any) -> RestConnector:
    spec = compile_config("outside", "rest", config(url, style, **extra))
    return RestConnector(replace(spec, secrets={"token": token}))


def walk(rest: RestConnector, cursor: str, limit: int) -> tuple[list[tuple[str, str]], str, int]:
    """Every page after ``cursor``: (id, name) of each record, the last cursor, the pages."""
    seen: list[tuple[str, str]] = []
    pages = 0
    while True:
        page = rest.fetch("customer", cursor, limit)
        pages += 1
        seen += [(c.external_id, c.values["name"]) for c in page.changes]
        cursor = page.cursor
        if not page.more:
            return seen, cursor, pages


def test_json_paths_read_and_write_one_place() -> None:
    assert doctest.testmod(json_paths).failed == 0
    doc = {"a": {"b": [{"c": 1}, {"c": 2}]}}
    assert json_paths.value_at(doc, json_paths.parse_path("a.b[1].c")) == 2
    assert json_paths.value_at(doc, json_paths.parse_path("a.x")) is json_paths.MISSING
    written = json_paths.with_value(doc, json_paths.parse_path("a.b[0].c"), 9)
    assert written == {"a": {"b": [{"c": 9}, {"c": 2}]}}
    assert doc == {"a": {"b": [{"c": 1}, {"c": 2}]}}  # a copy: the original is untouched
    with pytest.raises(InvalidFieldError, match="no path like") as refused:
        json_paths.parse_path("emails[x]", "objects.customer.fields.email")
    assert refused.value.field == "objects.customer.fields.email"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"customer": {"pagination": {"style": "offset"}}}, "pagination.style", "page, cursor"),
        ({"customer": {"pagination": {"style": "cursor"}}}, "pagination.next", "next cursor"),
        ({"customer": {"fields": {"email": "emails[first]"}}}, "fields.email", "no path"),
        ({"customer": {"update": "POST"}}, "objects.customer.update", "PATCH, PUT"),
        ({"customer": {"source": "https://evil.example/x"}}, "customer.source", "path under"),
        ({"auth": "basic"}, "auth", "bearer, api_key"),
        ({"auth": "api_key", "auth_header": "X Key"}, "auth_header", "no HTTP header"),
        ({"url": "http://crm.example.com/api"}, "url", "use https"),
        ({"url": "https://me:pw@crm.example.com"}, "url", "secrets"),
    ],
)
def test_configuration_errors_name_the_field(
    change: dict[str, Any], field: str, message: str
) -> None:
    document = config("http://127.0.0.1:9")
    customer = change.pop("customer", {})
    document["objects"]["customer"] = document["objects"]["customer"] | customer
    with pytest.raises(InvalidFieldError, match=message) as refused:
        compile_config("outside", "rest", document | change)
    assert refused.value.field.endswith(field)


def test_a_connector_without_its_token_is_refused() -> None:
    spec = compile_config("outside", "rest", config("http://127.0.0.1:9"))
    with pytest.raises(InvalidFieldError, match="token") as refused:
        RestConnector(spec)
    assert refused.value.field == "token"


@pytest.mark.parametrize("style", ["page", "cursor", "link"])
def test_every_pagination_style_walks_to_the_end_and_resumes_after_it(
    outside: OutsideCrm, style: str
) -> None:
    for n in range(1, 6):
        outside.add(f"C{n}", f"Customer {n}", f"c{n}@example.com", "Berlin")
    rest = connector(outside.url, style)
    seen, cursor, pages = walk(rest, "", 2)
    assert seen == [(f"C{n}", f"Customer {n}") for n in range(1, 6)]
    assert pages == 3
    first = rest.fetch("customer", "", 2).changes[0]
    assert first.version == "2026-06-01T09:01:00+00:00"
    assert dict(first.values) == {
        "name": "Customer 1",
        "email": "c1@example.com",
        "city": "Berlin",
        "country": "DE",
    }  # terms.days is in no record: the field is left alone, not emptied
    # Nothing changed: the same cursor, no records (the boundary record is not repeated).
    again = rest.fetch("customer", cursor, 2)
    assert (again.changes, again.cursor, again.more) == ((), cursor, False)
    outside.customers["C2"] |= {"company": "Customer 2 AG", "updated_at": outside.stamp()}
    outside.add("C6", "Customer 6", "c6@example.com", "Hamburg")
    seen, _, _ = walk(rest, cursor, 2)
    assert seen == [("C2", "Customer 2 AG"), ("C6", "Customer 6")]
    last = httpx.URL([u for m, u, _ in outside.requests if m == "GET"][-1])
    name = "since" if style == "link" else "updated_since"
    assert last.params[name] == "2026-06-01T09:05:00+00:00"  # the version walks start after
    rest.close()


@pytest.mark.parametrize(
    ("auth", "header", "sent"),
    [
        ({}, "authorization", f"Bearer {TOKEN}"),
        ({"auth": "api_key", "auth_header": "X-Partner-Key"}, "x-partner-key", TOKEN),
    ],
)
def test_each_auth_style_sends_the_token_where_the_api_wants_it(
    outside: OutsideCrm, auth: dict[str, str], header: str, sent: str
) -> None:
    outside.auth = (header, sent)
    outside.add("C1", "Acme GmbH", "ap@acme.example", "Berlin")
    rest = connector(outside.url, **auth)
    assert [c.external_id for c in rest.fetch("customer", "", 10).changes] == ["C1"]
    headers = outside.requests[-1][2]
    assert headers[header] == sent
    assert ("authorization" in headers) == (header == "authorization")
    wrong = connector(outside.url, token="not-the-token", **auth)
    with pytest.raises(InvalidFieldError, match="refused the token") as refused:
        wrong.fetch("customer", "", 10)
    assert refused.value.field == "token"
    assert "401 Unauthorized: invalid credentials" in str(refused.value)


def test_a_redirect_to_another_host_is_refused_before_it_is_sent(outside: OutsideCrm) -> None:
    outside.add("C1", "Acme GmbH", "ap@acme.example", "Berlin")
    rest = connector(outside.url, customer={"source": "moved/customers"})
    with pytest.raises(InvalidFieldError, match="on to http://localhost; refused"):
        rest.fetch("customer", "", 10)
    assert [u for _, u, _ in outside.requests] == [
        f"{outside.url}/moved/customers?per_page=10&page=1"
    ]


def test_pushes_patch_put_and_post_once(outside: OutsideCrm) -> None:
    outside.add("C1", "Acme GmbH", "ap@acme.example", "Berlin", terms={"days": 30})
    rest = connector(outside.url)
    changes = [
        OutboundChange("C1", {"email": "billing@acme.example", "payment_terms_days": "14"}),
        OutboundChange("C9", {"name": "Gone Ltd"}),
        OutboundChange("C1", {"name": ""}),
        OutboundChange("CL-7", {"name": "Newco", "city": "Köln", "country": "DE"}, new=True),
    ]
    results = rest.push("customer", changes)
    assert [(r.external_id, r.ok, r.error) for r in results] == [
        ("C1", True, ""),
        ("C9", False, "no such record outside"),
        ("C1", False, "422 Unprocessable Entity: company is required"),
        ("R2", True, ""),
    ]
    acme = outside.customers["C1"]
    # Only the changed members went out, lists whole with the first entry changed and
    # numbers as numbers; the rest of the record stayed as it was.
    assert acme["emails"] == [
        {"value": "billing@acme.example", "type": "work"},
        {"value": "old-ap@acme.example", "type": "x"},
    ]
    assert (acme["terms"], acme["employees"]) == ({"days": 14}, 12)
    assert results[0].version == acme["updated_at"]
    patch = next(h for m, _, h in outside.requests if m == "PATCH")
    assert patch["if-match"] == '"2026-06-01T09:01:00+00:00"'
    assert outside.customers["R2"]["billing"] == {"address": {"city": "Köln", "country": "DE"}}
    # The same create again (a retry after a crash) is answered with the record it made.
    retry = rest.push("customer", [changes[3]])
    assert [(r.external_id, r.ok) for r in retry] == [("R2", True)]
    assert sorted(outside.customers) == ["C1", "R2"]
    put = connector(outside.url, customer={"create": "PUT", "update": "PUT"})
    made = put.push("customer", [OutboundChange("CL-8", {"name": "Putco"}, new=True)])
    assert [(r.external_id, r.ok) for r in made] == [("CL-8", True)]
    assert outside.customers["CL-8"]["company"] == "Putco"
    put.push("customer", [OutboundChange("C1", {"city": "Bonn"})])
    assert outside.customers["C1"]["billing"]["address"] == {"city": "Bonn", "country": "DE"}
    assert outside.customers["C1"]["employees"] == 12  # PUT sent the whole record back


def test_a_run_pulls_customers_into_the_book_once(app: App, outside: OutsideCrm) -> None:
    outside.add("C1", "Acme GmbH", "ap@acme.example", "Berlin")
    outside.add("C2", "Bolt AG", "info@bolt.example", "München")
    outside.add("C3", "Crane KG", "not an email", "Hamburg")
    app.sync.add("outside", "rest", config(outside.url, "cursor"), {"token": TOKEN})
    report = app.sync.run("outside", limit=2)
    assert [(r.external_id, r.outcome) for r in report.results] == [
        ("C1", "created"),
        ("C2", "created"),
        ("C3", "error"),
    ]
    acme = app.parties.get(app.parties.find_external("outside", "C1") or 0)
    assert (acme.display_name, acme.emails[0].address) == ("Acme GmbH", "ap@acme.example")
    assert acme.addresses[0].city == "Berlin"
    assert app.parties.count() == 2
    again = app.sync.run("outside")
    assert (sum(again.counts.values()), app.parties.count()) == (0, 2)
    # The cursor lost: every record is read again and matched, none doubled.
    with app.engine.begin() as conn:
        conn.execute(text("UPDATE sync_cursors SET cursor = ''"))
    replay = app.sync.run("outside")
    assert (replay.counts["created"], replay.counts["unchanged"], app.parties.count()) == (0, 2, 2)
    outside.customers["C2"] |= {"company": "Bolt Europe AG", "updated_at": outside.stamp()}
    changed = app.sync.run("outside")
    assert [(r.external_id, r.outcome, r.fields) for r in changed.results] == [
        ("C2", "updated", ("name",))
    ]


@SQLITE_ONLY
def test_crmledger_changes_go_out_and_do_not_echo(app: App, outside: OutsideCrm) -> None:
    outside.add("C1", "Acme GmbH", "ap@acme.example", "Berlin")
    document = config(outside.url, push=True, push_new=True)
    app.sync.add("outside", "rest", document, {"token": TOKEN})
    app.sync.run("outside")
    acme = app.parties.find_external("outside", "C1")
    assert acme is not None
    app.parties.update(acme, {"emails": (Email("ap@acme.example.com"),)}, None)
    new = customer(app, "Newco GmbH", addresses=(Address(country="DE", city="Köln"),))
    pushed = app.sync.push("outside")
    assert sorted((r.external_id, r.outcome) for r in pushed.results) == [
        ("C1", "updated"),
        ("R2", "created"),
    ]
    assert outside.customers["C1"]["emails"][0]["value"] == "ap@acme.example.com"
    assert outside.customers["R2"]["company"] == "Newco GmbH"
    echo = app.sync.run("outside")
    assert [(r.external_id, r.outcome) for r in echo.results] == [
        ("C1", "unchanged"),
        ("R2", "unchanged"),
    ]
    assert app.parties.count() == 2
    assert sum(app.sync.push("outside").counts.values()) == 0
    # A push repeated after a crash (its link lost) is answered with the record it made.
    with app.engine.begin() as conn:
        conn.execute(text("DELETE FROM sync_links WHERE local_id = :p"), {"p": new})
    again = app.sync.push("outside")
    assert [(r.external_id, r.outcome) for r in again.results] == [("R2", "created")]
    assert sorted(outside.customers) == ["C1", "R2"]


@SQLITE_ONLY
def test_a_wrong_token_fails_the_run_saying_so(app: App, outside: OutsideCrm) -> None:
    app.sync.add("outside", "rest", config(outside.url), {"token": "expired"})
    with pytest.raises(InvalidFieldError, match="refused the token") as refused:
        app.sync.run("outside")
    assert refused.value.field == "token"
    run = app.sync.runs("outside")[0]
    assert run.status == "failed"
    assert "refused the token (401 Unauthorized: invalid credentials)" in run.message
