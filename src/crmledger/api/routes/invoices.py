"""``/invoices``: customer invoices from draft to paid, their credit notes and their PDF.

A draft is written from lines or from a confirmed order; issuing it (with ``If-Match``)
numbers it ``INV-<year>-<n>``, checks the customer's credit limit and posts it. Crediting
it issues a credit note at the invoice's own prices and applies it to what is still open::

    POST /api/v1/invoices                {"order_id": 5}         →  201, a draft
    PATCH /api/v1/invoices/12            If-Match: "1"  {"prices_include_tax": true}
    DELETE /api/v1/invoices/13           If-Match: "1"           →  204 (drafts only: 409)
    POST /api/v1/invoices/12/issue       If-Match: "2"           →  {"status": "issued", ...}
    POST /api/v1/invoices/12/credit-notes  If-Match: "2"  {}     →  201, the credit note
    GET  /api/v1/invoices/12/pdf?format=facturx                  →  application/pdf
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from crmledger.api.billing_schemas import (
    CreditNoteCreate,
    CreditNotePublic,
    InvoiceCreate,
    InvoiceFromOrder,
    InvoiceIssue,
    InvoicePublic,
    InvoiceUpdate,
    credited,
    draft_changes,
    invoice_lines,
)
from crmledger.api.commerce_schemas import QueryId
from crmledger.api.deps import Services, permitted
from crmledger.api.problems import requires, responses
from crmledger.api.routes.common import (
    MAX_LIMIT,
    IdempotencyKey,
    IfMatch,
    etag,
    if_match_version,
    link,
    number_cursor,
    success,
)
from crmledger.api.routes.quotes import MOVE, next_cursor
from crmledger.api.schemas import Day, Page
from crmledger.core.billing.settlement import InvoiceStatus
from crmledger.services.billing_ports import BillingQuery
from crmledger.services.billing_views import BillingDoc
from crmledger.services.errors import NotFoundError
from crmledger.services.invoicing import NewDocument

router = APIRouter(prefix="/invoices", tags=["invoices"])
InvoiceId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_PDF: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The invoice as PDF (Factur-X: PDF/A-3 with its EN 16931 XML).",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }
}


class DocumentFilters(BaseModel):
    """Page and filters of invoices, credit notes or bills, newest first (unknown
    parameters are refused)."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(100, ge=1, le=MAX_LIMIT, description="Page size (at most 500).")
    cursor: str | None = Field(None, max_length=512, description="`next_cursor` of the last page.")
    party_id: QueryId | None = None
    status: InvoiceStatus | None = None
    overdue_on: Day | None = Field(
        None, description="Only documents still open whose due date lies before this day."
    )


class PdfFormat(BaseModel):
    """How to print (unknown parameters are refused)."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["pdf", "facturx"] = Field(
        "pdf", description="`facturx`: PDF/A-3 with the EN 16931 XML embedded."
    )


def documents(
    services: Services, kind: str, filters: DocumentFilters
) -> tuple[list[BillingDoc], str | None]:
    """A page of documents of ``kind`` and the cursor after it."""
    found = services.invoices.page(
        BillingQuery(
            limit=filters.limit,
            after=number_cursor(filters.cursor) if filters.cursor is not None else None,
            kind=kind,
            party_id=filters.party_id,
            status=None if filters.status is None else filters.status.value,
            overdue_on=filters.overdue_on,
        )
    )
    return found, next_cursor([d.id for d in found], filters.limit)


def of_kind(doc: BillingDoc, kind: str) -> BillingDoc:
    """``doc`` if it is a ``kind``: invoices, credit notes and bills share one id space,
    and a bill is not found under ``/invoices``."""
    if doc.kind != kind:
        raise NotFoundError(f"no {kind.replace('_', ' ')} {doc.id}")
    return doc


def _answer(doc: BillingDoc, response: Response) -> InvoicePublic:
    response.headers["ETag"] = etag(doc.version)
    return InvoicePublic.of(doc)


@router.get(
    "",
    operation_id="listInvoices",
    openapi_extra=requires("billing:read"),
    response_model=Page[InvoicePublic],
    responses=responses(401, 403, 422),
)
def list_invoices(
    services: Services, filters: Annotated[DocumentFilters, Query()]
) -> Page[InvoicePublic]:
    """Invoices, newest first; filter by party, status, or what is overdue on a day."""
    found, after = documents(services, "invoice", filters)
    return Page(items=[InvoicePublic.of(d) for d in found], next_cursor=after)


@router.post(
    "",
    operation_id="createInvoice",
    openapi_extra=requires("billing:write"),
    status_code=201,
    response_model=InvoicePublic,
    responses=responses(401, 403, 404, 409, 422)
    | success(
        201,
        "ETag",
        "Location",
        getInvoice=link("getInvoice", {"invoice_id": "$response.body#/id"}),
        issueInvoice=link(
            "issueInvoice",
            {"invoice_id": "$response.body#/id", "header.If-Match": "$response.header.ETag"},
        ),
    ),
)
def create_invoice(
    body: Annotated[InvoiceCreate | InvoiceFromOrder, Body()],
    services: Services,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> InvoicePublic:
    """A draft invoice from lines (a line without a description, price or tax category
    takes its product's; a bad line is refused naming its field, ``lines[2].quantity``),
    or, given an ``order_id``, the draft of a confirmed order, line for line."""
    del idempotency_key  # handled by the idempotency middleware
    if isinstance(body, InvoiceFromOrder):
        doc = services.invoices.from_order(body.order_id)
    else:
        doc = services.invoices.create(
            NewDocument(
                party_id=body.party_id,
                currency=body.currency,
                lines=invoice_lines(body.lines),
                issued_on=body.issued_on,
                due_on=body.due_on,
                reference=body.reference,
                note=body.note,
                prices_include_tax=body.prices_include_tax,
            )
        )
    response.headers["Location"] = f"/api/v1/invoices/{doc.id}"
    return _answer(doc, response)


@router.get(
    "/{invoice_id}",
    operation_id="getInvoice",
    openapi_extra=requires("billing:read"),
    response_model=InvoicePublic,
    responses=responses(401, 403, 404, 422)
    | success(
        200,
        "ETag",
        issueInvoice=link(
            "issueInvoice",
            {"invoice_id": "$request.path.invoice_id", "header.If-Match": "$response.header.ETag"},
        ),
        creditInvoice=link(
            "creditInvoice",
            {"invoice_id": "$request.path.invoice_id", "header.If-Match": "$response.header.ETag"},
        ),
        updateInvoice=link(
            "updateInvoice",
            {"invoice_id": "$request.path.invoice_id", "header.If-Match": "$response.header.ETag"},
        ),
        deleteInvoice=link(
            "deleteInvoice",
            {"invoice_id": "$request.path.invoice_id", "header.If-Match": "$response.header.ETag"},
        ),
    ),
)
def get_invoice(invoice_id: InvoiceId, services: Services, response: Response) -> InvoicePublic:
    """One invoice with its lines, totals and what is still open."""
    return _answer(of_kind(services.invoices.get(invoice_id), "invoice"), response)


@router.patch(
    "/{invoice_id}",
    operation_id="updateInvoice",
    openapi_extra=requires("billing:write"),
    dependencies=[permitted("billing:write")],
    response_model=InvoicePublic,
    responses=MOVE
    | success(
        200,
        "ETag",
        issueInvoice=link(
            "issueInvoice",
            {"invoice_id": "$request.path.invoice_id", "header.If-Match": "$response.header.ETag"},
        ),
    ),
)
def update_invoice(
    invoice_id: InvoiceId,
    body: InvoiceUpdate,
    services: Services,
    response: Response,
    if_match: IfMatch,
) -> InvoicePublic:
    """Change a draft: its party, currency, dates, lines (as a whole), whether its prices
    include tax, its reference or note; its lines are priced anew. An issued invoice is
    refused (409: credit it instead); a stale ``If-Match`` answers 412."""
    of_kind(services.invoices.get(invoice_id), "invoice")
    doc = services.invoices.update(invoice_id, draft_changes(body), if_match_version(if_match))
    return _answer(doc, response)


@router.delete(
    "/{invoice_id}",
    operation_id="deleteInvoice",
    openapi_extra=requires("billing:write"),
    dependencies=[permitted("billing:write")],
    status_code=204,
    responses=MOVE,
)
def delete_invoice(invoice_id: InvoiceId, services: Services, if_match: IfMatch) -> Response:
    """Delete a draft (it has no number yet, so numbering keeps no gap). An issued invoice
    is refused (409: credit it instead); a stale ``If-Match`` answers 412."""
    of_kind(services.invoices.get(invoice_id), "invoice")
    services.invoices.delete(invoice_id, if_match_version(if_match))
    return Response(status_code=204)


@router.post(
    "/{invoice_id}/issue",
    operation_id="issueInvoice",
    openapi_extra=requires("billing:write"),
    dependencies=[permitted("billing:write")],
    response_model=InvoicePublic,
    responses=MOVE
    | success(
        200, "ETag", getInvoice=link("getInvoice", {"invoice_id": "$request.path.invoice_id"})
    ),
)
def issue_invoice(
    invoice_id: InvoiceId,
    services: Services,
    response: Response,
    if_match: IfMatch,
    body: Annotated[InvoiceIssue | None, Body()] = None,
) -> InvoicePublic:
    """Number and post a draft, due after the customer's payment terms. Over the credit
    limit it is refused (409) unless ``override_credit_limit`` is sent by a user holding
    ``billing:override``."""
    of_kind(services.invoices.get(invoice_id), "invoice")
    doc = services.invoices.issue(
        invoice_id,
        if_match_version(if_match),
        override_credit=body is not None and body.override_credit_limit,
    )
    return _answer(doc, response)


@router.post(
    "/{invoice_id}/credit-notes",
    operation_id="creditInvoice",
    openapi_extra=requires("billing:write"),
    dependencies=[permitted("billing:write")],
    status_code=201,
    response_model=CreditNotePublic,
    responses=MOVE
    | success(
        201,
        "ETag",
        "Location",
        getCreditNote=link("getCreditNote", {"credit_note_id": "$response.body#/id"}),
        getInvoice=link("getInvoice", {"invoice_id": "$request.path.invoice_id"}),
    ),
)
def credit_invoice(
    invoice_id: InvoiceId,
    body: CreditNoteCreate,
    services: Services,
    response: Response,
    if_match: IfMatch,
    idempotency_key: IdempotencyKey = None,
) -> CreditNotePublic:
    """Credit an issued invoice in full or by line (``{"position": 1, "quantity": "2"}``)
    at its own prices, taxes and rate; the note is applied to what the invoice still has
    open and the rest becomes the customer's credit. ``If-Match`` names the invoice's
    version."""
    del idempotency_key  # handled by the idempotency middleware
    note = services.invoices.credit(
        invoice_id, credited(body.lines), if_version=if_match_version(if_match), reason=body.reason
    )
    response.headers["ETag"] = etag(note.version)
    response.headers["Location"] = f"/api/v1/credit-notes/{note.id}"
    return CreditNotePublic.of(note)


@router.get(
    "/{invoice_id}/pdf",
    operation_id="invoicePdf",
    openapi_extra=requires("billing:read"),
    response_class=Response,
    responses=responses(401, 403, 404, 422) | _PDF,
)
def invoice_pdf(
    invoice_id: InvoiceId, services: Services, query: Annotated[PdfFormat, Query()]
) -> Response:
    """The invoice as the customer gets it (a draft prints as ``DRAFT-<id>``), with the
    company details of ``crmledger company set``."""
    doc = of_kind(services.invoices.get(invoice_id), "invoice")
    content = services.printer.pdf(invoice_id, facturx=query.format == "facturx")
    name = doc.number or f"DRAFT-{doc.id}"
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
    )
