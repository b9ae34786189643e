"""The quote editor: line rows with a product picker, totals recalculated as you type, and
save, send and accept (which makes the order and wins the deal).

Money is never added up in the browser: every change posts the editor to
``/quotes/preview``, which asks the sales service to price the lines (the same
``core.crm.documents.totals`` a saved quote uses) and answers with the totals and each
row's net amount (out of band, by the row's key), at gross unit prices when "Prices include
tax" is ticked. Picking a product posts the row to ``/quotes/line``, which fills its
description, price and tax category from the product. Without script the same form saves,
and "Add line" and "Remove" reload the editor::

    POST /customers/7/quotes/new   action=save|send|accept|add-line|remove-2
    POST /quotes/12                action=save|send|accept ... version=3
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from crmledger.core.access import PermissionDeniedError
from crmledger.core.crm.deals import StageKind
from crmledger.core.crm.parties import Party
from crmledger.core.errors import InvalidFieldError, LedgerError
from crmledger.services.crm_ports import DealQuery, ProductQuery
from crmledger.services.errors import NotFoundError, VersionConflictError
from crmledger.services.sales import DraftLine, Priced, Quote
from crmledger.web import crm_view, forms, quote_form
from crmledger.web.pages_customers import load
from crmledger.web.params import sentence
from crmledger.web.quote_form import QuoteForm
from crmledger.web.render import flash, fragment, page
from crmledger.web.session import Signed, Viewer

router = APIRouter(include_in_schema=False)
MAX_ID = 2**62
PRODUCTS = 500
_TRIGGER = re.compile(r"^line-product_id-([A-Za-z0-9_-]{1,40})$")
CURRENCIES = ("EUR", "USD", "GBP", "CHF", "JPY", "SEK", "NOK", "DKK", "PLN", "CZK")


def product_options(viewer: Viewer) -> list[tuple[str, str]]:
    """The products a line may pick: active ones, by SKU."""
    found = viewer.book.products.list(ProductQuery(limit=PRODUCTS, active=True))
    return [(str(p.id), f"{p.sku} · {p.name}") for p in found]


def _deal_options(viewer: Viewer, party_id: int) -> list[tuple[str, str]]:
    if not viewer.can("deals", "read"):
        return []
    open_stages = {
        (p.key, s.key)
        for p in viewer.book.deals.pipelines()
        for s in p.stages
        if s.kind is StageKind.OPEN
    }
    deals = viewer.book.deals.list(DealQuery(limit=50, party_id=party_id))
    return [
        (str(d.id), f"{d.title} ({crm_view.money(d.amount, d.currency)})")
        for d in deals
        if (d.pipeline, d.stage) in open_stages
    ]


def preview_context(
    viewer: Viewer, currency: str, rows: list[dict[str, str]], inclusive: bool = False
) -> dict[str, Any]:
    """Totals of the non-blank ``rows`` (unit prices gross when ``inclusive``) and each row's
    net (by key), or the first problem."""
    kept = [r for r in rows if any(r[n] for n in quote_form.LINE_FIELDS)]
    errors = forms.Errors()
    lines = quote_form.draft_lines(kept, errors)
    context: dict[str, Any] = {"priced": None, "problem": "", "nets": {}, "keys": []}
    context["keys"] = [r["line_key"] for r in rows]
    if errors:
        index = int(next(iter(errors)).rsplit("-", 1)[1])
        context["problem"] = f"Line {rows.index(kept[index]) + 1}: {next(iter(errors.values()))}"
        return context
    if not lines:
        return context
    try:
        priced: Priced = viewer.book.sales.preview(currency, lines, prices_include_tax=inclusive)
    except PermissionDeniedError:
        raise
    except InvalidFieldError as exc:
        context["problem"] = _line_problem(exc, rows, kept)
        return context
    context["priced"] = priced
    context["nets"] = {
        row["line_key"]: total.net for row, total in zip(kept, priced.totals.lines, strict=True)
    }
    return context


def _line_problem(
    error: InvalidFieldError, rows: list[dict[str, str]], kept: list[dict[str, str]]
) -> str:
    found = re.fullmatch(r"lines\[(\d+)\]\.(\w+)", error.field)
    if found is None or int(found.group(1)) >= len(kept):
        return sentence(error)
    position = rows.index(kept[int(found.group(1))]) + 1
    label = quote_form.LABELS.get(f"line-{found.group(2)}", found.group(2))
    return f"Line {position}: {forms.message(error, label)}"


def editor(
    request: Request,
    viewer: Viewer,
    party: Party,
    draft: QuoteForm,
    quote: Quote | None = None,
    status: int = 200,
) -> Response:
    """The editor page for a new quote or a draft."""
    assert party.id is not None
    rows = draft.shown_rows()
    context = {
        "party": party,
        "quote": quote,
        "form": draft,
        "rows": rows,
        "products": product_options(viewer),
        "deals": _deal_options(viewer, party.id),
        "currencies": CURRENCIES,
        "preview": preview_context(
            viewer, draft.values["currency"], rows, quote_form.inclusive(draft)
        ),
        "action_url": f"/quotes/{quote.id}" if quote else f"/customers/{party.id}/quotes/new",
        "title": f"Quote {quote.number}" if quote else f"New quote for {party.display_name}",
    }
    return page(
        request, "quote_editor.html", context, viewer=viewer, active="/quotes", status=status
    )


@router.get("/customers/{party_id:int}/quotes/new")
def new_quote(request: Request, party_id: int, viewer: Signed, deal: int = 0) -> Response:
    """An empty quote for the customer (linked to ``deal`` when given)."""
    viewer.principal.require("sales", "write")
    party = load(viewer, party_id)
    currency = party.currency or viewer.book.ledger.info().base_currency or "EUR"
    return editor(request, viewer, party, quote_form.blank(currency, deal or None))


def _no_script_edit(draft: QuoteForm) -> bool:
    """The "Add line" and "Remove" buttons without script: change the rows, save nothing."""
    action = draft.values["action"]
    if action == "add-line":
        draft.rows.append(quote_form.blank_row("new"))
        return True
    found = re.fullmatch(r"remove-(\d{1,3})", action)
    if found is None:
        return False
    if int(found.group(1)) < len(draft.rows):  # the blank row has nothing to remove
        del draft.rows[int(found.group(1))]
    return True


def _read(draft: QuoteForm) -> tuple[list[DraftLine] | None, date | None, int | None]:
    lines = quote_form.draft_lines(draft.rows, draft.errors)
    until = quote_form.valid_until(draft)
    deal = forms.integer(draft.values["deal_id"], "deal_id", draft.errors, "Deal")
    return lines, until, deal


def _then(request: Request, viewer: Viewer, quote: Quote, action: str) -> Response:
    """After saving: send or accept when asked, and go to the quote (or its order)."""
    target, message = f"/quotes/{quote.id}", f"Saved {quote.number}."
    try:
        if action == "send":
            quote = viewer.book.sales.send_quote(quote.id, quote.version)
            message = f"Sent {quote.number}."
        elif action == "accept":
            quote, order = viewer.book.sales.accept_quote(quote.id, quote.version)
            target = f"/orders/{order.id}"
            message = f"{quote.number} accepted: order {order.number} created."
    except PermissionDeniedError:
        raise
    except LedgerError as exc:
        response = RedirectResponse(target, 303)
        flash(request, response, f"Saved {quote.number}, but: {sentence(exc)}", "error")
        return response
    response = RedirectResponse(target, 303)
    flash(request, response, message)
    return response


@router.post("/customers/{party_id:int}/quotes/new")
async def create_quote(request: Request, party_id: int, viewer: Signed) -> Response:
    """Store the new quote (then send or accept it when asked)."""
    form = await request.form()
    return await run_in_threadpool(_create, request, party_id, viewer, form)


def _create(request: Request, party_id: int, viewer: Viewer, form: FormData) -> Response:
    viewer.principal.require("sales", "write")
    party = load(viewer, party_id)
    draft = quote_form.read(form)
    if _no_script_edit(draft):
        return editor(request, viewer, party, draft)
    lines, until, deal = _read(draft)
    if not draft.rows:
        draft.errors.add("lines", "Add at least one line.")
    if lines is not None and not draft.errors:
        try:
            currency = draft.values["currency"].upper()
            quote = viewer.book.sales.create_quote(
                party_id,
                currency,
                lines,
                until,
                deal,
                prices_include_tax=quote_form.inclusive(draft),
            )
        except PermissionDeniedError:
            raise
        except LedgerError as exc:
            draft.place(exc)
        else:
            return _then(request, viewer, quote, draft.values["action"])
    return editor(request, viewer, party, draft, status=422)


def load_quote(viewer: Viewer, quote_id: int) -> Quote:
    """The quote of a URL."""
    if not 1 <= quote_id <= MAX_ID:
        raise NotFoundError(f"no quote {quote_id}")
    return viewer.book.sales.get_quote(quote_id)


@router.post("/quotes/{quote_id:int}")
async def save_quote(request: Request, quote_id: int, viewer: Signed) -> Response:
    """Save a draft's lines and validity (then send or accept it when asked)."""
    form = await request.form()
    return await run_in_threadpool(_save, request, quote_id, viewer, form)


def _save(request: Request, quote_id: int, viewer: Viewer, form: FormData) -> Response:
    viewer.principal.require("sales", "write")
    quote = load_quote(viewer, quote_id)
    party = viewer.book.parties.get(quote.party_id)
    draft = quote_form.read(form)
    draft.values["currency"] = quote.currency
    if _no_script_edit(draft):
        return editor(request, viewer, party, draft, quote)
    lines, until, deal = _read(draft)
    version = quote_form.version(draft)
    status = 422
    if lines is not None and not draft.errors:
        changes = {
            "lines": lines,
            "valid_until": until,
            "deal_id": deal,
            "prices_include_tax": quote_form.inclusive(draft),
        }
        try:
            saved = viewer.book.sales.update_quote(quote_id, changes, version)
        except VersionConflictError:
            status = 409
            draft.errors.add("form", "Someone changed this quote meanwhile; reload it to see.")
        except PermissionDeniedError:
            raise
        except LedgerError as exc:
            draft.place(exc)
        else:
            return _then(request, viewer, saved, draft.values["action"])
    return editor(request, viewer, party, draft, quote, status)


@router.post("/quotes/preview")
async def preview(request: Request, viewer: Signed) -> Response:
    """The editor's totals (and each row's net, out of band) for the lines as typed."""
    form = await request.form()
    return await run_in_threadpool(_preview, viewer, form)


def _preview(viewer: Viewer, form: FormData) -> Response:
    viewer.principal.require("sales", "read")
    currency = forms.value(form, "currency", 10).upper()
    inclusive = forms.value(form, "prices_include_tax", 5) == "on"
    context = preview_context(viewer, currency, quote_form.all_rows(form), inclusive)
    return fragment("_quote_totals.html", {"preview": context, "oob": True})


@router.post("/quotes/line")
async def fill_line(request: Request, viewer: Signed) -> Response:
    """The row whose product was just picked, filled from the product."""
    form = await request.form()
    trigger = request.headers.get("hx-trigger", "")
    return await run_in_threadpool(_fill, viewer, form, trigger)


def _fill(viewer: Viewer, form: FormData, trigger: str) -> Response:
    viewer.principal.require("products", "read")
    found = _TRIGGER.match(trigger)
    rows = quote_form.all_rows(form)
    row = next((r for r in rows if found and r["line_key"] == found.group(1)), None)
    if row is None:
        return Response(status_code=204)
    currency = forms.value(form, "currency", 10).upper()
    errors = forms.Errors()
    product_id = forms.integer(row["product_id"], "product", errors, "Product")
    if product_id is not None:
        product = viewer.book.products.get(product_id)
        price = product.price(currency)
        row |= {"description": product.name, "tax_category": product.tax_category}
        row["unit_price"] = "" if price is None else str(price)
        if price is None:
            errors.add("unit_price", f"{product.sku} has no price in {currency}: type one.")
    context = {
        "row": row,
        "index": rows.index(row),
        "key": row["line_key"],
        "products": product_options(viewer),
        "errors": {f"line-unit_price-{row['line_key']}": errors.get("unit_price", "")},
        "net": None,
    }
    return fragment("_quote_line.html", context)
