"""Data fusion in the browser: upload a file, check the suggested mapping against a dry
run, run it, read the report, and work the review queue side by side.

::

    GET  /imports/fusion                 upload form, recent runs, open review pairs
    POST /imports/fusion/upload          file=@crm.csv  -> profile and suggested mapping
    POST /imports/fusion/run             name, kind, content, mapping, action=preview|run
    GET  /imports/fusion/runs/3          a run's report
    GET  /imports/fusion/review          pairs to decide, both records side by side
    POST /imports/fusion/review/12       decision=accept|reject, version=1
    GET  /imports/fusion/merges          merges of two parties, a form to merge two
    POST /imports/fusion/merges          survivor=12, absorbed=31, version=4
    POST /imports/fusion/merges/7/undo   the merge's records go back
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from crmledger.core.errors import InvalidFieldError, LedgerError
from crmledger.formats.fusion_report import run_html
from crmledger.fusion.config import Upload
from crmledger.fusion.sources import SUFFIX_KINDS, TEXT_KINDS
from crmledger.services.fusion import RunOutcome
from crmledger.services.fusion_review import ReviewItem
from crmledger.web.render import flash, page
from crmledger.web.session import Signed, Viewer

router = APIRouter(include_in_schema=False)
ACTIVE = "/imports/fusion"
MAX_UPLOAD = 5 * 1024 * 1024
#: The record fields the review page shows, in this order.
SHOWN = (
    "kind",
    "display_name",
    "given_name",
    "family_name",
    "email",
    "phone",
    "mobile",
    "street",
    "postcode",
    "city",
    "country",
    "tax_id",
    "birth_date",
    "website",
)


def _home(request: Request, viewer: Viewer, error: str = "", status: int = 200) -> Response:
    viewer.principal.require("parties", "read")
    runs = viewer.book.fusion.runs(limit=20)
    context = {
        "title": "Data fusion",
        "runs": runs,
        "open_pairs": viewer.book.fusion.review.count_open(),
        "can_run": viewer.can("parties", "write"),
        "error": error,
    }
    return page(request, "fusion_home.html", context, viewer=viewer, active=ACTIVE, status=status)


@router.get("/imports/fusion")
def fusion_home(request: Request, viewer: Signed) -> Response:
    """Upload a file, see recent runs and the review queue's length."""
    return _home(request, viewer)


def _text(upload: UploadFile) -> tuple[str, str, str]:
    """``(source name, kind, text)`` of an uploaded file, or :class:`InvalidFieldError`."""
    name = (upload.filename or "upload").rsplit("/", 1)[-1]
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    kind = SUFFIX_KINDS.get(suffix)
    if kind not in TEXT_KINDS:
        raise InvalidFieldError("file", "upload a .csv, .json or .jsonl file")
    data = upload.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InvalidFieldError("file", "the file is larger than 5 MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidFieldError("file", "the file is not UTF-8 text") from None
    stem = "".join(c if c.isalnum() else "-" for c in name.rsplit(".", 1)[0].lower()).strip("-")
    return (stem if stem[:1].isalpha() else f"upload-{stem}")[:50] or "upload", kind, text


def _mapping_page(
    request: Request,
    viewer: Viewer,
    values: dict[str, str],
    extra: dict[str, Any],
    status: int = 200,
) -> Response:
    region = viewer.book.parties.region()
    profile = viewer.book.fusion.profile_text(
        values["name"], values["kind"], values["content"], region
    )
    context = {"title": f"Map {values['name']}", "form": values, "profile": profile.as_dict()}
    context |= extra
    return page(
        request, "fusion_mapping.html", context, viewer=viewer, active=ACTIVE, status=status
    )


def _upload(request: Request, viewer: Viewer, form: FormData) -> Response:
    viewer.principal.require("parties", "write")
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _home(request, viewer, "Choose a file to upload.", 422)
    try:
        name, kind, text = _text(upload)
        draft = viewer.book.fusion.suggest_text(name, kind, text)
    except InvalidFieldError as exc:
        return _home(request, viewer, str(exc), 422)
    values = {"name": name, "kind": kind, "content": text, "mapping": draft.yaml()}
    return _mapping_page(request, viewer, values, {"outcome": None, "problems": [], "errors": []})


@router.post("/imports/fusion/upload")
async def fusion_upload(request: Request, viewer: Signed) -> Response:
    """Profile the uploaded file and draft its mapping."""
    form = await request.form()
    return await run_in_threadpool(_upload, request, viewer, form)


def _outcome(outcome: RunOutcome) -> dict[str, Any]:
    return {
        "counts": outcome.counts(),
        "held": outcome.held,
        "run_id": outcome.run_id,
        "dry_run": outcome.dry_run,
    }


def _run(request: Request, viewer: Viewer, form: FormData) -> Response:
    viewer.principal.require("parties", "write")
    values = {k: str(form.get(k) or "") for k in ("name", "kind", "content", "mapping", "action")}
    dry = values["action"] != "run"
    upload = Upload(values["name"], values["kind"], values["content"], values["mapping"])
    try:
        outcome = viewer.book.fusion.run_upload(values["name"], [upload], dry_run=dry)
    except InvalidFieldError as exc:
        lines = str(exc).splitlines()
        return _mapping_page(
            request, viewer, values, {"outcome": None, "problems": [], "errors": lines}, 422
        )
    if outcome.run_id is not None:
        response = RedirectResponse(f"/imports/fusion/runs/{outcome.run_id}", status_code=303)
        flash(
            request,
            response,
            f"Run {outcome.run_id}: {outcome.created} new, {outcome.updated} updated.",
        )
        return response
    problems = [str(p) for p in outcome.log.problems[:100]]
    extra = {"outcome": _outcome(outcome), "problems": problems, "errors": []}
    return _mapping_page(request, viewer, values, extra)


@router.post("/imports/fusion/run")
async def fusion_run(request: Request, viewer: Signed) -> Response:
    """Preview (a dry run) or run the upload with the mapping as edited."""
    form = await request.form()
    return await run_in_threadpool(_run, request, viewer, form)


@router.get("/imports/fusion/runs/{run_id:int}")
def fusion_report(request: Request, run_id: int, viewer: Signed) -> Response:
    """A recorded run's report."""
    report = viewer.book.fusion.report(run_id)
    context = {"title": f"Fusion run {run_id}", "report": report, "run_id": run_id}
    return page(request, "fusion_run.html", context, viewer=viewer, active=ACTIVE)


@router.get("/imports/fusion/runs/{run_id:int}/report.html")
def fusion_report_file(run_id: int, viewer: Signed) -> Response:
    """The same report as a self-contained page (to save or print)."""
    return HTMLResponse(run_html(viewer.book.fusion.report(run_id)))


def _side_by_side(item: ReviewItem) -> list[dict[str, Any]]:
    left = item.left_record.get("values", {})
    right = item.right_record.get("values", {})
    rows = []
    for name in SHOWN:
        a, b = left.get(name, ""), right.get(name, "")
        if a or b:
            rows.append({"field": name.replace("_", " "), "left": a, "right": b, "same": a == b})
    return rows


@router.get("/imports/fusion/review")
def fusion_review(request: Request, viewer: Signed) -> Response:
    """Open pairs, each with both records side by side and why the model hesitated."""
    viewer.principal.require("parties", "read")
    items = viewer.book.fusion.review.list(limit=25)
    pairs = [
        {"item": i, "rows": _side_by_side(i), "why": i.explanation.get("fields", [])} for i in items
    ]
    context = {
        "title": "Review queue",
        "pairs": pairs,
        "can_decide": viewer.can("parties", "write"),
    }
    return page(request, "fusion_review.html", context, viewer=viewer, active=ACTIVE)


def _decide(request: Request, viewer: Viewer, review_id: int, form: FormData) -> Response:
    decision = str(form.get("decision") or "")
    version = str(form.get("version") or "")
    response = RedirectResponse("/imports/fusion/review", status_code=303)
    if decision not in ("accept", "reject") or not version.isdigit():
        flash(request, response, "Choose accept or reject.", "error")
        return response
    try:
        item = viewer.book.fusion.review.decide(review_id, decision == "accept", int(version))
    except LedgerError as exc:
        flash(request, response, str(exc), "error")
        return response
    said = (
        "one customer (customers of the book are merged now, source records at the next run)"
        if item.status == "accepted"
        else "two customers. The next run applies it"
    )
    flash(request, response, f"Pair {item.id}: {said}.")
    return response


@router.post("/imports/fusion/review/{review_id:int}")
async def fusion_decide(request: Request, review_id: int, viewer: Signed) -> Response:
    """Accept or reject one pair."""
    form = await request.form()
    return await run_in_threadpool(_decide, request, viewer, review_id, form)


def _merges_page(request: Request, viewer: Viewer, survivor: int | None) -> Response:
    viewer.principal.require("parties", "read")
    found = viewer.book.party_merges.list(limit=50)
    ids = {i for m in found for i in (m.survivor_id, m.absorbed_id)} | {survivor or 0}
    names = {i: p.display_name for i, p in viewer.book.parties.many(ids).items()}
    chosen = viewer.book.parties.many([survivor]).get(survivor) if survivor else None
    context = {
        "title": "Merge customers",
        "merges": found,
        "names": names,
        "survivor": chosen,
        "can_merge": viewer.can("parties", "write"),
    }
    return page(request, "fusion_merges.html", context, viewer=viewer, active=ACTIVE)


@router.get("/imports/fusion/merges")
def fusion_merges(request: Request, viewer: Signed, survivor: int | None = None) -> Response:
    """Merges of two parties, newest first, and a form to merge two."""
    return _merges_page(request, viewer, survivor)


def _number(form: FormData, name: str) -> int | None:
    value = str(form.get(name) or "").strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


def _merge(request: Request, viewer: Viewer, form: FormData) -> Response:
    survivor, absorbed = _number(form, "survivor"), _number(form, "absorbed")
    response = RedirectResponse("/imports/fusion/merges", status_code=303)
    if survivor is None or absorbed is None:
        flash(request, response, "Give the ids of both customers.", "error")
        return response
    try:
        done = viewer.book.party_merges.merge(survivor, absorbed, _number(form, "version"))
    except LedgerError as exc:
        flash(request, response, str(exc), "error")
        return response
    moved = sum(done.moved.values())
    flash(request, response, f"Customer {absorbed} merged into {survivor}: {moved} records moved.")
    response.headers["location"] = f"/customers/{survivor}"
    return response


@router.post("/imports/fusion/merges")
async def fusion_merge(request: Request, viewer: Signed) -> Response:
    """Merge the absorbed customer into the survivor."""
    form = await request.form()
    return await run_in_threadpool(_merge, request, viewer, form)


def _undo(request: Request, viewer: Viewer, merge_id: int) -> Response:
    response = RedirectResponse("/imports/fusion/merges", status_code=303)
    try:
        done = viewer.book.party_merges.unmerge(merge_id)
    except LedgerError as exc:
        flash(request, response, str(exc), "error")
        return response
    flash(request, response, f"Merge {merge_id} undone: customer {done.absorbed_id} is back.")
    return response


@router.post("/imports/fusion/merges/{merge_id:int}/undo")
async def fusion_unmerge(request: Request, merge_id: int, viewer: Signed) -> Response:
    """Undo one merge."""
    await request.form()
    return await run_in_threadpool(_undo, request, viewer, merge_id)


def explanation_text(fields: list[dict[str, Any]]) -> str:
    """``"email: same address (+13.0), name: different (-5.0)"``."""
    return ", ".join(f"{f['field']}: {f['level']} ({f['weight']:+.1f})" for f in fields)


def as_json(value: object) -> str:
    """Pretty JSON for the report page."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)
