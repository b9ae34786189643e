"""``/exchange-rates`` and ``/tax-rates``: the rates every billing document is priced at.

A document takes the exchange rate of its date (the latest entered on or before it) and each
tax category's rate valid on that date. A rate entered again for the same currency and day
(or category and ``valid_from``) corrects it; what was issued keeps the rate it was booked
at::

    POST /api/v1/exchange-rates  {"currency": "USD", "day": "2026-06-01", "rate": "0.92"}
    GET  /api/v1/exchange-rates?currency=USD&limit=30
    POST /api/v1/tax-rates       {"category": "standard", "valid_from": "2027-01-01",
                                  "rate": "0.20"}
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from crmledger.api.commerce_schemas import Currency
from crmledger.api.deps import Services
from crmledger.api.payment_schemas import (
    ExchangeRateCreate,
    ExchangeRatePublic,
    TaxRateCreate,
    TaxRatePublic,
)
from crmledger.api.problems import requires, responses
from crmledger.api.routes.common import MAX_LIMIT, IdempotencyKey, number_cursor
from crmledger.api.schemas import Page, decode_cursor, encode_cursor
from crmledger.services.errors import InvalidInputError
from crmledger.services.rates import ExchangeRate

router = APIRouter(tags=["rates"])


class Paging(BaseModel):
    """A page of a list (unknown parameters are refused)."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(100, ge=1, le=MAX_LIMIT, description="Page size (at most 500).")
    cursor: str | None = Field(None, max_length=512, description="`next_cursor` of the last page.")


class RateFilters(Paging):
    """A page of exchange rates, newest day first, optionally of one currency."""

    currency: Currency | None = None


def _day_cursor(cursor: str) -> tuple[dt.date, int]:
    """The last day a page showed and how many of that day's rates it showed."""
    match decode_cursor(cursor):
        case [str(day), int(seen)] if 0 < seen < 2**31:
            try:
                return dt.date.fromisoformat(day), seen
            except ValueError:
                pass
    raise InvalidInputError("cursor", "not a cursor of this list")


def _rate_page(services: Services, filters: RateFilters) -> tuple[list[ExchangeRate], str | None]:
    """A page of rates after the cursor. The store pages by day only and several currencies
    share a day, so the cursor also counts the rates of its day already shown: the next page
    reads from that day again and skips them."""
    day, seen = (None, 0) if filters.cursor is None else _day_cursor(filters.cursor)
    # Before the next day, so the cursor's day is read again (the last calendar day has no
    # next day, and needs no bound).
    before = None if day is None or day == dt.date.max else day + dt.timedelta(days=1)
    found = services.rates.rates(filters.currency, filters.limit + seen, before)[seen:]
    if len(found) < filters.limit:
        return found, None
    last = found[-1].day
    shown = sum(1 for r in found if r.day == last) + (seen if last == day else 0)
    return found, encode_cursor([last.isoformat(), shown])


@router.get(
    "/exchange-rates",
    operation_id="listExchangeRates",
    openapi_extra=requires("billing:read"),
    response_model=Page[ExchangeRatePublic],
    responses=responses(401, 403, 422),
)
def list_exchange_rates(
    services: Services, filters: Annotated[RateFilters, Query()]
) -> Page[ExchangeRatePublic]:
    """Exchange rates, newest day first (by currency within a day); filter by currency."""
    found, after = _rate_page(services, filters)
    return Page(items=[ExchangeRatePublic.of(r) for r in found], next_cursor=after)


@router.post(
    "/exchange-rates",
    operation_id="setExchangeRate",
    openapi_extra=requires("billing:write"),
    status_code=201,
    response_model=ExchangeRatePublic,
    responses=responses(401, 403, 409, 422),
)
def set_exchange_rate(
    body: ExchangeRateCreate, services: Services, idempotency_key: IdempotencyKey = None
) -> ExchangeRatePublic:
    """Enter (or correct) a currency's rate on a day: base units per unit of the currency
    (``0.92`` for USD in a EUR book). Documents already issued keep the rate they were
    booked at."""
    del idempotency_key  # handled by the idempotency middleware
    return ExchangeRatePublic.of(
        services.rates.set_rate(body.currency, body.day, Decimal(body.rate))
    )


@router.get(
    "/tax-rates",
    operation_id="listTaxRates",
    openapi_extra=requires("billing:read"),
    response_model=Page[TaxRatePublic],
    responses=responses(401, 403, 422),
)
def list_tax_rates(services: Services, page: Annotated[Paging, Query()]) -> Page[TaxRatePublic]:
    """Every dated tax rate, by category and date."""
    found = services.rates.tax_rates()
    start = number_cursor(page.cursor) if page.cursor is not None else 0
    end = start + page.limit
    return Page(
        items=[TaxRatePublic.of(r) for r in found[start:end]],
        next_cursor=encode_cursor([end]) if end < len(found) else None,
    )


@router.post(
    "/tax-rates",
    operation_id="createTaxRate",
    openapi_extra=requires("billing:write"),
    status_code=201,
    response_model=TaxRatePublic,
    responses=responses(401, 403, 409, 422),
)
def create_tax_rate(
    body: TaxRateCreate, services: Services, idempotency_key: IdempotencyKey = None
) -> TaxRatePublic:
    """A tax category's rate from ``valid_from`` on; a category that does not exist yet is
    created with it. Documents already drafted keep the rates they were priced at."""
    del idempotency_key  # handled by the idempotency middleware
    rate = services.rates.add_tax_rate(body.category, body.valid_from, Decimal(body.rate), body.per)
    return TaxRatePublic.of(rate)
