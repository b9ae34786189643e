"""Interactions: every touch between the company and a party, and a complaint's SLA clock.

An interaction is an order, inquiry, complaint, call, email, meeting, note or task logged
against a party. A complaint is held to a service-level agreement: a first response and a
resolution are due a fixed time after it occurred, by priority (:data:`DEFAULT_SLA`)::

    >>> from datetime import UTC
    >>> at = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    >>> c = new_interaction(Interaction(kind=InteractionKind.COMPLAINT, party_id=7,
    ...     subject="Parcel arrived broken", channel=Channel.EMAIL,
    ...     direction=Direction.INBOUND, occurred_at=at, priority=Priority.HIGH))
    >>> c.sla_first_response_due.isoformat(), c.sla_resolution_due.isoformat()
    ('2026-05-04T13:00:00+00:00', '2026-05-05T09:00:00+00:00')
    >>> sla_state(c, at + timedelta(hours=3, minutes=30))  # 30 of 240 minutes left
    <SlaState.AT_RISK: 'at_risk'>
    >>> c = change_status(c, Status.RESOLVED, at + timedelta(hours=3), "Replacement sent")
    >>> time_to_first_response(c), sla_state(c, at + timedelta(days=9))
    (datetime.timedelta(seconds=10800), <SlaState.MET: 'met'>)

Statuses move ``open → in_progress → resolved → closed``; ``open`` may jump straight to
``resolved`` or ``closed``, ``in_progress`` may fall back to ``open``, and a resolved or
closed interaction may be reopened (which clears its resolution and its resolved / closed
times, but keeps the first response and the SLA due times, so a reopened complaint can still
breach). Closing an interaction that was never resolved resolves it at the same moment, so a
complaint can never end without a resolution text.

Every datetime must carry a time zone: an SLA measured against a naive clock is meaningless.
The ``version`` field is the store's optimistic lock; these rules never change it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from crmledger.core.errors import InvalidFieldError, TransitionError

#: Longest subject accepted, in characters.
SUBJECT_MAX = 200


class InteractionKind(StrEnum):
    """What the interaction was."""

    ORDER = "order"
    INQUIRY = "inquiry"
    COMPLAINT = "complaint"
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    NOTE = "note"
    TASK = "task"


class Channel(StrEnum):
    """Where it happened."""

    EMAIL = "email"
    PHONE = "phone"
    WEB = "web"
    CHAT = "chat"
    IN_PERSON = "in_person"
    LETTER = "letter"
    SOCIAL = "social"
    OTHER = "other"


class Direction(StrEnum):
    """Who started it: the party (inbound), the company (outbound) or nobody outside."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class Status(StrEnum):
    """Where the work on the interaction stands."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(StrEnum):
    """How urgent it is; picks the SLA target."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class SlaState(StrEnum):
    """How an interaction stands against its SLA at a given moment.

    ``none``: no SLA applies. ``on_track``: every pending target has at least 25% of its
    window left. ``at_risk``: a pending target has less than 25% of its window left.
    ``breached``: a target was missed (answered late, or still pending past its due time).
    ``met``: every target was reached in time.
    """

    NONE = "none"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    MET = "met"


@dataclass(frozen=True, slots=True)
class SlaTarget:
    """How long after an interaction occurs the first response and the resolution are due."""

    first_response: timedelta
    resolution: timedelta

    def __post_init__(self) -> None:
        if self.first_response <= timedelta(0):
            raise InvalidFieldError("first_response", "the first-response time must be positive")
        if self.resolution < self.first_response:
            raise InvalidFieldError(
                "resolution", "the resolution time cannot be shorter than the first response"
            )


#: The SLA complaints are held to unless the caller passes its own policy:
#: urgent 1 h / 8 h, high 4 h / 24 h, normal 8 h / 72 h, low 24 h / 168 h
#: (first response / resolution, wall-clock time after the complaint occurred).
DEFAULT_SLA: Mapping[Priority, SlaTarget] = MappingProxyType(
    {
        Priority.URGENT: SlaTarget(timedelta(hours=1), timedelta(hours=8)),
        Priority.HIGH: SlaTarget(timedelta(hours=4), timedelta(hours=24)),
        Priority.NORMAL: SlaTarget(timedelta(hours=8), timedelta(hours=72)),
        Priority.LOW: SlaTarget(timedelta(hours=24), timedelta(hours=168)),
    }
)

#: The kinds :func:`new_interaction` starts an SLA clock for.
SLA_KINDS = frozenset({InteractionKind.COMPLAINT})


@dataclass(frozen=True, slots=True, kw_only=True)
class Interaction:
    """One logged touch with a party, optionally linked to a contact, deal, order or invoice."""

    id: int | None = None
    kind: InteractionKind
    party_id: int
    subject: str
    body: str = ""
    channel: Channel
    direction: Direction
    occurred_at: datetime
    due_at: datetime | None = None
    status: Status = Status.OPEN
    priority: Priority = Priority.NORMAL
    owner_id: int | None = None
    resolution: str = ""
    contact_id: int | None = None
    deal_id: int | None = None
    order_id: int | None = None
    invoice_id: int | None = None
    sla_first_response_due: datetime | None = None
    sla_resolution_due: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    version: int = 1


_TRANSITIONS: Mapping[Status, frozenset[Status]] = MappingProxyType(
    {
        Status.OPEN: frozenset({Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED}),
        Status.IN_PROGRESS: frozenset({Status.OPEN, Status.RESOLVED, Status.CLOSED}),
        Status.RESOLVED: frozenset({Status.CLOSED, Status.OPEN}),
        Status.CLOSED: frozenset({Status.OPEN}),
    }
)


def _check_aware(field: str, value: datetime | None) -> None:
    if value is not None and value.utcoffset() is None:
        raise InvalidFieldError(field, f"{field} must carry a time zone")


def _stamps(item: Interaction) -> tuple[tuple[str, datetime | None], ...]:
    """Every datetime of the interaction except ``occurred_at``, by field name."""
    return (
        ("due_at", item.due_at),
        ("sla_first_response_due", item.sla_first_response_due),
        ("sla_resolution_due", item.sla_resolution_due),
        ("first_response_at", item.first_response_at),
        ("resolved_at", item.resolved_at),
        ("closed_at", item.closed_at),
    )


def _check_subject(subject: str) -> None:
    if not subject.strip():
        raise InvalidFieldError("subject", "the subject must not be empty")
    if len(subject) > SUBJECT_MAX:
        raise InvalidFieldError("subject", f"the subject is longer than {SUBJECT_MAX} characters")


def _check_status_stamps(item: Interaction) -> None:
    if item.resolved_at is not None and item.status in (Status.OPEN, Status.IN_PROGRESS):
        raise InvalidFieldError("resolved_at", f"an {item.status} interaction is not resolved")
    if item.closed_at is not None and item.status is not Status.CLOSED:
        raise InvalidFieldError("closed_at", f"a {item.status} interaction is not closed")


def validate_interaction(item: Interaction) -> Interaction:
    """Return ``item`` if it keeps every rule, else raise :class:`InvalidFieldError`.

    The subject is 1..200 characters and not blank; every datetime carries a time zone and
    none lies before ``occurred_at``; resolved / closed times only on interactions in that
    state.
    """
    _check_subject(item.subject)
    _check_aware("occurred_at", item.occurred_at)
    for field, value in _stamps(item):
        _check_aware(field, value)
        if value is not None and value < item.occurred_at:
            raise InvalidFieldError(field, f"{field} is before the interaction occurred")
    _check_status_stamps(item)
    return item


def _sla_due(
    item: Interaction, policy: Mapping[Priority, SlaTarget] | None
) -> tuple[datetime, datetime]:
    rules = DEFAULT_SLA if policy is None else policy
    target = rules.get(item.priority)
    if target is None:
        raise InvalidFieldError("priority", f"the SLA policy has no target for {item.priority}")
    return item.occurred_at + target.first_response, item.occurred_at + target.resolution


def new_interaction(
    draft: Interaction, policy: Mapping[Priority, SlaTarget] | None = None
) -> Interaction:
    """Validate a new interaction and, for a complaint, start its SLA clock.

    The due times come from ``policy`` (default :data:`DEFAULT_SLA`) by priority; due times
    the draft already carries (an import from another system) are kept.
    """
    validate_interaction(draft)
    if draft.kind not in SLA_KINDS:
        return draft
    first_due, resolution_due = _sla_due(draft, policy)
    return validate_interaction(
        replace(
            draft,
            sla_first_response_due=draft.sla_first_response_due or first_due,
            sla_resolution_due=draft.sla_resolution_due or resolution_due,
        )
    )


def change_priority(
    item: Interaction, priority: Priority, policy: Mapping[Priority, SlaTarget] | None = None
) -> Interaction:
    """Set a new priority; a complaint's SLA due times are recomputed from ``occurred_at``."""
    changed = replace(item, priority=priority)
    if item.kind not in SLA_KINDS:
        return changed
    first_due, resolution_due = _sla_due(changed, policy)
    return validate_interaction(
        replace(changed, sla_first_response_due=first_due, sla_resolution_due=resolution_due)
    )


def _latest(item: Interaction) -> datetime:
    stamps = (item.first_response_at, item.resolved_at, item.closed_at)
    return max((s for s in stamps if s is not None), default=item.occurred_at)


def _check_at(item: Interaction, at: datetime) -> None:
    _check_aware("at", at)
    if at < _latest(item):
        raise InvalidFieldError("at", "a status change cannot be dated before the last step")


def _sla_tracked(item: Interaction) -> bool:
    return item.kind in SLA_KINDS or item.sla_first_response_due is not None


def _resolve(item: Interaction, at: datetime, resolution: str) -> Interaction:
    text = resolution.strip() or item.resolution
    if not text and item.kind is InteractionKind.COMPLAINT:
        raise InvalidFieldError("resolution", "a complaint needs a resolution to be resolved")
    return replace(item, resolution=text, resolved_at=item.resolved_at or at)


def change_status(
    item: Interaction, status: Status, at: datetime, resolution: str = ""
) -> Interaction:
    """Move ``item`` to ``status`` at ``at`` or raise :class:`TransitionError`.

    Leaving ``open`` for the first time stamps ``first_response_at`` on an SLA-tracked
    interaction (a complaint). Resolving or closing stamps ``resolved_at`` (once) and
    takes ``resolution`` (a complaint must have one); closing stamps ``closed_at``;
    reopening clears the resolution, ``resolved_at`` and ``closed_at``.
    """
    if status not in _TRANSITIONS[item.status]:
        raise TransitionError(f"an interaction cannot move from {item.status} to {status}")
    _check_at(item, at)
    if status in (Status.OPEN, Status.IN_PROGRESS) and resolution.strip():
        raise InvalidFieldError("resolution", f"a resolution is given when resolving, not {status}")
    if status is Status.OPEN:
        return replace(item, status=status, resolution="", resolved_at=None, closed_at=None)
    changed = item
    if item.status is Status.OPEN and item.first_response_at is None and _sla_tracked(item):
        changed = replace(changed, first_response_at=at)
    if status is Status.IN_PROGRESS:
        return replace(changed, status=status)
    changed = _resolve(changed, at, resolution)
    closed_at = at if status is Status.CLOSED else None
    return validate_interaction(replace(changed, status=status, closed_at=closed_at))


def record_response(item: Interaction, at: datetime) -> Interaction:
    """Note a reply to the party (an outbound email, a call back) sent at ``at``.

    Only the first response counts for the SLA; later ones leave ``item`` unchanged. The
    status does not move: replying is not resolving.
    """
    _check_aware("at", at)
    if at < item.occurred_at:
        raise InvalidFieldError("at", "a response cannot precede the interaction")
    if item.first_response_at is not None:
        return item
    return replace(item, first_response_at=at)


def _targets(item: Interaction) -> tuple[tuple[datetime, datetime | None], ...]:
    """(due, reached at) for every SLA target the interaction carries."""
    targets: list[tuple[datetime, datetime | None]] = []
    if item.sla_first_response_due is not None:
        targets.append((item.sla_first_response_due, item.first_response_at))
    if item.sla_resolution_due is not None:
        targets.append((item.sla_resolution_due, item.resolved_at))
    return tuple(targets)


def sla_state(item: Interaction, now: datetime) -> SlaState:
    """Where ``item`` stands against its SLA at ``now`` (see :class:`SlaState`).

    A target is met when reached at or before its due time. Each window runs from
    ``occurred_at`` to the target's due time; "at risk" means less than a quarter of it is
    left, so a target with exactly 25% left is still on track.
    """
    _check_aware("now", now)
    targets = _targets(item)
    if not targets:
        return SlaState.NONE
    if any((now if reached is None else reached) > due for due, reached in targets):
        return SlaState.BREACHED
    pending = [due for due, reached in targets if reached is None]
    if not pending:
        return SlaState.MET
    if any((due - now) * 4 < due - item.occurred_at for due in pending):
        return SlaState.AT_RISK
    return SlaState.ON_TRACK


def time_to_first_response(item: Interaction) -> timedelta | None:
    """How long the party waited for the first response, or ``None`` while none was sent."""
    if item.first_response_at is None:
        return None
    return item.first_response_at - item.occurred_at


def time_to_resolution(item: Interaction) -> timedelta | None:
    """How long the interaction took to resolve, or ``None`` while it is unresolved."""
    if item.resolved_at is None:
        return None
    return item.resolved_at - item.occurred_at
