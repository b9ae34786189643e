"""What dunning needs from storage: the notices sent, and the overdue invoices to look at.

A notice is one letter of one level for one invoice, sent once: the store refuses a second
notice of the same level for the same invoice. ``open_minor`` is what the invoice had open
when the notice went out, in the invoice's currency::

    dunning_notices  invoice 7  level 1  sent 2026-06-22  15 days  open 11900  interaction 31
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class DunningNoticeRow:
    """A notice as stored; ``id`` is ignored on insert."""

    id: int
    invoice_id: int
    party_id: int
    level: int
    sent_on: date
    days_overdue: int
    open_minor: int
    interaction_id: int
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class OverdueInvoiceRow:
    """An issued invoice still open after its due date, with the highest level already sent
    for it (0: none) and the day it went out."""

    invoice_id: int
    party_id: int
    number: str
    currency: str
    due_on: date
    open_minor: int
    last_level: int
    last_sent_on: date | None


class DunningStore(Protocol):
    """Dunning notices, and the overdue invoices a run considers."""

    def overdue(self, today: date) -> list[OverdueInvoiceRow]:
        """Issued or partly paid invoices with something open, due before ``today``, oldest
        due date first (then id)."""

    def insert(self, row: DunningNoticeRow) -> int:
        """Store a notice; returns its id."""

    def notice(self, notice_id: int) -> DunningNoticeRow | None: ...
    def notices(
        self, *, invoice_id: int | None = None, party_id: int | None = None
    ) -> list[DunningNoticeRow]:
        """Notices of one invoice or party (or all), oldest first."""

    def interaction_ids(self, invoice_ids: Sequence[int]) -> list[int]:
        """The interactions that record the notices of ``invoice_ids``."""

    def dunned_invoices(self, invoice_ids: Sequence[int]) -> set[int]:
        """Those of ``invoice_ids`` that have had a notice."""
