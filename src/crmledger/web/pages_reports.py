"""Report pages: the trial balance, one account's ledger, the income statement, balance
sheet and cash-flow statement with their downloads, and the entries behind a figure.

All are plain GET forms, so a report is a URL that can be bookmarked or shared::

    /reports/trial-balance?as_of=2026-06-30
    /reports/account-ledger?account=Assets:Bank&from=2026-01-01&to=2026-06-30
    /reports/balance-sheet?as_of=2026-12-31&last_year=on
    /reports/balance-sheet/export?as_of=2026-12-31&format=xlsx
    /reports/drilldown?accounts=Assets:Bank:Checking&to=2026-12-31
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from crmledger.core.errors import LedgerError
from crmledger.core.report_table import statement_table
from crmledger.core.reports import LedgerLine
from crmledger.core.statements import CLOSING_JOURNAL
from crmledger.formats.report_export import MEDIA_TYPES, export
from crmledger.formats.statement_charts import statement_charts
from crmledger.web import billing_view
from crmledger.web.params import (
    JOURNAL_CODE,
    account_known,
    decode_cursor,
    parse_date,
    sentence,
    text,
)
from crmledger.web.render import page
from crmledger.web.session import Signed, Viewer
from crmledger.web.statement_view import (
    KINDS,
    StatementForm,
    drill_href,
    read_form,
    rows_of,
    statement_of,
)

router = APIRouter(include_in_schema=False)


@router.get("/reports")
def reports(request: Request, viewer: Signed) -> Response:
    """The reports there are."""
    viewer.principal.require("reports", "read")
    return page(request, "reports.html", {"title": "Reports"}, viewer=viewer, active="/reports")


@router.get("/reports/trial-balance")
def trial_balance(request: Request, viewer: Signed) -> Response:
    """Debits, credits and balance per account and commodity, as of a day."""
    query = dict(request.query_params)
    errors: dict[str, str] = {}
    shown = text(query, "as_of")
    as_of = parse_date(shown, "as_of", errors)
    report = viewer.book.reports.trial_balance(None if errors else as_of)
    context: dict[str, Any] = {
        "as_of": shown,
        "errors": errors,
        "rows": report.rows,
        "totals": list(report.totals().values()),
        "residuals": sorted(report.residuals().items()),
        "title": "Trial balance",
    }
    status = 422 if errors else 200
    return page(
        request, "trial_balance.html", context, viewer=viewer, active="/reports", status=status
    )


def _closing(opening: dict[str, Decimal], lines: list[LedgerLine]) -> dict[str, Decimal]:
    closing = dict(opening)
    for line in lines:
        closing[line.commodity] = line.balance
    return closing


@router.get("/reports/account-ledger")
def account_ledger(request: Request, viewer: Signed) -> Response:
    """An account's postings (sub-accounts included) with running balances."""
    viewer.principal.require("reports", "read")
    query = dict(request.query_params)
    errors: dict[str, str] = {}
    shown = {name: text(query, name) for name in ("account", "from", "to")}
    start = parse_date(shown["from"], "from", errors)
    end = parse_date(shown["to"], "to", errors)
    if start and end and end < start:
        errors["to"] = "The end date is before the start date."
    names = [a.name for a, _ in viewer.book.ledger.accounts_with_versions()]
    if shown["account"] and not account_known(names, shown["account"]):
        errors["account"] = f"No account is called {shown['account']!r}."
    opening: dict[str, Decimal] = {}
    lines: list[LedgerLine] = []
    ran = bool(shown["account"]) and not errors
    if ran:
        opening, lines = viewer.book.reports.account_ledger(shown["account"], start, end)
    context: dict[str, Any] = {
        "filters": shown,
        "errors": errors,
        "accounts": names,
        "ran": ran,
        "opening": sorted(opening.items()),
        "lines": lines,
        "closing": sorted(_closing(opening, lines).items()),
        "title": f"Ledger: {shown['account']}" if ran else "Account ledger",
    }
    status = 422 if errors else 200
    return page(
        request, "account_ledger.html", context, viewer=viewer, active="/reports", status=status
    )


# -- financial statements ------------------------------------------------------------


def _statement_page(
    request: Request, viewer: Viewer, kind: str, form: StatementForm | None = None
) -> Response:
    viewer.principal.require("reports", "read")
    form = form or read_form(kind, dict(request.query_params), billing_view.today())
    statement = statement_of(viewer, form)
    base = f"/reports/{kind}/export?{form.query}"
    context: dict[str, Any] = {
        "kind": kind,
        "title": KINDS[kind],
        "shown": form.shown,
        "errors": form.errors,
        "statement": statement,
        "rows": rows_of(statement) if statement else [],
        "charts": (
            statement_charts(statement, inline_style=False, href=drill_href) if statement else []
        ),
        "downloads": [(fmt.upper(), f"{base}&format={fmt}") for fmt in ("csv", "xlsx", "pdf")],
    }
    status = 422 if form.errors else 200
    return page(request, "statement.html", context, viewer=viewer, active="/reports", status=status)


def _statement_export(request: Request, viewer: Viewer, kind: str) -> Response:
    viewer.principal.require("reports", "read")
    fmt = request.query_params.get("format", "csv")
    form = read_form(kind, dict(request.query_params), billing_view.today())
    if fmt not in MEDIA_TYPES:
        form.errors["format"] = "Download as CSV, XLSX or PDF."
    statement = statement_of(viewer, form)
    if statement is None:
        return _statement_page(request, viewer, kind, form)
    media, extension = MEDIA_TYPES[fmt]
    name = f"{kind}-{statement.columns[0].end.isoformat()}.{extension}"
    return Response(
        export(statement_table(statement), fmt, statement_charts(statement)),
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def _register(kind: str) -> None:
    def show(request: Request, viewer: Signed) -> Response:
        return _statement_page(request, viewer, kind)

    def download(request: Request, viewer: Signed) -> Response:
        return _statement_export(request, viewer, kind)

    show.__doc__ = f"The {KINDS[kind].lower()} with its comparison columns."
    download.__doc__ = f"The {KINDS[kind].lower()} as CSV, XLSX or PDF."
    router.add_api_route(f"/reports/{kind}", show, methods=["GET"])
    router.add_api_route(f"/reports/{kind}/export", download, methods=["GET"])


for _kind in KINDS:
    _register(_kind)


DRILL_PAGE = 100


def _drill_filters(request: Request, errors: dict[str, str]) -> dict[str, Any]:
    query = request.query_params
    accounts = [a.strip() for a in query.getlist("accounts") if a.strip()][:100]
    if not accounts:
        errors["accounts"] = "Name at least one account."
    start = parse_date(query.get("from"), "from", errors)
    end = parse_date(query.get("to"), "to", errors)
    journals = [j for j in query.getlist("journal") if JOURNAL_CODE.match(j)][:10]
    excluded = [j for j in query.getlist("exclude_journal") if JOURNAL_CODE.match(j)][:10]
    closing = bool(query.get("include_closing"))
    raw_after = text(dict(query), "after")
    after = decode_cursor(raw_after) if raw_after else None
    if raw_after and after is None:
        errors["after"] = "Not a page of this list."
    return {
        "accounts": accounts,
        "start": start,
        "end": end,
        "journals": journals,
        "exclude": [*excluded, *(() if closing else (CLOSING_JOURNAL,))],
        "after": after,
    }


def _drill_next(request: Request, after: tuple[date, int]) -> str:
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "after"]
    return "/reports/drilldown?" + urlencode([*kept, ("after", f"{after[0]}.{after[1]}")])


@router.get("/reports/drilldown")
def drilldown(request: Request, viewer: Signed) -> Response:
    """The entries behind a statement figure: postings to its accounts in its days."""
    viewer.principal.require("reports", "read")
    errors: dict[str, str] = {}
    wanted = _drill_filters(request, errors)
    found = None
    if not errors:
        try:
            found = viewer.book.statements.drilldown(
                wanted["accounts"],
                wanted["start"],
                wanted["end"],
                journals=wanted["journals"],
                exclude=wanted["exclude"],
                after=wanted["after"],
                limit=DRILL_PAGE,
            )
        except LedgerError as error:
            errors[getattr(error, "field", "accounts")] = sentence(error)
    context: dict[str, Any] = {
        "title": "Entries behind the figure",
        "errors": errors,
        "accounts": wanted["accounts"],
        "start": wanted["start"],
        "end": wanted["end"],
        "postings": found.postings if found else (),
        "currency": found.currency if found else "",
        "total": found.total if found else Decimal(0),
        "closing_included": CLOSING_JOURNAL not in wanted["exclude"],
        "next_url": _drill_next(request, found.next_after) if found and found.next_after else None,
    }
    status = 422 if errors else 200
    return page(request, "drilldown.html", context, viewer=viewer, active="/reports", status=status)
