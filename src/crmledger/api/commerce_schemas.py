"""Request and response bodies of the catalogue, quotes, sales orders and contracts.

Money, quantities and discounts travel as decimal strings (``"19.90"``, ``"2.5"``), never as
JSON numbers. Inputs bound shapes and sizes; the services check the rules that need the book
(a price within its currency's decimals, an income account of the chart, a quantity above
zero) and name the field they refuse, such as ``lines[2].quantity``::

    {"party_id": 7, "currency": "EUR",
     "lines": [{"product_id": 3, "quantity": "2"}, {"description": "Setup", "unit_price": "90"}]}
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictBool, StringConstraints

from crmledger.api.schemas import (
    ACCOUNT_NAME,
    ACCOUNT_NAME_MAX,
    Day,
    In,
    RowId,
    Short,
    Text,
    money,
)
from crmledger.core.crm.contracts import ContractStatus, Frequency
from crmledger.core.crm.documents import Line, OrderStatus, QuoteStatus, Totals
from crmledger.core.crm.products import ProductKind
from crmledger.services.contracts import StoredContract
from crmledger.services.products import StoredProduct
from crmledger.services.sales import DraftLine, Priced, Quote, SalesDocument, SalesOrder

#: An id in a body: a JSON integer (``7``, never ``"7"``).
#: An id in a query string.
QueryId = Annotated[int, Field(ge=1, le=2**31 - 1)]


def _rooted(root: str) -> str:
    """The account name pattern for accounts of one root (``Income:...``)."""
    roots = "(Assets|Liabilities|Equity|Income|Expenses)"
    assert roots in ACCOUNT_NAME
    return ACCOUNT_NAME.replace(roots, root)


IncomeAccount = Annotated[
    str, StringConstraints(pattern=_rooted("Income"), max_length=ACCOUNT_NAME_MAX)
]
ExpensesAccount = Annotated[
    str, StringConstraints(pattern=_rooted("Expenses"), max_length=ACCOUNT_NAME_MAX)
]
#: A non-negative amount: prices and costs.
Price = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,15}(\.[0-9]{1,12})?$")]
Quantity = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}(\.[0-9]{1,6})?$")]
#: A percentage within 0..100 with at most six decimals.
Discount = Annotated[
    str, StringConstraints(pattern=r"^(100(\.0{1,6})?|[0-9]{1,2}(\.[0-9]{1,6})?)$")
]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9]{2,9}$")]
Sku = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")]
TaxCategory = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
Unit = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x20][^\x00]{0,19}$")]
MAX_LINES = 500


# -- products -------------------------------------------------------------------------------


class PriceIn(In):
    currency: Currency
    amount: Price = Field(description='A decimal string, e.g. "19.90".')


class ProductCreate(In):
    """A new product; the income account defaults to ``Income:Sales:Products`` (goods) or
    ``Income:Sales:Services`` (services)."""

    sku: Sku
    name: Short
    description: Text = ""
    unit: Unit = "pc"
    kind: ProductKind = ProductKind.GOOD
    prices: list[PriceIn] = Field(default_factory=list, max_length=50)
    tax_category: TaxCategory = "standard"
    income_account: IncomeAccount | None = None
    cost: Price | None = None
    cost_currency: Currency | None = Field(None, description="Default: the base currency.")
    cost_account: ExpensesAccount | None = None
    active: StrictBool = True


class ProductUpdate(In):
    """The fields to change; ``null`` clears ``cost`` (and its account and currency) and
    leaves every other field as it is."""

    sku: Sku | None = None
    name: Short | None = None
    description: Text | None = None
    unit: Unit | None = None
    kind: ProductKind | None = None
    prices: list[PriceIn] | None = Field(None, max_length=50)
    tax_category: TaxCategory | None = None
    income_account: IncomeAccount | None = None
    cost: Price | None = None
    cost_currency: Currency | None = None
    cost_account: ExpensesAccount | None = None
    active: StrictBool | None = None


class PricePublic(BaseModel):
    currency: str
    amount: str


class ProductPublic(BaseModel):
    """A product; ``version`` is what ``If-Match`` must name."""

    id: int
    sku: str
    name: str
    description: str
    unit: str
    kind: ProductKind
    prices: list[PricePublic]
    tax_category: str
    income_account: str
    cost: str | None
    cost_currency: str | None
    cost_account: str | None
    active: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, product: StoredProduct) -> ProductPublic:
        """The API view of a stored product."""
        return cls(
            id=product.key,
            sku=product.sku,
            name=product.name,
            description=product.description,
            unit=product.unit,
            kind=product.kind,
            prices=[
                PricePublic(currency=p.currency, amount=money(p.amount)) for p in product.prices
            ],
            tax_category=product.tax_category,
            income_account=product.income_account,
            cost=None if product.cost is None else money(product.cost),
            cost_currency=product.cost_currency,
            cost_account=product.cost_account,
            active=product.active,
            version=product.version,
            created_at=product.created_at,
            updated_at=product.updated_at,
        )


# -- quotes and orders ----------------------------------------------------------------------


class LineIn(In):
    """A line; what is left out comes from the product (its name, its price in the
    document's currency, its tax category)."""

    product_id: RowId | None = None
    description: Text | None = None
    quantity: Quantity = "1"
    unit_price: Price | None = None
    discount: Discount = Field("0", description='A percentage, e.g. "12.5".')
    tax_category: TaxCategory | None = None


def drafts(lines: list[LineIn]) -> list[DraftLine]:
    """The service's draft lines of a body's lines."""
    return [
        DraftLine(
            product_id=line.product_id,
            description=line.description,
            quantity=Decimal(line.quantity),
            unit_price=None if line.unit_price is None else Decimal(line.unit_price),
            discount=Decimal(line.discount),
            tax_category=line.tax_category,
        )
        for line in lines
    ]


Lines = Annotated[list[LineIn], Field(max_length=MAX_LINES)]


#: What ``prices_include_tax`` says on a quote, order or invoice.
INCLUSIVE = "The unit prices include tax: the tax is taken out of each line's amount."


class QuotePreview(In):
    """Draft lines to total without saving anything, at net or (``prices_include_tax``)
    gross unit prices."""

    currency: Currency
    lines: Lines
    prices_include_tax: StrictBool = Field(False, description=INCLUSIVE)


class QuoteCreate(In):
    """A new draft quote for a party, optionally for one of its deals; with
    ``prices_include_tax`` its unit prices are gross."""

    party_id: RowId
    currency: Currency
    lines: Lines = Field(default_factory=list)
    valid_until: Day | None = None
    deal_id: RowId | None = None
    prices_include_tax: StrictBool = Field(False, description=INCLUSIVE)


class QuoteUpdate(In):
    """A draft's new lines (as a whole), validity, deal or price basis (its lines are
    priced anew); ``null`` clears the validity or the deal."""

    lines: Lines | None = None
    valid_until: Day | None = None
    deal_id: RowId | None = None
    prices_include_tax: StrictBool | None = Field(None, description=INCLUSIVE)


class OrderCreate(In):
    """A new draft order without a quote."""

    party_id: RowId
    currency: Currency
    lines: Lines = Field(default_factory=list)
    deal_id: RowId | None = None
    prices_include_tax: StrictBool = Field(False, description=INCLUSIVE)


class OrderFromQuote(In):
    """The order of a quote: the quote is accepted and its order created."""

    quote_id: RowId


class LinePublic(BaseModel):
    position: int
    product_id: int | None
    description: str
    quantity: str
    unit_price: str
    discount: str
    tax_category: str
    net: str
    tax: str


class CategoryTaxPublic(BaseModel):
    category: str
    base: str
    tax: str


class TotalsPublic(BaseModel):
    """Priced lines and what they add up to (see ``core.crm.documents`` for the rounding)."""

    currency: str
    lines: list[LinePublic]
    net: str
    tax_by_category: list[CategoryTaxPublic]
    tax: str
    gross: str

    @classmethod
    def of(cls, priced: Priced) -> TotalsPublic:
        """The API view of priced lines."""
        return cls(currency=priced.currency, **_totals(priced.lines, priced.totals))


def _totals(lines: tuple[Line, ...], totals: Totals) -> dict[str, Any]:
    return {
        "lines": [
            LinePublic(
                position=i + 1,
                product_id=line.product_id,
                description=line.description,
                quantity=money(line.quantity),
                unit_price=money(line.unit_price),
                discount=money(line.discount),
                tax_category=line.tax_category,
                net=money(total.net),
                tax=money(total.tax),
            )
            for i, (line, total) in enumerate(zip(lines, totals.lines, strict=True))
        ],
        "net": money(totals.net),
        "tax_by_category": [
            CategoryTaxPublic(category=c.category, base=money(c.base), tax=money(c.tax))
            for c in totals.tax_by_category
        ],
        "tax": money(totals.tax),
        "gross": money(totals.gross),
    }


def _document(doc: SalesDocument) -> dict[str, Any]:
    return {
        "id": doc.id,
        "number": doc.number,
        "party_id": doc.party_id,
        "deal_id": doc.deal_id,
        "currency": doc.currency,
        **_totals(doc.lines, doc.totals),
        "prices_include_tax": doc.prices_include_tax,
        "version": doc.version,
        "created_at": doc.created_at,
        "updated_at": doc.updated_at,
    }


class QuotePublic(BaseModel):
    """A quote; ``order_id`` names the order its acceptance created; with
    ``prices_include_tax`` its unit prices are gross."""

    id: int
    number: str
    party_id: int
    deal_id: int | None
    currency: str
    lines: list[LinePublic]
    net: str
    tax_by_category: list[CategoryTaxPublic]
    tax: str
    gross: str
    prices_include_tax: bool
    status: QuoteStatus
    valid_until: dt.date | None
    issued_on: dt.date
    sent_on: dt.date | None
    decided_on: dt.date | None
    order_id: int | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, quote: Quote) -> QuotePublic:
        """The API view of a quote."""
        return cls(
            **_document(quote),
            status=quote.status,
            valid_until=quote.valid_until,
            issued_on=quote.issued_on,
            sent_on=quote.sent_on,
            decided_on=quote.decided_on,
            order_id=quote.order_id,
        )


class OrderPublic(BaseModel):
    """A sales order; ``quote_id`` names the accepted quote it came from; it is ``paid``
    once its invoice is paid in full; with ``prices_include_tax`` its unit prices are
    gross."""

    id: int
    number: str
    party_id: int
    deal_id: int | None
    currency: str
    lines: list[LinePublic]
    net: str
    tax_by_category: list[CategoryTaxPublic]
    tax: str
    gross: str
    prices_include_tax: bool
    quote_id: int | None
    status: OrderStatus
    ordered_on: dt.date
    confirmed_on: dt.date | None
    fulfilled_on: dt.date | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, order: SalesOrder) -> OrderPublic:
        """The API view of an order."""
        return cls(
            **_document(order),
            quote_id=order.quote_id,
            status=order.status,
            ordered_on=order.ordered_on,
            confirmed_on=order.confirmed_on,
            fulfilled_on=order.fulfilled_on,
        )


# -- contracts ----------------------------------------------------------------------------


class PriceChangeIn(In):
    """The price per billing period from ``effective`` on."""

    effective: Day
    amount: Price


class ContractCreate(In):
    """A new recurring contract. ``next_billing`` defaults to ``start``; without
    ``prices`` the product's list price in ``currency`` applies from ``start``; without a
    description, the product's name."""

    party_id: RowId
    product_id: RowId | None = None
    description: Text = ""
    currency: Currency
    frequency: Frequency
    start: Day
    end: Day | None = Field(None, description="The last day of service, inclusive.")
    next_billing: Day | None = None
    prices: list[PriceChangeIn] = Field(default_factory=list, max_length=100)


class ContractUpdate(In):
    """A new description or end (``null``: open-ended), or ``status: cancelled``."""

    description: Text | None = None
    end: Day | None = None
    status: Literal["cancelled"] | None = None


class PriceChangePublic(BaseModel):
    effective: dt.date
    amount: str


class ContractPublic(BaseModel):
    """A contract with its price history."""

    id: int
    party_id: int
    product_id: int | None
    description: str
    currency: str
    frequency: Frequency
    start: dt.date
    end: dt.date | None
    next_billing: dt.date
    status: ContractStatus
    prices: list[PriceChangePublic]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, contract: StoredContract) -> ContractPublic:
        """The API view of a stored contract."""
        return cls(
            id=contract.key,
            party_id=contract.party_id,
            product_id=contract.product_id,
            description=contract.description,
            currency=contract.currency,
            frequency=contract.frequency,
            start=contract.start,
            end=contract.end,
            next_billing=contract.next_billing,
            status=contract.status,
            prices=[
                PriceChangePublic(effective=p.effective, amount=money(p.amount))
                for p in contract.prices
            ],
            version=contract.version,
            created_at=contract.created_at,
            updated_at=contract.updated_at,
        )
