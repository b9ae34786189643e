"""Examples for party merges: a fresh organisation to absorb, and a merge of two."""

from __future__ import annotations

from typing import Any

from tests.api.examples.parties import organisation


def merge(api: Any) -> int:
    done = api.book.party_merges.merge(organisation(api), organisation(api))
    return int(done.id)


BODIES: dict[str, Any] = {
    "mergeParty": lambda api: {"absorbed_id": organisation(api)},
}

PATHS: dict[str, Any] = {
    "{merge_id}": merge,
}
