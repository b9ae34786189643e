"""``/reports/vat`` and ``/fx/revaluations``: the period end of a taxed, multi-currency book.

The VAT summary reads the documents issued in a period; a revaluation posts the unrealised
exchange difference of what is open in foreign currencies and its reversal the next day,
once per date (a second request for the same date is a ``409``)::

    GET  /api/v1/reports/vat?from=2026-06-01&to=2026-06-30
    POST /api/v1/fx/revaluations   {"date": "2026-06-30"}     Idempotency-Key: 5f1c...
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from crmledger.api.deps import Services, permitted
from crmledger.api.problems import requires, responses
from crmledger.api.routes.common import IdempotencyKey
from crmledger.api.schemas import Day
from crmledger.api.tax_schemas import RevaluationCreate, RevaluationPublic, VatSummaryPublic

router = APIRouter(tags=["reports"])


@router.get(
    "/reports/vat",
    operation_id="vatSummary",
    openapi_extra=requires("reports:read"),
    dependencies=[permitted("reports:read")],
    response_model=VatSummaryPublic,
    responses=responses(401, 403, 422),
)
def vat_summary(
    services: Services,
    date_from: Annotated[Day, Query(alias="from", description="First day, included.")],
    date_to: Annotated[Day, Query(alias="to", description="Last day, included.")],
) -> VatSummaryPublic:
    """Output tax collected (invoices less credit notes), input tax deductible (bills) and
    the tax payable in a period, per category and rate, in the base currency; a foreign
    document counts at its own booked rate."""
    return VatSummaryPublic.of(services.tax_report.vat_summary(date_from, date_to))


@router.post(
    "/fx/revaluations",
    operation_id="createRevaluation",
    openapi_extra=requires("journal:post"),
    dependencies=[permitted("journal:post")],
    status_code=201,
    response_model=RevaluationPublic,
    responses=responses(401, 403, 409, 422),
)
def create_revaluation(
    body: RevaluationCreate, services: Services, idempotency_key: IdempotencyKey = None
) -> RevaluationPublic:
    """Value the open foreign-currency invoices, credit notes, bills and unallocated
    payments at the rates of ``date`` and post the difference (``FXREV-<date>``, journal
    ``FX``) with its reversal dated the next day. A date is revalued once (``409``); a
    currency without a rate is a ``422`` naming it."""
    del idempotency_key  # handled by the idempotency middleware
    return RevaluationPublic.of(services.revaluation.revalue(body.date))
