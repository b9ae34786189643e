"""The aging report and party statements over ``/api/v1`` on SQLite and PostgreSQL, on the
worked book of :mod:`tests.db.test_aging_report`: JSON figures as decimal strings, the
open documents of a party, downloads by ``format`` or ``Accept``, the statement as PDF by
default and as JSON when asked, problems naming the field, and roles refused."""

from __future__ import annotations

import csv
import io

from httpx import Response
from openpyxl import load_workbook
from pypdf import PdfReader

from crmledger.core.access import Role
from tests.api.conftest import Api
from tests.db.test_aging_report import Book, worked_book

PROBLEM = "application/problem+json"
DAY = {"as_of": "2026-06-30"}


def _get(
    api: Api,
    path: str,
    role: Role = Role.ACCOUNTANT,
    params: dict[str, object] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return api.client.get(f"/api/v1{path}", params=params, headers=api.auth(role) | (headers or {}))


def test_the_aging_as_json_reconciles_with_the_control_account(api: Api) -> None:
    book: Book = worked_book(api.book)
    answer = _get(api, "/reports/aging", params=DAY)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["kind"], body["as_of"], body["currency"]) == ("receivable", "2026-06-30", "EUR")
    assert [b["label"] for b in body["buckets"]] == ["Current", "1-30", "31-60", "61-90", "Over 90"]
    assert body["buckets"][1] == {"label": "1-30", "from_days": 1, "to_days": 30}
    rows = {p["name"]: p for p in body["parties"]}
    assert rows["Acme GmbH"] == {
        "party_id": book.acme,
        "name": "Acme GmbH",
        "buckets": ["0.00", "238.00", "0.00", "0.00", "0.00"],
        "unapplied_credit": "-50.00",
        "total": "188.00",
        "documents": None,
    }
    assert body["totals"] == ["0.00", "291.55", "0.00", "0.00", "0.00"]
    assert (body["unapplied_credit"], body["total"]) == ("-80.00", "211.55")
    assert (body["control_account"], body["control_balance"], body["difference"]) == (
        "Assets:Receivables:Customers",
        "211.55",
        "0.00",
    )
    payable = _get(api, "/reports/aging", params=DAY | {"kind": "payable", "buckets": "0,15,45"})
    assert payable.json()["totals"] == ["0.00", "0.00", "100.00", "0.00"]
    assert payable.json()["total"] == "60.00"


def test_a_party_comes_with_its_open_documents(api: Api) -> None:
    book = worked_book(api.book)
    body = _get(api, "/reports/aging", params=DAY | {"party_id": book.globex}).json()
    (party,) = body["parties"]
    (document,) = party["documents"]
    assert document == {
        "source": "document",
        "id": document["id"],
        "kind": "invoice",
        "number": "INV-2026-0003",
        "date": "2026-05-01",
        "due_on": "2026-05-31",
        "days_overdue": 30,
        "currency": "USD",
        "open": "59.50",
        "base": "53.55",
        "bucket": 1,
    }
    every = _get(api, "/reports/aging", params=DAY | {"details": "true"}).json()
    numbers = sorted(d["number"] for p in every["parties"] for d in p["documents"])
    assert numbers == ["CN-2026-0001", "INV-2026-0002", "INV-2026-0003", "RC-2026-0003"]


def test_the_aging_downloads_by_format_or_accept(api: Api) -> None:
    worked_book(api.book)
    answer = _get(api, "/reports/aging", params=DAY | {"format": "csv"})
    assert answer.headers["content-type"].startswith("text/csv")
    assert 'filename="receivable-aging-2026-06-30.csv"' in answer.headers["content-disposition"]
    read = list(csv.reader(io.StringIO(answer.text)))
    assert read[-1] == ["Total", "0.00", "291.55", "0.00", "0.00", "0.00", "-80.00", "211.55"]
    xlsx_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = _get(api, "/reports/aging", params=DAY, headers={"Accept": xlsx_type})
    assert sheet.headers["content-type"] == xlsx_type
    loaded = load_workbook(io.BytesIO(sheet.content)).active
    assert loaded is not None
    assert loaded["A1"].value == "Receivables aging (EUR)"
    pdf = _get(api, "/reports/aging", params=DAY | {"format": "pdf", "details": "true"})
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "INV-2026-0003" in text


def test_bad_aging_parameters_are_problems_naming_the_field(api: Api) -> None:
    worked_book(api.book)
    for params, field in (
        ({"buckets": "60,30"}, "buckets"),
        ({"buckets": "thirty"}, "query.buckets"),
        ({"kind": "loans"}, "query.kind"),
        ({"colour": "red"}, "query.colour"),
        ({"as_of": "2026-13-01"}, "query.as_of"),
    ):
        answer = _get(api, "/reports/aging", params=params)
        assert answer.status_code == 422, params
        assert answer.headers["content-type"] == PROBLEM
        assert field in [e["field"] for e in answer.json()["errors"]], answer.text
    assert _get(api, "/reports/aging", params={"party_id": 9999}).status_code == 404
    assert _get(api, "/reports/aging", Role.SALES).status_code == 403
    assert _get(api, "/reports/aging", Role.VIEWER).status_code == 200


def test_a_statement_is_a_pdf_unless_json_is_asked_for(api: Api) -> None:
    book = worked_book(api.book)
    period = {"from": "2026-04-01", "to": "2026-06-30"}
    path = f"/parties/{book.acme}/statement"
    pdf = _get(api, path, Role.SALES, params=period)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Kontoauszug" in text
    assert "INV-2026-0002" in text
    found = _get(api, path, params=period, headers={"Accept": "application/json"}).json()
    assert found == _get(api, path, params=period | {"format": "json"}).json()
    assert (found["kind"], found["name"], found["from"], found["to"], found["language"]) == (
        "customer",
        "Acme GmbH",
        "2026-04-01",
        "2026-06-30",
        "de",
    )
    (section,) = found["sections"]
    assert (section["currency"], section["opening"], section["closing"]) == (
        "EUR",
        "119.00",
        "188.00",
    )
    assert [(x["number"], x["amount"], x["balance"]) for x in section["lines"]] == [
        ("INV-2026-0002", "238.00", "357.00"),
        ("RC-2026-0001", "-50.00", "307.00"),
        ("CN-2026-0001", "-119.00", "188.00"),
    ]
    assert section["aging"][1] == {"label": "1-30", "amount": "238.00"}
    assert section["unapplied_credit"] == "-50.00"
    vendor = _get(
        api, f"/parties/{book.vendor}/statement", params={"format": "json", "to": "2026-06-30"}
    ).json()
    assert (vendor["kind"], vendor["sections"][0]["closing"]) == ("vendor", "100.00")


def test_bad_statement_requests_are_problems(api: Api) -> None:
    book = worked_book(api.book)
    path = f"/parties/{book.acme}/statement"
    backwards = _get(api, path, params={"from": "2026-06-30", "to": "2026-01-01"})
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "to"
    assert _get(api, path, params={"kind": "lender"}).status_code == 422
    assert _get(api, "/parties/9999/statement").status_code == 404
