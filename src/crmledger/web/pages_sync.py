"""Sync and webhook pages: connectors and their runs, the conflicts people decide, webhook
subscriptions and their delivery logs.

::

    /sync                          connectors, recent runs, open conflicts
    POST /sync/{name}/run          pull now (dry=1: show the diff instead)
    /sync/runs/9                   a run's per-record log
    POST /sync/conflicts/4         keep=local|remote
    /sync/webhooks                 subscriptions, and a form to add one
    /sync/webhooks/3               its deliveries, each with a replay button
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from crmledger.core.access import PermissionDeniedError
from crmledger.core.errors import LedgerError
from crmledger.web import forms
from crmledger.web.render import flash, page
from crmledger.web.session import Signed, Viewer

router = APIRouter(include_in_schema=False)
HOOK_LIMITS = {"url": 2000, "event_types": 2000, "description": 200}
HOOK_LABELS = {"url": "URL", "event_types": "Event types", "description": "Description"}
HOOK_RULES = {r"^(url|description)$": r"\1", r"^event_types.*": "event_types"}


def _sync_context(viewer: Viewer) -> dict[str, Any]:
    sync = viewer.book.sync
    connectors = sync.list()
    names = {c.id: c.name for c in connectors}
    return {
        "connectors": connectors,
        "runs": [(r, names.get(r.connector_id, "?")) for r in sync.runs(None, None, 20)],
        "conflicts": sync.conflicts(None, "open", None, 100),
        "can_write": viewer.can("integrations", "write"),
        "title": "Sync",
    }


@router.get("/sync")
def sync_page(request: Request, viewer: Signed) -> Response:
    """Connectors, the latest runs and the conflicts waiting for a decision."""
    viewer.principal.require("integrations", "read")
    return page(request, "sync.html", _sync_context(viewer), viewer=viewer, active="/sync")


@router.post("/sync/{name}/run")
async def run_connector(request: Request, name: str, viewer: Signed) -> Response:
    """Pull now; with ``dry=1`` show what a run would do and write nothing."""
    form = await request.form()
    return await run_in_threadpool(_run, request, name, viewer, form)


def _run(request: Request, name: str, viewer: Viewer, form: FormData) -> Response:
    viewer.principal.require("integrations", "write")
    dry = forms.value(form, "dry", 5) == "1"
    try:
        report = viewer.book.sync.run(name, dry_run=dry)
    except PermissionDeniedError:
        raise
    except LedgerError as exc:
        response = RedirectResponse("/sync", 303)
        flash(request, response, f"{name}: {exc}", "error")
        return response
    if dry:
        context = {
            "report": report,
            "log": report.results,
            "dry": True,
            "title": f"Dry run of {name}",
        }
        return page(request, "sync_run.html", context, viewer=viewer, active="/sync")
    response = RedirectResponse(f"/sync/runs/{report.run_id}", 303)
    counts = ", ".join(f"{v} {k}" for k, v in report.counts.items() if v) or "nothing to do"
    flash(request, response, f"Run {report.run_id} of {name}: {counts}.")
    return response


@router.get("/sync/runs/{run_id:int}")
def run_page(request: Request, run_id: int, viewer: Signed) -> Response:
    """One run and the outcome of each record."""
    viewer.principal.require("integrations", "read")
    log = viewer.book.sync.log(run_id, None, 5000)
    context = {
        "run_id": run_id,
        "log": log,
        "dry": False,
        "report": None,
        "title": f"Sync run {run_id}",
    }
    return page(request, "sync_run.html", context, viewer=viewer, active="/sync")


@router.post("/sync/conflicts/{conflict_id:int}")
async def resolve_conflict(request: Request, conflict_id: int, viewer: Signed) -> Response:
    """Keep crmledger's value or take the outside one."""
    form = await request.form()
    return await run_in_threadpool(_resolve, request, conflict_id, viewer, form)


def _resolve(request: Request, conflict_id: int, viewer: Viewer, form: FormData) -> Response:
    viewer.principal.require("integrations", "write")
    keep = forms.value(form, "keep", 10)
    response = RedirectResponse("/sync#conflicts", 303)
    try:
        found = viewer.book.sync.resolve(conflict_id, keep)
    except PermissionDeniedError:
        raise
    except LedgerError as exc:
        flash(request, response, str(exc), "error")
        return response
    side = "crmledger's value kept" if keep == "local" else "the outside value taken"
    flash(request, response, f"{found.field} of {found.external_id}: {side}.")
    return response


# -- webhooks ---------------------------------------------------------------------------------


def webhooks_page(
    request: Request,
    viewer: Viewer,
    draft: forms.Draft | None = None,
    secret: str | None = None,
    status: int = 200,
) -> Response:
    """The subscriptions and the form to add one (with a new secret shown once)."""
    viewer.principal.require("integrations", "read")
    context = {
        "subscriptions": viewer.book.webhooks.list(None, 500),
        "form": draft or forms.Draft({"url": "", "event_types": "", "description": ""}),
        "secret": secret,
        "can_write": viewer.can("integrations", "write"),
        "title": "Webhooks",
    }
    return page(
        request, "sync_webhooks.html", context, viewer=viewer, active="/sync", status=status
    )


@router.get("/sync/webhooks")
def webhooks(request: Request, viewer: Signed) -> Response:
    """Webhook subscriptions."""
    return webhooks_page(request, viewer)


@router.post("/sync/webhooks")
async def add_webhook(request: Request, viewer: Signed) -> Response:
    """Subscribe a URL to event types."""
    form = await request.form()
    return await run_in_threadpool(_add_webhook, request, viewer, form)


def _add_webhook(request: Request, viewer: Viewer, form: FormData) -> Response:
    viewer.principal.require("integrations", "write")
    draft = forms.Draft.read(form, HOOK_LIMITS)
    types = draft.get("event_types").replace(",", " ").split()
    try:
        _, secret = viewer.book.webhooks.create(draft.get("url"), types, draft.get("description"))
    except PermissionDeniedError:
        raise
    except LedgerError as exc:
        forms.place(draft.errors, exc, HOOK_RULES, HOOK_LABELS)
        return webhooks_page(request, viewer, draft, status=422)
    return webhooks_page(request, viewer, secret=secret, status=201)


@router.get("/sync/webhooks/{subscription_id:int}")
def webhook_page(request: Request, subscription_id: int, viewer: Signed) -> Response:
    """A subscription's delivery log, newest first."""
    viewer.principal.require("integrations", "read")
    context = {
        "sub": viewer.book.webhooks.get(subscription_id),
        "deliveries": viewer.book.webhooks.deliveries(subscription_id, None, 200),
        "can_write": viewer.can("integrations", "write"),
        "title": f"Webhook {subscription_id}",
    }
    return page(request, "sync_webhook.html", context, viewer=viewer, active="/sync")


@router.post("/sync/webhook-deliveries/{delivery_id:int}/replay")
async def replay(request: Request, delivery_id: int, viewer: Signed) -> Response:
    """Send a delivery again."""
    await request.form()
    return await run_in_threadpool(_replay, request, delivery_id, viewer)


def _replay(request: Request, delivery_id: int, viewer: Viewer) -> Response:
    viewer.principal.require("integrations", "write")
    delivery, _ = viewer.book.webhooks.delivery(delivery_id)
    response = RedirectResponse(f"/sync/webhooks/{delivery.subscription_id}", 303)
    try:
        viewer.book.webhooks.replay(delivery_id)
    except PermissionDeniedError:
        raise
    except LedgerError as exc:
        flash(request, response, str(exc), "error")
        return response
    flash(request, response, f"Delivery {delivery_id} ({delivery.msg_id}) will be sent again.")
    return response
