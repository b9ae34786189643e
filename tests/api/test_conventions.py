"""The API conventions every endpoint follows: problems, pagination, idempotency,
optimistic concurrency, input limits, authentication."""

from __future__ import annotations

import pytest

from crmledger.core.access import Role
from tests.api.conftest import PASSWORD, Api, entry_body

PROBLEM = "application/problem+json"


def test_health_needs_no_login_and_status_describes_the_book(api: Api) -> None:
    assert api.client.get("/api/v1/health").json()["status"] == "ok"
    assert api.client.get("/api/v1/status").status_code == 401
    status = api.client.get("/api/v1/status", headers=api.auth()).json()
    assert status["base_currency"] == "EUR"
    assert status["accounts"] == 37


def test_a_posted_entry_is_numbered_chained_and_in_the_trial_balance(api: Api) -> None:
    created = api.client.post("/api/v1/journal-entries", json=entry_body(), headers=api.auth())
    assert created.status_code == 201, created.text
    entry = created.json()
    assert entry["reference_number"] == "GJ/2026/1"
    assert entry["hash"].startswith("$1$")
    assert created.headers["location"] == f"/api/v1/journal-entries/{entry['id']}"
    again = api.client.get(created.headers["location"], headers=api.auth()).json()
    assert again == entry
    tb = api.client.get("/api/v1/reports/trial-balance", headers=api.auth()).json()
    assert tb["balanced"] is True
    cash = next(r for r in tb["rows"] if r["account"] == "Assets:Cash")
    assert cash["balance"] == "10.00"


def test_an_unbalanced_entry_is_a_problem_naming_the_field_and_writes_nothing(api: Api) -> None:
    body = entry_body()
    body["postings"][1]["amount"] = "-9.00"
    answer = api.client.post("/api/v1/journal-entries", json=body, headers=api.auth())
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert problem["type"] == "urn:crmledger:problem:entry-rejected"
    assert problem["errors"][0]["field"] == "amount"
    assert "1.00" in problem["errors"][0]["message"]
    listed = api.client.get("/api/v1/journal-entries", headers=api.auth()).json()
    assert listed["items"] == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": 7}, "id"),
        ({"hash": "$1$00"}, "hash"),
        ({"state": "posted"}, "state"),
        ({"amount": 10.5}, "postings.0.amount"),
    ],
)
def test_unknown_read_only_and_float_fields_are_refused(api: Api, change: dict, field: str) -> None:
    body = entry_body()
    if "amount" in change:
        body["postings"][0]["amount"] = change["amount"]
    else:
        body |= change
    answer = api.client.post("/api/v1/journal-entries", json=body, headers=api.auth())
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM
    assert field in [e["field"] for e in answer.json()["errors"]]


def test_lists_page_with_cursors_and_cap_the_page_size(api: Api) -> None:
    for n in range(7):
        api.book.ledger.post([_sale(n)])
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = api.client.get("/api/v1/journal-entries", params=params, headers=api.auth()).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen, reverse=True)
    assert len(seen) == len(set(seen)) == 7
    too_many = api.client.get("/api/v1/journal-entries?limit=501", headers=api.auth())
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["field"] == "query.limit"
    assert (
        api.client.get("/api/v1/journal-entries?sort=narration", headers=api.auth()).status_code
        == 422
    )
    assert (
        api.client.get("/api/v1/journal-entries?cursor=zz", headers=api.auth()).status_code == 422
    )


def _sale(n: int):
    from tests.helpers import sale

    return sale(f"2026-01-{n + 1:02d}", f"{n + 1}")


def test_a_retried_create_replays_the_first_response_byte_for_byte(api: Api) -> None:
    headers = api.auth() | {"Idempotency-Key": "order-17"}
    first = api.client.post("/api/v1/journal-entries", json=entry_body(), headers=headers)
    second = api.client.post("/api/v1/journal-entries", json=entry_body(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    different = api.client.post(
        "/api/v1/journal-entries", json=entry_body("11.00"), headers=headers
    )
    assert different.status_code == 422
    assert different.json()["type"] == "urn:crmledger:problem:idempotency-mismatch"
    # Keys are per principal: another user's identical key is a new request.
    other = api.auth(Role.ACCOUNTANT) | {"Idempotency-Key": "order-17"}
    assert (
        api.client.post("/api/v1/journal-entries", json=entry_body(), headers=other).status_code
        == 201
    )
    listed = api.client.get("/api/v1/journal-entries", headers=api.auth()).json()["items"]
    assert len(listed) == 2


def test_a_refused_create_is_replayed_too_and_a_server_error_frees_the_key(api: Api) -> None:
    body = entry_body()
    body["postings"][0]["account"] = "Assets:Nowhere"
    headers = api.auth() | {"Idempotency-Key": "bad-1"}
    first = api.client.post("/api/v1/journal-entries", json=body, headers=headers)
    assert first.status_code == 422
    assert (
        api.client.post("/api/v1/journal-entries", json=body, headers=headers).content
        == first.content
    )


def test_updates_need_the_current_etag(api: Api) -> None:
    url = "/api/v1/accounts/Assets:Cash"
    read = api.client.get(url, headers=api.auth())
    assert read.headers["etag"] == '"1"'
    body = {"close_date": "2027-12-31"}
    missing = api.client.patch(url, json=body, headers=api.auth())
    assert missing.status_code == 428
    stale = api.client.patch(url, json=body, headers=api.auth() | {"If-Match": '"0"'})
    assert stale.status_code == 412
    assert stale.json()["type"] == "urn:crmledger:problem:stale-version"
    done = api.client.patch(url, json=body, headers=api.auth() | {"If-Match": read.headers["etag"]})
    assert done.status_code == 200
    assert done.json()["close_date"] == "2027-12-31"
    assert done.headers["etag"] == '"2"'
    again = api.client.patch(
        url, json=body, headers=api.auth() | {"If-Match": read.headers["etag"]}
    )
    assert again.status_code == 412


def test_bodies_over_the_limit_are_refused(api: Api) -> None:
    body = entry_body() | {"narration": "x" * (1024 * 1024 + 10)}
    answer = api.client.post("/api/v1/journal-entries", json=body, headers=api.auth())
    assert answer.status_code == 413
    assert answer.headers["content-type"] == PROBLEM


def test_revoked_tokens_and_disabled_users_are_refused(api: Api) -> None:
    issued = api.book.access.create_token("viewer@example.com", "short")
    header = {"Authorization": f"Bearer {issued.secret}"}
    assert api.client.get("/api/v1/accounts", headers=header).status_code == 200
    api.book.access.revoke_token(issued.id)
    gone = api.client.get("/api/v1/accounts", headers=header)
    assert gone.status_code == 401
    assert gone.headers["www-authenticate"] == "Bearer"
    api.book.access.disable("accountant@example.com")
    assert api.client.get("/api/v1/accounts", headers=api.auth(Role.ACCOUNTANT)).status_code == 401


def test_login_answers_the_same_for_unknown_users_and_throttles_guessing(api: Api) -> None:
    url = "/api/v1/auth/login"
    unknown = api.client.post(url, json={"email": "nobody@example.com", "password": "x"})
    wrong = api.client.post(url, json={"email": "admin@example.com", "password": "x"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    good = api.client.post(url, json={"email": "admin@example.com", "password": PASSWORD})
    assert good.status_code == 200
    token = good.json()["token"]
    assert (
        api.client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    for _ in range(9):
        api.client.post(url, json={"email": "admin@example.com", "password": "x"})
    throttled = api.client.post(url, json={"email": "admin@example.com", "password": PASSWORD})
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0


def test_responses_carry_security_headers(api: Api) -> None:
    answer = api.client.get("/api/v1/health")
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert "strict-transport-security" in answer.headers
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-request-id"]


def test_the_openapi_document_describes_errors_as_problems(api: Api) -> None:
    spec = api.client.get("/api/v1/openapi.json").json()
    operation = spec["paths"]["/journal-entries"]["post"]
    assert {"201", "401", "403", "409", "413", "422"} <= set(operation["responses"])
    assert list(operation["responses"]["422"]["content"]) == [PROBLEM]
    assert operation["x-permission"] == "journal:post"
    assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"])


def test_the_request_id_answered_is_the_one_in_the_audit_log(api: Api) -> None:
    given = api.client.post(
        "/api/v1/journal-entries",
        json=entry_body(),
        headers=api.auth() | {"X-Request-ID": "trace-7"},
    )
    assert given.headers["x-request-id"] == "trace-7"
    generated = api.client.post(
        "/api/v1/journal-entries",
        json=entry_body(),
        headers=api.auth() | {"X-Request-ID": "no way!"},
    )
    assert generated.headers["x-request-id"] != "no way!"
    records = api.book.audit.log(filters={"action": "journal.post"})
    assert [r.request_id for r in records] == [generated.headers["x-request-id"], "trace-7"]


def test_an_api_path_the_router_does_not_know_is_a_problem(api: Api) -> None:
    answer = api.client.get("/api/v1/accounts%0A/x", headers=api.auth())
    assert answer.status_code == 404
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["type"] == "urn:crmledger:problem:not-found"
