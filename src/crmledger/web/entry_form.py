"""The post-entry form (``/journal/new``).

In the browser, ``app.js`` shows the running imbalance and keeps the submit button
disabled until the postings balance; the server checks everything again. A value it cannot
read, or a rule of the book the entry breaks, re-renders the form (422) with what the user
typed and the error next to its field: the error's ``field`` (``amount``, ``account``,
``commodity``, ``date`` ...) says where, and the error's subject (an account, a commodity,
an amount) picks the posting row when one is named::

    UnknownAccountError("Assets:Nope")  ->  under the row whose account is Assets:Nope
    UnbalancedEntryError({...})         ->  under the postings, beside the imbalance
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from crmledger.core.access import PermissionDeniedError
from crmledger.core.entries import JournalEntry, Posting
from crmledger.core.errors import ExcessPrecisionError, LedgerError
from crmledger.services.errors import EntriesRejectedError
from crmledger.web.params import JOURNAL_CODE, parse_date, sentence
from crmledger.web.render import flash, page
from crmledger.web.session import Signed, Viewer

router = APIRouter(include_in_schema=False)

_AMOUNT = re.compile(r"^[+-]?(\d{1,15}(\.\d{0,12})?|\.\d{1,12})$")
_COMMODITY = re.compile(r"^[A-Z][A-Z0-9_.'-]{0,23}$")
ROW_FIELDS = ("account", "amount", "commodity")
MIN_ROWS = 4
MAX_ROWS = 200
TEXT_LIMITS = {"narration": 400, "payee": 200, "reference": 200}


@dataclass
class EntryForm:
    """What the user typed, and what is wrong with it."""

    values: dict[str, str]
    rows: list[dict[str, str]]
    errors: dict[str, str] = field(default_factory=dict)
    row_errors: dict[int, dict[str, str]] = field(default_factory=dict)

    def row_error(self, index: int, name: str, message: str) -> None:
        """Put ``message`` under ``name`` of row ``index``."""
        self.row_errors.setdefault(index, {}).setdefault(name, message)

    @property
    def ok(self) -> bool:
        """Nothing to complain about."""
        return not self.errors and not self.row_errors


def _text(form: FormData, name: str, limit: int = 400) -> str:
    value = form.get(name, "")
    return value.strip()[:limit] if isinstance(value, str) else ""


def _column(form: FormData, name: str) -> list[str]:
    return [v.strip()[:400] if isinstance(v, str) else "" for v in form.getlist(name)][:MAX_ROWS]


def read_form(form: FormData) -> EntryForm:
    """The form's values as typed (rows padded to the longest column)."""
    values = {name: _text(form, name, limit) for name, limit in TEXT_LIMITS.items()}
    values["date"] = _text(form, "date", 32)
    values["journal"] = _text(form, "journal", 32)
    columns = {name: _column(form, name) for name in ROW_FIELDS}
    count = max(len(c) for c in columns.values())
    rows = [
        {name: (col[i] if i < len(col) else "") for name, col in columns.items()}
        for i in range(count)
    ]
    return EntryForm(values, rows)


def _amount(raw: str) -> Decimal | None:
    text = re.sub(r"[\s_]", "", raw)
    if not _AMOUNT.match(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None


def _posting(draft: EntryForm, index: int, row: dict[str, str], default: str) -> Posting | None:
    amount = _amount(row["amount"])
    commodity = (row["commodity"] or default).upper()
    if amount is None:
        draft.row_error(index, "amount", f"{row['amount']!r} is not a number, e.g. 120.50.")
    if not row["account"]:
        draft.row_error(index, "account", "Choose an account.")
    if not _COMMODITY.match(commodity):
        draft.row_error(index, "commodity", "A commodity code such as EUR.")
    if amount is None or index in draft.row_errors:
        return None
    return Posting(row["account"], amount, commodity)


def to_entry(draft: EntryForm, default_commodity: str) -> JournalEntry | None:
    """The entry the form describes, or None with the form's errors set."""
    if not draft.values["date"]:
        draft.errors["date"] = "Enter the entry's date."
    day = parse_date(draft.values["date"], "date", draft.errors)
    journal = draft.values["journal"] or "GJ"
    if not JOURNAL_CODE.match(journal):
        draft.errors["journal"] = "A journal code is 1 to 16 letters or digits."
    if not draft.values["narration"]:
        draft.errors["narration"] = "Describe the entry."
    postings = []
    for index, row in enumerate(draft.rows):
        if not row["account"] and not row["amount"]:
            continue  # a blank row
        posting = _posting(draft, index, row, default_commodity)
        if posting is not None:
            postings.append(posting)
    if len(postings) + len(draft.row_errors) < 2:
        draft.errors["postings"] = "An entry needs at least two postings."
    if not draft.ok or day is None:
        return None
    v = draft.values
    return JournalEntry(
        day,
        v["narration"],
        tuple(postings),
        journal=journal.upper(),
        payee=v["payee"] or None,
        reference=v["reference"] or None,
    )


def _row_of(draft: EntryForm, error: LedgerError) -> int | None:
    """The row an error is about, when it names one."""
    for index, row in enumerate(draft.rows):
        account, commodity = row["account"], row["commodity"].upper()
        if error.field == "account" and account and repr(account) in str(error):
            return index
        if error.field == "commodity" and commodity and commodity in str(error):
            return index
        if isinstance(error, ExcessPrecisionError) and (commodity, _amount(row["amount"])) == (
            error.commodity,
            error.number,
        ):
            return index
    return None


def place_error(draft: EntryForm, error: LedgerError) -> None:
    """Show a rule violation next to the field it is about."""
    if isinstance(error, EntriesRejectedError):
        error = error.rejections[0].error
    name, message = error.field, sentence(error)
    if name in ("date", "narration", "journal", "payee", "reference"):
        draft.errors[name] = message
        return
    if name in ROW_FIELDS:
        index = _row_of(draft, error)
        if index is not None:
            draft.row_error(index, name, message)
        else:
            draft.errors["postings"] = message
        return
    draft.errors["entry"] = message


def _blank(default: str) -> dict[str, str]:
    return {"account": "", "amount": "", "commodity": default}


def _render(
    request: Request, viewer: Viewer, draft: EntryForm, default: str, status: int = 200
) -> Response:
    rows = list(draft.rows)
    while len(rows) < MIN_ROWS:
        rows.append(_blank(default))
    names = [account.name for account, _ in viewer.book.ledger.accounts_with_versions()]
    context: dict[str, Any] = {
        "form": draft,
        "rows": rows,
        "accounts": names,
        "default_commodity": default,
        "title": "New journal entry",
    }
    return page(
        request, "entry_form.html", context, viewer=viewer, active="/journal", status=status
    )


def _base_currency(viewer: Viewer) -> str:
    return viewer.book.ledger.info().base_currency or ""


@router.get("/journal/new")
def new_entry(request: Request, viewer: Signed) -> Response:
    """An empty entry form (dated today)."""
    viewer.principal.require("journal", "post")
    default = _base_currency(viewer)
    today = date.today().isoformat()  # noqa: DTZ011  (the user's calendar day)
    values = {"date": today, "journal": "GJ", "narration": "", "payee": "", "reference": ""}
    draft = EntryForm(values, [_blank(default) for _ in range(MIN_ROWS)])
    return _render(request, viewer, draft, default)


@router.post("/journal/new")
async def post_entry(request: Request, viewer: Signed) -> Response:
    """Post the entry, or show the form again with what is wrong."""
    form = await request.form()
    return await run_in_threadpool(_post_entry, request, viewer, form)


def _post_entry(request: Request, viewer: Viewer, form: FormData) -> Response:
    viewer.principal.require("journal", "post")
    default = _base_currency(viewer)
    draft = read_form(form)
    if form.get("action") == "add-row":  # the "Add posting" button without script
        draft.rows.append(_blank(default))
        return _render(request, viewer, draft, default)
    entry = to_entry(draft, default)
    if entry is None:
        return _render(request, viewer, draft, default, status=422)
    try:
        [ref] = viewer.book.ledger.post([entry])
    except PermissionDeniedError:
        raise
    except LedgerError as exc:
        place_error(draft, exc)
        return _render(request, viewer, draft, default, status=422)
    response = RedirectResponse(f"/journal/{ref.id}", 303)
    flash(request, response, f"Posted {ref.ref}.")
    return response
