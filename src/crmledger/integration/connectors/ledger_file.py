"""The ledger written to a file for another tool (Beancount, ledger-cli, hledger), whole and
at once: the text goes to a temporary file beside the target, is flushed to disk, and
replaces the target in one rename, so a reader never sees half a book and a crash leaves
the last good file in place::

    export = LedgerFile(write)            # write(format, out): the book as text in format
    export("beancount", "/srv/books/book.beancount")   # -> bytes written
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

#: Writes the whole book in a format (``beancount``, ``ledger``, ``entries``) to a stream.
BookWriter = Callable[[str, TextIO], None]


class LedgerFile:
    """Writes the book to a path atomically (see the module)."""

    def __init__(self, write: BookWriter) -> None:
        self._write = write

    def __call__(self, fmt: str, path: str) -> int:
        target = Path(path)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                self._write(fmt, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return target.stat().st_size
