"""When a failed webhook delivery is tried again.

The delay grows four-fold from 5 seconds up to a cap of 12 hours, with ±20 % jitter so
that deliveries failing together (a receiver that was down) do not return together; after
:data:`MAX_ATTEMPTS` attempts, about three days after the first, the delivery fails::

    >>> [round(retry_delay(n, 0.5)) for n in range(1, 5)]
    [5, 20, 80, 320]
    >>> round(sum(retry_delay(n, 0.5) for n in range(1, MAX_ATTEMPTS)) / 3600)
    68
"""

from __future__ import annotations

BASE_SECONDS = 5.0
FACTOR = 4.0
CAP_SECONDS = 12 * 3600.0
JITTER = 0.2
#: The first attempt and twelve retries.
MAX_ATTEMPTS = 13


def retry_delay(attempts: int, draw: float) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt; ``draw`` in [0, 1) picks
    the jitter (0.5 is none)."""
    if attempts < 1:
        raise ValueError("a delay follows at least one attempt")
    plain = min(BASE_SECONDS * FACTOR ** (attempts - 1), CAP_SECONDS)
    return plain * (1 - JITTER + 2 * JITTER * draw)


def gives_up(attempts: int) -> bool:
    """Whether a delivery that failed ``attempts`` times is failed for good."""
    return attempts >= MAX_ATTEMPTS
