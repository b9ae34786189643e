"""What one customer's figures are measured against: the book's RFM quintile boundaries and
its observed year-on-year retention.

Both need every customer's invoices, which one customer's 360 must not read each time, so a
:class:`SnapshotCache` keeps the latest :class:`BookSnapshot`. It is read again when the day
changes, or when billing changed (the outbox's last id moved) and the snapshot is older than
``max_age`` (five minutes by default): the boundaries a 360 shows are at most that old, while
the customer's own recency, frequency and revenue are always read live::

    cache = SnapshotCache()
    token, now = uow.intelligence.change_token(), clock.now()
    snapshot = cache.get(token, now, today, lambda: take(uow, token, today, now))
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from crmledger.core.intelligence import (
    Retention,
    RfmBreaks,
    month_index,
    observed_retention,
    rfm_breaks,
)
from crmledger.services.intelligence_figures import (
    activity,
    histories,
    money_of,
    purchase_months,
)
from crmledger.services.intelligence_ports import IntelligenceUnitOfWork, Scope

DEFAULT_MAX_AGE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """The book-wide figures as of ``day``, taken at ``taken_at`` when the billing change
    token was ``token``."""

    token: int
    day: date
    taken_at: datetime
    breaks: RfmBreaks
    retention: Retention


def take(uow: IntelligenceUnitOfWork, token: int, today: date, now: datetime) -> BookSnapshot:
    """Compute the snapshot from every invoice and credit note in ``uow``."""
    sales = uow.intelligence.sales(Scope())
    money = money_of(uow)
    breaks = rfm_breaks(activity(histories(money, sales)), today)
    retention = observed_retention(purchase_months(sales), month_index(today))
    return BookSnapshot(token, today, now, breaks, retention)


class SnapshotCache:
    """The latest :class:`BookSnapshot`, shared by every copy of a service (thread-safe)."""

    def __init__(self, max_age: timedelta = DEFAULT_MAX_AGE) -> None:
        self._max_age = max_age
        self._lock = threading.Lock()
        self._current: BookSnapshot | None = None

    def _fresh(self, token: int, now: datetime, today: date) -> BookSnapshot | None:
        current = self._current
        if current is None or current.day != today:
            return None
        if current.token == token or now - current.taken_at < self._max_age:
            return current
        return None

    def get(
        self, token: int, now: datetime, today: date, build: Callable[[], BookSnapshot]
    ) -> BookSnapshot:
        """The cached snapshot if still fresh, else a new one from ``build``."""
        found = self._fresh(token, now, today)
        if found is not None:
            return found
        with self._lock:
            found = self._fresh(token, now, today)
            if found is None:
                found = self._current = build()
            return found
