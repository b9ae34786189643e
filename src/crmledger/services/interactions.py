"""Interactions: log every touch with a party, work complaints against their SLA, and read
a party's timeline, each use case in one transaction with its audit record::

    desk = InteractionService(uow, clock).acting_as(actor)
    c = desk.add(Interaction(kind=InteractionKind.COMPLAINT, party_id=7,
                             subject="Parcel arrived broken", channel=Channel.EMAIL,
                             direction=Direction.INBOUND, occurred_at=now))
    c = desk.respond(c.id, now + timedelta(hours=1))         # the SLA's first response
    c = desk.change_status(c.id, Status.RESOLVED, "Replacement sent", if_version=c.version)
    items = desk.timeline(7, before=None, limit=50)          # newest first, keyset paged

The rules themselves (status moves, SLA due times, what a valid interaction is) live in
``core.crm.interactions``; this module adds what needs the book: the party, contact and
owner must exist (a contact must link the party), texts fit their columns, times lie in
1900..2999 UTC. Free text (subject, body, resolution) stays out of the audit log, which
keeps only its length: it may name people, and the hash-chained log cannot forget them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime
from typing import Any

from crmledger.core.crm.interactions import (
    Channel,
    Direction,
    Interaction,
    InteractionKind,
    Priority,
    SlaState,
    Status,
    change_priority,
    change_status,
    new_interaction,
    record_response,
    sla_state,
    validate_interaction,
)
from crmledger.core.errors import InvalidFieldError
from crmledger.core.money import format_minor
from crmledger.services.billing_ports import FinanceEventRow
from crmledger.services.crm_ports import InteractionQuery, InteractionRow
from crmledger.services.errors import NotFoundError, VersionConflictError
from crmledger.services.party_guard import refuse_merged
from crmledger.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from crmledger.services.products import book_scales, scale_of
from crmledger.services.trail import OPERATOR, Actor, record

BODY_MAX = 20_000
RESOLUTION_MAX = 2_000
SEARCH_MAX = 500
PAGE_MAX = 500
ID_MAX = 2**31 - 1
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)
_MIN = datetime.min.replace(tzinfo=UTC)
_MAX = datetime.max.replace(tzinfo=UTC)
#: What :meth:`InteractionService.update` may change (status moves go through
#: :meth:`InteractionService.change_status`).
UPDATABLE = frozenset(
    {"subject", "body", "priority", "due_at", "owner_id"}
    | {"contact_id", "deal_id", "order_id", "invoice_id"}
)
SORTS = ("occurred", "-occurred", "id", "-id")
_IDS = ("party_id", "contact_id", "owner_id", "deal_id", "order_id", "invoice_id")
_ENUMS: Mapping[str, Any] = {
    "kind": InteractionKind,
    "channel": Channel,
    "direction": Direction,
    "status": Status,
    "priority": Priority,
}
_COLUMNS = tuple(f.name for f in fields(Interaction))


@dataclass(frozen=True, slots=True)
class TimelineItem:
    """One item of a party's timeline: ``type`` is ``interaction``, or ``invoice``,
    ``credit_note``, ``bill`` or ``payment`` for the finance events merged into it."""

    type: str
    id: int
    at: datetime
    party_id: int
    kind: str
    subject: str
    status: str
    priority: str
    direction: str
    channel: str
    sla_state: SlaState


@dataclass(frozen=True, slots=True)
class QueueItem:
    """A complaint in the queue, how it stands against its SLA and its next due time."""

    interaction: Interaction
    sla_state: SlaState
    next_due: datetime | None


@dataclass(frozen=True, slots=True)
class InteractionHit:
    """An interaction found by full-text search and its relevance (higher is better)."""

    interaction: Interaction
    score: float


class UnknownReferenceError(InvalidFieldError):
    """The interaction names a party, contact or user the book does not hold."""


class ForeignContactError(InvalidFieldError):
    """The contact named is a link of other parties: it must link the interaction's party
    (an organisation's contact person, or the person's own link)."""


class TimeOutOfRangeError(InvalidFieldError):
    """A time lies outside the years 1900 to 2999 (UTC): a typo, and beyond the SLA's
    arithmetic at the far end."""


def next_due(item: Interaction) -> datetime | None:
    """The due time of the SLA target still pending: the first response until one is made,
    then the resolution; ``None`` when nothing is pending."""
    if item.first_response_at is None and item.sla_first_response_due is not None:
        return item.sla_first_response_due
    if item.resolved_at is None:
        return item.sla_resolution_due
    return None


def audit_view(item: Interaction) -> dict[str, Any]:
    """The interaction as the audit log keeps it: free text only as its length."""
    view: dict[str, Any] = {}
    for name in _COLUMNS:
        value = getattr(item, name)
        if name in ("subject", "body", "resolution"):
            view[f"{name}_chars"] = len(value)
        elif name != "id":
            view[name] = value.isoformat() if isinstance(value, datetime) else value
    return view


def _to_row(item: Interaction, created_at: datetime, updated_at: datetime) -> InteractionRow:
    values = {name: getattr(item, name) for name in _COLUMNS}
    values |= {name: values[name].value for name in _ENUMS}
    return InteractionRow(**values, created_at=created_at, updated_at=updated_at)


def _from_row(row: InteractionRow) -> Interaction:
    values = {name: getattr(row, name) for name in _COLUMNS}
    values |= {name: enum(values[name]) for name, enum in _ENUMS.items()}
    return Interaction(**values)


def _time(field: str, value: datetime | None) -> datetime | None:
    """``value`` in UTC, or :class:`InvalidFieldError` when naive or out of range."""
    if value is None:
        return None
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidFieldError(field, f"{field} must be a date and time with a time zone")
    out_of_range = TimeOutOfRangeError(field, f"{field} must lie in the years 1900 to 2999 (UTC)")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise out_of_range from None
    if not EARLIEST <= utc < LATEST:
        raise out_of_range
    return utc


def _text(field: str, value: object, limit: int) -> None:
    if not isinstance(value, str):
        raise InvalidFieldError(field, f"{field} must be text")
    if "\x00" in value:
        raise InvalidFieldError(field, f"{field} must not contain NUL characters")
    if len(value) > limit:
        raise InvalidFieldError(field, f"{field} is longer than {limit} characters")


def _checked(item: Interaction) -> Interaction:
    """``item`` with its times in UTC, or :class:`InvalidFieldError` for a value the
    book cannot store (the core rules are checked after this)."""
    for name in _IDS:
        value = getattr(item, name)
        if value is not None and (not isinstance(value, int) or not 1 <= value <= ID_MAX):
            raise InvalidFieldError(name, f"{name} must be a positive 32-bit integer")
    for name, enum in _ENUMS.items():
        if not isinstance(getattr(item, name), enum):
            raise InvalidFieldError(name, f"{name} must be one of {', '.join(enum)}")
    _text("subject", item.subject, BODY_MAX)
    _text("body", item.body, BODY_MAX)
    _text("resolution", item.resolution, RESOLUTION_MAX)
    occurred_at = _time("occurred_at", item.occurred_at)
    assert occurred_at is not None
    return replace(
        item,
        occurred_at=occurred_at,
        due_at=_time("due_at", item.due_at),
        sla_first_response_due=_time("sla_first_response_due", item.sla_first_response_due),
        sla_resolution_due=_time("sla_resolution_due", item.sla_resolution_due),
    )


def _indexed(error: InvalidFieldError, index: int | None) -> InvalidFieldError:
    if index is None:
        return error
    return InvalidFieldError(f"[{index}].{error.field}", str(error))


class InteractionService:
    """The use cases on interactions, complaints and the party timeline."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, actor: Actor = OPERATOR) -> None:
        self._uow = uow
        self._clock = clock
        self._actor = actor

    def acting_as(self, actor: Actor) -> InteractionService:
        """The same service for another actor."""
        return InteractionService(self._uow, self._clock, actor)

    # -- helpers ---------------------------------------------------------------------------

    def _load(self, uow: UnitOfWork, interaction_id: int) -> Interaction:
        row = uow.interactions.get(interaction_id) if 1 <= interaction_id <= ID_MAX else None
        if row is None:
            raise NotFoundError(f"no interaction {interaction_id}")
        return _from_row(row)

    def _check_refs(
        self, uow: UnitOfWork, item: Interaction, known: set[int] | None = None
    ) -> None:
        """Refuse references to what does not exist; ``known``: party ids already checked."""
        if item.party_id not in (known or uow.parties.existing([item.party_id])):
            raise UnknownReferenceError("party_id", f"no party {item.party_id}")
        if item.contact_id is not None:
            link = uow.parties.contact(item.contact_id)
            if link is None:
                raise UnknownReferenceError("contact_id", f"no contact {item.contact_id}")
            if item.party_id not in (link.organisation_id, link.person_id):
                raise ForeignContactError(
                    "contact_id",
                    f"contact {link.id} links person {link.person_id} to organisation "
                    f"{link.organisation_id}, not to party {item.party_id}",
                )
        if item.owner_id is not None and uow.access.user(item.owner_id) is None:
            raise UnknownReferenceError("owner_id", f"no user {item.owner_id}")

    def _start(self, uow: UnitOfWork, interaction_id: int, if_version: int | None) -> Interaction:
        before = self._load(uow, interaction_id)
        if if_version is not None and before.version != if_version:
            raise VersionConflictError(f"interaction {interaction_id}", if_version, before.version)
        return before

    def _save(
        self, uow: UnitOfWork, action: str, before: Interaction, after: Interaction
    ) -> Interaction:
        """Store ``after`` over ``before`` (one version up) with its audit record."""
        at = self._clock.now()
        after = replace(after, version=before.version + 1)
        if not uow.interactions.update(_to_row(after, at, at), before.version):
            raise VersionConflictError(
                f"interaction {before.id}", before.version, before.version + 1
            )
        record(
            uow,
            self._actor,
            at,
            action,
            "interaction",
            before.id,
            audit_view(before),
            audit_view(after),
        )
        uow.commit()
        return after

    # -- writes ----------------------------------------------------------------------------

    def add(self, item: Interaction) -> Interaction:
        """Check and store one interaction (a complaint starts its SLA clock)."""
        return self._add([item], indexed=False)[0]

    def add_many(self, items: Sequence[Interaction]) -> list[Interaction]:
        """Store ``items`` in one transaction, all or none (a CSV import); a refusal names
        the item's index in its field (``[3].subject``)."""
        return self._add(items, indexed=True)

    def _add(self, items: Sequence[Interaction], indexed: bool) -> list[Interaction]:
        self._actor.require("interactions", "write")
        at = self._clock.now()
        ready = []
        with self._uow() as uow:
            known = uow.parties.existing([item.party_id for item in items])
            refuse_merged(uow.parties, known)
            for index, item in enumerate(items):
                try:
                    draft = new_interaction(_checked(replace(item, id=None, version=1)))
                    self._check_refs(uow, draft, known)
                except InvalidFieldError as error:
                    raise _indexed(error, index if indexed else None) from error
                ready.append(draft)
            ids = uow.interactions.insert([_to_row(i, at, at) for i in ready])
            stored = [replace(i, id=new_id) for i, new_id in zip(ready, ids, strict=True)]
            for item in stored:
                record(
                    uow,
                    self._actor,
                    at,
                    "interaction.create",
                    "interaction",
                    item.id,
                    None,
                    audit_view(item),
                )
            uow.commit()
        return stored

    def update(
        self, interaction_id: int, changes: Mapping[str, Any], if_version: int | None
    ) -> Interaction:
        """Change subject, body, priority, due time, owner or links; ``if_version`` (when
        given) must be current. A new priority recomputes a complaint's SLA due times."""
        self._actor.require("interactions", "write")
        bad = sorted(set(changes) - UPDATABLE)
        if bad:
            raise InvalidFieldError(bad[0], "cannot be changed (a status moves by change_status)")
        with self._uow() as uow:
            before = self._start(uow, interaction_id, if_version)
            after = replace(before, **{k: v for k, v in changes.items() if k != "priority"})
            if "priority" in changes:
                after = change_priority(after, _priority(changes["priority"]))
            after = validate_interaction(_checked(after))
            if after == before:
                return before
            self._check_refs(uow, after)
            return self._save(uow, "interaction.update", before, after)

    def change_status(
        self, interaction_id: int, status: Status | str, resolution: str, if_version: int | None
    ) -> Interaction:
        """Move an interaction to ``status`` now (``resolution`` when resolving or closing);
        a refused move raises :class:`TransitionError` and changes nothing."""
        self._actor.require("interactions", "write")
        _text("resolution", resolution, RESOLUTION_MAX)
        wanted = _enum("status", Status, status)
        with self._uow() as uow:
            before = self._start(uow, interaction_id, if_version)
            after = change_status(before, wanted, self._clock.now(), resolution)
            return self._save(uow, "interaction.status", before, after)

    def respond(
        self, interaction_id: int, at: datetime | None = None, if_version: int | None = None
    ) -> Interaction:
        """Record a response to the party sent at ``at`` (default now); only the first one
        counts for the SLA, so a later one changes nothing."""
        self._actor.require("interactions", "write")
        when = _time("at", at) or self._clock.now()
        with self._uow() as uow:
            before = self._start(uow, interaction_id, if_version)
            after = record_response(before, when)
            if after == before:
                return before
            return self._save(uow, "interaction.update", before, after)

    # -- reads -----------------------------------------------------------------------------

    def get(self, interaction_id: int) -> Interaction:
        """One interaction; :class:`NotFoundError` when there is none."""
        self._actor.require("interactions", "read")
        with self._uow(readonly=True) as uow:
            return self._load(uow, interaction_id)

    def sla(self, item: Interaction) -> SlaState:
        """How ``item`` stands against its SLA now."""
        return sla_state(item, self._clock.now())

    def complaint_queue(
        self, limit: int = 50, after: tuple[datetime, int] | None = None
    ) -> list[QueueItem]:
        """Open and in-progress complaints, the one whose next SLA target is due soonest
        first; ``after`` is the previous page's last ``(next_due, id)``."""
        self._actor.require("interactions", "read")
        _check_limit(limit)
        after = _keyset("after", after)
        with self._uow(readonly=True) as uow:
            rows = uow.interactions.complaint_queue(limit, after)
        now = self._clock.now()
        items = [_from_row(r) for r in rows]
        return [QueueItem(i, sla_state(i, now), next_due(i)) for i in items]

    def timeline(
        self, party_id: int, before: tuple[datetime, int] | None, limit: int
    ) -> list[TimelineItem]:
        """A party's interactions, newest first, strictly before ``before`` (the previous
        page's last ``(at, id)``); an organisation's include its contacts' own."""
        self._actor.require("parties", "read")
        self._actor.require("interactions", "read")
        _check_limit(limit)
        before = _keyset("before", before)
        with self._uow(readonly=True) as uow:
            party = uow.parties.get(party_id) if 1 <= party_id <= ID_MAX else None
            if party is None:
                raise NotFoundError(f"no party {party_id}")
            ids = [party_id]
            if party.kind == "organisation":
                ids += [c.person_id for c in uow.parties.contacts(organisation_id=party_id)]
            rows = uow.interactions.timeline(ids, before, limit)
            finance = (
                uow.billing.timeline(ids, before, limit)
                if self._actor.principal.can("billing", "read")
                else []
            )
            scales = book_scales(uow)
        now = self._clock.now()
        items = [_item(_from_row(r), now) for r in rows]
        items += [_finance_item(r, scales, now.date()) for r in finance]
        items.sort(key=lambda i: (i.at, i.id), reverse=True)
        return items[:limit]

    def search(self, text: str, limit: int = 20) -> list[InteractionHit]:
        """Interactions whose subject and body hold every word of ``text``, best first;
        query syntax in ``text`` is matched as plain words, never interpreted."""
        self._actor.require("interactions", "read")
        _text("text", text, SEARCH_MAX)
        _check_limit(limit)
        if not text.strip():
            return []
        with self._uow(readonly=True) as uow:
            ranked = uow.interactions.search(text, limit)
            found = {r.id: _from_row(r) for r in uow.interactions.many([i for i, _ in ranked])}
        return [InteractionHit(found[i], score) for i, score in ranked if i in found]

    def list(self, query: InteractionQuery) -> list[Interaction]:
        """A page of interactions (see :class:`InteractionQuery`)."""
        self._actor.require("interactions", "read")
        checked = _check_query(query)
        with self._uow(readonly=True) as uow:
            return [_from_row(r) for r in uow.interactions.page(checked)]


_PAYMENT_KINDS = frozenset({"receipt", "refund", "vendor_payment", "vendor_refund"})
_FINANCE_TITLES = {
    "invoice": "Invoice",
    "credit_note": "Credit note",
    "bill": "Bill",
    "receipt": "Payment received",
    "refund": "Refund",
    "vendor_payment": "Payment to vendor",
    "vendor_refund": "Refund from vendor",
}


def _finance_item(row: FinanceEventRow, scales: Mapping[str, int], today: date) -> TimelineItem:
    """An issued document or a payment on the timeline, dated when the document was issued
    (not drafted) or the payment recorded; an open invoice past its due date shows as
    ``overdue``."""
    amount = format_minor(row.amount_minor, scale_of(row.currency, scales))
    is_open = row.status in ("issued", "partially_paid")
    late = is_open and row.due_on is not None and row.due_on < today
    return TimelineItem(
        type="payment"
        if row.type in ("receipt", "refund", "vendor_payment", "vendor_refund")
        else row.type,
        id=row.id,
        at=row.at,
        party_id=row.party_id,
        kind=row.type,
        subject=f"{_FINANCE_TITLES.get(row.type, row.type)} {row.number} · {amount} {row.currency}",
        status="overdue" if late else row.status,
        priority="",
        direction="inbound" if row.type == "receipt" else "outbound",
        channel="",
        sla_state=SlaState.NONE,
    )


def _item(item: Interaction, now: datetime) -> TimelineItem:
    assert item.id is not None
    return TimelineItem(
        type="interaction",
        id=item.id,
        at=item.occurred_at,
        party_id=item.party_id,
        kind=item.kind.value,
        subject=item.subject,
        status=item.status.value,
        priority=item.priority.value,
        direction=item.direction.value,
        channel=item.channel.value,
        sla_state=sla_state(item, now),
    )


def _enum(field: str, enum: Any, value: object) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise InvalidFieldError(field, f"{field} must be one of {', '.join(enum)}") from None


def _priority(value: object) -> Priority:
    found: Priority = _enum("priority", Priority, value)
    return found


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= PAGE_MAX:
        raise InvalidFieldError("limit", f"limit must be between 1 and {PAGE_MAX}")


def _keyset(field: str, key: tuple[datetime, int] | None) -> tuple[datetime, int] | None:
    if key is None:
        return None
    at, last_id = key
    when = _time(field, at)
    assert when is not None
    return when, last_id


def _bound(field: str, value: datetime | None) -> datetime | None:
    """A filter's time in UTC; one beyond what UTC can hold is the earliest or latest."""
    if value is None:
        return None
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidFieldError(field, f"{field} must be a date and time with a time zone")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return _MIN if value.year < 5000 else _MAX


def _check_query(query: InteractionQuery) -> InteractionQuery:
    """``query`` with its times in UTC, or :class:`InvalidFieldError`."""
    _check_limit(query.limit)
    if query.sort not in SORTS:
        raise InvalidFieldError("sort", f"sort must be one of {', '.join(SORTS)}")
    by_time = query.sort.lstrip("-") == "occurred"
    if by_time and (query.after_id is None) != (query.after_at is None):
        raise InvalidFieldError("cursor", "a page by time continues after a time and an id")
    for name, enum in _ENUMS.items():
        value = getattr(query, name, None)
        if value is not None:
            _enum(name, enum, value)
    return replace(
        query,
        after_at=_bound("after_at", query.after_at),
        due_before=_bound("due_before", query.due_before),
    )
