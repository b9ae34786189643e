"""``crmledger product``: add products and services to the catalogue and list them.

::

    crmledger product add WID-1 "Widget" --price 9.90:EUR --price 10.90:USD
    crmledger product add CONSULT "Consulting" --service --unit h --price 120.00:EUR \\
        --cost 40.00 --cost-account Expenses:Salaries
    crmledger product list --all --format json

A price is ``AMOUNT:CURRENCY``; one with more decimals than its currency has is refused,
naming it (``prices[0].amount``), never rounded.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer

from crmledger.cli.render import FormatOption, OutputFormat, console, dumps, emit
from crmledger.cli.state import state
from crmledger.core.crm.products import Price, Product, ProductKind
from crmledger.services.crm_ports import ProductQuery
from crmledger.services.errors import InvalidInputError
from crmledger.services.products import StoredProduct

product_app = typer.Typer(help="The catalogue: products and services.", no_args_is_help=True)

DEFAULT_INCOME = {
    ProductKind.GOOD: "Income:Sales:Products",
    ProductKind.SERVICE: "Income:Sales:Services",
}


def _decimal(field: str, value: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise InvalidInputError(field, f"{value!r} is not a number") from None
    if not number.is_finite():
        raise InvalidInputError(field, f"{value!r} is not a number")
    return number


def parse_prices(values: list[str]) -> tuple[Price, ...]:
    """``["9.90:EUR", "1300:JPY"]`` as prices; a malformed one names its index."""
    prices = []
    for index, value in enumerate(values):
        amount, sep, currency = value.rpartition(":")
        if not sep or not amount or not currency:
            raise InvalidInputError(
                f"prices[{index}]", f"{value!r}: write a price as AMOUNT:CURRENCY (9.90:EUR)"
            )
        prices.append(Price(currency.upper(), _decimal(f"prices[{index}].amount", amount)))
    return tuple(prices)


def document(product: StoredProduct) -> dict[str, Any]:
    """A product as JSON (the API's field names)."""
    return {
        "id": product.id,
        "sku": product.sku,
        "name": product.name,
        "description": product.description,
        "unit": product.unit,
        "kind": product.kind.value,
        "prices": [{"currency": p.currency, "amount": p.amount} for p in product.prices],
        "tax_category": product.tax_category,
        "income_account": product.income_account,
        "cost": product.cost,
        "cost_currency": product.cost_currency,
        "cost_account": product.cost_account,
        "active": product.active,
        "version": product.version,
    }


def _row(product: StoredProduct) -> dict[str, Any]:
    return {
        "sku": product.sku,
        "name": product.name,
        "kind": product.kind.value,
        "unit": product.unit,
        "prices": ", ".join(f"{p.amount} {p.currency}" for p in product.prices),
        "tax": product.tax_category,
        "income account": product.income_account,
        "active": "yes" if product.active else "no",
    }


@product_app.command("add")
def product_add(  # noqa: PLR0913, PLR0917 - one option per field is what a CLI user expects
    sku: Annotated[str, typer.Argument(help="Stock-keeping unit, e.g. WID-1.")],
    name: Annotated[str, typer.Argument(help="What the product is called.")],
    price: Annotated[
        list[str] | None, typer.Option(help="A list price as AMOUNT:CURRENCY (repeat).")
    ] = None,
    unit: Annotated[str, typer.Option(help="What one quantity is: pc, h, month ...")] = "pc",
    tax_category: Annotated[str, typer.Option(help="standard, reduced or zero.")] = "standard",
    income_account: Annotated[
        str | None,
        typer.Option(help="Income account (default Income:Sales:Products, or :Services)."),
    ] = None,
    cost: Annotated[str | None, typer.Option(help="Unit cost, needs --cost-account.")] = None,
    cost_currency: Annotated[
        str | None, typer.Option(help="Currency of the cost (default: base currency).")
    ] = None,
    cost_account: Annotated[str | None, typer.Option(help="Expenses account.")] = None,
    service: Annotated[bool, typer.Option("--service", help="A service, not a good.")] = False,
    description: Annotated[str, typer.Option(help="Free text.")] = "",
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Add a product (or a service with --service) to the catalogue."""
    kind = ProductKind.SERVICE if service else ProductKind.GOOD
    product = Product(
        sku=sku,
        name=name,
        description=description,
        unit=unit,
        kind=kind,
        prices=parse_prices(price or []),
        tax_category=tax_category,
        income_account=income_account or DEFAULT_INCOME[kind],
        cost=None if cost is None else _decimal("cost", cost),
        cost_account=cost_account,
    )
    stored = state.app.products.add(product, cost_currency=cost_currency)
    if fmt is OutputFormat.json:
        print(dumps(document(stored)))
        return
    console.print(f"Product {stored.id} [bold]{stored.sku}[/bold] added.")


@product_app.command("list")
def product_list(
    show_all: Annotated[
        bool, typer.Option("--all", help="Include products no longer sold.")
    ] = False,
    kind: Annotated[ProductKind | None, typer.Option()] = None,
    search: Annotated[
        str | None, typer.Option(help="A SKU or name fragment.", show_default=False)
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 500,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The catalogue by SKU; active products only unless --all."""
    found = state.app.products.list(
        ProductQuery(limit=limit, active=None if show_all else True, kind=kind, search=search)
    )
    emit(
        [_row(p) for p in found],
        fmt,
        title="Products",
        document={"items": [document(p) for p in found]},
    )
