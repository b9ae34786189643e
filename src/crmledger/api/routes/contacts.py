"""``/contacts``: people's places in organisations (a person, an organisation, a role)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from crmledger.api.crm_schemas import ContactCreate, ContactPublic, ContactUpdate, PartyRef
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
from crmledger.api.schemas import Page, encode_cursor
from crmledger.core.crm.parties import Contact, Party
from crmledger.services.parties import ContactView

router = APIRouter(prefix="/contacts", tags=["contacts"])
ContactId = Annotated[int, Path(ge=1, le=2**31 - 1)]
PartyFilter = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


def ref(party: Party) -> PartyRef:
    """A short reference to a party."""
    assert party.id is not None
    return PartyRef(id=party.id, kind=party.kind, display_name=party.display_name)


def public(view: ContactView) -> ContactPublic:
    """The API view of a contact link."""
    c = view.contact
    assert c.id is not None
    assert c.created_at is not None
    return ContactPublic(
        id=c.id,
        organisation=ref(view.organisation),
        person=ref(view.person),
        role=c.role,
        primary=c.primary,
        version=c.version,
        created_at=c.created_at,
    )


@router.get(
    "",
    operation_id="listContacts",
    openapi_extra=requires("parties:read"),
    response_model=Page[ContactPublic],
    responses=responses(401, 403, 422),
)
def list_contacts(
    services: Services,
    limit: Limit = 100,
    cursor: Cursor = None,
    organisation_id: PartyFilter = None,
    person_id: PartyFilter = None,
) -> Page[ContactPublic]:
    """Contact links, primary contacts first; filter by organisation or person."""
    if organisation_id is None and person_id is None:
        after = number_cursor(cursor) if cursor is not None else 0
        views = services.parties.contact_page(after, limit)
        more = len(views) == limit
        last = views[-1].contact.id if more else None
        return Page(
            items=[public(v) for v in views],
            next_cursor=encode_cursor([last]) if last is not None else None,
        )
    views = services.parties.contacts(organisation_id, person_id)
    start = number_cursor(cursor) if cursor is not None else 0
    page = views[start : start + limit]
    more = start + limit < len(views)
    return Page(
        items=[public(v) for v in page],
        next_cursor=encode_cursor([start + limit]) if more else None,
    )


@router.post(
    "",
    operation_id="createContact",
    openapi_extra=requires("parties:write"),
    status_code=201,
    response_model=ContactPublic,
    responses=responses(401, 403, 404, 409, 422)
    | success(
        201,
        "ETag",
        "Location",
        getContact=link("getContact", {"contact_id": "$response.body#/id"}),
    ),
)
def create_contact(
    body: ContactCreate,
    services: Services,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ContactPublic:
    """Make a person a contact of an organisation, with a role."""
    del idempotency_key  # handled by the idempotency middleware
    contact = services.parties.add_contact(
        Contact(body.organisation_id, body.person_id, body.role, body.primary)
    )
    assert contact.id is not None
    response.headers["ETag"] = etag(contact.version)
    response.headers["Location"] = f"/api/v1/contacts/{contact.id}"
    return public(services.parties.contact(contact.id))


@router.get(
    "/{contact_id}",
    operation_id="getContact",
    openapi_extra=requires("parties:read"),
    response_model=ContactPublic,
    responses=responses(401, 403, 404, 422) | success(200, "ETag"),
)
def get_contact(contact_id: ContactId, services: Services, response: Response) -> ContactPublic:
    """One contact link."""
    view = services.parties.contact(contact_id)
    response.headers["ETag"] = etag(view.contact.version)
    return public(view)


@router.patch(
    "/{contact_id}",
    operation_id="updateContact",
    openapi_extra=requires("parties:write"),
    response_model=ContactPublic,
    responses=responses(401, 403, 404, 412, 422, 428) | success(200, "ETag"),
)
def update_contact(
    contact_id: ContactId,
    body: ContactUpdate,
    services: Services,
    response: Response,
    if_match: IfMatch,
) -> ContactPublic:
    """Change a contact's role or primary flag."""
    current = services.parties.contact(contact_id).contact
    role = current.role if body.role is None else body.role
    primary = current.primary if body.primary is None else body.primary
    updated = services.parties.update_contact(
        contact_id, role, primary, if_version=if_match_version(if_match)
    )
    response.headers["ETag"] = etag(updated.version)
    return public(services.parties.contact(contact_id))


@router.delete(
    "/{contact_id}",
    operation_id="deleteContact",
    openapi_extra=requires("parties:write"),
    status_code=204,
    responses=responses(401, 403, 404, 422),
)
def delete_contact(contact_id: ContactId, services: Services) -> Response:
    """Unlink the person from the organisation (both parties stay)."""
    services.parties.remove_contact(contact_id)
    return Response(status_code=204)
