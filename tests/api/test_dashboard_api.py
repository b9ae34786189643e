"""The dashboard over ``/api/v1``: the key figures and series of the book of
``tests.db.test_dashboard`` as decimal strings, the service's figures exactly; the period
and comparison chosen by query; bad periods refused naming the field; roles without
``reports:read`` refused."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from crmledger.core.access import Role
from tests.api.conftest import Api
from tests.db.test_dashboard import build

PROBLEM = "application/problem+json"


@pytest.fixture
def parties(api: Api) -> list[int]:
    return build(api.book)


def _get(api: Api, params: dict[str, Any] | None = None, role: Role = Role.VIEWER) -> Any:
    return api.client.get("/api/v1/dashboard", params=params, headers=api.auth(role))


def test_the_dashboard_is_the_services_figures_as_text(api: Api, parties: list[int]) -> None:
    answer = _get(api)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    board = api.book.dashboard.dashboard()
    assert body["period"] == {"start": "2026-01-01", "end": "2026-06-30"}
    assert body["comparison"] == {"start": "2025-01-01", "end": "2025-06-30"}
    assert body["currency"] == "EUR"
    kpis = {k["key"]: k for k in body["kpis"]}
    assert list(kpis) == [
        "revenue",
        "gross_margin",
        "cash",
        "receivables",
        "overdue",
        "dso",
        "pipeline",
        "nps",
    ]
    for kpi in board.kpis:
        shown = kpis[kpi.key]
        assert shown["value"] == (None if kpi.value is None else format(kpi.value, "f"))
        assert shown["previous"] == (None if kpi.previous is None else format(kpi.previous, "f"))
    assert kpis["revenue"]["value"] == "10980.00"
    assert kpis["revenue"]["change"] == format(board.kpi("revenue").change, "f")
    assert kpis["overdue"]["previous"] is None
    assert kpis["overdue"]["change"] is None
    assert kpis["dso"]["unit"] == "days"
    assert kpis["nps"]["unit"] == "score"
    assert kpis["nps"]["value"] == "0.0"
    assert [m["revenue"] for m in body["months"]] == [format(m.revenue, "f") for m in board.months]
    assert [b["amount"] for b in body["aging"]] == [format(b.amount, "f") for b in board.aging]
    assert body["aging"][0] == {
        "label": "Not yet due",
        "low": None,
        "high": None,
        "documents": board.aging[0].documents,
        "amount": format(board.aging[0].amount, "f"),
    }
    assert [s["stage"] for s in body["pipeline"]] == [
        "lead",
        "qualified",
        "proposal",
        "negotiation",
    ]
    assert [n["score"] for n in body["nps"]] == ["0.0", None, "50.0", None, None, "-100.0"]
    top = body["top_customers"][0]
    assert top == {
        "party_id": parties[11],
        "name": "Customer L",
        "revenue": "3900.00",
        "cost_of_goods": "0.00",
        "gross_margin": "3900.00",
    }
    assert len(body["top_customers"]) == 10
    steps = [(s["key"], s["total"]) for s in body["cash_flow"]]
    assert steps[0] == ("cash_opening", True)
    assert steps[-1] == ("cash_closing", True)
    assert body["cash_flow"][-1]["amount"] == kpis["cash"]["value"]
    assert body["notes"] == ["Open deals in GBP have no exchange rate to EUR and are left out."]


def test_a_period_and_comparison_are_chosen_by_query(api: Api, parties: list[int]) -> None:
    query = {"from": "2026-04-01", "to": "2026-06-30", "compare": "previous"}
    body = _get(api, query).json()
    assert body["comparison"] == {"start": "2026-01-01", "end": "2026-03-31"}
    assert [m["month"] for m in body["months"]] == ["2026-04", "2026-05", "2026-06"]
    board = api.book.dashboard.dashboard(date(2026, 4, 1), date(2026, 6, 30), "previous")
    assert body["kpis"][0]["value"] == format(board.kpi("revenue").value, "f")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-06-01", "to": "2026-05-01"}, "to"),
        ({"compare": "forever"}, "compare"),
        ({"from": "yesterday"}, "from"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_periods_are_refused_naming_the_field(
    api: Api, query: dict[str, str], field: str
) -> None:
    answer = _get(api, query)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM
    named = [e["field"] for e in answer.json()["errors"]]
    assert field in named or f"query.{field}" in named, named


def test_roles_without_reports_are_refused(api: Api) -> None:
    for role in (Role.SALES, Role.SUPPORT):
        answer = _get(api, role=role)
        assert answer.status_code == 403, role
        assert answer.headers["content-type"] == PROBLEM
    assert _get(api, role=Role.AUDITOR).status_code == 200
    assert api.client.get("/api/v1/dashboard").status_code == 401
