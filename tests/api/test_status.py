"""The HTTP server's health and status endpoints (the rest of the API comes later)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crmledger.api.app import create_app
from crmledger.bootstrap import App
from tests.helpers import sale


def test_health_and_status_describe_the_book(app: App) -> None:
    app.ledger.post([sale("2026-01-05", "10")])
    client = TestClient(create_app(app))
    health = client.get("/api/v1/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    status = client.get("/api/v1/status").json()
    assert status["base_currency"] == "EUR"
    assert status["accounts"] == 36
    assert status["balanced"] is True
    assert "password" not in status["database"]
    assert client.get("/api/v1/openapi.json").json()["info"]["title"] == "crmledger"
