"""The one ASGI application: the REST API under ``/api/v1``, the web UI under ``/``, its
static files under ``/static``, and the security headers on every response.

``crmledger serve`` runs :func:`create_app_from_env` under uvicorn (with TLS when given a
certificate and key)::

    app = create_app(build(Settings.load()), secure=True)
"""

from __future__ import annotations

import re
import uuid

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crmledger.api.app import create_api
from crmledger.bootstrap import App, build
from crmledger.config import Settings
from crmledger.web import install_web

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds the security headers and an ``X-Request-ID`` to every response; API responses
    are never cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", ())).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        # The routes record this id in the audit log: the response names the same one.
        scope.setdefault("state", {})["request_id"] = request_id

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    h for h in message.get("headers", []) if h[0].lower() not in dict(HEADERS)
                ]
                headers += HEADERS
                headers.append((b"x-request-id", request_id.encode()))
                if scope["path"].startswith("/api/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(book: App, *, secure: bool = False) -> FastAPI:
    """The whole application for one book; ``secure`` when served over TLS (cookies get
    the ``Secure`` flag)."""
    root = FastAPI(title="crmledger", openapi_url=None, docs_url=None, redoc_url=None)
    root.state.book = book
    root.mount("/api/v1", create_api(book))
    install_web(root, book, secure=secure)
    root.add_middleware(SecurityHeaders)
    return root


def create_app_from_env() -> FastAPI:
    """Factory for uvicorn: the book named by ``CRMLEDGER_DATABASE_URL``; TLS when
    ``CRMLEDGER_TLS`` is set (by ``crmledger serve --tls-cert``)."""
    import os  # noqa: PLC0415

    return create_app(build(Settings.load()), secure=bool(os.environ.get("CRMLEDGER_TLS")))
