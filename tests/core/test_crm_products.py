"""Products: SKU, name and unit rules, exact prices per currency, accounts and cost."""

from __future__ import annotations

import doctest
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmledger.core.crm import products
from crmledger.core.crm.products import Price, Product, ProductKind, validate_product
from crmledger.core.errors import InvalidFieldError

D = Decimal


def product(**changes: Any) -> Product:
    base = Product(
        id=1,
        sku="WID-1",
        name="Widget",
        income_account="Income:Sales",
        prices=(Price("EUR", D("9.90")), Price("USD", D("10.50"))),
    )
    return replace(base, **changes)


def test_docstring_examples_run() -> None:
    result = doctest.testmod(products)
    assert result.attempted > 0
    assert result.failed == 0


def test_defaults_and_price_lookup() -> None:
    item = validate_product(product())
    assert (item.unit, item.tax_category, item.kind, item.active) == (
        "pc",
        "standard",
        ProductKind.GOOD,
        True,
    )
    assert item.price("USD") == D("10.50")
    assert item.price("GBP") is None


@pytest.mark.parametrize("sku", ["A", "abc/12.x-y_z", "9" * 64, "SVC.HOUR", "a/b/c"])
def test_good_skus(sku: str) -> None:
    assert validate_product(product(sku=sku)).sku == sku


@pytest.mark.parametrize("sku", ["", "-abc", ".x", "a b", "x" * 65, "ab:c", "ü"])
def test_bad_skus(sku: str) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        validate_product(product(sku=sku))
    assert caught.value.field == "sku"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "  "}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"unit": ""}, "unit"),
        ({"unit": "u" * 21}, "unit"),
        ({"tax_category": ""}, "tax_category"),
        ({"prices": (Price("EUR", D("-0.01")),)}, "prices[0].amount"),
        ({"prices": (Price("EUR", D("NaN")),)}, "prices[0].amount"),
        ({"prices": (Price("EUR", D(1)), Price("USD", D("1.001")))}, "prices[1].amount"),
        ({"prices": (Price("JPY", D("100.5")),)}, "prices[0].amount"),
        ({"prices": (Price("EUR", D(1)), Price("EUR", D(2)))}, "prices[1].currency"),
        ({"prices": (Price("XXX", D(1)),)}, "prices[0].currency"),
        ({"income_account": "Expenses:Sales"}, "income_account"),
        ({"income_account": "Sales"}, "income_account"),
        ({"income_account": "Income:bad name"}, "income_account"),
        ({"cost": D("4.00")}, "cost_account"),
        ({"cost_account": "Expenses:COGS"}, "cost_account"),
        ({"cost": D("-1"), "cost_account": "Expenses:COGS"}, "cost"),
        ({"cost": D("1"), "cost_account": "COGS"}, "cost_account"),
    ],
)
def test_invalid_products_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        validate_product(product(**changes))
    assert caught.value.field == field


@pytest.mark.parametrize(
    "changes",
    [
        {"prices": ()},
        {"prices": (Price("EUR", D(0)), Price("JPY", D("1300")), Price("KWD", D("1.125")))},
        {"prices": (Price("EUR", D("9.900000")),)},  # trailing zeros are not precision
        {"cost": D("0.0125"), "cost_account": "Expenses:COGS"},  # unit costs may be finer
        {"kind": ProductKind.SERVICE, "unit": "h", "name": "n" * 200},
        {"active": False},
    ],
)
def test_valid_products_pass(changes: dict[str, Any]) -> None:
    item = product(**changes)
    assert validate_product(item) is item


def test_scales_declare_non_iso_currencies() -> None:
    item = product(prices=(Price("TOKEN", D("0.0001")),))
    assert validate_product(item, {"TOKEN": 4}) is item
    with pytest.raises(InvalidFieldError) as caught:
        validate_product(item, {"TOKEN": 3})
    assert caught.value.field == "prices[0].amount"


@given(
    minor=st.integers(0, 10**12),
    currency=st.sampled_from(["EUR", "JPY", "KWD"]),
    extra=st.integers(1, 5),
)
def test_prices_within_scale_pass_and_finer_ones_are_refused(
    minor: int, currency: str, extra: int
) -> None:
    scale = {"EUR": 2, "JPY": 0, "KWD": 3}[currency]
    exact = D(minor).scaleb(-scale)
    assert validate_product(product(prices=(Price(currency, exact),))).price(currency) == exact
    finer = exact + D(1).scaleb(-(scale + extra))
    with pytest.raises(InvalidFieldError) as caught:
        validate_product(product(prices=(Price("USD", D(1)), Price(currency, finer))))
    assert caught.value.field == "prices[1].amount"
