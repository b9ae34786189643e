"""Reading the whole book for export, in one read-only transaction per call."""

from __future__ import annotations

from collections.abc import Iterator

from crmledger.core.accounts import Account
from crmledger.core.entries import JournalEntry
from crmledger.core.money import Commodity
from crmledger.services.ports import UnitOfWorkFactory


class ExportService:
    """Commodities, accounts and posted entries in date order."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def commodities(self) -> list[Commodity]:
        """Every commodity with its scale."""
        with self._uow(readonly=True) as uow:
            return uow.ledger.commodities()

    def scales(self) -> dict[str, int]:
        """Scale per commodity code."""
        with self._uow(readonly=True) as uow:
            return uow.ledger.scales()

    def accounts(self) -> list[Account]:
        """Every account by name."""
        with self._uow(readonly=True) as uow:
            return [account for _, account in uow.ledger.accounts().values()]

    def entries(self) -> Iterator[JournalEntry]:
        """Posted and reversed entries by date, streamed."""
        with self._uow(readonly=True) as uow:
            yield from uow.ledger.iter_entries()
