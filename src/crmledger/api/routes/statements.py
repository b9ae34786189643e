"""``/reports/income-statement``, ``/balance-sheet``, ``/cash-flow``, ``/drilldown`` and
``/periods/{year}/close|reopen``: the statements an accountant signs, the entries behind
each figure, and the year-end close.

A statement is JSON unless ``format`` (or the ``Accept`` header) asks for a download::

    GET  /api/v1/reports/income-statement?from=2026-01-01&to=2026-12-31&compare=previous
    GET  /api/v1/reports/balance-sheet?as_of=2026-12-31&compare=last-year&format=xlsx
    GET  /api/v1/reports/drilldown?accounts=Expenses:Rent&from=2026-01-01&to=2026-12-31
    POST /api/v1/periods/2026/close
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import StringConstraints

from crmledger.api.deps import Services, permitted
from crmledger.api.problems import requires, responses
from crmledger.api.routes.common import Cursor, IdempotencyKey
from crmledger.api.schemas import AccountName, Day, decode_cursor, encode_cursor
from crmledger.api.statement_schemas import (
    DrillPagePublic,
    DrillPostingPublic,
    StatementPublic,
    YearClosePublic,
)
from crmledger.core.report_table import ReportTable, statement_table
from crmledger.core.statement_periods import Period
from crmledger.core.statements import CLOSING_JOURNAL, Statement
from crmledger.formats.report_export import MEDIA_TYPES, Charts, export
from crmledger.formats.statement_charts import statement_charts
from crmledger.services.errors import InvalidInputError

router = APIRouter(tags=["reports"])

_RANGE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}\.\.[0-9]{4}-[0-9]{2}-[0-9]{2}"
_COMPARISON = rf"(previous|last-year|{_RANGE})"
Compare = Annotated[
    str | None,
    Query(
        max_length=200,
        pattern=rf"^{_COMPARISON}(,{_COMPARISON}){{0,3}}$",
        description="Comparison columns, comma-separated: `previous`, `last-year`, "
        "`YYYY-MM-DD..YYYY-MM-DD` (at most four).",
    ),
]
Depth = Annotated[
    int | None, Query(ge=1, le=10, description="Group accounts by their first N segments.")
]
ExportFormat = Literal["json", "csv", "xlsx", "pdf"]
Format = Annotated[
    ExportFormat | None,
    Query(
        alias="format",
        description="`csv`, `xlsx` or `pdf` download the statement (as does an `Accept` "
        "header naming their media type); `json` (the default) describes it.",
    ),
]
JournalCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,16}$")]
Year = Annotated[int, Path(ge=1900, le=2999, description="The fiscal (calendar) year.")]

DOWNLOADS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report, as JSON or as the download asked for.",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            MEDIA_TYPES["xlsx"][0]: {"schema": {"type": "string", "format": "binary"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def chosen_format(fmt: str | None, request: Request) -> str:
    """``format`` when given, else the export the ``Accept`` header names, else json."""
    if fmt is not None:
        return fmt
    accept = request.headers.get("accept", "")
    for name, (media, _) in MEDIA_TYPES.items():
        if media.split(";")[0] in accept:
            return name
    return "json"


def download(table: ReportTable, fmt: str, name: str, charts: Charts = ()) -> Response:
    """``table`` exported as ``fmt`` (a PDF with ``charts``), as an attachment called
    ``name``."""
    media, extension = MEDIA_TYPES[fmt]
    return Response(
        export(table, fmt, charts),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}.{extension}"'},
    )


def _answer(statement: Statement, fmt: str | None, request: Request) -> Any:
    chosen = chosen_format(fmt, request)
    if chosen == "json":
        return StatementPublic.of(statement)
    name = f"{statement.kind.replace('_', '-')}-{statement.columns[0].end.isoformat()}"
    charts = statement_charts(statement) if chosen == "pdf" else ()
    return download(statement_table(statement), chosen, name, charts)


_READ: dict[str, Any] = {
    "openapi_extra": requires("reports:read"),
    "dependencies": [permitted("reports:read")],
    "response_model": StatementPublic,
    "responses": responses(401, 403, 404, 422) | DOWNLOADS,
}


@router.get("/reports/income-statement", operation_id="incomeStatement", **_READ)
def income_statement(
    services: Services,
    request: Request,
    date_from: Annotated[Day, Query(alias="from", description="First day, included.")],
    date_to: Annotated[Day, Query(alias="to", description="Last day, included.")],
    compare: Compare = None,
    layout: Annotated[
        str, Query(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="A stored layout's name.")
    ] = "default",
    depth: Depth = None,
    fmt: Format = None,
) -> Any:
    """Revenue, cost of sales, gross profit, operating expenses, operating result, other
    income and expenses and net result of a period and its comparisons, in the base
    currency; closing entries are left out. An unknown layout is a ``404``."""
    period = Period(date_from, date_to)
    found = services.statements.income_statement(period, compare, layout, depth)
    return _answer(found, fmt, request)


@router.get("/reports/balance-sheet", operation_id="balanceSheet", **_READ)
def balance_sheet(
    services: Services,
    request: Request,
    as_of: Annotated[Day, Query(description="The day of the balance sheet.")],
    date_from: Annotated[
        Day | None,
        Query(alias="from", description="Start of the period the comparisons shift (1 Jan)."),
    ] = None,
    compare: Compare = None,
    depth: Depth = None,
    fmt: Format = None,
) -> Any:
    """Assets, liabilities and equity (with the results of earlier years and of the year
    to date) at a day and at the ends of the comparison periods; assets equal liabilities
    plus equity in every column."""
    found = services.statements.balance_sheet(as_of, compare, date_from, depth)
    return _answer(found, fmt, request)


@router.get("/reports/cash-flow", operation_id="cashFlow", **_READ)
def cash_flow(
    services: Services,
    request: Request,
    date_from: Annotated[Day, Query(alias="from", description="First day, included.")],
    date_to: Annotated[Day, Query(alias="to", description="Last day, included.")],
    compare: Compare = None,
    depth: Depth = None,
    fmt: Format = None,
) -> Any:
    """Cash flows from operating (net result, non-cash items, working capital),
    investing and financing activities by the indirect method; they add up to the change
    of the cash and bank accounts."""
    period = Period(date_from, date_to)
    return _answer(services.statements.cash_flow(period, compare, depth), fmt, request)


def _after(cursor: str | None) -> tuple[date, int] | None:
    if cursor is None:
        return None
    key = decode_cursor(cursor)
    if key is not None and len(key) == 2:
        day, entry_id = key
        if isinstance(day, str) and isinstance(entry_id, int) and not isinstance(entry_id, bool):
            try:
                return date.fromisoformat(day), entry_id
            except ValueError:
                pass
    raise InvalidInputError("cursor", "not a cursor of this list")


@dataclass(frozen=True, slots=True)
class Journals:
    """The journals a drill-down reads: only ``only`` when given, never ``exclude``."""

    only: tuple[str, ...]
    exclude: tuple[str, ...]


_ALL_BUT_CLOSING = Journals((), (CLOSING_JOURNAL,))


def journal_filters(
    journal: Annotated[
        list[JournalCode] | None, Query(max_length=10, description="Only these journals.")
    ] = None,
    exclude_journal: Annotated[
        list[JournalCode] | None, Query(max_length=10, description="Never these journals.")
    ] = None,
    include_closing: Annotated[
        bool, Query(description="Include closing entries (journal `CL`).")
    ] = False,
) -> Journals:
    """The journal filters of a drill-down; closing entries are left out unless asked."""
    closing = () if include_closing else (CLOSING_JOURNAL,)
    return Journals(tuple(journal or ()), (*(exclude_journal or ()), *closing))


@router.get(
    "/reports/drilldown",
    operation_id="statementDrilldown",
    openapi_extra=requires("reports:read"),
    dependencies=[permitted("reports:read")],
    response_model=DrillPagePublic,
    responses=responses(401, 403, 422),
)
def drilldown(
    services: Services,
    accounts: Annotated[
        list[AccountName],
        Query(min_length=1, max_length=100, description="Accounts, each with sub-accounts."),
    ],
    date_from: Annotated[Day | None, Query(alias="from")] = None,
    date_to: Annotated[Day | None, Query(alias="to")] = None,
    journals: Annotated[Journals, Depends(journal_filters)] = _ALL_BUT_CLOSING,
    limit: Annotated[int, Query(ge=1, le=500, description="Entries per page.")] = 100,
    cursor: Cursor = None,
) -> DrillPagePublic:
    """The postings to ``accounts`` behind a statement figure, whole entries at a time by
    date; every figure's ``drilldown.links`` points here."""
    page = services.statements.drilldown(
        accounts,
        date_from,
        date_to,
        journals=journals.only,
        exclude=journals.exclude,
        after=_after(cursor),
        limit=limit,
    )
    after = page.next_after
    return DrillPagePublic(
        currency=page.currency,
        items=[DrillPostingPublic.of(p) for p in page.postings],
        next_cursor=encode_cursor([after[0].isoformat(), after[1]]) if after else None,
    )


@router.post(
    "/periods/{year}/close",
    operation_id="closeYear",
    openapi_extra=requires("journal:post"),
    dependencies=[permitted("journal:post")],
    response_model=YearClosePublic,
    responses=responses(401, 403, 404, 409, 422),
)
def close_year(
    year: Year, services: Services, idempotency_key: IdempotencyKey = None
) -> YearClosePublic:
    """Close a year that has ended: post the entry (journal ``CL``, dated 31 December)
    that moves its result to retained earnings, record the close, and lock the year. A
    year closed already, or locked past its end, is a ``409``."""
    del idempotency_key  # handled by the idempotency middleware
    return YearClosePublic.of(services.statements.close_year(year))


@router.post(
    "/periods/{year}/reopen",
    operation_id="reopenYear",
    openapi_extra=requires("journal:post"),
    dependencies=[permitted("journal:post")],
    response_model=YearClosePublic,
    responses=responses(401, 403, 404, 409, 422),
)
def reopen_year(
    year: Year, services: Services, idempotency_key: IdempotencyKey = None
) -> YearClosePublic:
    """Reopen a closed year: reverse its closing entry and restore the lock date the
    close found. A year not closed, or with a later year closed, is a ``409``."""
    del idempotency_key  # handled by the idempotency middleware
    return YearClosePublic.of(services.statements.reopen_year(year))
