"""Examples for products, quotes, sales orders and contracts.

A path example is called once per (operation, role), so each call makes a fresh document: a
draft quote or order can be sent, accepted, confirmed or cancelled by the role under test
without the previous role's call having moved it on.
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

from crmledger.core.crm.contracts import Contract, Frequency, PriceChange
from crmledger.core.crm.products import Price, Product
from crmledger.services.sales import DraftLine
from tests.api.examples.parties import organisation

_n = itertools.count(1)


def product(api: Any) -> int:
    stored = api.book.products.add(
        Product(
            sku=f"EX-{next(_n)}",
            name="Example widget",
            income_account="Income:Sales:Products",
            prices=(Price("EUR", Decimal("9.90")),),
        )
    )
    return int(stored.key)


def quote(api: Any) -> int:
    drafted = api.book.sales.create_quote(
        organisation(api), "EUR", [DraftLine(product_id=product(api), quantity=Decimal(2))]
    )
    return int(drafted.id)


def order(api: Any) -> int:
    drafted = api.book.sales.create_order(
        organisation(api), "EUR", [DraftLine(description="Setup", unit_price=Decimal("90"))]
    )
    return int(drafted.id)


def contract(api: Any) -> int:
    start = date(2026, 1, 31)
    stored = api.book.contracts.create(
        Contract(
            party_id=organisation(api),
            description="Support",
            currency="EUR",
            frequency=Frequency.MONTHLY,
            start=start,
            next_billing=start,
            prices=(PriceChange(start, Decimal("99.00")),),
        )
    )
    return int(stored.key)


def _lines(api: Any) -> list[dict[str, Any]]:
    return [
        {"product_id": product(api), "quantity": "3"},
        {"description": "Installation", "unit_price": "120.00", "tax_category": "reduced"},
    ]


BODIES: dict[str, Any] = {
    "createProduct": lambda api: {
        "sku": f"MX-{next(_n)}",
        "name": "Matrix widget",
        "prices": [{"currency": "EUR", "amount": "19.90"}, {"currency": "JPY", "amount": "2500"}],
    },
    "updateProduct": lambda api: {"active": False},
    "previewQuote": lambda api: {"currency": "EUR", "lines": _lines(api)},
    "createQuote": lambda api: {
        "party_id": organisation(api),
        "currency": "EUR",
        "lines": _lines(api),
        "valid_until": "2026-12-31",
    },
    "updateQuote": lambda api: {"valid_until": "2026-12-31"},
    "createOrder": lambda api: {
        "party_id": organisation(api),
        "currency": "EUR",
        "lines": _lines(api),
    },
    "createContract": lambda api: {
        "party_id": organisation(api),
        "product_id": product(api),
        "currency": "EUR",
        "frequency": "quarterly",
        "start": "2026-01-15",
    },
    "updateContract": lambda api: {"description": "Premium support"},
    "addContractPrice": lambda api: {"effective": "2026-09-01", "amount": "12.00"},
}

PATHS: dict[str, Any] = {
    "{product_id}": product,
    "{quote_id}": quote,
    "{order_id}": order,
    "{contract_id}": contract,
}
