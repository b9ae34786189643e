"""Writes go to parties that live: a party merged into another is read-only.

A merge (:mod:`.party_merge`) moves everything of the absorbed party to the survivor and
keeps the absorbed party readable by id, so old links and references still resolve. Every
write naming it (changing it, its tags, external ids or contact links; a new interaction,
deal, quote, order, contract, invoice, bill, payment, recurring bill or satisfaction
response for it) is refused with the party it lives on in, until the merge is undone::

    refuse_merged(uow.parties, [31])
    # MergedPartyError: party 31 was merged into party 12 (merge 7): write to party 12,
    # or undo the merge

The services call it where they check that the party a write names exists.
"""

from __future__ import annotations

from collections.abc import Iterable

from crmledger.services.crm_ports import PartyStore
from crmledger.services.errors import ConflictError


class MergedPartyError(ConflictError):
    """A write names a party an active merge absorbed; ``live_id`` is the party it lives
    on in (the survivor, or where the survivor's own merges lead)."""

    def __init__(self, party_id: int, survivor_id: int, merge_id: int, live_id: int) -> None:
        self.party_id, self.survivor_id = party_id, survivor_id
        self.merge_id, self.live_id = merge_id, live_id
        super().__init__(
            f"party {party_id} was merged into party {survivor_id} (merge {merge_id}): "
            f"write to party {live_id}, or undo the merge"
        )


def refuse_merged(parties: PartyStore, party_ids: Iterable[int]) -> None:
    """Raise :class:`MergedPartyError` for the lowest of ``party_ids`` an active merge
    absorbed; nothing when none was."""
    merged = parties.merged_into(sorted(set(party_ids)))
    if not merged:
        return
    party_id = min(merged)
    survivor_id, merge_id = merged[party_id]
    live, seen = survivor_id, {party_id}
    while live not in seen and (step := parties.merged_into([live]).get(live)) is not None:
        seen.add(live)
        live = step[0]
    raise MergedPartyError(party_id, survivor_id, merge_id, live)
