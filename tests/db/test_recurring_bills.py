"""Recurring vendor bills on both databases: each due date is billed once, however often or
however concurrently the run repeats; the end date is respected; each bill posts expenses
and input tax against the payable; a bill that cannot be written leaves nothing behind."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from crmledger.bootstrap import App
from crmledger.core.access import PermissionDeniedError, Principal, Role
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.core.errors import InvalidFieldError
from crmledger.services.billing_common import MissingRateError
from crmledger.services.invoicing import DocumentLine
from crmledger.services.recurring_bills import NewSchedule
from crmledger.services.trail import Actor
from tests.db.test_expenses import balance

D = Decimal


def vendor(app: App, name: str = "Hausverwaltung Nord") -> int:
    return int(app.parties.add(Party(kind=PartyKind.ORGANISATION, display_name=name)).id or 0)


def rent(party: int, **changes: object) -> NewSchedule:
    values: dict[str, object] = {
        "party_id": party,
        "frequency": "monthly",
        "starts_on": date(2026, 4, 1),
        "reference": "Lease 7/B",
        "lines": [
            DocumentLine(
                description="Office rent", unit_price=D("1000.00"), account="Expenses:Rent"
            ),
            DocumentLine(
                description="Cleaning",
                quantity=D(2),
                unit_price=D("45.50"),
                tax_category="reduced",
                account="Expenses:Office",
            ),
        ],
    }
    return NewSchedule(**(values | changes))  # type: ignore[arg-type]


def count(app: App, table: str) -> int:
    with app.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def test_due_bills_are_issued_once_and_post_their_amounts(app: App) -> None:
    party = vendor(app)
    schedule = app.recurring_bills.create(rent(party))
    assert (schedule.next_on, schedule.status, schedule.bills) == (date(2026, 4, 1), "active", ())
    first = app.recurring_bills.run(date(2026, 6, 30))
    assert [(b.issued_on, b.number, b.status) for b in first] == [
        (date(2026, 4, 1), "BILL-2026-0001", "issued"),
        (date(2026, 5, 1), "BILL-2026-0002", "issued"),
        (date(2026, 6, 1), "BILL-2026-0003", "issued"),
    ]
    # 1,000.00 + 19 % and 2 x 45.50 + 7 %: 1,190.00 + 97.37 = 1,287.37 a month
    assert {(b.net, b.tax, b.gross) for b in first} == {(D("1091.00"), D("196.37"), D("1287.37"))}
    assert first[0].reference == "Lease 7/B"
    assert balance(app, "Liabilities:Payables:Vendors", str(party)) == {"EUR": -386211}
    assert balance(app, "Expenses:Rent") == {"EUR": 300000}
    assert balance(app, "Expenses:Office") == {"EUR": 27300}
    assert balance(app, "Assets:Tax:Input") == {"EUR": 58911}
    assert app.recurring_bills.run(date(2026, 6, 30)) == []
    again = app.recurring_bills.get(schedule.id)
    assert again.next_on == date(2026, 7, 1)
    assert [d for d, _ in again.bills] == [date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1)]
    assert [bill for _, bill in again.bills] == [b.id for b in first]
    assert [b.issued_on for b in app.recurring_bills.run(date(2026, 7, 1))] == [date(2026, 7, 1)]
    assert count(app, "billing_documents") == 4
    assert app.audit.verify().ok


def test_the_end_date_is_respected(app: App) -> None:
    party = vendor(app)
    schedule = app.recurring_bills.create(
        rent(
            party,
            frequency="quarterly",
            starts_on=date(2026, 1, 31),
            ends_on=date(2026, 8, 31),
        )
    )
    billed = app.recurring_bills.run(date(2027, 12, 31))
    assert [b.issued_on for b in billed] == [
        date(2026, 1, 31),
        date(2026, 4, 30),
        date(2026, 7, 31),
    ]
    ended = app.recurring_bills.get(schedule.id)
    assert (ended.status, ended.next_on) == ("ended", date(2026, 10, 31))
    assert app.recurring_bills.run(date(2028, 12, 31)) == []


def test_concurrent_runs_bill_each_date_once(app: App) -> None:
    party = vendor(app)
    app.recurring_bills.create(rent(party))
    app.recurring_bills.create(rent(party, frequency="yearly", reference="Insurance"))
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(len(app.recurring_bills.run(date(2026, 9, 30))))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(results) == 7  # April to September, and the yearly one
    assert count(app, "recurring_bill_runs") == 7
    assert count(app, "billing_documents") == 7
    assert app.audit.verify().ok


def test_a_bill_that_cannot_be_written_leaves_nothing_behind(app: App) -> None:
    party = vendor(app, "Cloud Services Inc")
    schedule = app.recurring_bills.create(
        rent(
            party,
            currency="USD",
            lines=[
                DocumentLine(
                    description="Hosting", unit_price=D("200.00"), account="Expenses:Software"
                )
            ],
        )
    )
    with pytest.raises(MissingRateError):
        app.recurring_bills.run(date(2026, 5, 31))  # no USD rate yet
    assert (count(app, "billing_documents"), count(app, "recurring_bill_runs")) == (0, 0)
    assert app.recurring_bills.get(schedule.id).next_on == date(2026, 4, 1)
    app.rates.set_rate("USD", date(2026, 1, 1), D("0.90"))
    billed = app.recurring_bills.run(date(2026, 5, 31))
    assert [(b.issued_on, b.currency, b.gross) for b in billed] == [
        (date(2026, 4, 1), "USD", D("238.00")),
        (date(2026, 5, 1), "USD", D("238.00")),
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"frequency": "weekly"}, "frequency"),
        ({"ends_on": date(2026, 3, 1)}, "ends_on"),
        ({"party_id": 999}, "party_id"),
        ({"lines": []}, "lines"),
        (
            {"lines": [DocumentLine(description="x", unit_price=D(1), account="Expenses:Nope")]},
            "lines[0].account",
        ),
        ({"lines": [DocumentLine(description="x", unit_price=D("1.001"))]}, "lines[0].unit_price"),
    ],
)
def test_a_bad_schedule_is_refused_naming_its_field(
    app: App, changes: dict[str, object], field: str
) -> None:
    party = vendor(app)
    with pytest.raises(InvalidFieldError) as refused:
        app.recurring_bills.create(rent(party, **changes))
    assert refused.value.field == field
    assert count(app, "recurring_bills") == 0


def test_only_billing_writers_schedule_bills(app: App) -> None:
    party = vendor(app)
    user = app.access.add_user("sam@example.com", Role.SALES, "correct horse battery")
    sales = app.acting_as(Actor(Principal(user.id, f"user:{user.id}", Role.SALES)))
    with pytest.raises(PermissionDeniedError):
        sales.recurring_bills.create(rent(party))
    with pytest.raises(PermissionDeniedError):
        sales.recurring_bills.run(date(2026, 6, 30))
    assert sales.recurring_bills.page(10) == []
