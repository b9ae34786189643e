"""``/bills``: what vendors charge us, booked to expense accounts when issued.

A bill is entered as a draft with the vendor's own number as ``reference``; issuing it
(with ``If-Match``) numbers it ``BILL-<year>-<n>`` and posts expense and input tax against
the payable. A ``vendor_payment`` on ``/payments`` settles it::

    POST /api/v1/bills   {"party_id": 9, "currency": "EUR", "reference": "V-1182",
                          "lines": [{"description": "Paper", "unit_price": "40"}]}
    PATCH /api/v1/bills/13             If-Match: "1"   {"due_on": "2026-07-31"}
    POST /api/v1/bills/13/issue        If-Match: "2"   →  {"status": "issued", ...}

A draft may be changed (``PATCH``) or deleted (``DELETE``, 204) with ``If-Match``; an issued
bill may not (409).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from crmledger.api.billing_schemas import (
    BillCreate,
    BillPublic,
    BillUpdate,
    bill_lines,
    draft_changes,
)
from crmledger.api.deps import Services, permitted
from crmledger.api.problems import requires, responses
from crmledger.api.routes.common import (
    IdempotencyKey,
    IfMatch,
    etag,
    if_match_version,
    link,
    success,
)
from crmledger.api.routes.invoices import DocumentFilters, documents, of_kind
from crmledger.api.routes.quotes import MOVE
from crmledger.api.schemas import Page
from crmledger.services.billing_views import BillingDoc
from crmledger.services.invoicing import NewDocument

router = APIRouter(prefix="/bills", tags=["bills"])
BillId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _answer(doc: BillingDoc, response: Response) -> BillPublic:
    response.headers["ETag"] = etag(doc.version)
    return BillPublic.of(doc)


@router.get(
    "",
    operation_id="listBills",
    openapi_extra=requires("billing:read"),
    response_model=Page[BillPublic],
    responses=responses(401, 403, 422),
)
def list_bills(
    services: Services, filters: Annotated[DocumentFilters, Query()]
) -> Page[BillPublic]:
    """Vendor bills, newest first; filter by vendor, status, or what is overdue on a day."""
    found, after = documents(services, "bill", filters)
    return Page(items=[BillPublic.of(d) for d in found], next_cursor=after)


@router.post(
    "",
    operation_id="createBill",
    openapi_extra=requires("billing:write"),
    status_code=201,
    response_model=BillPublic,
    responses=responses(401, 403, 409, 422)
    | success(
        201,
        "ETag",
        "Location",
        getBill=link("getBill", {"bill_id": "$response.body#/id"}),
        issueBill=link(
            "issueBill",
            {"bill_id": "$response.body#/id", "header.If-Match": "$response.header.ETag"},
        ),
    ),
)
def create_bill(
    body: BillCreate,
    services: Services,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> BillPublic:
    """A draft bill; each line is booked to its ``account`` (default ``Expenses:Office``)."""
    del idempotency_key  # handled by the idempotency middleware
    doc = services.invoices.create(
        NewDocument(
            kind="bill",
            party_id=body.party_id,
            currency=body.currency,
            lines=bill_lines(body.lines),
            issued_on=body.issued_on,
            due_on=body.due_on,
            reference=body.reference,
            note=body.note,
            prices_include_tax=body.prices_include_tax,
        )
    )
    response.headers["Location"] = f"/api/v1/bills/{doc.id}"
    return _answer(doc, response)


@router.get(
    "/{bill_id}",
    operation_id="getBill",
    openapi_extra=requires("billing:read"),
    response_model=BillPublic,
    responses=responses(401, 403, 404, 422)
    | success(
        200,
        "ETag",
        issueBill=link(
            "issueBill",
            {"bill_id": "$request.path.bill_id", "header.If-Match": "$response.header.ETag"},
        ),
        updateBill=link(
            "updateBill",
            {"bill_id": "$request.path.bill_id", "header.If-Match": "$response.header.ETag"},
        ),
        deleteBill=link(
            "deleteBill",
            {"bill_id": "$request.path.bill_id", "header.If-Match": "$response.header.ETag"},
        ),
    ),
)
def get_bill(bill_id: BillId, services: Services, response: Response) -> BillPublic:
    """One bill with its lines, totals and what is still to pay."""
    return _answer(of_kind(services.invoices.get(bill_id), "bill"), response)


@router.patch(
    "/{bill_id}",
    operation_id="updateBill",
    openapi_extra=requires("billing:write"),
    dependencies=[permitted("billing:write")],
    response_model=BillPublic,
    responses=MOVE
    | success(200, "ETag", getBill=link("getBill", {"bill_id": "$request.path.bill_id"})),
)
def update_bill(
    bill_id: BillId, body: BillUpdate, services: Services, response: Response, if_match: IfMatch
) -> BillPublic:
    """Change a draft bill (the fields sent; ``lines`` as a whole, priced anew). An issued
    bill is refused (409); a stale ``If-Match`` answers 412."""
    of_kind(services.invoices.get(bill_id), "bill")
    doc = services.invoices.update(bill_id, draft_changes(body), if_match_version(if_match))
    return _answer(doc, response)


@router.delete(
    "/{bill_id}",
    operation_id="deleteBill",
    openapi_extra=requires("billing:write"),
    dependencies=[permitted("billing:write")],
    status_code=204,
    responses=MOVE,
)
def delete_bill(bill_id: BillId, services: Services, if_match: IfMatch) -> Response:
    """Delete a draft bill. An issued bill is refused (409); a stale ``If-Match`` answers
    412."""
    of_kind(services.invoices.get(bill_id), "bill")
    services.invoices.delete(bill_id, if_match_version(if_match))
    return Response(status_code=204)


@router.post(
    "/{bill_id}/issue",
    operation_id="issueBill",
    openapi_extra=requires("billing:write"),
    dependencies=[permitted("billing:write")],
    response_model=BillPublic,
    responses=MOVE
    | success(200, "ETag", getBill=link("getBill", {"bill_id": "$request.path.bill_id"})),
)
def issue_bill(
    bill_id: BillId, services: Services, response: Response, if_match: IfMatch
) -> BillPublic:
    """Number and post a draft bill, due after the vendor's payment terms unless the
    draft names its due date."""
    of_kind(services.invoices.get(bill_id), "bill")
    return _answer(services.invoices.issue(bill_id, if_match_version(if_match)), response)
