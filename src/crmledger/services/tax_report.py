"""The VAT / sales-tax summary of a period: output tax collected, input tax deductible, and
what is payable, per tax category and rate, in the base currency.

Every document issued in the period counts on the day it is dated: invoices add to what
was collected, credit notes take it back, bills add to what is deductible. A document in
a foreign currency counts at its own booked rate, its tax per category rounded half-even
once, exactly as its entry posted it (and its net the same way), so the totals equal the
period's movement of ``Liabilities:Tax:Output`` and ``Assets:Tax:Input`` in the base
currency. An invoice of 100.00 EUR at 19 % and one of 100.00 USD at 19 % booked at 0.90::

    summary = TaxReportService(uow, clock).vat_summary(date(2026, 6, 1), date(2026, 6, 30))
    [(v.category, v.rate, v.collected_net, v.collected_tax) for v in summary.lines]
    # [('standard', Decimal('0.19'), Decimal('190.00'), Decimal('36.10'))]
    summary.payable          # collected - deductible: 36.10 less the bills' input tax

Tax posted by hand (a journal entry to a tax account) is not in the summary: it has no
document. Reading it needs ``reports:read``: it is a statement of the book's tax position,
for the people who read the trial balance, not for everyone who may read an invoice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from crmledger.core.billing.entries import FxRate
from crmledger.core.errors import InvalidFieldError
from crmledger.core.money import from_minor
from crmledger.services.billing_common import base_currency
from crmledger.services.billing_ports import TaxLineRow
from crmledger.services.ports import Clock, UnitOfWorkFactory
from crmledger.services.products import book_scales, scale_of
from crmledger.services.trail import OPERATOR, Actor

#: What each kind of document adds to (collected, deductible): +1, -1 or 0 times its amount.
_SIDES = {"invoice": (1, 0), "credit_note": (-1, 0), "bill": (0, 1)}


@dataclass(frozen=True, slots=True)
class VatLine:
    """One tax category at one rate: net and tax collected (invoices less credit notes)
    and deductible (bills), in the base currency."""

    category: str
    rate: Decimal
    collected_net: Decimal
    collected_tax: Decimal
    deductible_net: Decimal
    deductible_tax: Decimal

    @property
    def payable(self) -> Decimal:
        """Tax collected less tax deductible in this category and rate."""
        return self.collected_tax - self.deductible_tax


@dataclass(frozen=True, slots=True)
class VatSummary:
    """A period's tax per category and rate, and its totals, in ``currency`` (the base)."""

    start: date
    end: date
    currency: str
    lines: tuple[VatLine, ...]
    collected: Decimal
    deductible: Decimal
    documents: int

    @property
    def payable(self) -> Decimal:
        """What is owed to the tax office (negative: a refund is due)."""
        return self.collected - self.deductible


def in_base(row: TaxLineRow, base: str, scales: Mapping[str, int]) -> tuple[Decimal, Decimal]:
    """The row's net and tax in ``base`` at the document's booked rate, each rounded
    half-even (as its entry converted them)."""
    fx = FxRate(row.currency, base, Decimal(row.rate or 1), scale_of(base, scales))
    scale = scale_of(row.currency, scales)
    net, tax = from_minor(row.net_minor, scale), from_minor(row.tax_minor, scale)
    return fx.to_base(net), fx.to_base(tax)


def summarise(
    rows: Iterable[tuple[str, str, str, Decimal, Decimal]], base_scale: int
) -> tuple[VatLine, ...]:
    """Lines per category and rate from ``(kind, category, rate, net, tax)`` in the base
    currency, by category and rate."""
    zero = from_minor(0, base_scale)
    sums: dict[tuple[str, Decimal], list[Decimal]] = {}
    for kind, category, rate, net, tax in rows:
        out, into = _SIDES[kind]
        cell = sums.setdefault((category, Decimal(rate)), [zero, zero, zero, zero])
        cell[0] += out * net
        cell[1] += out * tax
        cell[2] += into * net
        cell[3] += into * tax
    return tuple(VatLine(category, rate, *cell) for (category, rate), cell in sorted(sums.items()))


class TaxReportService:
    """The VAT / sales-tax summary."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, actor: Actor = OPERATOR) -> None:
        self._uow = uow
        self._clock = clock
        self._actor = actor

    def acting_as(self, actor: Actor) -> TaxReportService:
        """The same service for another actor."""
        return TaxReportService(self._uow, self._clock, actor)

    def vat_summary(self, start: date, end: date) -> VatSummary:
        """Tax collected, deductible and payable from ``start`` to ``end`` (both included)."""
        self._actor.require("reports", "read")
        if end < start:
            raise InvalidFieldError("to", f"the period ends before it starts ({start})")
        with self._uow(readonly=True) as uow:
            base = base_currency(uow)
            scales = book_scales(uow)
            found = uow.billing.tax_lines(start, end)
        rows = [
            (r.kind, r.tax_category, r.tax_rate, *in_base(r, base, scales))
            for r in found
            if r.kind in _SIDES
        ]
        lines = summarise(rows, scale_of(base, scales))
        zero = from_minor(0, scale_of(base, scales))
        return VatSummary(
            start=start,
            end=end,
            currency=base,
            lines=lines,
            collected=sum((line.collected_tax for line in lines), zero),
            deductible=sum((line.deductible_tax for line in lines), zero),
            documents=len({r.document_id for r in found}),
        )
