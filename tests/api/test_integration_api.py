"""The webhook and sync endpoints follow the API's conventions: problems naming the field,
ETags and If-Match, cursors, Idempotency-Key on creates, the integrations permission."""

from __future__ import annotations

from datetime import UTC, datetime

from crmledger.core.access import Role
from crmledger.integration.bus import InProcessBus
from crmledger.persistence.uow import SqlUnitOfWorkFactory
from crmledger.services.relay import OutboxRelay
from tests.api.conftest import Api
from tests.api.examples.integration import folder_config
from tests.conftest import FixedClock

PROBLEM = "application/problem+json"


def test_a_subscription_is_created_once_with_its_secret_and_changed_with_if_match(api: Api) -> None:
    body = {"url": "https://erp.example.com/hooks", "event_types": ["party.*"]}
    headers = api.auth() | {"Idempotency-Key": "hook-1"}
    first = api.client.post("/api/v1/webhooks", json=body, headers=headers)
    again = api.client.post("/api/v1/webhooks", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, first.text
    assert again.content == first.content
    created = first.json()
    assert created["secret"].startswith("whsec_")
    assert first.headers["location"] == f"/api/v1/webhooks/{created['id']}"
    read = api.client.get(first.headers["location"], headers=api.auth())
    assert "secret" not in read.json()
    stale = api.client.patch(
        first.headers["location"],
        json={"description": "ERP"},
        headers=api.auth() | {"If-Match": '"9"'},
    )
    assert stale.status_code == 412
    changed = api.client.patch(
        first.headers["location"],
        json={"description": "ERP", "event_types": ["invoice.*"]},
        headers=api.auth() | {"If-Match": read.headers["etag"]},
    )
    assert changed.status_code == 200
    assert (changed.json()["description"], changed.json()["event_types"]) == ("ERP", ["invoice.*"])
    rotated = api.client.post(
        f"{first.headers['location']}/rotate-secret", json={"overlap_hours": 2}, headers=api.auth()
    )
    assert rotated.json()["secret"] not in (created["secret"], "")
    assert rotated.json()["rotating_until"] is not None
    listed = api.client.get("/api/v1/webhooks", headers=api.auth()).json()
    assert [s["id"] for s in listed["items"]] == [created["id"]]


def test_unsafe_targets_and_bad_event_types_are_problems_naming_the_field(api: Api) -> None:
    cases = [
        ({"url": "http://127.0.0.1:8080/x", "event_types": ["*"]}, "url"),
        ({"url": "http://[::1]/x", "event_types": ["*"]}, "url"),
        ({"url": "http://10.1.2.3/x", "event_types": ["*"]}, "url"),
        ({"url": "https://ok.example.com", "event_types": ["Invoice Paid"]}, "event_types.0"),
        ({"url": "https://ok.example.com", "event_types": []}, "event_types"),
    ]
    for body, field in cases:
        answer = api.client.post("/api/v1/webhooks", json=body, headers=api.auth())
        assert answer.status_code == 422, body
        assert answer.headers["content-type"] == PROBLEM
        assert answer.json()["errors"][0]["field"] == field
    assert api.book.webhooks.list() == []


def test_deliveries_are_listed_newest_first_and_replayed(api: Api, clock: FixedClock) -> None:
    clock.current = datetime.now(UTC)
    sub, _ = api.book.webhooks.create("https://erp.example.com/hooks", ["party.created"])
    for n in range(3):
        api.client.post(
            "/api/v1/parties",
            json={"kind": "organisation", "display_name": f"Org {n}"},
            headers=api.auth(),
        )
    bus = InProcessBus()
    bus.subscribe("webhooks", api.book.webhooks.fan_out)
    OutboxRelay(SqlUnitOfWorkFactory(api.book.engine), clock, bus, "w").drain()
    url = f"/api/v1/webhooks/{sub.id}/deliveries"
    page = api.client.get(url, params={"limit": 2}, headers=api.auth()).json()
    rest = api.client.get(url, params={"cursor": page["next_cursor"]}, headers=api.auth()).json()
    ids = [d["id"] for d in page["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == 3
    assert {d["event_type"] for d in page["items"]} == {"party.created"}
    one = api.client.get(f"/api/v1/webhook-deliveries/{ids[0]}", headers=api.auth()).json()
    assert (one["status"], one["attempt_log"]) == ("pending", [])
    replayed = api.client.post(f"/api/v1/webhook-deliveries/{ids[0]}/replay", headers=api.auth())
    assert replayed.status_code == 202
    queued = api.client.post(f"/api/v1/webhooks/{sub.id}/test", headers=api.auth())
    assert (queued.status_code, queued.json()["event_type"]) == (202, "webhook.test")
    sales = api.client.get(url, headers=api.auth(Role.SALES))
    assert sales.status_code == 403
    assert api.client.get(url, headers=api.auth(Role.AUDITOR)).status_code == 200


def test_a_connector_runs_logs_and_reconciles_through_the_api(api: Api) -> None:
    config = folder_config()
    created = api.client.post(
        "/api/v1/sync/connectors",
        json={"name": "shop", "kind": "folder", "config": config, "inbound_scheme": "standard"},
        headers=api.auth(),
    )
    assert created.status_code == 201, created.text
    assert created.json()["inbound_secret"].startswith("whsec_")
    assert created.json()["secrets"] == ["inbound_secret"]
    dry = api.client.post(
        "/api/v1/sync/connectors/shop/runs", json={"dry_run": True}, headers=api.auth()
    ).json()
    assert dry["counts"]["created"] == 1
    assert dry["results"][0]["diff"]["email"] == ["", "ap@example.com"]
    assert api.book.parties.count() == 0
    done = api.client.post("/api/v1/sync/connectors/shop/runs", json={}, headers=api.auth()).json()
    log = api.client.get(f"/api/v1/sync/runs/{done['run_id']}/log", headers=api.auth()).json()
    assert [(r["external_id"], r["outcome"]) for r in log["items"]] == [("C-1", "created")]
    verdict = api.client.post(
        "/api/v1/sync/connectors/shop/reconcile",
        json={"object_type": "customer"},
        headers=api.auth(),
    ).json()
    assert (verdict["agree"], verdict["local_count"], verdict["remote_count"]) == (True, 1, 1)
    runs = api.client.get("/api/v1/sync/runs", params={"connector": "shop"}, headers=api.auth())
    assert [r["mode"] for r in runs.json()["items"]] == ["reconcile", "pull", "dry_run"]
    paused = api.client.patch(
        "/api/v1/sync/connectors/shop",
        json={"status": "paused"},
        headers=api.auth() | {"If-Match": created.headers["etag"]},
    )
    assert paused.json()["status"] == "paused"
    refused = api.client.post("/api/v1/sync/connectors/shop/runs", json={}, headers=api.auth())
    assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, "status")
    bad = api.client.post(
        "/api/v1/sync/connectors",
        json={"name": "bad", "kind": "folder", "config": {"objects": {}}},
        headers=api.auth(),
    )
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "objects")
    assert (
        api.client.get("/api/v1/sync/connectors", headers=api.auth(Role.ACCOUNTANT)).status_code
        == 403
    )
