"""``/auth``, ``/users`` and ``/tokens``: signing in and managing who may."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel

from crmledger.api.deps import Book, Services, request_id
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
    LoginRequest,
    LoginResponse,
    Page,
    TokenCreate,
    TokenIssued,
    UserCreate,
    UserPublic,
    UserUpdate,
    encode_cursor,
)
from crmledger.services.access import User

router = APIRouter(tags=["access"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
_UPDATE_AGAIN = link(
    "updateUser", {"user_id": "$request.path.user_id", "header.If-Match": "$response.header.ETag"}
)


def _user(user: User) -> UserPublic:
    return UserPublic(
        id=user.id,
        email=user.email,
        role=user.role,
        disabled=user.disabled,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
        version=user.version,
    )


@router.post(
    "/auth/login",
    operation_id="login",
    openapi_extra=requires("none"),
    response_model=LoginResponse,
    responses=responses(401, 422, 429),
)
def login(
    body: LoginRequest, book: Book, request: Request, rid: Annotated[str, Depends(request_id)]
) -> LoginResponse:
    """Exchange email and password for a bearer token (valid 8 hours). Ten failures a
    minute for one account or one address answer 429 with ``Retry-After``."""
    address = request.client.host if request.client else "-"
    principal = book.access.login(body.email, body.password, address, rid)
    issued = book.access.login_token(principal)
    return LoginResponse(token=issued.secret, expires_at=issued.expires_at)


@router.get(
    "/users",
    operation_id="listUsers",
    openapi_extra=requires("users:read"),
    response_model=Page[UserPublic],
    responses=responses(401, 403, 422),
)
def list_users(services: Services, limit: Limit = 100, cursor: Cursor = None) -> Page[UserPublic]:
    """Users by id."""
    after = number_cursor(cursor) if cursor else 0
    users = [u for u in services.access.users() if u.id > after][:limit]
    more = len(users) == limit
    return Page(
        items=[_user(u) for u in users], next_cursor=encode_cursor([users[-1].id]) if more else None
    )


@router.post(
    "/users",
    operation_id="createUser",
    openapi_extra=requires("users:write"),
    status_code=201,
    response_model=UserPublic,
    responses=responses(401, 403, 409, 422)
    | success(
        201,
        "ETag",
        "Location",
        getUser=link("getUser", {"user_id": "$response.body#/id"}),
        updateUser=link(
            "updateUser",
            {"user_id": "$response.body#/id", "header.If-Match": "$response.header.ETag"},
        ),
        createToken=link("createToken", {}, {"email": "$response.body#/email"}),
    ),
)
def create_user(
    body: UserCreate, services: Services, response: Response, idempotency_key: IdempotencyKey = None
) -> UserPublic:
    """Add a user with a role."""
    del idempotency_key
    user = services.access.add_user(body.email, body.role, body.password)
    response.headers["ETag"] = etag(user.version)
    response.headers["Location"] = f"/api/v1/users/{user.id}"
    return _user(user)


@router.get(
    "/users/{user_id}",
    operation_id="getUser",
    openapi_extra=requires("users:read"),
    response_model=UserPublic,
    responses=responses(401, 403, 404, 422) | success(200, "ETag", updateUser=_UPDATE_AGAIN),
)
def get_user(user_id: Id, services: Services, response: Response) -> UserPublic:
    """One user; send its ``ETag`` as ``If-Match`` to change it."""
    user = services.access.user(user_id)
    response.headers["ETag"] = etag(user.version)
    return _user(user)


@router.patch(
    "/users/{user_id}",
    operation_id="updateUser",
    openapi_extra=requires("users:write"),
    response_model=UserPublic,
    responses=responses(401, 403, 404, 412, 422, 428)
    | success(200, "ETag", updateUser=_UPDATE_AGAIN),
)
def update_user(
    user_id: Id, body: UserUpdate, services: Services, response: Response, if_match: IfMatch
) -> UserPublic:
    """Change a user's role or disable it (its sessions and tokens stop at once)."""
    user = services.access.update_user(
        user_id, if_version=if_match_version(if_match), role=body.role, disabled=body.disabled
    )
    response.headers["ETag"] = etag(user.version)
    return _user(user)


class TokenPublic(BaseModel):
    """A token (never its secret)."""

    id: int
    user_id: int
    email: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


@router.get(
    "/tokens",
    operation_id="listTokens",
    openapi_extra=requires("tokens:read"),
    response_model=Page[TokenPublic],
    responses=responses(401, 403, 422),
)
def list_tokens(services: Services, limit: Limit = 100, cursor: Cursor = None) -> Page[TokenPublic]:
    """API tokens by id."""
    after = number_cursor(cursor) if cursor else 0
    rows = [(t, e) for t, e in services.access.token_list() if t.id > after][:limit]
    return Page(
        items=[
            TokenPublic(
                id=t.id,
                user_id=t.user_id,
                email=e,
                name=t.name,
                created_at=t.created_at,
                expires_at=t.expires_at,
                revoked_at=t.revoked_at,
            )
            for t, e in rows
        ],
        next_cursor=encode_cursor([rows[-1][0].id]) if len(rows) == limit else None,
    )


@router.post(
    "/tokens",
    operation_id="createToken",
    openapi_extra=requires("tokens:write"),
    status_code=201,
    response_model=TokenIssued,
    responses=responses(401, 403, 404, 409, 422)
    | success(201, revokeToken=link("revokeToken", {"token_id": "$response.body#/id"})),
)
def create_token(
    body: TokenCreate, services: Services, idempotency_key: IdempotencyKey = None
) -> TokenIssued:
    """A bearer token for a user, acting with that user's role; the secret is shown once."""
    del idempotency_key
    issued = services.access.create_token(body.email, body.name, body.expires_days)
    return TokenIssued(
        id=issued.id, name=issued.name, token=issued.secret, expires_at=issued.expires_at
    )


@router.delete(
    "/tokens/{token_id}",
    operation_id="revokeToken",
    openapi_extra=requires("tokens:write"),
    status_code=204,
    responses=responses(401, 403, 404, 422),
)
def revoke_token(token_id: Id, services: Services) -> Response:
    """Revoke a token; it stops working at once."""
    services.access.revoke_token(token_id)
    return Response(status_code=204)
