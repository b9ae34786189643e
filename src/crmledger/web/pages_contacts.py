"""Contacts: link a person to an organisation with a role, finding the person or creating
them on the spot.

The organisation's page has a search for people (htmx swaps the matches in as radio
buttons; without script the search reloads the page with them) and a form that either
links the chosen person or creates a new one from the names typed, then links them::

    POST /customers/7/contacts  person_id=12 role="Head of Purchasing"
    POST /customers/7/contacts  given_name=Ada family_name=Lovelace email=ada@example.com
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from crmledger.core.access import PermissionDeniedError
from crmledger.core.crm.parties import Contact, Email, Party, PartyKind, Phone, validate_contact
from crmledger.core.errors import InvalidFieldError, LedgerError
from crmledger.web import forms
from crmledger.web.customer_page import contact_candidates, customer_response
from crmledger.web.forms import Draft
from crmledger.web.pages_customers import load
from crmledger.web.params import text
from crmledger.web.render import flash, fragment, wants_fragment
from crmledger.web.session import Signed, Viewer

router = APIRouter(include_in_schema=False)
LIMITS = {
    "q": 200,
    "person_id": 12,
    "role": 100,
    "primary": 10,
    "given_name": 200,
    "family_name": 200,
    "email": 320,
    "phone": 60,
}
#: A new person's field paths -> the contact form's inputs.
PERSON_RULES = {
    r"(given_name|family_name)": r"\1",
    r"display_name": "given_name",
    r"emails.*": "email",
    r"phones.*": "phone",
    r"role": "role",
    r"person_id|organisation_id": "person_id",
}
LABELS = {"given_name": "Given name", "family_name": "Family name", "role": "Role"}


def _organisation(viewer: Viewer, party_id: int) -> Party:
    party = load(viewer, party_id)
    if party.kind is not PartyKind.ORGANISATION:
        raise InvalidFieldError("organisation_id", "only organisations have contacts")
    return party


@router.get("/customers/{party_id:int}/contacts/candidates")
def find_people(request: Request, party_id: int, viewer: Signed) -> Response:
    """People to link: radio buttons for htmx, else the page with them in the form."""
    viewer.principal.require("parties", "write")
    org = _organisation(viewer, party_id)
    query = text(dict(request.query_params), "q")
    draft = Draft({"q": query})
    if wants_fragment(request):
        found = contact_candidates(viewer, org, query)
        return fragment("_contact_candidates.html", {"candidates": found, "form": draft})
    return customer_response(request, viewer, org, contact=draft)


@router.post("/customers/{party_id:int}/contacts")
async def add_contact(request: Request, party_id: int, viewer: Signed) -> Response:
    """Link the chosen person, or create the person typed and link them."""
    form = await request.form()
    return await run_in_threadpool(_add, request, party_id, viewer, form)


def _new_person(draft: Draft) -> Party | None:
    given, family = draft.get("given_name"), draft.get("family_name")
    if not (given or family):
        return None
    return Party(
        kind=PartyKind.PERSON,
        display_name="",
        given_name=given,
        family_name=family,
        emails=(Email(draft.get("email")),) if draft.get("email") else (),
        phones=(Phone(draft.get("phone")),) if draft.get("phone") else (),
    )


def _person_id(viewer: Viewer, draft: Draft) -> tuple[int | None, str]:
    """The person to link (created now when typed) and their name."""
    chosen = forms.integer(draft.get("person_id"), "person_id", draft.errors, "Person")
    if chosen is not None:
        return chosen, viewer.book.parties.get(chosen).display_name
    person = _new_person(draft)
    if person is None:
        draft.errors.add("person_id", "Choose a person found above, or type a new person's name.")
        return None, ""
    stored = viewer.book.parties.add(person)
    return stored.id, stored.display_name


def _add(request: Request, party_id: int, viewer: Viewer, form: FormData) -> Response:
    viewer.principal.require("parties", "write")
    org = _organisation(viewer, party_id)
    draft = Draft.read(form, LIMITS)
    role, primary = draft.get("role"), draft.get("primary") == "on"
    try:
        validate_contact(Contact(party_id, 0, role))  # refuse a bad role before any write
        person_id, name = _person_id(viewer, draft)
        if person_id is not None:
            viewer.book.parties.add_contact(Contact(party_id, person_id, role, primary))
    except PermissionDeniedError:
        raise
    except LedgerError as exc:
        forms.place(draft.errors, exc, PERSON_RULES, LABELS)
    if draft.errors:
        return customer_response(request, viewer, org, status=422, contact=draft)
    response = RedirectResponse(f"/customers/{party_id}#contacts", 303)
    flash(request, response, f"Added {name} as a contact{f' ({role})' if role else ''}.")
    return response
