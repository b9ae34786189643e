"""The catalogue on both databases: prices exact to their currency, accounts of the chart,
unique SKUs, optimistic updates, filtered keyset pages; every refusal names its field and
stores nothing."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from crmledger.bootstrap import App
from crmledger.core.access import PermissionDeniedError, Principal, Role
from crmledger.core.crm.products import Price, Product, ProductKind
from crmledger.core.errors import InvalidFieldError
from crmledger.services.crm_ports import ProductQuery
from crmledger.services.errors import NotFoundError, VersionConflictError
from crmledger.services.products import DuplicateSkuError
from crmledger.services.trail import Actor

D = Decimal


def widget(sku: str = "WID-1", **changes: object) -> Product:
    product = Product(
        sku=sku,
        name="Widget",
        income_account="Income:Sales:Products",
        prices=(Price("EUR", D("9.90")), Price("JPY", D("1300"))),
    )
    return replace(product, **changes)


def as_role(app: App, role: Role) -> App:
    return app.acting_as(Actor(Principal(user_id=99, label="t", role=role, via="test")))


def audit_count(app: App) -> int:
    return len(app.audit.log(limit=1000))


def test_a_product_is_stored_with_exact_prices_and_read_back(app: App) -> None:
    stored = app.products.add(
        widget(cost=D("4.1"), cost_account="Expenses:COGS", description="Blue")
    )
    assert stored.id is not None
    assert stored.version == 1
    assert stored.price("EUR") == D("9.90")
    assert stored.price("JPY") == D("1300")
    assert stored.cost == D("4.10")
    assert stored.cost_currency == "EUR"
    assert app.products.get(stored.key) == stored
    assert app.products.by_sku("WID-1") == stored
    [record] = app.audit.log(limit=1)
    assert record.action == "product.create"
    assert record.changes["after"]["product_name"] == "Widget"
    assert record.changes["after"]["prices"] == {"EUR": "9.90", "JPY": "1300"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"prices": (Price("JPY", D("1300.5")),)}, "prices[0].amount"),
        ({"prices": (Price("EUR", D("1")), Price("EUR", D("2")))}, "prices[1].currency"),
        ({"prices": (Price("XXQ", D("1")),)}, "prices[0].currency"),
        ({"prices": (Price("EUR", D("-1")),)}, "prices[0].amount"),
        ({"sku": "-bad"}, "sku"),
        ({"name": " "}, "name"),
        ({"tax_category": "luxury"}, "tax_category"),
        ({"income_account": "Income:Nowhere"}, "income_account"),
        ({"income_account": "Expenses:COGS"}, "income_account"),
        ({"cost": D("4"), "cost_account": "Income:Other"}, "cost_account"),
        ({"cost": D("4"), "cost_account": "Expenses:Nowhere"}, "cost_account"),
        ({"cost": D("4")}, "cost_account"),
        ({"cost": D("4.001"), "cost_account": "Expenses:COGS"}, "cost"),
        ({"description": "x" * 2001}, "description"),
    ],
)
def test_a_bad_product_is_refused_naming_the_field_and_nothing_is_stored(
    app: App, change: dict[str, object], field: str
) -> None:
    before = audit_count(app)
    with pytest.raises(InvalidFieldError) as caught:
        app.products.add(widget(**change))
    assert caught.value.field == field, caught.value
    assert app.products.list(ProductQuery()) == []
    assert audit_count(app) == before


def test_a_cost_in_another_currency_keeps_that_currency_s_scale(app: App) -> None:
    product = widget(cost=D("250"), cost_account="Expenses:COGS")
    assert app.products.add(product, cost_currency="JPY").cost_currency == "JPY"
    with pytest.raises(InvalidFieldError) as caught:
        app.products.add(replace(product, sku="WID-2", cost=D("250.5")), cost_currency="JPY")
    assert caught.value.field == "cost"
    with pytest.raises(InvalidFieldError) as caught:
        app.products.add(replace(product, sku="WID-3"), cost_currency="XXQ")
    assert caught.value.field == "cost_currency"


def test_skus_are_unique_and_a_batch_is_all_or_nothing(app: App) -> None:
    app.products.add(widget())
    with pytest.raises(DuplicateSkuError):
        app.products.add(widget(name="Another"))
    batch = [widget("A-1"), widget("A-2", prices=(Price("EUR", D("0.001")),)), widget("A-3")]
    with pytest.raises(InvalidFieldError) as caught:
        app.products.add_many(batch)
    assert caught.value.field == "products[1].prices[0].amount"
    with pytest.raises(DuplicateSkuError):
        app.products.add_many([widget("B-1"), widget("B-1")])
    assert [p.sku for p in app.products.list(ProductQuery())] == ["WID-1"]
    added = app.products.add_many([widget("C-1"), widget("C-2", kind=ProductKind.SERVICE)])
    assert [p.sku for p in added] == ["C-1", "C-2"]
    assert len(app.products.list(ProductQuery())) == 3


def test_the_database_refuses_a_second_sku_and_a_negative_price(app: App) -> None:
    stored = app.products.add(widget())
    with app.engine.connect() as conn, pytest.raises(IntegrityError):
        conn.execute(
            text("UPDATE product_prices SET amount_minor = -1 WHERE product_id = :id"),
            {"id": stored.key},
        )
    app.products.add(widget("WID-2"))
    with app.engine.connect() as conn, pytest.raises(IntegrityError):
        conn.execute(text("UPDATE products SET sku = 'WID-1' WHERE sku = 'WID-2'"))


def test_update_checks_the_version_and_the_rules(app: App) -> None:
    stored = app.products.add(widget(cost=D("4"), cost_account="Expenses:COGS"))
    changed = app.products.update(
        stored.key, {"prices": (Price("USD", D("10.50")),), "name": "Widget Pro"}, stored.version
    )
    assert changed.version == 2
    assert changed.prices == (Price("USD", D("10.50")),)
    assert app.products.get(stored.key) == changed
    with pytest.raises(VersionConflictError):
        app.products.update(stored.key, {"active": False}, if_version=1)
    with pytest.raises(InvalidFieldError) as caught:
        app.products.update(stored.key, {"prices": (Price("USD", D("1.001")),)}, 2)
    assert caught.value.field == "prices[0].amount"
    with pytest.raises(InvalidFieldError) as caught:
        app.products.update(stored.key, {"version": 7}, 2)
    assert caught.value.field == "version"
    app.products.add(widget("WID-2"))
    with pytest.raises(DuplicateSkuError):
        app.products.update(stored.key, {"sku": "WID-2"}, 2)
    assert app.products.get(stored.key) == changed
    cleared = app.products.update(stored.key, {"cost": None}, 2)
    assert (cleared.cost, cleared.cost_account, cleared.cost_currency) == (None, None, None)
    with pytest.raises(NotFoundError):
        app.products.update(999, {"active": False}, None)


def test_lists_filter_and_page_by_sku(app: App) -> None:
    app.products.add_many(
        [
            widget("B-2", name="Blue 100% Wool"),
            widget("A-1", name="Apple"),
            widget("C_3", name="Consulting", kind=ProductKind.SERVICE, tax_category="reduced"),
            widget("D-4", name="Drum", active=False),
            widget("E-5", name="Eel"),
        ]
    )
    skus = [p.sku for p in app.products.list(ProductQuery())]
    assert skus == ["A-1", "B-2", "C_3", "D-4", "E-5"]
    pages, after = [], None
    while True:
        page = app.products.list(ProductQuery(limit=2, after=after))
        pages.append([p.sku for p in page])
        if len(page) < 2:
            break
        after = page[-1].sku
    assert pages == [["A-1", "B-2"], ["C_3", "D-4"], ["E-5"]]

    def skus_of(**filters: object) -> list[str]:
        return [p.sku for p in app.products.list(ProductQuery(**filters))]  # type: ignore[arg-type]

    assert skus_of(active=False) == ["D-4"]
    assert skus_of(active=True, kind="service") == ["C_3"]
    assert skus_of(tax_category="reduced") == ["C_3"]
    assert skus_of(search="wOOL") == ["B-2"]
    assert skus_of(search="%") == ["B-2"]  # a literal percent sign, not a wildcard
    assert skus_of(search="_") == ["C_3"]
    assert skus_of(search="e-5") == ["E-5"]


def test_roles(app: App) -> None:
    stored = app.products.add(widget())
    with pytest.raises(PermissionDeniedError):
        as_role(app, Role.SALES).products.add(widget("WID-2"))
    with pytest.raises(PermissionDeniedError):
        as_role(app, Role.VIEWER).products.update(stored.key, {"active": False}, None)
    assert as_role(app, Role.SALES).products.get(stored.key) == stored
    accountant = as_role(app, Role.ACCOUNTANT).products.add(widget("WID-3"))
    assert app.audit.log(limit=1)[0].actor == "user:99"
    assert accountant.sku == "WID-3"
