"""Report pages: the trial balance as of a day and one account's ledger.

Both are plain GET forms, so a report is a URL that can be bookmarked or shared::

    /reports/trial-balance?as_of=2026-06-30
    /reports/account-ledger?account=Assets:Bank&from=2026-01-01&to=2026-06-30
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response

from crmledger.core.reports import LedgerLine
from crmledger.web.params import account_known, parse_date, text
from crmledger.web.render import page
from crmledger.web.session import Signed

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
