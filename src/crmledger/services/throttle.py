"""Login throttling: after ``limit`` failures within ``window`` seconds for one account or
one address, further attempts are refused until the oldest failure ages out.

    >>> from datetime import UTC, datetime, timedelta
    >>> t = LoginThrottle(limit=2, window=60)
    >>> now = datetime(2026, 1, 1, tzinfo=UTC)
    >>> t.fail(["ip:1.2.3.4"], now); t.fail(["ip:1.2.3.4"], now)
    >>> t.retry_after(["ip:1.2.3.4"], now + timedelta(seconds=10))
    50

Kept in the server process's memory: it slows down guessing, it is not a ledger.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Iterable
from datetime import datetime


class LoginThrottle:
    """Failures per key in a sliding window."""

    def __init__(self, limit: int = 10, window: float = 60.0) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def retry_after(self, keys: Iterable[str], at: datetime) -> int:
        """Seconds to wait before another attempt for any of ``keys`` (0: go ahead)."""
        now = at.timestamp()
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if len(times) >= self.limit:
                    wait = max(wait, times[0] + self.window - now)
        return math.ceil(wait)

    def fail(self, keys: Iterable[str], at: datetime) -> None:
        """Count one failed attempt against each of ``keys``."""
        now = at.timestamp()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeed(self, keys: Iterable[str]) -> None:
        """Forget the failures of ``keys`` after a successful login."""
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
