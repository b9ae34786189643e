"""``/sync/export``: every customer or issued invoice as one JSON line each, streamed.

Another crmledger book reconciles against this one by reading these (its ``crmledger``
connector): one request instead of a page of 500 at a time, and only the fields
reconciliation compares. The book reads them in chunks by id, each in a short read-only
transaction, while the answer streams; a reader that lost the connection asks again with
``after`` set to the last ``id`` it got::

    GET /api/v1/sync/export/invoices?after=0          (application/x-ndjson)
    {"id":7,"number":"INV-7","customer":"12","currency":"EUR","total":"119.00",...}
    {"id":8,...}

Customers need ``parties:read``, invoices ``billing:read``, as their lists do.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from crmledger.api.deps import Services, permitted
from crmledger.api.problems import requires, responses
from crmledger.services.sync_config import INVOICE_FIELDS
from crmledger.services.sync_export import ExportedCustomer, ExportedInvoice
from crmledger.services.sync_records import CUSTOMER_FIELDS

router = APIRouter(prefix="/sync/export", tags=["sync"])
NDJSON = "application/x-ndjson"
After = Annotated[
    int,
    Query(ge=0, le=2**31 - 1, description="Start after this id (the last line's `id`)."),
]


def _texts(names: Iterable[str]) -> dict[str, Any]:
    return {n: {"type": "string"} for n in names}


_CUSTOMER_LINE = {
    "type": "object",
    "description": "One party as reconciliation compares it (one line each).",
    "properties": {
        "id": {"type": "integer"},
        "updated_at": {"type": "string", "format": "date-time"},
        "external_ids": {
            "type": "array",
            "items": {"type": "object", "properties": _texts(("system", "id"))},
        },
        "record": {"type": "object", "properties": _texts(CUSTOMER_FIELDS)},
    },
    "required": ["id", "updated_at", "external_ids", "record"],
}
_INVOICE_LINE = {
    "type": "object",
    "description": "One issued invoice (one line each); `customer` is the party's id.",
    "properties": {"id": {"type": "integer"}, **_texts(INVOICE_FIELDS)},
    "required": ["id", *INVOICE_FIELDS],
}


def _streamed(line: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"description": "One JSON object per line.", "content": {NDJSON: {"schema": line}}}
    }


def _customer(found: ExportedCustomer) -> bytes:
    return orjson.dumps(
        {
            "id": found.id,
            "updated_at": found.updated_at,
            "external_ids": [{"system": e.system, "id": e.id} for e in found.external_ids],
            "record": found.record,
        }
    )


def _invoice(found: ExportedInvoice) -> bytes:
    return orjson.dumps({"id": found.id, **found.record})


def _lines(chunks: Iterator[list[Any]], line: Any) -> Iterator[bytes]:
    for chunk in chunks:
        yield b"\n".join(line(found) for found in chunk) + b"\n"


@router.get(
    "/customers",
    operation_id="exportCustomers",
    openapi_extra=requires("parties:read"),
    dependencies=[permitted("parties:read")],
    response_class=StreamingResponse,
    responses=responses(401, 403, 422) | _streamed(_CUSTOMER_LINE),
)
def export_customers(services: Services, after: After = 0) -> StreamingResponse:
    """Every party after the id ``after``, in id order, as the flat customer record a
    sync compares (first email, phone and address), one JSON object per line."""
    chunks = services.sync.export_customers(after)
    return StreamingResponse(_lines(chunks, _customer), media_type=NDJSON)


@router.get(
    "/invoices",
    operation_id="exportInvoices",
    openapi_extra=requires("billing:read"),
    dependencies=[permitted("billing:read")],
    response_class=StreamingResponse,
    responses=responses(401, 403, 422) | _streamed(_INVOICE_LINE),
)
def export_invoices(services: Services, after: After = 0) -> StreamingResponse:
    """Every issued invoice (not a draft) after the id ``after``, in id order, with the
    fields reconciliation compares, one JSON object per line."""
    chunks = services.sync.export_invoices(after)
    return StreamingResponse(_lines(chunks, _invoice), media_type=NDJSON)
