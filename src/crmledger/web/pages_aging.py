"""The aging page: receivables or payables by days overdue on any day, per party, with the
open documents behind a party's row or a bucket, a chart of the buckets (each bar opens its
documents) and the report as CSV, XLSX or PDF.

A plain GET form, so an aging is a URL that can be bookmarked::

    /reports/aging?kind=receivable&as_of=2026-06-30&buckets=30,60,90
    /reports/aging?kind=receivable&as_of=2026-06-30&party=7      # its open documents
    /reports/aging?kind=receivable&as_of=2026-06-30&bucket=2     # every party's 31-60 days
    /reports/aging/export?kind=payable&format=xlsx
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from crmledger.core.aging import KINDS, AgedItem, AgingReport
from crmledger.core.aging_table import aging_detail_table, aging_table
from crmledger.core.errors import LedgerError
from crmledger.formats.charts import Chart, Point, Series, svg
from crmledger.formats.report_export import MEDIA_TYPES, export
from crmledger.services.errors import NotFoundError
from crmledger.web.crm_view import money
from crmledger.web.params import parse_date, sentence, text
from crmledger.web.render import page
from crmledger.web.session import Signed, Viewer

router = APIRouter(include_in_schema=False)
TITLES = {"receivable": "Receivables aging", "payable": "Payables aging"}


@dataclass
class AgingForm:
    """The form as typed, its errors, and what it asks for."""

    shown: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    as_of: date | None = None
    party: int | None = None
    bucket: int | None = None

    @property
    def kind(self) -> str:
        """``receivable`` or ``payable``."""
        return self.shown["kind"]

    def query(self, **changes: str) -> str:
        """The form's query string, with ``changes``."""
        values = {k: v for k, v in (self.shown | changes).items() if v}
        return urlencode(values)


def read_form(query: dict[str, str]) -> AgingForm:
    """The aging form from a query string, with a message per bad field."""
    shown = {name: text(query, name) for name in ("kind", "as_of", "buckets", "party", "bucket")}
    shown["kind"] = shown["kind"] or "receivable"
    shown["buckets"] = shown["buckets"] or "30,60,90"
    form = AgingForm(shown)
    if form.kind not in KINDS:
        form.errors["kind"] = "Choose receivables or payables."
    form.as_of = parse_date(shown["as_of"], "as_of", form.errors)
    if shown["party"]:
        if shown["party"].isdigit() and 0 < int(shown["party"]) < 2**31:
            form.party = int(shown["party"])
        else:
            form.errors["party"] = "Not a party's number."
    if shown["bucket"]:
        if shown["bucket"].isdigit() and int(shown["bucket"]) < 100:
            form.bucket = int(shown["bucket"])
        else:
            form.errors["bucket"] = "Not a bucket's number (0 is current)."
    return form


def report_of(viewer: Viewer, form: AgingForm) -> AgingReport | None:
    """The report the form asks for; ``None`` (and the error placed) when it cannot."""
    if form.errors:
        return None
    try:
        found = viewer.book.aging.report(form.kind, form.as_of, form.shown["buckets"], form.party)
    except NotFoundError as error:
        form.errors["party"] = sentence(error)
        return None
    except LedgerError as error:
        form.errors[getattr(error, "field", "buckets")] = sentence(error)
        return None
    if form.bucket is not None and form.bucket >= len(found.buckets):
        form.errors["bucket"] = f"These bounds make buckets 0 to {len(found.buckets) - 1}."
        return None
    return found


def _href(item: AgedItem) -> str | None:
    if item.source != "document":
        return None
    return f"/bills/{item.id}" if item.kind == "bill" else f"/invoices/{item.id}"


def _documents(report: AgingReport | None, bucket: int | None) -> list[dict[str, Any]]:
    """The open documents shown: a party's (the report holds only that party), or every
    party's in ``bucket``, oldest due first."""
    if report is None:
        return []
    found = [(p, i) for p in report.parties for i in p.items if bucket in (None, i.bucket)]
    if bucket is not None:
        found.sort(key=lambda pi: (pi[1].due_on or pi[1].day, pi[1].number))
    return [{"item": i, "href": _href(i), "party": p} for p, i in found]


def aging_chart(report: AgingReport, href: Callable[[int], str]) -> str:
    """The report's totals per bucket as bars, each opening ``href(bucket)``."""
    points = tuple(
        Point(amount, money(amount, report.currency), href(b.index),
              f"{b.label}: {money(amount, report.currency)}")
        for b, amount in zip(report.buckets, report.totals, strict=True)
    )  # fmt: skip
    labels = tuple(b.label for b in report.buckets)
    title = f"{TITLES[report.kind].split()[0]} by days overdue"
    return svg(Chart("hbar", title, labels, (Series("Open", points),)), inline_style=False)


def _page(request: Request, viewer: Viewer, form: AgingForm) -> Response:
    report = report_of(viewer, form)
    if report is not None:
        form.shown["as_of"] = report.as_of.isoformat()
    base = f"/reports/aging/export?{form.query()}"
    parties = report.parties if report else ()
    context: dict[str, Any] = {
        "title": TITLES.get(form.kind, "Aging"),
        "shown": form.shown,
        "errors": form.errors,
        "report": report,
        "party": form.party,
        "kinds": [("receivable", "Receivables"), ("payable", "Payables")],
        "bucket": form.bucket,
        "drill": {
            p.party_id: f"/reports/aging?{form.query(party=str(p.party_id), bucket='')}"
            for p in parties
        },
        "bucket_href": [
            f"/reports/aging?{form.query(bucket=str(b.index), party='')}"
            for b in (report.buckets if report else ())
        ],
        "chart": (
            aging_chart(report, lambda i: f"/reports/aging?{form.query(bucket=str(i), party='')}")
            if report is not None and form.party is None and form.bucket is None
            else None
        ),
        "back": f"/reports/aging?{form.query(party='', bucket='')}",
        "documents": _documents(report, form.bucket),
        "downloads": [(fmt.upper(), f"{base}&format={fmt}") for fmt in ("csv", "xlsx", "pdf")],
    }
    status = 422 if form.errors else 200
    return page(request, "aging.html", context, viewer=viewer, active="/reports", status=status)


@router.get("/reports/aging")
def aging(request: Request, viewer: Signed) -> Response:
    """Receivables or payables per party and bucket, or one party's open documents."""
    viewer.principal.require("reports", "read")
    return _page(request, viewer, read_form(dict(request.query_params)))


@router.get("/reports/aging/export")
def aging_export(request: Request, viewer: Signed) -> Response:
    """The aging as CSV, XLSX or PDF (a party's documents when one is chosen)."""
    viewer.principal.require("reports", "read")
    fmt = request.query_params.get("format", "csv")
    form = read_form(dict(request.query_params))
    if fmt not in MEDIA_TYPES:
        form.errors["format"] = "Download as CSV, XLSX or PDF."
    report = report_of(viewer, form)
    if report is None:
        return _page(request, viewer, form)
    table = aging_detail_table(report) if form.party is not None else aging_table(report)
    media, extension = MEDIA_TYPES[fmt]
    name = f"{report.kind}-aging-{report.as_of.isoformat()}.{extension}"
    return Response(
        export(table, fmt),
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
