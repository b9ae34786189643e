"""``/interactions`` and ``/parties/{id}/timeline`` over HTTP on both databases: the
platform conventions (problems naming the field, ETag / If-Match, idempotent creates,
cursor pages, unknown fields and parameters refused) and the complaint workflow."""

from __future__ import annotations

from typing import Any

import pytest

from crmledger.core.access import Role
from crmledger.core.crm.parties import Contact, Party, PartyKind
from tests.api.conftest import Api

PROBLEM = "application/problem+json"
URL = "/api/v1/interactions"


def organisation(api: Api, name: str = "Acme GmbH") -> int:
    party = api.book.parties.add(Party(kind=PartyKind.ORGANISATION, display_name=name))
    return int(party.id or 0)


def body(party: int, **changes: Any) -> dict[str, Any]:
    return {
        "kind": "complaint",
        "party_id": party,
        "subject": "Parcel arrived broken",
        "body": "The vase is in pieces.",
        "channel": "email",
        "direction": "inbound",
        "occurred_at": "2026-06-30T09:00:00+02:00",
        "priority": "high",
    } | changes


def create(api: Api, party: int, **changes: Any) -> dict[str, Any]:
    answer = api.client.post(URL, json=body(party, **changes), headers=api.auth())
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def listed(api: Api) -> list[dict[str, Any]]:
    return list(api.client.get(URL, headers=api.auth()).json()["items"])


def test_create_answers_the_stored_complaint_with_its_sla_etag_and_location(api: Api) -> None:
    party = organisation(api)
    answer = api.client.post(URL, json=body(party), headers=api.auth())
    assert answer.status_code == 201
    created = answer.json()
    assert answer.headers["etag"] == '"1"'
    assert answer.headers["location"] == f"{URL}/{created['id']}"
    assert created["status"] == "open"
    assert created["occurred_at"] == "2026-06-30T07:00:00Z"
    assert created["sla_first_response_due"] == "2026-06-30T11:00:00Z"  # high: 4 h
    assert created["sla_resolution_due"] == "2026-07-01T07:00:00Z"  # and 24 h
    assert created["sla_next_due"] == created["sla_first_response_due"]
    # The test clock says 12:00 UTC: the first response is an hour late.
    assert created["sla_state"] == "breached"
    read = api.client.get(answer.headers["location"], headers=api.auth())
    assert read.json() == created
    assert read.headers["etag"] == '"1"'


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": 7}, "id"),
        ({"status": "closed"}, "status"),
        ({"version": 3}, "version"),
        ({"kind": "fax"}, "kind"),
        ({"party_id": "7"}, "party_id"),
        ({"subject": "   "}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"occurred_at": "2026-06-30T09:00:00"}, "occurred_at"),  # no offset
        ({"occurred_at": 1782810000}, "occurred_at"),  # no Unix timestamps
        ({"due_at": "next week"}, "due_at"),
        ({"body": "nul \u0000"}, "body"),
    ],
)
def test_malformed_creates_are_refused_naming_the_field(
    api: Api, changes: dict[str, Any], field: str
) -> None:
    answer = api.client.post(URL, json=body(organisation(api), **changes), headers=api.auth())
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert listed(api) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"party_id": 424242}, "party_id"),
        ({"owner_id": 424242}, "owner_id"),
        ({"contact_id": 424242}, "contact_id"),
        ({"due_at": "2026-06-30T06:00:00Z"}, "due_at"),  # before it occurred
        ({"occurred_at": "0001-01-01T00:00:00+23:59"}, "occurred_at"),
        ({"occurred_at": "9999-12-31T23:59:59-23:59"}, "occurred_at"),
    ],
)
def test_creates_breaking_a_rule_are_refused_naming_the_field(
    api: Api, changes: dict[str, Any], field: str
) -> None:
    answer = api.client.post(URL, json=body(organisation(api), **changes), headers=api.auth())
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["type"] == "urn:crmledger:problem:rule-violation"
    assert [e["field"] for e in problem["errors"]] == [field]
    assert listed(api) == []


def test_ids_are_json_integers_and_filters_take_any_time(api: Api) -> None:
    party = organisation(api)
    created = create(api, party, party_id=float(party), deal_id=12.0, due_at="2026-07-01T00:00:00Z")
    assert created["deal_id"] == 12
    for far, found in (("0001-01-01T00:00:00+23:59", []), ("9999-12-31T23:59:59-23:59", [created])):
        answer = api.client.get(URL, params={"due_before": far}, headers=api.auth())
        assert answer.status_code == 200
        assert [i["id"] for i in answer.json()["items"]] == [i["id"] for i in found]
    unknown = api.client.post(URL, json=body(424242), headers=api.auth()).json()
    assert unknown["errors"][0]["code"] == "UnknownReferenceError"


def test_a_retried_create_replays_the_first_response(api: Api) -> None:
    party = organisation(api)
    headers = api.auth() | {"Idempotency-Key": "complaint-17"}
    first = api.client.post(URL, json=body(party), headers=headers)
    second = api.client.post(URL, json=body(party), headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    other = api.client.post(URL, json=body(party, subject="Another"), headers=headers)
    assert other.status_code == 422
    assert other.json()["type"] == "urn:crmledger:problem:idempotency-mismatch"
    assert [i["id"] for i in listed(api)] == [first.json()["id"]]


def test_updates_need_the_current_etag_and_null_keeps_the_subject(api: Api) -> None:
    created = create(api, organisation(api))
    url = f"{URL}/{created['id']}"
    change = {"priority": "urgent", "subject": None, "deal_id": 12}
    missing = api.client.patch(url, json=change, headers=api.auth())
    assert missing.status_code == 428
    assert missing.json()["type"] == "urn:crmledger:problem:precondition-required"
    stale = api.client.patch(url, json=change, headers=api.auth() | {"If-Match": '"0"'})
    assert stale.status_code == 412
    assert stale.json()["type"] == "urn:crmledger:problem:stale-version"
    done = api.client.patch(url, json=change, headers=api.auth() | {"If-Match": '"1"'})
    assert done.status_code == 200
    assert done.headers["etag"] == '"2"'
    updated = done.json()
    assert updated["subject"] == "Parcel arrived broken"
    assert updated["deal_id"] == 12
    assert updated["sla_first_response_due"] == "2026-06-30T08:00:00Z"  # urgent: 1 h
    cleared = api.client.patch(
        url, json={"deal_id": None}, headers=api.auth() | {"If-Match": '"2"'}
    )
    assert cleared.json()["deal_id"] is None
    refused = api.client.patch(
        url, json={"status": "closed"}, headers=api.auth() | {"If-Match": '"3"'}
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["status"]


def test_the_complaint_workflow_through_the_status_endpoint(api: Api) -> None:
    created = create(api, organisation(api))
    url = f"{URL}/{created['id']}/status"

    def move(change: dict[str, Any], version: int) -> Any:
        return api.client.post(url, json=change, headers=api.auth() | {"If-Match": f'"{version}"'})

    missing = api.client.post(url, json={"status": "in_progress"}, headers=api.auth())
    assert missing.status_code == 428
    assert move({"status": "in_progress"}, 9).status_code == 412
    started = move({"status": "in_progress"}, 1)
    assert started.status_code == 200
    assert started.json()["first_response_at"] == "2026-06-30T12:00:00Z"
    no_text = move({"status": "resolved"}, 2)
    assert no_text.status_code == 422
    assert [e["field"] for e in no_text.json()["errors"]] == ["resolution"]
    resolved = move({"status": "resolved", "resolution": "Replacement sent"}, 2)
    assert resolved.status_code == 200
    assert resolved.headers["etag"] == '"3"'
    assert resolved.json()["resolution"] == "Replacement sent"
    backwards = move({"status": "in_progress"}, 3)
    assert backwards.status_code == 409
    assert backwards.json()["type"] == "urn:crmledger:problem:invalid-transition"
    assert move({"status": "lost"}, 3).status_code == 422
    read = api.client.get(f"{URL}/{created['id']}", headers=api.auth()).json()
    assert read["status"] == "resolved"
    assert read["version"] == 3


def test_roles_without_write_are_refused_before_the_headers_are_checked(api: Api) -> None:
    created = create(api, organisation(api))
    url = f"{URL}/{created['id']}/status"
    viewer = api.auth(Role.VIEWER)
    assert api.client.get(f"{URL}/{created['id']}", headers=viewer).status_code == 200
    assert api.client.post(url, json={"status": "closed"}, headers=viewer).status_code == 403
    assert api.client.post(URL, json=body(created["party_id"]), headers=viewer).status_code == 403
    support = api.auth(Role.SUPPORT) | {"If-Match": '"1"'}
    assert api.client.post(url, json={"status": "in_progress"}, headers=support).status_code == 200


def test_lists_page_with_cursors_and_refuse_unknown_parameters(api: Api) -> None:
    party = organisation(api)
    ids = [create(api, party, occurred_at="2026-06-30T09:00:00Z")["id"] for _ in range(5)]
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "party_id": party} | (
            {"cursor": cursor} if cursor else {}
        )
        page = api.client.get(URL, params=params, headers=api.auth()).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids, reverse=True)  # equal times: newest id first
    by_id = api.client.get(URL, params={"sort": "id", "limit": 3}, headers=api.auth()).json()
    assert [i["id"] for i in by_id["items"]] == sorted(ids)[:3]
    more = api.client.get(
        URL, params={"sort": "id", "cursor": by_id["next_cursor"]}, headers=api.auth()
    ).json()
    assert [i["id"] for i in more["items"]] == sorted(ids)[3:]
    for params, field in (
        ({"colour": "red"}, "query.colour"),
        ({"cursor": "nonsense"}, "cursor"),
        ({"limit": 501}, "query.limit"),
        ({"kind": "fax"}, "query.kind"),
        ({"due_before": "tomorrow"}, "query.due_before"),
    ):
        answer = api.client.get(URL, params=params, headers=api.auth())
        assert answer.status_code == 422, params
        assert [e["field"] for e in answer.json()["errors"]] == [field]


def test_the_complaint_queue_orders_by_the_next_sla_due(api: Api) -> None:
    party = organisation(api)
    low = create(api, party, priority="low")["id"]
    urgent = create(api, party, priority="urgent")["id"]
    create(api, party, kind="note", channel="other", direction="internal")
    queue_url = f"{URL}/complaints/queue"
    first = api.client.get(queue_url, params={"limit": 1}, headers=api.auth()).json()
    assert [i["id"] for i in first["items"]] == [urgent]
    assert first["items"][0]["sla_state"] == "breached"
    rest = api.client.get(
        queue_url, params={"limit": 1, "cursor": first["next_cursor"]}, headers=api.auth()
    ).json()
    assert [i["id"] for i in rest["items"]] == [low]
    assert rest["items"][0]["sla_state"] == "on_track"


def test_the_party_timeline_pages_newest_first_with_its_contacts(api: Api) -> None:
    org = organisation(api)
    person = api.book.parties.add(
        Party(kind=PartyKind.PERSON, display_name="", given_name="Ada", family_name="L")
    )
    api.book.parties.add_contact(Contact(org, person.id or 0, "Buyer"))
    same = [create(api, org, occurred_at="2026-06-30T09:00:00Z")["id"] for _ in range(3)]
    theirs = create(api, person.id or 0, kind="call", occurred_at="2026-06-30T10:00:00Z")["id"]
    create(api, organisation(api, "Other"), occurred_at="2026-06-30T11:00:00Z")
    url = f"/api/v1/parties/{org}/timeline"
    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        page = api.client.get(url, params=params, headers=api.auth()).json()
        seen += page["items"]
        if page["next_cursor"] is None:
            break
        params = {"limit": 2, "cursor": page["next_cursor"]}
    assert [i["id"] for i in seen] == [theirs, *sorted(same, reverse=True)]
    assert seen[0] == {
        "type": "interaction",
        "id": theirs,
        "at": "2026-06-30T10:00:00Z",
        "party_id": person.id,
        "kind": "call",
        "subject": "Parcel arrived broken",
        "status": "open",
        "priority": "high",
        "direction": "inbound",
        "channel": "email",
        "sla_state": "none",
    }
    assert api.client.get("/api/v1/parties/424242/timeline", headers=api.auth()).status_code == 404
    bad = api.client.get(url, params={"cursor": "e30"}, headers=api.auth())
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "cursor"


def test_the_timeline_is_linked_and_named_in_the_document(api: Api) -> None:
    spec = api.client.get("/api/v1/openapi.json").json()
    operation = spec["paths"]["/parties/{party_id}/timeline"]["get"]
    assert operation["operationId"] == "partyTimeline"
    create_party = spec["paths"]["/parties"]["post"]["responses"]["201"]["links"]
    assert create_party["partyTimeline"]["operationId"] == "partyTimeline"
    status = spec["paths"]["/interactions/{interaction_id}/status"]["post"]
    assert any(p["name"] == "If-Match" and p["required"] for p in status["parameters"])
