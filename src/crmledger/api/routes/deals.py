"""``/deals``: sales being worked on, their moves through the pipeline and the forecast.

A deal changes stage only by ``POST /deals/{id}/move`` with the deal's ``ETag`` in
``If-Match``, so two people dragging the same card cannot both win::

    POST /api/v1/deals/7/move   If-Match: "3"   {"stage": "lost", "reason": "price"}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from crmledger.api.deal_schemas import (
    MONTH,
    DealCreate,
    DealPublic,
    DealUpdate,
    ForecastPublic,
    ForecastRowPublic,
    Key,
    MoveRequest,
    StageChangePublic,
    deal_changes,
    new_deal,
)
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
from crmledger.api.schemas import Day, Page, encode_cursor
from crmledger.bootstrap import App
from crmledger.core.crm.deals import Pipeline, StageKind
from crmledger.services.crm_ports import DealQuery
from crmledger.services.deals import StoredDeal

router = APIRouter(prefix="/deals", tags=["deals"])
DealId = Annotated[int, Path(ge=1, le=2**31 - 1)]
RowFilter = Field(None, ge=1, le=2**31 - 1)


def _pipelines(services: App) -> dict[str, Pipeline]:
    return {p.key: p for p in services.deals.pipelines()}


def _public(services: App, deal: StoredDeal) -> DealPublic:
    return DealPublic.of(deal, _pipelines(services))


class DealFilters(BaseModel):
    """Page, order and filters of the deal list (unknown parameters are refused)."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(100, ge=1, le=MAX_LIMIT, description="Page size (at most 500).")
    cursor: str | None = Field(None, max_length=512, description="`next_cursor` of the last page.")
    sort: Literal["id", "-id"] = Field("-id", description="Newest first by default.")
    pipeline: Key | None = None
    stage: Key | None = None
    owner_id: int | None = RowFilter
    party_id: int | None = RowFilter
    status: StageKind | None = Field(None, description="open, won or lost.")
    close_from: Day | None = Field(None, description="Expected to close on or after.")
    close_to: Day | None = Field(None, description="Expected to close on or before.")


class ForecastFilters(BaseModel):
    """Which open deals the forecast weighs (unknown parameters are refused)."""

    model_config = ConfigDict(extra="forbid")

    pipeline: Key | None = None
    from_month: str | None = Field(None, pattern=MONTH, description="First month, YYYY-MM.")
    to_month: str | None = Field(None, pattern=MONTH, description="Last month, YYYY-MM.")


class HistoryPage(BaseModel):
    """A page of a deal's history (unknown parameters are refused)."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(100, ge=1, le=MAX_LIMIT, description="Page size (at most 500).")
    cursor: str | None = Field(None, max_length=512, description="`next_cursor` of the last page.")


@router.get(
    "",
    operation_id="listDeals",
    openapi_extra=requires("deals:read"),
    response_model=Page[DealPublic],
    responses=responses(401, 403, 422),
)
def list_deals(services: Services, filters: Annotated[DealFilters, Query()]) -> Page[DealPublic]:
    """Deals, newest first by default, filtered by pipeline, stage, owner, party, status
    (open, won, lost) and expected close date."""
    query = DealQuery(
        limit=filters.limit,
        after=None if filters.cursor is None else number_cursor(filters.cursor),
        ascending=filters.sort == "id",
        pipeline=filters.pipeline,
        stage=filters.stage,
        owner_id=filters.owner_id,
        party_id=filters.party_id,
        status=filters.status,
        close_from=filters.close_from,
        close_to=filters.close_to,
    )
    found = services.deals.list(query)
    pipelines = _pipelines(services)
    last = found[-1].id if len(found) == filters.limit else None
    return Page(
        items=[DealPublic.of(d, pipelines) for d in found],
        next_cursor=encode_cursor([last]) if last is not None else None,
    )


_DEAL_LINKS: dict[str, Callable[[str], dict[str, Any]]] = {
    "getDeal": lambda ref: link("getDeal", {"deal_id": ref}),
    "updateDeal": lambda ref: link(
        "updateDeal", {"deal_id": ref, "header.If-Match": "$response.header.ETag"}
    ),
    "moveDeal": lambda ref: link(
        "moveDeal", {"deal_id": ref, "header.If-Match": "$response.header.ETag"}
    ),
    "dealHistory": lambda ref: link("dealHistory", {"deal_id": ref}),
}


def _links(ref: str, *names: str) -> dict[str, Any]:
    return {name: _DEAL_LINKS[name](ref) for name in names}


@router.post(
    "",
    operation_id="createDeal",
    openapi_extra=requires("deals:write"),
    status_code=201,
    response_model=DealPublic,
    responses=responses(401, 403, 409, 422)
    | success(
        201,
        "ETag",
        "Location",
        **_links("$response.body#/id", "getDeal", "updateDeal", "moveDeal", "dealHistory"),
    ),
)
def create_deal(
    body: DealCreate,
    services: Services,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> DealPublic:
    """Add a deal for a party; it starts in an open stage (the pipeline's first by
    default). The amount may have no more decimals than its currency."""
    del idempotency_key  # handled by the idempotency middleware
    deal = services.deals.add(new_deal(body))
    response.headers["ETag"] = etag(deal.version)
    response.headers["Location"] = f"/api/v1/deals/{deal.id}"
    return _public(services, deal)


@router.get(
    "/forecast",
    operation_id="dealForecast",
    openapi_extra=requires("deals:read"),
    response_model=ForecastPublic,
    responses=responses(401, 403, 422),
)
def deal_forecast(
    services: Services, filters: Annotated[ForecastFilters, Query()]
) -> ForecastPublic:
    """Open deals by expected-close month, owner and currency: the open amount and the
    amount weighted by each deal's probability (rounded per deal, half-even). With a month
    bound, deals without an expected close date are left out; otherwise they are in month
    ``none``, after every real month."""
    rows = services.deals.forecast(filters.pipeline, filters.from_month, filters.to_month)
    return ForecastPublic(rows=[ForecastRowPublic.of(r) for r in rows])


@router.get(
    "/{deal_id:int}",  # digits only: /deals/forecast never reaches these routes
    operation_id="getDeal",
    openapi_extra=requires("deals:read"),
    response_model=DealPublic,
    responses=responses(401, 403, 404, 422)
    | success(200, "ETag", **_links("$request.path.deal_id", "updateDeal", "moveDeal")),
)
def get_deal(deal_id: DealId, services: Services, response: Response) -> DealPublic:
    """One deal; its ``ETag`` is what an update or a move must send in ``If-Match``."""
    deal = services.deals.get(deal_id)
    response.headers["ETag"] = etag(deal.version)
    return _public(services, deal)


@router.patch(
    "/{deal_id:int}",
    operation_id="updateDeal",
    openapi_extra=requires("deals:write"),
    dependencies=[permitted("deals:write")],
    response_model=DealPublic,
    responses=responses(401, 403, 404, 412, 422, 428)
    | success(200, "ETag", **_links("$request.path.deal_id", "getDeal")),
)
def update_deal(
    deal_id: DealId,
    body: DealUpdate,
    services: Services,
    response: Response,
    if_match: IfMatch,
) -> DealPublic:
    """Change the title, amount, currency, expected close date, owner or probability
    override of a deal (the stage changes by a move)."""
    changes = deal_changes(body)
    deal = services.deals.update(deal_id, changes, if_version=if_match_version(if_match))
    response.headers["ETag"] = etag(deal.version)
    return _public(services, deal)


@router.post(
    "/{deal_id:int}/move",
    operation_id="moveDeal",
    openapi_extra=requires("deals:write"),
    dependencies=[permitted("deals:write")],
    response_model=DealPublic,
    responses=responses(401, 403, 404, 409, 412, 422, 428)
    | success(200, "ETag", **_links("$request.path.deal_id", "getDeal", "dealHistory")),
)
def move_deal(
    deal_id: DealId,
    body: MoveRequest,
    services: Services,
    response: Response,
    if_match: IfMatch,
    idempotency_key: IdempotencyKey = None,
) -> DealPublic:
    """Move a deal to another stage. Losing needs a ``reason``; winning sets ``won_at``;
    a won or lost deal can only be reopened to an open stage (409 otherwise). Every move
    adds a step to the history and clears the probability override."""
    del idempotency_key  # handled by the idempotency middleware
    version = if_match_version(if_match)
    deal = services.deals.move(deal_id, body.stage, if_version=version, reason=body.reason)
    response.headers["ETag"] = etag(deal.version)
    return _public(services, deal)


@router.get(
    "/{deal_id:int}/history",
    operation_id="dealHistory",
    openapi_extra=requires("deals:read"),
    response_model=Page[StageChangePublic],
    responses=responses(401, 403, 404, 422),
)
def deal_history(
    deal_id: DealId, services: Services, page: Annotated[HistoryPage, Query()]
) -> Page[StageChangePublic]:
    """The stages a deal went through, oldest first; the first step is its creation."""
    steps = services.deals.history(deal_id)
    start = number_cursor(page.cursor) if page.cursor is not None else 0
    more = start + page.limit < len(steps)
    return Page(
        items=[StageChangePublic.of(s) for s in steps[start : start + page.limit]],
        next_cursor=encode_cursor([start + page.limit]) if more else None,
    )
