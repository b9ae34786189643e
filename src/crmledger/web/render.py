"""Rendering pages: the Jinja2 environment, the base layout's context and flash messages.

Every page gets what ``base.html`` needs (static URL, CSRF token, htmx integrity, the user,
the active section, messages); a flash message set by :func:`flash` before a redirect is
shown once by the next page::

    response = RedirectResponse("/journal/7", 303)
    flash(request, response, "Posted GJ/2026/7.")
    ...
    return page(request, "entry.html", {"entry": entry}, active="/journal")
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from crmledger.web import crm_view
from crmledger.web.session import Viewer, clear_cookie, web_state

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATE_DIR = HERE / "templates"
STATIC_URL = "/static"
FLASH_COOKIE = "crmledger_flash"
FLASH_KINDS = ("success", "warning", "error", "info")

#: Nav links and the permission each needs (a role without it does not see the link).
NAV_NEEDS: dict[str, tuple[str, str]] = {
    "/customers": ("parties", "read"),
    "/complaints": ("interactions", "read"),
    "/deals": ("deals", "read"),
    "/quotes": ("sales", "read"),
    "/products": ("products", "read"),
    "/accounts": ("accounts", "read"),
    "/journal": ("journal", "read"),
    "/reports": ("reports", "read"),
    "/insights": ("reports", "read"),
    "/audit": ("audit", "read"),
    "/expenses": ("expenses", "read"),
    "/sync": ("integrations", "read"),
}


def format_amount(value: Decimal | None) -> str:
    """A decimal with thousands separators and its own places: ``-1,234.50``."""
    if value is None:
        return ""
    return format(value, ",f")


@cache
def environment() -> Environment:
    """The template environment (autoescaping on, undefined names are errors)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        auto_reload=False,
    )
    env.filters["amount"] = format_amount
    env.filters["words"] = crm_view.words
    env.filters["badge"] = crm_view.badge
    env.filters["when"] = crm_view.when
    env.filters["money"] = crm_view.money
    env.filters["plain"] = crm_view.plain
    return env


@cache
def htmx_integrity() -> str:
    """The SRI hash of the vendored htmx, as recorded when it was vendored."""
    record = json.loads((STATIC_DIR / "vendor" / "VENDORED.json").read_text(encoding="utf-8"))
    return str(record["sri"])


def render(name: str, context: Mapping[str, Any]) -> str:
    """Render one template."""
    return environment().get_template(name).render(context)


def _sign(key: bytes, payload: bytes) -> str:
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def flash(request: Request, response: Response, text: str, kind: str = "success") -> None:
    """Show ``text`` on the next page this browser opens (a signed, short-lived cookie)."""
    state = web_state(request)
    payload = base64.urlsafe_b64encode(json.dumps([kind, text]).encode()).rstrip(b"=")
    value = payload.decode() + "." + _sign(state.flash_key, payload)
    response.set_cookie(
        FLASH_COOKIE,
        value,
        max_age=60,
        path="/",
        secure=state.secure,
        httponly=True,
        samesite="lax",
    )


def _read_flash(request: Request) -> list[dict[str, str]]:
    value = request.cookies.get(FLASH_COOKIE, "")
    payload, _, signature = value.partition(".")
    key = web_state(request).flash_key
    if not signature or not hmac.compare_digest(signature, _sign(key, payload.encode())):
        return []
    try:
        kind, text = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, TypeError):
        return []
    return [{"kind": kind if kind in FLASH_KINDS else "info", "text": str(text)}]


def hidden_nav(viewer: Viewer | None) -> list[str]:
    """The nav links ``viewer``'s role cannot open."""
    if viewer is None:
        return []
    return [href for href, need in NAV_NEEDS.items() if not viewer.can(*need)]


def base_context(request: Request, viewer: Viewer | None, csrf_token: str = "") -> dict[str, Any]:
    """What ``base.html`` needs."""
    return {
        "static_url": STATIC_URL,
        "htmx_integrity": htmx_integrity(),
        "csrf_token": viewer.csrf_token if viewer else csrf_token,
        "user": {"email": viewer.email, "role": viewer.role} if viewer else None,
        "viewer": viewer,
        "hidden_nav": hidden_nav(viewer),
        "active": "",
        "title": "",
        "messages": [],
        "path": request.url.path,
    }


def page(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    viewer: Viewer | None = None,
    status: int = 200,
    active: str = "",
    csrf_token: str = "",
) -> HTMLResponse:
    """A full page in the base layout; shows and clears a pending flash message."""
    values = base_context(request, viewer, csrf_token)
    values["active"] = active
    messages = _read_flash(request)
    values.update(context or {})
    values["messages"] = [*messages, *values["messages"]]
    response = html(render(template, values), status)
    if FLASH_COOKIE in request.cookies:
        clear_cookie(response, FLASH_COOKIE, secure=web_state(request).secure)
    return response


def fragment(template: str, context: Mapping[str, Any], status: int = 200) -> HTMLResponse:
    """Part of a page, for htmx to swap in."""
    return html(render(template, context), status)


def html(text: str, status: int = 200) -> HTMLResponse:
    """An HTML response that no cache keeps (pages show the book to one user)."""
    response = HTMLResponse(text, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Cookie, HX-Request"
    return response


def wants_fragment(request: Request) -> bool:
    """An htmx request (not a history restore), which gets only the swapped part."""
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )
