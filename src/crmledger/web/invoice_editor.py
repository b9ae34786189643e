"""The invoice and bill editor: choose the party, type the lines, see the totals, save.

A new invoice starts from its customer (``/invoices/new?party=7``; without a party the page
asks for one), a bill from its vendor (``/bills/new?party=9``); a draft opens again at
``/invoices/12/edit`` (``/bills/13/edit``). The lines are the quote editor's: picking a
product fills the row (``/quotes/line``) and every change, the "Prices include tax" box
included, posts the editor to ``/invoices/preview``, which answers with the totals the sales
service prices (money is never added up in the browser). A bill's lines name their expense
account. "Save draft" stores it; "Save and issue" numbers and posts it too::

    POST /invoices/new?party=7   action=save|issue|add-line|remove-2
    POST /invoices/12/edit       version=1 action=save|issue|...
    POST /bills/new?party=9      ...
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from crmledger.core.access import PermissionDeniedError
from crmledger.core.crm.parties import Party
from crmledger.core.errors import InvalidFieldError, LedgerError, TransitionError
from crmledger.services.billing_views import BillingDoc
from crmledger.services.crm_ports import PartyQuery
from crmledger.services.errors import VersionConflictError
from crmledger.web import billing_view, forms, invoice_form, quote_form
from crmledger.web.invoice_form import InvoiceForm
from crmledger.web.pages_customers import load as load_party
from crmledger.web.pages_quotes import CURRENCIES, product_options
from crmledger.web.params import sentence, text
from crmledger.web.render import flash, fragment, page
from crmledger.web.session import Signed, Viewer

router = APIRouter(include_in_schema=False)
PICK_LIMIT = 20
#: Per kind: the page's name, the party's role, the section and the list it belongs to.
KINDS = {
    "invoice": ("invoice", "customer", "/invoices"),
    "bill": ("bill", "vendor", "/bills"),
}


def _currency(viewer: Viewer, party: Party) -> str:
    return party.currency or viewer.book.ledger.info().base_currency or "EUR"


def expense_accounts(viewer: Viewer, current: list[str]) -> list[str]:
    """The accounts a bill's line may charge: the expense accounts (and any already typed)."""
    names = [a.name for a in viewer.book.ledger.accounts() if a.name.startswith("Expenses:")]
    return names + sorted({c for c in current if c and c not in names})


def preview_context(
    viewer: Viewer, currency: str, rows: list[dict[str, str]], inclusive: bool
) -> dict[str, Any]:
    """Totals of the non-blank ``rows`` (unit prices gross when ``inclusive``) and each
    row's net (by key), or the first problem, as ``_quote_totals.html`` shows them."""
    kept = [r for r in rows if any(r[n] for n in quote_form.LINE_FIELDS)]
    errors = forms.Errors()
    lines = quote_form.draft_lines(kept, errors)
    context: dict[str, Any] = {"priced": None, "problem": "", "nets": {}}
    context["keys"] = [r["line_key"] for r in rows]
    if errors:
        index = int(next(iter(errors)).rsplit("-", 1)[1])
        context["problem"] = f"Line {rows.index(kept[index]) + 1}: {next(iter(errors.values()))}"
        return context
    if not lines:
        return context
    try:
        priced = viewer.book.sales.preview(currency, lines, prices_include_tax=inclusive)
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
    kind: str,
    party: Party,
    draft: InvoiceForm,
    status: int = 200,
    doc: BillingDoc | None = None,
) -> Response:
    """The editor page for a new invoice or bill, or for the draft ``doc``."""
    assert party.id is not None
    name, role, section = KINDS[kind]
    rows = draft.shown_rows()
    context: dict[str, Any] = {
        "kind": kind,
        "doc": doc,
        "party": party,
        "party_role": role,
        "form": draft,
        "rows": rows,
        "products": product_options(viewer) if kind == "invoice" else [],
        "accounts": expense_accounts(viewer, [r["account"] for r in rows])
        if kind == "bill"
        else [],
        "currencies": CURRENCIES,
        "preview": preview_context(
            viewer, draft.values["currency"], rows, invoice_form.inclusive(draft)
        ),
        "action_url": f"{section}/{doc.id}/edit" if doc else f"{section}/new?party={party.id}",
        "cancel_url": billing_view.href(doc) if doc else section,
        "title": billing_view.title(doc) if doc else f"New {name} for {party.display_name}",
    }
    template = "invoice_editor.html"
    return page(request, template, context, viewer=viewer, active=section, status=status)


def _pick(request: Request, viewer: Viewer, kind: str) -> Response:
    """Which party the new document is for: a search, or the newest parties."""
    query = text(dict(request.query_params), "q")
    if query:
        found = [hit.party for hit in viewer.book.parties.search(query, PICK_LIMIT)]
    else:
        found = viewer.book.parties.list(PartyQuery(limit=PICK_LIMIT))
    name, role, section = KINDS[kind]
    context = {
        "kind": kind,
        "parties": [(p.id, p.display_name) for p in found],
        "q": query,
        "party_role": role,
        "section": section,
        "title": f"New {name}",
    }
    return page(request, "invoice_pick.html", context, viewer=viewer, active=section)


def _new(request: Request, viewer: Viewer, kind: str, party: int) -> Response:
    viewer.principal.require("billing", "write")
    if party <= 0:
        return _pick(request, viewer, kind)
    found = load_party(viewer, party)
    return editor(request, viewer, kind, found, invoice_form.blank(_currency(viewer, found)))


@router.get("/invoices/new")
def new_invoice(request: Request, viewer: Signed, party: int = 0) -> Response:
    """An empty invoice for the customer ``party`` (or the page that picks one)."""
    return _new(request, viewer, "invoice", party)


@router.get("/bills/new")
def new_bill(request: Request, viewer: Signed, party: int = 0) -> Response:
    """An empty bill from the vendor ``party`` (or the page that picks one)."""
    return _new(request, viewer, "bill", party)


@router.post("/invoices/new")
async def create_invoice(request: Request, viewer: Signed, party: int = 0) -> Response:
    """Store the new invoice (and issue it when asked)."""
    form = await request.form()
    return await run_in_threadpool(_create, request, viewer, "invoice", party, form)


@router.post("/bills/new")
async def create_bill(request: Request, viewer: Signed, party: int = 0) -> Response:
    """Store the new bill (and issue it when asked)."""
    form = await request.form()
    return await run_in_threadpool(_create, request, viewer, "bill", party, form)


def _no_script_edit(draft: InvoiceForm) -> bool:
    """The "Add line" and "Remove" buttons without script: change the rows, save nothing."""
    action = draft.values["action"]
    if action == "add-line":
        draft.rows.append(invoice_form.blank_row("new"))
        return True
    found = re.fullmatch(r"remove-(\d{1,3})", action)
    if found is None:
        return False
    if int(found.group(1)) < len(draft.rows):  # the blank row has nothing to remove
        del draft.rows[int(found.group(1))]
    return True


def _create(request: Request, viewer: Viewer, kind: str, party_id: int, form: FormData) -> Response:
    viewer.principal.require("billing", "write")
    party = load_party(viewer, party_id)
    draft = invoice_form.read(form)
    if _no_script_edit(draft):
        return editor(request, viewer, kind, party, draft)
    new = invoice_form.to_document(draft, kind, party_id)
    if new is not None:
        try:
            stored = viewer.book.invoices.create(new)
        except PermissionDeniedError:
            raise
        except LedgerError as exc:
            draft.place(exc)
        else:
            return _then(request, viewer, stored, draft.values["action"])
    return editor(request, viewer, kind, party, draft, status=422)


def _then(request: Request, viewer: Viewer, draft: BillingDoc, action: str) -> Response:
    """After saving: issue when asked, and go to the document."""
    target = billing_view.href(draft)
    response = RedirectResponse(target, 303)
    if action != "issue":
        flash(request, response, f"Saved {billing_view.title(draft).lower()}.")
        return response
    try:
        issued = viewer.book.invoices.issue(draft.id, draft.version)
    except PermissionDeniedError:
        raise
    except LedgerError as exc:
        message = f"Saved as a draft, but not issued: {sentence(exc)}"
        flash(request, response, message, "error")
        return response
    flash(request, response, f"Issued {billing_view.title(issued)}.")
    return response


@router.post("/invoices/preview")
async def preview(request: Request, viewer: Signed) -> Response:
    """The editor's totals (and each row's net, out of band) for the lines as typed."""
    form = await request.form()
    return await run_in_threadpool(_preview, viewer, form)


def _preview(viewer: Viewer, form: FormData) -> Response:
    viewer.principal.require("billing", "read")
    currency = forms.value(form, "currency", 10).upper()
    inclusive = forms.value(form, "prices_include_tax", 5) == "on"
    context = preview_context(viewer, currency, quote_form.all_rows(form), inclusive)
    return fragment("_quote_totals.html", {"preview": context, "oob": True})


# -- a stored draft ------------------------------------------------------------------------


def _edit(request: Request, viewer: Viewer, kind: str, document_id: int) -> Response:
    viewer.principal.require("billing", "write")
    doc = billing_view.load(viewer, document_id, (kind,))
    if doc.status != "draft":
        response = RedirectResponse(billing_view.href(doc), 303)
        flash(request, response, f"{billing_view.title(doc)} is issued: credit it.", "error")
        return response
    party = load_party(viewer, doc.party_id)
    return editor(request, viewer, kind, party, invoice_form.of_document(doc), doc=doc)


@router.get("/invoices/{document_id:int}/edit")
def edit_invoice(request: Request, document_id: int, viewer: Signed) -> Response:
    """A draft invoice in the editor."""
    return _edit(request, viewer, "invoice", document_id)


@router.get("/bills/{document_id:int}/edit")
def edit_bill(request: Request, document_id: int, viewer: Signed) -> Response:
    """A draft bill in the editor."""
    return _edit(request, viewer, "bill", document_id)


@router.post("/invoices/{document_id:int}/edit")
async def save_invoice(request: Request, document_id: int, viewer: Signed) -> Response:
    """Store the draft's changes (and issue it when asked)."""
    form = await request.form()
    return await run_in_threadpool(_save, request, viewer, "invoice", document_id, form)


@router.post("/bills/{document_id:int}/edit")
async def save_bill(request: Request, document_id: int, viewer: Signed) -> Response:
    """Store the draft bill's changes (and issue it when asked)."""
    form = await request.form()
    return await run_in_threadpool(_save, request, viewer, "bill", document_id, form)


def _save(
    request: Request, viewer: Viewer, kind: str, document_id: int, form: FormData
) -> Response:
    viewer.principal.require("billing", "write")
    doc = billing_view.load(viewer, document_id, (kind,))
    party = load_party(viewer, doc.party_id)
    draft = invoice_form.read(form)
    if _no_script_edit(draft):
        return editor(request, viewer, kind, party, draft, doc=doc)
    changes = invoice_form.to_changes(draft, kind)
    status = 422
    if changes is not None:
        try:
            saved = viewer.book.invoices.update(document_id, changes, invoice_form.version(draft))
        except PermissionDeniedError:
            raise
        except VersionConflictError:
            draft.errors.add("form", "Someone changed this draft meanwhile; reload it to see.")
            status = 409
        except TransitionError as exc:
            draft.errors.add("form", sentence(exc))
            status = 409
        except LedgerError as exc:
            draft.place(exc)
        else:
            return _then(request, viewer, saved, draft.values["action"])
    return editor(request, viewer, kind, party, draft, status=status, doc=doc)
