"""Reading the whole book for export, in one read-only transaction per call."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from crmledger.core.accounts import Account
from crmledger.core.entries import JournalEntry
from crmledger.core.imports import BalanceAssertion
from crmledger.core.money import Commodity
from crmledger.services.ports import UnitOfWorkFactory
from crmledger.services.trail import OPERATOR, Actor


class ExportService:
    """Commodities, accounts and posted entries in date order."""

    def __init__(self, uow: UnitOfWorkFactory, actor: Actor = OPERATOR) -> None:
        self.uow = uow
        self.actor = actor

    def commodities(self) -> list[Commodity]:
        """Every commodity with its scale."""
        with self.uow(readonly=True) as uow:
            return uow.ledger.commodities()

    def scales(self) -> dict[str, int]:
        """Scale per commodity code."""
        with self.uow(readonly=True) as uow:
            return uow.ledger.scales()

    def assertions(self) -> list[BalanceAssertion]:
        """Balance assertions kept from imported files, by date."""
        with self.uow(readonly=True) as uow:
            return uow.ledger.assertions()

    def accounts(self) -> list[Account]:
        """Every account by name."""
        with self.uow(readonly=True) as uow:
            return [account for _, account in uow.ledger.accounts().values()]

    def entries(self, progress: Callable[[int], None] | None = None) -> Iterator[JournalEntry]:
        """Posted and reversed entries by date, streamed; ``progress`` hears the count
        every 10,000 entries."""
        self.actor.require("journal", "read")
        with self.uow(readonly=True) as uow:
            for count, entry in enumerate(uow.ledger.iter_entries(), start=1):
                if progress is not None and count % 10_000 == 0:
                    progress(count)
                yield entry
