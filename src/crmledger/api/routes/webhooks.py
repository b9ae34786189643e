"""``/webhooks``: subscriptions to the book's events, their deliveries and replays.

A subscription is created with the event types it wants; its signing secret is answered
once (and again when it is rotated). Deliveries are sent by ``crmledger worker``; their
log answers each attempt, and a replay sends a delivery again with the same id::

    POST /api/v1/webhooks                      {"url": "https://erp.example.com/hooks",
                                                "event_types": ["invoice.*"]}
    POST /api/v1/webhooks/3/rotate-secret      {"overlap_hours": 24}
    GET  /api/v1/webhooks/3/deliveries
    POST /api/v1/webhook-deliveries/41/replay
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from crmledger.api.deps import Services, permitted
from crmledger.api.integration_schemas import (
    DeliveryPublic,
    RotateRequest,
    WebhookCreate,
    WebhookPublic,
    WebhookUpdate,
    WebhookWithSecret,
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
from crmledger.services.webhooks import Subscription

router = APIRouter(tags=["webhooks"])
WebhookId = Annotated[int, Path(ge=1, le=2**31 - 1)]
DeliveryId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _answer(sub: Subscription, response: Response) -> WebhookPublic:
    response.headers["ETag"] = etag(sub.version)
    return WebhookPublic.of(sub)


def _with_secret(sub: Subscription, secret: str, response: Response) -> WebhookWithSecret:
    response.headers["ETag"] = etag(sub.version)
    return WebhookWithSecret(**WebhookPublic.of(sub).model_dump(), secret=secret)


@router.get(
    "/webhooks",
    operation_id="listWebhooks",
    openapi_extra=requires("integrations:read"),
    response_model=Page[WebhookPublic],
    responses=responses(401, 403, 422),
)
def list_webhooks(
    services: Services, limit: Limit = 100, cursor: Cursor = None
) -> Page[WebhookPublic]:
    """Subscriptions, oldest first."""
    after = number_cursor(cursor) if cursor is not None else None
    found = services.webhooks.list(after, limit)
    last = encode_cursor([found[-1].id]) if len(found) == limit else None
    return Page(items=[WebhookPublic.of(s) for s in found], next_cursor=last)


@router.post(
    "/webhooks",
    operation_id="createWebhook",
    openapi_extra=requires("integrations:write"),
    status_code=201,
    response_model=WebhookWithSecret,
    responses=responses(401, 403, 409, 422)
    | success(
        201,
        "ETag",
        "Location",
        getWebhook=link("getWebhook", {"webhook_id": "$response.body#/id"}),
        listWebhookDeliveries=link("listWebhookDeliveries", {"webhook_id": "$response.body#/id"}),
    ),
)
def create_webhook(
    body: WebhookCreate,
    services: Services,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> WebhookWithSecret:
    """Subscribe ``url`` to ``event_types``. The answer holds the signing secret, once;
    a target whose address is loopback, private or link-local is refused (names are
    checked again, by what they resolve to, before every delivery)."""
    del idempotency_key  # handled by the idempotency middleware
    sub, secret = services.webhooks.create(body.url, body.event_types, body.description)
    response.headers["Location"] = f"/api/v1/webhooks/{sub.id}"
    return _with_secret(sub, secret, response)


@router.get(
    "/webhooks/{webhook_id}",
    operation_id="getWebhook",
    openapi_extra=requires("integrations:read"),
    response_model=WebhookPublic,
    responses=responses(401, 403, 404, 422) | success(200, "ETag"),
)
def get_webhook(webhook_id: WebhookId, services: Services, response: Response) -> WebhookPublic:
    """One subscription."""
    return _answer(services.webhooks.get(webhook_id), response)


@router.patch(
    "/webhooks/{webhook_id}",
    operation_id="updateWebhook",
    openapi_extra=requires("integrations:write"),
    dependencies=[permitted("integrations:write")],
    response_model=WebhookPublic,
    responses=responses(401, 403, 404, 412, 422, 428) | success(200, "ETag"),
)
def update_webhook(
    webhook_id: WebhookId,
    body: WebhookUpdate,
    services: Services,
    response: Response,
    if_match: IfMatch,
) -> WebhookPublic:
    """Change the URL, event types, description or status (``disabled`` fails what is
    pending; ``active`` takes events from now on)."""
    changes: dict[str, Any] = {
        name: getattr(body, name)
        for name in body.model_fields_set
        if getattr(body, name) is not None
    }
    sub = services.webhooks.update(webhook_id, changes, if_match_version(if_match))
    return _answer(sub, response)


@router.post(
    "/webhooks/{webhook_id}/rotate-secret",
    operation_id="rotateWebhookSecret",
    openapi_extra=requires("integrations:write"),
    dependencies=[permitted("integrations:write")],
    response_model=WebhookWithSecret,
    responses=responses(401, 403, 404, 409, 422) | success(200, "ETag"),
)
def rotate_secret(
    webhook_id: WebhookId,
    body: RotateRequest,
    services: Services,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> WebhookWithSecret:
    """A new signing secret; the old one keeps signing too (a second signature) for
    ``overlap_hours``."""
    del idempotency_key  # handled by the idempotency middleware
    sub, secret = services.webhooks.rotate_secret(webhook_id, timedelta(hours=body.overlap_hours))
    return _with_secret(sub, secret, response)


@router.post(
    "/webhooks/{webhook_id}/test",
    operation_id="testWebhook",
    openapi_extra=requires("integrations:write"),
    dependencies=[permitted("integrations:write")],
    status_code=202,
    response_model=DeliveryPublic,
    responses=responses(401, 403, 404, 409, 422),
)
def send_test_message(
    webhook_id: WebhookId, services: Services, idempotency_key: IdempotencyKey = None
) -> DeliveryPublic:
    """Queue a ``webhook.test`` message to the subscription (the worker sends it)."""
    del idempotency_key  # handled by the idempotency middleware
    return DeliveryPublic.of(services.webhooks.queue_test(webhook_id))


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    operation_id="listWebhookDeliveries",
    openapi_extra=requires("integrations:read"),
    response_model=Page[DeliveryPublic],
    responses=responses(401, 403, 404, 422),
)
def list_deliveries(
    webhook_id: WebhookId, services: Services, limit: Limit = 100, cursor: Cursor = None
) -> Page[DeliveryPublic]:
    """The subscription's delivery log, newest first."""
    before = number_cursor(cursor) if cursor is not None else None
    found = services.webhooks.deliveries(webhook_id, before, limit)
    return Page(
        items=[DeliveryPublic.of(d) for d in found],
        next_cursor=next_cursor([d.id for d in found], limit),
    )


@router.get(
    "/webhook-deliveries/{delivery_id}",
    operation_id="getWebhookDelivery",
    openapi_extra=requires("integrations:read"),
    response_model=DeliveryPublic,
    responses=responses(401, 403, 404, 422),
)
def get_delivery(delivery_id: DeliveryId, services: Services) -> DeliveryPublic:
    """One delivery with each of its attempts."""
    delivery, attempts = services.webhooks.delivery(delivery_id)
    return DeliveryPublic.of(delivery, attempts)


@router.post(
    "/webhook-deliveries/{delivery_id}/replay",
    operation_id="replayWebhookDelivery",
    openapi_extra=requires("integrations:write"),
    dependencies=[permitted("integrations:write")],
    status_code=202,
    response_model=DeliveryPublic,
    responses=responses(401, 403, 404, 409, 422),
)
def replay_delivery(
    delivery_id: DeliveryId, services: Services, idempotency_key: IdempotencyKey = None
) -> DeliveryPublic:
    """Send the delivery again (same message id and body) from now on."""
    del idempotency_key  # handled by the idempotency middleware
    return DeliveryPublic.of(services.webhooks.replay(delivery_id))
