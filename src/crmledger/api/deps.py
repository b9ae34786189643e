"""Dependencies shared by the routers: the book, the caller, the services acting for it.

``Book`` is the operator's :class:`~crmledger.bootstrap.App`; ``Services`` is the same book
acting for the authenticated caller, so every service call checks that caller's role and
records it in the audit log::

    @router.get("/accounts")
    def list_accounts(services: Services) -> ...:
        return services.ledger.accounts()
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from crmledger.bootstrap import App
from crmledger.core.access import AuthenticationError, Principal
from crmledger.services.trail import Actor

bearer = HTTPBearer(auto_error=False, description="A token from `crmledger token create`.")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def get_book(request: Request) -> App:
    """The book this server runs on."""
    book: App = request.app.state.book
    return book


Book = Annotated[App, Depends(get_book)]


def request_id(request: Request) -> str:
    """The id the server middleware chose (and answers with in ``X-Request-ID``), else the
    caller's when it is sane, else a new one."""
    chosen = getattr(request.state, "request_id", None)
    if isinstance(chosen, str):
        return chosen
    given = request.headers.get("x-request-id", "")
    rid = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
    request.state.request_id = rid
    return rid


def get_principal(
    book: Book,
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller, from ``Authorization: Bearer <token>``; 401 without a valid one. The
    idempotency middleware may have authenticated the request already."""
    known = getattr(request.state, "principal", None)
    if isinstance(known, Principal):
        return known
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationError
    return book.access.authenticate_token(credentials.credentials)


Caller = Annotated[Principal, Depends(get_principal)]


def get_services(book: Book, caller: Caller, rid: Annotated[str, Depends(request_id)]) -> App:
    """The book's services acting for the caller in this request."""
    return book.acting_as(Actor(caller, rid))


Services = Annotated[App, Depends(get_services)]


def permitted(permission: str) -> Any:
    """A route dependency refusing (403) a caller without ``permission`` (``sales:write``)
    before the request's headers are read: a role that may not act learns that, not that
    it forgot ``If-Match`` (428). The service checks the permission again."""
    resource, action = permission.split(":")

    def check(caller: Caller) -> None:
        caller.require(resource, action)

    return Depends(check)
