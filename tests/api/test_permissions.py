"""The permission matrix, generated from the OpenAPI document: every operation, called by
every role, is allowed or refused exactly as the role table in ``core.access`` says, and
nothing but login and health answers without authentication."""

from __future__ import annotations

import itertools
from typing import Any

from crmledger.core.access import ROLE_PERMISSIONS, Role
from tests.api.conftest import PASSWORD, Api, entry_body
from tests.api.examples import merged

_counter = itertools.count(1)


_EXAMPLE_BODIES, _EXAMPLE_PATHS = merged()


def _body(api: Api, operation_id: str) -> dict[str, Any] | None:
    n = next(_counter)
    if operation_id in _EXAMPLE_BODIES:
        return _EXAMPLE_BODIES[operation_id](api)
    return {
        "createAccount": {"name": f"Assets:Matrix{n}"},
        "updateAccount": {"close_date": "2030-01-01"},
        "postJournalEntry": entry_body(),
        "reverseJournalEntry": {},
        "createUser": {"email": f"m{n}@example.com", "role": "viewer", "password": PASSWORD},
        "updateUser": {"role": "viewer"},
        "createToken": {"email": "viewer@example.com", "name": f"m{n}"},
        "login": {"email": "viewer@example.com", "password": PASSWORD},
    }.get(operation_id)


def _path(api: Api, template: str) -> str:
    values = {
        "{name}": lambda: "Assets:Cash",
        "{entry_id}": lambda: str(api.book.ledger.post([_sale()])[0].id),
        "{user_id}": lambda: str(api.book.access.find_user("viewer@example.com").id),
        "{token_id}": lambda: str(api.book.access.create_token("viewer@example.com", "doomed").id),
    } | {key: (lambda make=make: str(make(api))) for key, make in _EXAMPLE_PATHS.items()}
    for key, value in values.items():
        if key in template:
            template = template.replace(key, value())
    assert "{" not in template, f"no example value for a parameter of {template}"
    return "/api/v1" + template


def _sale():
    from tests.helpers import sale

    return sale("2026-02-01", "5")


def _operations(api: Api) -> list[tuple[str, str, dict[str, Any]]]:
    spec = api.client.get("/api/v1/openapi.json").json()
    return [
        (method.upper(), path, operation)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
    ]


def _call(api: Api, method: str, path: str, operation: dict[str, Any], headers: dict[str, str]):
    params = {"account": "Assets:Cash"} if operation["operationId"] == "accountLedger" else None
    headers = headers | {"If-Match": '"999"'} if method == "PATCH" else headers
    return api.client.request(
        method,
        _path(api, path),
        json=_body(api, operation["operationId"]),
        params=params,
        headers=headers,
    )


def test_every_operation_obeys_the_role_table(api: Api) -> None:
    operations = _operations(api)
    assert len(operations) >= 18
    mismatches = []
    for (method, path, operation), role in itertools.product(operations, Role):
        permission = operation["x-permission"]
        if permission == "none":
            continue
        resource, action = permission.split(":")
        allowed = (resource, action) in ROLE_PERMISSIONS[role]
        answer = _call(api, method, path, operation, api.auth(role))
        refused = answer.status_code == 403
        if allowed == refused or answer.status_code in (401, 500):
            mismatches.append((role.value, method, path, answer.status_code, answer.text[:120]))
    assert mismatches == []


def test_nothing_but_login_and_health_answers_without_authentication(api: Api) -> None:
    public = []
    for method, path, operation in _operations(api):
        answer = _call(api, method, path, operation, {})
        if answer.status_code != 401:
            public.append(operation["operationId"])
        else:
            assert answer.json()["type"] == "urn:crmledger:problem:unauthenticated"
    assert sorted(public) == ["health", "login"]


def test_every_operation_declares_its_permission(api: Api) -> None:
    for _, path, operation in _operations(api):
        permission = operation.get("x-permission")
        assert permission, f"{path} declares no x-permission"
        if permission != "none":
            assert {"401", "403"} <= set(operation["responses"]), path
