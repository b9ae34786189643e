"""``/api/v1/satisfaction-responses`` keeps the platform's conventions: problems naming the
field, idempotent creates, keyset pages, unknown query parameters refused, summaries with
decimal-string scores, and the role table."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from crmledger.core.access import Role
from tests.api.conftest import Api
from tests.api.examples.parties import organisation

URL = "/api/v1/satisfaction-responses"
PROBLEM = "application/problem+json"
_keys = itertools.count(1)


def _body(party: int, kind: str = "nps", score: int = 9, day: str = "2026-05-04") -> dict:
    return {"kind": kind, "score": score, "party_id": party, "answered_on": day}


def _post(api: Api, body: dict[str, Any], role: Role = Role.ADMIN, **headers: str) -> Any:
    return api.client.post(URL, json=body, headers=api.auth(role) | headers)


def _count(api: Api) -> int:
    return len(api.client.get(URL, params={"limit": 500}, headers=api.auth()).json()["items"])


def _fields(answer: Any) -> list[str]:
    assert answer.headers["content-type"] == PROBLEM
    return [e["field"] for e in answer.json()["errors"]]


def test_a_created_response_has_a_location_and_reads_back(api: Api) -> None:
    party = organisation(api)
    body = _body(party) | {"comment": "Quick answer", "order_id": 5}
    created = _post(api, body, Role.SUPPORT)
    assert created.status_code == 201, created.text
    doc = created.json()
    assert created.headers["location"] == f"{URL}/{doc['id']}"
    assert {k: doc[k] for k in body} == body
    assert doc["interaction_id"] is None
    assert doc["invoice_id"] is None
    assert doc["created_by"].startswith("user:")
    read = api.client.get(created.headers["location"], headers=api.auth(Role.VIEWER))
    assert read.status_code == 200
    assert read.json() == doc


@pytest.mark.parametrize(
    ("kind", "score"), [("csat", 0), ("csat", 6), ("csat", 10), ("nps", 11), ("nps", -1)]
)
def test_a_score_off_its_scale_is_a_422_naming_score_and_stores_nothing(
    api: Api, kind: str, score: int
) -> None:
    answer = _post(api, _body(organisation(api), kind, score))
    assert answer.status_code == 422
    assert _fields(answer) == ["score"]
    assert _count(api) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"score": "9"}, "score"),
        ({"score": 9.5}, "score"),
        ({"kind": "ces"}, "kind"),
        ({"answered_on": "04.05.2026"}, "answered_on"),
        ({"comment": "x" * 2001}, "comment"),
        ({"order_id": 0}, "order_id"),
        ({"id": 7}, "id"),
        ({"created_by": "someone"}, "created_by"),
    ],
)
def test_bad_unknown_and_read_only_fields_are_refused_by_name(
    api: Api, change: dict[str, Any], field: str
) -> None:
    answer = _post(api, _body(organisation(api)) | change)
    assert answer.status_code == 422
    assert field in _fields(answer)
    assert _count(api) == 0


def test_an_unknown_party_is_a_404_naming_party_id(api: Api) -> None:
    answer = _post(api, _body(organisation(api) + 1000))
    assert answer.status_code == 404
    assert _fields(answer) == ["party_id"]
    assert _count(api) == 0


def test_a_retried_create_replays_the_first_response_and_stores_one(api: Api) -> None:
    party = organisation(api)
    key = {"Idempotency-Key": f"survey-{next(_keys)}"}
    first = _post(api, _body(party), **key)
    second = _post(api, _body(party), **key)
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    other = _post(api, _body(party, score=3), **key)
    assert other.status_code == 422
    assert other.json()["type"] == "urn:crmledger:problem:idempotency-mismatch"
    assert _count(api) == 1


def test_lists_page_latest_answer_first_and_filter(api: Api) -> None:
    acme, bolt = organisation(api), organisation(api)
    # Acme answers on 03-02 and 01-20, Bolt on 01-10, 03-02 (the same day) and 01-01.
    days = ["2026-01-10", "2026-03-02", "2026-03-02", "2026-01-20", "2026-01-01"]
    for i, day in enumerate(days):
        assert _post(api, _body(acme if i % 2 else bolt, day=day)).status_code == 201
    assert _post(api, _body(acme, "csat", 5, "2026-02-01")).status_code == 201
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = api.client.get(URL, params=params, headers=api.auth()).json()
        seen += [(i["answered_on"], i["id"]) for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen, reverse=True)
    assert len(set(seen)) == 6
    params = {"party_id": acme, "kind": "nps", "from": "2026-02-01", "to": "2026-03-31"}
    only = api.client.get(URL, params=params, headers=api.auth()).json()["items"]
    assert [(i["party_id"], i["answered_on"]) for i in only] == [(acme, "2026-03-02")]


@pytest.mark.parametrize(
    "query",
    [
        "colour=red",
        "date_from=2026-01-01",
        "limit=501",
        "limit=0",
        "kind=ces",
        "from=2026-13-01",
        "cursor=zz",
    ],
)
def test_unknown_or_bad_list_parameters_are_refused(api: Api, query: str) -> None:
    answer = api.client.get(f"{URL}?{query}", headers=api.auth())
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("kind=nps&colour=red", "query.colour"),
        ("by=period", "query.kind"),
        ("kind=nps&by=region", "query.by"),
        ("kind=nps&period=week", "query.period"),
        ("kind=nps&to=yesterday", "query.to"),
    ],
)
def test_summary_parameters_are_checked_by_name(api: Api, query: str, field: str) -> None:
    answer = api.client.get(f"{URL}/summary?{query}", headers=api.auth())
    assert answer.status_code == 422
    assert field in _fields(answer)


def test_the_summary_scores_per_month_as_decimal_strings(api: Api) -> None:
    party = organisation(api)
    for score, day in [(10, "2026-01-03"), (9, "2026-01-09"), (8, "2026-01-20"), (3, "2026-01-31"),
                       (0, "2026-03-01"), (10, "2026-03-02"), (10, "2026-03-03")]:  # fmt: skip
        assert _post(api, _body(party, score=score, day=day)).status_code == 201
    assert _post(api, _body(party, "csat", 2, "2026-03-03")).status_code == 201
    params = {"kind": "nps", "by": "period", "period": "month", "from": "2026-01-01"}
    answer = api.client.get(f"{URL}/summary", params=params, headers=api.auth(Role.AUDITOR))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "kind": "nps",
        "by": "period",
        "period": "month",
        "rows": [
            # 2 promoters - 1 detractor of 4; none in February; 2 - 1 of 3 = 33.33... %.
            {"key": "2026-01", "responses": 4, "score": "25.0", "promoters": 2, "passives": 1,
             "detractors": 1},
            {"key": "2026-02", "responses": 0, "score": None, "promoters": 0, "passives": 0,
             "detractors": 0},
            {"key": "2026-03", "responses": 3, "score": "33.3", "promoters": 2, "passives": 0,
             "detractors": 1},
        ],
    }  # fmt: skip
    csat = api.client.get(f"{URL}/summary?kind=csat&by=segment", headers=api.auth()).json()
    assert csat["rows"] == [
        {
            "key": "",
            "responses": 1,
            "score": "0.0",
            "promoters": None,
            "passives": None,
            "detractors": None,
        }
    ]


def test_roles_follow_the_role_table(api: Api) -> None:
    party = organisation(api)
    for role in (Role.ACCOUNTANT, Role.AUDITOR, Role.VIEWER):
        refused = _post(api, _body(party), role)
        assert refused.status_code == 403
        assert _fields(refused) == ["role"]
        assert api.client.get(f"{URL}/summary?kind=nps", headers=api.auth(role)).status_code == 200
    assert _post(api, _body(party), Role.SALES).status_code == 201
    assert api.client.get(URL).status_code == 401
    assert api.client.get(f"{URL}/999999", headers=api.auth()).status_code == 404
