"""``/payments``: money received from customers and paid to vendors, and where it went.

A payment is posted when it is recorded and allocated in the same transaction: to the
``allocations`` sent, else to the party's oldest open documents in its currency; what is
left is credit, which ``POST /payments/{id}/allocate`` can apply later::

    POST /api/v1/payments   {"party_id": 7, "amount": "50.00", "currency": "EUR"}
    POST /api/v1/payments   {"party_id": 9, "kind": "vendor_payment", "amount": "47.60",
                             "currency": "EUR", "allocations": [{"invoice_id": 13,
                                                                 "amount": "47.60"}]}
    POST /api/v1/payments/4/allocate   {"allocations": [{"invoice_id": 12, "amount": "10"}]}
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from crmledger.api.commerce_schemas import QueryId
from crmledger.api.deps import Services, permitted
from crmledger.api.payment_schemas import (
    AllocateRequest,
    PaymentCreate,
    PaymentPublic,
    allocations,
)
from crmledger.api.problems import requires, responses
from crmledger.api.routes.common import (
    MAX_LIMIT,
    IdempotencyKey,
    etag,
    link,
    number_cursor,
    success,
)
from crmledger.api.routes.quotes import next_cursor
from crmledger.api.schemas import Page
from crmledger.services.billing_ports import PaymentQuery
from crmledger.services.billing_views import Payment
from crmledger.services.settling import NewPayment

router = APIRouter(prefix="/payments", tags=["payments"])
PaymentId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class PaymentFilters(BaseModel):
    """Page and filters of payments, newest first (unknown parameters are refused)."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(100, ge=1, le=MAX_LIMIT, description="Page size (at most 500).")
    cursor: str | None = Field(None, max_length=512, description="`next_cursor` of the last page.")
    party_id: QueryId | None = None
    kind: Literal["receipt", "refund", "vendor_payment", "vendor_refund"] | None = None


def _answer(payment: Payment, response: Response) -> PaymentPublic:
    response.headers["ETag"] = etag(payment.version)
    return PaymentPublic.of(payment)


@router.get(
    "",
    operation_id="listPayments",
    openapi_extra=requires("billing:read"),
    response_model=Page[PaymentPublic],
    responses=responses(401, 403, 422),
)
def list_payments(
    services: Services, filters: Annotated[PaymentFilters, Query()]
) -> Page[PaymentPublic]:
    """Payments, newest first; filter by party or kind."""
    found = services.payments.list(
        PaymentQuery(
            limit=filters.limit,
            after=number_cursor(filters.cursor) if filters.cursor is not None else None,
            party_id=filters.party_id,
            kind=filters.kind,
        )
    )
    return Page(
        items=[PaymentPublic.of(p) for p in found],
        next_cursor=next_cursor([p.id for p in found], filters.limit),
    )


@router.post(
    "",
    operation_id="createPayment",
    openapi_extra=requires("billing:write"),
    status_code=201,
    response_model=PaymentPublic,
    responses=responses(401, 403, 409, 422)
    | success(
        201,
        "ETag",
        "Location",
        getPayment=link("getPayment", {"payment_id": "$response.body#/id"}),
        allocatePayment=link("allocatePayment", {"payment_id": "$response.body#/id"}),
    ),
)
def create_payment(
    body: PaymentCreate,
    services: Services,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> PaymentPublic:
    """Record and post a payment (numbered ``RC-<year>-<n>``, or ``PY-...`` for a vendor
    payment) and allocate it; a bad allocation is refused naming its field
    (``allocations[1].amount``) and nothing is recorded. Send ``Idempotency-Key``: a
    retried payment must not be booked twice."""
    del idempotency_key  # handled by the idempotency middleware
    payment = services.payments.record(
        NewPayment(
            party_id=body.party_id,
            amount=Decimal(body.amount),
            currency=body.currency,
            paid_on=body.paid_on,
            kind=body.kind,
            method=body.method,
            bank_account=body.bank_account,
            reference=body.reference,
            rate=None if body.rate is None else Decimal(body.rate),
        ),
        allocations(body.allocations),
    )
    response.headers["Location"] = f"/api/v1/payments/{payment.id}"
    return _answer(payment, response)


@router.get(
    "/{payment_id}",
    operation_id="getPayment",
    openapi_extra=requires("billing:read"),
    response_model=PaymentPublic,
    responses=responses(401, 403, 404, 422) | success(200, "ETag"),
)
def get_payment(payment_id: PaymentId, services: Services, response: Response) -> PaymentPublic:
    """One payment; ``open`` is what is not allocated yet."""
    return _answer(services.payments.get(payment_id), response)


@router.post(
    "/{payment_id}/allocate",
    operation_id="allocatePayment",
    openapi_extra=requires("billing:write"),
    dependencies=[permitted("billing:write")],
    response_model=PaymentPublic,
    responses=responses(401, 403, 404, 409, 422)
    | success(
        200, "ETag", getPayment=link("getPayment", {"payment_id": "$request.path.payment_id"})
    ),
)
def allocate_payment(
    payment_id: PaymentId,
    body: AllocateRequest,
    services: Services,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> PaymentPublic:
    """Apply what is left of a payment: to ``allocations``, else to the oldest open
    documents. Each allocation draws down what is open, so send ``Idempotency-Key`` to
    retry safely."""
    del idempotency_key  # handled by the idempotency middleware
    payment = services.payments.allocate(payment_id, allocations(body.allocations))
    return _answer(payment, response)
