"""``/accounts``: the chart of accounts."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Response

from crmledger.api.deps import Services
from crmledger.api.problems import requires, responses
from crmledger.api.routes.common import (
    Cursor,
    IdempotencyKey,
    IfMatch,
    Limit,
    etag,
    if_match_version,
    link,
    number_cursor,
    success,
)
from crmledger.api.schemas import (
    ACCOUNT_NAME,
    ACCOUNT_NAME_MAX,
    AccountCreate,
    AccountPublic,
    AccountUpdate,
    Page,
    encode_cursor,
)
from crmledger.core.accounts import Account, AccountType
from crmledger.services.errors import ConflictError, NotFoundError

router = APIRouter(prefix="/accounts", tags=["accounts"])
AccountPath = Annotated[
    str, Path(pattern=ACCOUNT_NAME, max_length=ACCOUNT_NAME_MAX, examples=["Assets:Cash"])
]


def public(account: Account, version: int) -> AccountPublic:
    """The API view of an account."""
    return AccountPublic(
        name=account.name,
        type=account.type.value,
        code=account.code,
        commodities=list(account.commodities),
        open_date=account.open_date,
        close_date=account.close_date,
        description=account.description,
        version=version,
    )


@router.get(
    "",
    operation_id="listAccounts",
    openapi_extra=requires("accounts:read"),
    response_model=Page[AccountPublic],
    responses=responses(401, 403, 422),
)
def list_accounts(
    services: Services,
    limit: Limit = 100,
    cursor: Cursor = None,
    type: Annotated[AccountType | None, Query(description="Only accounts of this type.")] = None,
    sort: Annotated[str, Query(pattern="^-?(name|code)$")] = "name",
) -> Page[AccountPublic]:
    """The chart of accounts, by name or code."""
    found = [
        (a, v)
        for a, v in services.ledger.accounts_with_versions()
        if type is None or a.type is type
    ]
    field = sort.lstrip("-")
    found.sort(
        key=lambda av: (getattr(av[0], field) or "", av[0].name), reverse=sort.startswith("-")
    )
    start = number_cursor(cursor) if cursor is not None else 0
    page = found[start : start + limit]
    more = start + limit < len(found)
    return Page(
        items=[public(a, v) for a, v in page],
        next_cursor=encode_cursor([start + limit]) if more else None,
    )


@router.post(
    "",
    operation_id="createAccount",
    openapi_extra=requires("accounts:write"),
    status_code=201,
    response_model=AccountPublic,
    responses=responses(401, 403, 409, 422)
    | success(
        201,
        "ETag",
        "Location",
        getAccount=link("getAccount", {"name": "$response.body#/name"}),
        updateAccount=link(
            "updateAccount",
            {"name": "$response.body#/name", "header.If-Match": "$response.header.ETag"},
        ),
    ),
)
def create_account(
    body: AccountCreate,
    services: Services,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> AccountPublic:
    """Open an account."""
    del idempotency_key  # handled by the idempotency middleware
    account = Account(
        body.name,
        code=body.code,
        commodities=tuple(c.upper() for c in body.commodities),  # as postings do
        open_date=body.open_date,
        description=body.description,
    )
    for existing, _ in services.ledger.accounts_with_versions():
        if existing.name == account.name or (account.code and existing.code == account.code):
            raise ConflictError(f"{existing.name} already has this name or code")
    services.ledger.add_account(account)
    response.headers["ETag"] = etag(1)
    response.headers["Location"] = f"/api/v1/accounts/{quote(account.name, safe=':')}"
    return public(account, 1)


def _find(services: Services, name: str) -> tuple[Account, int]:
    for account, version in services.ledger.accounts_with_versions():
        if account.name == name:
            return account, version
    raise NotFoundError(f"no account {name}")


@router.get(
    "/{name:path}",  # a segment may hold "/"
    operation_id="getAccount",
    openapi_extra=requires("accounts:read"),
    response_model=AccountPublic,
    responses=responses(401, 403, 404, 422)
    | success(
        200,
        "ETag",
        updateAccount=link(
            "updateAccount",
            {"name": "$request.path.name", "header.If-Match": "$response.header.ETag"},
        ),
    ),
)
def get_account(name: AccountPath, services: Services, response: Response) -> AccountPublic:
    """One account; its ``ETag`` is what an update must send in ``If-Match``."""
    account, version = _find(services, name)
    response.headers["ETag"] = etag(version)
    return public(account, version)


@router.patch(
    "/{name:path}",  # a segment may hold "/"
    operation_id="updateAccount",
    openapi_extra=requires("accounts:write"),
    response_model=AccountPublic,
    responses=responses(401, 403, 404, 412, 422, 428)
    | success(200, "ETag", getAccount=link("getAccount", {"name": "$request.path.name"})),
)
def update_account(
    name: AccountPath,
    body: AccountUpdate,
    services: Services,
    response: Response,
    if_match: IfMatch,
) -> AccountPublic:
    """Close an account as of a date (no postings after it may exist)."""
    account, _ = _find(services, name)  # 404, not the 422 of an entry naming an unknown one
    # The core's rules for the closed account (it may not close before it opens), checked
    # before the book stores a close date that every later read of the chart would refuse.
    replace(account, close_date=body.close_date)
    services.ledger.close_account(name, body.close_date, if_version=if_match_version(if_match))
    account, version = _find(services, name)
    response.headers["ETag"] = etag(version)
    return public(account, version)
