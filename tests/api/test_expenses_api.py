"""Expense claims and recurring bills over ``/api/v1``: a claim is created, its receipt
uploaded and downloaded byte for byte, submitted and approved by finance; errors are
problems naming the field; nobody approves their own claim; roles see what they may."""

from __future__ import annotations

import hashlib
from typing import Any

from crmledger.core.access import Role
from crmledger.core.crm.parties import Party, PartyKind
from tests.api.conftest import Api

PROBLEM = "application/problem+json"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
PDF = b"%PDF-1.7\n% a receipt\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
TAXI = {
    "description": "Taxi to the airport",
    "claimed_on": "2026-06-12",
    "lines": [
        {"account": "Expenses:Travel", "amount": "59.50", "tax_category": "standard"},
        {"account": "Expenses:Office", "amount": "12.00", "description": "Parking"},
    ],
}


def _post(api: Api, path: str, role: Role, body: Any = None, **headers: str) -> Any:
    return api.client.post(f"/api/v1{path}", json=body, headers=api.auth(role) | headers)


def _upload(api: Api, claim: int, role: Role, name: str, content: bytes, kind: str) -> Any:
    return api.client.post(
        f"/api/v1/expenses/{claim}/receipts",
        files={"file": (name, content, kind)},
        headers=api.auth(role),
    )


def _created(api: Api, role: Role = Role.SALES, body: dict[str, Any] = TAXI) -> dict[str, Any]:
    answer = _post(api, "/expenses", role, body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    return dict(answer.json())


def test_a_claim_with_its_receipt_is_submitted_approved_and_reimbursed(api: Api) -> None:
    created = _post(api, "/expenses", Role.SALES, TAXI, **{"Idempotency-Key": "claim-1"})
    assert created.status_code == 201, created.text
    claim = created.json()
    assert created.headers["location"] == f"/api/v1/expenses/{claim['id']}"
    assert created.headers["etag"] == '"1"'
    assert (claim["status"], claim["net"], claim["tax"], claim["gross"]) == (
        "draft",
        "62.00",
        "9.50",
        "71.50",
    )
    again = _post(api, "/expenses", Role.SALES, TAXI, **{"Idempotency-Key": "claim-1"})
    assert again.content == created.content

    uploaded = _upload(api, claim["id"], Role.SALES, "taxi.pdf", PDF, "application/pdf")
    assert uploaded.status_code == 201, uploaded.text
    receipt = uploaded.json()
    assert (receipt["content_type"], receipt["size"]) == ("application/pdf", len(PDF))
    assert receipt["sha256"] == hashlib.sha256(PDF).hexdigest()
    download = api.client.get(uploaded.headers["location"], headers=api.auth(Role.ACCOUNTANT))
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert 'filename="taxi.pdf"' in download.headers["content-disposition"]

    path = f"/expenses/{claim['id']}"
    read = api.client.get(f"/api/v1{path}", headers=api.auth(Role.SALES))
    assert read.headers["etag"] == '"2"'
    assert [r["id"] for r in read.json()["receipts"]] == [receipt["id"]]
    submitted = _post(api, f"{path}/submit", Role.SALES, None, **{"If-Match": '"2"'})
    assert submitted.json()["status"] == "submitted"
    _problem(_post(api, f"{path}/approve", Role.ACCOUNTANT), 428)
    stale = _post(api, f"{path}/approve", Role.ACCOUNTANT, None, **{"If-Match": '"2"'})
    assert _problem(stale, 412)["type"] == "urn:crmledger:problem:stale-version"
    approved = _post(api, f"{path}/approve", Role.ACCOUNTANT, None, **{"If-Match": '"3"'})
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["number"]) == ("posted", "EXP-2026-0001")
    paid = _post(
        api,
        f"{path}/reimburse",
        Role.ACCOUNTANT,
        {"paid_on": "2026-06-30"},
        **{"If-Match": approved.headers["etag"]},
    )
    assert paid.status_code == 200, paid.text
    assert (paid.json()["status"], paid.json()["reimbursed_on"]) == ("reimbursed", "2026-06-30")
    tb = api.client.get("/api/v1/reports/trial-balance", headers=api.auth()).json()
    owed = [r for r in tb["rows"] if r["account"] == "Liabilities:Employees:Reimbursements"]
    assert [r["balance"] for r in owed] in ([], ["0.00"])
    bank = next(r for r in tb["rows"] if r["account"] == "Assets:Bank:Checking")
    assert bank["balance"] == "-71.50"


def test_bad_receipts_are_problems_naming_the_file_and_change_nothing(api: Api) -> None:
    claim = _created(api)
    text = _upload(api, claim["id"], Role.SALES, "notes.txt", b"hello", "text/plain")
    problem = _problem(text, 422)
    assert problem["errors"][0]["field"] == "receipt"
    assert "not a PDF, PNG or JPEG" in problem["errors"][0]["message"]
    lying = _upload(api, claim["id"], Role.SALES, "fake.pdf", b"GIF89a....", "application/pdf")
    assert _problem(lying, 422)["errors"][0]["field"] == "receipt"
    huge = b"%PDF-" + bytes(10 * 1024 * 1024)
    too_big = _upload(api, claim["id"], Role.SALES, "scan.pdf", huge, "application/pdf")
    assert "larger than 10 MB" in _problem(too_big, 422)["detail"]
    far_too_big = _upload(api, claim["id"], Role.SALES, "x.pdf", huge + bytes(100_000), "x/y")
    _problem(far_too_big, 413)
    read = api.client.get(f"/api/v1/expenses/{claim['id']}", headers=api.auth(Role.SALES))
    assert (read.json()["receipts"], read.headers["etag"]) == ([], '"1"')
    no_receipt = _post(
        api, f"/expenses/{claim['id']}/submit", Role.SALES, None, **{"If-Match": '"1"'}
    )
    assert _problem(no_receipt, 422)["errors"][0]["field"] == "receipts"


def test_bad_lines_are_problems_naming_the_field(api: Api) -> None:
    body = TAXI | {"lines": [{"account": "Expenses:Nowhere", "amount": "5.00"}]}
    assert _problem(_post(api, "/expenses", Role.SALES, body), 422)["errors"][0]["field"] == (
        "lines[0].account"
    )
    body = TAXI | {"lines": [{"account": "Expenses:Travel", "amount": "5.001"}]}
    assert _problem(_post(api, "/expenses", Role.SALES, body), 422)["errors"][0]["field"] == (
        "lines[0].amount"
    )
    body = TAXI | {"lines": [{"account": "Income:Other", "amount": "5.00"}]}
    refused = _problem(_post(api, "/expenses", Role.SALES, body), 422)
    assert refused["type"] == "urn:crmledger:problem:invalid-request"
    listed = api.client.get("/api/v1/expenses", headers=api.auth(Role.SALES)).json()
    assert listed["items"] == []


def test_roles_and_the_four_eyes_rule(api: Api) -> None:
    own = _created(api, Role.ACCOUNTANT)
    assert _upload(api, own["id"], Role.ACCOUNTANT, "p.png", PNG, "image/png").status_code == 201
    _post(api, f"/expenses/{own['id']}/submit", Role.ACCOUNTANT, None, **{"If-Match": '"2"'})
    mine = _post(
        api, f"/expenses/{own['id']}/approve", Role.ACCOUNTANT, None, **{"If-Match": '"3"'}
    )
    assert _problem(mine, 403)["type"] == "urn:crmledger:problem:forbidden"
    assert "own expense claim" in mine.json()["detail"]
    by_sales = _post(api, f"/expenses/{own['id']}/approve", Role.SALES, None)
    _problem(by_sales, 403)  # refused before If-Match is looked at
    hidden = api.client.get(f"/api/v1/expenses/{own['id']}", headers=api.auth(Role.SALES))
    _problem(hidden, 404)
    _problem(api.client.get("/api/v1/expenses", headers=api.auth(Role.VIEWER)), 403)
    by_admin = _post(api, f"/expenses/{own['id']}/approve", Role.ADMIN, None, **{"If-Match": '"3"'})
    assert by_admin.json()["status"] == "posted"
    audited = api.client.get("/api/v1/expenses", headers=api.auth(Role.AUDITOR)).json()
    assert [c["id"] for c in audited["items"]] == [own["id"]]


def test_claims_page_with_cursors(api: Api) -> None:
    made = [_created(api)["id"] for _ in range(5)]
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = api.client.get("/api/v1/expenses", params=params, headers=api.auth(Role.SALES))
        seen += [c["id"] for c in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(made, reverse=True)
    drafts = api.client.get(
        "/api/v1/expenses", params={"status": "posted"}, headers=api.auth(Role.SALES)
    )
    assert drafts.json()["items"] == []


def test_recurring_bills_are_scheduled_and_listed(api: Api) -> None:
    party = int(
        api.book.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Rent Co")).id or 0
    )
    body = {
        "party_id": party,
        "frequency": "monthly",
        "starts_on": "2026-04-01",
        "ends_on": "2026-05-31",
        "reference": "Lease",
        "lines": [{"description": "Rent", "unit_price": "1000.00", "account": "Expenses:Rent"}],
    }
    created = _post(api, "/recurring-bills", Role.ACCOUNTANT, body)
    assert created.status_code == 201, created.text
    schedule = created.json()
    assert (schedule["next_on"], schedule["status"], schedule["bills"]) == (
        "2026-04-01",
        "active",
        [],
    )
    _problem(_post(api, "/recurring-bills", Role.SALES, body), 403)
    bad = body | {"lines": [{"description": "Rent", "unit_price": "1", "account": "Expenses:X"}]}
    assert (
        _problem(_post(api, "/recurring-bills", Role.ACCOUNTANT, bad), 422)["errors"][0]["field"]
        == "lines[0].account"
    )
    api.book.recurring_bills.run(api.book.recurring_bills.get(schedule["id"]).ends_on)
    read = api.client.get(created.headers["location"], headers=api.auth(Role.VIEWER)).json()
    assert [b["date"] for b in read["bills"]] == ["2026-04-01", "2026-05-01"]
    assert read["status"] == "ended"
    listed = api.client.get("/api/v1/recurring-bills", headers=api.auth(Role.VIEWER)).json()
    assert [s["id"] for s in listed["items"]] == [schedule["id"]]


def test_a_receipt_named_in_any_language_downloads_under_its_name(api: Api) -> None:
    claim = _created(api)
    sent = _upload(api, claim["id"], Role.SALES, "Beleg Köln/../Taxi “Dom”.png", PNG, "image/png")
    assert sent.status_code == 201, sent.text
    assert sent.json()["name"] == "Taxi “Dom”.png"
    got = api.client.get(sent.headers["location"], headers=api.auth(Role.SALES))
    assert (got.status_code, got.content) == (200, PNG)
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"Taxi _Dom_.png\"; filename*=UTF-8''Taxi%20%E2%80%9CDom%E2%80%9D.png"
    )
