"""Merging two parties, and undoing it.

::

    POST /api/v1/parties/12/merge          {"absorbed_id": 31}   If-Match: "4"  (party 12)
    GET  /api/v1/party-merges?party_id=12
    GET  /api/v1/party-merges/7
    POST /api/v1/party-merges/7/undo

A merge moves every record of the absorbed party (contacts, timeline, deals, sales and
billing documents, payments, dunning notices, external ids, tags) to the survivor; an
undo moves exactly those records back. Both need ``parties:write``, and ``billing:write``
as well when finance records move (403 otherwise).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from crmledger.api.deps import Services, permitted
from crmledger.api.party_merge_schemas import PartyMergeCreate, PartyMergePublic
from crmledger.api.problems import requires, responses
from crmledger.api.routes.common import (
    MAX_LIMIT,
    IfMatch,
    etag,
    if_match_version,
    link,
    number_cursor,
    success,
)
from crmledger.api.schemas import Page, encode_cursor

router = APIRouter(tags=["parties"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


class MergeFilters(BaseModel):
    """Page, party and status of the merge list (unknown parameters are refused)."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(50, ge=1, le=MAX_LIMIT, description="Page size (at most 500).")
    cursor: str | None = Field(None, max_length=512, description="`next_cursor` of the last page.")
    party_id: int | None = Field(None, ge=1, le=2**31 - 1, description="Survivor or absorbed.")
    status: Literal["active", "undone"] | None = None


_UNDO = link("undoPartyMerge", {"merge_id": "$response.body#/id"})


@router.post(
    "/parties/{party_id}/merge",
    operation_id="mergeParty",
    openapi_extra=requires("parties:write"),
    dependencies=[permitted("parties:write")],
    status_code=201,
    response_model=PartyMergePublic,
    responses=responses(401, 403, 404, 409, 412, 422, 428)
    | success(201, "Location", "ETag", undoPartyMerge=_UNDO),
)
def merge_party(
    party_id: Id,
    body: PartyMergeCreate,
    services: Services,
    response: Response,
    if_match: IfMatch,
) -> PartyMergePublic:
    """Merge ``absorbed_id`` into this party (``If-Match``: this party's ``ETag``). The
    absorbed party stays, marked as merged; the answer's ``ETag`` is this party's new
    version."""
    done = services.party_merges.merge(party_id, body.absorbed_id, if_match_version(if_match))
    response.headers["Location"] = f"/api/v1/party-merges/{done.id}"
    response.headers["ETag"] = etag(done.versions[party_id])
    return PartyMergePublic.of(done)


@router.get(
    "/party-merges",
    operation_id="listPartyMerges",
    openapi_extra=requires("parties:read"),
    response_model=Page[PartyMergePublic],
    responses=responses(401, 403, 422),
)
def list_merges(
    services: Services, filters: Annotated[MergeFilters, Query()]
) -> Page[PartyMergePublic]:
    """Merges, newest first."""
    before = number_cursor(filters.cursor) if filters.cursor else 0
    rows = services.party_merges.list(filters.party_id, filters.status, before, filters.limit)
    last = rows[-1] if len(rows) == filters.limit else None
    return Page(
        items=[PartyMergePublic.of(r) for r in rows],
        next_cursor=encode_cursor([last.id]) if last else None,
    )


@router.get(
    "/party-merges/{merge_id}",
    operation_id="getPartyMerge",
    openapi_extra=requires("parties:read"),
    response_model=PartyMergePublic,
    responses=responses(401, 403, 404, 422) | success(200, undoPartyMerge=_UNDO),
)
def get_merge(merge_id: Id, services: Services) -> PartyMergePublic:
    """One merge."""
    return PartyMergePublic.of(services.party_merges.get(merge_id))


@router.post(
    "/party-merges/{merge_id}/undo",
    operation_id="undoPartyMerge",
    openapi_extra=requires("parties:write"),
    dependencies=[permitted("parties:write")],
    response_model=PartyMergePublic,
    responses=responses(401, 403, 404, 409, 422)
    | success(200, getPartyMerge=link("getPartyMerge", {"merge_id": "$request.path.merge_id"})),
)
def undo_merge(merge_id: Id, services: Services) -> PartyMergePublic:
    """Move every record the merge moved back to the absorbed party. Refused (409) when
    undone already, while the survivor is merged into another party, or when finance
    records moved by the merge were linked to the survivor's own since."""
    return PartyMergePublic.of(services.party_merges.unmerge(merge_id))
