"""What the statements need from the store: postings summed in the base currency, the
entries behind a figure, cash-flow classes, layouts and year-end closes.

Sums come as :class:`ValueRow`: per account and commodity, the ``amount`` in that
commodity, the part of it that has no value in the base currency (``open``), and the base
value of the rest (``base``). A posting in the base currency is its own base value; a
posting in another currency with a cost or price in the base currency (an invoice in
dollars at its booked rate) is worth its weight; anything else is open and valued at a
rate by the service, or left out and named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ValueRow:
    """Postings of one account in one commodity (of a month, a day or a journal), summed
    in minor units."""

    account_id: int
    commodity: str
    amount_minor: int
    open_minor: int
    base_minor: int
    period: int = 0
    day: date | None = None
    journal: str = ""


@dataclass(frozen=True, slots=True)
class DrillRow:
    """A posting behind a figure; ``base_minor`` is ``None`` when it has no base value."""

    entry_id: int
    date: date
    reference: str
    narration: str
    journal: str
    account_id: int
    commodity: str
    amount_minor: int
    base_minor: int | None


@dataclass(frozen=True, slots=True)
class DrillQuery:
    """Entries with a posting to ``account_ids`` (``None``: any) dated ``start`` to
    ``end``, in ``journals`` when given, never in ``exclude``; a page of ``limit``
    entries after the keyset ``after`` (date, entry id)."""

    account_ids: tuple[int, ...] | None
    start: date | None
    end: date | None
    journals: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    after: tuple[date, int] | None = None
    limit: int = 100


@dataclass(frozen=True, slots=True)
class CloseRow:
    """A year-end close: its entry (``None`` when there was nothing to close), the lock
    date before it, and its reopening when it was reopened."""

    id: int
    year: int
    entry_id: int | None
    previous_lock: date | None
    closed_at: datetime
    closed_by: str
    reopened_at: datetime | None = None
    reopened_by: str | None = None
    reversal_id: int | None = None


class StatementStore(Protocol):
    """Reads for the statements and the tables of year-end closes, in one transaction."""

    def month_values(self, base: str, until_period: int) -> list[ValueRow]:
        """Per account, commodity and month (``period`` = yyyymm) up to ``until_period``."""

    def day_values(self, base: str, start: date, end: date) -> list[ValueRow]:
        """Per account and commodity, the postings dated ``start`` to ``end``."""

    def journal_values(self, base: str, journals: Sequence[str], until: date) -> list[ValueRow]:
        """Per journal, account, commodity and day, the postings of ``journals`` up to
        ``until``."""

    def drill(self, base: str, query: DrillQuery) -> list[DrillRow]:
        """The postings to the query's accounts of one page of its entries."""

    def flow_classes(self) -> dict[str, str]:
        """Cash-flow class overrides: account name -> class."""

    def set_flow_class(self, account_id: int, flow_class: str | None) -> None:
        """Override an account's class (``None``: back to the default rule)."""

    def layouts(self) -> dict[str, str]:
        """Stored statement layouts: name -> rules as JSON."""

    def save_layout(self, name: str, rules: str) -> None: ...
    def delete_layout(self, name: str) -> bool: ...
    def closes(self) -> list[CloseRow]:
        """Every close, reopened ones included, by year and id."""

    def add_close(
        self,
        year: int,
        entry_id: int | None,
        previous_lock: date | None,
        at: datetime,
        by: str,
    ) -> int: ...
    def mark_reopened(self, close_id: int, at: datetime, by: str, reversal_id: int | None) -> None:
        """Record the reopening of close ``close_id``."""

    def clear_lock(self) -> None:
        """Remove the lock date: nothing is locked."""

    def stored_base_conversions(self) -> dict[tuple[int, str, int], tuple[int, int]]:
        """The running sums of conversions into the base currency as stored: (account id,
        commodity, month) -> (amount, weight), zero rows left out."""

    def recompute_base_conversions(self, base: str) -> dict[tuple[int, str, int], tuple[int, int]]:
        """What those running sums must hold, from every posted posting."""
