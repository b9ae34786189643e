"""A client that dies half-way through sending a create (its process killed, its network
gone) leaves its ``Idempotency-Key`` free: the server neither runs the half request nor
keeps an answer for it, so the retry with the whole body is served as the first request
(not refused as "the key was used with a different request", forever).

Real parts: the server is uvicorn on 127.0.0.1, the dying client a raw socket that sends
the headers and part of the body, then closes.
"""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import httpx
from sqlalchemy import text

from crmledger.bootstrap import App
from crmledger.core.access import Role
from crmledger.server import create_app
from tests.api.live import serving

PASSWORD = "correct horse battery"


def _cut_off(url: str, token: str, key: str, body: bytes) -> None:
    """A POST whose client goes away after half of the body."""
    parts = urlsplit(url)
    head = (
        f"POST /api/v1/parties HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Authorization: Bearer {token}\r\nIdempotency-Key: {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=5) as sock:
        sock.sendall(head + body[: len(body) // 2])


def _kept(app: App) -> int:
    with app.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM idempotency_keys")).scalar_one())


def test_a_create_cut_off_mid_body_keeps_nothing_and_the_retry_is_served(app: App) -> None:
    app.access.add_user("sync@example.com", Role.SALES, PASSWORD)
    token = app.access.create_token("sync@example.com", "tests").secret
    body = {"kind": "organisation", "display_name": "Acme GmbH"}
    raw = json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "push-acme-1"}
    headers["Content-Type"] = "application/json"
    with serving(create_app(app)) as url:
        _cut_off(url, token, "push-acme-1", raw)
        time.sleep(0.5)  # the server has seen the request go away
        assert _kept(app) == 0
        assert app.parties.count() == 0
        retried = httpx.post(f"{url}/api/v1/parties", content=raw, headers=headers, timeout=10)
        assert retried.status_code == 201, retried.text
        again = httpx.post(f"{url}/api/v1/parties", content=raw, headers=headers, timeout=10)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == retried.json()["id"]
    assert (app.parties.count(), _kept(app)) == (1, 1)
