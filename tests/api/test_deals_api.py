"""Deals and pipelines over REST: the platform's conventions (problem+json naming the field,
ETag / If-Match with 412 and 428, idempotent creates, cursor pagination, unknown fields
refused) and the rules of the room (moves, losing needs a reason, occupied stages stay)."""

from __future__ import annotations

from typing import Any

import pytest

from crmledger.core.access import Role
from tests.api.conftest import Api
from tests.api.examples.deals import stages
from tests.api.examples.parties import organisation

PROBLEM = "application/problem+json"
DEALS = "/api/v1/deals"


def _body(api: Api, **values: Any) -> dict[str, Any]:
    return {
        "party_id": organisation(api),
        "title": "Fleet renewal",
        "amount": "12000.00",
        "currency": "EUR",
    } | values


def _create(api: Api, **values: Any) -> dict[str, Any]:
    answer = api.client.post(DEALS, json=_body(api, **values), headers=api.auth(Role.SALES))
    assert answer.status_code == 201, answer.text
    return answer.json()


def _fields(answer: Any) -> list[str]:
    assert answer.headers["content-type"] == PROBLEM
    return [e["field"] for e in answer.json()["errors"]]


def _move(api: Api, deal: dict[str, Any], stage: str, reason: str = "", role: Role = Role.SALES):
    headers = api.auth(role) | {"If-Match": f'"{deal["version"]}"'}
    body = {"stage": stage} | ({"reason": reason} if reason else {})
    return api.client.post(f"{DEALS}/{deal['id']}/move", json=body, headers=headers)


def test_a_deal_is_created_read_and_moved_to_won(api: Api) -> None:
    created = api.client.post(
        DEALS, json=_body(api, expected_close="2026-09-30"), headers=api.auth(Role.SALES)
    )
    assert created.status_code == 201, created.text
    deal = created.json()
    assert created.headers["location"] == f"{DEALS}/{deal['id']}"
    assert created.headers["etag"] == '"1"'
    assert (deal["stage"], deal["status"], deal["amount"], deal["effective_probability"]) == (
        "lead",
        "open",
        "12000.00",
        "0.10",
    )
    read = api.client.get(created.headers["location"], headers=api.auth(Role.VIEWER))
    assert read.json() == deal
    assert read.headers["etag"] == '"1"'
    won = _move(api, deal, "won")
    assert won.status_code == 200, won.text
    assert won.headers["etag"] == '"2"'
    assert (won.json()["status"], won.json()["won_at"]) == ("won", won.json()["closed_at"])
    history = api.client.get(f"{DEALS}/{deal['id']}/history", headers=api.auth(Role.VIEWER))
    steps = [(s["from_stage"], s["to_stage"]) for s in history.json()["items"]]
    assert steps == [(None, "lead"), ("lead", "won")]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "10.001"}, "amount"),  # more decimals than EUR has
        ({"amount": 10.5}, "amount"),  # money is never a JSON number
        ({"currency": "XYZ"}, "currency"),
        ({"party_id": 2**31 - 1}, "party_id"),
        ({"stage": "won"}, "stage"),
        ({"probability": "1.5"}, "probability"),
        ({"version": 3}, "version"),  # read-only / unknown
        ({"title": ""}, "title"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field_and_writes_nothing(
    api: Api, change: dict[str, Any], field: str
) -> None:
    answer = api.client.post(DEALS, json=_body(api, **change), headers=api.auth())
    assert answer.status_code == 422, answer.text
    assert field in _fields(answer)
    assert api.client.get(DEALS, headers=api.auth()).json()["items"] == []


def test_moves_and_updates_need_the_current_etag(api: Api) -> None:
    deal = _create(api)
    url = f"{DEALS}/{deal['id']}"
    body = {"stage": "qualified"}
    missing = api.client.post(f"{url}/move", json=body, headers=api.auth(Role.SALES))
    assert missing.status_code == 428
    assert missing.headers["content-type"] == PROBLEM
    # A role that may not move deals hears that first, not that it forgot If-Match.
    assert (
        api.client.post(f"{url}/move", json=body, headers=api.auth(Role.VIEWER)).status_code == 403
    )
    stale = api.client.post(
        f"{url}/move", json=body, headers=api.auth(Role.SALES) | {"If-Match": '"7"'}
    )
    assert stale.status_code == 412
    assert stale.json()["type"] == "urn:crmledger:problem:stale-version"
    assert (
        api.client.patch(url, json={"title": "X"}, headers=api.auth(Role.SALES)).status_code == 428
    )
    patched = api.client.patch(
        url,
        json={"title": "Fleet renewal 2027", "amount": "9000.50", "expected_close": "2027-01-31"},
        headers=api.auth(Role.SALES) | {"If-Match": '"1"'},
    )
    assert patched.status_code == 200, patched.text
    assert patched.headers["etag"] == '"2"'
    assert (patched.json()["title"], patched.json()["amount"]) == ("Fleet renewal 2027", "9000.50")
    again = api.client.patch(
        url, json={"title": "Lost update"}, headers=api.auth(Role.SALES) | {"If-Match": '"1"'}
    )
    assert again.status_code == 412
    assert api.client.get(url, headers=api.auth()).json() == patched.json()
    assert (
        api.client.patch(
            url, json={"stage": "won"}, headers=api.auth(Role.SALES) | {"If-Match": '"2"'}
        ).status_code
        == 422
    )


def test_losing_needs_a_reason_and_a_closed_deal_only_reopens(api: Api) -> None:
    deal = _create(api)
    refused = _move(api, deal, "lost")
    assert refused.status_code == 422
    assert _fields(refused) == ["lost_reason"]
    lost = _move(api, deal, "lost", reason="went with a competitor")
    assert lost.status_code == 200
    assert lost.json()["lost_reason"] == "went with a competitor"
    to_won = _move(api, lost.json(), "won")
    assert to_won.status_code == 409
    assert to_won.json()["type"] == "urn:crmledger:problem:invalid-transition"
    history = api.client.get(f"{DEALS}/{deal['id']}/history", headers=api.auth()).json()
    assert [s["reason"] for s in history["items"]] == ["", "went with a competitor"]


def test_a_create_with_an_idempotency_key_is_replayed_not_repeated(api: Api) -> None:
    body = _body(api)
    headers = api.auth(Role.SALES) | {"Idempotency-Key": "deal-17"}
    first = api.client.post(DEALS, json=body, headers=headers)
    second = api.client.post(DEALS, json=body, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    assert len(api.client.get(DEALS, headers=api.auth()).json()["items"]) == 1


def test_lists_page_with_cursors_and_refuse_unknown_parameters(api: Api) -> None:
    party = organisation(api)
    made = [_create(api, party_id=party, title=f"Deal {n}")["id"] for n in range(7)]
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, "sort": "id"} | ({"cursor": cursor} if cursor else {})
        page = api.client.get(DEALS, params=params, headers=api.auth()).json()
        seen += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made
    assert "query.colour" in _fields(
        api.client.get(DEALS, params={"colour": "red"}, headers=api.auth())
    )
    bad = api.client.get(DEALS, params={"cursor": "garbage"}, headers=api.auth())
    assert (bad.status_code, _fields(bad)) == (422, ["cursor"])
    opened = api.client.get(DEALS, params={"status": "open", "party_id": party}, headers=api.auth())
    assert len(opened.json()["items"]) == 7


def test_the_forecast_weighs_open_deals_in_decimal_strings(api: Api) -> None:
    _create(api, stage="proposal", amount="1000.00", expected_close="2026-07-15")
    _create(api, stage="qualified", amount="333.33", expected_close="2026-07-31")
    _create(api, amount="50.00")
    answer = api.client.get(f"{DEALS}/forecast", headers=api.auth(Role.VIEWER))
    assert answer.status_code == 200, answer.text
    assert answer.json()["rows"] == [
        {
            "month": "2026-07",
            "owner_id": None,
            "currency": "EUR",
            "open_amount": "1333.33",
            "weighted_amount": "583.33",
            "deals": 2,
        },
        {
            "month": "none",
            "owner_id": None,
            "currency": "EUR",
            "open_amount": "50.00",
            "weighted_amount": "5.00",
            "deals": 1,
        },
    ]
    ranged = api.client.get(
        f"{DEALS}/forecast", params={"from_month": "2026-08"}, headers=api.auth()
    )
    assert ranged.json()["rows"] == []
    bad = api.client.get(f"{DEALS}/forecast", params={"from_month": "2026-13"}, headers=api.auth())
    assert _fields(bad) == ["query.from_month"]
    backwards = {"from_month": "2026-08", "to_month": "2026-07"}
    bad = api.client.get(f"{DEALS}/forecast", params=backwards, headers=api.auth())
    assert (bad.status_code, _fields(bad)) == (422, ["to_month"])


def test_pipelines_are_created_replaced_and_keep_occupied_stages(api: Api) -> None:
    url = "/api/v1/pipelines"
    body = {"key": "renewals", "name": "Renewals", "stages": stages()}
    created = api.client.post(url, json=body, headers=api.auth())
    assert created.status_code == 201, created.text
    assert (created.headers["location"], created.headers["etag"]) == (f"{url}/renewals", '"1"')
    assert api.client.post(url, json=body, headers=api.auth()).status_code == 409
    assert api.client.post(url, json=body, headers=api.auth(Role.SALES)).status_code == 403
    listed = api.client.get(url, headers=api.auth(Role.VIEWER)).json()
    assert [p["key"] for p in listed["items"]] == ["renewals", "sales"]
    _create(api, pipeline="renewals")
    replace = {"name": "Renewals", "stages": stages()}
    replace["stages"][0] |= {"name": "Due soon", "probability": "0.6"}
    assert api.client.put(f"{url}/renewals", json=replace, headers=api.auth()).status_code == 428
    done = api.client.put(f"{url}/renewals", json=replace, headers=api.auth() | {"If-Match": '"1"'})
    assert done.status_code == 200, done.text
    assert (done.headers["etag"], done.json()["stages"][0]["probability"]) == ('"2"', "0.60")
    occupied = {"name": "Renewals", "stages": [*stages()[1:], dict(stages()[0], key="new")]}
    refused = api.client.put(
        f"{url}/renewals", json=occupied, headers=api.auth() | {"If-Match": '"2"'}
    )
    assert (refused.status_code, _fields(refused)) == (409, ["stages"])
    two_won = {"name": "Bad", "stages": [*stages(), dict(stages()[1], key="won2")]}
    bad = api.client.put(f"{url}/renewals", json=two_won, headers=api.auth() | {"If-Match": '"2"'})
    assert (bad.status_code, _fields(bad)) == (422, ["stages"])
    assert api.client.get(f"{url}/renewals", headers=api.auth()).json() == done.json()
    board = api.client.get(f"{url}/renewals/board", headers=api.auth(Role.VIEWER)).json()
    due = board["columns"][0]
    assert (due["count"], due["totals"]) == (1, [{"currency": "EUR", "amount": "12000.00"}])
    assert api.client.get(f"{url}/nowhere", headers=api.auth()).status_code == 404
