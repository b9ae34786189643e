"""Aging as pure rules: bucket bounds as a reader types them, the bucket of a due day, what
is open of an item on a day (allocations replayed in the order they were made, their base
shares as the settlement took them), and a report's rows and totals."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmledger.core.aging import (
    Control,
    Item,
    Move,
    Scales,
    aging_report,
    bucket_index,
    buckets_of,
    open_on,
    parse_bounds,
)
from crmledger.core.aging_table import aging_detail_table, aging_table
from crmledger.core.errors import InvalidFieldError

D = Decimal
DAY = date(2026, 6, 30)


@pytest.mark.parametrize(
    ("typed", "bounds"),
    [
        ("0,30,60,90", (30, 60, 90)),
        ("30,60,90", (30, 60, 90)),
        (" 15 , 45 ", (15, 45)),
        ("7", (7,)),
        ((0, 10, 20), (10, 20)),
        (None, (30, 60, 90)),
    ],
)
def test_bounds_are_increasing_days_with_current_implied(typed: object, bounds: tuple) -> None:
    assert parse_bounds(typed) == bounds  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "typed", ["", "0", "30,20", "30,30", "a,b", "-5,10", "3661", ",".join(["1"] * 13), "1.5"]
)
def test_bad_bounds_are_refused_naming_the_field(typed: str) -> None:
    with pytest.raises(InvalidFieldError) as refused:
        parse_bounds(typed)
    assert refused.value.field == "buckets"


def test_buckets_are_current_then_ranges_then_over_the_last() -> None:
    labels = [(b.label, b.low, b.high) for b in buckets_of((30, 60, 90))]
    assert labels == [
        ("Current", None, 0),
        ("1-30", 1, 30),
        ("31-60", 31, 60),
        ("61-90", 61, 90),
        ("Over 90", 91, None),
    ]


@pytest.mark.parametrize(
    ("days", "bucket"), [(None, 0), (-5, 0), (0, 0), (1, 1), (30, 1), (31, 2), (90, 3), (91, 4)]
)
def test_an_item_falls_in_the_bucket_of_its_days_overdue(days: int | None, bucket: int) -> None:
    due = None if days is None else DAY - timedelta(days=days)
    assert bucket_index(due, DAY, (30, 60, 90)) == bucket


def _invoice(n: int, day: date, amount: int, base: int, due: date | None = None) -> Item:
    return Item(("document", n), "invoice", f"INV-{n}", 7, "USD", day, due, amount, base)


def _receipt(n: int, day: date, amount: int, base: int) -> Item:
    return Item(("payment", n), "receipt", f"RC-{n}", 7, "USD", day, None, amount, base)


def test_allocations_draw_base_shares_as_the_settlement_took_them() -> None:
    # 100.00 USD booked at 0.90; 60.00 received at 0.95, then 40.00 at 0.92.
    invoice = _invoice(1, date(2026, 3, 1), 10000, 9000, date(2026, 3, 31))
    first = _receipt(1, date(2026, 4, 10), 6000, 5700)
    second = _receipt(2, date(2026, 5, 5), 4000, 3680)
    moves = [
        Move(1, invoice.key, first.key, 6000, date(2026, 4, 10)),
        Move(2, invoice.key, second.key, 4000, date(2026, 5, 5)),
    ]
    items = [invoice, first, second]

    def shown(day: date) -> dict[str, tuple[int, int]]:
        return {p.item.number: (p.open, p.open_base) for p in open_on(items, moves, day)}

    assert shown(date(2026, 2, 28)) == {}
    assert shown(date(2026, 3, 31)) == {"INV-1": (10000, 9000)}
    # 60 % of the invoice's 90.00 base is 54.00; the receipt is used up.
    assert shown(date(2026, 4, 30)) == {"INV-1": (4000, 3600)}
    assert shown(date(2026, 5, 5)) == {}


def test_allocations_replay_in_the_order_made_even_when_dated_earlier() -> None:
    invoice = _invoice(1, date(2026, 1, 5), 300, 298)
    a, b = _receipt(1, date(2026, 2, 1), 100, 100), _receipt(2, date(2026, 1, 20), 100, 100)
    # Allocation 1, made first, took 298 * 100/300 = 99.33 -> 99; allocation 2 then took
    # 199 * 100/200 = 99.5 -> 100 (half-even). On 31 January only allocation 2 had
    # happened, and it counts with the 100 it took (in date order it would be 99).
    moves = [
        Move(1, invoice.key, a.key, 100, date(2026, 2, 1)),
        Move(2, invoice.key, b.key, 100, date(2026, 1, 20)),
    ]
    parts = {
        p.item.number: (p.open, p.open_base)
        for p in open_on([invoice, a, b], moves, date(2026, 1, 31))
    }
    assert parts == {"INV-1": (200, 198)}


def test_an_item_dated_later_but_drawn_on_earlier_shows_what_was_drawn() -> None:
    receipt = _receipt(1, date(2026, 1, 10), 500, 500)
    invoice = _invoice(1, date(2026, 2, 1), 500, 500)
    moves = [Move(1, invoice.key, receipt.key, 500, date(2026, 1, 10))]
    seen = open_on([invoice, receipt], moves, date(2026, 1, 20))
    parts = {p.item.number: (p.open, p.open_base) for p in seen}
    # On 20 January the invoice is not issued yet but paid: -500 of it, and the receipt
    # is used up; the two still add up to what the ledger holds (-500 on the receivable).
    assert parts == {"INV-1": (-500, -500)}


@st.composite
def _books(draw: st.DrawFn) -> tuple[list[Item], list[Move]]:
    count = draw(st.integers(1, 4))
    items: list[Item] = []
    for n in range(count):
        day = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 60)))
        amount = draw(st.integers(1, 10_000))
        items.append(_invoice(n, day, amount, draw(st.integers(1, 20_000))))
        items.append(_receipt(n, day, amount, draw(st.integers(1, 20_000))))
    moves: list[Move] = []
    left = {i.key: i.amount for i in items}
    for n in range(draw(st.integers(0, 12))):
        debit = items[2 * draw(st.integers(0, count - 1))]
        credit = items[2 * draw(st.integers(0, count - 1)) + 1]
        most = min(left[debit.key], left[credit.key])
        if most == 0:
            continue
        amount = draw(st.integers(1, most))
        left[debit.key] -= amount
        left[credit.key] -= amount
        on = max(debit.day, credit.day) + timedelta(days=draw(st.integers(0, 30)))
        moves.append(Move(n + 1, debit.key, credit.key, amount, on))
    return items, moves


@given(book=_books(), offset=st.integers(-5, 120))
def test_open_amounts_net_to_the_documents_and_settled_items_leave_no_base(
    book: tuple[list[Item], list[Move]], offset: int
) -> None:
    items, moves = book
    day = date(2026, 1, 1) + timedelta(days=offset)
    parts = open_on(items, moves, day)
    sides = {"invoice": 1, "receipt": -1}
    net = sum(sides[p.item.kind] * p.open for p in parts)
    assert net == sum(sides[i.kind] * i.amount for i in items if i.day <= day)
    final = {p.item.key: p for p in open_on(items, moves, date(2027, 1, 1))}
    for item in items:
        drawn = sum(m.amount for m in moves if item.key in (m.debit, m.credit))
        if drawn == item.amount:
            assert item.key not in final
        else:
            assert final[item.key].open == item.amount - drawn


def test_a_report_sums_parties_and_names_what_does_not_reconcile() -> None:
    invoice = _invoice(1, date(2026, 4, 1), 11900, 11900, date(2026, 5, 1))
    receipt = _receipt(1, date(2026, 6, 1), 1000, 1000)
    bob = Item(("document", 2), "invoice", "INV-2", 8, "EUR", DAY, DAY, 5000, 5000)
    parts = open_on([invoice, receipt, bob], [], DAY)
    scales = Scales(2, {"USD": 2, "EUR": 2})
    report = aging_report(
        "receivable",
        DAY,
        (30, 60, 90),
        parts,
        {7: "Acme GmbH", 8: "Bob"},
        scales,
        Control("Assets:Receivables:Customers", D("159.00")),
        "EUR",
    )
    acme, bob_row = report.parties
    assert (acme.name, acme.buckets, acme.credit, acme.total) == (
        "Acme GmbH",
        (D("0.00"), D("0.00"), D("119.00"), D("0.00"), D("0.00")),
        D("-10.00"),
        D("109.00"),
    )
    assert bob_row.buckets[0] == D("50.00")
    assert report.totals == (D("50.00"), D("0.00"), D("119.00"), D("0.00"), D("0.00"))
    assert (report.total, report.difference) == (D("159.00"), D("0.00"))
    assert report.notes == (
        "Assets:Receivables:Customers on 2026-06-30: 159.00 EUR, the total above.",
    )
    off = aging_report(
        "receivable", DAY, (30,), parts, {}, scales, Control("X", D("160.00")), "EUR"
    )
    assert off.difference == D("1.00")
    assert "1.00 of it is not from open documents" in off.notes[0]
    summary = aging_table(report)
    assert [row[0] for row in summary.rows] == ["Acme GmbH", "Bob", "Total"]
    assert summary.rows[-1][-1] == D("159.00")
    detail = aging_detail_table(report)
    assert [row[1] for row in detail.rows] == ["INV-1", "RC-1", None, "INV-2", None, None]
    assert detail.rows[0][4] == 60  # due 1 May, seen on 30 June
    assert detail.styles[-1] == "result"
