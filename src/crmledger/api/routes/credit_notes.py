"""``/credit-notes``: what was credited on invoices; they are created by crediting one.

A credit note is issued the moment it is made (``POST /invoices/{id}/credit-notes``) and
applied to what its invoice still had open; ``open`` is what is left over as the
customer's credit::

    GET /api/v1/credit-notes?party_id=7      →  {"items": [{"number": "CN-2026-0001", ...}]}
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from crmledger.api.billing_schemas import CreditNotePublic
from crmledger.api.deps import Services
from crmledger.api.problems import requires, responses
from crmledger.api.routes.common import etag, link, success
from crmledger.api.routes.invoices import DocumentFilters, documents, of_kind
from crmledger.api.schemas import Page

router = APIRouter(prefix="/credit-notes", tags=["credit-notes"])
CreditNoteId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get(
    "",
    operation_id="listCreditNotes",
    openapi_extra=requires("billing:read"),
    response_model=Page[CreditNotePublic],
    responses=responses(401, 403, 422),
)
def list_credit_notes(
    services: Services, filters: Annotated[DocumentFilters, Query()]
) -> Page[CreditNotePublic]:
    """Credit notes, newest first; filter by party or status (``paid``: fully applied)."""
    found, after = documents(services, "credit_note", filters)
    return Page(items=[CreditNotePublic.of(d) for d in found], next_cursor=after)


@router.get(
    "/{credit_note_id}",
    operation_id="getCreditNote",
    openapi_extra=requires("billing:read"),
    response_model=CreditNotePublic,
    responses=responses(401, 403, 404, 422)
    | success(
        200,
        "ETag",
        getInvoice=link("getInvoice", {"invoice_id": "$response.body#/refers_to"}),
    ),
)
def get_credit_note(
    credit_note_id: CreditNoteId, services: Services, response: Response
) -> CreditNotePublic:
    """One credit note; ``refers_to`` is the invoice it credits."""
    note = of_kind(services.invoices.get(credit_note_id), "credit_note")
    response.headers["ETag"] = etag(note.version)
    return CreditNotePublic.of(note)
