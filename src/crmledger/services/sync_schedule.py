"""When a connector runs by itself, and how fast it may go.

A connector's configuration may carry a schedule, either a cron expression (five fields:
minute, hour, day of month, month, day of week, in UTC; read by croniter) or a plain
interval in seconds, and a rate limit in records per second::

    {"schedule": "*/15 6-20 * * mon-fri", "rate_per_second": 50, ...}
    {"every_seconds": 300, ...}

The worker asks :func:`is_due` each round: a connector is due when the first scheduled
moment after its last run's start has come (never run: due at once). A worker that was
down for a day runs a missed schedule once, not once per missed moment.

The rate limit is a token bucket (:class:`RateLimit`): a run takes one token per record
it reads or writes, and waits when the bucket is empty, so a big first run or a burst of
events never floods the other system; the wait is the back-pressure the outbox absorbs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from croniter import croniter

from crmledger.core.errors import InvalidFieldError
from crmledger.services.sync_ports import Connector, OutboundChange, Page, PushResult, RemoteChange

#: The longest a plain interval may be: 31 days.
MAX_EVERY = 86_400 * 31


@dataclass(frozen=True, slots=True)
class Schedule:
    """A cron expression or an interval in seconds (exactly one of them)."""

    cron: str | None = None
    every_seconds: int | None = None

    def next_after(self, moment: datetime) -> datetime:
        """The first scheduled moment strictly after ``moment`` (UTC)."""
        if self.cron is not None:
            found: datetime = croniter(self.cron, moment.astimezone(UTC)).get_next(datetime)
            return found
        assert self.every_seconds is not None
        return moment + timedelta(seconds=self.every_seconds)

    def describe(self) -> str:
        """The schedule as a person reads it."""
        if self.cron is not None:
            return f"cron {self.cron} (UTC)"
        return f"every {self.every_seconds} s"


def parse_schedule(cron: object, every_seconds: object) -> Schedule | None:
    """The schedule of a configuration's ``schedule`` and ``every_seconds`` values (either,
    not both); ``None`` when it has neither. A bad value is refused naming its field."""
    if cron is not None and every_seconds is not None:
        raise InvalidFieldError("schedule", "give a cron schedule or every_seconds, not both")
    if cron is not None:
        if not isinstance(cron, str) or len(cron.split()) != 5 or not croniter.is_valid(cron):
            raise InvalidFieldError(
                "schedule",
                f"{cron!r} is not a cron expression of five fields, like '*/15 6-20 * * mon-fri'",
            )
        return Schedule(cron=" ".join(cron.split()))
    if every_seconds is None:
        return None
    if (
        isinstance(every_seconds, bool)
        or not isinstance(every_seconds, int)
        or not 1 <= every_seconds <= MAX_EVERY
    ):
        raise InvalidFieldError("every_seconds", "run every 1 second to 31 days, in seconds")
    return Schedule(every_seconds=every_seconds)


def is_due(schedule: Schedule, last_started: datetime | None, now: datetime) -> bool:
    """Whether a connector last started at ``last_started`` runs again at ``now``."""
    if last_started is None:
        return True
    return schedule.next_after(last_started) <= now


def parse_rate(value: object) -> float | None:
    """A configuration's ``rate_per_second``: records per second, from 0.1 to 100,000."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.1 <= value <= 1e5:
        raise InvalidFieldError("rate_per_second", "records per second, from 0.1 to 100000")
    return float(value)


@dataclass
class RateLimit:
    """A token bucket of ``rate`` tokens per second holding at most one second's worth
    (at least one token): :meth:`take` waits until ``count`` tokens are there."""

    rate: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    tokens: float = field(init=False)
    stamp: float = field(init=False)
    waited: float = field(default=0.0, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self.tokens = self.capacity
        self.stamp = self.clock()

    @property
    def capacity(self) -> float:
        """The most the bucket holds: one second of work, one record at least."""
        return max(self.rate, 1.0)

    def _fill(self) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self, count: int = 1) -> None:
        """Take ``count`` tokens, waiting for them (in pieces no larger than the bucket)."""
        with self._lock:
            self._take(float(count))

    def _take(self, left: float) -> None:
        while left > 0:
            self._fill()
            part = min(left, self.capacity)
            if self.tokens < part:
                pause = (part - self.tokens) / self.rate
                self.waited += pause
                self.sleep(pause)
                self._fill()
            self.tokens -= part
            left -= part


class Throttled:
    """A connector held to ``limit``: a page read costs a token per record it brings (the
    next read waits for them), a push a token per change before it goes, and a
    reconciliation's snapshot a token per record as it streams."""

    def __init__(self, connector: Connector, limit: RateLimit) -> None:
        self._connector, self._limit = connector, limit

    def fetch(self, object_type: str, cursor: str, limit: int) -> Page:
        page = self._connector.fetch(object_type, cursor, limit)
        self._limit.take(len(page.changes))
        return page

    def push(self, object_type: str, changes: Sequence[OutboundChange]) -> list[PushResult]:
        self._limit.take(len(changes))
        return self._connector.push(object_type, changes)

    def snapshot(self, object_type: str) -> Iterator[RemoteChange]:
        for record in self._connector.snapshot(object_type):
            self._limit.take(1)
            yield record

    def close(self) -> None:
        self._connector.close()


class Limits:
    """One token bucket per connector name, shared by every run in this process (a
    connector's rate holds across runs, not per run); a changed rate starts a new bucket."""

    def __init__(self) -> None:
        self._buckets: dict[str, RateLimit] = {}
        self._lock = threading.Lock()

    def held(self, name: str, rate: float | None, connector: Connector) -> Connector:
        """``connector`` held to ``rate`` records per second (as it is when ``None``)."""
        if rate is None:
            return connector
        with self._lock:
            bucket = self._buckets.get(name)
            if bucket is None or bucket.rate != rate:
                bucket = self._buckets[name] = RateLimit(rate)
        return Throttled(connector, bucket)
