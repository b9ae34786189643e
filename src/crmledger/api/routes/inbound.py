"""``/inbound/{connector}``: signed webhooks from outside systems.

No bearer token: the signature is the credential. A request whose signature does not hold
(wrong secret, a changed byte, a re-serialised body, a missing header, a timestamp more
than 300 s away) is answered 401 and changes nothing; an event seen before is answered 200
with ``duplicate: true`` and changes nothing either::

    POST /api/v1/inbound/shop
    webhook-id: evt_81   webhook-timestamp: 1795400000   webhook-signature: v1,K5oZ...
    {"type": "customer.updated", "data": {"CustomerNo": "C-7", "Company": "Acme AG"}}
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from crmledger.api.deps import Book
from crmledger.api.integration_schemas import ConnectorName, InboundPublic, RecordPublic
from crmledger.api.problems import requires, responses

router = APIRouter(prefix="/inbound", tags=["inbound"])

_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "The outside system's event: its ``type`` "
                    "(``customer.updated``) and the record under ``data`` (Stripe: "
                    "``data.object``), in the connector's column names.",
                }
            }
        },
    }
}


@router.post(
    "/{connector}",
    operation_id="receiveInboundEvent",
    openapi_extra=requires("none") | _BODY,
    response_model=InboundPublic,
    responses=responses(401, 413, 422),
)
async def receive(connector: ConnectorName, request: Request, book: Book) -> InboundPublic:
    """Verify the signature (Standard Webhooks, or Stripe's for a ``stripe`` connector)
    and apply the event once, deduplicated by its id in the same transaction."""
    body = await request.body()
    headers = dict(request.headers.items())
    result = await run_in_threadpool(book.inbound.receive, connector, headers, body)
    return InboundPublic(
        event_id=result.event_id,
        duplicate=result.duplicate,
        object_type=result.object_type,
        results=[RecordPublic.of(r) for r in result.results],
    )
