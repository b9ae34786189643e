"""The catalogue: products and services with a list price per currency, one transaction each.

The rules of a product are ``core.crm.products``'s; this module checks what needs the book:
the income account is an ``Income`` account of the chart, the cost account an ``Expenses``
one, the tax category is known, the SKU is free, every amount fits its currency's scale::

    products = ProductService(uow, clock).acting_as(actor)
    widget = products.add(Product(sku="WID-1", name="Widget", income_account="Income:Sales",
                                  prices=(Price("EUR", Decimal("9.90")),)))
    products.update(widget.id, {"active": False}, if_version=widget.version)

A cost is counted in ``cost_currency`` (the book's base currency unless given) and stored in
its minor units like every amount, so a cost with more decimals than the currency has is
refused, as a price is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from crmledger.core.accounts import AccountType
from crmledger.core.crm.products import Price, Product, ProductKind, validate_product
from crmledger.core.currencies import iso_currency
from crmledger.core.errors import ExcessPrecisionError, InvalidFieldError
from crmledger.core.money import from_minor, to_minor
from crmledger.services.crm_ports import ProductQuery, ProductRow
from crmledger.services.errors import ConflictError, NotFoundError, VersionConflictError
from crmledger.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from crmledger.services.trail import OPERATOR, Actor, record

#: Largest amount in minor units a BIGINT column holds.
MAX_MINOR = 2**63 - 1
DESCRIPTION_MAX = 2000
_READ_ONLY = frozenset({"id", "version"})
_CHANGEABLE = frozenset(f.name for f in fields(Product)) - _READ_ONLY | {"cost_currency"}


class DuplicateSkuError(ConflictError):
    """Another product has this SKU already; SKUs are unique in the catalogue."""

    field = "sku"


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredProduct(Product):
    """A product as stored: the currency its cost is counted in, when it was created and
    last changed."""

    cost_currency: str | None = None
    created_at: datetime
    updated_at: datetime

    @property
    def key(self) -> int:
        """The product's id (always set on a stored product)."""
        assert self.id is not None
        return self.id


# -- amounts ------------------------------------------------------------------------------


def scale_of(currency: str, scales: Mapping[str, int], field: str = "currency") -> int:
    """Decimal places of ``currency``: the book's commodity, else ISO 4217; refuse others."""
    if currency in scales:
        return scales[currency]
    found = iso_currency(currency)
    if found is None:
        raise InvalidFieldError(field, f"unknown currency {currency!r}")
    return found.scale


def minor_units(field: str, amount: Decimal, currency: str, scales: Mapping[str, int]) -> int:
    """``amount`` in minor units of ``currency``; more decimals than it has, or more than
    a database column holds, are refused naming ``field``."""
    scale = scale_of(currency, scales)
    if not amount.is_finite():
        raise InvalidFieldError(field, "not a finite number")
    try:
        minor = to_minor(amount, scale, currency)
    except ExcessPrecisionError as err:
        raise InvalidFieldError(field, str(err)) from err
    if abs(minor) > MAX_MINOR:
        raise InvalidFieldError(field, "the amount is too large")
    return minor


def book_scales(uow: UnitOfWork) -> dict[str, int]:
    """The scales of the book's declared commodities (ISO currencies need none)."""
    return uow.ledger.scales()


# -- rows and views -----------------------------------------------------------------------


def decode_product(row: ProductRow, scales: Mapping[str, int]) -> StoredProduct:
    """The stored product a row holds."""
    cost = None
    if row.cost_minor is not None and row.cost_currency is not None:
        cost = from_minor(row.cost_minor, scale_of(row.cost_currency, scales))
    return StoredProduct(
        id=row.id,
        sku=row.sku,
        name=row.name,
        description=row.description,
        unit=row.unit,
        prices=tuple(Price(c, from_minor(m, scale_of(c, scales))) for c, m in row.prices),
        tax_category=row.tax_category,
        income_account=row.income_account,
        cost=cost,
        cost_account=row.cost_account,
        active=row.active,
        kind=ProductKind(row.kind),
        version=row.version,
        cost_currency=row.cost_currency,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _encode(product: StoredProduct, scales: Mapping[str, int]) -> ProductRow:
    prices = sorted(
        (p.currency, minor_units(f"prices[{i}].amount", p.amount, p.currency, scales))
        for i, p in enumerate(product.prices)
    )
    cost = None
    if product.cost is not None and product.cost_currency is not None:
        cost = minor_units("cost", product.cost, product.cost_currency, scales)
    return ProductRow(
        id=product.id or 0,
        sku=product.sku,
        name=product.name,
        description=product.description,
        unit=product.unit,
        kind=product.kind.value,
        tax_category=product.tax_category,
        income_account=product.income_account,
        cost_minor=cost,
        cost_currency=product.cost_currency if cost is not None else None,
        cost_account=product.cost_account,
        active=product.active,
        version=product.version,
        created_at=product.created_at,
        updated_at=product.updated_at,
        prices=tuple(prices),
    )


def audit_view(product: StoredProduct) -> dict[str, Any]:
    """The product as the audit log records it (``name`` is a personal key there)."""
    return {
        "sku": product.sku,
        "product_name": product.name,
        "description": product.description,
        "unit": product.unit,
        "kind": product.kind.value,
        "tax_category": product.tax_category,
        "income_account": product.income_account,
        "prices": {p.currency: str(p.amount) for p in product.prices},
        "cost": None if product.cost is None else str(product.cost),
        "cost_currency": product.cost_currency,
        "cost_account": product.cost_account,
        "active": product.active,
    }


# -- rules that need the book ---------------------------------------------------------------


def _check_account(field: str, name: str, kind: AccountType, uow: UnitOfWork) -> None:
    found = uow.ledger.accounts().get(name)
    if found is None:
        raise InvalidFieldError(field, f"no account {name!r} in the chart")
    if found[1].type is not kind:
        raise InvalidFieldError(field, f"{name!r} is not an {kind.value} account")


def _check(uow: UnitOfWork, product: StoredProduct, scales: Mapping[str, int]) -> ProductRow:
    validate_product(product, scales)
    if len(product.description) > DESCRIPTION_MAX:
        raise InvalidFieldError("description", f"is longer than {DESCRIPTION_MAX} characters")
    categories = {r.category for r in uow.commerce.tax_categories()}
    if product.tax_category not in categories:
        known = ", ".join(sorted(categories))
        raise InvalidFieldError(
            "tax_category", f"no tax category {product.tax_category!r} ({known})"
        )
    _check_account("income_account", product.income_account, AccountType.INCOME, uow)
    if product.cost_account is not None:
        _check_account("cost_account", product.cost_account, AccountType.EXPENSES, uow)
    if product.cost is None and product.cost_currency is not None:
        raise InvalidFieldError("cost_currency", "a cost currency without a cost")
    if product.cost is not None and product.cost_currency is None:
        raise InvalidFieldError("cost_currency", "a cost needs the currency it is counted in")
    if product.cost_currency is not None:
        scale_of(product.cost_currency, scales, "cost_currency")
    return _encode(product, scales)


class ProductService:
    """The use cases on the catalogue."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, actor: Actor = OPERATOR) -> None:
        self._uow = uow
        self._clock = clock
        self._actor = actor

    def acting_as(self, actor: Actor) -> ProductService:
        """The same service for another actor."""
        return ProductService(self._uow, self._clock, actor)

    def _stored(
        self, uow: UnitOfWork, product: Product, cost_currency: str | None, at: datetime
    ) -> StoredProduct:
        if product.cost is not None and cost_currency is None:
            cost_currency = uow.ledger.get_setting("base_currency")
        values = {f.name: getattr(product, f.name) for f in fields(Product)}
        return StoredProduct(
            **values | {"version": 1}, cost_currency=cost_currency, created_at=at, updated_at=at
        )

    def add(self, product: Product, cost_currency: str | None = None) -> StoredProduct:
        """Check and store one product; errors name the field (``prices[0].amount``)."""
        return self._add([product], cost_currency, prefix=False)[0]

    def add_many(
        self, products: Sequence[Product], cost_currency: str | None = None
    ) -> list[StoredProduct]:
        """Store ``products`` (a CSV import) all or none; an error names the product's
        index and field (``products[3].prices[0].amount``)."""
        return self._add(products, cost_currency, prefix=True)

    def _add(
        self, products: Sequence[Product], cost_currency: str | None, prefix: bool
    ) -> list[StoredProduct]:
        self._actor.require("products", "write")
        at = self._clock.now()
        stored: list[StoredProduct] = []
        with self._uow() as uow:
            scales = book_scales(uow)
            taken = uow.commerce.product_ids_by_sku([p.sku for p in products])
            for index, product in enumerate(products):
                where = f"products[{index}]." if prefix else ""
                try:
                    stored.append(self._insert(uow, product, cost_currency, at, scales, taken))
                except InvalidFieldError as err:
                    raise InvalidFieldError(where + err.field, str(err)) from err
            uow.commit()
        return stored

    def _insert(
        self,
        uow: UnitOfWork,
        product: Product,
        cost_currency: str | None,
        at: datetime,
        scales: Mapping[str, int],
        taken: dict[str, int],
    ) -> StoredProduct:
        ready = self._stored(uow, product, cost_currency, at)
        row = _check(uow, ready, scales)
        if product.sku in taken:
            raise DuplicateSkuError(f"a product with SKU {product.sku!r} exists already")
        new_id = uow.commerce.insert_product(row)
        taken[product.sku] = new_id
        ready = decode_product(replace(row, id=new_id), scales)
        record(uow, self._actor, at, "product.create", "product", new_id, None, audit_view(ready))
        return ready

    def get(self, product_id: int) -> StoredProduct:
        """One product; :class:`NotFoundError` when there is none."""
        self._actor.require("products", "read")
        with self._uow(readonly=True) as uow:
            return _load(uow, product_id)

    def by_sku(self, sku: str) -> StoredProduct:
        """The product with ``sku``; :class:`NotFoundError` when there is none."""
        self._actor.require("products", "read")
        with self._uow(readonly=True) as uow:
            found = uow.commerce.product_ids_by_sku([sku]).get(sku)
            if found is None:
                raise NotFoundError(f"no product with SKU {sku!r}")
            return _load(uow, found)

    def update(
        self, product_id: int, changes: Mapping[str, Any], if_version: int | None
    ) -> StoredProduct:
        """Change the named fields (``prices`` as a whole); ``if_version`` must be current.
        Clearing the ``cost`` clears its account and currency too."""
        self._actor.require("products", "write")
        bad = sorted(set(changes) - _CHANGEABLE)
        if bad:
            raise InvalidFieldError(bad[0], "cannot be changed")
        at = self._clock.now()
        with self._uow() as uow:
            before = _load(uow, product_id)
            if if_version is not None and before.version != if_version:
                raise VersionConflictError(f"product {product_id}", if_version, before.version)
            after = replace(before, **_completed(changes))
            if after.cost is not None and after.cost_currency is None:
                after = replace(after, cost_currency=uow.ledger.get_setting("base_currency"))
            after = replace(after, version=before.version + 1, updated_at=at)
            scales = book_scales(uow)
            row = _check(uow, after, scales)
            after = decode_product(row, scales)
            owner = uow.commerce.product_ids_by_sku([after.sku]).get(after.sku)
            if owner not in (None, product_id):
                raise DuplicateSkuError(f"a product with SKU {after.sku!r} exists already")
            if not uow.commerce.update_product(row, before.version):
                raise VersionConflictError(f"product {product_id}", before.version, after.version)
            view_before, view_after = audit_view(before), audit_view(after)
            record(
                uow,
                self._actor,
                at,
                "product.update",
                "product",
                product_id,
                view_before,
                view_after,
            )
            uow.commit()
        return after

    def list(self, query: ProductQuery) -> list[StoredProduct]:
        """A page of products by SKU (see :class:`ProductQuery`)."""
        self._actor.require("products", "read")
        with self._uow(readonly=True) as uow:
            scales = book_scales(uow)
            return [decode_product(r, scales) for r in uow.commerce.product_page(query)]


def _completed(changes: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` with a cleared cost clearing its account and currency (a new cost is
    counted in the old cost's currency unless another is named)."""
    out = dict(changes)
    if "cost" in out and out["cost"] is None:
        out.setdefault("cost_account", None)
        out.setdefault("cost_currency", None)
    return out


def _load(uow: UnitOfWork, product_id: int) -> StoredProduct:
    row = uow.commerce.product(product_id)
    if row is None:
        raise NotFoundError(f"no product {product_id}")
    return decode_product(row, book_scales(uow))
