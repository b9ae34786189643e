"""Recurring contracts on both databases: billing dates counted from the start, prices that
change from a date, ends and cancellations, and the list of what is due to bill."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from crmledger.bootstrap import App
from crmledger.core.access import PermissionDeniedError, Principal, Role
from crmledger.core.crm.contracts import Contract, ContractStatus, Frequency, PriceChange
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.core.crm.products import Price, Product
from crmledger.core.errors import InvalidFieldError, TransitionError
from crmledger.services.crm_ports import ContractQuery
from crmledger.services.errors import NotFoundError, VersionConflictError
from crmledger.services.trail import Actor

D = Decimal
JAN31 = date(2026, 1, 31)


def party(app: App) -> int:
    return int(app.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Acme")).id or 0)


def support(customer: int, **changes: object) -> Contract:
    contract = Contract(
        party_id=customer,
        description="Support",
        currency="EUR",
        frequency=Frequency.MONTHLY,
        start=JAN31,
        next_billing=JAN31,
        prices=(PriceChange(JAN31, D("99.00")),),
    )
    return replace(contract, **changes)


def dues(app: App, through: date) -> list[tuple[int, str, str]]:
    return [(d.contract.key, d.day.isoformat(), str(d.amount)) for d in app.contracts.due(through)]


def test_billing_dates_count_from_the_start_and_prices_change_from_a_date(app: App) -> None:
    stored = app.contracts.create(support(party(app)))
    assert app.contracts.get(stored.key) == stored
    assert dues(app, date(2026, 4, 30)) == [
        (stored.key, "2026-01-31", "99.00"),
        (stored.key, "2026-02-28", "99.00"),
        (stored.key, "2026-03-31", "99.00"),
        (stored.key, "2026-04-30", "99.00"),
    ]
    changed = app.contracts.change_price(stored.key, date(2026, 3, 1), D("109"), stored.version)
    assert changed.version == 2
    assert changed.prices == (
        PriceChange(JAN31, D("99.00")),
        PriceChange(date(2026, 3, 1), D("109.00")),
    )
    assert [amount for _, _, amount in dues(app, date(2026, 4, 30))] == [
        "99.00",
        "99.00",
        "109.00",
        "109.00",
    ]
    assert app.contracts.get(stored.key) == changed
    [record] = app.audit.log(limit=1)
    assert record.action == "contract.price"


def test_quarterly_and_yearly_contracts_and_several_due_by_date(app: App) -> None:
    customer = party(app)
    quarterly = app.contracts.create(
        support(
            customer,
            frequency=Frequency.QUARTERLY,
            start=date(2026, 1, 15),
            next_billing=date(2026, 1, 15),
            prices=(PriceChange(date(2026, 1, 15), D("300")),),
        )
    )
    yearly = app.contracts.create(
        support(
            customer,
            frequency=Frequency.YEARLY,
            start=date(2024, 2, 29),
            next_billing=date(2026, 2, 28),
            prices=(PriceChange(date(2024, 2, 29), D("1000")),),
        )
    )
    assert dues(app, date(2026, 7, 15)) == [
        (quarterly.key, "2026-01-15", "300.00"),
        (yearly.key, "2026-02-28", "1000.00"),
        (quarterly.key, "2026-04-15", "300.00"),
        (quarterly.key, "2026-07-15", "300.00"),
    ]
    due = app.contracts.list(ContractQuery(due_through=date(2026, 1, 31)))
    assert [c.key for c in due] == [quarterly.key]


def test_an_end_stops_billing_and_a_cancelled_contract_bills_no_more(app: App) -> None:
    customer = party(app)
    ending = app.contracts.create(support(customer, end=date(2026, 3, 30)))
    assert [day for _, day, _ in dues(app, date(2026, 12, 31))] == ["2026-01-31", "2026-02-28"]
    moved = app.contracts.update(ending.key, {"end": None}, ending.version)
    assert moved.end is None
    assert len(dues(app, date(2026, 12, 31))) == 12
    cancelled = app.contracts.update(ending.key, {"status": "cancelled"}, moved.version)
    assert cancelled.status is ContractStatus.CANCELLED
    assert dues(app, date(2026, 12, 31)) == []
    with pytest.raises(TransitionError):
        app.contracts.update(ending.key, {"description": "Again"}, None)
    with pytest.raises(TransitionError):
        app.contracts.change_price(ending.key, date(2026, 5, 1), D("1"), None)
    assert app.contracts.get(ending.key) == cancelled
    over = app.contracts.create(
        support(
            customer,
            end=date(2026, 1, 30),
            start=date(2026, 1, 1),
            next_billing=date(2026, 2, 1),
            prices=(PriceChange(date(2026, 1, 1), D(1)),),
        )
    )
    assert over.status is ContractStatus.ENDED


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"party_id": 999}, "party_id"),
        ({"product_id": 999}, "product_id"),
        ({"currency": "XXQ"}, "currency"),
        ({"description": " "}, "description"),
        ({"end": date(2026, 1, 1)}, "end"),
        ({"next_billing": date(2026, 2, 27)}, "next_billing"),
        ({"prices": ()}, "prices"),
        ({"prices": (PriceChange(date(2026, 2, 1), D(1)),)}, "prices[0].effective"),
        ({"prices": (PriceChange(JAN31, D("1.001")),)}, "prices[0].amount"),
        ({"status": ContractStatus.ENDED}, "status"),
    ],
)
def test_a_bad_contract_is_refused_naming_the_field_and_nothing_is_stored(
    app: App, changes: dict[str, object], field: str
) -> None:
    contract = support(party(app), **changes)
    with pytest.raises(InvalidFieldError) as caught:
        app.contracts.create(contract)
    assert caught.value.field == field, caught.value
    assert app.contracts.list(ContractQuery()) == []


def test_a_product_gives_the_description_and_the_first_price(app: App) -> None:
    customer = party(app)
    product = app.products.add(
        Product(
            sku="SUP-1",
            name="Support plan",
            income_account="Income:Sales:Services",
            prices=(Price("EUR", D("49.00")),),
        )
    )
    stored = app.contracts.create(
        support(customer, product_id=product.key, description="", prices=())
    )
    assert stored.description == "Support plan"
    assert stored.prices == (PriceChange(JAN31, D("49.00")),)
    with pytest.raises(InvalidFieldError) as caught:
        app.contracts.create(support(customer, product_id=product.key, currency="USD", prices=()))
    assert caught.value.field == "prices"


def test_price_changes_keep_to_the_contract_and_to_what_is_not_billed_yet(app: App) -> None:
    stored = app.contracts.create(support(party(app), next_billing=date(2026, 3, 31)))
    cases = [
        (date(2026, 1, 1), D(1), "effective"),  # before the start
        (JAN31, D(1), "effective"),  # already has a price on that day
        (date(2026, 2, 28), D(1), "effective"),  # billed already
        (date(2026, 3, 1), D("1.001"), "amount"),
    ]
    for effective, amount, field in cases:
        with pytest.raises(InvalidFieldError) as caught:
            app.contracts.change_price(stored.key, effective, amount, stored.version)
        assert caught.value.field == field, (effective, caught.value)
    with pytest.raises(VersionConflictError):
        app.contracts.change_price(stored.key, date(2026, 3, 1), D(1), 7)
    with pytest.raises(InvalidFieldError) as caught:
        app.contracts.update(stored.key, {"end": date(2026, 2, 1)}, None)
    assert caught.value.field == "end"
    with pytest.raises(InvalidFieldError) as caught:
        app.contracts.update(stored.key, {"frequency": "yearly"}, None)
    assert caught.value.field == "frequency"
    assert app.contracts.get(stored.key) == stored
    with pytest.raises(NotFoundError):
        app.contracts.get(999)


def test_roles(app: App) -> None:
    customer = party(app)
    support_role = app.acting_as(Actor(Principal(user_id=3, label="s", role=Role.SUPPORT)))
    with pytest.raises(PermissionDeniedError):
        support_role.contracts.create(support(customer))
    stored = app.contracts.create(support(customer))
    assert support_role.contracts.get(stored.key) == stored
    assert len(support_role.contracts.due(date(2026, 2, 28))) == 2
