"""``crmledger interaction``: log touches with parties and work the complaint queue.

::

    crmledger interaction add 7 --kind complaint --subject "Parcel arrived broken" \\
        --channel email --priority high --owner support@example.com
    crmledger interaction list --party 7 --status open --format csv
    crmledger interaction queue                      # open complaints, next SLA due first
    crmledger interaction resolve 12 --resolution "Replacement sent"
    crmledger interaction timeline 7                 # an organisation's include its contacts'
    crmledger interaction search "broken parcel"

Times are ISO 8601 (``2026-05-04T09:00+02:00``); one written without an offset is read
as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from crmledger.cli.render import FormatOption, OutputFormat, console, dumps, emit
from crmledger.cli.state import state
from crmledger.core.crm.interactions import (
    Channel,
    Direction,
    Interaction,
    InteractionKind,
    Priority,
    Status,
)
from crmledger.services.crm_ports import InteractionQuery
from crmledger.services.errors import InvalidInputError

interaction_app = typer.Typer(
    help="Calls, emails, orders, inquiries, complaints, notes and tasks.", no_args_is_help=True
)

#: Kinds that happen without the party starting them; the others default to inbound.
_INTERNAL = frozenset({InteractionKind.NOTE, InteractionKind.TASK})
Limit = Annotated[int, typer.Option(min=1, max=500, help="How many to show.")]


def _moment(field: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(field, f"{value!r} is not an ISO 8601 date and time") from None
    return parsed if parsed.utcoffset() is not None else parsed.replace(tzinfo=UTC)


def _owner(email: str | None) -> int | None:
    return None if email is None else state.app.access.find_user(email).id


def _text(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def document(item: Interaction) -> dict[str, Any]:
    """An interaction as JSON (the API's field names)."""
    fields = (
        "id",
        "kind",
        "party_id",
        "contact_id",
        "deal_id",
        "order_id",
        "invoice_id",
        "subject",
        "body",
        "channel",
        "direction",
        "occurred_at",
        "due_at",
        "status",
        "priority",
        "owner_id",
        "resolution",
        "sla_first_response_due",
        "sla_resolution_due",
        "first_response_at",
        "resolved_at",
        "closed_at",
        "version",
    )
    return {name: _text(getattr(item, name)) for name in fields} | {
        "sla_state": state.app.interactions.sla(item).value
    }


def _row(item: Interaction) -> dict[str, Any]:
    return {
        "id": item.id,
        "at": item.occurred_at.strftime("%Y-%m-%d %H:%M"),
        "party": item.party_id,
        "kind": item.kind.value,
        "subject": item.subject,
        "status": item.status.value,
        "priority": item.priority.value,
        "sla": state.app.interactions.sla(item).value,
    }


@interaction_app.command("add")
def interaction_add(  # noqa: PLR0913, PLR0917 - one option per field is what a CLI user expects
    party_id: Annotated[int, typer.Argument(help="The party it happened with.")],
    kind: Annotated[InteractionKind, typer.Option(help="What it was.")],
    subject: Annotated[str, typer.Option(help="One line saying what it is about.")],
    body: Annotated[str, typer.Option(help="The details.")] = "",
    channel: Annotated[Channel, typer.Option(help="Where it happened.")] = Channel.OTHER,
    direction: Annotated[
        Direction | None,
        typer.Option(help="Who started it [default: internal for notes and tasks, else inbound]"),
    ] = None,
    priority: Annotated[Priority, typer.Option(help="Picks a complaint's SLA.")] = Priority.NORMAL,
    due: Annotated[str | None, typer.Option(help="When it is due (ISO 8601).")] = None,
    owner: Annotated[str | None, typer.Option(help="The owner's login email.")] = None,
    contact: Annotated[int | None, typer.Option(help="A contact link of the party.")] = None,
    at: Annotated[
        str | None, typer.Option(help="When it happened (ISO 8601; default now).")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Log an interaction; a complaint gets its SLA due times from its priority."""
    if direction is None:
        direction = Direction.INTERNAL if kind in _INTERNAL else Direction.INBOUND
    item = state.app.interactions.add(
        Interaction(
            kind=kind,
            party_id=party_id,
            subject=subject,
            body=body,
            channel=channel,
            direction=direction,
            occurred_at=_moment("at", at) or datetime.now(UTC),
            due_at=_moment("due", due),
            priority=priority,
            owner_id=_owner(owner),
            contact_id=contact,
        )
    )
    if fmt is OutputFormat.json:
        print(dumps(document(item)))
        return
    console.print(f"Interaction {item.id} ({item.kind.value}) added to party {party_id}.")
    if item.sla_resolution_due is not None:
        first = item.sla_first_response_due
        assert first is not None
        console.print(
            f"SLA: first response by {first.isoformat()}, "
            f"resolution by {item.sla_resolution_due.isoformat()}."
        )


@interaction_app.command("list")
def interaction_list(
    party: Annotated[int | None, typer.Option(help="Only this party's.")] = None,
    kind: Annotated[InteractionKind | None, typer.Option()] = None,
    status: Annotated[Status | None, typer.Option()] = None,
    limit: Limit = 50,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Interactions, newest first, with optional filters."""
    found = state.app.interactions.list(
        InteractionQuery(limit=limit, party_id=party, kind=kind, status=status)
    )
    emit(
        [_row(i) for i in found],
        fmt,
        title="Interactions",
        document={"items": [document(i) for i in found]},
    )


@interaction_app.command("resolve")
def interaction_resolve(
    interaction_id: Annotated[int, typer.Argument(help="The interaction's id.")],
    resolution: Annotated[str, typer.Option(help="What was done about it.")],
    close: Annotated[bool, typer.Option("--close", help="Close it as well.")] = False,
) -> None:
    """Resolve (or with --close, close) an interaction with its resolution."""
    service = state.app.interactions
    current = service.get(interaction_id)
    status = Status.CLOSED if close else Status.RESOLVED
    done = service.change_status(interaction_id, status, resolution, if_version=current.version)
    console.print(f"Interaction {done.id} {done.status.value} (SLA {service.sla(done).value}).")


@interaction_app.command("queue")
def interaction_queue(limit: Limit = 50, fmt: FormatOption = OutputFormat.table) -> None:
    """Open and in-progress complaints, the next SLA due first."""
    queue = state.app.interactions.complaint_queue(limit)
    rows = [
        {
            "id": q.interaction.id,
            "party": q.interaction.party_id,
            "subject": q.interaction.subject,
            "priority": q.interaction.priority.value,
            "status": q.interaction.status.value,
            "next due": q.next_due.strftime("%Y-%m-%d %H:%M") if q.next_due else "",
            "sla": q.sla_state.value,
        }
        for q in queue
    ]
    emit(
        rows,
        fmt,
        title="Complaint queue",
        document={"items": [document(q.interaction) for q in queue]},
    )


@interaction_app.command("timeline")
def interaction_timeline(
    party_id: Annotated[int, typer.Argument(help="The party's id.")],
    limit: Limit = 50,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """A party's interactions, newest first (an organisation's include its contacts')."""
    items = state.app.interactions.timeline(party_id, None, limit)
    rows = [
        {
            "id": i.id,
            "at": i.at.strftime("%Y-%m-%d %H:%M"),
            "party": i.party_id,
            "kind": i.kind,
            "subject": i.subject,
            "status": i.status,
            "sla": i.sla_state.value,
        }
        for i in items
    ]
    emit(rows, fmt, title=f"Timeline of party {party_id}")


@interaction_app.command("search")
def interaction_search(
    text: Annotated[str, typer.Argument(help="Words the subject or body holds.")],
    limit: Limit = 20,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Find interactions holding every word, best match first."""
    hits = state.app.interactions.search(text, limit)
    emit(
        [_row(h.interaction) for h in hits],
        fmt,
        title=f"Search: {text}",
        document={"items": [document(h.interaction) for h in hits]},
    )
