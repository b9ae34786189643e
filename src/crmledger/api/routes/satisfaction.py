"""``/satisfaction-responses``: NPS and CSAT answers of parties, and their summaries.

::

    POST /api/v1/satisfaction-responses      {"kind": "nps", "score": 9, "party_id": 7, ...}
    GET  /api/v1/satisfaction-responses?party_id=7&kind=nps&from=2026-01-01
    GET  /api/v1/satisfaction-responses/summary?kind=nps&by=period&period=quarter
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from crmledger.api.deps import Services
from crmledger.api.problems import requires, responses
from crmledger.api.routes.common import IdempotencyKey, link, success
from crmledger.api.satisfaction_schemas import (
    SatisfactionCreate,
    SatisfactionFilters,
    SatisfactionPublic,
    SummaryFilters,
    SummaryPublic,
    SummaryRowPublic,
)
from crmledger.api.schemas import Page, decode_cursor, encode_cursor
from crmledger.services.crm_ports import SatisfactionQuery
from crmledger.services.errors import InvalidInputError
from crmledger.services.satisfaction import ID_MAX

router = APIRouter(prefix="/satisfaction-responses", tags=["satisfaction"])
ResponseId = Annotated[int, Path(ge=1, le=ID_MAX)]


def _after(cursor: str | None) -> tuple[date, int] | None:
    if cursor is None:
        return None
    key = decode_cursor(cursor)
    if key is None or len(key) != 2 or not isinstance(key[1], int):
        raise InvalidInputError("cursor", "not a cursor of this list")
    try:
        return date.fromisoformat(str(key[0])), key[1]
    except ValueError:
        raise InvalidInputError("cursor", "not a cursor of this list") from None


@router.get(
    "",
    operation_id="listSatisfactionResponses",
    openapi_extra=requires("satisfaction:read"),
    response_model=Page[SatisfactionPublic],
    responses=responses(401, 403, 422),
)
def list_responses(
    services: Services, filters: Annotated[SatisfactionFilters, Query()]
) -> Page[SatisfactionPublic]:
    """Answers, latest first; filter by party, kind and days (``from`` / ``to``, inclusive)."""
    query = SatisfactionQuery(
        limit=filters.limit,
        after=_after(filters.cursor),
        party_id=filters.party_id,
        kind=filters.kind,
        date_from=filters.date_from,
        date_to=filters.date_to,
    )
    found = services.satisfaction.list(query)
    last = found[-1] if len(found) == filters.limit else None
    cursor = [last.response.answered_on.isoformat(), last.id] if last else None
    return Page(
        items=[SatisfactionPublic.of(r) for r in found],
        next_cursor=encode_cursor(cursor) if cursor else None,
    )


@router.post(
    "",
    operation_id="createSatisfactionResponse",
    openapi_extra=requires("satisfaction:write"),
    status_code=201,
    response_model=SatisfactionPublic,
    responses=responses(401, 403, 404, 409, 422)
    | success(
        201,
        "Location",
        getSatisfactionResponse=link(
            "getSatisfactionResponse", {"response_id": "$response.body#/id"}
        ),
    ),
)
def create_response(
    body: SatisfactionCreate,
    services: Services,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> SatisfactionPublic:
    """Record an answer of a party. A score off its kind's scale is refused naming
    ``score``; an unknown party is 404 naming ``party_id``."""
    del idempotency_key  # handled by the idempotency middleware
    recorded = services.satisfaction.record(body.response())
    response.headers["Location"] = f"/api/v1/satisfaction-responses/{recorded.id}"
    return SatisfactionPublic.of(recorded)


# Declared before ``/{response_id}``, which would otherwise take "summary" for an id.
@router.get(
    "/summary",
    operation_id="satisfactionSummary",
    openapi_extra=requires("satisfaction:read"),
    response_model=SummaryPublic,
    responses=responses(401, 403, 422),
)
def summary(services: Services, filters: Annotated[SummaryFilters, Query()]) -> SummaryPublic:
    """NPS or CSAT per month / quarter / year (every period from the first answer to the
    last, ``null`` where none), per party segment or per party owner."""
    rows = services.satisfaction.summary(
        filters.kind, filters.by, filters.period, filters.date_from, filters.date_to
    )
    return SummaryPublic(
        kind=filters.kind,
        by=filters.by,
        period=filters.period,
        rows=[SummaryRowPublic.of(r) for r in rows],
    )


@router.get(
    "/{response_id}",
    operation_id="getSatisfactionResponse",
    openapi_extra=requires("satisfaction:read"),
    response_model=SatisfactionPublic,
    responses=responses(401, 403, 404, 422),
)
def get_response(response_id: ResponseId, services: Services) -> SatisfactionPublic:
    """One answer (answers are never changed: a wrong one is recorded again)."""
    return SatisfactionPublic.of(services.satisfaction.get(response_id))
