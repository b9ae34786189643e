"""Audit pages (the verifier's verdict, the audit log) and the sections still to come.

The log is browsed newest first; ``before`` is the sequence number below which a page
starts, so paging stays stable while new records arrive::

    /audit/log?action=journal.post&before=120
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC
from typing import Any

from fastapi import APIRouter, Request, Response

from crmledger.core.audit_log import AuditRecord
from crmledger.web.params import text, with_query
from crmledger.web.render import fragment, page, wants_fragment
from crmledger.web.session import Signed

router = APIRouter(include_in_schema=False)
LOG_PAGE = 50
LOG_FILTERS = (
    ("actor", "Actor", "e.g. user:3"),
    ("action", "Action", "e.g. journal.post"),
    ("resource", "Resource", "e.g. journal-entry"),
    ("resource_id", "Resource id", None),
    ("request_id", "Request id", None),
)

#: Sections that exist in the navigation but not yet in the product.
PLACEHOLDERS = {
    "/imports": ("Imports", "Importing CSV, XLSX, JSON, bank and plain-text accounting files."),
    "/settings": ("Settings", "Users, roles, API tokens and the book's settings."),
}


@router.get("/audit")
def audit(request: Request, viewer: Signed) -> Response:
    """Whether the hash chains and running balances still hold."""
    report = viewer.book.audit.verify()
    context = {"report": report, "title": "Audit"}
    return page(request, "audit.html", context, viewer=viewer, active="/audit")


def _record(record: AuditRecord) -> dict[str, Any]:
    return {
        "seq": record.seq,
        "at": record.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "actor": record.actor,
        "role": record.role,
        "via": record.via,
        "request_id": record.request_id,
        "action": record.action,
        "resource": record.resource,
        "resource_id": record.resource_id,
        "changes": _changes(record.changes),
    }


def _changes(changes: Mapping[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """``{"after": {"role": "admin"}}`` as ``[("after", [("role", "admin")])]``."""
    shown = []
    for side, values in changes.items():
        if isinstance(values, Mapping):
            pairs = [(str(k), _value(v)) for k, v in sorted(values.items())]
        else:
            pairs = [("", _value(values))]
        shown.append((str(side), pairs))
    return shown


def _value(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


@router.get("/audit/log")
def audit_log(request: Request, viewer: Signed) -> Response:
    """Audit records, newest first, filtered, paged by sequence number."""
    query = dict(request.query_params)
    shown = {name: text(query, name) for name, _, _ in LOG_FILTERS}
    before_text = text(query, "before")
    before = int(before_text) if before_text.isdigit() and len(before_text) < 19 else None
    records = viewer.book.audit.log(before, LOG_PAGE, {k: v for k, v in shown.items() if v})
    last = records[-1].seq if len(records) == LOG_PAGE else None
    context = {
        "records": [_record(r) for r in records],
        "filters": shown,
        "fields": LOG_FILTERS,
        "filtered": any(shown.values()),
        "next_url": with_query("/audit/log", {**shown, "before": last}) if last else None,
        "first_url": with_query("/audit/log", shown) if before is not None else None,
        "title": "Audit log",
    }
    if wants_fragment(request):
        return fragment("_audit_table.html", context)
    return page(request, "audit_log.html", context, viewer=viewer, active="/audit")


def _placeholder(path: str, title: str, description: str) -> None:
    def show(request: Request, viewer: Signed) -> Response:
        context = {"title": title, "description": description}
        return page(request, "placeholder.html", context, viewer=viewer, active=path)

    show.__name__ = f"placeholder_{path.strip('/')}"
    router.add_api_route(path, show, methods=["GET"])


for _path, (_title, _description) in PLACEHOLDERS.items():
    _placeholder(_path, _title, _description)
