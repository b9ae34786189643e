"""The product form: a product's fields and its list prices, one row per currency.

Price rows are repeated inputs (``price_currency``, ``price_amount``); blank rows are
dropped, and the rows shown again are the ones typed, so ``prices[1].amount`` in a
service's error is the second row on the page::

    draft = read(form)
    product = to_product(draft)          # None with draft.errors set
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from starlette.datastructures import FormData

from crmledger.core.crm.products import Price, Product, ProductKind
from crmledger.core.errors import LedgerError
from crmledger.web import forms
from crmledger.web.crm_view import words

LIMITS = {
    "sku": 64,
    "name": 200,
    "description": 2000,
    "unit": 20,
    "kind": 20,
    "tax_category": 40,
    "income_account": 200,
    "cost": 40,
    "cost_account": 200,
    "active": 10,
    "version": 12,
}
RULES = {
    r"prices\[(\d+)\]\.(amount|currency)": r"price-\2-\1",
    r"prices": "price-amount-0",
    r"cost_currency": "cost",
    r"(sku|name|description|unit|kind|tax_category|income_account|cost|cost_account)": r"\1",
}
LABELS = {
    "sku": "SKU",
    "name": "Name",
    "description": "Description",
    "unit": "Unit",
    "tax_category": "Tax category",
    "income_account": "Income account",
    "cost": "Cost",
    "cost_account": "Cost account",
}
KINDS = [(k.value, words(k.value)) for k in ProductKind]
BLANK_PRICES = 2


@dataclass
class ProductForm:
    """The form's values, its price rows (currency, amount) and what is wrong."""

    values: dict[str, str]
    prices: list[tuple[str, str]]
    errors: forms.Errors = field(default_factory=forms.Errors)

    def rows(self) -> list[tuple[str, str]]:
        """The price rows to show: the typed ones and blank ones to add more."""
        return [*self.prices, *[("", "")] * BLANK_PRICES]

    def place(self, error: LedgerError) -> None:
        """Show a service's error next to its input."""
        forms.place(self.errors, error, RULES, LABELS)


def blank(currency: str) -> ProductForm:
    """An empty form: an active good taxed at the standard rate, priced in ``currency``."""
    values = dict.fromkeys(LIMITS, "")
    values |= {"unit": "pc", "kind": "good", "tax_category": "standard", "active": "on"}
    values["income_account"] = "Income:Sales"  # the page picks the chart's own
    return ProductForm(values, [(currency, "")])


def read(form: FormData) -> ProductForm:
    """The form as typed (blank price rows dropped)."""
    values = {name: forms.value(form, name, limit) for name, limit in LIMITS.items()}
    currencies = forms.values(form, "price_currency", 30, 50)
    amounts = forms.values(form, "price_amount", 40, 50)
    count = max(len(currencies), len(amounts))
    rows = [
        (currencies[i] if i < len(currencies) else "", amounts[i] if i < len(amounts) else "")
        for i in range(count)
    ]
    return ProductForm(values, [(c.upper(), a) for c, a in rows if c or a])


def of_product(product: Product) -> ProductForm:
    """The form filled from a stored product."""
    values = {
        "sku": product.sku,
        "name": product.name,
        "description": product.description,
        "unit": product.unit,
        "kind": product.kind.value,
        "tax_category": product.tax_category,
        "income_account": product.income_account,
        "cost": "" if product.cost is None else str(product.cost),
        "cost_account": product.cost_account or "",
        "active": "on" if product.active else "",
        "version": str(product.version),
    }
    return ProductForm(values, [(p.currency, str(p.amount)) for p in product.prices])


def _prices(draft: ProductForm) -> tuple[Price, ...]:
    prices = []
    for index, (currency, raw) in enumerate(draft.prices):
        name = f"price-amount-{index}"
        amount = forms.decimal(raw, name, draft.errors, "Price")
        if not currency:
            draft.errors.add(f"price-currency-{index}", "Enter the price's currency, e.g. EUR.")
        if amount is None and name not in draft.errors:
            draft.errors.add(name, "Enter the price or clear the row.")
        if amount is not None and currency:
            prices.append(Price(currency, amount))
    return tuple(prices)


def values(draft: ProductForm) -> dict[str, Any] | None:
    """The product's fields as typed (None with errors set when a value is unreadable)."""
    v = draft.values
    try:
        kind = ProductKind(v["kind"] or "good")
    except ValueError:
        draft.errors.add("kind", "Choose good or service.")
        kind = ProductKind.GOOD
    cost: Decimal | None = forms.decimal(v["cost"], "cost", draft.errors, "Cost")
    found: dict[str, Any] = {
        "sku": v["sku"],
        "name": v["name"],
        "description": v["description"],
        "unit": v["unit"],
        "kind": kind,
        "tax_category": v["tax_category"],
        "income_account": v["income_account"],
        "cost": cost,
        "cost_account": v["cost_account"] or None,
        "active": v["active"] == "on",
        "prices": _prices(draft),
    }
    return None if draft.errors else found


def to_product(draft: ProductForm) -> Product | None:
    """A new product from the form (None with errors set)."""
    found = values(draft)
    return None if found is None else Product(**found)


def version(draft: ProductForm) -> int | None:
    """The version the form was read at (None when missing)."""
    text = draft.values["version"]
    return int(text) if text.isdigit() and len(text) < 10 else None
