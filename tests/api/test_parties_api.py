"""``/parties`` and ``/contacts`` keep the platform's conventions: problems name the field,
versions guard updates, creates replay, lists page with a cursor."""

from __future__ import annotations

from crmledger.core.access import Role
from tests.api.conftest import Api


def _create(api: Api, body: dict, key: str | None = None) -> dict:
    headers = api.auth(Role.SALES) | ({"Idempotency-Key": key} if key else {})
    answer = api.client.post("/api/v1/parties", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_a_party_is_created_normalised_and_read_back(api: Api) -> None:
    body = {
        "kind": "person",
        "given_name": "Grace",
        "family_name": "Hopper",
        "emails": [{"address": "Grace@Navy.MIL"}],
        "phones": [{"number": "(202) 555-0143", "label": "mobile"}],
        "addresses": [{"country": "United States", "postcode": "20001", "city": "Washington"}],
        "credit_limit": "2500.00",
        "currency": "usd",
    }
    created = _create(api, body)
    assert created["display_name"] == "Grace Hopper"
    assert created["phones"] == [{"number": "+12025550143", "label": "mobile"}]
    assert created["emails"][0]["address"] == "Grace@navy.mil"
    assert created["credit_limit"] == "2500.00"
    answer = api.client.get(f"/api/v1/parties/{created['id']}", headers=api.auth(Role.SUPPORT))
    assert answer.status_code == 200
    assert answer.headers["ETag"] == '"1"'
    assert answer.json() == created


def test_a_bad_value_is_a_problem_naming_the_field_and_nothing_is_stored(api: Api) -> None:
    body = {"kind": "organisation", "display_name": "Acme", "phones": [{"number": "12"}]}
    answer = api.client.post("/api/v1/parties", json=body, headers=api.auth(Role.SALES))
    assert answer.status_code == 422
    problem = answer.json()
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert problem["errors"][0]["field"] == "phones[0].number"
    listed = api.client.get("/api/v1/parties", headers=api.auth())
    assert listed.json()["items"] == []


def test_money_as_a_json_number_and_unknown_fields_are_refused(api: Api) -> None:
    for body in (
        {"kind": "organisation", "display_name": "A", "credit_limit": 10.5, "currency": "EUR"},
        {"kind": "organisation", "display_name": "A", "id": 7},
        {"kind": "organisation", "display_name": "A", "version": 3},
    ):
        answer = api.client.post("/api/v1/parties", json=body, headers=api.auth())
        assert answer.status_code == 422, body


def test_updates_need_the_current_version(api: Api) -> None:
    created = _create(api, {"kind": "organisation", "display_name": "Acme"})
    url = f"/api/v1/parties/{created['id']}"
    body = {"lifecycle": "customer", "tags": ["vip"]}
    missing = api.client.patch(url, json=body, headers=api.auth())
    assert missing.status_code == 428
    done = api.client.patch(url, json=body, headers=api.auth() | {"If-Match": '"1"'})
    assert done.status_code == 200
    assert done.headers["ETag"] == '"2"'
    assert (done.json()["lifecycle"], done.json()["tags"]) == ("customer", ["vip"])
    stale = api.client.patch(url, json={"segment": "x"}, headers=api.auth() | {"If-Match": '"1"'})
    assert stale.status_code == 412
    assert api.client.get(url, headers=api.auth()).json()["segment"] == ""


def test_a_create_with_an_idempotency_key_is_replayed(api: Api) -> None:
    body = {"kind": "organisation", "display_name": "Replay Ltd"}
    first = _create(api, body, key="p-1")
    again = api.client.post(
        "/api/v1/parties", json=body, headers=api.auth(Role.SALES) | {"Idempotency-Key": "p-1"}
    )
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first
    assert len(api.client.get("/api/v1/parties", headers=api.auth()).json()["items"]) == 1


def test_lists_filter_and_page(api: Api) -> None:
    for i in range(5):
        _create(api, {"kind": "organisation", "display_name": f"Org {i}", "segment": "smb"})
    _create(api, {"kind": "person", "given_name": "Solo", "family_name": "Person"})
    seen, cursor = [], None
    while True:
        params = {"limit": 2, "kind": "organisation"} | ({"cursor": cursor} if cursor else {})
        page = api.client.get("/api/v1/parties", params=params, headers=api.auth()).json()
        seen += [p["display_name"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Org {i}" for i in reversed(range(5))]
    bad = api.client.get("/api/v1/parties", params={"colour": "red"}, headers=api.auth())
    assert bad.status_code == 422


def test_contacts_link_a_person_to_an_organisation(api: Api) -> None:
    org = _create(api, {"kind": "organisation", "display_name": "Acme"})
    person = _create(api, {"kind": "person", "given_name": "Ann", "family_name": "Lee"})
    body = {"organisation_id": org["id"], "person_id": person["id"], "role": "Buyer"}
    made = api.client.post("/api/v1/contacts", json=body, headers=api.auth(Role.SALES))
    assert made.status_code == 201
    contact = made.json()
    assert contact["person"]["display_name"] == "Ann Lee"
    twice = api.client.post("/api/v1/contacts", json=body, headers=api.auth(Role.SALES))
    assert twice.status_code == 409
    listed = api.client.get(
        "/api/v1/contacts", params={"organisation_id": org["id"]}, headers=api.auth()
    ).json()
    assert [c["role"] for c in listed["items"]] == ["Buyer"]
    url = f"/api/v1/contacts/{contact['id']}"
    changed = api.client.patch(url, json={"role": "CEO"}, headers=api.auth() | {"If-Match": '"1"'})
    assert changed.json()["role"] == "CEO"
    assert api.client.delete(url, headers=api.auth()).status_code == 204
    assert api.client.get(url, headers=api.auth()).status_code == 404
