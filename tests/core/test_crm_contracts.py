"""Contracts: month arithmetic anchored on the start day, price history, billing and ending."""

from __future__ import annotations

import calendar
import doctest
import itertools
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmledger.core.crm import contracts
from crmledger.core.crm.contracts import (
    Contract,
    ContractStatus,
    Frequency,
    PriceChange,
    add_months,
    advance,
    billing_date,
    cancel,
    change_price,
    due_billings,
    period_index,
    price_on,
    validate_contract,
)
from crmledger.core.errors import InvalidFieldError, TransitionError

D = Decimal
START = date(2026, 1, 31)


def contract(**changes: Any) -> Contract:
    base = Contract(
        id=1,
        party_id=7,
        description="Support plan",
        currency="EUR",
        frequency=Frequency.MONTHLY,
        start=START,
        next_billing=START,
        prices=(PriceChange(START, D("100.00")),),
    )
    return replace(base, **changes)


def test_docstring_examples_run() -> None:
    result = doctest.testmod(contracts)
    assert result.attempted > 0
    assert result.failed == 0


def test_frequencies_count_months() -> None:
    assert [f.months for f in Frequency] == [1, 3, 12]


# -- month arithmetic ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2026, 1, 30), 1, date(2026, 2, 28)),
        (date(2026, 1, 28), 1, date(2026, 2, 28)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2028, 2, 29), 48, date(2032, 2, 29)),
        (date(2026, 5, 4), 0, date(2026, 5, 4)),
        (date(2026, 2, 28), 1, date(2026, 3, 28)),  # cumulative arithmetic would stay here
    ],
)
def test_add_months_clamps_to_the_end_of_short_months(
    day: date, months: int, expected: date
) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("start", "frequency", "expected"),
    [
        (
            date(2026, 1, 31),
            Frequency.MONTHLY,
            ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31"],
        ),
        (
            date(2025, 11, 30),
            Frequency.QUARTERLY,
            ["2025-11-30", "2026-02-28", "2026-05-30", "2026-08-30", "2026-11-30"],
        ),
        (
            date(2028, 2, 29),
            Frequency.YEARLY,
            ["2028-02-29", "2029-02-28", "2030-02-28", "2031-02-28", "2032-02-29"],
        ),
    ],
)
def test_billing_dates_come_back_to_the_anchor_day(
    start: date, frequency: Frequency, expected: list[str]
) -> None:
    assert [billing_date(start, i, frequency).isoformat() for i in range(5)] == expected


def test_billing_periods_count_from_zero() -> None:
    with pytest.raises(InvalidFieldError) as caught:
        billing_date(START, -1, Frequency.MONTHLY)
    assert caught.value.field == "period_index"


@pytest.mark.parametrize(
    ("day", "frequency", "expected"),
    [
        (date(2026, 1, 31), Frequency.MONTHLY, 0),
        (date(2026, 2, 28), Frequency.MONTHLY, 1),
        (date(2026, 3, 31), Frequency.MONTHLY, 2),
        (date(2026, 3, 28), Frequency.MONTHLY, None),  # off the anchor
        (date(2026, 4, 30), Frequency.QUARTERLY, 1),
        (date(2026, 3, 31), Frequency.QUARTERLY, None),
        (date(2025, 12, 31), Frequency.MONTHLY, None),  # before the start
        (date(2027, 1, 31), Frequency.YEARLY, 1),
    ],
)
def test_period_index(day: date, frequency: Frequency, expected: int | None) -> None:
    assert period_index(START, day, frequency) == expected


# -- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"prices": ()}, "prices"),
        ({"prices": (PriceChange(date(2026, 2, 1), D(1)),)}, "prices[0].effective"),
        (
            {"prices": (PriceChange(START, D(1)), PriceChange(START, D(2)))},
            "prices[1].effective",
        ),
        (
            {
                "prices": (
                    PriceChange(START, D(1)),
                    PriceChange(date(2026, 6, 1), D(2)),
                    PriceChange(date(2026, 3, 1), D(3)),
                )
            },
            "prices[2].effective",
        ),
        ({"prices": (PriceChange(START, D("-1")),)}, "prices[0].amount"),
        ({"prices": (PriceChange(START, D("1.005")),)}, "prices[0].amount"),
        ({"end": date(2026, 1, 30)}, "end"),
        ({"next_billing": date(2026, 3, 28)}, "next_billing"),
        ({"next_billing": date(2025, 12, 31)}, "next_billing"),
        ({"currency": "XXX"}, "currency"),
    ],
)
def test_invalid_contracts_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        validate_contract(contract(**changes))
    assert caught.value.field == field


def test_valid_contracts_pass() -> None:
    for good in (
        contract(),
        contract(end=START, next_billing=date(2026, 3, 31)),  # billing past the end: ended
        contract(currency="JPY", prices=(PriceChange(START, D(5000)),)),
    ):
        assert validate_contract(good) is good
    assert validate_contract(contract(currency="PTS"), {"PTS": 2}).currency == "PTS"


# -- prices -------------------------------------------------------------------------------


def test_price_on_picks_the_latest_change_effective_that_day() -> None:
    c = change_price(contract(), date(2026, 4, 1), D("120.00"))
    c = change_price(c, date(2026, 3, 1), D("110.00"))  # inserted in date order
    assert [p.effective for p in c.prices] == [START, date(2026, 3, 1), date(2026, 4, 1)]
    assert price_on(c, START) == D("100.00")
    assert price_on(c, date(2026, 2, 28)) == D("100.00")
    assert price_on(c, date(2026, 3, 1)) == D("110.00")
    assert price_on(c, date(2026, 3, 31)) == D("110.00")
    assert price_on(c, date(2030, 1, 1)) == D("120.00")
    with pytest.raises(InvalidFieldError) as caught:
        price_on(c, date(2026, 1, 30))
    assert caught.value.field == "day"


@pytest.mark.parametrize(
    ("changes", "effective", "amount", "field"),
    [
        ({}, date(2026, 1, 30), D(1), "effective"),  # before the start
        ({}, START, D(1), "effective"),  # the start already has a price
        ({"end": date(2026, 6, 30)}, date(2026, 7, 1), D(1), "effective"),
        ({}, date(2026, 3, 1), D("-5"), "amount"),
        ({}, date(2026, 3, 1), D("5.001"), "amount"),
    ],
)
def test_invalid_price_changes(
    changes: dict[str, Any], effective: date, amount: Decimal, field: str
) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        change_price(contract(**changes), effective, amount)
    assert caught.value.field == field


def test_a_cancelled_contracts_price_cannot_change() -> None:
    with pytest.raises(TransitionError):
        change_price(cancel(contract()), date(2026, 3, 1), D(1))


# -- billing ------------------------------------------------------------------------------


def test_due_billings_run_from_next_billing_to_through_and_end() -> None:
    c = contract(next_billing=date(2026, 2, 28))
    assert due_billings(c, date(2026, 2, 27)) == []
    assert due_billings(c, date(2026, 4, 30)) == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]
    ending = replace(c, end=date(2026, 3, 31))  # end is inclusive
    assert due_billings(ending, date(2026, 12, 31)) == [date(2026, 2, 28), date(2026, 3, 31)]
    early = replace(c, end=date(2026, 3, 30))
    assert due_billings(early, date(2026, 12, 31)) == [date(2026, 2, 28)]


@pytest.mark.parametrize("status", [ContractStatus.ENDED, ContractStatus.CANCELLED])
def test_contracts_that_stopped_have_nothing_due(status: ContractStatus) -> None:
    c = contract(status=status)
    assert due_billings(c, date(2030, 1, 1)) == []
    with pytest.raises(TransitionError):
        advance(c, START)
    with pytest.raises(TransitionError):
        cancel(c)


def test_advance_moves_to_the_next_anchored_date_and_ends_past_the_end() -> None:
    c = contract(end=date(2026, 3, 31))
    c = advance(c, date(2026, 1, 31))
    assert (c.next_billing, c.status) == (date(2026, 2, 28), ContractStatus.ACTIVE)
    c = advance(c, date(2026, 2, 28))
    assert (c.next_billing, c.status) == (date(2026, 3, 31), ContractStatus.ACTIVE)
    c = advance(c, date(2026, 3, 31))
    assert (c.next_billing, c.status) == (date(2026, 4, 30), ContractStatus.ENDED)
    assert due_billings(c, date(2030, 1, 1)) == []


def test_advance_refuses_any_date_but_the_next_billing() -> None:
    for billed in (date(2026, 2, 28), date(2026, 1, 30)):
        with pytest.raises(InvalidFieldError) as caught:
            advance(contract(), billed)
        assert caught.value.field == "billed"
    december = date(2025, 12, 31)
    stale = contract(  # still active although its next billing date lies past its end
        start=december, end=date(2026, 1, 15), prices=(PriceChange(december, D(1)),)
    )
    with pytest.raises(InvalidFieldError) as caught:
        advance(stale, START)
    assert caught.value.field == "billed"


def test_cancel() -> None:
    assert cancel(contract()).status is ContractStatus.CANCELLED


# -- properties ---------------------------------------------------------------------------


@given(
    start=st.dates(date(1990, 1, 1), date(2200, 12, 31)),
    frequency=st.sampled_from(list(Frequency)),
    periods=st.integers(1, 60),
)
def test_billing_dates_increase_and_never_drift_from_the_anchor(
    start: date, frequency: Frequency, periods: int
) -> None:
    dates = [billing_date(start, i, frequency) for i in range(periods)]
    assert all(a < b for a, b in itertools.pairwise(dates))
    for index, day in enumerate(dates):
        assert day.day == min(start.day, calendar.monthrange(day.year, day.month)[1])
        months = (day.year - start.year) * 12 + day.month - start.month
        assert months == index * frequency.months
        assert period_index(start, day, frequency) == index


@given(
    start=st.dates(date(2000, 1, 1), date(2100, 12, 31)),
    frequency=st.sampled_from(list(Frequency)),
    periods=st.integers(1, 30),
)
def test_advancing_bills_exactly_the_anchored_dates(
    start: date, frequency: Frequency, periods: int
) -> None:
    end = billing_date(start, periods - 1, frequency)
    c = contract(
        start=start,
        next_billing=start,
        end=end,
        frequency=frequency,
        prices=(PriceChange(start, D(1)),),
    )
    billed = []
    while c.status is ContractStatus.ACTIVE:
        due = due_billings(c, date(9999, 12, 31))
        assert due[0] == c.next_billing
        billed.append(c.next_billing)
        c = validate_contract(advance(c, c.next_billing))
    assert billed == [billing_date(start, i, frequency) for i in range(periods)]
