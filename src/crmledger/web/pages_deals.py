"""The pipeline board, a deal's page, and the forms that add and move deals.

The board has one column per stage with its newest deals and its totals per currency.
Cards are dragged between columns (``app.js``: HTML5 drag and drop, then an htmx POST with
the CSRF token; a lost stage asks for the reason first); every card also has a small move
form, so the board works from the keyboard and without script. An htmx move gets the board
back with a message; a plain one is redirected (or shown the refusal, 422)::

    POST /deals/12/move  to_stage=won version=4
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from crmledger.core.access import PermissionDeniedError
from crmledger.core.crm.deals import Pipeline, StageKind
from crmledger.core.errors import LedgerError
from crmledger.services.crm_ports import DocumentQuery
from crmledger.services.deals import StoredDeal
from crmledger.services.errors import NotFoundError, VersionConflictError
from crmledger.web import crm_view, deal_form, forms
from crmledger.web.customer_page import customer_response
from crmledger.web.forms import Draft
from crmledger.web.pages_customers import load
from crmledger.web.params import sentence, text
from crmledger.web.render import flash, fragment, page, wants_fragment
from crmledger.web.session import Signed, Viewer, safe_next

router = APIRouter(include_in_schema=False)
MAX_ID = 2**62


def _pipeline_key(viewer: Viewer, wanted: str) -> tuple[str, list[tuple[str, str]]]:
    pipelines = viewer.book.deals.pipelines()
    if not pipelines:
        raise NotFoundError("no pipeline is set up")
    keys = [p.key for p in pipelines]
    chosen = wanted if wanted in keys else ("sales" if "sales" in keys else keys[0])
    return chosen, [(p.key, p.name) for p in pipelines]


def board_context(viewer: Viewer, wanted: str) -> dict[str, Any]:
    """The board of pipeline ``wanted`` (the sales pipeline when unknown)."""
    key, pipelines = _pipeline_key(viewer, wanted)
    board = viewer.book.deals.board(key)
    ids = {d.party_id for column in board.columns for d in column.deals}
    names = {i: p.display_name for i, p in viewer.book.parties.many(ids).items()}
    columns = [
        {
            "stage": column.stage,
            "count": column.count,
            "totals": sorted(column.totals.items()),
            "deals": [_card(d, names, column.stage.kind.value) for d in column.deals],
            "more": column.count - len(column.deals),
        }
        for column in board.columns
    ]
    return {
        "pipeline": board.pipeline,
        "pipelines": pipelines,
        "columns": columns,
        "stages": [(s.key, s.name, s.kind.value) for s in board.pipeline.stages],
        "can_move": viewer.can("deals", "write"),
        "move_errors": {},
        "notice": None,
        "csrf_token": viewer.csrf_token,  # fragments render without the page's context
    }


def _card(deal: StoredDeal, names: dict[int, str], kind: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "id": deal.id,
        "title": deal.title,
        "party_id": deal.party_id,
        "party": names.get(deal.party_id, f"Customer #{deal.party_id}"),
        "amount": crm_view.money(deal.amount, deal.currency),
        "close": crm_view.day(deal.expected_close),
        "version": deal.version,
        "stage": deal.stage,
    }


@router.get("/deals")
def board(request: Request, viewer: Signed) -> Response:
    """The pipeline board."""
    viewer.principal.require("deals", "read")
    context = board_context(viewer, text(dict(request.query_params), "pipeline"))
    if wants_fragment(request):
        return fragment("_board.html", context)
    context["title"] = f"Pipeline: {context['pipeline'].name}"
    return page(request, "deals.html", context, viewer=viewer, active="/deals")


def _move(viewer: Viewer, deal_id: int, draft: Draft) -> StoredDeal | int:
    """The moved deal, or the status of the refusal (its message in ``draft.errors``)."""
    version = forms.integer(draft.get("version"), "version", draft.errors, "Version")
    if version is None or not draft.get("to_stage"):
        draft.errors.add("form", "Choose the stage to move the deal to.")
        return 422
    try:
        return viewer.book.deals.move(deal_id, draft.get("to_stage"), version, draft.get("reason"))
    except VersionConflictError:
        draft.errors.add("form", "The deal changed since the board was drawn; it is shown anew.")
        return 409
    except PermissionDeniedError:
        raise
    except LedgerError as exc:
        draft.errors.add("form", sentence(exc))
        return 422


def _stage_name(pipeline: Pipeline, key: str) -> str:
    return next((s.name for s in pipeline.stages if s.key == key), key)


@router.post("/deals/{deal_id:int}/move")
async def move(request: Request, deal_id: int, viewer: Signed) -> Response:
    """Move a deal to another stage (a lost stage needs a reason)."""
    form = await request.form()
    return await run_in_threadpool(_moved, request, deal_id, viewer, form)


def _moved(request: Request, deal_id: int, viewer: Viewer, form: FormData) -> Response:
    viewer.principal.require("deals", "write")
    deal = _deal(viewer, deal_id)
    draft = Draft.read(form, deal_form.MOVE_LIMITS)
    result = _move(viewer, deal_id, draft)
    back = safe_next(draft.get("next") or "/deals")
    context = board_context(viewer, deal.pipeline)
    if isinstance(result, StoredDeal):
        stage = _stage_name(context["pipeline"], result.stage)
        message = f"Moved {result.title} to {stage}."
        if wants_fragment(request):
            context["notice"] = {"kind": "success", "text": message}
            return fragment("_board.html", context)
        response = RedirectResponse(back, 303)
        flash(request, response, message)
        return response
    error = draft.errors.get("form", "The deal was not moved.")
    context["move_errors"] = {deal_id: error}
    if wants_fragment(request):  # htmx swaps only 2xx answers: the error is on the board
        context["notice"] = {"kind": "error", "text": f"{deal.title}: {error}"}
        return fragment("_board.html", context)
    if back.startswith("/deals/"):
        return _deal_page(request, viewer, deal, error, result)
    context["title"] = f"Pipeline: {context['pipeline'].name}"
    return page(request, "deals.html", context, viewer=viewer, active="/deals", status=result)


def _deal(viewer: Viewer, deal_id: int) -> StoredDeal:
    if not 1 <= deal_id <= MAX_ID:
        raise NotFoundError(f"no deal {deal_id}")
    return viewer.book.deals.get(deal_id)


def _targets(pipeline: Pipeline, current: str) -> list[tuple[str, str]]:
    """The stages a deal may move to: any other while open, an open one once closed."""
    closed = pipeline.stage(current).kind is not StageKind.OPEN
    return [
        (s.key, s.name)
        for s in pipeline.stages
        if s.key != current and (not closed or s.kind is StageKind.OPEN)
    ]


def _deal_page(
    request: Request, viewer: Viewer, deal: StoredDeal, error: str = "", status: int = 200
) -> Response:
    assert deal.id is not None
    pipeline = viewer.book.deals.pipeline(deal.pipeline)
    history = viewer.book.deals.history(deal.id)
    quotes = []
    if viewer.can("sales", "read"):
        quotes = viewer.book.sales.list_quotes(DocumentQuery(limit=20, deal_id=deal.id))
    context = {
        "deal": deal,
        "party": viewer.book.parties.get(deal.party_id),
        "stage": pipeline.stage(deal.stage),
        "pipeline": pipeline,
        "history": [(h, _stage_name(pipeline, h.to_stage)) for h in history],
        "stages": _targets(pipeline, deal.stage),
        "can_move": viewer.can("deals", "write"),
        "can_quote": viewer.can("sales", "write")
        and pipeline.stage(deal.stage).kind is StageKind.OPEN,
        "quotes": quotes,
        "move_error": error,
        "title": deal.title,
    }
    return page(request, "deal.html", context, viewer=viewer, active="/deals", status=status)


@router.get("/deals/{deal_id:int}")
def deal_page(request: Request, deal_id: int, viewer: Signed) -> Response:
    """One deal: its value, stage, history and quotes."""
    return _deal_page(request, viewer, _deal(viewer, deal_id))


@router.post("/customers/{party_id:int}/deals")
async def add_deal(request: Request, party_id: int, viewer: Signed) -> Response:
    """Add a deal with this customer."""
    form = await request.form()
    return await run_in_threadpool(_add, request, party_id, viewer, form)


def _add(request: Request, party_id: int, viewer: Viewer, form: FormData) -> Response:
    viewer.principal.require("deals", "write")
    party = load(viewer, party_id)
    draft = deal_form.read(form)
    deal = deal_form.to_deal(draft, party_id)
    if deal is not None:
        try:
            stored = viewer.book.deals.add(deal)
        except PermissionDeniedError:
            raise
        except LedgerError as exc:
            forms.place(draft.errors, exc, deal_form.RULES, deal_form.LABELS)
        else:
            response = RedirectResponse(f"/customers/{party_id}#deals", 303)
            flash(request, response, f"Added the deal {stored.title}.")
            return response
    return customer_response(request, viewer, party, status=422, deal=draft)
