"""Quote to cash over ``/api/v1``: an invoice is drafted, issued, paid in part and in full;
credit notes, bills, vendor payments and rates; the platform's conventions hold (problems
name the field, 412 on a stale version, creates replay, roles are refused before headers
are read); the PDF is the invoice."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader

from crmledger.core.access import Role
from crmledger.core.crm.parties import Party, PartyKind
from tests.api.conftest import Api

PROBLEM = "application/problem+json"
ISSUED = {"If-Match": '"1"'}


def _party(api: Api, **fields: Any) -> int:
    party = Party(kind=PartyKind.ORGANISATION, display_name="Acme GmbH", **fields)
    return int(api.book.parties.add(party).id or 0)


def _post(api: Api, path: str, body: Any = None, role: Role = Role.ACCOUNTANT, **headers: str):
    return api.client.post(f"/api/v1{path}", json=body, headers=api.auth(role) | headers)


def _get(api: Api, path: str, role: Role = Role.VIEWER, **params: Any) -> Any:
    answer = api.client.get(f"/api/v1{path}", params=params, headers=api.auth(role))
    assert answer.status_code == 200, answer.text
    return answer.json()


def _draft(api: Api, party: int, *prices: str, **fields: Any) -> dict[str, Any]:
    lines = [{"description": f"Consulting {i}", "unit_price": p} for i, p in enumerate(prices)]
    body = {"party_id": party, "currency": "EUR", "lines": lines} | fields
    answer = _post(api, "/invoices", body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _issued(api: Api, party: int, *prices: str) -> dict[str, Any]:
    draft = _draft(api, party, *prices)
    answer = _post(api, f"/invoices/{draft['id']}/issue", None, **ISSUED)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _pay(api: Api, party: int, amount: str, **fields: Any) -> dict[str, Any]:
    body = {"party_id": party, "amount": amount, "currency": "EUR"} | fields
    answer = _post(api, "/payments", body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_an_invoice_is_drafted_issued_and_paid_in_part_then_in_full(api: Api) -> None:
    party = _party(api, payment_terms_days=14)
    draft = _draft(api, party, "100.00")
    assert (draft["status"], draft["number"]) == ("draft", None)
    assert (draft["net"], draft["tax"], draft["gross"]) == ("100.00", "19.00", "119.00")
    assert draft["lines"][0]["account"] == "Income:Sales:Services"
    read = api.client.get(f"/api/v1/invoices/{draft['id']}", headers=api.auth(Role.SALES))
    assert read.headers["etag"] == '"1"'
    assert read.json() == draft
    issued = _post(
        api, f"/invoices/{draft['id']}/issue", None, **{"If-Match": read.headers["etag"]}
    )
    assert issued.status_code == 200, issued.text
    invoice = issued.json()
    assert issued.headers["etag"] == '"2"'
    assert (invoice["number"], invoice["status"]) == ("INV-2026-0001", "issued")
    assert (invoice["issued_on"], invoice["due_on"]) == ("2026-06-30", "2026-07-14")
    assert invoice["open"] == "119.00"
    overdue = _get(api, "/invoices", overdue_on="2026-08-01")["items"]
    assert [i["id"] for i in overdue] == [invoice["id"]]
    assert _get(api, "/invoices", overdue_on="2026-07-14")["items"] == []

    first = _pay(api, party, "50.00")
    assert (first["number"], first["open"]) == ("RC-2026-0001", "0.00")
    invoice = _get(api, f"/invoices/{invoice['id']}")
    assert (invoice["status"], invoice["paid"], invoice["open"]) == (
        "partially_paid",
        "50.00",
        "69.00",
    )
    balance = _get(api, f"/parties/{party}/balance", Role.SUPPORT)
    assert balance["currencies"] == [
        {
            "currency": "EUR",
            "invoiced_open": "69.00",
            "overdue": "0.00",
            "unapplied": "0.00",
            "due": "69.00",
            "bills_open": "0.00",
        }
    ]
    assert (balance["due_base"], balance["paid_invoices"]) == ("69.00", 0)

    _pay(api, party, "69.00", method="cash", paid_on="2026-07-10")
    invoice = _get(api, f"/invoices/{invoice['id']}")
    assert (invoice["status"], invoice["open"], invoice["settled_on"]) == (
        "paid",
        "0.00",
        "2026-07-10",
    )
    balance = _get(api, f"/parties/{party}/balance")
    assert (balance["due_base"], balance["paid_invoices"]) == ("0.00", 1)
    assert balance["average_days_to_pay"] == "10.0"
    paid = _get(api, "/invoices", status="paid", party_id=party)["items"]
    assert [i["id"] for i in paid] == [invoice["id"]]
    assert _get(api, "/invoices", status="issued")["items"] == []
    payments = _get(api, "/payments", party_id=party)["items"]
    assert [p["amount"] for p in payments] == ["69.00", "50.00"]


def test_an_invoice_of_a_confirmed_order_bills_its_lines(api: Api) -> None:
    party = _party(api)
    body = {
        "party_id": party,
        "currency": "EUR",
        "lines": [{"description": "Setup", "unit_price": "90"}],
    }
    order = _post(api, "/orders", body).json()
    draft_order = _post(api, "/invoices", {"order_id": order["id"]})
    assert draft_order.status_code == 409  # a draft order is not invoiced
    assert draft_order.json()["type"] == "urn:crmledger:problem:invalid-transition"
    _post(api, f"/orders/{order['id']}/confirm", None, **{"If-Match": '"1"'})
    answer = _post(api, "/invoices", {"order_id": order["id"]})
    assert answer.status_code == 201, answer.text
    invoice = answer.json()
    assert (invoice["order_id"], invoice["reference"]) == (order["id"], order["number"])
    assert invoice["gross"] == order["gross"] == "107.10"
    assert answer.headers["location"] == f"/api/v1/invoices/{invoice['id']}"
    assert _post(api, "/invoices", {"order_id": 999_999}).status_code == 404


def test_credit_notes_credit_a_line_or_the_whole_invoice(api: Api) -> None:
    party = _party(api)
    invoice = _issued(api, party, "100.00", "20.00")
    body = {"lines": [{"position": 2, "quantity": "1"}], "reason": "not delivered"}
    credited = _post(api, f"/invoices/{invoice['id']}/credit-notes", body, **{"If-Match": '"2"'})
    assert credited.status_code == 201, credited.text
    note = credited.json()
    assert credited.headers["location"] == f"/api/v1/credit-notes/{note['id']}"
    assert (note["number"], note["refers_to"], note["gross"]) == (
        "CN-2026-0001",
        invoice["id"],
        "23.80",
    )
    assert (note["note"], note["open"], note["status"]) == ("not delivered", "0.00", "paid")
    assert _get(api, f"/credit-notes/{note['id']}") == note
    after = _get(api, f"/invoices/{invoice['id']}")
    assert (after["status"], after["credited"], after["open"]) == (
        "partially_paid",
        "23.80",
        "119.00",
    )
    whole = _post(api, f"/invoices/{invoice['id']}/credit-notes", {}, **{"If-Match": '"3"'})
    assert whole.status_code == 201, whole.text
    # "In full" credits what is left: line 1, not line 2 a second time.
    assert [(ln["position"], ln["net"]) for ln in whole.json()["lines"]] == [(1, "100.00")]
    assert (whole.json()["gross"], whole.json()["open"]) == ("119.00", "0.00")
    assert _get(api, f"/invoices/{invoice['id']}")["status"] == "void"
    notes = _get(api, "/credit-notes", party_id=party)["items"]
    assert [n["number"] for n in notes] == ["CN-2026-0002", "CN-2026-0001"]
    assert _get(api, f"/parties/{party}/balance")["currencies"] == []  # no credit left over
    # A credit note is not an invoice, and an invoice is not a credit note.
    assert api.client.get(f"/api/v1/invoices/{note['id']}", headers=api.auth()).status_code == 404
    assert (
        api.client.get(f"/api/v1/credit-notes/{invoice['id']}", headers=api.auth()).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([{"position": 1, "quantity": "2"}], "lines[1].quantity"),
        ([{"position": 3, "quantity": "1"}], "lines[3]"),
        ([{"position": 1, "quantity": "1"}, {"position": 1, "quantity": "1"}], "lines[1].position"),
        ([], "lines"),
    ],
)
def test_a_bad_credit_is_refused_naming_the_field(api: Api, lines: list, field: str) -> None:
    invoice = _issued(api, _party(api), "100.00")
    body = {"lines": lines}
    answer = _post(api, f"/invoices/{invoice['id']}/credit-notes", body, **{"If-Match": '"2"'})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == field
    assert _get(api, "/credit-notes")["items"] == []


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"description": "Zero", "unit_price": "10", "quantity": "0"}, "lines[0].quantity"),
        ({"description": "Float", "unit_price": 10.5}, "lines.0.unit_price"),
        ({"description": "Cents", "unit_price": "10.555"}, "lines[0].unit_price"),
        ({"description": "x", "unit_price": "1", "account": "Expenses:Office"}, "lines.0.account"),
        (
            {"description": "x", "unit_price": "1", "tax_category": "luxury"},
            "lines[0].tax_category",
        ),
    ],
)
def test_a_bad_line_is_refused_naming_its_field(api: Api, line: dict, field: str) -> None:
    body = {"party_id": _party(api), "currency": "EUR", "lines": [line]}
    answer = _post(api, "/invoices", body)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM
    # A schema error names the body's variant too (``InvoiceCreate.lines.0.unit_price``).
    fields = [e["field"].removeprefix("InvoiceCreate.") for e in answer.json()["errors"]]
    assert field in fields
    assert _get(api, "/invoices")["items"] == []


def test_the_credit_limit_refuses_unless_an_admin_overrides_it(api: Api) -> None:
    party = _party(api, credit_limit=Decimal("100.00"), currency="EUR")
    draft = _draft(api, party, "100.00")  # 119.00 gross
    url = f"/invoices/{draft['id']}/issue"
    refused = _post(api, url, None, **ISSUED)
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["type"] == "urn:crmledger:problem:conflict"
    assert problem["errors"][0]["field"] == "party_id"
    assert "19.00 EUR" in problem["detail"]
    assert _get(api, f"/invoices/{draft['id']}")["status"] == "draft"
    done = _post(api, url, {"override_credit_limit": True}, Role.ADMIN, **ISSUED)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "issued"
    overrides = api.book.audit.log(filters={"action": "credit_limit.override"})
    assert [r.role for r in overrides] == ["admin"]


def test_issuing_needs_the_current_version_and_the_right_role(api: Api) -> None:
    draft = _draft(api, _party(api), "10.00")
    url = f"/invoices/{draft['id']}/issue"
    assert _post(api, url, None, Role.SALES, **ISSUED).status_code == 403
    assert _post(api, url, None, Role.SALES).status_code == 403  # refused before If-Match
    assert _post(api, url, None).status_code == 428
    stale = _post(api, url, None, **{"If-Match": '"7"'})
    assert stale.status_code == 412
    assert stale.json()["type"] == "urn:crmledger:problem:stale-version"
    assert _post(api, url, None, **ISSUED).status_code == 200
    again = _post(api, url, None, **ISSUED)
    assert again.status_code == 412  # a retried issue does not issue twice
    credit = _post(api, f"/invoices/{draft['id']}/credit-notes", {}, **ISSUED)
    assert credit.status_code == 412


def test_a_retried_payment_is_recorded_once(api: Api) -> None:
    party = _party(api)
    invoice = _issued(api, party, "100.00")
    body = {"party_id": party, "amount": "119.00", "currency": "EUR", "reference": "TX-1"}
    first = _post(api, "/payments", body, **{"Idempotency-Key": "bank-tx-1"})
    second = _post(api, "/payments", body, **{"Idempotency-Key": "bank-tx-1"})
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    assert len(_get(api, "/payments")["items"]) == 1
    assert _get(api, f"/invoices/{invoice['id']}")["status"] == "paid"
    assert _get(api, f"/parties/{party}/balance")["due_base"] == "0.00"


def test_payments_allocate_as_told_or_keep_the_credit(api: Api) -> None:
    party = _party(api)
    old = _issued(api, party, "100.00")
    new = _issued(api, party, "50.00")
    kept = _pay(api, party, "80.00", allocations=[])
    assert kept["open"] == "80.00"
    assert _get(api, f"/invoices/{old['id']}")["status"] == "issued"
    bad = _post(
        api,
        f"/payments/{kept['id']}/allocate",
        {"allocations": [{"invoice_id": new["id"], "amount": "60.00"}]},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "allocations[0].amount"
    chosen = {"allocations": [{"invoice_id": new["id"], "amount": "59.50"}]}
    done = _post(api, f"/payments/{kept['id']}/allocate", chosen)
    assert done.status_code == 200, done.text
    assert (done.json()["open"], done.headers["etag"]) == ("20.50", '"2"')
    assert _get(api, f"/invoices/{new['id']}")["status"] == "paid"
    rest = _post(api, f"/payments/{kept['id']}/allocate", {})
    assert rest.json()["open"] == "0.00"
    assert _get(api, f"/invoices/{old['id']}")["open"] == "98.50"
    read = api.client.get(f"/api/v1/payments/{kept['id']}", headers=api.auth(Role.AUDITOR))
    assert read.json() == rest.json()
    refused = _post(api, f"/payments/{kept['id']}/allocate", {}, Role.SALES)
    assert refused.status_code == 403


def test_a_bill_is_issued_and_settled_by_a_vendor_payment(api: Api) -> None:
    vendor = _party(api)
    body = {
        "party_id": vendor,
        "currency": "EUR",
        "reference": "V-1182",
        "lines": [{"description": "Paper", "unit_price": "40.00", "account": "Expenses:Office"}],
    }
    created = _post(api, "/bills", body)
    assert created.status_code == 201, created.text
    bill = created.json()
    assert (bill["kind"], bill["gross"], bill["reference"]) == ("bill", "47.60", "V-1182")
    assert api.client.get(f"/api/v1/invoices/{bill['id']}", headers=api.auth()).status_code == 404
    wrong = _post(api, f"/invoices/{bill['id']}/issue", None, **ISSUED)
    assert wrong.status_code == 404
    issued = _post(api, f"/bills/{bill['id']}/issue", None, **ISSUED)
    assert issued.status_code == 200, issued.text
    assert issued.json()["number"] == "BILL-2026-0001"
    assert _get(api, f"/parties/{vendor}/balance")["currencies"][0]["bills_open"] == "47.60"
    paid = _pay(api, vendor, "47.60", kind="vendor_payment")
    assert paid["number"] == "PY-2026-0001"
    assert _get(api, f"/bills/{bill['id']}")["status"] == "paid"
    assert [b["id"] for b in _get(api, "/bills", status="paid")["items"]] == [bill["id"]]
    expense = {"description": "Fuel", "unit_price": "1", "account": "Income:Sales:Services"}
    assert _post(api, "/bills", body | {"lines": [expense]}).status_code == 422


def test_rates_are_entered_listed_and_used(api: Api) -> None:
    for currency, day, rate in [
        ("USD", "2026-06-01", "0.92"),
        ("GBP", "2026-06-01", "1.17"),
        ("CHF", "2026-06-01", "1.04"),
        ("USD", "2026-05-01", "0.90"),
    ]:
        body = {"currency": currency, "day": day, "rate": rate}
        answer = _post(api, "/exchange-rates", body)
        assert answer.status_code == 201, answer.text
        assert answer.json() == body | {"rate": rate.rstrip("0"), "base": "EUR"}
    seen, cursor = [], None
    while True:
        page = _get(api, "/exchange-rates", limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [(r["currency"], r["day"]) for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [
        ("CHF", "2026-06-01"),
        ("GBP", "2026-06-01"),
        ("USD", "2026-06-01"),
        ("USD", "2026-05-01"),
    ]
    usd = _get(api, "/exchange-rates", currency="USD")["items"]
    assert [r["rate"] for r in usd] == ["0.92", "0.9"]
    base = _post(api, "/exchange-rates", {"currency": "EUR", "day": "2026-06-01", "rate": "1"})
    assert base.status_code == 422
    assert base.json()["errors"][0]["field"] == "currency"

    invoice = _issued_in(api, "USD", "100.00")
    assert (invoice["rate"], invoice["open_base"]) == ("0.92", "109.48")

    rate = {"category": "reduced", "valid_from": "2026-07-01", "rate": "0.05", "per": "line"}
    assert _post(api, "/tax-rates", rate).status_code == 201
    assert _post(api, "/tax-rates", rate, Role.SALES).status_code == 403
    rates = _get(api, "/tax-rates", limit=500)["items"]
    assert rate in rates


def _issued_in(api: Api, currency: str, price: str) -> dict[str, Any]:
    body = {
        "party_id": _party(api),
        "currency": currency,
        "lines": [{"description": "Consulting", "unit_price": price}],
    }
    draft = _post(api, "/invoices", body).json()
    answer = _post(api, f"/invoices/{draft['id']}/issue", None, **ISSUED)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


@pytest.mark.parametrize("fmt", ["pdf", "facturx"])
def test_the_pdf_is_the_invoice(api: Api, fmt: str) -> None:
    invoice = _issued(api, _party(api), "100.00")
    answer = api.client.get(
        f"/api/v1/invoices/{invoice['id']}/pdf",
        params={"format": fmt},
        headers=api.auth(Role.VIEWER),
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(answer.content))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "INV-2026-0001" in text
    if fmt == "facturx":
        assert "factur-x.xml" in reader.attachments
    unknown = api.client.get(
        f"/api/v1/invoices/{invoice['id']}/pdf", params={"format": "docx"}, headers=api.auth()
    )
    assert unknown.status_code == 422


def _send(
    api: Api, method: str, path: str, body: Any = None, role: Role = Role.ACCOUNTANT, **headers: str
):
    return api.client.request(method, f"/api/v1{path}", json=body, headers=api.auth(role) | headers)


def test_a_draft_is_changed_and_deleted_at_its_version_and_an_issued_one_is_not(api: Api) -> None:
    party = _party(api)
    draft = _draft(api, party, "100.00")
    assert (draft["prices_include_tax"], draft["issued_at"]) == (False, None)
    url = f"/invoices/{draft['id']}"
    change = {"prices_include_tax": True, "due_on": "2026-07-31", "reference": "PO-7"}
    assert _send(api, "PATCH", url, change, Role.SALES, **ISSUED).status_code == 403
    assert _send(api, "PATCH", url, change).status_code == 428
    changed = _send(api, "PATCH", url, change, **ISSUED)
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    body = changed.json()
    # 100.00 now includes 19 %: 100 * 0.19 / 1.19 = 15.966… → 15.97
    assert (body["net"], body["tax"], body["gross"]) == ("84.03", "15.97", "100.00")
    assert (body["prices_include_tax"], body["due_on"], body["reference"]) == (
        True,
        "2026-07-31",
        "PO-7",
    )
    stale = _send(api, "PATCH", url, {"note": "late"}, **ISSUED)
    assert stale.status_code == 412
    assert stale.json()["type"] == "urn:crmledger:problem:stale-version"
    cleared = _send(api, "PATCH", url, {"issued_on": None}, **{"If-Match": '"2"'})
    assert cleared.status_code == 422
    assert cleared.json()["errors"][0]["field"] == "issued_on"
    lines = {"lines": [{"description": "Setup", "unit_price": "59.50"}], "due_on": None}
    relined = _send(api, "PATCH", url, lines, **{"If-Match": '"2"'})
    assert relined.status_code == 200, relined.text
    assert [(ln["net"], ln["tax"]) for ln in relined.json()["lines"]] == [("50.00", "9.50")]
    assert relined.json()["due_on"] is None
    assert _send(api, "DELETE", url, None, **ISSUED).status_code == 412
    issued = _post(api, f"{url}/issue", None, **{"If-Match": '"3"'})
    assert issued.status_code == 200, issued.text
    assert (issued.json()["number"], issued.json()["gross"]) == ("INV-2026-0001", "59.50")
    assert issued.json()["issued_at"] is not None
    refused = _send(api, "PATCH", url, {"note": "late"}, **{"If-Match": '"4"'})
    assert refused.status_code == 409
    assert refused.json()["type"] == "urn:crmledger:problem:invalid-transition"
    kept = _send(api, "DELETE", url, None, **{"If-Match": '"4"'})
    assert kept.status_code == 409
    assert "INV-2026-0001 is issued" in kept.json()["detail"]
    assert _get(api, url)["status"] == "issued"

    doomed = _draft(api, party, "10.00")
    gone = _send(api, "DELETE", f"/invoices/{doomed['id']}", None, **ISSUED)
    assert gone.status_code == 204
    assert api.client.get(f"/api/v1/invoices/{doomed['id']}", headers=api.auth()).status_code == 404
    assert _issued(api, party, "10.00")["number"] == "INV-2026-0002"  # no gap


def test_a_draft_bill_is_changed_and_deleted_under_bills_only(api: Api) -> None:
    vendor = _party(api)
    paper = {"description": "Paper", "unit_price": "40.00", "account": "Expenses:Office"}
    body = {"party_id": vendor, "currency": "EUR", "lines": [paper], "prices_include_tax": True}
    created = _post(api, "/bills", body)
    assert created.status_code == 201, created.text
    bill = created.json()
    assert (bill["gross"], bill["tax"], bill["prices_include_tax"]) == ("40.00", "6.39", True)
    url = f"/bills/{bill['id']}"
    assert (
        _send(api, "PATCH", f"/invoices/{bill['id']}", {"note": "x"}, **ISSUED).status_code == 404
    )
    toner = {"description": "Toner", "unit_price": "80.00", "account": "Expenses:Office"}
    changed = _send(
        api, "PATCH", url, {"lines": [paper, toner], "prices_include_tax": False}, **ISSUED
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["gross"] == "142.80"
    assert (
        _send(api, "DELETE", f"/invoices/{bill['id']}", None, **{"If-Match": '"2"'}).status_code
        == 404
    )
    assert _send(api, "DELETE", url, None, **{"If-Match": '"2"'}).status_code == 204
    assert _get(api, "/bills")["items"] == []


def test_an_order_shows_its_price_basis_and_becomes_paid(api: Api) -> None:
    party = _party(api)
    body = {
        "party_id": party,
        "currency": "EUR",
        "lines": [{"description": "Shirt", "unit_price": "11.90", "quantity": "2"}],
        "prices_include_tax": True,
    }
    created = _post(api, "/orders", body)
    assert created.status_code == 201, created.text
    order = created.json()
    assert (order["prices_include_tax"], order["gross"], order["tax"]) == (True, "23.80", "3.80")
    confirmed = _post(api, f"/orders/{order['id']}/confirm", None, **ISSUED)
    assert confirmed.status_code == 200, confirmed.text
    invoice = _post(api, "/invoices", {"order_id": order["id"]})
    assert invoice.status_code == 201, invoice.text
    assert (invoice.json()["prices_include_tax"], invoice.json()["gross"]) == (True, "23.80")
    issued = _post(api, f"/invoices/{invoice.json()['id']}/issue", None, **ISSUED)
    assert issued.status_code == 200, issued.text
    _pay(api, party, "23.80")
    paid = _get(api, f"/orders/{order['id']}")
    assert paid["status"] == "paid"
    assert [o["id"] for o in _get(api, "/orders", status="paid")["items"]] == [order["id"]]
    quote = _post(api, "/quotes", {k: body[k] for k in ("party_id", "currency", "lines")})
    assert quote.status_code == 201, quote.text
    assert (quote.json()["prices_include_tax"], quote.json()["gross"]) == (False, "28.32")
    gross = _send(
        api, "PATCH", f"/quotes/{quote.json()['id']}", {"prices_include_tax": True}, **ISSUED
    )
    assert gross.status_code == 200, gross.text
    assert (gross.json()["prices_include_tax"], gross.json()["gross"]) == (True, "23.80")
