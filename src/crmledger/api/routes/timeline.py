"""``/parties/{party_id}/timeline``: everything that happened with a party, newest first.

An organisation's timeline also holds what was logged against its contacts (the people
linked to it). Items are paged by keyset: ``next_cursor`` continues strictly after the
last item's time and id, so items sharing a timestamp are neither skipped nor repeated::

    GET /api/v1/parties/7/timeline?limit=50
    GET /api/v1/parties/7/timeline?limit=50&cursor=<next_cursor>
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from crmledger.api.deps import Services
from crmledger.api.interaction_schemas import TimelineItemPublic
from crmledger.api.problems import requires, responses
from crmledger.api.routes.common import Cursor, Limit
from crmledger.api.routes.interactions import time_cursor, time_key
from crmledger.api.schemas import Page
from crmledger.services.interactions import ID_MAX

router = APIRouter(prefix="/parties", tags=["parties"])
PartyId = Annotated[int, Path(ge=1, le=ID_MAX)]


@router.get(
    "/{party_id}/timeline",
    operation_id="partyTimeline",
    # Also needs parties:read, which every role reading interactions has.
    openapi_extra=requires("interactions:read"),
    response_model=Page[TimelineItemPublic],
    responses=responses(401, 403, 404, 422),
)
def party_timeline(
    party_id: PartyId, services: Services, limit: Limit = 50, cursor: Cursor = None
) -> Page[TimelineItemPublic]:
    """The party's interactions (and, for an organisation, its contacts'), newest first,
    each with its SLA state now."""
    before = time_cursor(cursor) if cursor is not None else None
    items = services.interactions.timeline(party_id, before, limit)
    last = items[-1] if len(items) == limit else None
    return Page(
        items=[TimelineItemPublic.of(i) for i in items],
        next_cursor=time_key(last.at, last.id) if last is not None else None,
    )
