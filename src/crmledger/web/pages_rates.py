"""Exchange rates and tax rates: what is in force, and a form to add each.

A document takes the exchange rate of its date (the latest on or before it) and the tax
rate valid on that date. An exchange rate is base units per unit of the currency; a tax
rate is typed as a percentage and kept as a fraction::

    POST /rates/exchange   currency=USD day=2026-06-01 rate=0.92
    POST /rates/tax        category=standard valid_from=2027-01-01 rate=20 per=line
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from crmledger.core.access import PermissionDeniedError
from crmledger.core.errors import LedgerError
from crmledger.web import billing_view, forms
from crmledger.web.pages_quotes import CURRENCIES
from crmledger.web.params import parse_date
from crmledger.web.render import flash, page
from crmledger.web.session import Signed, Viewer

router = APIRouter(include_in_schema=False)
RATE_ROWS = 100
EXCHANGE_LIMITS = {"currency": 10, "day": 20, "rate": 40}
TAX_LIMITS = {"category": 40, "valid_from": 20, "rate": 20, "per": 10}
EXCHANGE_LABELS = {"currency": "Currency", "day": "Date", "rate": "Rate"}
TAX_LABELS = {"category": "Category", "valid_from": "Valid from", "rate": "Rate", "per": "Rounded"}
RULES = {r"(currency|day|rate|category|valid_from|per)": r"\1"}
PER = (("line", "Per line"), ("document", "Per document"))
HUNDRED = Decimal(100)


def _blank() -> tuple[forms.Draft, forms.Draft]:
    today = billing_view.today().isoformat()
    exchange = forms.Draft({"currency": "", "day": today, "rate": ""})
    tax = forms.Draft({"category": "", "valid_from": today, "rate": "", "per": "line"})
    return exchange, tax


def rates_page(
    request: Request,
    viewer: Viewer,
    exchange: forms.Draft | None = None,
    tax: forms.Draft | None = None,
    status: int = 200,
) -> Response:
    """Both lists, and the forms for a role that may add rates."""
    viewer.principal.require("billing", "read")
    base = viewer.book.ledger.info().base_currency or "EUR"
    blank_exchange, blank_tax = _blank()
    context: dict[str, Any] = {
        "exchange_rates": viewer.book.rates.rates(limit=RATE_ROWS),
        "tax_rates": viewer.book.rates.tax_rates(),
        "base": base,
        "currencies": [(c, c) for c in CURRENCIES if c != base],
        "per_options": PER,
        "exchange_form": exchange or blank_exchange,
        "tax_form": tax or blank_tax,
        "can_write": viewer.can("billing", "write"),
        "title": "Rates",
    }
    return page(request, "rates_page.html", context, viewer=viewer, active="/rates", status=status)


@router.get("/rates")
def rates(request: Request, viewer: Signed) -> Response:
    """Exchange rates, newest first, and tax rates by category and date."""
    return rates_page(request, viewer)


@router.post("/rates/exchange")
async def add_exchange_rate(request: Request, viewer: Signed) -> Response:
    """Enter (or correct) a currency's rate on a day."""
    form = await request.form()
    return await run_in_threadpool(_add_exchange, request, viewer, form)


def _add_exchange(request: Request, viewer: Viewer, form: FormData) -> Response:
    viewer.principal.require("billing", "write")
    draft = forms.Draft.read(form, EXCHANGE_LIMITS)
    currency = draft.get("currency").upper()
    day = parse_date(draft.get("day"), "day", draft.errors)
    rate = forms.decimal(draft.get("rate"), "rate", draft.errors, "Rate")
    _require(draft, {"currency": "Currency", "day": "Date", "rate": "Rate"})
    if day is not None and rate is not None and not draft.errors:
        try:
            stored = viewer.book.rates.set_rate(currency, day, rate)
        except PermissionDeniedError:
            raise
        except LedgerError as exc:
            forms.place(draft.errors, exc, RULES, EXCHANGE_LABELS)
        else:
            response = RedirectResponse("/rates", 303)
            message = f"1 {stored.currency} = {stored.rate} {stored.base} from {day.isoformat()}."
            flash(request, response, message)
            return response
    return rates_page(request, viewer, exchange=draft, status=422)


def _require(draft: forms.Draft, labels: dict[str, str]) -> None:
    for name, label in labels.items():
        if not draft.get(name):
            draft.errors.add(name, f"{label} is required.")


@router.post("/rates/tax")
async def add_tax_rate(request: Request, viewer: Signed) -> Response:
    """Add a tax category's rate from a date on."""
    form = await request.form()
    return await run_in_threadpool(_add_tax, request, viewer, form)


def _percent(draft: forms.Draft) -> Decimal | None:
    percent = forms.decimal(draft.get("rate"), "rate", draft.errors, "Rate")
    if percent is not None and not 0 <= percent <= HUNDRED:
        draft.errors.add("rate", "Rate: a percentage from 0 to 100.")
        return None
    return None if percent is None else percent / HUNDRED


def _add_tax(request: Request, viewer: Viewer, form: FormData) -> Response:
    viewer.principal.require("billing", "write")
    draft = forms.Draft.read(form, TAX_LIMITS)
    valid_from = parse_date(draft.get("valid_from"), "valid_from", draft.errors)
    rate = _percent(draft)
    _require(draft, {"category": "Category", "valid_from": "Valid from", "rate": "Rate"})
    if valid_from is not None and rate is not None and not draft.errors:
        try:
            stored = viewer.book.rates.add_tax_rate(
                draft.get("category"), valid_from, rate, draft.get("per") or "line"
            )
        except PermissionDeniedError:
            raise
        except LedgerError as exc:
            forms.place(draft.errors, exc, RULES, TAX_LABELS)
        else:
            response = RedirectResponse("/rates", 303)
            percent = format((stored.rate * HUNDRED).normalize(), "f")
            message = f"{stored.category}: {percent}% from {valid_from.isoformat()}."
            flash(request, response, message)
            return response
    return rates_page(request, viewer, tax=draft, status=422)
