"""Quotes and orders: line validation, documented rounding, tax per line or per document,
and the quote / order status machines."""

from __future__ import annotations

import doctest
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmledger.core.crm import documents
from crmledger.core.crm.documents import (
    CategoryTax,
    Line,
    LineTotal,
    OrderStatus,
    QuoteStatus,
    TaxRule,
    accept_quote,
    line_net,
    order_transition,
    quote_transition,
    totals,
)
from crmledger.core.errors import InvalidFieldError, TransitionError

D = Decimal
BY_LINE = {"standard": TaxRule(D("0.10"), "line")}
BY_DOC = {"standard": TaxRule(D("0.10"), "document")}


def line(quantity: str = "1", price: str = "1.05", **changes: Any) -> Line:
    return replace(Line(None, "Pen", D(quantity), D(price)), **changes)


def test_docstring_examples_run() -> None:
    result = doctest.testmod(documents)
    assert result.attempted > 0
    assert result.failed == 0


# -- worked rounding examples -------------------------------------------------------------


def test_per_line_and_per_document_tax_differ_on_a_crafted_example() -> None:
    lines = [line(), line(), line()]  # three lines of 1.05 at 10%: 0.105 each
    by_line = totals(lines, 2, BY_LINE)
    by_doc = totals(lines, 2, BY_DOC)
    assert by_line.net == by_doc.net == D("3.15")
    assert by_line.tax == D("0.30")  # 0.105 -> 0.10 (half to even), three times
    assert by_doc.tax == D("0.32")  # 3.15 * 0.10 = 0.315 -> 0.32 (half to even), once
    assert (by_line.gross, by_doc.gross) == (D("3.45"), D("3.47"))
    assert [t.tax for t in by_line.lines] == [D("0.10")] * 3
    # the gap (0.02) exceeds n half units (0.015): half-even rounds each 0.105 down
    assert by_doc.tax - by_line.tax > 3 * D("0.005")
    # per document, the 0.32 is split by largest remainder: 0.10 each, 2 cents left
    assert [t.tax for t in by_doc.lines] == [D("0.11"), D("0.11"), D("0.10")]


@pytest.mark.parametrize(
    ("quantity", "price", "discount", "scale", "net"),
    [
        ("3", "19.99", "10", 2, "53.97"),  # 53.973
        ("1", "0.125", "0", 2, "0.12"),  # half to even: down
        ("1", "0.135", "0", 2, "0.14"),  # half to even: up
        ("2.5", "4.10", "0", 2, "10.25"),
        ("0.000001", "1000000", "0", 2, "1.00"),
        ("1", "100", "100", 2, "0.00"),
        ("7", "333", "33.333", 0, "1554"),  # 1554.00...: JPY
        ("1", "1.0005", "0", 3, "1.000"),  # KWD, half to even
        ("1", "1.0015", "0", 3, "1.002"),
        ("123456.123456", "99999.999999", "12.345", 2, "10821546501.43"),
        ("1", "1.014999999999999999999999999999", "0", 2, "1.01"),  # 28 digits would say 1.02
    ],
)
def test_line_net(quantity: str, price: str, discount: str, scale: int, net: str) -> None:
    result = line_net(line(quantity, price, discount=D(discount)), scale)
    assert (result, result.as_tuple().exponent) == (D(net), -scale)


def test_mixed_categories_are_rounded_each_by_their_rule() -> None:
    taxes = {
        "standard": TaxRule(D("0.19"), "line"),
        "reduced": TaxRule(D("0.07"), "document"),
        "exempt": TaxRule(D(0), "line"),
    }
    lines = [
        line("1", "10.01"),  # 1.9019 -> 1.90
        line("1", "0.05", tax_category="reduced"),
        line("1", "0.05", tax_category="reduced"),  # 0.10 * 0.07 = 0.007 -> 0.01
        line("2", "2.50", tax_category="exempt"),
        line("1", "3.03"),  # 0.5757 -> 0.58
    ]
    result = totals(lines, 2, taxes)
    assert result.tax_by_category == (
        CategoryTax("exempt", D("5.00"), D("0.00")),
        CategoryTax("reduced", D("0.10"), D("0.01")),
        CategoryTax("standard", D("13.04"), D("2.48")),
    )
    assert result.lines == (
        LineTotal(D("10.01"), D("1.90")),
        LineTotal(D("0.05"), D("0.01")),  # equal remainders: the earlier line gets the cent
        LineTotal(D("0.05"), D("0.00")),
        LineTotal(D("5.00"), D("0.00")),
        LineTotal(D("3.03"), D("0.58")),
    )
    assert (result.net, result.tax, result.gross) == (D("18.14"), D("2.49"), D("20.63"))


def test_no_lines_add_up_to_zero_at_the_currency_scale() -> None:
    result = totals([], 3, BY_LINE)
    assert (result.lines, result.tax_by_category) == ((), ())
    assert [str(x) for x in (result.net, result.tax, result.gross)] == ["0.000"] * 3


# -- line validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quantity": D(0)}, "quantity"),
        ({"quantity": D("-1")}, "quantity"),
        ({"quantity": D("0.0000001")}, "quantity"),
        ({"quantity": D("Infinity")}, "quantity"),
        ({"unit_price": D("-0.01")}, "unit_price"),
        ({"unit_price": D("NaN")}, "unit_price"),
        ({"discount": D("-1")}, "discount"),
        ({"discount": D("100.01")}, "discount"),
        ({"tax_category": "luxury"}, "tax_category"),
        ({"description": " "}, "description"),
    ],
)
def test_invalid_lines_are_named_by_index(changes: dict[str, Any], field: str) -> None:
    bad = line(**changes)
    with pytest.raises(InvalidFieldError) as caught:
        totals([line(), line(), bad], 2, BY_LINE)
    assert caught.value.field == f"lines[2].{field}"


def test_boundary_lines_are_fine() -> None:
    lines = [
        line("0.000001", "0"),
        line(discount=D(100)),
        line(discount=D(0)),
        Line(42, "", D(1), D(1)),  # a product line may leave the description to the product
    ]
    assert totals(lines, 2, BY_LINE).net == D("2.05")


@pytest.mark.parametrize(
    ("rate", "per", "field"),
    [
        ("-0.01", "line", "rate"),
        ("1.5", "line", "rate"),
        ("NaN", "line", "rate"),
        ("0.2", "invoice", "per"),
    ],
)
def test_invalid_tax_rules(rate: str, per: Any, field: str) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        TaxRule(D(rate), per)
    assert caught.value.field == field


# -- properties ---------------------------------------------------------------------------

lines_strategy = st.lists(
    st.builds(
        Line,
        product_id=st.just(None),
        description=st.just("Item"),
        quantity=st.decimals(min_value=D("0.000001"), max_value=10**6, places=6),
        unit_price=st.decimals(min_value=0, max_value=10**6, places=4),
        discount=st.decimals(min_value=0, max_value=100, places=3),
        tax_category=st.sampled_from(["a", "b"]),
    ),
    max_size=12,
)
rates = st.decimals(min_value=0, max_value=1, places=4)


@given(lines_strategy, rates, rates, st.sampled_from(["line", "document"]), st.integers(0, 3))
def test_totals_always_add_up(
    lines: list[Line], rate_a: Decimal, rate_b: Decimal, per: Any, scale: int
) -> None:
    taxes = {"a": TaxRule(rate_a, per), "b": TaxRule(rate_b, "line")}
    result = totals(lines, scale, taxes)
    assert result.gross == result.net + result.tax
    assert result.net == sum((t.net for t in result.lines), D(0))
    assert result.tax == sum((t.tax for t in result.lines), D(0))
    assert result.tax == sum((c.tax for c in result.tax_by_category), D(0))
    assert result.net == sum((c.base for c in result.tax_by_category), D(0))
    for amount in (result.net, result.tax, result.gross, *(t.tax for t in result.lines)):
        assert amount.as_tuple().exponent == -scale
    for total in result.lines:
        assert total.tax >= 0


@given(lines_strategy, rates, st.integers(0, 3))
def test_per_line_tax_stays_within_half_a_unit_per_line_of_per_document(
    lines: list[Line], rate: Decimal, scale: int
) -> None:
    one = [replace(x, tax_category="a") for x in lines]
    by_line = totals(one, scale, {"a": TaxRule(rate, "line")})
    by_doc = totals(one, scale, {"a": TaxRule(rate, "document")})
    assert by_line.net == by_doc.net
    half_unit = D(1).scaleb(-scale) / 2
    # Each line rounds by at most half a unit and the document once more, so the bound is
    # (n + 1) half units, not n: see the three-line example above (0.30 against 0.32).
    assert abs(by_line.tax - by_doc.tax) <= (len(one) + 1) * half_unit
    if len(one) <= 1:
        assert by_line.tax == by_doc.tax
    exact = by_doc.net * rate
    assert abs(by_doc.tax - exact) <= half_unit


# -- statuses -----------------------------------------------------------------------------

QUOTE_ALLOWED = {
    (QuoteStatus.DRAFT, QuoteStatus.SENT),
    (QuoteStatus.DRAFT, QuoteStatus.ACCEPTED),
    (QuoteStatus.DRAFT, QuoteStatus.CANCELLED),
    (QuoteStatus.SENT, QuoteStatus.ACCEPTED),
    (QuoteStatus.SENT, QuoteStatus.REJECTED),
    (QuoteStatus.SENT, QuoteStatus.EXPIRED),
    (QuoteStatus.SENT, QuoteStatus.CANCELLED),
}
ORDER_ALLOWED = {
    (OrderStatus.DRAFT, OrderStatus.CONFIRMED),
    (OrderStatus.DRAFT, OrderStatus.CANCELLED),
    (OrderStatus.CONFIRMED, OrderStatus.FULFILLED),
    (OrderStatus.CONFIRMED, OrderStatus.CANCELLED),
    (OrderStatus.CONFIRMED, OrderStatus.PAID),
    (OrderStatus.FULFILLED, OrderStatus.PAID),
}


@pytest.mark.parametrize("current", list(QuoteStatus))
@pytest.mark.parametrize("target", list(QuoteStatus))
def test_every_quote_transition(current: QuoteStatus, target: QuoteStatus) -> None:
    if (current, target) in QUOTE_ALLOWED:
        assert quote_transition(current, target) is target
    else:
        with pytest.raises(TransitionError):
            quote_transition(current, target)


@pytest.mark.parametrize("current", list(OrderStatus))
@pytest.mark.parametrize("target", list(OrderStatus))
def test_every_order_transition(current: OrderStatus, target: OrderStatus) -> None:
    if (current, target) in ORDER_ALLOWED:
        assert order_transition(current, target) is target
    else:
        with pytest.raises(TransitionError):
            order_transition(current, target)


@pytest.mark.parametrize(
    ("valid_until", "today"),
    [
        (date(2026, 5, 31), date(2026, 5, 31)),
        (date(2026, 5, 31), date(2026, 5, 1)),
        (None, date(2099, 1, 1)),
    ],
)
def test_a_quote_can_be_accepted_until_its_last_valid_day(
    valid_until: date | None, today: date
) -> None:
    assert accept_quote(QuoteStatus.SENT, valid_until, today) is QuoteStatus.ACCEPTED


def test_a_quote_past_its_validity_or_already_answered_cannot_be_accepted() -> None:
    with pytest.raises(TransitionError, match="expired"):
        accept_quote(QuoteStatus.SENT, date(2026, 5, 31), date(2026, 6, 1))
    with pytest.raises(TransitionError):
        accept_quote(QuoteStatus.REJECTED, date(2026, 5, 31), date(2026, 5, 1))
