"""The insights page: profitability by customer, RFM segments and cohort retention.

A plain GET form chooses the period and the order, so a view is a URL to share::

    /insights?from=2026-01-01&to=2026-06-30&sort=net

Customers whose net profitability is negative (they cost more to serve than their margin
brings) are marked; every name opens the customer's page, as does every bar of the chart of
the customers shown. A second chart shows revenue by RFM segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request, Response

from crmledger.core.errors import InvalidFieldError
from crmledger.core.intelligence import SegmentSummary
from crmledger.services.intelligence_reports import SORTS
from crmledger.web.dashboard_view import profit_chart, segment_chart
from crmledger.web.params import parse_date, text, with_query
from crmledger.web.render import page
from crmledger.web.session import Signed, Viewer

router = APIRouter(include_in_schema=False)
PAGE = 100
#: The sortable columns, their headings, and whether they are amounts.
COLUMNS = (
    ("key", "Customer"),
    ("revenue", "Revenue"),
    ("cost_of_goods", "Cost of goods"),
    ("gross_margin", "Gross margin"),
    ("cost_to_serve", "Cost to serve"),
    ("net", "Net"),
)


def _sort(query: dict[str, str]) -> str:
    chosen = text(query, "sort") or "-revenue"
    return chosen if chosen.removeprefix("-") in SORTS else "-revenue"


def _offset(query: dict[str, str]) -> int:
    value = text(query, "offset")
    return int(value) if value.isdigit() and len(value) < 10 else 0


def _links(filters: dict[str, str], sort: str) -> list[dict[str, Any]]:
    """Each amount column's heading, its order now, and the URL that sorts by it (largest
    first, or the other way round when it already is)."""
    links = []
    for key, label in COLUMNS:
        order, target = "none", f"-{key}"
        if sort == f"-{key}":
            order, target = "descending", key
        elif sort == key:
            order = "ascending"
        href = with_query("/insights", filters | {"sort": target}) if key != "key" else None
        links.append(
            {"key": key, "label": label, "href": href, "order": order, "num": key != "key"}
        )
    return links


def _profitability(
    viewer: Viewer, filters: dict[str, str], errors: dict[str, str], sort: str, offset: int
) -> dict[str, Any] | None:
    start = parse_date(filters["from"], "from", errors)
    end = parse_date(filters["to"], "to", errors)
    if errors:
        return None
    try:
        report = viewer.book.intelligence.profitability(
            "customer", start, end, sort=sort, offset=offset, limit=PAGE
        )
    except InvalidFieldError as error:
        errors[error.field] = str(error)
        return None
    more = offset + PAGE < report.count
    return {
        "report": report,
        "losses": sum(1 for line in report.lines if line.net < 0),
        "next_url": with_query("/insights", filters | {"sort": sort, "offset": offset + PAGE})
        if more
        else None,
        "prev_url": with_query(
            "/insights", filters | {"sort": sort, "offset": max(0, offset - PAGE)}
        )
        if offset
        else None,
    }


def _charts(profit: dict[str, Any] | None, segments: Sequence[SegmentSummary]) -> dict[str, Any]:
    """The page's charts: the net of the customers shown, revenue by segment."""
    if profit is None:
        return {"profit": None, "segments": segment_chart(segments, "")}
    report = profit["report"]
    currency = report.base_currency
    return {
        "profit": profit_chart(report.lines, currency),
        "segments": segment_chart(segments, currency),
    }


@router.get("/insights")
def insights(request: Request, viewer: Signed) -> Response:
    """Profitability by customer, RFM segments and cohorts."""
    viewer.principal.require("reports", "read")
    query = dict(request.query_params)
    filters = {name: text(query, name) for name in ("from", "to")}
    errors: dict[str, str] = {}
    sort = _sort(query)
    profit = _profitability(viewer, filters, errors, sort, _offset(query))
    rfm = viewer.book.intelligence.rfm(limit=0)
    cohorts = viewer.book.intelligence.cohorts()
    width = max((len(c.active) for c in cohorts.cohorts), default=0)
    context: dict[str, Any] = {
        "title": "Insights",
        "filters": filters,
        "errors": errors,
        "sort": sort,
        "columns": _links(filters, sort),
        "profit": profit,
        "segments": list(rfm.segments),
        "scored": rfm.count,
        "cohorts": cohorts,
        "offsets": list(range(width)),
        "charts": _charts(profit, rfm.segments),
    }
    status = 422 if errors else 200
    return page(request, "insights.html", context, viewer=viewer, active="/insights", status=status)
