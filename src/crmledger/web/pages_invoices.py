"""Invoices and bills: the lists, issuing, credit notes, PDF downloads, invoicing an order.

The lists filter by status, party and "overdue" (still open past the due date) and page by
id, newest first. An invoice's PDF and Factur-X are the printer's bytes, served as a
download. Actions post the version the page was shown at::

    /invoices?status=issued&party=7&overdue=on
    POST /invoices/12/issue        version=1 [override=on]
    POST /invoices/13/delete       version=1   (a draft; the list follows)
    POST /invoices/12/credit       credit-1=2 reason=... (all blank: the whole invoice)
    POST /invoices/from-order/5    -> the new draft's page
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from crmledger.core.access import PermissionDeniedError
from crmledger.core.errors import LedgerError
from crmledger.services.billing_ports import BillingQuery
from crmledger.services.billing_views import BillingDoc
from crmledger.services.errors import CreditLimitError, NotFoundError, VersionConflictError
from crmledger.web import billing_view, crm_view, forms, invoice_form
from crmledger.web.invoice_page import document_response
from crmledger.web.params import sentence, text, with_query
from crmledger.web.render import flash, page
from crmledger.web.session import Signed, Viewer

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
#: The documents each list shows, by section and tab.
LISTS = {
    "/invoices": {"invoice": "Invoices", "credit_note": "Credit notes"},
    "/bills": {"bill": "Bills"},
}


def _filters(query: dict[str, str], section: str) -> tuple[dict[str, str], dict[str, str]]:
    shown = {name: text(query, name) for name in ("kind", "status", "party", "overdue")}
    kinds = LISTS[section]
    shown["kind"] = shown["kind"] if shown["kind"] in kinds else next(iter(kinds))
    errors = {}
    if shown["status"] not in ("", *billing_view.STATUSES):
        errors["status"] = "Choose a status from the list."
    if shown["party"] and billing_view.id_param(shown["party"]) is None:
        errors["party"] = "Choose a party from the list."
    shown["overdue"] = "on" if shown["overdue"] else ""
    return shown, errors


def _query(shown: dict[str, str], after: int | None) -> BillingQuery:
    return BillingQuery(
        limit=PAGE_SIZE,
        after=after,
        kind=shown["kind"],
        party_id=billing_view.id_param(shown["party"]),
        status=shown["status"] or None,
        overdue_on=billing_view.today() if shown["overdue"] else None,
    )


def document_list(request: Request, viewer: Viewer, section: str) -> Response:
    """A list of invoices, credit notes or bills (see the module docstring)."""
    viewer.principal.require("billing", "read")
    query = dict(request.query_params)
    shown, errors = _filters(query, section)
    after = billing_view.id_param(text(query, "after"))
    found: list[BillingDoc] = [] if errors else viewer.book.invoices.page(_query(shown, after))
    names = billing_view.names_of(viewer, [d.party_id for d in found])
    last = found[-1].id if len(found) == PAGE_SIZE else None
    context: dict[str, Any] = {
        "section": section,
        "tabs": [(k, name, with_query(section, {"kind": k})) for k, name in LISTS[section].items()],
        "rows": [billing_view.doc_row(d, names) for d in found],
        "filters": shown,
        "errors": errors,
        "statuses": [(s, crm_view.words(s)) for s in billing_view.STATUSES],
        "parties": billing_view.party_options(viewer, billing_view.id_param(shown["party"])),
        "next_url": with_query(section, {**shown, "after": last}) if last else None,
        "first_url": with_query(section, shown) if after else None,
        "can_write": viewer.can("billing", "write"),
        "title": LISTS[section][shown["kind"]],
    }
    status = 422 if errors else 200
    return page(request, "invoice_list.html", context, viewer=viewer, active=section, status=status)


@router.get("/invoices")
def invoices(request: Request, viewer: Signed) -> Response:
    """Invoices (or credit notes), newest first."""
    return document_list(request, viewer, "/invoices")


@router.get("/bills")
def bills(request: Request, viewer: Signed) -> Response:
    """Vendor bills, newest first."""
    return document_list(request, viewer, "/bills")


def _version(form: FormData) -> int | None:
    return forms.integer(forms.value(form, "version", 12), "version", forms.Errors(), "Version")


@router.post("/invoices/{document_id:int}/issue")
async def issue_invoice(request: Request, document_id: int, viewer: Signed) -> Response:
    """Number and post a draft invoice."""
    form = await request.form()
    return await run_in_threadpool(_issue, request, document_id, viewer, form, ("invoice",))


@router.post("/bills/{document_id:int}/issue")
async def issue_bill(request: Request, document_id: int, viewer: Signed) -> Response:
    """Number and post a draft bill."""
    form = await request.form()
    return await run_in_threadpool(_issue, request, document_id, viewer, form, ("bill",))


def _issue(
    request: Request, document_id: int, viewer: Viewer, form: FormData, kinds: tuple[str, ...]
) -> Response:
    viewer.principal.require("billing", "write")
    doc = billing_view.load(viewer, document_id, kinds)
    override = forms.value(form, "override", 5) == "on"
    try:
        issued = viewer.book.invoices.issue(document_id, _version(form), override_credit=override)
    except PermissionDeniedError:
        raise
    except CreditLimitError as exc:
        return document_response(
            request, viewer, doc, 409, error=sentence(exc), offer_override=True
        )
    except VersionConflictError:
        message = "Someone changed this document meanwhile; reload the page to see."
        return document_response(request, viewer, doc, 409, error=message)
    except LedgerError as exc:
        return document_response(request, viewer, doc, 409, error=sentence(exc))
    response = RedirectResponse(billing_view.href(issued), 303)
    flash(request, response, f"Issued {billing_view.title(issued)}.")
    return response


@router.post("/invoices/{document_id:int}/delete")
async def delete_invoice(request: Request, document_id: int, viewer: Signed) -> Response:
    """Delete a draft invoice."""
    form = await request.form()
    return await run_in_threadpool(_delete, request, document_id, viewer, form, ("invoice",))


@router.post("/bills/{document_id:int}/delete")
async def delete_bill(request: Request, document_id: int, viewer: Signed) -> Response:
    """Delete a draft bill."""
    form = await request.form()
    return await run_in_threadpool(_delete, request, document_id, viewer, form, ("bill",))


def _delete(
    request: Request, document_id: int, viewer: Viewer, form: FormData, kinds: tuple[str, ...]
) -> Response:
    viewer.principal.require("billing", "write")
    doc = billing_view.load(viewer, document_id, kinds)
    try:
        viewer.book.invoices.delete(document_id, _version(form))
    except PermissionDeniedError:
        raise
    except VersionConflictError:
        message = "Someone changed this document meanwhile; reload the page to see."
        return document_response(request, viewer, doc, 409, error=message)
    except LedgerError as exc:
        return document_response(request, viewer, doc, 409, error=sentence(exc))
    response = RedirectResponse(billing_view.KIND_SECTIONS.get(doc.kind, "/invoices"), 303)
    flash(request, response, f"Deleted {billing_view.title(doc).lower()}.")
    return response


@router.post("/invoices/{document_id:int}/credit")
async def credit_invoice(request: Request, document_id: int, viewer: Signed) -> Response:
    """Credit an invoice in full or line by line."""
    form = await request.form()
    return await run_in_threadpool(_credit, request, document_id, viewer, form)


def _credit(request: Request, document_id: int, viewer: Viewer, form: FormData) -> Response:
    viewer.principal.require("billing", "write")
    doc = billing_view.load(viewer, document_id, ("invoice",))
    draft = forms.Draft.read(form, invoice_form.credit_limits(doc))
    lines = invoice_form.credited(draft, doc)
    if not draft.errors:
        try:
            note = viewer.book.invoices.credit(
                document_id, lines, if_version=_version(form), reason=draft.get("reason")
            )
        except PermissionDeniedError:
            raise
        except LedgerError as exc:
            forms.place(draft.errors, exc, invoice_form.CREDIT_RULES, {"credit": "Quantity"})
        else:
            response = RedirectResponse(billing_view.href(note), 303)
            flash(request, response, f"Issued {billing_view.title(note)} for {doc.number}.")
            return response
    return document_response(request, viewer, doc, 422, credit=draft)


def _pdf(request: Request, viewer: Viewer, document_id: int, facturx: bool) -> Response:
    doc = billing_view.load(viewer, document_id, ("invoice", "credit_note"))
    try:
        data = viewer.book.printer.pdf(document_id, facturx=facturx)
    except PermissionDeniedError:
        raise
    except LedgerError as exc:
        return document_response(request, viewer, doc, 503, error=sentence(exc))
    name = (doc.number or f"draft-{doc.id}") + ("-facturx" if facturx else "")
    headers = {
        "Content-Disposition": f'attachment; filename="{name}.pdf"',
        "Cache-Control": "no-store",
    }
    return Response(data, media_type="application/pdf", headers=headers)


@router.get("/invoices/{document_id:int}/pdf")
def invoice_pdf(request: Request, document_id: int, viewer: Signed) -> Response:
    """The invoice (or credit note) as PDF."""
    return _pdf(request, viewer, document_id, facturx=False)


@router.get("/invoices/{document_id:int}/facturx")
def invoice_facturx(request: Request, document_id: int, viewer: Signed) -> Response:
    """The invoice (or credit note) as a Factur-X PDF/A-3 with its EN 16931 XML."""
    return _pdf(request, viewer, document_id, facturx=True)


@router.post("/invoices/from-order/{order_id:int}")
async def invoice_order(request: Request, order_id: int, viewer: Signed) -> Response:
    """A draft invoice of a confirmed or fulfilled order, line for line."""
    await request.form()
    return await run_in_threadpool(_from_order, request, order_id, viewer)


def _from_order(request: Request, order_id: int, viewer: Viewer) -> Response:
    viewer.principal.require("billing", "write")
    if not 1 <= order_id <= billing_view.MAX_ID:
        raise NotFoundError(f"no order {order_id}")
    try:
        draft = viewer.book.invoices.from_order(order_id)
    except (PermissionDeniedError, NotFoundError):
        raise
    except LedgerError as exc:
        response = RedirectResponse(f"/orders/{order_id}", 303)
        flash(request, response, f"Not invoiced: {sentence(exc)}", "error")
        return response
    response = RedirectResponse(billing_view.href(draft), 303)
    flash(request, response, f"Made {billing_view.title(draft).lower()} from the order.")
    return response
