"""How the web UI answers what goes wrong: one mapping, registered on the root app.

- no live session: 303 to ``/login?next=<here>`` (htmx gets ``HX-Redirect`` instead);
- a bad CSRF token: 403 page;
- a role that may not: 403 page; an unknown entry or page: 404 page; all in the layout.

The REST API under ``/api/v1`` keeps its own problem+json handlers; paths under ``/api``
that reach these handlers get FastAPI's plain JSON answers.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from crmledger.core.access import PermissionDeniedError
from crmledger.core.errors import EntryNotFoundError
from crmledger.services.errors import NotFoundError
from crmledger.web.params import sentence
from crmledger.web.render import page, wants_fragment
from crmledger.web.session import (
    SAFE_METHODS,
    SESSION_COOKIE,
    CsrfError,
    LoginRequiredError,
    Viewer,
    clear_cookie,
    current_session,
    web_state,
)

TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Page not found",
    405: "Method not allowed",
}


def _signed_in(request: Request) -> Viewer | None:
    try:
        return current_session(request)
    except LoginRequiredError:
        return None


async def _viewer(request: Request) -> Viewer | None:
    """Who sees the error page: known when a route ran, else looked up (an unknown path)."""
    found = getattr(request.state, "viewer", None)
    if isinstance(found, Viewer):
        return found
    if request.method not in SAFE_METHODS:
        return None
    return await run_in_threadpool(_signed_in, request)


async def error_page(request: Request, status: int, message: str) -> Response:
    """An error page in the base layout."""
    context = {"title": TITLES.get(status, "Something went wrong"), "message": message}
    viewer = await _viewer(request)
    return page(request, "error.html", context, viewer=viewer, status=status)


def _is_api(request: Request) -> bool:
    return request.url.path == "/api" or request.url.path.startswith("/api/")


async def on_login_required(request: Request, exc: Exception) -> Response:
    """Send the browser to the login page, coming back here afterwards."""
    assert isinstance(exc, LoginRequiredError)
    target = "/login" + (f"?{urlencode({'next': exc.next_path})}" if exc.next_path else "")
    response: Response
    if wants_fragment(request):
        response = Response(status_code=204, headers={"HX-Redirect": target})
    else:
        response = RedirectResponse(target, 303)
    if SESSION_COOKIE in request.cookies:
        clear_cookie(response, SESSION_COOKIE, secure=web_state(request).secure)
    return response


async def on_csrf(request: Request, exc: Exception) -> Response:
    """Refuse a form that does not carry this session's token."""
    message = (
        "The form was not accepted: its security token is missing or out of date. "
        "Reload the page and try again."
    )
    return await error_page(request, 403, message)


async def on_denied(request: Request, exc: Exception) -> Response:
    """The role may not do this."""
    assert isinstance(exc, PermissionDeniedError)
    message = f"Your role does not allow this: {exc}."
    return await error_page(request, 403, message)


async def on_not_found(request: Request, exc: Exception) -> Response:
    """An entry or record that does not exist."""
    return await error_page(request, 404, sentence(exc) or "There is nothing here.")


async def on_http(request: Request, exc: Exception) -> Response:
    """Unknown pages and wrong methods, in the layout (plain JSON under ``/api``)."""
    assert isinstance(exc, HTTPException)
    if _is_api(request):
        # A path under /api that the API's mount did not take (e.g. an encoded newline):
        # answer as the API does, with a problem document.
        slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http")
        body = {
            "type": f"urn:crmledger:problem:{slug}",
            "title": TITLES.get(exc.status_code, "Error"),
            "status": exc.status_code,
            "detail": str(exc.detail),
            "errors": [],
        }
        headers = dict(exc.headers or {})
        return JSONResponse(body, exc.status_code, headers, "application/problem+json")
    if exc.status_code not in TITLES:
        return await http_exception_handler(request, exc)
    messages = {404: "There is no page at this address.", 405: "This page does not take that."}
    response = await error_page(request, exc.status_code, messages.get(exc.status_code, exc.detail))
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def on_invalid(request: Request, exc: Exception) -> Response:
    """A form or query the web routes cannot read at all (e.g. a field far too long)."""
    assert isinstance(exc, RequestValidationError)
    if _is_api(request):
        return await request_validation_exception_handler(request, exc)
    return await error_page(request, 400, "The request could not be read. Go back and try again.")


def install_handlers(root: FastAPI) -> None:
    """Register the web UI's error pages on the root application."""
    root.add_exception_handler(LoginRequiredError, on_login_required)
    root.add_exception_handler(CsrfError, on_csrf)
    root.add_exception_handler(PermissionDeniedError, on_denied)
    root.add_exception_handler(EntryNotFoundError, on_not_found)
    root.add_exception_handler(NotFoundError, on_not_found)
    root.add_exception_handler(HTTPException, on_http)
    root.add_exception_handler(RequestValidationError, on_invalid)
