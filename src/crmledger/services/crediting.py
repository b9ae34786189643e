"""Which lines of an invoice a credit note takes back, and how much of each is left to take.

A partial credit names the invoice's lines by position with the quantity to credit, as a
sequence of ``(position, quantity)`` pairs. Each line may be named once, must be a line of
the invoice, and may take back no more than is still creditable: its quantity less what the
invoice's earlier credit notes took. A credit note's line keeps the position of the invoice
line it credits, so what was credited before is read back from those notes::

    invoice line 2: 5 pcs; CN-2026-0001 credited [(2, Decimal(3))]
    credited_lines(uow, invoice, [(2, Decimal(3))])
    # InvalidFieldError lines[2].quantity: line 2 (Widget): credit 0 < quantity <= 2
    # (5 invoiced, 3 credited before)

Refusals name the invoice line as ``lines[<position>]`` (``lines[2].quantity``), so a form
with one quantity per invoice line can show each next to its line. A credited quantity is
priced at the line's own unit price, discount and tax rate, rounded per line; on an invoice
whose prices include tax the tax comes out of the credited gross, as it did on the invoice.

A credit "in full" (nothing named) takes back what is still creditable: each line's quantity,
net and tax less what earlier notes took, and leaves out a line credited in full before; an
invoice with nothing left is refused (:class:`TransitionError`). A line whose whole rest is
named is credited its rest too, and no note takes more net or tax than its line has left, so
a line's notes add up to exactly what it invoiced::

    invoice line 1: 3 x 0.35 at 19 %: net 1.05, tax 0.20
    credit [(1, 1)], then [(1, 1)]: net 0.35 + 0.35, tax 0.07 + 0.07
    credit None (or [(1, 1)]): net 0.35, tax 0.06   (not 0.07: the line is back to 0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from crmledger.core.crm.documents import QUANTITY_PLACES, Line, TaxRule, totals
from crmledger.core.errors import InvalidFieldError, TransitionError
from crmledger.core.money import decimal_places, from_minor, to_minor
from crmledger.services.billing_ports import BillingDocumentRow, BillingLineRow, BillingQuery
from crmledger.services.ports import UnitOfWork
from crmledger.services.products import book_scales, scale_of
from crmledger.services.sales import number_text

#: What a caller names to credit: ``(position, quantity)`` pairs, or ``None`` for all that
#: is still creditable.
Credited = Sequence[tuple[int, Decimal]] | None
_PAGE = 500


@dataclass(frozen=True, slots=True)
class Taken:
    """What an invoice line's credit notes took back so far."""

    quantity: Decimal = Decimal(0)
    net_minor: int = 0
    tax_minor: int = 0

    def plus(self, line: BillingLineRow) -> Taken:
        """This and a credit note's ``line``."""
        return Taken(
            self.quantity + Decimal(line.quantity),
            self.net_minor + line.net_minor,
            self.tax_minor + line.tax_minor,
        )


def credited_before(uow: UnitOfWork, invoice: BillingDocumentRow) -> dict[int, Taken]:
    """What the invoice's credit notes took back, by the position of the line they credit."""
    taken = {line.position: Taken() for line in invoice.lines}
    after = None
    while True:
        query = BillingQuery(limit=_PAGE, after=after, kind="credit_note", refers_to=invoice.id)
        notes = uow.billing.document_page(query)
        for note in notes:
            for line in note.lines:
                if line.position in taken:
                    taken[line.position] = taken[line.position].plus(line)
        if len(notes) < _PAGE:
            return taken
        after = notes[-1].id


def creditable(uow: UnitOfWork, invoice: BillingDocumentRow) -> dict[int, Decimal]:
    """The quantity of each of the invoice's lines (by position) not yet credited."""
    taken = credited_before(uow, invoice)
    return {
        line.position: Decimal(line.quantity) - taken[line.position].quantity
        for line in invoice.lines
    }


def _rest(line: BillingLineRow, taken: Taken) -> BillingLineRow:
    """What is left of ``line`` after ``taken``: its quantity, net and tax."""
    return replace(
        line,
        quantity=number_text(Decimal(line.quantity) - taken.quantity),
        net_minor=line.net_minor - taken.net_minor,
        tax_minor=line.tax_minor - taken.tax_minor,
        cost_minor=None,
        cost_account=None,
    )


def _all_left(
    invoice: BillingDocumentRow, taken: Mapping[int, Taken]
) -> tuple[BillingLineRow, ...]:
    rows = tuple(
        _rest(line, taken[line.position])
        for line in invoice.lines
        if Decimal(line.quantity) > taken[line.position].quantity
    )
    if not rows:
        name = invoice.number or f"invoice {invoice.id}"
        raise TransitionError(f"{name} is credited in full already: nothing is left to credit")
    return rows


def _check(
    line: BillingLineRow | None,
    position: int,
    quantity: Decimal,
    taken: Mapping[int, Taken],
    seen: set[int],
) -> BillingLineRow:
    where = f"lines[{position}]"
    if line is None:
        raise InvalidFieldError(where, f"the invoice has no line {position}")
    name = f"line {position} ({line.description})"
    if position in seen:
        raise InvalidFieldError(f"{where}.position", f"{name} is credited twice")
    seen.add(position)
    invoiced = Decimal(line.quantity)
    rest = invoiced - taken[position].quantity
    if not quantity.is_finite() or quantity <= 0 or quantity > rest:
        before = f", {number_text(invoiced - rest)} credited before" if rest != invoiced else ""
        raise InvalidFieldError(
            f"{where}.quantity",
            f"{name}: credit 0 < quantity <= {number_text(max(rest, Decimal(0)))} "
            f"({number_text(invoiced)} invoiced{before})",
        )
    if decimal_places(quantity) > QUANTITY_PLACES:
        raise InvalidFieldError(
            f"{where}.quantity", f"a quantity has at most {QUANTITY_PLACES} decimal places"
        )
    return line


def _priced(line: BillingLineRow, quantity: Decimal, scale: int, inclusive: bool) -> BillingLineRow:
    """``quantity`` of ``line`` at its price, discount and rate, rounded per line."""
    credited = Line(
        line.product_id,
        line.description,
        quantity,
        from_minor(line.unit_price_minor, scale),
        Decimal(line.discount),
        line.tax_category,
    )
    rule = {line.tax_category: TaxRule(Decimal(line.tax_rate), "line")}
    [total] = totals([credited], scale, rule, inclusive=inclusive).lines
    return replace(
        line,
        quantity=number_text(quantity),
        net_minor=to_minor(total.net, scale),
        tax_minor=to_minor(total.tax, scale),
        cost_minor=None,
        cost_account=None,
    )


def _named(
    line: BillingLineRow, quantity: Decimal, taken: Taken, scale: int, inclusive: bool
) -> BillingLineRow:
    """``quantity`` of ``line`` priced, never more than the line has left (rounding per
    note could otherwise add up to more than the line); its rest when that is all it has."""
    rest = _rest(line, taken)
    if quantity == Decimal(rest.quantity):
        return rest
    priced = _priced(line, quantity, scale, inclusive)
    return replace(
        priced,
        net_minor=min(priced.net_minor, rest.net_minor),
        tax_minor=min(priced.tax_minor, rest.tax_minor),
    )


def credited_lines(
    uow: UnitOfWork, invoice: BillingDocumentRow, wanted: Credited
) -> tuple[BillingLineRow, ...]:
    """The lines a credit note of ``invoice`` holds: all that is still creditable
    (``wanted`` None), or the quantities named, checked and priced as the module docstring
    says."""
    taken = credited_before(uow, invoice)
    if wanted is None:
        return _all_left(invoice, taken)
    pairs = list(wanted)
    if not pairs:
        raise InvalidFieldError("lines", "name a line to credit (or none: the whole invoice)")
    by_position = {r.position: r for r in invoice.lines}
    scale = scale_of(invoice.currency, book_scales(uow))
    seen: set[int] = set()
    rows = [
        _named(
            _check(by_position.get(position), position, quantity, taken, seen),
            quantity,
            taken[position],
            scale,
            invoice.prices_include_tax,
        )
        for position, quantity in pairs
    ]
    return tuple(sorted(rows, key=lambda r: r.position))
