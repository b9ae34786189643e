"""``/dashboard``: the home dashboard's key figures and chart series as JSON.

::

    GET /api/v1/dashboard                                   # the year to date
    GET /api/v1/dashboard?from=2026-04-01&to=2026-06-30&compare=previous

Needs ``reports:read``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from crmledger.api.dashboard_schemas import DashboardFilters, DashboardPublic
from crmledger.api.deps import Services
from crmledger.api.problems import requires, responses

router = APIRouter(tags=["reports"])


@router.get(
    "/dashboard",
    operation_id="dashboard",
    openapi_extra=requires("reports:read"),
    response_model=DashboardPublic,
    responses=responses(401, 403, 422),
)
def dashboard(services: Services, filters: Annotated[DashboardFilters, Query()]) -> DashboardPublic:
    """Revenue, gross margin, cash, receivables, overdue, DSO, weighted pipeline and NPS of
    the period beside the comparison period's, and the series of the dashboard's charts:
    revenue and margin by month, receivables by days overdue, pipeline by stage, NPS by
    month, the ten customers with the largest gross margin, the cash-flow waterfall."""
    board = services.dashboard.dashboard(filters.date_from, filters.date_to, filters.compare)
    return DashboardPublic.of(board)
