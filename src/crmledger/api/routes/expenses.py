"""``/expenses``: expense claims from draft to reimbursed, with their receipt files.

An employee enters a claim, uploads its receipts (PDF, PNG or JPEG, up to 10 MB each, as
``multipart/form-data``) and submits it; somebody else holding ``expenses:approve``
approves it, which books it, and later reimburses it. Moves need ``If-Match``::

    POST /api/v1/expenses                         {"description": "Taxi", "lines": [...]}
    POST /api/v1/expenses/4/receipts              file=@taxi.pdf      →  201
    POST /api/v1/expenses/4/submit                If-Match: "2"
    POST /api/v1/expenses/4/approve               If-Match: "3"       →  {"status": "posted"}
    GET  /api/v1/expenses/4/receipts/1                                 →  application/pdf
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Path, Query, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from crmledger.api.commerce_schemas import QueryId
from crmledger.api.deps import Services, permitted
from crmledger.api.expense_schemas import (
    ExpenseCreate,
    ExpensePublic,
    ExpenseReimburse,
    ExpenseReject,
    ReceiptPublic,
    claim_lines,
)
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
from crmledger.api.routes.quotes import MOVE, next_cursor
from crmledger.api.schemas import Page
from crmledger.core.billing.expenses import MAX_RECEIPT_BYTES, ClaimStatus, attachment
from crmledger.services.expense_ports import ExpenseQuery
from crmledger.services.expense_views import ExpenseClaim
from crmledger.services.expenses import NewClaim, Upload

router = APIRouter(prefix="/expenses", tags=["expenses"])
ExpenseId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ReceiptId = Annotated[int, Path(ge=1, le=2**31 - 1)]
#: What a receipt upload may send: the file and the multipart framing around it.
UPLOAD_LIMITS = ((r"/expenses/[0-9]+/receipts$", MAX_RECEIPT_BYTES + 64 * 1024),)
_FILE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The receipt as uploaded, with the type its content showed.",
        "content": {
            kind: {"schema": {"type": "string", "format": "binary"}}
            for kind in ("application/pdf", "image/png", "image/jpeg")
        },
    }
}


class ExpenseFilters(BaseModel):
    """Page and filters of claims, newest first (unknown parameters are refused). Without
    ``expenses:approve`` (or the auditor's reading) only the caller's own claims show."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(100, ge=1, le=MAX_LIMIT, description="Page size (at most 500).")
    cursor: str | None = Field(None, max_length=512, description="`next_cursor` of the last page.")
    status: ClaimStatus | None = None
    employee_id: QueryId | None = None


def _answer(claim: ExpenseClaim, response: Response) -> ExpensePublic:
    response.headers["ETag"] = etag(claim.version)
    return ExpensePublic.of(claim)


def _moved() -> dict[int | str, dict[str, Any]]:
    return MOVE | success(
        200, "ETag", getExpense=link("getExpense", {"expense_id": "$request.path.expense_id"})
    )


@router.get(
    "",
    operation_id="listExpenses",
    openapi_extra=requires("expenses:read"),
    response_model=Page[ExpensePublic],
    responses=responses(401, 403, 422),
)
def list_expenses(
    services: Services, filters: Annotated[ExpenseFilters, Query()]
) -> Page[ExpensePublic]:
    """Expense claims, newest first; filter by status or employee."""
    found = services.expenses.page(
        ExpenseQuery(
            limit=filters.limit,
            after=number_cursor(filters.cursor) if filters.cursor is not None else None,
            employee_id=filters.employee_id,
            status=None if filters.status is None else filters.status.value,
        )
    )
    return Page(
        items=[ExpensePublic.of(c) for c in found],
        next_cursor=next_cursor([c.id for c in found], filters.limit),
    )


@router.post(
    "",
    operation_id="createExpense",
    openapi_extra=requires("expenses:write"),
    status_code=201,
    response_model=ExpensePublic,
    responses=responses(401, 403, 409, 422)
    | success(
        201,
        "ETag",
        "Location",
        getExpense=link("getExpense", {"expense_id": "$response.body#/id"}),
        submitExpense=link(
            "submitExpense",
            {"expense_id": "$response.body#/id", "header.If-Match": "$response.header.ETag"},
        ),
    ),
)
def create_expense(
    body: ExpenseCreate,
    services: Services,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ExpensePublic:
    """A draft claim; a bad line is refused naming its field (``lines[0].account``)."""
    del idempotency_key  # handled by the idempotency middleware
    claim = services.expenses.create(
        NewClaim(
            description=body.description,
            lines=claim_lines(body.lines),
            currency=body.currency,
            claimed_on=body.claimed_on,
            gross=body.amounts == "gross",
            employee_id=body.employee_id,
        )
    )
    response.headers["Location"] = f"/api/v1/expenses/{claim.id}"
    return _answer(claim, response)


@router.get(
    "/{expense_id}",
    operation_id="getExpense",
    openapi_extra=requires("expenses:read"),
    response_model=ExpensePublic,
    responses=responses(401, 403, 404, 422)
    | success(
        200,
        "ETag",
        submitExpense=link(
            "submitExpense",
            {"expense_id": "$request.path.expense_id", "header.If-Match": "$response.header.ETag"},
        ),
        approveExpense=link(
            "approveExpense",
            {"expense_id": "$request.path.expense_id", "header.If-Match": "$response.header.ETag"},
        ),
    ),
)
def get_expense(expense_id: ExpenseId, services: Services, response: Response) -> ExpensePublic:
    """One claim with its lines and receipts."""
    return _answer(services.expenses.get(expense_id), response)


@router.post(
    "/{expense_id}/receipts",
    operation_id="uploadExpenseReceipt",
    openapi_extra=requires("expenses:write"),
    dependencies=[permitted("expenses:write")],
    status_code=201,
    response_model=ReceiptPublic,
    responses=responses(401, 403, 404, 409, 422)
    | success(
        201,
        "Location",
        getExpense=link("getExpense", {"expense_id": "$request.path.expense_id"}),
    ),
)
def upload_receipt(
    expense_id: ExpenseId,
    file: Annotated[UploadFile, File(description="A PDF, PNG or JPEG file of at most 10 MB.")],
    services: Services,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ReceiptPublic:
    """Attach a receipt to a draft claim. The file's content decides its type: anything
    but a PDF, PNG or JPEG is refused (422)."""
    del idempotency_key  # handled by the idempotency middleware
    upload = Upload(file.filename or "", file.file.read(MAX_RECEIPT_BYTES + 1))
    _, receipt = services.expenses.add_receipt(expense_id, upload)
    response.headers["Location"] = f"/api/v1/expenses/{expense_id}/receipts/{receipt.id}"
    return ReceiptPublic.of(receipt)


@router.get(
    "/{expense_id}/receipts/{receipt_id}",
    operation_id="downloadExpenseReceipt",
    openapi_extra=requires("expenses:read"),
    response_class=Response,
    responses=responses(401, 403, 404, 422) | _FILE,
)
def download_receipt(expense_id: ExpenseId, receipt_id: ReceiptId, services: Services) -> Response:
    """The receipt's bytes as uploaded, with its stored content type."""
    found = services.expenses.receipt(expense_id, receipt_id)
    return Response(
        found.content,
        media_type=found.info.content_type,
        headers={
            "Content-Disposition": attachment(found.info.name),
            "X-Content-SHA256": found.info.sha256,
        },
    )


@router.post(
    "/{expense_id}/submit",
    operation_id="submitExpense",
    openapi_extra=requires("expenses:write"),
    dependencies=[permitted("expenses:write")],
    response_model=ExpensePublic,
    responses=_moved(),
)
def submit_expense(
    expense_id: ExpenseId, services: Services, response: Response, if_match: IfMatch
) -> ExpensePublic:
    """Hand a draft in for approval (it needs a receipt)."""
    return _answer(services.expenses.submit(expense_id, if_match_version(if_match)), response)


@router.post(
    "/{expense_id}/approve",
    operation_id="approveExpense",
    openapi_extra=requires("expenses:approve"),
    dependencies=[permitted("expenses:approve")],
    response_model=ExpensePublic,
    responses=_moved(),
)
def approve_expense(
    expense_id: ExpenseId, services: Services, response: Response, if_match: IfMatch
) -> ExpensePublic:
    """Approve somebody else's submitted claim and book it (403 for one's own)."""
    return _answer(services.expenses.approve(expense_id, if_match_version(if_match)), response)


@router.post(
    "/{expense_id}/reject",
    operation_id="rejectExpense",
    openapi_extra=requires("expenses:approve"),
    dependencies=[permitted("expenses:approve")],
    response_model=ExpensePublic,
    responses=_moved(),
)
def reject_expense(
    expense_id: ExpenseId,
    body: ExpenseReject,
    services: Services,
    response: Response,
    if_match: IfMatch,
) -> ExpensePublic:
    """Turn a submitted claim down with a reason."""
    claim = services.expenses.reject(expense_id, body.reason, if_match_version(if_match))
    return _answer(claim, response)


@router.post(
    "/{expense_id}/reimburse",
    operation_id="reimburseExpense",
    openapi_extra=requires("expenses:approve"),
    dependencies=[permitted("expenses:approve")],
    response_model=ExpensePublic,
    responses=_moved(),
)
def reimburse_expense(
    expense_id: ExpenseId,
    services: Services,
    response: Response,
    if_match: IfMatch,
    body: Annotated[ExpenseReimburse | None, Body()] = None,
) -> ExpensePublic:
    """Pay a posted claim back from a bank account: liability against bank."""
    given = body or ExpenseReimburse()
    claim = services.expenses.reimburse(
        expense_id,
        if_match_version(if_match),
        paid_on=given.paid_on,
        bank_account=given.bank_account,
    )
    return _answer(claim, response)
