"""Expense claims: the list with a form to claim an expense (receipts uploaded with it), and
each claim's page with the moves the viewer may make.

Everyone who may claim sees their own claims; approvers (and auditors) see everybody's.
The claim form is ``multipart/form-data``; each action posts the version the page showed::

    POST /expenses                    description=... account=Expenses:Travel amount=59.50
                                      tax_category=standard receipts=@taxi.pdf [submit=on]
    POST /expenses/4/approve          version=3
    POST /expenses/4/reimburse        version=4 paid_on=2026-06-30 bank_account=...
    GET  /expenses/4/receipts/1       -> the file as uploaded
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from crmledger.core.access import PermissionDeniedError
from crmledger.core.billing.expenses import (
    MAX_RECEIPT_BYTES,
    MAX_RECEIPTS,
    ClaimLine,
    SelfApprovalError,
    attachment,
)
from crmledger.core.errors import InvalidFieldError, LedgerError
from crmledger.services.errors import NotFoundError
from crmledger.services.expense_ports import ExpenseQuery
from crmledger.services.expense_views import ExpenseClaim
from crmledger.services.expenses import NewClaim, Upload
from crmledger.services.settling import DEFAULT_BANK
from crmledger.web import billing_view, crm_view, forms
from crmledger.web.params import parse_date, sentence, text, with_query
from crmledger.web.render import flash, page
from crmledger.web.session import Signed, Viewer

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
#: Badge class per claim status.
BADGES = {
    "draft": "",
    "submitted": "badge-info",
    "posted": "badge-ok",
    "reimbursed": "badge-ok",
    "rejected": "badge-error",
}
LIMITS = {
    "description": 200,
    "claimed_on": 20,
    "currency": 10,
    "account": 400,
    "amount": 40,
    "tax_category": 40,
    "amounts": 5,
    "submit": 5,
}
LABELS = {
    "description": "Description",
    "claimed_on": "Date",
    "currency": "Currency",
    "account": "Account",
    "amount": "Amount",
    "tax_category": "Tax",
    "receipts": "Receipts",
}
#: Where a service's field error goes on the claim form.
RULES = {
    r"lines\[\d+\]\.(account|amount|tax_category)": r"\1",
    r"receipts(\[\d+\])?": "receipts",
    r"(description|currency)": r"\1",
    r"claimed_on": "claimed_on",
}


def _row(claim: ExpenseClaim, names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": claim.id,
        "number": claim.number or f"Claim #{claim.id}",
        "employee": crm_view.owner_label(names, claim.employee_id),
        "date": claim.claimed_on.isoformat(),
        "description": claim.description,
        "state": (crm_view.words(claim.status), BADGES.get(claim.status, "")),
        "gross": crm_view.money(claim.gross, claim.currency),
        "receipts": len(claim.receipts),
    }


def _blank(viewer: Viewer) -> forms.Draft:
    base = viewer.book.ledger.info().base_currency or "EUR"
    return forms.Draft(
        {
            "description": "",
            "claimed_on": billing_view.today().isoformat(),
            "currency": base,
            "account": "Expenses:Travel",
            "amount": "",
            "tax_category": "standard",
            "amounts": "gross",
            "submit": "on",
        }
    )


def _form_context(viewer: Viewer, draft: forms.Draft) -> dict[str, Any]:
    choices = viewer.book.expenses.choices()
    taxes = [(c, f"{c} ({crm_view.plain(r * 100)}%)") for c, r in sorted(choices.tax_rates.items())]
    return {
        "form": draft,
        "accounts": [(a, a) for a in choices.accounts],
        "taxes": [("", "No input tax"), *taxes],
        "amount_kinds": [("gross", "Tax included (as on the receipt)"), ("net", "Net of tax")],
        "max_receipts": MAX_RECEIPTS,
        "max_mb": MAX_RECEIPT_BYTES // (1024 * 1024),
    }


def claims_page(
    request: Request, viewer: Viewer, draft: forms.Draft | None = None, status: int = 200
) -> Response:
    """The claims the viewer may see, newest first, and the form to claim one."""
    viewer.principal.require("expenses", "read")
    query = dict(request.query_params)
    shown = text(query, "status")
    errors = {} if shown in ("", *BADGES) else {"status": "Choose a status from the list."}
    after = billing_view.id_param(text(query, "after"))
    wanted = ExpenseQuery(limit=PAGE_SIZE, after=after, status=shown or None)
    found = [] if errors else viewer.book.expenses.page(wanted)
    names = crm_view.owner_names(viewer)
    last = found[-1].id if len(found) == PAGE_SIZE else None
    can_claim = viewer.can("expenses", "write")
    context: dict[str, Any] = {
        "rows": [_row(c, names) for c in found],
        "filters": {"status": shown},
        "errors": errors,
        "statuses": [(s, crm_view.words(s)) for s in BADGES],
        "next_url": with_query("/expenses", {"status": shown, "after": last}) if last else None,
        "first_url": with_query("/expenses", {"status": shown}) if after else None,
        "can_claim": can_claim,
        "title": "Expenses",
    }
    if can_claim:
        context |= _form_context(viewer, draft or _blank(viewer))
    status = 422 if errors else status
    return page(
        request, "expense_list.html", context, viewer=viewer, active="/expenses", status=status
    )


@router.get("/expenses")
def expenses(request: Request, viewer: Signed) -> Response:
    """Expense claims, newest first, and a form to claim one."""
    return claims_page(request, viewer)


@router.post("/expenses")
async def create_claim(request: Request, viewer: Signed) -> Response:
    """Claim an expense, with its receipts."""
    form = await request.form()
    return await run_in_threadpool(_create, request, viewer, form)


def _uploads(form: FormData, errors: forms.Errors) -> list[Upload]:
    files = [f for f in form.getlist("receipts") if isinstance(f, UploadFile) and f.filename]
    if len(files) > MAX_RECEIPTS:
        errors.add("receipts", f"Receipts: at most {MAX_RECEIPTS} files.")
        return []
    return [Upload(f.filename or "", f.file.read(MAX_RECEIPT_BYTES + 1)) for f in files]


def _new_claim(draft: forms.Draft) -> NewClaim | None:
    day = parse_date(draft.get("claimed_on"), "claimed_on", draft.errors)
    amount = forms.decimal(draft.get("amount"), "amount", draft.errors, "Amount")
    for name in ("description", "account", "amount"):
        if not draft.get(name):
            draft.errors.add(name, f"{LABELS[name]} is required.")
    if amount is None or draft.errors:
        return None
    line = ClaimLine(draft.get("account"), amount, draft.get("tax_category") or None)
    return NewClaim(
        description=draft.get("description"),
        lines=[line],
        currency=draft.get("currency") or None,
        claimed_on=day,
        gross=draft.get("amounts") != "net",
    )


def _create(request: Request, viewer: Viewer, form: FormData) -> Response:
    viewer.principal.require("expenses", "write")
    draft = forms.Draft.read(form, LIMITS)
    uploads = _uploads(form, draft.errors)
    new = _new_claim(draft)
    if new is not None and not draft.errors:
        try:
            claim = viewer.book.expenses.create(new, uploads)
            if draft.get("submit") == "on":
                claim = viewer.book.expenses.submit(claim.id, claim.version)
        except PermissionDeniedError:
            raise
        except LedgerError as exc:
            forms.place(draft.errors, exc, RULES, LABELS)
        else:
            response = RedirectResponse(f"/expenses/{claim.id}", 303)
            done = "submitted for approval" if claim.status == "submitted" else "saved as a draft"
            flash(
                request,
                response,
                f"Claim #{claim.id} {done}: {crm_view.money(claim.gross, claim.currency)}.",
            )
            return response
    return claims_page(request, viewer, draft, status=422)


def _claim(viewer: Viewer, claim_id: int) -> ExpenseClaim:
    if not 1 <= claim_id <= billing_view.MAX_ID:
        raise NotFoundError(f"no expense claim {claim_id}")
    return viewer.book.expenses.get(claim_id)


def claim_page(
    request: Request, viewer: Viewer, claim: ExpenseClaim, status: int = 200, error: str = ""
) -> Response:
    """One claim: its lines, receipts and the moves the viewer may make."""
    me = viewer.principal.user_id
    own = claim.employee_id == me
    approver = viewer.can("expenses", "approve")
    editable = claim.status == "draft" and viewer.can("expenses", "write") and (own or approver)
    names = crm_view.owner_names(viewer)
    context: dict[str, Any] = {
        "claim": claim,
        "title": claim.number or f"Expense claim #{claim.id}",
        "state": (crm_view.words(claim.status), BADGES.get(claim.status, "")),
        "employee": crm_view.owner_label(names, claim.employee_id),
        "href": f"/expenses/{claim.id}",
        "can_submit": editable,
        "can_attach": editable,
        "can_decide": approver and claim.status == "submitted" and not own,
        "can_reimburse": approver and claim.status == "posted",
        "today": billing_view.today().isoformat(),
        "bank_account": DEFAULT_BANK,
        "error": error,
    }
    return page(
        request, "expense_detail.html", context, viewer=viewer, active="/expenses", status=status
    )


@router.get("/expenses/{claim_id:int}")
def show_claim(request: Request, claim_id: int, viewer: Signed) -> Response:
    """One expense claim."""
    viewer.principal.require("expenses", "read")
    return claim_page(request, viewer, _claim(viewer, claim_id))


@router.get("/expenses/{claim_id:int}/receipts/{receipt_id:int}")
def receipt_file(request: Request, claim_id: int, receipt_id: int, viewer: Signed) -> Response:
    """A receipt, as uploaded."""
    if not 1 <= receipt_id <= billing_view.MAX_ID:
        raise NotFoundError(f"no receipt {receipt_id}")
    _claim(viewer, claim_id)
    found = viewer.book.expenses.receipt(claim_id, receipt_id)
    headers = {
        "Content-Disposition": attachment(found.info.name),
        "Cache-Control": "no-store",
    }
    return Response(found.content, media_type=found.info.content_type, headers=headers)


def _version(form: FormData) -> int | None:
    return forms.integer(forms.value(form, "version", 12), "version", forms.Errors(), "Version")


def _move(viewer: Viewer, claim_id: int, form: FormData, action: str) -> ExpenseClaim:
    """Make ``action``'s move on the claim at the version the page showed."""
    service, version = viewer.book.expenses, _version(form)
    if action == "submit":
        return service.submit(claim_id, version)
    if action == "approve":
        return service.approve(claim_id, version)
    if action == "reject":
        return service.reject(claim_id, forms.value(form, "reason", 2000), version)
    paid_on = billing_view.today()
    typed = forms.value(form, "paid_on", 20)
    if typed:
        errors: dict[str, str] = {}
        paid_on = parse_date(typed, "paid_on", errors) or paid_on
        if errors:
            raise InvalidFieldError("paid_on", errors["paid_on"])
    bank = forms.value(form, "bank_account", 400) or DEFAULT_BANK
    return service.reimburse(claim_id, version, paid_on=paid_on, bank_account=bank)


def _act(request: Request, viewer: Viewer, claim_id: int, form: FormData, action: str) -> Response:
    claim = _claim(viewer, claim_id)
    try:
        moved = _move(viewer, claim_id, form, action)
    except SelfApprovalError as exc:
        return claim_page(request, viewer, claim, 403, error=sentence(exc))
    except PermissionDeniedError:
        raise
    except InvalidFieldError as exc:
        return claim_page(request, viewer, claim, 422, error=sentence(exc))
    except LedgerError as exc:
        return claim_page(request, viewer, claim, 409, error=sentence(exc))
    response = RedirectResponse(f"/expenses/{claim_id}", 303)
    label = moved.number or f"Claim #{moved.id}"
    flash(request, response, f"{label} is {crm_view.words(moved.status).lower()}.")
    return response


@router.post("/expenses/{claim_id:int}/submit")
async def submit_claim(request: Request, claim_id: int, viewer: Signed) -> Response:
    """Hand a draft in for approval."""
    form = await request.form()
    return await run_in_threadpool(_act, request, viewer, claim_id, form, "submit")


@router.post("/expenses/{claim_id:int}/approve")
async def approve_claim(request: Request, claim_id: int, viewer: Signed) -> Response:
    """Approve a submitted claim and post it."""
    form = await request.form()
    return await run_in_threadpool(_act, request, viewer, claim_id, form, "approve")


@router.post("/expenses/{claim_id:int}/reject")
async def reject_claim(request: Request, claim_id: int, viewer: Signed) -> Response:
    """Turn a submitted claim down with a reason."""
    form = await request.form()
    return await run_in_threadpool(_act, request, viewer, claim_id, form, "reject")


@router.post("/expenses/{claim_id:int}/reimburse")
async def reimburse_claim(request: Request, claim_id: int, viewer: Signed) -> Response:
    """Pay a posted claim back."""
    form = await request.form()
    return await run_in_threadpool(_act, request, viewer, claim_id, form, "reimburse")


@router.post("/expenses/{claim_id:int}/receipts")
async def attach_receipt(request: Request, claim_id: int, viewer: Signed) -> Response:
    """Add receipts to a draft claim."""
    form = await request.form()
    return await run_in_threadpool(_attach, request, viewer, claim_id, form)


def _attach(request: Request, viewer: Viewer, claim_id: int, form: FormData) -> Response:
    claim = _claim(viewer, claim_id)
    errors = forms.Errors()
    uploads = _uploads(form, errors)
    if errors or not uploads:
        message = errors.get("receipts", "Choose a PDF, PNG or JPEG file to add.")
        return claim_page(request, viewer, claim, 422, error=message)
    try:
        for upload in uploads:
            claim, _ = viewer.book.expenses.add_receipt(claim_id, upload)
    except PermissionDeniedError:
        raise
    except LedgerError as exc:
        return claim_page(request, viewer, _claim(viewer, claim_id), 422, error=sentence(exc))
    response = RedirectResponse(f"/expenses/{claim_id}", 303)
    flash(request, response, f"Added {len(uploads)} receipt(s).")
    return response
