"""Request and response bodies of payments, balances, and exchange and tax rates.

A payment is recorded once and allocated to open documents of its party in its currency:
to the ``allocations`` given, or, when the field is left out, to the oldest first; an empty
list keeps all of it as credit. Rates are decimal strings: an exchange rate is base units
per unit of the currency, a tax rate a fraction::

    POST /payments        {"party_id": 7, "amount": "119.00", "currency": "EUR",
                           "allocations": [{"invoice_id": 12, "amount": "100.00"}]}
    POST /exchange-rates  {"currency": "USD", "day": "2026-06-01", "rate": "0.92"}
    POST /tax-rates       {"category": "standard", "valid_from": "2027-01-01", "rate": "0.20"}
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import BaseModel, Field, StringConstraints

from crmledger.api.billing_schemas import Reference
from crmledger.api.commerce_schemas import Currency, Price
from crmledger.api.schemas import AccountName, Day, In, RowId, money
from crmledger.core.billing.settlement import Allocation
from crmledger.services.billing_common import rate_text
from crmledger.services.billing_views import Payment
from crmledger.services.rates import ExchangeRate, TaxRate
from crmledger.services.settling import DEFAULT_BANK, PartyBalance

#: An exchange rate: a decimal with at most 12 places (above 0, which the book checks).
Rate = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}(\.[0-9]{1,12})?$")]
#: A tax rate as a fraction within 0..1 (``"0.19"`` is 19 %).
TaxFraction = Annotated[str, StringConstraints(pattern=r"^(1(\.0{1,6})?|0(\.[0-9]{1,6})?)$")]
#: A tax category's key as a new one may be named.
NewTaxCategory = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
PaymentKind = Literal["receipt", "vendor_payment"]
Method = Literal["transfer", "card", "cash", "cheque", "direct_debit", "other"]
MAX_ALLOCATIONS = 500


# -- payments -------------------------------------------------------------------------------


class AllocationIn(In):
    """``amount`` of the payment applied to the invoice (for a vendor payment: the bill)
    ``invoice_id``."""

    invoice_id: RowId
    amount: Price


Allocations = Annotated[list[AllocationIn], Field(max_length=MAX_ALLOCATIONS)]


def allocations(given: list[AllocationIn] | None) -> list[Allocation] | None:
    """The service's allocations of a body's (None: oldest first)."""
    if given is None:
        return None
    return [Allocation(a.invoice_id, Decimal(a.amount)) for a in given]


class PaymentCreate(In):
    """Money received from a customer (``receipt``) or paid to a vendor
    (``vendor_payment``) on ``paid_on`` (default today), through ``bank_account``.
    ``rate`` overrides the day's exchange rate; ``allocations`` left out spreads the
    payment over the oldest open documents, an empty list keeps it all as credit."""

    party_id: RowId
    amount: Price = Field(description='A decimal string above 0, e.g. "119.00".')
    currency: Currency
    paid_on: Day | None = None
    kind: PaymentKind = "receipt"
    method: Method = "transfer"
    bank_account: AccountName = DEFAULT_BANK
    reference: Reference = ""
    rate: Rate | None = None
    allocations: Allocations | None = None


class AllocateRequest(In):
    """Where to allocate what is left of a payment; left out: the oldest documents first."""

    allocations: Allocations | None = None


class PaymentPublic(BaseModel):
    """A payment; ``open`` is what is not allocated yet (the party's credit)."""

    id: int
    kind: str
    number: str
    party_id: int
    currency: str
    amount: str
    paid_on: dt.date
    method: str
    bank_account: str
    reference: str
    rate: str | None
    base: str
    open: str
    base_currency: str
    entry_id: int
    version: int
    created_at: dt.datetime

    @classmethod
    def of(cls, payment: Payment) -> Self:
        """The API view of a payment."""
        return cls(
            id=payment.id,
            kind=payment.kind,
            number=payment.number,
            party_id=payment.party_id,
            currency=payment.currency,
            amount=money(payment.amount),
            paid_on=payment.paid_on,
            method=payment.method,
            bank_account=payment.bank_account,
            reference=payment.reference,
            rate=None if payment.rate is None else money(payment.rate),
            base=money(payment.base),
            open=money(payment.open),
            base_currency=payment.base_currency,
            entry_id=payment.entry_id,
            version=payment.version,
            created_at=payment.created_at,
        )


# -- balances -------------------------------------------------------------------------------


class CurrencyBalancePublic(BaseModel):
    """A party's open items in one currency; ``due`` is open invoices less unapplied
    credit (negative: the party has credit)."""

    currency: str
    invoiced_open: str
    overdue: str
    unapplied: str
    due: str
    bills_open: str


class PartyBalancePublic(BaseModel):
    """What a party owes per currency and in the base currency, and how it pays."""

    party_id: int
    base_currency: str
    currencies: list[CurrencyBalancePublic]
    due_base: str
    overdue_base: str
    average_days_to_pay: str | None
    paid_invoices: int

    @classmethod
    def of(cls, balance: PartyBalance) -> Self:
        """The API view of a party's balance."""
        return cls(
            party_id=balance.party_id,
            base_currency=balance.base_currency,
            currencies=[
                CurrencyBalancePublic(
                    currency=c.currency,
                    invoiced_open=money(c.invoiced_open),
                    overdue=money(c.overdue),
                    unapplied=money(c.unapplied),
                    due=money(c.due),
                    bills_open=money(c.bills_open),
                )
                for c in balance.currencies
            ],
            due_base=money(balance.due_base),
            overdue_base=money(balance.overdue_base),
            average_days_to_pay=(
                None if balance.average_days_to_pay is None else money(balance.average_days_to_pay)
            ),
            paid_invoices=balance.paid_invoices,
        )


# -- rates ----------------------------------------------------------------------------------


class ExchangeRateCreate(In):
    """``currency``'s rate on ``day`` in base units; entering a day again corrects it."""

    currency: Currency
    day: Day
    rate: Rate


class ExchangeRatePublic(BaseModel):
    """One day's rate: one ``currency`` is ``rate`` of ``base`` (rates are written without
    trailing zeros, as stored: ``"0.9"``)."""

    currency: str
    day: dt.date
    rate: str
    base: str

    @classmethod
    def of(cls, rate: ExchangeRate) -> Self:
        """The API view of a rate."""
        return cls(currency=rate.currency, day=rate.day, rate=rate_text(rate.rate), base=rate.base)


class TaxRateCreate(In):
    """A category's rate from ``valid_from`` on (a new category is created with it),
    rounded per ``line`` or once per ``document``."""

    category: NewTaxCategory
    valid_from: Day
    rate: TaxFraction
    per: Literal["line", "document"] = "line"


class TaxRatePublic(BaseModel):
    """A category's rate from ``valid_from`` until the next one."""

    category: str
    valid_from: dt.date
    rate: str
    per: str

    @classmethod
    def of(cls, rate: TaxRate) -> Self:
        """The API view of a tax rate."""
        return cls(
            category=rate.category,
            valid_from=rate.valid_from,
            rate=rate_text(rate.rate),
            per=rate.per,
        )
