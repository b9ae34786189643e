"""Quotes and sales orders: their lines, their totals and the statuses they move through.

Totals are computed from the lines, the currency's scale and a tax rule per tax category.
Rounding is to the currency's scale with ``ROUND_HALF_EVEN``, in this order:

1. line net = round(quantity * unit price * (1 - discount / 100));
2. per-line rule: line tax = round(line net * rate), category tax = Σ line taxes;
   per-document rule: category tax = round(Σ category's line nets * rate), once;
3. net = Σ line nets, tax = Σ category taxes, gross = net + tax.

So the two rules can differ by up to half a minor unit per line. Two lines of 1.05 at 10%::

    >>> pens = [Line(None, "Pen", Decimal(1), Decimal("1.05")),
    ...         Line(None, "Pad", Decimal(1), Decimal("1.05"))]
    >>> by_line = totals(pens, 2, {"standard": TaxRule(Decimal("0.10"), "line")})
    >>> by_line.net, by_line.tax, by_line.gross   # 0.105 → 0.10 (half to even), twice
    (Decimal('2.10'), Decimal('0.20'), Decimal('2.30'))
    >>> by_doc = totals(pens, 2, {"standard": TaxRule(Decimal("0.10"), "document")})
    >>> by_doc.tax, [t.tax for t in by_doc.lines]   # 2.10 * 0.10 = 0.21 once
    (Decimal('0.21'), [Decimal('0.11'), Decimal('0.10')])

Under the per-document rule each line still shows a tax, so postings can follow lines: the
category's tax is split by largest remainder (each line gets its share rounded down, the
minor units left over go to the lines with the largest remainders, earlier lines first on a
tie), so the line taxes always sum to the category's tax.

**Prices that include tax** (``inclusive=True``: a shop's shelf prices) turn the rule round.
What the customer saw is the line's gross, so the gross is exact and the tax comes out of it:

1. line gross = round(quantity * unit price * (1 - discount / 100));
2. per-line rule: line tax = round(line gross * rate / (1 + rate)), category tax = Σ line
   taxes; per-document rule: category tax = round(Σ category's line grosses * rate /
   (1 + rate)), once, split over the lines by largest remainder as above;
3. line net = line gross - line tax; gross = Σ line grosses, tax = Σ category taxes,
   net = gross - tax.

So the document's total is always the sum of the line amounts as priced, and net + tax =
gross holds per line, per category and per document. Two shirts at 10.00 including 19%::

    >>> shirts = [Line(None, "Shirt", Decimal(1), Decimal("10.00"))] * 2
    >>> by_line = totals(shirts, 2, {"standard": TaxRule(Decimal("0.19"), "line")},
    ...                  inclusive=True)   # 10.00 * 0.19 / 1.19 = 1.5966… → 1.60, twice
    >>> by_line.gross, by_line.tax, by_line.net
    (Decimal('20.00'), Decimal('3.20'), Decimal('16.80'))
    >>> by_doc = totals(shirts, 2, {"standard": TaxRule(Decimal("0.19"), "document")},
    ...                 inclusive=True)    # 20.00 * 0.19 / 1.19 = 3.1932… → 3.19, once
    >>> by_doc.gross, by_doc.tax, [t.tax for t in by_doc.lines]
    (Decimal('20.00'), Decimal('3.19'), [Decimal('1.60'), Decimal('1.59')])

Statuses: a quote goes ``draft → sent → accepted | rejected | expired``, and may be accepted
straight from draft (signed on the spot) or cancelled before it is answered; a sales order
goes ``draft → confirmed → fulfilled`` and may be cancelled until it is fulfilled; a
confirmed or fulfilled order becomes ``paid`` once its invoice is paid in full. Accepted,
rejected, expired, cancelled and paid are final.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal, localcontext
from enum import StrEnum
from types import MappingProxyType
from typing import Literal, NamedTuple

from crmledger.core.errors import InvalidFieldError, TransitionError
from crmledger.core.money import decimal_places, quantize

#: Most decimal places a quantity may carry.
QUANTITY_PLACES = 6
#: Digits of working precision: enough that quantity * price * discount is exact.
_PRECISION = 80
_HUNDRED = Decimal(100)

TaxBasis = Literal["line", "document"]


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a quote or order; ``discount`` is a percentage (0..100)."""

    product_id: int | None
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal = Decimal(0)
    tax_category: str = "standard"


@dataclass(frozen=True, slots=True)
class TaxRule:
    """A tax category's rate as a fraction (``0.19`` for 19%) and where it is rounded."""

    rate: Decimal
    per: TaxBasis

    def __post_init__(self) -> None:
        if not self.rate.is_finite() or not 0 <= self.rate <= 1:
            raise InvalidFieldError("rate", "a tax rate is a fraction within 0..1 (0.19 = 19%)")
        if self.per not in ("line", "document"):
            raise InvalidFieldError("per", "a tax is rounded per 'line' or per 'document'")


@dataclass(frozen=True, slots=True)
class LineTotal:
    """A line's net amount and its share of the tax."""

    net: Decimal
    tax: Decimal


class CategoryTax(NamedTuple):
    """One tax category's base (Σ line nets) and tax."""

    category: str
    base: Decimal
    tax: Decimal


@dataclass(frozen=True, slots=True)
class Totals:
    """What a document adds up to; every amount has exactly the currency's decimals."""

    lines: tuple[LineTotal, ...]
    net: Decimal
    tax_by_category: tuple[CategoryTax, ...]
    tax: Decimal
    gross: Decimal


def _check_line(index: int, line: Line, taxes: Mapping[str, TaxRule]) -> None:
    where = f"lines[{index}]"
    if line.product_id is None and not line.description.strip():
        raise InvalidFieldError(f"{where}.description", "a line needs a product or a description")
    quantity = line.quantity
    if not quantity.is_finite() or quantity <= 0:
        raise InvalidFieldError(f"{where}.quantity", "the quantity must be more than 0")
    if decimal_places(quantity) > QUANTITY_PLACES:
        raise InvalidFieldError(
            f"{where}.quantity", f"a quantity has at most {QUANTITY_PLACES} decimal places"
        )
    if not line.unit_price.is_finite() or line.unit_price < 0:
        raise InvalidFieldError(f"{where}.unit_price", "the unit price must be at least 0")
    if not line.discount.is_finite() or not 0 <= line.discount <= _HUNDRED:
        raise InvalidFieldError(f"{where}.discount", "the discount is a percentage within 0..100")
    if line.tax_category not in taxes:
        raise InvalidFieldError(
            f"{where}.tax_category", f"no tax rule for category {line.tax_category!r}"
        )


def _allocate(shares: Sequence[Decimal], total: Decimal, scale: int) -> list[Decimal]:
    """Split ``total`` over ``shares`` by largest remainder, in units of the scale.

    ``total`` is the rounded sum of the shares, so it lies between the sum of the rounded
    down shares and that plus one unit per share with a remainder: there is always enough.
    """
    floors = [quantize(share, scale, ROUND_FLOOR) for share in shares]
    left = int((total - sum(floors, Decimal(0))).scaleb(scale))
    order = sorted(range(len(shares)), key=lambda i: (floors[i] - shares[i], i))
    unit = Decimal(1).scaleb(-scale)
    for index in order[:left]:
        floors[index] += unit
    return floors


def _category(
    amounts: Sequence[Decimal], rule: TaxRule, scale: int, inclusive: bool
) -> tuple[Decimal, Decimal, list[Decimal]]:
    """(base, tax, tax per line) for the amounts of one category's lines: their nets, or
    their grosses when ``inclusive``; ``base`` is always the category's net."""
    zero = quantize(Decimal(0), scale)
    whole = sum(amounts, zero)
    # The part of an amount that is tax: all of ``rate`` on a net, rate / (1 + rate) of a
    # gross (exact to 80 digits, which no half-unit boundary comes close to).
    fraction = rule.rate / (1 + rule.rate) if inclusive else rule.rate
    shares = [amount * fraction for amount in amounts]
    if rule.per == "line":
        line_taxes = [quantize(share, scale) for share in shares]
        tax = sum(line_taxes, zero)
    else:
        tax = quantize(whole * fraction, scale)
        line_taxes = _allocate(shares, tax, scale)
    return (whole - tax if inclusive else whole), tax, line_taxes


def line_amount(line: Line, scale: int) -> Decimal:
    """quantity * unit price * (1 - discount/100), rounded half-even to ``scale``: the
    line's net, or its gross when the prices include tax."""
    with localcontext(prec=_PRECISION):
        exact = line.quantity * line.unit_price * (_HUNDRED - line.discount) / _HUNDRED
        return quantize(exact, scale)


def line_net(line: Line, scale: int) -> Decimal:
    """The net of a line whose price excludes tax (:func:`line_amount`)."""
    return line_amount(line, scale)


def totals(
    lines: Sequence[Line],
    currency_scale: int,
    taxes: Mapping[str, TaxRule],
    *,
    inclusive: bool = False,
) -> Totals:
    """Add up ``lines`` (see the module docstring for the rounding, and for ``inclusive``:
    unit prices that include tax); validate them first.

    Raises :class:`InvalidFieldError` naming ``lines[i].<field>`` for a line that breaks a
    rule: a quantity that is not more than 0 or has more than 6 decimals, a negative unit
    price, a discount outside 0..100, a tax category ``taxes`` has no rule for.
    """
    for index, line in enumerate(lines):
        _check_line(index, line, taxes)
    zero = quantize(Decimal(0), currency_scale)
    amounts = [line_amount(line, currency_scale) for line in lines]
    line_taxes = [zero] * len(lines)
    by_category: list[CategoryTax] = []
    with localcontext(prec=_PRECISION):
        for category in sorted({line.tax_category for line in lines}):
            members = [i for i, line in enumerate(lines) if line.tax_category == category]
            base, tax, shares = _category(
                [amounts[i] for i in members], taxes[category], currency_scale, inclusive
            )
            for index, share in zip(members, shares, strict=True):
                line_taxes[index] = share
            by_category.append(CategoryTax(category, base, tax))
    nets = [a - t for a, t in zip(amounts, line_taxes, strict=True)] if inclusive else amounts
    net = sum(nets, zero)
    tax_total = sum((row.tax for row in by_category), zero)
    return Totals(
        lines=tuple(LineTotal(n, t) for n, t in zip(nets, line_taxes, strict=True)),
        net=net,
        tax_by_category=tuple(by_category),
        tax=tax_total,
        gross=net + tax_total,
    )


class QuoteStatus(StrEnum):
    """Where a quote stands with the customer."""

    DRAFT = "draft"
    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class OrderStatus(StrEnum):
    """Where a sales order stands."""

    DRAFT = "draft"
    CONFIRMED = "confirmed"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    PAID = "paid"


#: The moves a quote may make; a status missing as a key is final.
QUOTE_TRANSITIONS: Mapping[QuoteStatus, frozenset[QuoteStatus]] = MappingProxyType(
    {
        QuoteStatus.DRAFT: frozenset(
            {QuoteStatus.SENT, QuoteStatus.ACCEPTED, QuoteStatus.CANCELLED}
        ),
        QuoteStatus.SENT: frozenset(
            {
                QuoteStatus.ACCEPTED,
                QuoteStatus.REJECTED,
                QuoteStatus.EXPIRED,
                QuoteStatus.CANCELLED,
            }
        ),
    }
)

#: The moves a sales order may make; a status missing as a key is final.
ORDER_TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = MappingProxyType(
    {
        OrderStatus.DRAFT: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
        OrderStatus.CONFIRMED: frozenset(
            {OrderStatus.FULFILLED, OrderStatus.CANCELLED, OrderStatus.PAID}
        ),
        OrderStatus.FULFILLED: frozenset({OrderStatus.PAID}),
    }
)


def quote_transition(current: QuoteStatus, target: QuoteStatus) -> QuoteStatus:
    """Return ``target`` if a quote may move there from ``current``, else raise."""
    if target not in QUOTE_TRANSITIONS.get(current, frozenset()):
        raise TransitionError(f"a {current} quote cannot become {target}")
    return target


def order_transition(current: OrderStatus, target: OrderStatus) -> OrderStatus:
    """Return ``target`` if a sales order may move there from ``current``, else raise."""
    if target not in ORDER_TRANSITIONS.get(current, frozenset()):
        raise TransitionError(f"a {current} order cannot become {target}")
    return target


def accept_quote(status: QuoteStatus, valid_until: date | None, today: date) -> QuoteStatus:
    """Accept a quote on ``today``; refused once ``valid_until`` has passed (it is inclusive)."""
    if valid_until is not None and today > valid_until:
        raise TransitionError(f"the quote expired on {valid_until.isoformat()}")
    return quote_transition(status, QuoteStatus.ACCEPTED)
