"""Logging in and out.

The login form is protected by a double-submit token (a cookie and a hidden field that must
match), since there is no session yet to hold one. A successful login starts a fresh
session (a new secret, so a planted cookie is worthless) and goes to ``next``, a local
path only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from crmledger.core.access import AuthenticationError
from crmledger.services.errors import LoginThrottledError
from crmledger.services.trail import OPERATOR, Actor
from crmledger.web.render import flash, page
from crmledger.web.session import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfError,
    LoginRequiredError,
    Signed,
    clear_cookie,
    current_session,
    login_csrf,
    request_id,
    safe_next,
    set_login_csrf,
    set_session_cookie,
    tokens_match,
    web_state,
)

router = APIRouter(include_in_schema=False)


def _login_page(
    request: Request, next_path: str, email: str = "", error: str = "", status: int = 200
) -> Response:
    token, new = login_csrf(request)
    context = {"next": next_path, "email": email, "error": error, "title": "Log in"}
    response = page(request, "login.html", context, status=status, csrf_token=token)
    if new:
        set_login_csrf(response, token, secure=web_state(request).secure)
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    """The login form; a signed-in browser goes straight on."""
    target = safe_next(next)
    try:
        current_session(request)
    except LoginRequiredError:
        return _login_page(request, target)
    return RedirectResponse(target, 303)


def _address(request: Request) -> str:
    return request.client.host if request.client else "-"


@router.post("/login")
def login(
    request: Request,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/",
    csrf_token: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    """Check the password, start a session and go to ``next``."""
    target = safe_next(next)
    email = email.strip()
    if not tokens_match(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE, "")):
        raise CsrfError
    book = web_state(request).book
    access = book.access.acting_as(Actor(OPERATOR.principal, request_id(request)))
    try:
        principal = access.login(email, password, _address(request))
    except LoginThrottledError as exc:
        message = f"Too many failed logins. Try again in {exc.retry_after} seconds."
        response = _login_page(request, target, email, message, status=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except AuthenticationError:
        return _login_page(request, target, email, "Wrong email or password.", status=422)
    secret, _ = book.access.start_session(principal)
    response = RedirectResponse(target, 303)
    secure = web_state(request).secure
    set_session_cookie(response, secret, secure=secure)
    clear_cookie(response, LOGIN_CSRF_COOKIE, secure=secure)
    return response


@router.post("/logout")
def logout(request: Request, viewer: Signed) -> Response:
    """End the session and forget the cookie."""
    del viewer  # the dependency checked the session and its CSRF token
    secure = web_state(request).secure
    secret = request.cookies.get(SESSION_COOKIE, "")
    web_state(request).book.access.end_session(secret)
    response = RedirectResponse("/login", 303)
    clear_cookie(response, SESSION_COOKIE, secure=secure)
    flash(request, response, "You are logged out.", "info")
    return response
