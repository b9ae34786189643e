"""Inbound webhooks through the whole server, on both databases: a signature that does not
hold is refused and changes nothing, whichever way it is wrong; a valid event replayed five
times (or at once from several threads) has one effect; a reordered older event is
ignored."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from crmledger.bootstrap import App
from crmledger.core.integration.signatures import new_secret, standard_headers, stripe_signature
from crmledger.server import create_app
from tests.conftest import FixedClock


def _config(tmp_path: Path) -> dict[str, Any]:
    return {
        "path": str(tmp_path),
        "objects": {
            "customer": {
                "source": "none*",
                "id": "CustomerNo",
                "version": "Changed",
                "fields": {"name": "Company", "email": "Mail"},
            }
        },
    }


@pytest.fixture
def client(app: App, clock: FixedClock) -> Iterator[TestClient]:
    clock.current = datetime.now(UTC).replace(microsecond=0)
    with TestClient(create_app(app)) as found:
        yield found


def _event(
    n: int = 1, name: str = "Acme GmbH", changed: str = "2026-06-01T00:00:00+00:00"
) -> bytes:
    record = {"CustomerNo": "C-1", "Company": name, "Mail": "ap@acme.example", "Changed": changed}
    return json.dumps({"id": f"evt_{n}", "type": "customer.updated", "data": record}).encode()


def _parties(app: App) -> list[str]:
    with app.engine.connect() as conn:
        rows = conn.execute(text("SELECT external_id FROM party_external_ids ORDER BY 1")).all()
    return [r[0] for r in rows]


def test_standard_signatures_are_checked_and_an_event_applies_once(
    app: App, client: TestClient, clock: FixedClock, tmp_path: Path
) -> None:
    _, secret = app.sync.add("shop", "folder", _config(tmp_path), inbound_scheme="standard")
    assert secret is not None
    body, now = _event(), int(clock.current.timestamp())
    good = standard_headers([secret], "evt_1", now, body)
    reserialised = json.dumps(json.loads(body), indent=1).encode()
    changed = bytearray(body)
    changed[-3] ^= 1
    refused = {
        "wrong secret": (standard_headers([new_secret()], "evt_1", now, body), body),
        "one changed byte": (good, bytes(changed)),
        "re-serialised JSON": (good, reserialised),
        "missing webhook-signature": (
            {k: v for k, v in good.items() if k != "webhook-signature"},
            body,
        ),
        "missing webhook-id": ({k: v for k, v in good.items() if k != "webhook-id"}, body),
        "missing webhook-timestamp": (
            {k: v for k, v in good.items() if k != "webhook-timestamp"},
            body,
        ),
        "stale timestamp": (standard_headers([secret], "evt_1", now - 301, body), body),
        "future timestamp": (standard_headers([secret], "evt_1", now + 301, body), body),
        "another id": ({**good, "webhook-id": "evt_2"}, body),
    }
    for case, (headers, sent) in refused.items():
        answer = client.post("/api/v1/inbound/shop", content=sent, headers=headers)
        assert answer.status_code == 401, case
        assert answer.json()["type"] == "urn:crmledger:problem:unauthenticated", case
    assert _parties(app) == []
    answers = [client.post("/api/v1/inbound/shop", content=body, headers=good) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert [a.json()["duplicate"] for a in answers] == [False, True, True, True, True]
    assert answers[0].json()["results"][0]["outcome"] == "created"
    assert _parties(app) == ["C-1"]
    with app.engine.connect() as conn:
        audits = conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'party.create'"))
        assert audits.scalar_one() == 1
    unknown = client.post("/api/v1/inbound/nobody", content=body, headers=good)
    assert unknown.status_code == 401


def test_stripe_signatures_are_checked_too(
    app: App, client: TestClient, clock: FixedClock, tmp_path: Path
) -> None:
    secret = "whsec_stripe_test_secret"
    config = _config(tmp_path)
    app.sync.add("pay", "folder", config, {"inbound_secret": secret}, inbound_scheme="stripe")
    record = {"CustomerNo": "S-1", "Company": "Stripe Co", "Changed": "2026-06-01T00:00:00"}
    body = json.dumps(
        {"id": "evt_S1", "type": "customer.created", "data": {"object": record}}
    ).encode()
    now = int(clock.current.timestamp())
    refused = [
        stripe_signature("whsec_other", now, body),
        stripe_signature(secret, now - 301, body),
        stripe_signature(secret, now, body).replace("v1=", "v0="),
        f"t={now}",
    ]
    for header in refused:
        answer = client.post(
            "/api/v1/inbound/pay", content=body, headers={"Stripe-Signature": header}
        )
        assert answer.status_code == 401, header
    assert client.post("/api/v1/inbound/pay", content=body).status_code == 401
    good = {"Stripe-Signature": stripe_signature(secret, now, body)}
    first = client.post("/api/v1/inbound/pay", content=body, headers=good)
    assert first.json()["results"][0]["outcome"] == "created"
    for _ in range(4):
        assert client.post("/api/v1/inbound/pay", content=body, headers=good).json()["duplicate"]
    assert _parties(app) == ["S-1"]
    not_json = b"{nope"
    bad = {"Stripe-Signature": stripe_signature(secret, now, not_json)}
    assert client.post("/api/v1/inbound/pay", content=not_json, headers=bad).status_code == 422


def test_a_reordered_older_event_changes_nothing(
    app: App, client: TestClient, clock: FixedClock, tmp_path: Path
) -> None:
    _, secret = app.sync.add("shop", "folder", _config(tmp_path), inbound_scheme="standard")
    assert secret is not None
    now = int(clock.current.timestamp())
    newer = _event(2, "Acme Two", "2026-06-02T00:00:00+00:00")
    older = _event(1, "Acme One", "2026-06-01T00:00:00+00:00")
    for n, body in ((2, newer), (1, older)):
        headers = standard_headers([secret], f"evt_{n}", now, body)
        assert client.post("/api/v1/inbound/shop", content=body, headers=headers).status_code == 200
    party = app.parties.find_external("shop", "C-1")
    assert party is not None
    assert app.parties.get(party).display_name == "Acme Two"
    [run] = app.sync.runs("shop", limit=1)
    assert app.sync.log(run.id)[0].reason.startswith("older than")


def test_the_same_event_at_once_from_several_threads_applies_once(
    app: App, client: TestClient, clock: FixedClock, tmp_path: Path
) -> None:
    _, secret = app.sync.add("shop", "folder", _config(tmp_path), inbound_scheme="standard")
    assert secret is not None
    body = _event()
    headers = standard_headers([secret], "evt_1", int(clock.current.timestamp()), body)
    answers: list[int] = []

    def post() -> None:
        answer = client.post("/api/v1/inbound/shop", content=body, headers=headers)
        answers.append(answer.status_code)

    threads = [threading.Thread(target=post) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert answers == [200] * 5
    assert _parties(app) == ["C-1"]
    with app.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM inbound_events")).scalar_one() == 1
