"""``/parties``: organisations and people, the record sales, support and finance share."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from crmledger.api.crm_schemas import PartyCreate, PartyPublic, PartyUpdate, party_values
from crmledger.api.deps import Services
from crmledger.api.problems import requires, responses
from crmledger.api.routes.common import (
    MAX_LIMIT,
    IdempotencyKey,
    IfMatch,
    etag,
    if_match_version,
    link,
    success,
)
from crmledger.api.schemas import NO_NUL, Moment, Page, decode_cursor, encode_cursor
from crmledger.core.crm.parties import Lifecycle, Party, PartyKind
from crmledger.services.crm_ports import PartyQuery
from crmledger.services.errors import InvalidInputError

router = APIRouter(prefix="/parties", tags=["parties"])
PartyId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class PartyFilters(BaseModel):
    """Page, sort and filters of the party list (unknown parameters are refused)."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(100, ge=1, le=MAX_LIMIT, description="Page size (at most 500).")
    cursor: str | None = Field(None, max_length=512, description="`next_cursor` of the last page.")
    sort: Literal["id", "-id", "updated", "-updated"] = Field(
        "-id", description="Newest first by default. Names are encrypted, so not sortable."
    )
    kind: PartyKind | None = None
    lifecycle: Lifecycle | None = None
    owner_id: int | None = Field(None, ge=1, le=2**31 - 1)
    tag: str | None = Field(None, max_length=50, pattern=NO_NUL)
    segment: str | None = Field(None, max_length=100, pattern=NO_NUL)
    source: str | None = Field(None, max_length=100, pattern=NO_NUL)
    updated_since: Moment | None = Field(
        None, description="Only parties changed at or after this time (ISO 8601)."
    )
    external: str | None = Field(
        None,
        max_length=251,
        pattern=r"^[^:\x00]{1,50}:[^\x00]{1,200}$",
        description="The party with this external id, as `system:id`.",
    )


def _external(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    system, _, external_id = value.partition(":")
    return system, external_id


def _after(cursor: str | None) -> tuple[str, int] | None:
    if cursor is None:
        return None
    key = decode_cursor(cursor)
    if key is None or len(key) != 2 or not isinstance(key[1], int):
        raise InvalidInputError("cursor", "not a cursor of this list")
    return str(key[0]), key[1]


def _cursor_key(party: Party, sort: str) -> list[object]:
    assert party.updated_at is not None
    value = party.id if sort.lstrip("-") == "id" else party.updated_at.isoformat()
    return [str(value), party.id]


@router.get(
    "",
    operation_id="listParties",
    openapi_extra=requires("parties:read"),
    response_model=Page[PartyPublic],
    responses=responses(401, 403, 422),
)
def list_parties(
    services: Services, filters: Annotated[PartyFilters, Query()]
) -> Page[PartyPublic]:
    """Parties, newest first by default, filtered by kind, lifecycle, owner, tag, segment,
    source, the time they last changed (``sort=updated&updated_since=...`` pages through
    what changed since) or an external id (``external=shop:C-1001``)."""
    query = PartyQuery(
        limit=filters.limit,
        sort=filters.sort,
        after=_after(filters.cursor),
        kind=filters.kind,
        lifecycle=filters.lifecycle,
        owner_id=filters.owner_id,
        tag=filters.tag,
        segment=filters.segment,
        source=filters.source,
        updated_since=filters.updated_since,
        external=_external(filters.external),
    )
    found = services.parties.list(query)
    last = found[-1] if len(found) == filters.limit else None
    return Page(
        items=[PartyPublic.of(p) for p in found],
        next_cursor=encode_cursor(_cursor_key(last, filters.sort)) if last else None,
    )


@router.post(
    "",
    operation_id="createParty",
    openapi_extra=requires("parties:write"),
    status_code=201,
    response_model=PartyPublic,
    responses=responses(401, 403, 409, 422)
    | success(
        201,
        "ETag",
        "Location",
        getParty=link("getParty", {"party_id": "$response.body#/id"}),
        updateParty=link(
            "updateParty",
            {"party_id": "$response.body#/id", "header.If-Match": "$response.header.ETag"},
        ),
        partyTimeline=link("partyTimeline", {"party_id": "$response.body#/id"}),
    ),
)
def create_party(
    body: PartyCreate,
    services: Services,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> PartyPublic:
    """Add an organisation or a person. Phones, emails, tax ids, IBANs, countries,
    currencies and languages are checked and normalised; a bad one is refused naming the
    field (``phones[0].number``) and the reason."""
    del idempotency_key  # handled by the idempotency middleware
    values = party_values(body, set(PartyCreate.model_fields) - {"kind"})
    party = services.parties.add(Party(kind=body.kind, **values))
    response.headers["ETag"] = etag(party.version)
    response.headers["Location"] = f"/api/v1/parties/{party.id}"
    return PartyPublic.of(party)


@router.get(
    "/{party_id}",
    operation_id="getParty",
    openapi_extra=requires("parties:read"),
    response_model=PartyPublic,
    responses=responses(401, 403, 404, 422)
    | success(
        200,
        "ETag",
        updateParty=link(
            "updateParty",
            {"party_id": "$request.path.party_id", "header.If-Match": "$response.header.ETag"},
        ),
    ),
)
def get_party(party_id: PartyId, services: Services, response: Response) -> PartyPublic:
    """One party; its ``ETag`` is what an update must send in ``If-Match``."""
    party = services.parties.get(party_id)
    response.headers["ETag"] = etag(party.version)
    return PartyPublic.of(party)


@router.patch(
    "/{party_id}",
    operation_id="updateParty",
    openapi_extra=requires("parties:write"),
    response_model=PartyPublic,
    responses=responses(401, 403, 404, 409, 412, 422, 428)
    | success(200, "ETag", getParty=link("getParty", {"party_id": "$request.path.party_id"})),
)
def update_party(
    party_id: PartyId,
    body: PartyUpdate,
    services: Services,
    response: Response,
    if_match: IfMatch,
) -> PartyPublic:
    """Change the fields sent (a list replaces the stored list as a whole)."""
    changes = party_values(body, set(body.model_fields_set))
    party = services.parties.update(party_id, changes, if_version=if_match_version(if_match))
    response.headers["ETag"] = etag(party.version)
    return PartyPublic.of(party)
