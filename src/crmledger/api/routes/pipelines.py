"""``/pipelines``: the stages deals move through, their probabilities, and the board.

A pipeline is created with ``POST /pipelines`` (refused with 409 when the key exists) and
changed with ``PUT /pipelines/{key}``, which replaces its name and whole stage list and
needs the pipeline's ``ETag`` in ``If-Match``. A stage that still holds deals can be
renamed, reordered and re-weighted, but not removed or given another kind (409)::

    PUT /api/v1/pipelines/sales   If-Match: "1"
    {"name": "Sales", "stages": [{"key": "lead", "name": "Lead", "probability": "0.10"},
      ..., {"key": "won", "name": "Won", "probability": "1", "kind": "won"},
      {"key": "lost", "name": "Lost", "probability": "0", "kind": "lost"}]}
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from crmledger.api.deal_schemas import (
    KEY,
    BoardPublic,
    PipelineCreate,
    PipelinePublic,
    PipelineReplace,
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
from crmledger.api.schemas import Page, encode_cursor

router = APIRouter(prefix="/pipelines", tags=["pipelines"])
PipelineKey = Annotated[str, Path(pattern=KEY, max_length=64)]


class PipelinePage(BaseModel):
    """A page of pipelines (unknown parameters are refused)."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(100, ge=1, le=MAX_LIMIT, description="Page size (at most 500).")
    cursor: str | None = Field(None, max_length=512, description="`next_cursor` of the last page.")


@router.get(
    "",
    operation_id="listPipelines",
    openapi_extra=requires("deals:read"),
    response_model=Page[PipelinePublic],
    responses=responses(401, 403, 422),
)
def list_pipelines(
    services: Services, page: Annotated[PipelinePage, Query()]
) -> Page[PipelinePublic]:
    """Every pipeline, by key, with its stages in board order."""
    found = services.deals.pipelines()
    start = number_cursor(page.cursor) if page.cursor is not None else 0
    more = start + page.limit < len(found)
    return Page(
        items=[PipelinePublic.of(p) for p in found[start : start + page.limit]],
        next_cursor=encode_cursor([start + page.limit]) if more else None,
    )


@router.post(
    "",
    operation_id="createPipeline",
    openapi_extra=requires("pipelines:write"),
    status_code=201,
    response_model=PipelinePublic,
    responses=responses(401, 403, 409, 422)
    | success(
        201,
        "ETag",
        "Location",
        getPipeline=link("getPipeline", {"key": "$response.body#/key"}),
        replacePipeline=link(
            "replacePipeline",
            {"key": "$response.body#/key", "header.If-Match": "$response.header.ETag"},
        ),
    ),
)
def create_pipeline(
    body: PipelineCreate,
    services: Services,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> PipelinePublic:
    """Add a pipeline: at least one open stage, exactly one won stage (probability 1) and
    at least one lost stage (probability 0)."""
    del idempotency_key  # handled by the idempotency middleware
    saved = services.deals.save_pipeline(body.pipeline(body.key), if_version=None)
    response.headers["ETag"] = etag(saved.version)
    response.headers["Location"] = f"/api/v1/pipelines/{saved.key}"
    return PipelinePublic.of(saved)


@router.get(
    "/{key}",
    operation_id="getPipeline",
    openapi_extra=requires("deals:read"),
    response_model=PipelinePublic,
    responses=responses(401, 403, 404, 422)
    | success(
        200,
        "ETag",
        replacePipeline=link(
            "replacePipeline",
            {"key": "$request.path.key", "header.If-Match": "$response.header.ETag"},
        ),
        pipelineBoard=link("pipelineBoard", {"key": "$request.path.key"}),
    ),
)
def get_pipeline(key: PipelineKey, services: Services, response: Response) -> PipelinePublic:
    """One pipeline; its ``ETag`` is what a replacement must send in ``If-Match``."""
    pipeline = services.deals.pipeline(key)
    response.headers["ETag"] = etag(pipeline.version)
    return PipelinePublic.of(pipeline)


@router.put(
    "/{key}",
    operation_id="replacePipeline",
    openapi_extra=requires("pipelines:write"),
    dependencies=[permitted("pipelines:write")],
    response_model=PipelinePublic,
    responses=responses(401, 403, 404, 409, 412, 422, 428)
    | success(200, "ETag", getPipeline=link("getPipeline", {"key": "$request.path.key"})),
)
def replace_pipeline(
    key: PipelineKey,
    body: PipelineReplace,
    services: Services,
    response: Response,
    if_match: IfMatch,
) -> PipelinePublic:
    """Replace a pipeline's name and stage list (create new pipelines with POST)."""
    saved = services.deals.save_pipeline(body.pipeline(key), if_version=if_match_version(if_match))
    response.headers["ETag"] = etag(saved.version)
    return PipelinePublic.of(saved)


@router.get(
    "/{key}/board",
    operation_id="pipelineBoard",
    openapi_extra=requires("deals:read"),
    response_model=BoardPublic,
    responses=responses(401, 403, 404, 422),
)
def pipeline_board(key: PipelineKey, services: Services) -> BoardPublic:
    """The pipeline's stages with their newest deals (50 each), how many each holds and
    their totals per currency."""
    return BoardPublic.of(services.deals.board(key))
