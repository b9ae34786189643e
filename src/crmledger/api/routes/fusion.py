"""``/fusion``: runs over uploaded sources, their reports, and the review queue.

::

    POST  /api/v1/fusion/runs                 {"name": "...", "sources": [{"name": "crm",
                                                "kind": "csv", "content": "...",
                                                "mapping": "fields: ..."}], "dry_run": true}
    GET   /api/v1/fusion/runs?limit=20
    GET   /api/v1/fusion/runs/3/report?format=html
    GET   /api/v1/fusion/review?status=open
    PATCH /api/v1/fusion/review/12            {"decision": "accept"}   If-Match: "1"

Runs here read only what the request carries (no file paths, no database URLs: those are
for ``crmledger fuse run`` on the server itself).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from crmledger.api.deps import Services
from crmledger.api.fusion_schemas import (
    FusionOutcomePublic,
    FusionRunCreate,
    FusionRunPublic,
    ReviewDecision,
    ReviewPublic,
)
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
from crmledger.api.schemas import Page, encode_cursor
from crmledger.formats.fusion_report import run_html
from crmledger.fusion.config import Upload
from crmledger.fusion.match import MatchSettings

router = APIRouter(prefix="/fusion", tags=["fusion"])
RunId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ReviewId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class RunFilters(BaseModel):
    """Page of the run list (unknown parameters are refused)."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(50, ge=1, le=MAX_LIMIT, description="Page size (at most 500).")
    cursor: str | None = Field(None, max_length=512, description="`next_cursor` of the last page.")


class ReviewFilters(RunFilters):
    """Page and status of the review queue."""

    status: Literal["open", "accepted", "rejected", "all"] = "open"


class ReportFormat(BaseModel):
    """How a report is answered."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["json", "html"] = "json"


@router.get(
    "/runs",
    operation_id="listFusionRuns",
    openapi_extra=requires("parties:read"),
    response_model=Page[FusionRunPublic],
    responses=responses(401, 403, 422),
)
def list_runs(services: Services, filters: Annotated[RunFilters, Query()]) -> Page[FusionRunPublic]:
    """Recorded runs, newest first."""
    before = number_cursor(filters.cursor) if filters.cursor else None
    rows = services.fusion.runs(before, filters.limit)
    last = rows[-1] if len(rows) == filters.limit else None
    return Page(
        items=[FusionRunPublic.of(r) for r in rows],
        next_cursor=encode_cursor([last.id]) if last else None,
    )


@router.post(
    "/runs",
    operation_id="createFusionRun",
    openapi_extra=requires("parties:write"),
    status_code=201,
    response_model=FusionOutcomePublic,
    responses=responses(401, 403, 409, 422)
    | success(
        201,
        "Location",
        getFusionRun=link("getFusionRun", {"run_id": "$response.body#/id"}),
    )
    | {200: {"description": "A dry run: what the run would do; nothing was written."}},
)
def create_run(
    body: FusionRunCreate,
    services: Services,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> FusionOutcomePublic:
    """Clean, match and merge the uploaded sources into golden parties. Every problem is
    located by source, row and field; a bad mapping is refused naming its lines."""
    del idempotency_key  # handled by the middleware
    uploads = [Upload(s.name, s.kind, s.content, s.mapping, s.priority) for s in body.sources]
    settings = MatchSettings(accept=body.accept, review=min(body.review, body.accept))
    outcome = services.fusion.run_upload(body.name, uploads, body.dry_run, body.region, settings)
    if outcome.run_id is None:
        response.status_code = 200
    else:
        response.headers["Location"] = f"/api/v1/fusion/runs/{outcome.run_id}"
    return FusionOutcomePublic.of(outcome)


@router.get(
    "/runs/{run_id}",
    operation_id="getFusionRun",
    openapi_extra=requires("parties:read"),
    response_model=FusionRunPublic,
    responses=responses(401, 403, 404, 422)
    | success(
        200, getFusionRunReport=link("getFusionRunReport", {"run_id": "$request.path.run_id"})
    ),
)
def get_run(run_id: RunId, services: Services) -> FusionRunPublic:
    """One recorded run."""
    return FusionRunPublic.of(services.fusion.get_run(run_id))


@router.get(
    "/runs/{run_id}/report",
    operation_id="getFusionRunReport",
    openapi_extra=requires("parties:read"),
    response_model=dict[str, Any],
    responses=responses(401, 403, 404, 422)
    | {200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
)
def get_report(run_id: RunId, services: Services, query: Annotated[ReportFormat, Query()]) -> Any:
    """A run's report: counts, rows per source, stage timings, issue counts and located
    problems (never a personal value); as JSON or a self-contained HTML page."""
    report = services.fusion.report(run_id)
    if query.format == "html":
        return HTMLResponse(run_html(report))
    return report


@router.get(
    "/review",
    operation_id="listFusionReview",
    openapi_extra=requires("parties:read"),
    response_model=Page[ReviewPublic],
    responses=responses(401, 403, 422),
)
def list_review(
    services: Services, filters: Annotated[ReviewFilters, Query()]
) -> Page[ReviewPublic]:
    """Record pairs the model was unsure of, oldest first, with both records' values."""
    after = number_cursor(filters.cursor) if filters.cursor else 0
    status = None if filters.status == "all" else filters.status
    items = services.fusion.review.list(status, after, filters.limit)
    last = items[-1] if len(items) == filters.limit else None
    return Page(
        items=[ReviewPublic.of(i) for i in items],
        next_cursor=encode_cursor([last.id]) if last else None,
    )


@router.get(
    "/review/{review_id}",
    operation_id="getFusionReview",
    openapi_extra=requires("parties:read"),
    response_model=ReviewPublic,
    responses=responses(401, 403, 404, 422)
    | success(
        200,
        "ETag",
        decideFusionReview=link(
            "decideFusionReview",
            {"review_id": "$request.path.review_id", "header.If-Match": "$response.header.ETag"},
        ),
    ),
)
def get_review(review_id: ReviewId, services: Services, response: Response) -> ReviewPublic:
    """One review pair; its ``ETag`` is what a decision sends in ``If-Match``."""
    item = services.fusion.review.get(review_id)
    response.headers["ETag"] = etag(item.version)
    return ReviewPublic.of(item)


@router.patch(
    "/review/{review_id}",
    operation_id="decideFusionReview",
    openapi_extra=requires("parties:write"),
    response_model=ReviewPublic,
    responses=responses(401, 403, 404, 409, 412, 422, 428)
    | success(
        200,
        "ETag",
        getFusionReview=link("getFusionReview", {"review_id": "$request.path.review_id"}),
    ),
)
def decide_review(
    review_id: ReviewId,
    body: ReviewDecision,
    services: Services,
    response: Response,
    if_match: IfMatch,
) -> ReviewPublic:
    """Accept (one customer) or reject (two customers) a pair; later runs respect it."""
    item = services.fusion.review.decide(
        review_id, body.decision == "accept", if_version=if_match_version(if_match)
    )
    response.headers["ETag"] = etag(item.version)
    return ReviewPublic.of(item)
