"""Payments: the list, and recording a payment against one invoice or bill.

A payment recorded on a document's page is money from its customer (or to its vendor) in
the document's currency, allocated to that document; whatever is more than the document
still has open stays with the party as unapplied credit::

    POST /invoices/12/payments   amount=50.00 paid_on=2026-03-20 method=transfer
    /payments?party=7&kind=receipt&after=40
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from crmledger.core.access import PermissionDeniedError
from crmledger.core.billing.settlement import Allocation
from crmledger.core.errors import LedgerError
from crmledger.services.billing_ports import PaymentQuery
from crmledger.services.billing_views import BillingDoc, Payment
from crmledger.services.settling import NewPayment
from crmledger.web import billing_view, crm_view, forms, invoice_form
from crmledger.web.invoice_form import PaymentValues
from crmledger.web.invoice_page import document_response
from crmledger.web.params import text, with_query
from crmledger.web.render import flash, page
from crmledger.web.session import Signed, Viewer

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
#: The payment a document takes, by the document's kind.
PAYMENT_KIND = {"invoice": "receipt", "bill": "vendor_payment"}


def _row(payment: Payment, names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": payment.id,
        "number": payment.number,
        "kind": billing_view.PAYMENT_KINDS.get(payment.kind, payment.kind),
        "party_id": payment.party_id,
        "party": names.get(payment.party_id, f"Party #{payment.party_id}"),
        "paid_on": payment.paid_on.isoformat(),
        "method": crm_view.words(payment.method),
        "amount": crm_view.money(payment.amount, payment.currency),
        "open": crm_view.money(payment.open, payment.currency) if payment.open else "",
        "reference": payment.reference,
    }


@router.get("/payments")
def payments(request: Request, viewer: Signed) -> Response:
    """Payments received and made, newest first, by party and kind."""
    viewer.principal.require("billing", "read")
    query = dict(request.query_params)
    shown = {name: text(query, name) for name in ("party", "kind")}
    errors = {}
    if shown["kind"] not in ("", *billing_view.PAYMENT_KINDS):
        errors["kind"] = "Choose a kind from the list."
    party = billing_view.id_param(shown["party"])
    if shown["party"] and party is None:
        errors["party"] = "Choose a party from the list."
    after = billing_view.id_param(text(query, "after"))
    wanted = PaymentQuery(PAGE_SIZE, after, party, shown["kind"] or None)
    found = [] if errors else viewer.book.payments.list(wanted)
    names = billing_view.names_of(viewer, [p.party_id for p in found])
    last = found[-1].id if len(found) == PAGE_SIZE else None
    context = {
        "rows": [_row(p, names) for p in found],
        "filters": shown,
        "errors": errors,
        "kinds": list(billing_view.PAYMENT_KINDS.items()),
        "parties": billing_view.party_options(viewer, party),
        "next_url": with_query("/payments", {**shown, "after": last}) if last else None,
        "first_url": with_query("/payments", shown) if after else None,
        "title": "Payments",
    }
    status = 422 if errors else 200
    return page(
        request, "payment_list.html", context, viewer=viewer, active="/payments", status=status
    )


@router.post("/invoices/{document_id:int}/payments")
async def pay_invoice(request: Request, document_id: int, viewer: Signed) -> Response:
    """Record a payment from the invoice's customer, allocated to the invoice."""
    form = await request.form()
    return await run_in_threadpool(_record, request, document_id, viewer, form, "invoice")


@router.post("/bills/{document_id:int}/payments")
async def pay_bill(request: Request, document_id: int, viewer: Signed) -> Response:
    """Record a payment to the bill's vendor, allocated to the bill."""
    form = await request.form()
    return await run_in_threadpool(_record, request, document_id, viewer, form, "bill")


def _new_payment(doc: BillingDoc, values: PaymentValues) -> NewPayment:
    return NewPayment(
        party_id=doc.party_id,
        amount=values.amount,
        currency=doc.currency,
        paid_on=values.paid_on,
        kind=PAYMENT_KIND[doc.kind],
        method=values.method,
        reference=values.reference,
    )


def _message(payment: Payment, doc: BillingDoc) -> str:
    text = f"Recorded {payment.number}: {crm_view.money(payment.amount, payment.currency)}"
    if payment.open:
        return f"{text}; {crm_view.money(payment.open, payment.currency)} is kept as credit."
    return f"{text} for {doc.number}."


def _record(
    request: Request, document_id: int, viewer: Viewer, form: FormData, kind: str
) -> Response:
    viewer.principal.require("billing", "write")
    doc = billing_view.load(viewer, document_id, (kind,))
    draft = forms.Draft.read(form, invoice_form.PAYMENT_LIMITS)
    values = invoice_form.payment_values(draft)
    if values is not None:
        allocation = Allocation(doc.id, min(values.amount, doc.open))
        try:
            payment = viewer.book.payments.record(_new_payment(doc, values), [allocation])
        except PermissionDeniedError:
            raise
        except LedgerError as exc:
            forms.place(draft.errors, exc, invoice_form.PAYMENT_RULES, invoice_form.PAYMENT_LABELS)
        else:
            response = RedirectResponse(billing_view.href(doc), 303)
            flash(request, response, _message(payment, doc))
            return response
    return document_response(request, viewer, doc, 422, payment=draft)
