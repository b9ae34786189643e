"""Customer intelligence over ``/api/v1``: the customer 360, profitability, RFM, cohorts
and receivables on the book of ``tests.db.test_intelligence``; figures as decimal strings,
pages by cursor, problems naming the field, roles refused."""

from __future__ import annotations

from typing import Any

import pytest

from crmledger.core.access import Role
from tests.api.conftest import Api
from tests.api.examples.intelligence import customer_with_history
from tests.conftest import FixedClock
from tests.db.test_intelligence import Book, build_book

PROBLEM = "application/problem+json"


@pytest.fixture
def book(api: Api, clock: FixedClock) -> Book:
    return build_book(api.book, clock)


def _get(api: Api, path: str, params: dict[str, Any] | None = None) -> Any:
    answer = api.client.get(f"/api/v1{path}", params=params, headers=api.auth(Role.VIEWER))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_360_carries_every_section_with_its_explanation(api: Api, book: Book) -> None:
    view = _get(api, f"/parties/{book.acme}/360")
    assert view["party"]["display_name"] == "Acme GmbH"
    assert view["balance"]["due_base"] == "238.00"
    assert view["payment"]["average_days"] == "26.0"
    assert view["lifetime"]["revenue"] == "500.00"
    assert view["lifetime"]["gross_margin"] == "260.00"
    assert view["lifetime"]["cost_to_serve"]["financing"] == "4.31"
    assert view["lifetime"]["net"] == "132.69"  # 260.00 - 68.00 - 40.00 - 15.00 - 4.31
    assert [p["nps"] for p in view["satisfaction"]] == ["100.0", "-100.0"]
    assert view["pipeline"] == [{"currency": "EUR", "amount": "12000.00", "weighted": "6000.00"}]
    assert view["open_complaints"][0]["kind"] == "complaint"
    assert view["lifetime_value"]["monthly_margin"] == "43.33"
    assert view["lifetime_value"]["retention_source"] == "default"
    drivers = {d["name"]: d for d in view["churn"]["drivers"]}
    assert drivers["satisfaction"]["contribution"] == "7.5"
    assert view["churn"]["score"] == round(sum(float(d["contribution"]) for d in drivers.values()))
    assert view["rfm"]["segment"]
    assert view["cost_to_serve"]["settings"]["interaction.meeting"] == "60.00"
    service = api.book.intelligence.customer_360(book.acme)
    assert view["churn"]["score"] == service.churn.score
    assert view["rfm"]["code"] == service.rfm.code  # type: ignore[union-attr]


def test_profitability_pages_by_cursor_and_totals_hold(api: Api, book: Book) -> None:
    query = {"by": "customer", "sort": "net", "limit": 2}
    first = _get(api, "/reports/profitability", query)
    assert first["count"] == 3
    assert [i["net"] for i in first["items"]] == sorted(
        (i["net"] for i in first["items"]), key=float
    )
    rest = _get(api, "/reports/profitability", query | {"cursor": first["next_cursor"]})
    assert rest["next_cursor"] is None
    lines = first["items"] + rest["items"]
    assert {line["label"] for line in lines} == {"Acme GmbH", "Beta AG", "Cara Diaz"}
    assert sum(float(line["revenue"]) for line in lines) == pytest.approx(1590.00)
    assert first["totals"]["revenue"] == "1590.00"
    period = {"by": "month", "from": "2026-03-01", "to": "2026-05-31"}
    months = _get(api, "/reports/profitability", period)
    assert [i["key"] for i in months["items"]] == ["2026-05", "2026-03", "2026-04"]  # by revenue
    assert (months["start"], months["end"]) == ("2026-03-01", "2026-05-31")


def test_rfm_cohorts_and_receivables(api: Api, book: Book) -> None:
    rfm = _get(api, "/reports/rfm")
    assert rfm["count"] == 3
    assert len(rfm["segments"]) == 10
    segment = rfm["items"][0]["segment"]
    only = _get(api, "/reports/rfm", {"segment": segment})
    assert {i["segment"] for i in only["items"]} == {segment}
    cohorts = _get(api, "/reports/cohorts", {"from": "2026-02"})
    assert [c["month"] for c in cohorts["cohorts"]] == ["2026-02", "2026-05"]
    assert cohorts["cohorts"][1]["retention"] == ["100.0", "0.0"]
    kpis = _get(api, "/reports/receivables", {"from": "2026-04-01", "to": "2026-06-30", "top": 2})
    assert (kpis["dso"], kpis["cei"], kpis["receivables"]) == ("203.0", "41.6", "1035.10")
    assert [d["name"] for d in kpis["top_debtors"]] == ["Beta AG", "Acme GmbH"]
    assert kpis["concentration"]["herfindahl"] == "5719"


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/reports/profitability", {"by": "colour"}, "by"),
        ("/reports/profitability", {"from": "2026-05-01", "to": "2026-04-01"}, "to"),
        ("/reports/profitability", {"date_from": "2026-05-01"}, "date_from"),
        ("/reports/rfm", {"segment": "Fans"}, "segment"),
        ("/reports/cohorts", {"from": "2026-13"}, "from"),
        ("/reports/receivables", {"top": "0"}, "top"),
        ("/reports/receivables", {"from": "2026-07-01", "to": "2026-06-30"}, "to"),
        ("/reports/rfm", {"cursor": "nonsense"}, "cursor"),
    ],
)
def test_bad_parameters_are_problems_naming_the_field(
    api: Api, book: Book, path: str, params: dict[str, str], field: str
) -> None:
    answer = api.client.get(f"/api/v1{path}", params=params, headers=api.auth())
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert field in [e["field"].split(".")[-1] for e in answer.json()["errors"]]


def test_unknown_party_and_roles(api: Api, book: Book) -> None:
    missing = api.client.get("/api/v1/parties/99999/360", headers=api.auth())
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    for role, status in [(Role.SALES, 403), (Role.SUPPORT, 403), (Role.AUDITOR, 200)]:
        answer = api.client.get(f"/api/v1/parties/{book.acme}/360", headers=api.auth(role))
        assert answer.status_code == status, role
    assert api.client.get("/api/v1/reports/rfm").status_code == 401


def test_a_customer_of_the_examples_has_every_money_section(api: Api) -> None:
    party = customer_with_history(api)
    view = _get(api, f"/parties/{party}/360")
    assert view["balance"]["due_base"] == "69.00"  # 119.00 invoiced, 50.00 paid
    assert view["invoices"][0]["open"] == "69.00"
    assert view["lifetime"]["revenue"] == "100.00"
    assert view["rfm"]["code"] == "111"  # the book's only customer ties every boundary
