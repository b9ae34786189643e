"""What aging and party statements read: issued documents and payments on a control
account, the allocations between them, and a party's balance on the control account.

A document's ``base`` is the base value its entry posted to the control account; a
payment's is the base value of its bank posting. Items come as
:class:`~crmledger.core.aging.Item`, keyed ``("document", id)`` or ``("payment", id)``::

    Item(key=("document", 12), kind="invoice", number="INV-2026-0004", party_id=7,
         currency="USD", day=date(2026, 3, 1), due_on=date(2026, 3, 31),
         amount=11900, base=10710)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from crmledger.core.aging import Item, Move
from crmledger.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class ItemQuery:
    """Documents of ``documents`` kinds and payments of ``payments`` kinds posted to the
    account ``control_id`` (base currency ``base``), of one party or all."""

    control_id: int
    base: str
    documents: tuple[str, ...]
    payments: tuple[str, ...]
    party_id: int | None = None


class AgingReads(Protocol):
    """Reads for aging and party statements, in one unit of work's transaction."""

    def open_items(self, query: ItemQuery, as_of: date) -> list[Item]:
        """Every item that may have been open on ``as_of``: open now and dated on or
        before it, or drawn on by an allocation dated after it (or dated after it and
        drawn on before)."""

    def party_items(self, query: ItemQuery) -> list[Item]:
        """Every issued item of the query's party, by day."""

    def moves(self, items: Sequence[Item]) -> list[Move]:
        """Every allocation that draws on one of ``items``, whatever its date, in the
        order they were made."""

    def party_balance(self, control_id: int, party_id: int, as_of: date, base: str) -> int:
        """The base value of the party's postings to the control account up to ``as_of``
        (minor units, debit positive)."""


class AgingUnitOfWork(UnitOfWork, Protocol):
    """A unit of work that also offers the aging reads."""

    @property
    def aging(self) -> AgingReads:
        """Reads for aging and party statements in this transaction."""


class AgingUnitOfWorkFactory(Protocol):
    """Opens units of work with the aging reads."""

    def __call__(self, readonly: bool = False) -> AgingUnitOfWork: ...
