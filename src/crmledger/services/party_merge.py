"""Merging two book parties into one, and undoing the merge exactly.

A merge moves everything of the absorbed party to the survivor: contact links (as the
organisation or as the person), interactions, deals, quotes, orders, contracts,
satisfaction responses, billing documents, payments, dunning notices, recurring bills,
external ids, tags and sync links. The absorbed party stays in the book, marked as merged
(lists and searches leave it out; it can be read by id, and every write naming it is
refused, see :mod:`.party_guard`), and every moved row is journaled, so
:meth:`PartyMergeService.unmerge` puts exactly those rows back::

    merges = PartyMergeService(uow, clock).acting_as(actor)
    done = merges.merge(survivor_id=12, absorbed_id=31, if_version=4)
    done.moved                      # {"billing_documents.party_id": 3, ...}
    merges.unmerge(done.id)

Posted journal entries are never rewritten (the ledger is hash-chained): their postings
keep the party they were posted with, and reads of a party's postings take in the parties
merged into it while the merge is active.

Sync links: one outside record maps to one party, and a party has one account link per
connector and object type (the record pushes go to). The absorbed party's links move to
the survivor, so the next run of their records updates the survivor and creates no
party. Where the survivor has an account link of its own for that connector, it stays the
account link and the absorbed party's is folded into it (inbound only, never pushed to);
the undo makes it the absorbed party's account link again, with the state both sides had
agreed on before the merge.

Permissions: ``parties:write``; a merge or undo that moves finance rows (billing
documents, payments, dunning notices, recurring bills) needs ``billing:write`` as well.
A party is merged into another of its kind only, never into itself, a merged party, or
from a party already merged. An undo is refused while the survivor is merged into a third
party (undo that merge first) or while finance rows moved by the merge are linked to the
survivor's own (an allocation or a credit note made since), which the undo would split.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crmledger.services.billing_common import emit
from crmledger.services.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    VersionConflictError,
)
from crmledger.services.party_merge_ports import (
    FINANCE,
    MergeRow,
    MergeUnitOfWork,
    MergeUnitOfWorkFactory,
)
from crmledger.services.ports import Clock
from crmledger.services.trail import OPERATOR, Actor, record

STATUSES = ("active", "undone")


@dataclass(frozen=True, slots=True)
class PartyMerge:
    """A merge of ``absorbed_id`` into ``survivor_id``; ``moved`` counts rows moved per
    ``table.column``; ``versions`` are the parties' versions after this call changed them
    (empty when it changed nothing)."""

    id: int
    survivor_id: int
    absorbed_id: int
    status: str
    moved: dict[str, int]
    run_id: int | None
    merged_by: str
    merged_at: datetime
    undone_by: str | None = None
    undone_at: datetime | None = None
    versions: dict[int, int] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.status == "active"


def _view(row: MergeRow, versions: dict[int, int] | None = None) -> PartyMerge:
    return PartyMerge(
        id=row.id,
        survivor_id=row.survivor_id,
        absorbed_id=row.absorbed_id,
        status=row.status,
        moved=dict(row.moved),
        run_id=row.run_id,
        merged_by=row.merged_by,
        merged_at=row.merged_at,
        undone_by=row.undone_by,
        undone_at=row.undone_at,
        versions=versions or {},
    )


def _check_pair(
    uow: MergeUnitOfWork, survivor_id: int, absorbed_id: int, if_version: int | None
) -> None:
    if survivor_id == absorbed_id:
        raise InvalidInputError("absorbed_id", "a party cannot be merged into itself")
    rows = {r.id: r for r in uow.parties.many([survivor_id, absorbed_id])}
    for party_id in (survivor_id, absorbed_id):
        if party_id not in rows:
            raise NotFoundError(f"no party {party_id}")
    for party_id, merge in sorted(uow.party_merges.absorbing([survivor_id, absorbed_id]).items()):
        raise ConflictError(
            f"party {party_id} is merged into party {merge.survivor_id} already (merge {merge.id})"
        )
    survivor, absorbed = rows[survivor_id], rows[absorbed_id]
    if survivor.kind != absorbed.kind:
        raise InvalidInputError(
            "absorbed_id",
            f"party {absorbed_id} is a {absorbed.kind} and party {survivor_id} an "
            f"{survivor.kind}: only parties of one kind merge",
        )
    if if_version is not None and survivor.version != if_version:
        raise VersionConflictError(f"party {survivor_id}", if_version, survivor.version)


def merge_parties(
    uow: MergeUnitOfWork,
    actor: Actor,
    survivor_id: int,
    absorbed_id: int,
    at: datetime,
    *,
    if_version: int | None = None,
    run_id: int | None = None,
) -> PartyMerge:
    """Merge ``absorbed_id`` into ``survivor_id`` in ``uow``'s transaction (the caller
    commits): checks, moves, journals, bumps both parties' versions, audits and emits
    ``party.merged``."""
    actor.require("parties", "write")
    _check_pair(uow, survivor_id, absorbed_id, if_version)
    store = uow.party_merges
    if store.pending(survivor_id, absorbed_id).get(FINANCE):
        actor.require("billing", "write")
    merge_id = store.add(survivor_id, absorbed_id, actor.audit_id, at, run_id)
    moved = store.move(merge_id, survivor_id, absorbed_id)
    versions = {p: store.touch(p, at) for p in (survivor_id, absorbed_id)}
    after: dict[str, Any] = {
        "survivor_id": survivor_id,
        "absorbed_id": absorbed_id,
        "moved": moved,
        "run_id": run_id,
    }
    record(uow, actor, at, "party.merge", "party_merge", merge_id, None, after)
    emit(uow, "party", survivor_id, "party.merged", at, absorbed_id=absorbed_id, merge_id=merge_id)
    row = store.get(merge_id)
    assert row is not None
    return _view(row, versions)


def unmerge_parties(uow: MergeUnitOfWork, actor: Actor, merge_id: int, at: datetime) -> PartyMerge:
    """Undo merge ``merge_id`` in ``uow``'s transaction (the caller commits)."""
    actor.require("parties", "write")
    store = uow.party_merges
    row = store.get(merge_id)
    if row is None:
        raise NotFoundError(f"no party merge {merge_id}")
    if row.status != "active":
        raise ConflictError(f"merge {merge_id} was undone already")
    later = store.absorbing([row.survivor_id]).get(row.survivor_id)
    if later is not None:
        raise ConflictError(
            f"party {row.survivor_id} was merged into party {later.survivor_id} since: "
            f"undo merge {later.id} first"
        )
    crossing = store.crossings(merge_id)
    if crossing:
        raise ConflictError(
            "the merged finance records were linked to the survivor's own since the merge ("
            + ", ".join(crossing[:5])
            + "): undoing it would split them across two parties"
        )
    if store.journaled(merge_id).get(FINANCE):
        actor.require("billing", "write")
    restored = store.restore(merge_id)
    store.undone(merge_id, actor.audit_id, at)
    versions = {p: store.touch(p, at) for p in (row.survivor_id, row.absorbed_id)}
    before = {"survivor_id": row.survivor_id, "absorbed_id": row.absorbed_id}
    record(uow, actor, at, "party.unmerge", "party_merge", merge_id, before, {"restored": restored})
    emit(
        uow,
        "party",
        row.survivor_id,
        "party.unmerged",
        at,
        absorbed_id=row.absorbed_id,
        merge_id=merge_id,
    )
    done = store.get(merge_id)
    assert done is not None
    return _view(done, versions)


class PartyMergeService:
    """Merging parties, undoing merges, and reading them."""

    def __init__(self, uow: MergeUnitOfWorkFactory, clock: Clock, actor: Actor = OPERATOR) -> None:
        self._uow = uow
        self._clock = clock
        self._actor = actor

    def acting_as(self, actor: Actor) -> PartyMergeService:
        """The same service for another actor."""
        return PartyMergeService(self._uow, self._clock, actor)

    def merge(
        self, survivor_id: int, absorbed_id: int, if_version: int | None = None
    ) -> PartyMerge:
        """Merge ``absorbed_id`` into ``survivor_id`` (``if_version``: the survivor's
        version the caller read)."""
        self._actor.require("parties", "write")
        at = self._clock.now()
        with self._uow() as uow:
            done = merge_parties(
                uow, self._actor, survivor_id, absorbed_id, at, if_version=if_version
            )
            uow.commit()
        return done

    def unmerge(self, merge_id: int) -> PartyMerge:
        """Undo merge ``merge_id``: the rows it moved go back to the absorbed party."""
        self._actor.require("parties", "write")
        at = self._clock.now()
        with self._uow() as uow:
            done = unmerge_parties(uow, self._actor, merge_id, at)
            uow.commit()
        return done

    def get(self, merge_id: int) -> PartyMerge:
        """One merge; :class:`NotFoundError` when there is none."""
        self._actor.require("parties", "read")
        with self._uow(readonly=True) as uow:
            row = uow.party_merges.get(merge_id)
        if row is None:
            raise NotFoundError(f"no party merge {merge_id}")
        return _view(row)

    def list(
        self,
        party_id: int | None = None,
        status: str | None = None,
        before_id: int = 0,
        limit: int = 50,
    ) -> builtins.list[PartyMerge]:
        """Merges newest first (of a party, as survivor or absorbed; of a status)."""
        self._actor.require("parties", "read")
        if status is not None and status not in STATUSES:
            raise InvalidInputError("status", f"is one of {', '.join(STATUSES)}")
        with self._uow(readonly=True) as uow:
            return [_view(r) for r in uow.party_merges.page(party_id, status, before_id, limit)]

    def merged_into(self, party_id: int) -> PartyMerge | None:
        """The active merge that absorbed ``party_id``, if any."""
        self._actor.require("parties", "read")
        with self._uow(readonly=True) as uow:
            row = uow.party_merges.absorbing([party_id]).get(party_id)
        return None if row is None else _view(row)

    def survivor_of(self, party_id: int) -> int:
        """The party ``party_id`` lives on in: itself, or where its merges lead."""
        self._actor.require("parties", "read")
        with self._uow(readonly=True) as uow:
            return resolve(uow, party_id)


def resolve(uow: MergeUnitOfWork, party_id: int) -> int:
    """Follow active merges from ``party_id`` to the party that absorbed it last."""
    seen = {party_id}
    while (merge := uow.party_merges.absorbing([party_id]).get(party_id)) is not None:
        party_id = merge.survivor_id
        if party_id in seen:
            break
        seen.add(party_id)
    return party_id
