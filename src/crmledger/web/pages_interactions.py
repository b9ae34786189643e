"""The timeline and complaints: log an interaction on a customer's page, page back through
the timeline, work the complaint queue (soonest SLA due first) and resolve complaints.

A status change posts the version it was shown at; a complaint cannot be resolved without
a resolution (the core's rule), and the refusal comes back next to the resolution field,
in the queue row or on the interaction's page, whichever the form was on::

    POST /interactions/12/status  status=resolved resolution="Replacement sent" version=3
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from crmledger.core.access import PermissionDeniedError
from crmledger.core.crm.interactions import Interaction, Status
from crmledger.core.errors import LedgerError
from crmledger.services.errors import NotFoundError, VersionConflictError
from crmledger.web import crm_view, forms, interaction_form
from crmledger.web.customer_page import customer_response, timeline
from crmledger.web.forms import Draft
from crmledger.web.pages_customers import load
from crmledger.web.params import text
from crmledger.web.render import flash, fragment, page, wants_fragment
from crmledger.web.session import Signed, Viewer, safe_next

router = APIRouter(include_in_schema=False)
QUEUE_PAGE = 50
MAX_ID = 2**31 - 1
#: The status moves the interaction page offers, by current status.
MOVES = {
    "open": [("in_progress", "Start work"), ("resolved", "Resolve"), ("closed", "Close")],
    "in_progress": [("resolved", "Resolve"), ("closed", "Close"), ("open", "Back to open")],
    "resolved": [("closed", "Close"), ("open", "Reopen")],
    "closed": [("open", "Reopen")],
}


@router.get("/customers/{party_id:int}/timeline")
def older(request: Request, party_id: int, viewer: Signed) -> Response:
    """Older timeline items: the timeline part for htmx, else a page of its own."""
    party = load(viewer, party_id)
    before = text(dict(request.query_params), "before")
    context: dict[str, Any] = {"timeline": timeline(viewer, party_id, before)}
    if wants_fragment(request):
        return fragment("_timeline.html", context)
    context |= {"party": party, "title": f"Timeline: {party.display_name}"}
    return page(request, "timeline.html", context, viewer=viewer, active="/customers")


@router.post("/customers/{party_id:int}/interactions")
async def log_interaction(request: Request, party_id: int, viewer: Signed) -> Response:
    """Log an interaction with the customer (a complaint starts its SLA clock)."""
    form = await request.form()
    return await run_in_threadpool(_log, request, party_id, viewer, form)


def _log(request: Request, party_id: int, viewer: Viewer, form: FormData) -> Response:
    viewer.principal.require("interactions", "write")
    party = load(viewer, party_id)
    draft = interaction_form.read(form)
    item = interaction_form.to_interaction(draft, party_id, datetime.now(UTC))
    if item is not None:
        try:
            stored = viewer.book.interactions.add(item)
        except PermissionDeniedError:
            raise
        except LedgerError as exc:
            forms.place(draft.errors, exc, interaction_form.RULES, interaction_form.LABELS)
        else:
            response = RedirectResponse(f"/customers/{party_id}#timeline", 303)
            flash(request, response, f"Logged {stored.kind.value}: {stored.subject}.")
            return response
    return customer_response(request, viewer, party, status=422, interaction=draft)


def _queue_rows(viewer: Viewer, after: tuple[datetime, int] | None) -> list[dict[str, Any]]:
    items = viewer.book.interactions.complaint_queue(QUEUE_PAGE, after)
    names = viewer.book.parties.many({q.interaction.party_id for q in items})
    return [
        {
            "item": q.interaction,
            "sla": q.sla_state.value,
            "due": q.next_due,
            "party": names.get(q.interaction.party_id),
        }
        for q in items
    ]


def _queue_page(
    request: Request, viewer: Viewer, errors: dict[int, str] | None = None, typed: str = ""
) -> Response:
    viewer.principal.require("interactions", "read")
    raw = text(dict(request.query_params), "after")
    after = crm_view.decode_at(raw) if raw else None
    rows = _queue_rows(viewer, after)
    last = rows[-1] if len(rows) == QUEUE_PAGE else None
    next_url = None
    if last is not None and last["due"] is not None:
        next_url = f"/complaints?after={crm_view.encode_at(last['due'], last['item'].id)}"
    context = {
        "rows": rows,
        "next_url": next_url,
        "first_url": "/complaints" if after else None,
        "can_write": viewer.can("interactions", "write"),
        "resolve_errors": errors or {},
        "resolve_typed": typed,
        "title": "Complaints",
    }
    status = 422 if errors else 200
    return page(
        request, "complaints.html", context, viewer=viewer, active="/complaints", status=status
    )


@router.get("/complaints")
def complaints(request: Request, viewer: Signed) -> Response:
    """Open complaints, the one whose SLA target is due soonest first."""
    return _queue_page(request, viewer)


def _interaction(viewer: Viewer, interaction_id: int) -> Interaction:
    if not 1 <= interaction_id <= MAX_ID:
        raise NotFoundError(f"no interaction {interaction_id}")
    return viewer.book.interactions.get(interaction_id)


def _detail(
    request: Request, viewer: Viewer, item: Interaction, draft: Draft | None, status: int = 200
) -> Response:
    party = viewer.book.parties.get(item.party_id)
    context = {
        "item": item,
        "party": party,
        "sla": viewer.book.interactions.sla(item).value,
        "moves": MOVES[item.status.value] if viewer.can("interactions", "write") else [],
        "form": draft or Draft({"resolution": item.resolution}),
        "title": item.subject,
    }
    active = "/complaints" if item.kind.value == "complaint" else "/customers"
    return page(request, "interaction.html", context, viewer=viewer, active=active, status=status)


@router.get("/interactions/{interaction_id:int}")
def interaction(request: Request, interaction_id: int, viewer: Signed) -> Response:
    """One interaction with its SLA and the status moves the viewer may make."""
    return _detail(request, viewer, _interaction(viewer, interaction_id), None)


@router.post("/interactions/{interaction_id:int}/status")
async def change_status(request: Request, interaction_id: int, viewer: Signed) -> Response:
    """Move an interaction to another status (resolving needs a resolution)."""
    form = await request.form()
    return await run_in_threadpool(_change, request, interaction_id, viewer, form)


def _apply(viewer: Viewer, interaction_id: int, draft: Draft) -> Interaction | int:
    """The changed interaction, or the status code of the refusal (errors in ``draft``)."""
    version = forms.integer(draft.get("version"), "version", draft.errors, "Version")
    try:
        wanted = Status(draft.get("status"))
    except ValueError:
        wanted = None
    if wanted is None or version is None:
        draft.errors.add("form", "The form could not be read; reload the page.")
        return 422
    try:
        return viewer.book.interactions.change_status(
            interaction_id, wanted, draft.get("resolution"), version
        )
    except VersionConflictError:
        draft.errors.add("form", "Someone changed this interaction meanwhile; reload the page.")
        return 409
    except PermissionDeniedError:
        raise
    except LedgerError as exc:
        forms.place(draft.errors, exc, {"resolution": "resolution"}, {"resolution": "Resolution"})
        return 422


def _change(request: Request, interaction_id: int, viewer: Viewer, form: FormData) -> Response:
    viewer.principal.require("interactions", "write")
    item = _interaction(viewer, interaction_id)
    draft = Draft.read(form, interaction_form.RESOLVE_LIMITS)
    back = safe_next(draft.get("next") or f"/interactions/{interaction_id}")
    changed = _apply(viewer, interaction_id, draft)
    if isinstance(changed, Interaction):
        response = RedirectResponse(back, 303)
        flash(request, response, f"{changed.subject}: now {crm_view.words(changed.status.value)}.")
        return response
    if back.startswith("/complaints"):
        message = draft.errors.get("resolution") or draft.errors.get("form", "")
        return _queue_page(request, viewer, {interaction_id: message}, draft.get("resolution"))
    return _detail(request, viewer, item, draft, changed)


@router.post("/interactions/{interaction_id:int}/respond")
def respond(request: Request, interaction_id: int, viewer: Signed) -> Response:
    """Note that the party got a first response now (the SLA's first target)."""
    viewer.principal.require("interactions", "write")
    _interaction(viewer, interaction_id)  # an id out of range is a 404, not a 500
    item = viewer.book.interactions.respond(interaction_id)
    response = RedirectResponse(f"/interactions/{interaction_id}", 303)
    flash(request, response, f"Recorded a response to {item.subject}.")
    return response
