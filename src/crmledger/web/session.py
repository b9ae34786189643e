"""Who is signed in, and the checks every web request passes.

A browser signs in with a password and gets a random session secret in an ``HttpOnly``
cookie; the service keeps only its digest, with the CSRF token the session's forms echo.
Every page depends on :data:`Signed`, which answers an unknown or expired session with
:class:`LoginRequiredError` (a redirect to ``/login?next=...``) and refuses a POST whose
``csrf_token`` field (or ``X-CSRF-Token`` header, sent by htmx) does not match::

    @router.get("/accounts")
    def accounts(viewer: Signed) -> Response:
        viewer.book.ledger.accounts_with_versions()  # checks viewer's role, audits writes
"""

from __future__ import annotations

import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response

from crmledger.bootstrap import App
from crmledger.core.access import Principal
from crmledger.services.access import SESSION_LIFETIME, WebSession
from crmledger.services.trail import Actor

SESSION_COOKIE = "crmledger_session"
LOGIN_CSRF_COOKIE = "crmledger_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class LoginRequiredError(Exception):
    """No live session: the browser is sent to the login page (``next``: where it was)."""

    def __init__(self, next_path: str | None) -> None:
        self.next_path = next_path
        super().__init__("login required")


class CsrfError(Exception):
    """A state-changing request without the session's CSRF token."""


@dataclass(frozen=True, slots=True)
class WebState:
    """What the web UI keeps for the life of the server."""

    book: App
    secure: bool
    flash_key: bytes


@dataclass(frozen=True, slots=True)
class Viewer:
    """A signed-in browser: its principal, CSRF token and the services acting for it."""

    principal: Principal
    csrf_token: str
    book: App
    email: str

    @property
    def role(self) -> str:
        """The role's name."""
        return self.principal.role.value

    def can(self, resource: str, action: str) -> bool:
        """Whether the role allows ``action`` on ``resource`` (to hide what it cannot use)."""
        return self.principal.can(resource, action)


def web_state(request: Request) -> WebState:
    """The web UI's state, kept on the root application."""
    state: WebState = request.app.state.web
    return state


def request_id(request: Request) -> str:
    """The request's id: the one the server middleware chose (and answers with), else the
    caller's ``X-Request-ID`` when it is sane, else a new one."""
    chosen = getattr(request.state, "request_id", None)
    if isinstance(chosen, str):
        return chosen
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


def safe_next(value: str | None) -> str:
    """``value`` when it is a path on this site, else ``/`` (no open redirects)."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return "/"
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else "/"


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _display_name(book: App, found: WebSession) -> str:
    user_id = found.principal.user_id
    if user_id is None:
        return found.principal.label
    # Read as the operator: everyone may see their own email, whatever their role.
    return book.access.user(user_id).email


def current_session(request: Request) -> Viewer:
    """The signed-in viewer; :class:`LoginRequiredError` without a live session."""
    state = web_state(request)
    secret = request.cookies.get(SESSION_COOKIE)
    found = state.book.access.session(secret) if secret else None
    if found is None:
        method_is_safe = request.method in SAFE_METHODS
        raise LoginRequiredError(_here(request) if method_is_safe else None)
    viewer = Viewer(
        found.principal,
        found.csrf_token,
        state.book.acting_as(Actor(found.principal, request_id(request))),
        _display_name(state.book, found),
    )
    request.state.viewer = viewer
    return viewer


def tokens_match(given: str, expected: str) -> bool:
    """Constant-time comparison of two tokens (an empty one never matches)."""
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


async def submitted_token(request: Request) -> str:
    """The CSRF token a request carries: the htmx header, else the form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return ""
    value = (await request.form()).get(CSRF_FIELD)
    return value if isinstance(value, str) else ""


async def signed_in(
    request: Request, viewer: Annotated[Viewer, Depends(current_session)]
) -> Viewer:
    """The viewer, after checking the CSRF token of a state-changing request."""
    if request.method in SAFE_METHODS:
        return viewer
    if not tokens_match(await submitted_token(request), viewer.csrf_token):
        raise CsrfError
    return viewer


Signed = Annotated[Viewer, Depends(signed_in)]


def set_session_cookie(response: Response, secret: str, *, secure: bool) -> None:
    """The session cookie: script cannot read it, other sites' requests do not carry it."""
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


def clear_cookie(response: Response, name: str, *, secure: bool) -> None:
    """Remove a cookie set by :func:`set_session_cookie` or :func:`login_csrf`."""
    response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="lax")


def login_csrf(request: Request) -> tuple[str, bool]:
    """The login form's CSRF token (double-submit cookie) and whether it is new."""
    existing = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if len(existing) >= 32:
        return existing, False
    return secrets.token_urlsafe(32), True


def set_login_csrf(response: Response, token: str, *, secure: bool) -> None:
    """Remember the login form's token until the form comes back (an hour at most)."""
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )
