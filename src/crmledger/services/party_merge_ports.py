"""What merging two parties needs from storage: the merges, the journal of moved rows.

A merge moves every row of the absorbed party that names it (contacts both ways,
interactions, deals, sales documents, billing documents, payments, dunning notices,
external ids, tags, sync links ...) to the survivor, writing each moved row's key to the
journal (with a sync link's state); an undo moves exactly the journaled rows back. Posted
journal entries are never rewritten: reads of a party's postings take in the parties
merged into it (:meth:`absorbed`)::

    MergeRow(id=4, survivor_id=12, absorbed_id=31, status="active",
             moved={"billing_documents.party_id": 3, "party_tags.party_id": 1}, ...)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from crmledger.services.ports import UnitOfWork

#: The families of rows a merge moves; ``finance`` needs ``billing:write`` as well.
FINANCE = "finance"
CRM = "crm"


@dataclass(frozen=True, slots=True)
class MergeRow:
    """A stored merge; ``moved`` counts the rows moved per ``table.column``."""

    id: int
    survivor_id: int
    absorbed_id: int
    status: str
    moved: Mapping[str, int]
    run_id: int | None
    merged_by: str
    merged_at: datetime
    undone_by: str | None
    undone_at: datetime | None


class PartyMergeStore(Protocol):
    """Party merges in one transaction."""

    def pending(self, survivor_id: int, absorbed_id: int) -> dict[str, int]:
        """What a merge would move now, by family (``crm``, ``finance``)."""

    def journaled(self, merge_id: int) -> dict[str, int]:
        """What a merge moved and still lies with its survivor, by family."""

    def add(
        self, survivor_id: int, absorbed_id: int, by: str, at: datetime, run_id: int | None
    ) -> int:
        """Insert an active merge (nothing moved yet); returns its id."""

    def move(self, merge_id: int, survivor_id: int, absorbed_id: int) -> dict[str, int]:
        """Move the absorbed party's rows to the survivor, journaling each; returns the
        count per ``table.column`` (also stored with the merge)."""

    def restore(self, merge_id: int) -> dict[str, int]:
        """Move the journaled rows that still lie with the survivor back; returns the
        count per ``table.column``."""

    def undone(self, merge_id: int, by: str, at: datetime) -> None: ...
    def crossings(self, merge_id: int) -> list[str]:
        """Links made since the merge between moved finance rows and the survivor's own
        (allocations, credit notes), which an undo would split across two parties."""

    def get(self, merge_id: int) -> MergeRow | None: ...
    def page(
        self, party_id: int | None, status: str | None, after_id: int, limit: int
    ) -> list[MergeRow]:
        """Merges by id, newest first below ``after_id`` (0: from the newest), of a party
        (survivor or absorbed) and status when given."""

    def absorbing(self, party_ids: list[int]) -> dict[int, MergeRow]:
        """The active merge that absorbed each of ``party_ids`` (those absorbed only)."""

    def absorbed(self, party_id: int) -> list[int]:
        """Every party merged into ``party_id``, directly or through parties merged into
        it, while the merges are active."""

    def touch(self, party_id: int, at: datetime) -> int:
        """Bump a party's version (its tags, external ids or status changed); returns the
        new version."""


class MergeUnitOfWork(UnitOfWork, Protocol):
    """A unit of work that also holds party merges."""

    @property
    def party_merges(self) -> PartyMergeStore:
        """Party merges and their journal in this transaction."""


class MergeUnitOfWorkFactory(Protocol):
    """Opens merge units of work."""

    def __call__(self, readonly: bool = False) -> MergeUnitOfWork: ...
