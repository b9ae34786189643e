"""Quotes and orders as documents: the lists, a sent or decided quote's page with its status
buttons, and an order's page.

A draft quote opens in the editor (:mod:`.pages_quotes`) for a role that may change it;
any other quote, and every order, is shown as it stands. Status buttons post the version
they were shown at::

    POST /quotes/12/accept  version=4   -> the order's page
    POST /orders/5/fulfil   version=1
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from crmledger.core.access import PermissionDeniedError
from crmledger.core.crm.documents import OrderStatus, QuoteStatus
from crmledger.core.errors import LedgerError
from crmledger.services.crm_ports import DocumentQuery
from crmledger.services.errors import NotFoundError
from crmledger.services.sales import Quote, SalesDocument, SalesOrder
from crmledger.web import crm_view, forms, quote_form
from crmledger.web.pages_quotes import editor, load_quote
from crmledger.web.params import sentence, text, with_query
from crmledger.web.render import flash, page
from crmledger.web.session import Signed, Viewer

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
MAX_ID = 2**62
#: Status buttons a quote shows, by status: (action, label, button class).
QUOTE_ACTIONS = {
    "draft": [("send", "Send", ""), ("accept", "Accept", ""), ("cancel", "Cancel", "danger")],
    "sent": [
        ("accept", "Accept", ""),
        ("reject", "Rejected", "secondary"),
        ("expire", "Expired", "secondary"),
        ("cancel", "Withdraw", "danger"),
    ],
}
#: Order states an invoice may be made from ("Invoice this order").
INVOICEABLE = (OrderStatus.CONFIRMED, OrderStatus.FULFILLED)
ORDER_ACTIONS = {
    "draft": [("confirm", "Confirm", ""), ("cancel", "Cancel", "danger")],
    "confirmed": [("fulfil", "Mark fulfilled", ""), ("cancel", "Cancel", "danger")],
}


def _names(viewer: Viewer, documents: Iterable[SalesDocument]) -> dict[int, str]:
    ids = {d.party_id for d in documents}
    return {i: p.display_name for i, p in viewer.book.parties.many(ids).items()}


def _list(request: Request, viewer: Viewer, kind: str) -> Response:
    viewer.principal.require("sales", "read")
    query = dict(request.query_params)
    status = text(query, "status")
    statuses = [s.value for s in (QuoteStatus if kind == "quotes" else OrderStatus)]
    errors = {"status": "Choose a status from the list."} if status not in ["", *statuses] else {}
    after_text = text(query, "after")
    after = int(after_text) if after_text.isdigit() and len(after_text) < 18 else None
    wanted = DocumentQuery(limit=PAGE_SIZE, after=after, status=status or None)
    found: list[Any] = []
    if not errors:
        lister = (
            viewer.book.sales.list_quotes if kind == "quotes" else viewer.book.sales.list_orders
        )
        found = list(lister(wanted))
    last = found[-1].id if len(found) == PAGE_SIZE else None
    context = {
        "kind": kind,
        "documents": found,
        "names": _names(viewer, found),
        "status": status,
        "statuses": [(s, crm_view.words(s)) for s in statuses],
        "errors": errors,
        "next_url": with_query(f"/{kind}", {"status": status, "after": last}) if last else None,
        "first_url": with_query(f"/{kind}", {"status": status}) if after else None,
        "title": "Quotes" if kind == "quotes" else "Orders",
    }
    code = 422 if errors else 200
    return page(request, "documents.html", context, viewer=viewer, active="/quotes", status=code)


@router.get("/quotes")
def quotes(request: Request, viewer: Signed) -> Response:
    """Quotes, newest first, by status."""
    return _list(request, viewer, "quotes")


@router.get("/orders")
def orders(request: Request, viewer: Signed) -> Response:
    """Sales orders, newest first, by status."""
    return _list(request, viewer, "orders")


def _document_page(
    request: Request,
    viewer: Viewer,
    document: Quote | SalesOrder,
    actions: list[tuple[str, str, str]],
    error: str = "",
    status: int = 200,
) -> Response:
    party = viewer.book.parties.get(document.party_id)
    is_quote = isinstance(document, Quote)
    context = {
        "document": document,
        "is_quote": is_quote,
        "party": party,
        "rows": list(zip(document.lines, document.totals.lines, strict=True)),
        "actions": actions if viewer.can("sales", "write") else [],
        "can_invoice": not is_quote
        and document.status in INVOICEABLE
        and viewer.can("billing", "write"),
        "error": error,
        "title": f"{'Quote' if is_quote else 'Order'} {document.number}",
    }
    return page(request, "document.html", context, viewer=viewer, active="/quotes", status=status)


@router.get("/quotes/{quote_id:int}")
def quote(request: Request, quote_id: int, viewer: Signed) -> Response:
    """A draft in the editor (for a role that may change it), else the quote as it stands."""
    found = load_quote(viewer, quote_id)
    if found.status is QuoteStatus.DRAFT and viewer.can("sales", "write"):
        party = viewer.book.parties.get(found.party_id)
        return editor(request, viewer, party, quote_form.of_quote(found), found)
    actions = QUOTE_ACTIONS.get(found.status.value, [])
    return _document_page(request, viewer, found, actions)


def _quote_step(viewer: Viewer, action: str) -> Callable[[int, int | None], Any] | None:
    sales = viewer.book.sales
    return {
        "send": sales.send_quote,
        "accept": sales.accept_quote,
        "reject": sales.reject_quote,
        "expire": sales.expire_quote,
        "cancel": sales.cancel_quote,
    }.get(action)


@router.post("/quotes/{quote_id:int}/{action}")
async def quote_action(request: Request, quote_id: int, action: str, viewer: Signed) -> Response:
    """Send, accept, reject, expire or cancel a quote."""
    form = await request.form()
    return await run_in_threadpool(_quote_action, request, quote_id, action, viewer, form)


def _version(form: FormData) -> int | None:
    return forms.integer(forms.value(form, "version", 12), "version", forms.Errors(), "Version")


def _quote_action(
    request: Request, quote_id: int, action: str, viewer: Viewer, form: FormData
) -> Response:
    viewer.principal.require("sales", "write")
    found = load_quote(viewer, quote_id)
    step = _quote_step(viewer, action)
    if step is None:
        raise NotFoundError(f"no quote action {action!r}")
    try:
        result = step(quote_id, _version(form))
    except PermissionDeniedError:
        raise
    except LedgerError as exc:
        actions = QUOTE_ACTIONS.get(found.status.value, [])
        return _document_page(request, viewer, found, actions, sentence(exc), 409)
    if isinstance(result, tuple):
        accepted, order = result
        response = RedirectResponse(f"/orders/{order.id}", 303)
        flash(request, response, f"{accepted.number} accepted: order {order.number} created.")
        return response
    response = RedirectResponse(f"/quotes/{quote_id}", 303)
    flash(request, response, f"{result.number} is now {crm_view.words(result.status.value)}.")
    return response


def _order(viewer: Viewer, order_id: int) -> SalesOrder:
    if not 1 <= order_id <= MAX_ID:
        raise NotFoundError(f"no order {order_id}")
    return viewer.book.sales.get_order(order_id)


@router.get("/orders/{order_id:int}")
def order(request: Request, order_id: int, viewer: Signed) -> Response:
    """A sales order: its lines, totals, status and the quote it came from."""
    found = _order(viewer, order_id)
    return _document_page(request, viewer, found, ORDER_ACTIONS.get(found.status.value, []))


@router.post("/orders/{order_id:int}/{action}")
async def order_action(request: Request, order_id: int, action: str, viewer: Signed) -> Response:
    """Confirm, fulfil or cancel an order."""
    form = await request.form()
    return await run_in_threadpool(_order_action, request, order_id, action, viewer, form)


def _order_action(
    request: Request, order_id: int, action: str, viewer: Viewer, form: FormData
) -> Response:
    viewer.principal.require("sales", "write")
    found = _order(viewer, order_id)
    sales = viewer.book.sales
    steps = {
        "confirm": sales.confirm_order,
        "fulfil": sales.fulfil_order,
        "cancel": sales.cancel_order,
    }
    step = steps.get(action)
    if step is None:
        raise NotFoundError(f"no order action {action!r}")
    try:
        result = step(order_id, _version(form))
    except PermissionDeniedError:
        raise
    except LedgerError as exc:
        actions = ORDER_ACTIONS.get(found.status.value, [])
        return _document_page(request, viewer, found, actions, sentence(exc), 409)
    response = RedirectResponse(f"/orders/{order_id}", 303)
    flash(request, response, f"{result.number} is now {crm_view.words(result.status.value)}.")
    return response
