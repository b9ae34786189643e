"""Examples for interactions, the complaint queue and the party timeline."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from crmledger.core.crm.interactions import Channel, Direction, Interaction, InteractionKind
from tests.api.examples.parties import organisation

_n = itertools.count(1)
AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def complaint(api: Any) -> int:
    """A new open complaint of a new organisation; returns its id."""
    item = api.book.interactions.add(
        Interaction(
            kind=InteractionKind.COMPLAINT,
            party_id=organisation(api),
            subject=f"Example complaint {next(_n)}",
            channel=Channel.EMAIL,
            direction=Direction.INBOUND,
            occurred_at=AT,
        )
    )
    return int(item.id)


BODIES: dict[str, Any] = {
    "createInteraction": lambda api: {
        "kind": "call",
        "party_id": organisation(api),
        "subject": f"Matrix call {next(_n)}",
        "channel": "phone",
        "direction": "outbound",
        "occurred_at": "2026-06-01T10:00:00Z",
    },
    "updateInteraction": lambda api: {"priority": "high"},
    "changeInteractionStatus": lambda api: {"status": "in_progress"},
}

PATHS: dict[str, Any] = {
    "{interaction_id}": complaint,
}
