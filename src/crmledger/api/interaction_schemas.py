"""Request and response bodies of interactions, the complaint queue and the party timeline.

Inputs bound sizes and shapes only; the service checks the rules (a complaint needs a
resolution, the contact must link the party), so the API and the CLI refuse the same
things with the same reasons. Times are RFC 3339 with an offset, never a bare number::

    {"kind": "complaint", "party_id": 7, "subject": "Parcel arrived broken",
     "channel": "email", "direction": "inbound", "occurred_at": "2026-05-04T09:00:00Z",
     "priority": "high"}
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field, StringConstraints

from crmledger.api.schemas import NO_NUL, In, RowId, Short
from crmledger.core.crm.interactions import (
    Channel,
    Direction,
    Interaction,
    InteractionKind,
    Priority,
    SlaState,
    Status,
)
from crmledger.services.interactions import BODY_MAX, RESOLUTION_MAX, TimelineItem

_MOMENT = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)


def _rfc3339(value: object) -> object:
    # pydantic alone would also read a number (or a string of digits) as a Unix timestamp.
    if isinstance(value, dt.datetime) or (isinstance(value, str) and _MOMENT.match(value)):
        return value
    raise ValueError("not a date and time as YYYY-MM-DDTHH:MM:SS with Z or an offset")


#: A date and time with its offset, only ever written in RFC 3339.
Moment = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]
#: An id: a JSON integer (``7`` or ``7.0``, never ``"7"`` or ``true``).
Subject = Short
Body = Annotated[str, StringConstraints(pattern=NO_NUL, max_length=BODY_MAX)]
Resolution = Annotated[str, StringConstraints(pattern=NO_NUL, max_length=RESOLUTION_MAX)]


class InteractionCreate(In):
    """A new interaction; a complaint starts its SLA clock at ``occurred_at``."""

    kind: InteractionKind
    party_id: RowId
    subject: Subject
    body: Body = ""
    channel: Channel
    direction: Direction
    occurred_at: Moment
    due_at: Moment | None = None
    priority: Priority = Priority.NORMAL
    owner_id: RowId | None = Field(None, description="The user working on it.")
    contact_id: RowId | None = Field(None, description="A contact link of the party.")
    deal_id: RowId | None = None
    order_id: RowId | None = None
    invoice_id: RowId | None = None


class InteractionUpdate(In):
    """The fields to change. ``null`` leaves subject, body and priority as they are and
    clears the others (due time, owner, links). The status moves through ``/status``."""

    subject: Subject | None = None
    body: Body | None = None
    priority: Priority | None = None
    due_at: Moment | None = None
    owner_id: RowId | None = None
    contact_id: RowId | None = None
    deal_id: RowId | None = None
    order_id: RowId | None = None
    invoice_id: RowId | None = None


#: Fields of :class:`InteractionUpdate` that cannot be cleared: ``null`` means "unchanged".
KEEP_WHEN_NULL = frozenset({"subject", "body", "priority"})


class StatusChange(In):
    """Move an interaction: ``open``, ``in_progress``, ``resolved`` or ``closed``; a
    complaint needs a ``resolution`` to be resolved or closed."""

    status: Status
    resolution: Resolution = ""


class InteractionPublic(BaseModel):
    """An interaction with every field, its SLA state now and its next SLA due time;
    ``version`` is what ``If-Match`` must name."""

    id: int
    kind: InteractionKind
    party_id: int
    contact_id: int | None
    deal_id: int | None
    order_id: int | None
    invoice_id: int | None
    subject: str
    body: str
    channel: Channel
    direction: Direction
    occurred_at: dt.datetime
    due_at: dt.datetime | None
    status: Status
    priority: Priority
    owner_id: int | None
    resolution: str
    sla_first_response_due: dt.datetime | None
    sla_resolution_due: dt.datetime | None
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    sla_state: SlaState
    sla_next_due: dt.datetime | None
    version: int

    @classmethod
    def of(
        cls, item: Interaction, state: SlaState, next_due: dt.datetime | None
    ) -> InteractionPublic:
        """The API view of a stored interaction."""
        assert item.id is not None
        return cls(
            id=item.id,
            kind=item.kind,
            party_id=item.party_id,
            contact_id=item.contact_id,
            deal_id=item.deal_id,
            order_id=item.order_id,
            invoice_id=item.invoice_id,
            subject=item.subject,
            body=item.body,
            channel=item.channel,
            direction=item.direction,
            occurred_at=item.occurred_at,
            due_at=item.due_at,
            status=item.status,
            priority=item.priority,
            owner_id=item.owner_id,
            resolution=item.resolution,
            sla_first_response_due=item.sla_first_response_due,
            sla_resolution_due=item.sla_resolution_due,
            first_response_at=item.first_response_at,
            resolved_at=item.resolved_at,
            closed_at=item.closed_at,
            sla_state=state,
            sla_next_due=next_due,
            version=item.version,
        )


class TimelineItemPublic(BaseModel):
    """One item of a party's timeline, newest first; ``type`` says what it is."""

    type: Literal["interaction", "invoice", "credit_note", "bill", "payment"]
    id: int
    at: dt.datetime
    party_id: int = Field(description="The party it was logged against (a contact's own).")
    kind: str
    subject: str
    status: str
    priority: str
    direction: str
    channel: str
    sla_state: SlaState

    @classmethod
    def of(cls, item: TimelineItem) -> TimelineItemPublic:
        """The API view of a timeline item."""
        return cls(
            type=item.type,  # type: ignore[arg-type]  # one of the literal's values
            id=item.id,
            at=item.at,
            party_id=item.party_id,
            kind=item.kind,
            subject=item.subject,
            status=item.status,
            priority=item.priority,
            direction=item.direction,
            channel=item.channel,
            sla_state=item.sla_state,
        )
