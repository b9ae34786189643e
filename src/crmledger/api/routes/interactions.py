"""``/interactions``: calls, emails, orders, inquiries, complaints, notes and tasks, and the
queue of open complaints by SLA.

A complaint is created ``open`` with its SLA due times; it moves through
``POST /interactions/{id}/status`` (``If-Match`` required)::

    POST /api/v1/interactions/12/status   If-Match: "1"
    {"status": "resolved", "resolution": "Replacement sent"}
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from crmledger.api.deps import Services, permitted
from crmledger.api.interaction_schemas import (
    KEEP_WHEN_NULL,
    InteractionCreate,
    InteractionPublic,
    InteractionUpdate,
    Moment,
    StatusChange,
)
from crmledger.api.problems import requires, responses
from crmledger.api.routes.common import (
    MAX_LIMIT,
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
from crmledger.api.schemas import Page, decode_cursor, encode_cursor
from crmledger.bootstrap import App
from crmledger.core.crm.interactions import (
    Interaction,
    InteractionKind,
    Priority,
    Status,
)
from crmledger.services.crm_ports import InteractionQuery
from crmledger.services.errors import InvalidInputError
from crmledger.services.interactions import EARLIEST, ID_MAX, LATEST, next_due

router = APIRouter(prefix="/interactions", tags=["interactions"])
InteractionId = Annotated[int, Path(ge=1, le=ID_MAX)]


def _moment(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if at.utcoffset() is None or not EARLIEST <= at < LATEST:
        return None
    return at


def time_cursor(cursor: str) -> tuple[dt.datetime, int]:
    """The ``(time, id)`` keyset a cursor of a time-ordered list holds."""
    key = decode_cursor(cursor)
    if key is not None and len(key) == 2:
        at, last_id = _moment(key[0]), key[1]
        if at is not None and isinstance(last_id, int) and 0 <= last_id <= ID_MAX:
            return at, last_id
    raise InvalidInputError("cursor", "not a cursor of this list")


def time_key(at: dt.datetime, item_id: int | None) -> str:
    """The cursor continuing after an item at ``at`` with ``item_id``."""
    return encode_cursor([at.isoformat(), item_id])


def public(services: App, item: Interaction) -> InteractionPublic:
    """The API view of ``item`` with its SLA state now."""
    return InteractionPublic.of(item, services.interactions.sla(item), next_due(item))


class InteractionFilters(BaseModel):
    """Page, sort and filters of the interaction list (unknown parameters are refused)."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(100, ge=1, le=MAX_LIMIT, description="Page size (at most 500).")
    cursor: str | None = Field(None, max_length=512, description="`next_cursor` of the last page.")
    sort: Literal["occurred", "-occurred", "id", "-id"] = Field(
        "-occurred", description="By when it happened (newest first by default) or by id."
    )
    party_id: int | None = Field(None, ge=1, le=ID_MAX)
    kind: InteractionKind | None = None
    status: Status | None = None
    owner_id: int | None = Field(None, ge=1, le=ID_MAX)
    priority: Priority | None = None
    due_before: Moment | None = Field(None, description="Only those due before this time.")


def _query(filters: InteractionFilters) -> InteractionQuery:
    by_time = filters.sort.lstrip("-") == "occurred"
    after_at, after_id = None, None
    if filters.cursor is not None and by_time:
        after_at, after_id = time_cursor(filters.cursor)
    elif filters.cursor is not None:
        after_id = number_cursor(filters.cursor)
    return InteractionQuery(
        limit=filters.limit,
        sort=filters.sort,
        after_at=after_at,
        after_id=after_id,
        party_id=filters.party_id,
        kind=filters.kind,
        status=filters.status,
        owner_id=filters.owner_id,
        priority=filters.priority,
        due_before=filters.due_before,
    )


@router.get(
    "",
    operation_id="listInteractions",
    openapi_extra=requires("interactions:read"),
    response_model=Page[InteractionPublic],
    responses=responses(401, 403, 422),
)
def list_interactions(
    services: Services, filters: Annotated[InteractionFilters, Query()]
) -> Page[InteractionPublic]:
    """Interactions, newest first by default, filtered by party, kind, status, owner,
    priority or due time."""
    found = services.interactions.list(_query(filters))
    last = found[-1] if len(found) == filters.limit else None
    cursor = None
    if last is not None:
        by_time = filters.sort.lstrip("-") == "occurred"
        cursor = time_key(last.occurred_at, last.id) if by_time else encode_cursor([last.id])
    return Page(items=[public(services, i) for i in found], next_cursor=cursor)


@router.post(
    "",
    operation_id="createInteraction",
    openapi_extra=requires("interactions:write"),
    status_code=201,
    response_model=InteractionPublic,
    responses=responses(401, 403, 409, 422)
    | success(
        201,
        "ETag",
        "Location",
        getInteraction=link("getInteraction", {"interaction_id": "$response.body#/id"}),
        updateInteraction=link(
            "updateInteraction",
            {"interaction_id": "$response.body#/id", "header.If-Match": "$response.header.ETag"},
        ),
        changeInteractionStatus=link(
            "changeInteractionStatus",
            {"interaction_id": "$response.body#/id", "header.If-Match": "$response.header.ETag"},
        ),
    ),
)
def create_interaction(
    body: InteractionCreate,
    services: Services,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> InteractionPublic:
    """Log an interaction with a party; a complaint gets its SLA due times from its
    priority. The party, contact and owner must exist; the contact must link the party."""
    del idempotency_key  # handled by the idempotency middleware
    item = services.interactions.add(Interaction(**body.model_dump()))
    response.headers["ETag"] = etag(item.version)
    response.headers["Location"] = f"/api/v1/interactions/{item.id}"
    return public(services, item)


@router.get(
    "/complaints/queue",
    operation_id="complaintQueue",
    openapi_extra=requires("interactions:read"),
    response_model=Page[InteractionPublic],
    responses=responses(401, 403, 422),
)
def complaint_queue(
    services: Services, limit: Limit = 50, cursor: Cursor = None
) -> Page[InteractionPublic]:
    """Open and in-progress complaints, the one whose next SLA target (first response,
    then resolution) is due soonest first, each with its SLA state now."""
    after = time_cursor(cursor) if cursor is not None else None
    queue = services.interactions.complaint_queue(limit, after)
    next_cursor = None
    if len(queue) == limit and queue[-1].next_due is not None:
        next_cursor = time_key(queue[-1].next_due, queue[-1].interaction.id)
    return Page(
        items=[InteractionPublic.of(q.interaction, q.sla_state, q.next_due) for q in queue],
        next_cursor=next_cursor,
    )


@router.get(
    "/{interaction_id}",
    operation_id="getInteraction",
    openapi_extra=requires("interactions:read"),
    response_model=InteractionPublic,
    responses=responses(401, 403, 404, 422)
    | success(
        200,
        "ETag",
        updateInteraction=link(
            "updateInteraction",
            {
                "interaction_id": "$request.path.interaction_id",
                "header.If-Match": "$response.header.ETag",
            },
        ),
    ),
)
def get_interaction(
    interaction_id: InteractionId, services: Services, response: Response
) -> InteractionPublic:
    """One interaction; its ``ETag`` is what a change must send in ``If-Match``."""
    item = services.interactions.get(interaction_id)
    response.headers["ETag"] = etag(item.version)
    return public(services, item)


@router.patch(
    "/{interaction_id}",
    operation_id="updateInteraction",
    openapi_extra=requires("interactions:write"),
    response_model=InteractionPublic,
    responses=responses(401, 403, 404, 412, 422, 428)
    | success(
        200,
        "ETag",
        getInteraction=link("getInteraction", {"interaction_id": "$request.path.interaction_id"}),
    ),
)
def update_interaction(
    interaction_id: InteractionId,
    body: InteractionUpdate,
    services: Services,
    response: Response,
    if_match: IfMatch,
) -> InteractionPublic:
    """Change subject, body, priority, due time, owner or links (a new priority moves a
    complaint's SLA due times)."""
    changes = {
        name: getattr(body, name)
        for name in body.model_fields_set
        if not (name in KEEP_WHEN_NULL and getattr(body, name) is None)
    }
    item = services.interactions.update(
        interaction_id, changes, if_version=if_match_version(if_match)
    )
    response.headers["ETag"] = etag(item.version)
    return public(services, item)


@router.post(
    "/{interaction_id}/status",
    operation_id="changeInteractionStatus",
    openapi_extra=requires("interactions:write"),
    dependencies=[permitted("interactions:write")],
    response_model=InteractionPublic,
    responses=responses(401, 403, 404, 409, 412, 422, 428)
    | success(
        200,
        "ETag",
        getInteraction=link("getInteraction", {"interaction_id": "$request.path.interaction_id"}),
    ),
)
def change_interaction_status(
    interaction_id: InteractionId,
    body: StatusChange,
    services: Services,
    response: Response,
    if_match: IfMatch,
    idempotency_key: IdempotencyKey = None,
) -> InteractionPublic:
    """Move the interaction to another status now: ``in_progress`` records a complaint's
    first response, ``resolved`` / ``closed`` need a complaint's resolution, ``open``
    reopens. A move the rules do not allow is answered 409 and changes nothing."""
    del idempotency_key  # handled by the idempotency middleware
    item = services.interactions.change_status(
        interaction_id, body.status, body.resolution, if_version=if_match_version(if_match)
    )
    response.headers["ETag"] = etag(item.version)
    return public(services, item)
