"""One billing document's page: its lines and totals, what is paid and open, and the forms
that act on it.

The page offers only what the viewer's role may do and the document's state allows: a
draft is issued, changed in the editor or deleted; an open invoice or bill takes a payment;
an issued invoice is credited in full or line by line; an invoice or credit note is
downloaded as PDF or Factur-X. A form the service refuses comes back on this page with the
error next to its field; the routes that post live in :mod:`.pages_invoices` and
:mod:`.pages_payments`::

    return document_response(request, viewer, doc, payment=draft, status=422)
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from crmledger.services.billing_views import BillingDoc
from crmledger.services.settling import METHODS
from crmledger.web import billing_view, crm_view, forms
from crmledger.web.render import page
from crmledger.web.session import Signed, Viewer

router = APIRouter(include_in_schema=False)
OPEN = ("issued", "partially_paid")
CREDITABLE = ("issued", "partially_paid", "paid")
PRINTABLE = ("invoice", "credit_note")


def blank_payment(doc: BillingDoc) -> forms.Draft:
    """The payment form, filled with what is still open, today and a bank transfer."""
    today = billing_view.today().isoformat()
    amount = format(doc.open, "f")
    return forms.Draft({"amount": amount, "paid_on": today, "method": "transfer"})


def _actions(viewer: Viewer, doc: BillingDoc) -> dict[str, bool]:
    writes = viewer.can("billing", "write")
    draft = writes and doc.status == "draft" and doc.kind in ("invoice", "bill")
    return {
        "can_issue": writes and doc.status == "draft",
        "can_edit": draft,
        "can_delete": draft,
        "can_pay": writes and doc.kind in ("invoice", "bill") and doc.status in OPEN,
        "can_credit": writes and doc.kind == "invoice" and doc.status in CREDITABLE,
        "can_print": doc.kind in PRINTABLE,
    }


def _refers_to(viewer: Viewer, doc: BillingDoc) -> dict[str, str] | None:
    if doc.refers_to is None:
        return None
    other = viewer.book.invoices.get(doc.refers_to)
    return {"href": billing_view.href(other), "title": billing_view.title(other)}


def document_context(
    viewer: Viewer,
    doc: BillingDoc,
    *,
    payment: forms.Draft | None = None,
    credit: forms.Draft | None = None,
    error: str = "",
    offer_override: bool = False,
) -> dict[str, Any]:
    """Everything the document's page shows to ``viewer``; drafts refill posted forms."""
    party = billing_view.names_of(viewer, [doc.party_id]).get(doc.party_id, "")
    context: dict[str, Any] = {
        "doc": doc,
        "heading": billing_view.title(doc),
        "state": billing_view.state(doc),
        "party_name": party or f"Party #{doc.party_id}",
        "section": billing_view.KIND_SECTIONS.get(doc.kind, "/invoices"),
        "href": billing_view.href(doc),
        "refers_to": _refers_to(viewer, doc),
        "payment_form": payment or blank_payment(doc),
        "credit_form": credit or forms.Draft({}),
        "methods": [(m, crm_view.words(m)) for m in METHODS],
        "error": error,
        "offer_override": offer_override and viewer.can("billing", "override"),
        "title": billing_view.title(doc),
    }
    return context | _actions(viewer, doc)


def document_response(
    request: Request, viewer: Viewer, doc: BillingDoc, status: int = 200, **extra: Any
) -> Response:
    """The document's page (``status`` 409 or 422 when a posted form comes back)."""
    context = document_context(viewer, doc, **extra)
    section = context["section"]
    return page(
        request, "invoice_detail.html", context, viewer=viewer, active=section, status=status
    )


@router.get("/invoices/{document_id:int}")
def invoice(request: Request, document_id: int, viewer: Signed) -> Response:
    """An invoice or credit note."""
    doc = billing_view.load(viewer, document_id, ("invoice", "credit_note"))
    return document_response(request, viewer, doc)


@router.get("/bills/{document_id:int}")
def bill(request: Request, document_id: int, viewer: Signed) -> Response:
    """A vendor bill."""
    doc = billing_view.load(viewer, document_id, ("bill",))
    return document_response(request, viewer, doc)
