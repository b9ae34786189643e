"""Reading ahead: every item once and in order, the source read while the reader is busy
but never further than its bound, its error raised where the items are read, and the
source closed when the reader leaves early."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from crmledger.services.read_ahead import ReadAhead


class Source:
    """Numbers 0..n-1, noting how far they were read and whether the source was closed."""

    def __init__(self, count: int, fail_at: int | None = None) -> None:
        self.count, self.fail_at = count, fail_at
        self.read, self.closed = 0, threading.Event()

    def items(self) -> Iterator[int]:
        try:
            for n in range(self.count):
                if n == self.fail_at:
                    raise ValueError(f"the source broke at {n}")
                self.read = n + 1
                yield n
        finally:
            self.closed.set()


def test_every_item_arrives_once_in_order_and_the_source_reads_on_meanwhile() -> None:
    source = Source(10_000)
    with ReadAhead(source.items(), ahead=20_000, batch=100) as items:
        deadline = time.monotonic() + 5
        while source.read < source.count and time.monotonic() < deadline:
            time.sleep(0.01)  # the reader is busy elsewhere ...
        assert source.read == source.count  # ... and the source was read all the same
        assert list(items) == list(range(10_000))
    assert source.closed.is_set()


def test_the_source_is_never_read_further_than_the_bound() -> None:
    source = Source(100_000)
    with ReadAhead(source.items(), ahead=1_000, batch=100) as items:
        time.sleep(0.3)
        # The queue holds ten batches; one more is being filled, one waits to be put.
        assert source.read <= 1_000 + 2 * 100
        assert sum(1 for _ in items) == 100_000


def test_an_error_of_the_source_is_raised_where_the_items_are_read() -> None:
    source = Source(1_000, fail_at=750)
    got: list[int] = []
    with ReadAhead(source.items(), batch=100) as items, pytest.raises(ValueError, match="750"):
        got.extend(items)
    assert got == list(range(750))  # everything read before the error


def test_leaving_early_stops_the_thread_and_closes_the_source() -> None:
    source = Source(1_000_000)
    with ReadAhead(source.items(), ahead=1_000, batch=100) as items:
        assert next(iter(items)) == 0
    assert source.closed.wait(5)
    assert source.read < 10_000
