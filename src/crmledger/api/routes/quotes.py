"""``/quotes``: offers to a party, their live totals, and their answer.

A quote moves ``draft → sent → accepted | rejected`` (or is cancelled before an answer);
each move is a ``POST`` on the quote with ``If-Match`` (which also makes a retry safe: once
the first attempt went through, the old ETag answers 412). Accepting creates the order::

    POST /api/v1/quotes/12/accept      If-Match: "2"   →  {"status": "accepted", "order_id": 5}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from crmledger.api.commerce_schemas import (
    QueryId,
    QuoteCreate,
    QuotePreview,
    QuotePublic,
    QuoteUpdate,
    TotalsPublic,
    drafts,
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
from crmledger.core.crm.documents import QuoteStatus
from crmledger.services.crm_ports import DocumentQuery
from crmledger.services.sales import Quote

router = APIRouter(prefix="/quotes", tags=["quotes"])
QuoteId = Annotated[int, Path(ge=1, le=2**31 - 1)]
# Routes of one quote take ``{quote_id:int}``, so ``PATCH /quotes/preview`` is a 405, not
# an attempt to change a quote called "preview".
#: The answers of a state transition.
MOVE = responses(401, 403, 404, 409, 412, 422, 428)


class DocumentFilters(BaseModel):
    """Page and filters of quotes and orders, newest first (unknown parameters refused)."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(100, ge=1, le=MAX_LIMIT, description="Page size (at most 500).")
    cursor: str | None = Field(None, max_length=512, description="`next_cursor` of the last page.")
    party_id: QueryId | None = None
    deal_id: QueryId | None = None


class QuoteFilters(DocumentFilters):
    status: QuoteStatus | None = None


def page_query(filters: DocumentFilters, status: str | None, **more: Any) -> DocumentQuery:
    """The store query of a list request."""
    return DocumentQuery(
        limit=filters.limit,
        after=number_cursor(filters.cursor) if filters.cursor is not None else None,
        party_id=filters.party_id,
        deal_id=filters.deal_id,
        status=status,
        **more,
    )


def next_cursor(ids: list[int], limit: int) -> str | None:
    """The cursor after a page of ``ids`` (newest first), or None on the last page."""
    return encode_cursor([ids[-1]]) if len(ids) == limit else None


def _answer(quote: Quote, response: Response) -> QuotePublic:
    response.headers["ETag"] = etag(quote.version)
    return QuotePublic.of(quote)


@router.get(
    "",
    operation_id="listQuotes",
    openapi_extra=requires("sales:read"),
    response_model=Page[QuotePublic],
    responses=responses(401, 403, 422),
)
def list_quotes(services: Services, filters: Annotated[QuoteFilters, Query()]) -> Page[QuotePublic]:
    """Quotes, newest first; filter by party, deal or status."""
    found = services.sales.list_quotes(page_query(filters, filters.status))
    return Page(
        items=[QuotePublic.of(q) for q in found],
        next_cursor=next_cursor([q.id for q in found], filters.limit),
    )


@router.post(
    "",
    operation_id="createQuote",
    openapi_extra=requires("sales:write"),
    status_code=201,
    response_model=QuotePublic,
    responses=responses(401, 403, 409, 422)
    | success(
        201,
        "ETag",
        "Location",
        getQuote=link("getQuote", {"quote_id": "$response.body#/id"}),
        sendQuote=link(
            "sendQuote",
            {"quote_id": "$response.body#/id", "header.If-Match": "$response.header.ETag"},
        ),
        acceptQuote=link(
            "acceptQuote",
            {"quote_id": "$response.body#/id", "header.If-Match": "$response.header.ETag"},
        ),
    ),
)
def create_quote(
    body: QuoteCreate,
    services: Services,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> QuotePublic:
    """A draft quote, numbered ``Q-<year>-<n>``. A line without a description, price or
    tax category takes its product's; a bad line is refused naming its field
    (``lines[2].quantity``). With ``prices_include_tax`` the unit prices are gross and
    each line's tax is taken out of its amount."""
    del idempotency_key  # handled by the idempotency middleware
    quote = services.sales.create_quote(
        body.party_id,
        body.currency,
        drafts(body.lines),
        body.valid_until,
        body.deal_id,
        prices_include_tax=body.prices_include_tax,
    )
    response.headers["Location"] = f"/api/v1/quotes/{quote.id}"
    return _answer(quote, response)


@router.post(
    "/preview",
    operation_id="previewQuote",
    openapi_extra=requires("sales:read"),
    response_model=TotalsPublic,
    responses=responses(401, 403, 422),
)
def preview_quote(body: QuotePreview, services: Services) -> TotalsPublic:
    """The totals of draft lines, saving nothing: what an editor shows as the user types;
    with ``prices_include_tax`` the unit prices are gross."""
    priced = services.sales.preview(
        body.currency, drafts(body.lines), prices_include_tax=body.prices_include_tax
    )
    return TotalsPublic.of(priced)


@router.get(
    "/{quote_id:int}",
    operation_id="getQuote",
    openapi_extra=requires("sales:read"),
    response_model=QuotePublic,
    responses=responses(401, 403, 404, 422)
    | success(
        200,
        "ETag",
        updateQuote=link(
            "updateQuote",
            {"quote_id": "$request.path.quote_id", "header.If-Match": "$response.header.ETag"},
        ),
    ),
)
def get_quote(quote_id: QuoteId, services: Services, response: Response) -> QuotePublic:
    """One quote with its lines and totals."""
    return _answer(services.sales.get_quote(quote_id), response)


@router.patch(
    "/{quote_id:int}",
    operation_id="updateQuote",
    openapi_extra=requires("sales:write"),
    dependencies=[permitted("sales:write")],
    response_model=QuotePublic,
    responses=MOVE | success(200, "ETag"),
)
def update_quote(
    quote_id: QuoteId,
    body: QuoteUpdate,
    services: Services,
    response: Response,
    if_match: IfMatch,
) -> QuotePublic:
    """Change a draft: its lines (as a whole), its validity, its deal or whether its prices
    include tax (its lines are priced anew)."""
    changes: dict[str, Any] = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        if name == "lines":
            if value is not None:
                changes[name] = drafts(value)
        else:
            changes[name] = value
    quote = services.sales.update_quote(quote_id, changes, if_match_version(if_match))
    return _answer(quote, response)


Move = Callable[[Services, int, int], Quote]


def _transition(action: str, summary: str, move: Move) -> None:
    """Register ``POST /{quote_id}/<action>`` (operation ``<action>Quote``)."""
    links = {"getQuote": link("getQuote", {"quote_id": "$request.path.quote_id"})}
    if action == "accept":
        links["getOrder"] = link("getOrder", {"order_id": "$response.body#/order_id"})

    @router.post(
        f"/{{quote_id:int}}/{action}",
        operation_id=f"{action}Quote",
        openapi_extra=requires("sales:write"),
        dependencies=[permitted("sales:write")],
        response_model=QuotePublic,
        responses=MOVE | success(200, "ETag", **links),
        summary=summary,
    )
    def transition(
        quote_id: QuoteId,
        services: Services,
        response: Response,
        if_match: IfMatch,
    ) -> QuotePublic:
        return _answer(move(services, quote_id, if_match_version(if_match)), response)

    transition.__doc__ = summary


_transition("send", "Send a draft quote to the customer.", lambda s, q, v: s.sales.send_quote(q, v))
_transition(
    "accept",
    "Accept a draft or sent quote before it expires: creates its confirmed sales order and "
    "wins its deal, in one transaction.",
    lambda s, q, v: s.sales.accept_quote(q, v)[0],
)
_transition(
    "reject", "The customer declined a sent quote.", lambda s, q, v: s.sales.reject_quote(q, v)
)
_transition(
    "cancel",
    "Withdraw a draft or sent quote before it is answered.",
    lambda s, q, v: s.sales.cancel_quote(q, v),
)
