"""``/sync``: connectors to outside systems, their runs, logs, conflicts and reconciliation.

::

    POST /api/v1/sync/connectors                  {"name": "shop", "kind": "folder", ...}
    POST /api/v1/sync/connectors/shop/runs        {"object_type": "customer", "dry_run": true}
    POST /api/v1/sync/connectors/shop/push
    POST /api/v1/sync/connectors/shop/reconcile   {"object_type": "invoice"}
    GET  /api/v1/sync/runs/9/log
    POST /api/v1/sync/conflicts/4/resolve         {"keep": "remote"}
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from crmledger.api.deps import Services, permitted
from crmledger.api.integration_schemas import (
    ConflictPublic,
    ConnectorCreate,
    ConnectorCreated,
    ConnectorName,
    ConnectorPublic,
    ConnectorUpdate,
    ReconcileRequest,
    ReconciliationPublic,
    RecordPublic,
    ResolveRequest,
    RunPublic,
    RunReportPublic,
    RunRequest,
)
from crmledger.api.problems import requires, responses
from crmledger.api.routes.common import (
    Cursor,
    IdempotencyKey,
    IfMatch,
    Limit,
    etag,
    if_match_version,
    link,
    number_cursor,
    success,
)
from crmledger.api.routes.quotes import next_cursor
from crmledger.api.schemas import Page, encode_cursor
from crmledger.services.sync import ConnectorView

router = APIRouter(prefix="/sync", tags=["sync"])
Connector = Annotated[ConnectorName, Path(description="The connector's name.")]
RunId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ConflictId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _answer(view: ConnectorView, response: Response) -> ConnectorPublic:
    response.headers["ETag"] = etag(view.version)
    return ConnectorPublic.of(view)


@router.get(
    "/connectors",
    operation_id="listConnectors",
    openapi_extra=requires("integrations:read"),
    response_model=list[ConnectorPublic],
    responses=responses(401, 403),
)
def list_connectors(services: Services) -> list[ConnectorPublic]:
    """Every connector, by name."""
    return [ConnectorPublic.of(c) for c in services.sync.list()]


@router.post(
    "/connectors",
    operation_id="createConnector",
    openapi_extra=requires("integrations:write"),
    status_code=201,
    response_model=ConnectorCreated,
    responses=responses(401, 403, 409, 422)
    | success(
        201,
        "ETag",
        "Location",
        getConnector=link("getConnector", {"connector": "$response.body#/name"}),
    ),
)
def create_connector(
    body: ConnectorCreate,
    services: Services,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ConnectorCreated:
    """A new connector; its configuration is checked (objects, fields, rules, codes, and
    that the adapter can use it) before anything is stored. With ``inbound_scheme`` the
    answer holds the secret its webhooks are signed with, once."""
    del idempotency_key  # handled by the idempotency middleware
    secrets = body.secrets.given() if body.secrets else {}
    view, inbound = services.sync.add(
        body.name, body.kind, body.config, secrets, body.inbound_scheme
    )
    response.headers["Location"] = f"/api/v1/sync/connectors/{view.name}"
    response.headers["ETag"] = etag(view.version)
    return ConnectorCreated(**ConnectorPublic.of(view).model_dump(), inbound_secret=inbound)


@router.get(
    "/connectors/{connector}",
    operation_id="getConnector",
    openapi_extra=requires("integrations:read"),
    response_model=ConnectorPublic,
    responses=responses(401, 403, 404, 422) | success(200, "ETag"),
)
def get_connector(connector: Connector, services: Services, response: Response) -> ConnectorPublic:
    """One connector."""
    return _answer(services.sync.get(connector), response)


@router.patch(
    "/connectors/{connector}",
    operation_id="updateConnector",
    openapi_extra=requires("integrations:write"),
    dependencies=[permitted("integrations:write")],
    response_model=ConnectorPublic,
    responses=responses(401, 403, 404, 412, 422, 428) | success(200, "ETag"),
)
def update_connector(
    connector: Connector,
    body: ConnectorUpdate,
    services: Services,
    response: Response,
    if_match: IfMatch,
) -> ConnectorPublic:
    """Change the configuration, secrets (merged) or status (``paused`` stops runs)."""
    view = services.sync.update(
        connector,
        if_match_version(if_match),
        config=body.config,
        secrets=body.secrets.given() if body.secrets else None,
        status=body.status,
    )
    return _answer(view, response)


@router.post(
    "/connectors/{connector}/runs",
    operation_id="runConnector",
    openapi_extra=requires("integrations:write"),
    dependencies=[permitted("integrations:write")],
    response_model=RunReportPublic,
    responses=responses(401, 403, 404, 409, 422)
    | success(200, syncRunLog=link("syncRunLog", {"run_id": "$response.body#/run_id"})),
)
def run_connector(
    connector: Connector,
    body: RunRequest,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> RunReportPublic:
    """Pull what changed outside since the last run, page by page; a ``dry_run`` answers
    the diff and writes nothing. Running again is safe: nothing is applied twice."""
    del idempotency_key  # handled by the idempotency middleware
    report = services.sync.run(connector, body.object_type, dry_run=body.dry_run, limit=body.limit)
    return RunReportPublic.of(report)


@router.post(
    "/connectors/{connector}/push",
    operation_id="pushConnector",
    openapi_extra=requires("integrations:write"),
    dependencies=[permitted("integrations:write")],
    response_model=RunReportPublic,
    responses=responses(401, 403, 404, 409, 422),
)
def push_connector(
    connector: Connector, services: Services, idempotency_key: IdempotencyKey = None
) -> RunReportPublic:
    """Send crmledger's customer changes out (connectors that push)."""
    del idempotency_key  # handled by the idempotency middleware
    return RunReportPublic.of(services.sync.push(connector))


@router.post(
    "/connectors/{connector}/reconcile",
    operation_id="reconcileConnector",
    openapi_extra=requires("integrations:read"),
    response_model=ReconciliationPublic,
    responses=responses(401, 403, 404, 422),
)
def reconcile_connector(
    connector: Connector, body: ReconcileRequest, services: Services
) -> ReconciliationPublic:
    """Compare both sides of an object type: counts, amount totals per currency and each
    record that differs."""
    return ReconciliationPublic.of(services.sync.reconcile(connector, body.object_type))


@router.get(
    "/runs",
    operation_id="listSyncRuns",
    openapi_extra=requires("integrations:read"),
    response_model=Page[RunPublic],
    responses=responses(401, 403, 404, 422),
)
def list_runs(
    services: Services,
    connector: Annotated[ConnectorName | None, Query()] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[RunPublic]:
    """Runs, newest first (of one connector when ``connector`` is given)."""
    before = number_cursor(cursor) if cursor is not None else None
    found = services.sync.runs(connector, before, limit)
    return Page(
        items=[RunPublic.of(r) for r in found],
        next_cursor=next_cursor([r.id for r in found], limit),
    )


@router.get(
    "/runs/{run_id}/log",
    operation_id="syncRunLog",
    openapi_extra=requires("integrations:read"),
    response_model=Page[RecordPublic],
    responses=responses(401, 403, 404, 422),
)
def run_log(
    run_id: RunId, services: Services, limit: Limit = 500, cursor: Cursor = None
) -> Page[RecordPublic]:
    """Each record's outcome in a run, and why."""
    after = number_cursor(cursor) if cursor is not None else None
    found = services.sync.log(run_id, after, limit)
    last = encode_cursor([found[-1].id]) if len(found) == limit else None
    return Page(items=[RecordPublic.logged(r) for r in found], next_cursor=last)


@router.get(
    "/conflicts",
    operation_id="listSyncConflicts",
    openapi_extra=requires("integrations:read"),
    response_model=Page[ConflictPublic],
    responses=responses(401, 403, 404, 422),
)
def list_conflicts(
    services: Services,
    connector: Annotated[ConnectorName | None, Query()] = None,
    status: Annotated[str, Query(pattern="^(open|kept_local|took_remote|all)$")] = "open",
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[ConflictPublic]:
    """Fields held for review (open ones unless ``status`` says otherwise), oldest first."""
    after = number_cursor(cursor) if cursor is not None else None
    wanted = None if status == "all" else status
    found = services.sync.conflicts(connector, wanted, after, limit)
    last = encode_cursor([found[-1].id]) if len(found) == limit else None
    return Page(items=[ConflictPublic.of(c) for c in found], next_cursor=last)


@router.post(
    "/conflicts/{conflict_id}/resolve",
    operation_id="resolveSyncConflict",
    openapi_extra=requires("integrations:write"),
    dependencies=[permitted("integrations:write")],
    response_model=ConflictPublic,
    responses=responses(401, 403, 404, 409, 422),
)
def resolve_conflict(
    conflict_id: ConflictId,
    body: ResolveRequest,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> ConflictPublic:
    """Decide a conflict: keep crmledger's value or take the outside one."""
    del idempotency_key  # handled by the idempotency middleware
    return ConflictPublic.of(services.sync.resolve(conflict_id, body.keep))
