"""The statements over the API on SQLite and PostgreSQL: JSON with comparison columns and a
drill-down link on every figure that lists the entries behind it (paged by cursor),
downloads by ``format`` or ``Accept``, the year-end close and reopening, and problems for
bad periods."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from openpyxl import load_workbook
from pypdf import PdfReader

from crmledger.core.access import Role
from tests.api.conftest import Api
from tests.conftest import FixedClock
from tests.helpers import entry, sale

PROBLEM = "application/problem+json"
YEAR = {"from": "2025-01-01", "to": "2025-12-31"}


def _book(api: Api) -> None:
    api.book.ledger.post(
        [
            entry(
                "2025-01-02",
                "Capital",
                ("Assets:Bank:Checking", "5000"),
                ("Equity:Capital", "-5000"),
            ),
            sale("2025-03-05", "1200.00"),
            entry("2025-04-01", "Rent", ("Expenses:Rent", "300"), ("Assets:Bank:Checking", "-300")),
            entry("2025-05-01", "Rent", ("Expenses:Rent", "300"), ("Assets:Bank:Checking", "-300")),
            sale("2026-02-10", "80.00"),
        ]
    )


def get(api: Api, path: str, role: Role = Role.ADMIN, **params: Any) -> Any:
    answer = api.client.get(f"/api/v1{path}", params=params, headers=api.auth(role))
    assert answer.status_code == 200, answer.text
    return answer


def row(statement: dict[str, Any], key: str) -> dict[str, Any]:
    return next(r for r in statement["rows"] if r["key"] == key)


def test_income_statement_with_comparisons_and_drilldown(api: Api) -> None:
    _book(api)
    income = get(api, "/reports/income-statement", compare="previous", **YEAR).json()
    assert income["kind"] == "income_statement"
    assert income["currency"] == "EUR"
    assert income["columns"] == [
        {"label": "2025", "from": "2025-01-01", "to": "2025-12-31"},
        {"label": "2024", "from": "2024-01-01", "to": "2024-12-31"},
    ]
    assert row(income, "net_result")["amounts"] == ["600.00", "0.00"]
    rent = row(income, "operating_expenses:Expenses:Rent")
    assert rent["amounts"] == ["-600.00", "0.00"]
    assert rent["drilldown"]["accounts"] == ["Expenses:Rent"]
    assert rent["drilldown"]["periods"][0] == {"from": "2025-01-01", "to": "2025-12-31"}
    assert row(income, "revenue")["drilldown"] is None  # a heading
    link = rent["drilldown"]["links"][0]
    first = api.client.get(link + "&limit=1", headers=api.auth(Role.VIEWER)).json()
    assert [(p["entry_number"], p["base_amount"]) for p in first["items"]] == [
        ("GJ/2025/3", "300.00")
    ]
    assert first["next_cursor"]
    rest = get(
        api,
        "/reports/drilldown",
        accounts="Expenses:Rent",
        cursor=first["next_cursor"],
        **YEAR,
    ).json()
    assert [p["entry_number"] for p in rest["items"]] == ["GJ/2025/4"]
    assert rest["next_cursor"] is None


def test_balance_sheet_and_cash_flow(api: Api) -> None:
    _book(api)
    sheet = get(api, "/reports/balance-sheet", as_of="2026-06-30", compare="last-year").json()
    assert [c["label"] for c in sheet["columns"]] == ["2026-06-30", "2025-06-30"]
    assert row(sheet, "total_assets")["amounts"] == ["5680.00", "5600.00"]
    assert row(sheet, "total_liabilities_and_equity")["amounts"] == ["5680.00", "5600.00"]
    prior = row(sheet, "prior_results")["drilldown"]
    assert prior["periods"][0] == {"from": None, "to": "2025-12-31"}
    flow = get(api, "/reports/cash-flow", **YEAR).json()
    assert row(flow, "net_change")["amounts"] == ["5600.00"]
    assert row(flow, "financing:Equity:Capital")["amounts"] == ["5000.00"]


def test_downloads_by_format_and_by_accept(api: Api) -> None:
    _book(api)
    answer = get(api, "/reports/income-statement", format="csv", **YEAR)
    assert answer.headers["content-type"].startswith("text/csv")
    assert 'filename="income-statement-2025-12-31.csv"' in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert ["Net result", "600.00"] in rows
    xlsx = api.client.get(
        "/api/v1/reports/balance-sheet",
        params={"as_of": "2025-12-31"},
        headers=api.auth()
        | {"Accept": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    )
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = {r[0].value: r[1].value for r in sheet.iter_rows(min_row=5) if r[0].value}
    assert values["Total assets"] == 5600
    pdf = get(api, "/reports/cash-flow", format="pdf", **YEAR)
    assert pdf.headers["content-type"] == "application/pdf"
    assert "5,600.00" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    tb = get(api, "/reports/trial-balance", as_of="2025-12-31", format="csv")
    assert "Assets:Bank:Checking,EUR,5000.00,600.00,4400.00" in tb.text


def test_close_and_reopen_a_year(api: Api, clock: FixedClock) -> None:
    _book(api)
    before = get(api, "/reports/balance-sheet", as_of="2026-06-30").json()
    viewer = api.client.post("/api/v1/periods/2025/close", headers=api.auth(Role.VIEWER))
    assert viewer.status_code == 403
    closed = api.client.post("/api/v1/periods/2025/close", headers=api.auth(Role.ACCOUNTANT))
    assert closed.status_code == 200, closed.text
    assert closed.json() == {
        "year": 2025,
        "entry_id": closed.json()["entry_id"],
        "entry_number": "CL/2025/1",
        "result": "600.00",
        "currency": "EUR",
        "lock_date": "2025-12-31",
    }
    assert get(api, "/reports/balance-sheet", as_of="2026-06-30").json() == before
    again = api.client.post("/api/v1/periods/2025/close", headers=api.auth())
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    assert again.json()["errors"][0]["field"] == "year"
    not_ended = api.client.post("/api/v1/periods/2026/close", headers=api.auth())
    assert not_ended.status_code == 409
    assert "2026 ends on 2026-12-31" in not_ended.json()["detail"]
    reopened = api.client.post("/api/v1/periods/2025/reopen", headers=api.auth())
    assert reopened.json()["entry_number"] == "CL/2025/2"
    assert reopened.json()["lock_date"] is None
    assert get(api, "/reports/balance-sheet", as_of="2026-06-30").json() == before
    # With 2025 open again, closing 2026 moves both years' results (all that is open).
    clock.current = datetime(2027, 1, 2, tzinfo=UTC)
    later = api.client.post("/api/v1/periods/2026/close", headers=api.auth())
    assert later.json()["result"] == "680.00"


def test_bad_periods_are_problems_naming_the_field(api: Api) -> None:
    backwards = api.client.get(
        "/api/v1/reports/income-statement",
        params={"from": "2025-12-31", "to": "2025-01-01"},
        headers=api.auth(),
    )
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "to"
    compare = api.client.get(
        "/api/v1/reports/cash-flow",
        params={**YEAR, "compare": "2024-02-30..2024-03-31"},
        headers=api.auth(),
    )
    assert compare.status_code == 422
    assert compare.json()["errors"][0]["field"] == "compare"
    malformed = api.client.get(
        "/api/v1/reports/income-statement",
        params={**YEAR, "compare": "yesterday"},
        headers=api.auth(),
    )
    assert malformed.status_code == 422
    assert malformed.json()["type"] == "urn:crmledger:problem:invalid-request"
    unknown = api.client.get(
        "/api/v1/reports/drilldown", params={"accounts": "Assets:Nowhere"}, headers=api.auth()
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["code"] == "UnknownAccountError"
    no_layout = api.client.get(
        "/api/v1/reports/income-statement", params={**YEAR, "layout": "nope"}, headers=api.auth()
    )
    assert no_layout.status_code == 404
    sales = api.client.get(
        "/api/v1/reports/balance-sheet",
        params={"as_of": "2025-12-31"},
        headers=api.auth(Role.SALES),
    )
    assert sales.status_code == 403
