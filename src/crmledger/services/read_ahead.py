"""Reading ahead: an iterator drained by a thread of its own into a bounded queue, so its
source (another system answering over HTTP) keeps working while this process does
something else, holding at most about ``ahead`` items::

    with ReadAhead(connector.snapshot("invoice"), ahead=100_000) as records:
        local = read_the_book()        # meanwhile the other book streams its invoices
        for record in records:         # what it sent so far, then the rest as it comes
            ...

Items cross in batches (a queue operation per item would cost more than the item). An
error the source raises is raised again where the items are read; leaving the block early
stops the thread at its next batch and closes the source.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Generic, Self, TypeVar

T = TypeVar("T")
#: Items handed over at once.
BATCH = 500


@dataclass(frozen=True, slots=True)
class _End:
    """The source ended, with ``error`` when it failed."""

    error: BaseException | None = None


class ReadAhead(Generic[T]):
    """``source``'s items, read by a thread ahead of the reader (see the module)."""

    def __init__(self, source: Iterator[T], ahead: int = 100_000, batch: int = BATCH) -> None:
        self._queue: queue.Queue[list[T] | _End] = queue.Queue(maxsize=max(1, ahead // batch))
        self._stop = threading.Event()
        self._source, self._batch = source, batch
        self._thread = threading.Thread(target=self._fill, name="read-ahead", daemon=True)
        self._thread.start()

    def _fill(self) -> None:
        chunk: list[T] = []
        try:
            for item in self._source:
                chunk.append(item)
                if len(chunk) >= self._batch:
                    if not self._put(chunk):
                        return
                    chunk = []
            if chunk and not self._put(chunk):
                return
            self._put(_End())
        except BaseException as exc:  # handed to the reader, who raises it
            if not chunk or self._put(chunk):  # what was read before it, first
                self._put(_End(exc))
        finally:
            close = getattr(self._source, "close", None)
            if close is not None:
                close()

    def _put(self, item: list[T] | _End) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[T]:
        while True:
            found = self._queue.get()
            if isinstance(found, _End):
                if found.error is not None:
                    raise found.error
                return
            yield from found

    def close(self) -> None:
        """Stop reading ahead and wait for the thread (it closes the source)."""
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
