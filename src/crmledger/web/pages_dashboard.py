"""The home page: the dashboard's key figures and charts, and the book at a glance.

A plain GET form chooses the period and what it is compared with, so a view is a URL::

    /?from=2026-04-01&to=2026-06-30&compare=previous

Roles that read reports see the figures and the charts; every role sees the book panel
(base currency, lock date, the latest entries when it reads the journal). The charts are
inline SVG without style of their own: the page links ``/charts.css``, the rules every
chart shares (the content security policy refuses inline style).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from crmledger.core.errors import LedgerError
from crmledger.formats.charts import stylesheet
from crmledger.services.dashboard import COMPARISONS
from crmledger.web.dashboard_view import dashboard_charts, kpi_cards
from crmledger.web.pages_ledger import book_panel
from crmledger.web.params import parse_date, sentence, text
from crmledger.web.render import page
from crmledger.web.session import Signed, Viewer

router = APIRouter(include_in_schema=False)
#: The comparisons the form offers, with their words.
COMPARE_OPTIONS = (("last-year", "Same days last year"), ("previous", "Previous period"))
#: The form's fields; a service error naming another field is shown at ``from``.
FIELDS = ("from", "to", "compare")


@router.get("/charts.css")
def chart_styles() -> Response:
    """The rules every chart shares (public: a stylesheet shows no data)."""
    return Response(
        stylesheet(),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600"},
    )


def _figures(viewer: Viewer, query: dict[str, str]) -> dict[str, Any]:
    shown = {name: text(query, name) for name in FIELDS}
    errors: dict[str, str] = {}
    start = parse_date(shown["from"], "from", errors)
    end = parse_date(shown["to"], "to", errors)
    compare = shown["compare"] or COMPARISONS[0]
    if compare not in COMPARISONS:
        errors["compare"] = "Choose a comparison from the list."
    board = None
    if not errors:
        try:
            board = viewer.book.dashboard.dashboard(start, end, compare)
        except LedgerError as error:
            field = getattr(error, "field", "")
            errors[field if field in FIELDS else "from"] = sentence(error)
    if board is not None:
        shown |= {"from": board.period.start.isoformat(), "to": board.period.end.isoformat()}
    return {
        "filters": shown | {"compare": compare},
        "compare_options": COMPARE_OPTIONS,
        "errors": errors,
        "board": board,
        "cards": kpi_cards(board) if board else [],
        "charts": dashboard_charts(board) if board else [],
    }


@router.get("/")
def dashboard(request: Request, viewer: Signed) -> Response:
    """Key figures and charts (for report readers) and the book at a glance."""
    context: dict[str, Any] = book_panel(viewer) | {"title": "Dashboard", "board": None}
    if viewer.can("reports", "read"):
        context |= _figures(viewer, dict(request.query_params))
    status = 422 if context.get("errors") else 200
    return page(request, "dashboard.html", context, viewer=viewer, active="/", status=status)
