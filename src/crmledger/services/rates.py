"""Exchange rates per currency and day, and tax rates per category with validity dates.

A document takes the rate of its date: the latest entered on or before it. Rates are base
units per unit of the currency (``USD 0.92`` in a EUR book: one dollar is 0.92 euro)::

    rates.set_rate("USD", date(2026, 6, 1), Decimal("0.92"))
    rates.add_tax_rate("standard", date(2027, 1, 1), Decimal("0.20"))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from crmledger.core.crm.documents import TaxRule
from crmledger.core.errors import InvalidFieldError
from crmledger.services.billing_common import base_currency, parse_rate, rate_text
from crmledger.services.ports import Clock, UnitOfWorkFactory
from crmledger.services.products import book_scales, scale_of
from crmledger.services.sales import number_text
from crmledger.services.trail import OPERATOR, Actor, Change, record, record_many


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    """One day's rate of a currency against the base."""

    currency: str
    day: date
    rate: Decimal
    base: str


@dataclass(frozen=True, slots=True)
class TaxRate:
    """A category's rate from ``valid_from`` until the next one; ``rate`` is a fraction."""

    category: str
    valid_from: date
    rate: Decimal
    per: str


class RateService:
    """Exchange and tax rates."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, actor: Actor = OPERATOR) -> None:
        self._uow = uow
        self._clock = clock
        self._actor = actor

    def acting_as(self, actor: Actor) -> RateService:
        """The same service for another actor."""
        return RateService(self._uow, self._clock, actor)

    def set_rate(self, currency: str, day: date, rate: Decimal) -> ExchangeRate:
        """Enter (or correct) ``currency``'s rate on ``day``."""
        return self.set_rates([(currency, day, rate)])[0]

    def set_rates(self, rates: Sequence[tuple[str, date, Decimal]]) -> list[ExchangeRate]:
        """Enter (or correct) many ``(currency, day, rate)`` in one transaction (all or
        none): a day's fixing of every currency the book trades in."""
        self._actor.require("billing", "write")
        checked = [(currency, day, parse_rate(str(rate))) for currency, day, rate in rates]
        with self._uow() as uow:
            base = base_currency(uow)
            scales = book_scales(uow)
            for currency, day, rate in checked:
                scale_of(currency, scales)  # refuses an unknown currency
                if currency == base:
                    raise InvalidFieldError("currency", f"{base} is the base currency (rate 1)")
                uow.billing.set_rate(currency, day, rate_text(rate))
            changes = [
                Change(
                    "rate.set",
                    "exchange_rate",
                    f"{currency}/{day.isoformat()}",
                    None,
                    {"rate": rate_text(rate)},
                )
                for currency, day, rate in checked
            ]
            record_many(uow, self._actor, self._clock.now(), changes)
            uow.commit()
        return [ExchangeRate(currency, day, rate, base) for currency, day, rate in checked]

    def rates(
        self, currency: str | None = None, limit: int = 100, before: date | None = None
    ) -> list[ExchangeRate]:
        """Rates newest first, optionally of one currency, before the day ``before``."""
        self._actor.require("billing", "read")
        with self._uow(readonly=True) as uow:
            base = base_currency(uow)
            rows = uow.billing.rates(currency, limit, before)
        return [ExchangeRate(c, d, Decimal(r), base) for c, d, r in rows]

    def add_tax_rate(
        self, category: str, valid_from: date, rate: Decimal, per: str = "line"
    ) -> TaxRate:
        """A category's rate from ``valid_from`` on (a new category is created with it)."""
        self._actor.require("billing", "write")
        rule = TaxRule(rate, per)  # type: ignore[arg-type]  # checked by TaxRule itself
        if not category or len(category) > 40 or not category.replace("_", "").isalnum():
            raise InvalidFieldError("category", "1-40 letters, digits or _")
        text = number_text(rule.rate)
        with self._uow() as uow:
            uow.billing.add_tax_rate(category, valid_from, text, per)
            record(
                uow,
                self._actor,
                self._clock.now(),
                "tax_rate.set",
                "tax_rate",
                f"{category}/{valid_from.isoformat()}",
                None,
                {"rate": text, "per": per},
            )
            uow.commit()
        return TaxRate(category, valid_from, rule.rate, per)

    def tax_rates(self) -> list[TaxRate]:
        """Every dated tax rate by category and date."""
        self._actor.require("billing", "read")
        with self._uow(readonly=True) as uow:
            rows = uow.billing.tax_rate_rows()
        return [TaxRate(c, d, Decimal(r), p) for c, d, r, p in rows]
