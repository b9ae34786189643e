"""``/orders``: sales orders, written from scratch or from an accepted quote.

An order moves ``draft → confirmed → fulfilled`` and may be cancelled until it is
fulfilled; each move is a ``POST`` on the order with ``If-Match`` (a retried move answers
412 rather than moving twice). Once its invoice is paid in full a confirmed or fulfilled
order is ``paid``, which is final::

    POST /api/v1/orders        {"quote_id": 12}          →  201, the quote's confirmed order
    POST /api/v1/orders/5/fulfil          If-Match: "1"   →  {"status": "fulfilled", ...}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response

from crmledger.api.commerce_schemas import (
    OrderCreate,
    OrderFromQuote,
    OrderPublic,
    QueryId,
    drafts,
)
from crmledger.api.deps import Services, permitted
from crmledger.api.problems import requires, responses
from crmledger.api.routes.common import (
    IdempotencyKey,
    IfMatch,
    etag,
    if_match_version,
    link,
    success,
)
from crmledger.api.routes.quotes import MOVE, DocumentFilters, next_cursor, page_query
from crmledger.api.schemas import Page
from crmledger.core.crm.documents import OrderStatus
from crmledger.services.sales import SalesOrder

router = APIRouter(prefix="/orders", tags=["orders"])
OrderId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class OrderFilters(DocumentFilters):
    status: OrderStatus | None = None
    quote_id: QueryId | None = None


def _answer(order: SalesOrder, response: Response) -> OrderPublic:
    response.headers["ETag"] = etag(order.version)
    return OrderPublic.of(order)


@router.get(
    "",
    operation_id="listOrders",
    openapi_extra=requires("sales:read"),
    response_model=Page[OrderPublic],
    responses=responses(401, 403, 422),
)
def list_orders(services: Services, filters: Annotated[OrderFilters, Query()]) -> Page[OrderPublic]:
    """Sales orders, newest first; filter by party, deal, quote or status."""
    found = services.sales.list_orders(
        page_query(filters, filters.status, quote_id=filters.quote_id)
    )
    return Page(
        items=[OrderPublic.of(o) for o in found],
        next_cursor=next_cursor([o.id for o in found], filters.limit),
    )


@router.post(
    "",
    operation_id="createOrder",
    openapi_extra=requires("sales:write"),
    status_code=201,
    response_model=OrderPublic,
    responses=responses(401, 403, 404, 409, 422)
    | success(
        201,
        "ETag",
        "Location",
        getOrder=link("getOrder", {"order_id": "$response.body#/id"}),
        confirmOrder=link(
            "confirmOrder",
            {"order_id": "$response.body#/id", "header.If-Match": "$response.header.ETag"},
        ),
    ),
)
def create_order(
    body: Annotated[OrderCreate | OrderFromQuote, Body()],
    services: Services,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> OrderPublic:
    """A draft order from lines (numbered ``SO-<year>-<n>``), or, given a ``quote_id``,
    the confirmed order of that quote: the quote is accepted in the same transaction."""
    del idempotency_key  # handled by the idempotency middleware
    if isinstance(body, OrderFromQuote):
        order = services.sales.order_from_quote(body.quote_id)
    else:
        order = services.sales.create_order(
            body.party_id,
            body.currency,
            drafts(body.lines),
            body.deal_id,
            prices_include_tax=body.prices_include_tax,
        )
    response.headers["Location"] = f"/api/v1/orders/{order.id}"
    return _answer(order, response)


@router.get(
    "/{order_id}",
    operation_id="getOrder",
    openapi_extra=requires("sales:read"),
    response_model=OrderPublic,
    responses=responses(401, 403, 404, 422) | success(200, "ETag"),
)
def get_order(order_id: OrderId, services: Services, response: Response) -> OrderPublic:
    """One sales order with its lines and totals."""
    return _answer(services.sales.get_order(order_id), response)


Move = Callable[[Services, int, int], SalesOrder]


def _transition(action: str, summary: str, move: Move) -> None:
    """Register ``POST /{order_id}/<action>`` (operation ``<action>Order``)."""

    @router.post(
        f"/{{order_id}}/{action}",
        operation_id=f"{action}Order",
        openapi_extra=requires("sales:write"),
        dependencies=[permitted("sales:write")],
        response_model=OrderPublic,
        responses=MOVE
        | success(200, "ETag", getOrder=link("getOrder", {"order_id": "$request.path.order_id"})),
        summary=summary,
    )
    def transition(
        order_id: OrderId,
        services: Services,
        response: Response,
        if_match: IfMatch,
    ) -> OrderPublic:
        return _answer(move(services, order_id, if_match_version(if_match)), response)

    transition.__doc__ = summary


_transition("confirm", "Confirm a draft order.", lambda s, o, v: s.sales.confirm_order(o, v))
_transition(
    "fulfil", "A confirmed order was delivered or done.", lambda s, o, v: s.sales.fulfil_order(o, v)
)
_transition(
    "cancel",
    "Cancel a draft or confirmed order.",
    lambda s, o, v: s.sales.cancel_order(o, v),
)
