"""``/reports/aging``: receivables or payables by days overdue on any day, in the base
currency, per party and in total, reconciled with the control account.

JSON unless ``format`` (or the ``Accept`` header) asks for a download::

    GET /api/v1/reports/aging?kind=receivable&as_of=2026-06-30&buckets=30,60,90
    GET /api/v1/reports/aging?kind=payable&format=xlsx
    GET /api/v1/reports/aging?party_id=7          # the party's open documents too
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from crmledger.api.aging_schemas import AgingFilters, AgingPublic
from crmledger.api.deps import Services, permitted
from crmledger.api.problems import requires, responses
from crmledger.api.routes.statements import DOWNLOADS, chosen_format, download
from crmledger.core.aging_table import aging_detail_table, aging_table

router = APIRouter(tags=["reports"])


@router.get(
    "/reports/aging",
    operation_id="agingReport",
    openapi_extra=requires("reports:read"),
    dependencies=[permitted("reports:read")],
    response_model=AgingPublic,
    responses=responses(401, 403, 404, 422) | DOWNLOADS,
)
def aging(services: Services, request: Request, filters: Annotated[AgingFilters, Query()]) -> Any:
    """Receivables (invoices less credit notes and receipts not yet allocated) or
    payables (bills less payments not yet allocated) on ``as_of`` per party, in buckets
    by days overdue; ``total`` equals the control account's balance that day unless
    ``difference`` says otherwise. ``party_id`` (an unknown one is a ``404``) or
    ``details`` list the open documents."""
    report = services.aging.report(filters.kind, filters.as_of, filters.buckets, filters.party_id)
    details = filters.details or filters.party_id is not None
    chosen = chosen_format(filters.fmt, request)
    if chosen == "json":
        return AgingPublic.of(report, details)
    table = aging_detail_table(report) if details else aging_table(report)
    return download(table, chosen, f"{report.kind}-aging-{report.as_of.isoformat()}")
