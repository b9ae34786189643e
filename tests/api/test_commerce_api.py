"""``/products``, ``/quotes``, ``/orders`` and ``/contracts`` keep the platform's conventions:
problems name the field, versions guard updates and moves (412 stale, 428 missing), creates
replay, lists page with a cursor, money travels as decimal strings."""

from __future__ import annotations

from typing import Any

import pytest

from crmledger.core.access import Role
from crmledger.core.crm.parties import Party, PartyKind
from tests.api.conftest import Api

PROBLEM = "application/problem+json"


def _party(api: Api) -> int:
    party = api.book.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Acme GmbH"))
    return int(party.id or 0)


def _post(api: Api, path: str, body: Any, role: Role = Role.ADMIN, **headers: str) -> Any:
    return api.client.post(f"/api/v1{path}", json=body, headers=api.auth(role) | headers)


def _product(api: Api, sku: str = "WID-1", **fields: Any) -> dict[str, Any]:
    body = {"sku": sku, "name": "Widget", "prices": [{"currency": "EUR", "amount": "9.90"}]}
    answer = _post(api, "/products", body | fields, Role.ACCOUNTANT)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _quote(api: Api, **fields: Any) -> Any:
    body = {
        "party_id": _party(api),
        "currency": "EUR",
        "lines": [{"product_id": _product(api)["id"], "quantity": "2"}],
    }
    answer = _post(api, "/quotes", body | fields, Role.SALES)
    assert answer.status_code == 201, answer.text
    return answer


def test_a_product_is_created_read_and_changed_with_its_etag(api: Api) -> None:
    created = _product(api, cost="4.25", cost_account="Expenses:COGS", kind="good")
    assert created["prices"] == [{"currency": "EUR", "amount": "9.90"}]
    assert created["income_account"] == "Income:Sales:Products"
    assert (created["cost"], created["cost_currency"]) == ("4.25", "EUR")
    url = f"/api/v1/products/{created['id']}"
    read = api.client.get(url, headers=api.auth(Role.VIEWER))
    assert read.headers["etag"] == '"1"'
    assert read.json() == created
    body = {"prices": [{"currency": "USD", "amount": "10.50"}], "cost": None}
    assert api.client.patch(url, json=body, headers=api.auth()).status_code == 428
    stale = api.client.patch(url, json=body, headers=api.auth() | {"If-Match": '"7"'})
    assert stale.status_code == 412
    assert stale.json()["type"] == "urn:crmledger:problem:stale-version"
    done = api.client.patch(url, json=body, headers=api.auth() | {"If-Match": '"1"'})
    assert done.status_code == 200, done.text
    assert done.headers["etag"] == '"2"'
    assert done.json()["prices"] == [{"currency": "USD", "amount": "10.50"}]
    assert (done.json()["cost"], done.json()["cost_account"]) == (None, None)
    refused = api.client.patch(url, json=body, headers=api.auth(Role.SALES))
    assert refused.status_code == 403  # the role is refused before the missing If-Match
    service = _product(api, "SVC-1", kind="service")
    assert service["income_account"] == "Income:Sales:Services"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"prices": [{"currency": "JPY", "amount": "1300.5"}]}, "prices[0].amount"),
        ({"prices": [{"currency": "EUR", "amount": 9.9}]}, "prices.0.amount"),
        ({"income_account": "Expenses:COGS"}, "income_account"),
        ({"tax_category": "luxury"}, "tax_category"),
        ({"id": 7}, "id"),
        ({"version": 3}, "version"),
    ],
)
def test_a_bad_product_is_a_problem_naming_the_field(
    api: Api, fields: dict[str, Any], field: str
) -> None:
    body = {"sku": "WID-1", "name": "Widget"} | fields
    answer = _post(api, "/products", body)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM
    assert field in [e["field"] for e in answer.json()["errors"]], answer.text
    assert api.client.get("/api/v1/products", headers=api.auth()).json()["items"] == []


def test_a_duplicate_sku_is_a_conflict(api: Api) -> None:
    _product(api)
    answer = _post(api, "/products", {"sku": "WID-1", "name": "Again"})
    assert answer.status_code == 409
    assert answer.json()["errors"][0]["field"] == "sku"


def test_products_page_by_sku_and_filter(api: Api) -> None:
    for sku in ("E-5", "A-1", "C-3", "B-2", "D-4"):
        _product(api, sku, active=sku != "C-3")
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = api.client.get("/api/v1/products", params=params, headers=api.auth()).json()
        seen += [p["sku"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["A-1", "B-2", "C-3", "D-4", "E-5"]
    inactive = api.client.get("/api/v1/products?active=false", headers=api.auth()).json()
    assert [p["sku"] for p in inactive["items"]] == ["C-3"]
    found = api.client.get("/api/v1/products?search=d-", headers=api.auth()).json()
    assert [p["sku"] for p in found["items"]] == ["D-4"]
    for bad in ("sort=name", "cursor=zz", "limit=501", "colour=red"):
        answer = api.client.get(f"/api/v1/products?{bad}", headers=api.auth())
        assert answer.status_code == 422, bad


def test_a_quote_is_priced_numbered_and_a_bad_line_names_its_field(api: Api) -> None:
    answer = _quote(api, valid_until="2026-07-31")
    quote = answer.json()
    assert answer.headers["location"] == f"/api/v1/quotes/{quote['id']}"
    assert answer.headers["etag"] == '"1"'
    assert quote["number"] == "Q-2026-0001"
    assert quote["lines"][0] | {"product_id": 0} == {
        "position": 1,
        "product_id": 0,
        "description": "Widget",
        "quantity": "2",
        "unit_price": "9.90",
        "discount": "0",
        "tax_category": "standard",
        "net": "19.80",
        "tax": "3.76",
    }
    assert (quote["net"], quote["tax"], quote["gross"]) == ("19.80", "3.76", "23.56")
    assert quote["tax_by_category"] == [{"category": "standard", "base": "19.80", "tax": "3.76"}]
    lines = [
        {"description": "A", "unit_price": "1"},
        {"description": "B", "unit_price": "1"},
        {"description": "C", "unit_price": "1", "quantity": "0"},
    ]
    bad = _post(api, "/quotes", {"party_id": quote["party_id"], "currency": "EUR", "lines": lines})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "lines[2].quantity"
    lines[2] |= {"quantity": 1.5}
    bad = _post(api, "/quotes", {"party_id": quote["party_id"], "currency": "EUR", "lines": lines})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "lines.2.quantity"
    listed = api.client.get("/api/v1/quotes", headers=api.auth()).json()["items"]
    assert [q["number"] for q in listed] == ["Q-2026-0001"]


def test_preview_totals_lines_and_saves_nothing(api: Api) -> None:
    product = _product(api)
    body = {
        "currency": "EUR",
        "lines": [
            {"product_id": product["id"], "quantity": "3", "discount": "10"},
            {"description": "Setup", "unit_price": "100.00", "tax_category": "reduced"},
        ],
    }
    answer = _post(api, "/quotes/preview", body, Role.VIEWER)
    assert answer.status_code == 200, answer.text
    totals = answer.json()
    assert [line["net"] for line in totals["lines"]] == ["26.73", "100.00"]
    assert (totals["net"], totals["tax"], totals["gross"]) == ("126.73", "12.08", "138.81")
    assert api.client.get("/api/v1/quotes", headers=api.auth()).json()["items"] == []
    assert _post(api, "/quotes", body | {"party_id": _party(api)}, Role.VIEWER).status_code == 403


def test_a_quote_and_its_preview_take_gross_prices_from_the_start(api: Api) -> None:
    lines = [
        {"description": "Shirt", "unit_price": "11.90", "quantity": "2"},
        {"description": "Book", "unit_price": "10.70", "tax_category": "reduced"},
    ]
    body = {"currency": "EUR", "lines": lines, "prices_include_tax": True}
    preview = _post(api, "/quotes/preview", body, Role.VIEWER)
    assert preview.status_code == 200, preview.text
    # 23.80 gross at 19 %: 20.00 + 3.80; 10.70 at 7 %: 10.00 + 0.70
    assert [line["net"] for line in preview.json()["lines"]] == ["20.00", "10.00"]
    totals = preview.json()
    assert (totals["net"], totals["tax"], totals["gross"]) == ("30.00", "4.50", "34.50")
    net = _post(api, "/quotes/preview", body | {"prices_include_tax": False}, Role.VIEWER)
    assert net.json()["gross"] == "39.77"  # 23.80 + 4.52 + 10.70 + 0.75

    created = _post(api, "/quotes", body | {"party_id": _party(api)}, Role.SALES)
    assert created.status_code == 201, created.text
    quote = created.json()
    assert quote["prices_include_tax"] is True
    assert (quote["net"], quote["tax"], quote["gross"]) == ("30.00", "4.50", "34.50")
    assert [line["unit_price"] for line in quote["lines"]] == ["11.90", "10.70"]
    read = api.client.get(f"/api/v1/quotes/{quote['id']}", headers=api.auth()).json()
    assert (read["prices_include_tax"], read["gross"]) == (True, "34.50")
    plain = _post(api, "/quotes", {"party_id": _party(api), "currency": "EUR"}, Role.SALES)
    assert plain.json()["prices_include_tax"] is False
    bad = _post(api, "/quotes", body | {"party_id": _party(api), "prices_include_tax": "yes"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "prices_include_tax"


def test_a_retried_create_replays_and_stores_one_quote(api: Api) -> None:
    body = {"party_id": _party(api), "currency": "EUR", "lines": []}
    first = _post(api, "/quotes", body, **{"Idempotency-Key": "q-1"})
    second = _post(api, "/quotes", body, **{"Idempotency-Key": "q-1"})
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    assert len(api.client.get("/api/v1/quotes", headers=api.auth()).json()["items"]) == 1


def test_a_quote_moves_with_its_etag_and_accepting_creates_the_order(api: Api) -> None:
    quote = _quote(api).json()
    url = f"/api/v1/quotes/{quote['id']}"
    assert api.client.post(f"{url}/send", headers=api.auth()).status_code == 428
    assert api.client.post(f"{url}/send", headers=api.auth(Role.VIEWER)).status_code == 403
    stale = api.client.post(f"{url}/send", headers=api.auth() | {"If-Match": '"9"'})
    assert stale.status_code == 412
    sent = api.client.post(f"{url}/send", headers=api.auth(Role.SALES) | {"If-Match": '"1"'})
    assert sent.status_code == 200, sent.text
    assert (sent.json()["status"], sent.headers["etag"]) == ("sent", '"2"')
    edit = api.client.patch(url, json={"lines": []}, headers=api.auth() | {"If-Match": '"2"'})
    assert edit.status_code == 409
    assert edit.json()["type"] == "urn:crmledger:problem:invalid-transition"
    accepted = api.client.post(f"{url}/accept", headers=api.auth() | {"If-Match": '"2"'})
    assert accepted.status_code == 200, accepted.text
    order_id = accepted.json()["order_id"]
    order = api.client.get(f"/api/v1/orders/{order_id}", headers=api.auth()).json()
    assert order["status"] == "confirmed"
    assert (order["quote_id"], order["gross"], order["number"]) == (
        quote["id"],
        quote["gross"],
        "SO-2026-0001",
    )
    again = api.client.post(f"{url}/reject", headers=api.auth() | {"If-Match": '"3"'})
    assert again.status_code == 409
    assert api.client.get(url, headers=api.auth()).json()["status"] == "accepted"
    duplicate = _post(api, "/orders", {"quote_id": quote["id"]})
    assert duplicate.status_code == 409
    assert len(api.client.get("/api/v1/orders", headers=api.auth()).json()["items"]) == 1


def test_a_draft_quote_changes_lines_and_cancels(api: Api) -> None:
    quote = _quote(api).json()
    url = f"/api/v1/quotes/{quote['id']}"
    body = {"lines": [{"description": "Setup", "unit_price": "50", "discount": "100"}]}
    edited = api.client.patch(url, json=body, headers=api.auth() | {"If-Match": '"1"'})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["gross"], edited.json()["version"]) == ("0.00", 2)
    cancelled = api.client.post(f"{url}/cancel", headers=api.auth() | {"If-Match": '"2"'})
    assert cancelled.json()["status"] == "cancelled"


def test_orders_from_lines_or_from_a_quote_and_their_moves(api: Api) -> None:
    body = {
        "party_id": _party(api),
        "currency": "EUR",
        "lines": [{"description": "Setup", "unit_price": "90"}],
    }
    created = _post(api, "/orders", body, Role.SALES)
    assert created.status_code == 201, created.text
    order = created.json()
    assert (order["status"], order["number"], order["gross"]) == ("draft", "SO-2026-0001", "107.10")
    url = f"/api/v1/orders/{order['id']}"
    fulfil = api.client.post(f"{url}/fulfil", headers=api.auth() | {"If-Match": '"1"'})
    assert fulfil.status_code == 409
    confirmed = api.client.post(f"{url}/confirm", headers=api.auth() | {"If-Match": '"1"'})
    assert confirmed.json()["status"] == "confirmed"
    done = api.client.post(f"{url}/fulfil", headers=api.auth() | {"If-Match": '"2"'})
    assert done.json()["status"] == "fulfilled"
    assert done.json()["fulfilled_on"] == "2026-06-30"
    quote = _quote(api).json()
    from_quote = _post(api, "/orders", {"quote_id": quote["id"]})
    assert from_quote.status_code == 201
    assert from_quote.json()["status"] == "confirmed"
    both = _post(api, "/orders", body | {"quote_id": quote["id"]})
    assert both.status_code == 422
    drafts = api.client.get("/api/v1/orders?status=fulfilled", headers=api.auth()).json()
    assert [o["id"] for o in drafts["items"]] == [order["id"]]
    first = api.client.get("/api/v1/orders?limit=1", headers=api.auth()).json()
    cursor = first["next_cursor"]
    rest = api.client.get(f"/api/v1/orders?limit=1&cursor={cursor}", headers=api.auth()).json()
    assert [first["items"][0]["id"], rest["items"][0]["id"]] == [
        from_quote.json()["id"],
        order["id"],
    ]


def test_contracts_bill_prices_from_a_date_and_cancel(api: Api) -> None:
    product = _product(api, "SUP-1", kind="service")
    body = {
        "party_id": _party(api),
        "product_id": product["id"],
        "currency": "EUR",
        "frequency": "monthly",
        "start": "2026-01-31",
    }
    created = _post(api, "/contracts", body, Role.SALES)
    assert created.status_code == 201, created.text
    contract = created.json()
    assert (contract["description"], contract["next_billing"]) == ("Widget", "2026-01-31")
    assert contract["prices"] == [{"effective": "2026-01-31", "amount": "9.90"}]
    url = f"/api/v1/contracts/{contract['id']}"
    price = {"effective": "2026-04-01", "amount": "12.5"}
    assert _post(api, f"/contracts/{contract['id']}/prices", price).status_code == 428
    bad = _post(
        api,
        f"/contracts/{contract['id']}/prices",
        price | {"amount": "1.001"},
        **{"If-Match": '"1"'},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "amount"
    changed = _post(api, f"/contracts/{contract['id']}/prices", price, **{"If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    assert changed.json()["prices"][1] == {"effective": "2026-04-01", "amount": "12.50"}
    due = api.client.get("/api/v1/contracts?due_through=2026-02-01", headers=api.auth()).json()
    assert [c["id"] for c in due["items"]] == [contract["id"]]
    patch = {"status": "cancelled"}
    cancelled = api.client.patch(url, json=patch, headers=api.auth() | {"If-Match": '"2"'})
    assert cancelled.json()["status"] == "cancelled"
    due = api.client.get("/api/v1/contracts?due_through=2026-02-01", headers=api.auth()).json()
    assert due["items"] == []
    wrong = _post(
        api, "/contracts", body | {"prices": [{"effective": "2026-02-01", "amount": "1"}]}
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "prices[0].effective"
