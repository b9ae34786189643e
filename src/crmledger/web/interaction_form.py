"""The log-an-interaction form and the resolve form, read into core values.

Times typed in a ``datetime-local`` input carry no zone; the pages say they are UTC and
read them so. A value the page cannot read is refused here; the rules (subject required,
a complaint's resolution, status moves) are the service's, mapped back to the inputs::

    draft = read(form)
    item = to_interaction(draft, party_id=7, now=now)   # None, draft.errors["due"] set
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import TypeVar

from starlette.datastructures import FormData

from crmledger.core.crm.interactions import (
    Channel,
    Direction,
    Interaction,
    InteractionKind,
    Priority,
)
from crmledger.web import forms
from crmledger.web.crm_view import words
from crmledger.web.forms import Draft

E = TypeVar("E", bound=Enum)
LIMITS = {
    "kind": 20,
    "subject": 200,
    "body": 20_000,
    "channel": 20,
    "direction": 20,
    "priority": 20,
    "due": 40,
}
RESOLVE_LIMITS = {"resolution": 2_000, "version": 12, "status": 20, "next": 300}
RULES = {
    r"(subject|body|kind|channel|direction|priority|resolution)": r"\1",
    r"due_at": "due",
}
LABELS = {"subject": "Subject", "body": "Notes", "due": "Due", "resolution": "Resolution"}
KINDS = [(k.value, words(k.value)) for k in InteractionKind if k is not InteractionKind.ORDER]
CHANNELS = [(c.value, words(c.value)) for c in Channel]
DIRECTIONS = [(d.value, words(d.value)) for d in Direction]
PRIORITIES = [(p.value, words(p.value)) for p in Priority]


def blank() -> Draft:
    """An empty form: a note about an inbound call, normal priority."""
    values = dict.fromkeys(LIMITS, "")
    values |= {"kind": "note", "channel": "phone", "direction": "inbound", "priority": "normal"}
    return Draft(values)


def read(form: FormData) -> Draft:
    """The form as typed."""
    return Draft.read(form, LIMITS)


def local_time(raw: str, name: str, errors: forms.Errors, label: str) -> datetime | None:
    """A ``datetime-local`` value (``2026-05-04T09:00``) read as UTC; blank is None."""
    if not raw:
        return None
    try:
        found = datetime.fromisoformat(raw)
    except ValueError:
        errors.add(name, f"{label}: {raw!r} is not a date and time, e.g. 2026-05-04T09:00.")
        return None
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found


def _choice(draft: Draft, name: str, enum: type[E], label: str) -> E | None:
    try:
        return enum(draft.get(name))
    except ValueError:
        draft.errors.add(name, f"Choose a {label} from the list.")
        return None


def to_interaction(draft: Draft, party_id: int, now: datetime) -> Interaction | None:
    """The interaction the form describes, occurring ``now`` (None with errors set)."""
    kind = _choice(draft, "kind", InteractionKind, "kind")
    channel = _choice(draft, "channel", Channel, "channel")
    direction = _choice(draft, "direction", Direction, "direction")
    priority = _choice(draft, "priority", Priority, "priority")
    due = local_time(draft.get("due"), "due", draft.errors, "Due")
    if not draft.get("subject"):
        draft.errors.add("subject", "Say what it was about.")
    if kind is None or channel is None or direction is None or priority is None or draft.errors:
        return None
    return Interaction(
        kind=kind,
        party_id=party_id,
        subject=draft.get("subject"),
        body=draft.get("body"),
        channel=channel,
        direction=direction,
        priority=priority,
        occurred_at=now,
        due_at=due,
    )
