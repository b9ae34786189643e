"""What an importer hands to the ledger: entries with their source lines, and problems.

Stages follow an ``(items, problems)`` contract: a reader returns everything it could parse
*and* everything it could not, as values a report can show. Nothing is dropped silently::

    parsed = read_ledger_file(path)
    for problem in parsed.problems:
        print(problem)          # books.journal:12: amount: more than 2 decimals for EUR
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from crmledger.core.accounts import Account
from crmledger.core.entries import JournalEntry
from crmledger.core.money import Commodity


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a piece of input was refused or not imported."""

    source: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.field}: {self.reason}"


@dataclass(frozen=True, slots=True)
class SourceEntry:
    """A parsed entry and the line of the file it starts on."""

    line: int
    entry: JournalEntry


@dataclass(frozen=True, slots=True)
class BalanceAssertion:
    """``account`` must hold exactly ``amount`` of ``commodity`` at the start of ``date``."""

    line: int
    date: date
    account: str
    amount: Decimal
    commodity: str


@dataclass(slots=True)
class ParsedFile:
    """Everything a reader found in one file.

    ``accounts`` and ``commodities`` are the file's declarations (``open``, ``account``,
    ``commodity`` directives); ``inferred_commodities`` are the ones it uses without
    declaring them, at the scale its numbers show (a strict import refuses those the book
    does not know already); ``skipped`` lists directives the reader understood but does
    not import, each as a :class:`Problem` naming its line.

    A reader of files too large to hold in memory leaves ``entries`` empty and sets
    ``stream``: each call starts a new pass over the file, yielding entries and appending
    what it cannot parse to ``problems`` (which the pass clears first). :meth:`iter_entries`
    hides the difference.
    """

    source: str
    entries: list[SourceEntry] = field(default_factory=list)
    stream: Callable[[], Iterator[SourceEntry]] | None = None
    accounts: list[Account] = field(default_factory=list)
    commodities: list[Commodity] = field(default_factory=list)
    inferred_commodities: list[Commodity] = field(default_factory=list)
    assertions: list[BalanceAssertion] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)

    def iter_entries(self) -> Iterator[SourceEntry]:
        """A new pass over the file's entries."""
        return self.stream() if self.stream is not None else iter(self.entries)
