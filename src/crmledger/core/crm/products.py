"""Products and services the company sells, with a list price per currency.

A product names the income account its sales are booked to and, if it has a cost, the
account that cost goes to. Prices are exact: a price with more decimals than its currency
allows is refused, never rounded::

    >>> p = Product(sku="WID-1", name="Widget", income_account="Income:Sales",
    ...     prices=(Price("EUR", Decimal("9.90")), Price("JPY", Decimal("1300"))))
    >>> validate_product(p).price("EUR")
    Decimal('9.90')
    >>> from dataclasses import replace
    >>> try:
    ...     validate_product(replace(p, prices=(Price("JPY", Decimal("1300.5")),)))
    ... except InvalidFieldError as err:
    ...     print(err.field, "-", err)
    prices[0].amount - 1300.5 JPY has more than 0 decimal place(s) allowed for JPY

Each rule names the field it refuses (``prices[1].amount``), so an import report or a form can
point at it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from crmledger.core.accounts import AccountType, account_type
from crmledger.core.currencies import iso_currency
from crmledger.core.errors import ExcessPrecisionError, InvalidAccountNameError, InvalidFieldError
from crmledger.core.money import to_minor

SKU_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
NAME_MAX = 200
UNIT_MAX = 20


class ProductKind(StrEnum):
    """Something delivered (a good) or something done (a service)."""

    GOOD = "good"
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class Price:
    """The list price of one unit in ``currency``."""

    currency: str
    amount: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Product:
    """A sellable item. ``unit`` is what one quantity means: ``pc``, ``h``, ``month`` ..."""

    id: int | None = None
    sku: str
    name: str
    description: str = ""
    unit: str = "pc"
    prices: tuple[Price, ...] = ()
    tax_category: str = "standard"
    income_account: str
    cost: Decimal | None = None
    cost_account: str | None = None
    active: bool = True
    kind: ProductKind = ProductKind.GOOD
    version: int = 1

    def price(self, currency: str) -> Decimal | None:
        """The list price in ``currency``, or ``None`` if the product has none there."""
        for price in self.prices:
            if price.currency == currency:
                return price.amount
        return None


def _check_price(where: str, price: Price, scales: Mapping[str, int] | None) -> None:
    scale = scales.get(price.currency) if scales is not None else None
    if scale is None:
        found = iso_currency(price.currency)
        if found is None:
            raise InvalidFieldError(f"{where}.currency", f"unknown currency {price.currency!r}")
        scale = found.scale
    if not price.amount.is_finite() or price.amount < 0:
        raise InvalidFieldError(f"{where}.amount", "a price must be a number of at least 0")
    try:
        to_minor(price.amount, scale, price.currency)
    except ExcessPrecisionError as err:
        raise InvalidFieldError(f"{where}.amount", str(err)) from err


def _check_prices(prices: tuple[Price, ...], scales: Mapping[str, int] | None) -> None:
    seen: set[str] = set()
    for index, price in enumerate(prices):
        where = f"prices[{index}]"
        if price.currency in seen:
            raise InvalidFieldError(f"{where}.currency", f"a second price in {price.currency}")
        seen.add(price.currency)
        _check_price(where, price, scales)


def _check_account(field: str, name: str, root: AccountType | None) -> None:
    try:
        kind = account_type(name)
    except InvalidAccountNameError as err:
        raise InvalidFieldError(field, str(err)) from err
    if root is not None and kind is not root:
        raise InvalidFieldError(field, f"{name!r} is not an {root.value} account")


def _check_cost(product: Product) -> None:
    if product.cost is None:
        if product.cost_account is not None:
            raise InvalidFieldError("cost_account", "a cost account without a cost")
        return
    if not product.cost.is_finite() or product.cost < 0:
        raise InvalidFieldError("cost", "the cost must be a number of at least 0")
    if product.cost_account is None:
        raise InvalidFieldError("cost_account", "a product with a cost needs a cost account")
    _check_account("cost_account", product.cost_account, None)


def validate_product(product: Product, scales: Mapping[str, int] | None = None) -> Product:
    """Return ``product`` if it keeps every rule, else raise :class:`InvalidFieldError`.

    ``sku`` matches :data:`SKU_RE`; ``name`` is 1..200 characters; ``unit`` 1..20; one
    price per currency, at least 0 and within the currency's scale (ISO currencies are
    known; ``scales`` declares others); ``income_account`` is an ``Income`` account; a
    ``cost`` (at least 0, any precision: unit costs are often fractions of a cent) needs a
    ``cost_account`` and a cost account needs a cost.
    """
    if not SKU_RE.match(product.sku):
        raise InvalidFieldError(
            "sku", "a SKU is 1..64 letters, digits, '.', '_', '/' or '-', starting alphanumeric"
        )
    if not product.name.strip() or len(product.name) > NAME_MAX:
        raise InvalidFieldError("name", f"the name must be 1..{NAME_MAX} characters")
    if not product.unit.strip() or len(product.unit) > UNIT_MAX:
        raise InvalidFieldError("unit", f"the unit must be 1..{UNIT_MAX} characters")
    if not product.tax_category.strip():
        raise InvalidFieldError("tax_category", "a product needs a tax category")
    _check_prices(product.prices, scales)
    _check_account("income_account", product.income_account, AccountType.INCOME)
    _check_cost(product)
    return product
