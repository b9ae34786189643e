"""Bodies of the VAT summary and the unrealised exchange revaluation.

Amounts are decimal strings in the base currency; a revaluation's ``difference`` is a
debit (positive) or a credit on the receivable or payable the item sits on::

    GET  /reports/vat?from=2026-06-01&to=2026-06-30
         {"from": "2026-06-01", "to": "2026-06-30", "currency": "EUR", "lines": [...],
          "collected": "40.10", "deductible": "7.60", "payable": "32.50", "documents": 4}
    POST /fx/revaluations  {"date": "2026-06-30"}
         {"reference": "FXREV-2026-06-30", "gain": "5.95", "loss": "0.00",
          "entry_number": "FX/2026/1", "reversal_number": "FX/2026/2", "items": [...]}
"""

from __future__ import annotations

import datetime as dt
from typing import Self

from pydantic import BaseModel, Field

from crmledger.api.schemas import Day, In, money
from crmledger.services.billing_common import rate_text
from crmledger.services.fx_revalue import Revaluation, RevaluedItem
from crmledger.services.tax_report import VatLine, VatSummary


class VatLinePublic(BaseModel):
    """One tax category at one rate (a fraction: ``"0.19"``)."""

    category: str
    rate: str
    collected_net: str
    collected_tax: str
    deductible_net: str
    deductible_tax: str
    payable: str

    @classmethod
    def of(cls, line: VatLine) -> Self:
        """The API view of a line."""
        return cls(
            category=line.category,
            rate=rate_text(line.rate),
            collected_net=money(line.collected_net),
            collected_tax=money(line.collected_tax),
            deductible_net=money(line.deductible_net),
            deductible_tax=money(line.deductible_tax),
            payable=money(line.payable),
        )


class VatSummaryPublic(BaseModel):
    """Tax collected (invoices less credit notes), deductible (bills) and payable in a
    period, per category and rate, in the base ``currency``."""

    start: dt.date = Field(serialization_alias="from")
    end: dt.date = Field(serialization_alias="to")
    currency: str
    lines: list[VatLinePublic]
    collected: str
    deductible: str
    payable: str
    documents: int

    @classmethod
    def of(cls, summary: VatSummary) -> Self:
        """The API view of a summary."""
        return cls(
            start=summary.start,
            end=summary.end,
            currency=summary.currency,
            lines=[VatLinePublic.of(line) for line in summary.lines],
            collected=money(summary.collected),
            deductible=money(summary.deductible),
            payable=money(summary.payable),
            documents=summary.documents,
        )


class RevaluationCreate(In):
    """The period end to revalue at (each date once)."""

    date: Day


class RevaluedItemPublic(BaseModel):
    """An open document or payment valued again at the day's rate."""

    kind: str
    id: int
    number: str
    party_id: int
    currency: str
    open: str
    rate: str
    booked_base: str
    revalued_base: str
    difference: str

    @classmethod
    def of(cls, item: RevaluedItem) -> Self:
        """The API view of an item."""
        return cls(
            kind=item.kind,
            id=item.id,
            number=item.number,
            party_id=item.party_id,
            currency=item.currency,
            open=money(item.open),
            rate=rate_text(item.rate),
            booked_base=money(item.booked_base),
            revalued_base=money(item.revalued_base),
            difference=money(item.difference),
        )


class RevaluationPublic(BaseModel):
    """A revaluation: its items, gain and loss, the entry dated ``date`` and its reversal
    the next day (both ``null`` when nothing moved and nothing was posted)."""

    date: dt.date
    reference: str
    base_currency: str
    gain: str
    loss: str
    net: str
    entry_id: int | None
    entry_number: str | None
    reversal_id: int | None
    reversal_number: str | None
    items: list[RevaluedItemPublic]

    @classmethod
    def of(cls, done: Revaluation) -> Self:
        """The API view of a revaluation."""
        return cls(
            date=done.on,
            reference=done.reference,
            base_currency=done.base,
            gain=money(done.gain),
            loss=money(done.loss),
            net=money(done.net),
            entry_id=done.entry.id if done.entry else None,
            entry_number=done.entry.ref if done.entry else None,
            reversal_id=done.reversal.id if done.reversal else None,
            reversal_number=done.reversal.ref if done.reversal else None,
            items=[RevaluedItemPublic.of(i) for i in done.items],
        )
