"""``/recurring-bills``: vendor bills that recur monthly, quarterly or yearly.

A schedule is entered once; the billing run (``crmledger billing run --date D``) enters and
issues each bill as it falls due, once per schedule and date, and the schedule lists them::

    POST /api/v1/recurring-bills   {"party_id": 9, "frequency": "monthly",
                                    "starts_on": "2026-01-01", "lines": [...]}   →  201
    GET  /api/v1/recurring-bills/3                                               →  "bills"
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from crmledger.api.deps import Services
from crmledger.api.expense_schemas import (
    RecurringBillCreate,
    RecurringBillPublic,
    recurring_lines,
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
from crmledger.services.recurring_bills import NewSchedule, RecurringBill

router = APIRouter(prefix="/recurring-bills", tags=["bills"])
ScheduleId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class ScheduleFilters(BaseModel):
    """A page of schedules, newest first (unknown parameters are refused)."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(100, ge=1, le=MAX_LIMIT, description="Page size (at most 500).")
    cursor: str | None = Field(None, max_length=512, description="`next_cursor` of the last page.")


def _answer(schedule: RecurringBill, response: Response) -> RecurringBillPublic:
    response.headers["ETag"] = etag(schedule.version)
    return RecurringBillPublic.of(schedule)


@router.get(
    "",
    operation_id="listRecurringBills",
    openapi_extra=requires("billing:read"),
    response_model=Page[RecurringBillPublic],
    responses=responses(401, 403, 422),
)
def list_recurring_bills(
    services: Services, filters: Annotated[ScheduleFilters, Query()]
) -> Page[RecurringBillPublic]:
    """Recurring bills, newest first."""
    after = number_cursor(filters.cursor) if filters.cursor is not None else None
    found = services.recurring_bills.page(filters.limit, after)
    return Page(
        items=[RecurringBillPublic.of(s) for s in found],
        next_cursor=next_cursor([s.id for s in found], filters.limit),
    )


@router.post(
    "",
    operation_id="createRecurringBill",
    openapi_extra=requires("billing:write"),
    status_code=201,
    response_model=RecurringBillPublic,
    responses=responses(401, 403, 409, 422)
    | success(
        201,
        "ETag",
        "Location",
        getRecurringBill=link("getRecurringBill", {"schedule_id": "$response.body#/id"}),
    ),
)
def create_recurring_bill(
    body: RecurringBillCreate,
    services: Services,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> RecurringBillPublic:
    """A new schedule; each line is booked to its ``account`` (default
    ``Expenses:Office``). A bad line is refused naming its field (``lines[0].account``)."""
    del idempotency_key  # handled by the idempotency middleware
    schedule = services.recurring_bills.create(
        NewSchedule(
            party_id=body.party_id,
            lines=recurring_lines(body.lines),
            frequency=body.frequency,
            starts_on=body.starts_on,
            ends_on=body.ends_on,
            currency=body.currency,
            reference=body.reference,
            note=body.note,
        )
    )
    response.headers["Location"] = f"/api/v1/recurring-bills/{schedule.id}"
    return _answer(schedule, response)


@router.get(
    "/{schedule_id}",
    operation_id="getRecurringBill",
    openapi_extra=requires("billing:read"),
    response_model=RecurringBillPublic,
    responses=responses(401, 403, 404, 422) | success(200, "ETag"),
)
def get_recurring_bill(
    schedule_id: ScheduleId, services: Services, response: Response
) -> RecurringBillPublic:
    """One schedule with its lines and the bills it has issued."""
    return _answer(services.recurring_bills.get(schedule_id), response)
