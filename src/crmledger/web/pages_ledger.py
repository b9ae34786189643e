"""Ledger pages: the dashboard's book panel, the chart of accounts, the journal, one entry.

The journal list filters by journal, state, dates and account (with its sub-accounts) and
pages by keyset (``next`` is the ``date.id`` of the last row shown). An htmx request gets
only the results table, so filtering and paging swap the table in place; without script
the same links and form load whole pages.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from crmledger.core.entries import EntryState, JournalEntry
from crmledger.core.errors import EntryStateError, LedgerError
from crmledger.services.errors import NotFoundError
from crmledger.services.ports import EntryQuery
from crmledger.web.params import (
    JOURNAL_CODE,
    account_known,
    debit_totals,
    decode_cursor,
    encode_cursor,
    entry_ref,
    parse_date,
    sentence,
    text,
    with_query,
)
from crmledger.web.render import flash, fragment, page, wants_fragment
from crmledger.web.session import Signed, Viewer

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
STATES = [(s.value, s.value.capitalize()) for s in EntryState]
MAX_ID = 2**62


def book_panel(viewer: Viewer) -> dict[str, Any]:
    """The book at a glance and the latest entries, for the dashboard
    (:mod:`crmledger.web.pages_dashboard`)."""
    info = viewer.book.ledger.info()
    recent: list[dict[str, Any]] | None = None
    if viewer.can("journal", "read"):
        latest = viewer.book.ledger.entries(EntryQuery(limit=5, sort="date"))
        recent = [_row(e) for e in latest]
    book = {
        "base_currency": info.base_currency,
        "accounts": info.accounts,
        "commodities": info.commodities,
        "lock_date": info.lock_date.isoformat() if info.lock_date else None,
        "entries": recent,
    }
    return {"book": book, "chain_ok": None}


@router.get("/accounts")
def accounts(request: Request, viewer: Signed) -> Response:
    """The chart of accounts."""
    rows = [
        {
            "name": account.name,
            "code": account.code or "",
            "type": account.type.value,
            "commodities": ", ".join(account.commodities) or "Any",
            "open_date": account.open_date.isoformat() if account.open_date else "",
            "close_date": account.close_date.isoformat() if account.close_date else "",
            "description": account.description,
            "version": version,
        }
        for account, version in viewer.book.ledger.accounts_with_versions()
    ]
    context = {"accounts": rows, "title": "Chart of accounts"}
    return page(request, "accounts.html", context, viewer=viewer, active="/accounts")


def _row(entry: JournalEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "ref": entry_ref(entry),
        "date": entry.date.isoformat(),
        "journal": entry.journal,
        "narration": entry.narration,
        "payee": entry.payee or "",
        "state": entry.state.value,
        "totals": debit_totals(entry),
    }


def _filters(query: dict[str, str]) -> tuple[dict[str, str], dict[str, str], EntryQuery]:
    shown = {name: text(query, name) for name in ("journal", "state", "from", "to", "account")}
    errors: dict[str, str] = {}
    if shown["journal"] and not JOURNAL_CODE.match(shown["journal"]):
        errors["journal"] = "A journal code is 1 to 16 letters or digits."
    if shown["state"] and shown["state"] not in {s for s, _ in STATES}:
        errors["state"] = "Choose draft, posted or reversed."
    start = parse_date(shown["from"], "from", errors)
    end = parse_date(shown["to"], "to", errors)
    if start and end and end < start:
        errors["to"] = "The end date is before the start date."
    after = decode_cursor(query["next"]) if query.get("next") else None
    if query.get("next") and after is None:
        errors["next"] = "That page link is not valid; showing the first page."
    built = EntryQuery(
        limit=PAGE_SIZE,
        after=after,
        sort="date",
        journal=shown["journal"] or None,
        state=shown["state"] or None,
        date_from=start,
        date_to=end,
        account=shown["account"] or None,
    )
    return shown, errors, built


def _account_names(viewer: Viewer) -> list[str]:
    if not viewer.can("accounts", "read"):
        return []
    return [account.name for account, _ in viewer.book.ledger.accounts_with_versions()]


@router.get("/journal")
def journal(request: Request, viewer: Signed) -> Response:
    """Journal entries, newest first, filtered and paged."""
    shown, errors, query = _filters(dict(request.query_params))
    names = _account_names(viewer)
    if shown["account"] and names and not account_known(names, shown["account"]):
        errors["account"] = f"No account is called {shown['account']!r}."
    found = [] if set(errors) - {"next"} else viewer.book.ledger.entries(query)
    last = found[-1] if len(found) == PAGE_SIZE else None
    paged = query.after is not None
    context = {
        "entries": [_row(e) for e in found],
        "filters": shown,
        "errors": errors,
        "states": STATES,
        "accounts": names,
        "next_url": with_query("/journal", {**shown, "next": encode_cursor(last)})
        if last
        else None,
        "first_url": with_query("/journal", shown) if paged else None,
        "filtered": any(shown.values()),
        "can_post": viewer.can("journal", "post"),
        "title": "Journal",
    }
    status = 422 if set(errors) - {"next"} else 200
    if wants_fragment(request):  # htmx swaps only 2xx answers: the errors are in the table
        return fragment("_journal_table.html", context)
    return page(request, "journal.html", context, viewer=viewer, active="/journal", status=status)


def _entry(viewer: Viewer, entry_id: int) -> JournalEntry:
    if entry_id > MAX_ID:
        raise NotFoundError(f"no entry with id {entry_id}")
    return viewer.book.ledger.get(entry_id)


def _entry_context(viewer: Viewer, entry: JournalEntry) -> dict[str, Any]:
    return {
        "entry": entry,
        "ref": entry_ref(entry),
        "postings": [
            {"account": p.account, "amount": p.amount, "commodity": p.commodity, "memo": p.memo}
            for p in entry.postings
        ],
        "totals": debit_totals(entry),
        "can_reverse": viewer.can("journal", "post") and entry.state is EntryState.POSTED,
        "can_read_reports": viewer.can("reports", "read"),
        "today": date.today().isoformat(),  # noqa: DTZ011  (a form default in local time)
        "reverse_errors": {},
        "reverse_values": {"date": "", "narration": ""},
        "title": entry_ref(entry),
    }


@router.get("/journal/by-ref")
def entry_by_ref(viewer: Signed, ref: str = "") -> Response:
    """An entry by its reference ``GJ/2026/7`` (as reports show it)."""
    entry_id = viewer.book.ledger.resolve(ref.strip()[:64])
    return RedirectResponse(f"/journal/{entry_id}", 303)


@router.get("/journal/{entry_id:int}")
def entry_detail(request: Request, entry_id: int, viewer: Signed) -> Response:
    """One entry with its postings, hash and links."""
    entry = _entry(viewer, entry_id)
    context = _entry_context(viewer, entry)
    return page(request, "entry.html", context, viewer=viewer, active="/journal")


@router.post("/journal/{entry_id:int}/reverse")
def reverse_entry(
    request: Request,
    entry_id: int,
    viewer: Signed,
    on: Annotated[str, Form(alias="date", max_length=32)] = "",
    narration: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    """Post the reversal of an entry and show it."""
    viewer.principal.require("journal", "post")
    errors: dict[str, str] = {}
    day = parse_date(on, "date", errors)
    entry = _entry(viewer, entry_id)
    status = 422
    if not errors:
        try:
            ref = viewer.book.ledger.reverse(entry_id, day, narration.strip() or None)
        except LedgerError as exc:
            errors["date" if exc.field == "date" else "entry"] = sentence(exc)
            status = 409 if isinstance(exc, EntryStateError) else 422
        else:
            response = RedirectResponse(f"/journal/{ref.id}", 303)
            flash(request, response, f"Reversed {entry_ref(entry)} with {ref.ref}.")
            return response
    context = _entry_context(viewer, entry)
    if "entry" in errors:  # shown at the top: the form is gone once the entry is reversed
        context["messages"] = [{"kind": "error", "text": errors.pop("entry")}]
    context["reverse_errors"] = errors
    context["reverse_values"] = {"date": on, "narration": narration}
    return page(request, "entry.html", context, viewer=viewer, active="/journal", status=status)
