"""Customers: the list (one search box, filters, keyset pages), the new-customer form and
the edit form.

The search box finds a name fragment, an email, a phone number in any format or a tax id
(the best 50 matches, narrowed by the filters); without a search the list pages by id,
newest first (``after`` is the last id shown). An htmx request gets only the results::

    /customers?q=lovelace
    /customers?kind=organisation&lifecycle=customer&after=120
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from crmledger.core.access import PermissionDeniedError
from crmledger.core.crm.parties import Lifecycle, Party, PartyKind
from crmledger.core.errors import LedgerError
from crmledger.services.crm_ports import PartyQuery
from crmledger.services.errors import NotFoundError, VersionConflictError
from crmledger.web import crm_view, customer_form
from crmledger.web.customer_form import CustomerForm
from crmledger.web.params import text, with_query
from crmledger.web.render import flash, fragment, page, wants_fragment
from crmledger.web.session import Signed, Viewer

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
SEARCH_LIMIT = 50
MAX_ID = 2**31 - 1
FILTERS = ("q", "kind", "lifecycle", "tag", "segment", "owner")
CURRENCIES = ("EUR", "USD", "GBP", "CHF", "JPY", "SEK", "NOK", "DKK", "PLN", "CZK")


def _filters(query: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    shown = {name: text(query, name) for name in FILTERS}
    errors: dict[str, str] = {}
    if shown["kind"] and shown["kind"] not in {k.value for k in PartyKind}:
        errors["kind"] = "Choose organisation or person."
    if shown["lifecycle"] and shown["lifecycle"] not in {k.value for k in Lifecycle}:
        errors["lifecycle"] = "Choose a lifecycle stage from the list."
    if shown["owner"] and not (shown["owner"].isdigit() and len(shown["owner"]) < 10):
        errors["owner"] = "Choose an owner from the list."
    return shown, errors


def _matches(party: Party, shown: Mapping[str, str]) -> bool:
    owner = int(shown["owner"]) if shown["owner"] else None
    return (
        (not shown["kind"] or party.kind.value == shown["kind"])
        and (not shown["lifecycle"] or party.lifecycle.value == shown["lifecycle"])
        and (not shown["tag"] or shown["tag"] in party.tags)
        and (not shown["segment"] or party.segment == shown["segment"])
        and (owner is None or party.owner_id == owner)
    )


def _found(viewer: Viewer, shown: dict[str, str], after: int | None) -> list[Party]:
    if shown["q"]:
        hits = viewer.book.parties.search(shown["q"], SEARCH_LIMIT)
        return [h.party for h in hits if _matches(h.party, shown)]
    query = PartyQuery(
        limit=PAGE_SIZE,
        sort="-id",
        after=(str(after), after) if after else None,
        kind=shown["kind"] or None,
        lifecycle=shown["lifecycle"] or None,
        owner_id=int(shown["owner"]) if shown["owner"] else None,
        tag=shown["tag"] or None,
        segment=shown["segment"] or None,
    )
    return viewer.book.parties.list(query)


@router.get("/customers")
def customers(request: Request, viewer: Signed) -> Response:
    """Organisations and people: search, filter, page."""
    viewer.principal.require("parties", "read")
    query = dict(request.query_params)
    shown, errors = _filters(query)
    after_text = text(query, "after")
    after = int(after_text) if after_text.isdigit() and len(after_text) < 10 else None
    found = [] if errors else _found(viewer, shown, after)
    owners = crm_view.owner_names(viewer)
    last = found[-1].id if len(found) == PAGE_SIZE and not shown["q"] else None
    context = {
        "parties": [crm_view.party_row(p, owners) for p in found],
        "filters": shown,
        "errors": errors,
        "kinds": customer_form.KINDS,
        "lifecycles": customer_form.LIFECYCLES,
        "owners": crm_view.owner_options(owners, None),
        "searched": bool(shown["q"]),
        "search_limit": SEARCH_LIMIT,
        "filtered": any(shown.values()),
        "next_url": with_query("/customers", {**shown, "after": last}) if last else None,
        "first_url": with_query("/customers", shown) if after else None,
        "can_write": viewer.can("parties", "write"),
        "title": "Customers",
    }
    if wants_fragment(request):
        return fragment("_customers_table.html", context)
    status = 422 if errors else 200
    return page(
        request, "customers.html", context, viewer=viewer, active="/customers", status=status
    )


def _form_page(
    request: Request,
    viewer: Viewer,
    draft: CustomerForm,
    party: Party | None,
    status: int = 200,
) -> Response:
    owners = crm_view.owner_names(viewer)
    current = int(draft.values["owner"]) if draft.values["owner"].isdigit() else None
    context: dict[str, Any] = {
        "form": draft,
        "party": party,
        "kinds": customer_form.KINDS,
        "lifecycles": customer_form.LIFECYCLES,
        "owners": crm_view.owner_options(owners, current),
        "currencies": CURRENCIES,
        "title": f"Edit {party.display_name}" if party else "New customer",
    }
    return page(
        request, "customer_form.html", context, viewer=viewer, active="/customers", status=status
    )


@router.get("/customers/new")
def new_customer(request: Request, viewer: Signed, kind: str = "organisation") -> Response:
    """An empty customer form (an organisation unless ``kind=person``)."""
    viewer.principal.require("parties", "write")
    draft = customer_form.blank("person" if kind == "person" else "organisation")
    if viewer.principal.user_id is not None:
        draft.values["owner"] = str(viewer.principal.user_id)
    return _form_page(request, viewer, draft, None)


@router.post("/customers/new")
async def create_customer(request: Request, viewer: Signed) -> Response:
    """Add the customer, or show the form again with what is wrong."""
    form = await request.form()
    return await run_in_threadpool(_create, request, viewer, form)


def _create(request: Request, viewer: Viewer, form: FormData) -> Response:
    viewer.principal.require("parties", "write")
    draft = customer_form.read(form)
    party = customer_form.to_party(draft)
    if party is not None:
        try:
            stored = viewer.book.parties.add(party)
        except PermissionDeniedError:
            raise
        except LedgerError as exc:
            draft.place(exc)
        else:
            response = RedirectResponse(f"/customers/{stored.id}", 303)
            flash(request, response, f"Added {stored.display_name}.")
            return response
    return _form_page(request, viewer, draft, None, status=422)


def load(viewer: Viewer, party_id: int) -> Party:
    """The party of a URL (ids past the column's range are simply not found)."""
    if not 1 <= party_id <= MAX_ID:
        raise NotFoundError(f"no customer {party_id}")
    return viewer.book.parties.get(party_id)


@router.get("/customers/{party_id:int}/edit")
def edit_customer(request: Request, party_id: int, viewer: Signed) -> Response:
    """The customer's profile as a form."""
    viewer.principal.require("parties", "write")
    party = load(viewer, party_id)
    return _form_page(request, viewer, customer_form.of_party(party), party)


@router.post("/customers/{party_id:int}/edit")
async def update_customer(request: Request, party_id: int, viewer: Signed) -> Response:
    """Save the profile if nobody changed it since the form was opened."""
    form = await request.form()
    return await run_in_threadpool(_update, request, party_id, viewer, form)


def _update(request: Request, party_id: int, viewer: Viewer, form: FormData) -> Response:
    viewer.principal.require("parties", "write")
    party = load(viewer, party_id)
    draft = customer_form.read(form)
    draft.values["kind"] = party.kind.value
    version = customer_form.version(draft)
    changes = customer_form.changes(draft, party)
    status = 422
    if version is None:
        draft.errors.add("form", "The form is missing its version. Reload the page.")
    elif changes is not None:
        try:
            saved = viewer.book.parties.update(party_id, changes, if_version=version)
        except VersionConflictError:
            status = 409
            draft.errors.add(
                "form",
                "Someone else changed this customer after you opened the form. "
                "Your changes were not saved: reload the page to see theirs, then edit again.",
            )
        except PermissionDeniedError:
            raise
        except LedgerError as exc:
            draft.place(exc)
        else:
            response = RedirectResponse(f"/customers/{party_id}", 303)
            flash(request, response, f"Saved {saved.display_name}.")
            return response
    return _form_page(request, viewer, draft, party, status=status)
