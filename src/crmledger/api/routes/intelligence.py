"""Customer intelligence: ``/parties/{party_id}/360`` and the reports on customers.

The 360 is one read of everything about a customer; the reports page their lines by an
opaque cursor (the offset into the sorted lines)::

    GET /api/v1/parties/7/360
    GET /api/v1/reports/profitability?by=customer&from=2026-01-01&to=2026-06-30&sort=net
    GET /api/v1/reports/rfm?segment=At%20risk
    GET /api/v1/reports/cohorts?from=2026-01&to=2026-06
    GET /api/v1/reports/receivables?from=2026-04-01&to=2026-06-30&top=5

Each needs ``reports:read`` and ``parties:read`` (every role reading reports reads parties).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from crmledger.api.customer_360_schemas import Customer360Public
from crmledger.api.deps import Services
from crmledger.api.intelligence_schemas import (
    CohortFilters,
    CohortsPublic,
    ProfitabilityFilters,
    ProfitabilityPublic,
    ReceivablesFilters,
    ReceivablesPublic,
    RfmFilters,
    RfmPublic,
)
from crmledger.api.problems import requires, responses
from crmledger.api.routes.common import number_cursor
from crmledger.api.schemas import encode_cursor

router = APIRouter(tags=["intelligence"])
PartyId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _offset(cursor: str | None) -> int:
    return 0 if cursor is None else number_cursor(cursor)


def _next(offset: int, limit: int, count: int) -> str | None:
    return encode_cursor([offset + limit]) if offset + limit < count else None


@router.get(
    "/parties/{party_id}/360",
    operation_id="customer360",
    openapi_extra=requires("reports:read"),
    response_model=Customer360Public,
    responses=responses(401, 403, 404, 422),
)
def customer_360(party_id: PartyId, services: Services) -> Customer360Public:
    """Everything about one customer: profile, contacts, pipeline, recent interactions and
    open complaints, orders, contracts, invoices, balance, days to pay and its trend,
    lifetime revenue and margin, NPS by quarter, RFM segment, lifetime value with its
    assumptions and churn risk with its drivers."""
    return Customer360Public.of(services.intelligence.customer_360(party_id))


@router.get(
    "/reports/profitability",
    operation_id="profitabilityReport",
    openapi_extra=requires("reports:read"),
    response_model=ProfitabilityPublic,
    responses=responses(401, 403, 422),
)
def profitability(
    services: Services, filters: Annotated[ProfitabilityFilters, Query()]
) -> ProfitabilityPublic:
    """Revenue, cost of goods, gross margin, cost to serve and net profitability by
    customer, product, owner, segment, RFM segment or month, for documents and events dated
    in the period; lines with a negative ``net`` cost more than they bring."""
    offset = _offset(filters.cursor)
    report = services.intelligence.profitability(
        filters.by,
        filters.date_from,
        filters.date_to,
        sort=filters.sort,
        offset=offset,
        limit=filters.limit,
    )
    return ProfitabilityPublic.of(report, _next(offset, filters.limit, report.count))


@router.get(
    "/reports/rfm",
    operation_id="rfmReport",
    openapi_extra=requires("reports:read"),
    response_model=RfmPublic,
    responses=responses(401, 403, 422),
)
def rfm(services: Services, filters: Annotated[RfmFilters, Query()]) -> RfmPublic:
    """Each customer's recency, frequency and monetary scores (quintiles, 1..5) and
    segment, by party id, with the quintile boundaries and every segment's size."""
    offset = _offset(filters.cursor)
    report = services.intelligence.rfm(filters.segment, offset=offset, limit=filters.limit)
    return RfmPublic.of(report, _next(offset, filters.limit, report.count))


@router.get(
    "/reports/cohorts",
    operation_id="cohortReport",
    openapi_extra=requires("reports:read"),
    response_model=CohortsPublic,
    responses=responses(401, 403, 422),
)
def cohorts(services: Services, filters: Annotated[CohortFilters, Query()]) -> CohortsPublic:
    """Customers by the month of their first invoice and the share of each cohort that
    bought again 0, 1, 2 ... months later; with the observed year-on-year retention."""
    report = services.intelligence.cohorts(filters.month_from, filters.month_to)
    return CohortsPublic.of(report)


@router.get(
    "/reports/receivables",
    operation_id="receivablesReport",
    openapi_extra=requires("reports:read"),
    response_model=ReceivablesPublic,
    responses=responses(401, 403, 422),
)
def receivables(
    services: Services, filters: Annotated[ReceivablesFilters, Query()]
) -> ReceivablesPublic:
    """DSO and the collection effectiveness index over the period (the last 90 days by
    default), revenue concentration in it, and the top debtors now."""
    report = services.intelligence.receivables_kpis(filters.date_from, filters.date_to, filters.top)
    return ReceivablesPublic.of(report)
