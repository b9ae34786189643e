"""Interactions on both databases: complaints on their SLA clock, every status move through
the service (refused ones change nothing), the party timeline paged by keyset across equal
timestamps, full-text search that never parses the user's syntax, and an audit record for
every write."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from crmledger.bootstrap import App
from crmledger.core.access import PermissionDeniedError, Principal, Role
from crmledger.core.crm.interactions import (
    Channel,
    Direction,
    Interaction,
    InteractionKind,
    Priority,
    SlaState,
    Status,
)
from crmledger.core.crm.parties import Contact, Party, PartyKind
from crmledger.core.errors import InvalidFieldError, TransitionError
from crmledger.services.crm_ports import InteractionQuery
from crmledger.services.errors import NotFoundError, VersionConflictError
from crmledger.services.trail import Actor
from tests.conftest import FixedClock

T0 = datetime(2026, 6, 30, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


@dataclass
class Book:
    """An organisation with one contact person, a second organisation and a user."""

    org: int
    person: int
    contact: int
    other: int
    user: int


@pytest.fixture
def book(app: App) -> Book:
    org = app.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Acme GmbH"))
    person = app.parties.add(
        Party(kind=PartyKind.PERSON, display_name="", given_name="Ada", family_name="Lovelace")
    )
    other = app.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Other Ltd"))
    link = app.parties.add_contact(Contact(org.id or 0, person.id or 0, "Buyer"))
    user = app.access.add_user("desk@example.com", Role.SUPPORT, "correct horse battery")
    return Book(org.id or 0, person.id or 0, link.id or 0, other.id or 0, user.id)


def complaint(party: int, **changes: object) -> Interaction:
    draft = Interaction(
        kind=InteractionKind.COMPLAINT,
        party_id=party,
        subject="Parcel arrived broken",
        body="The box was crushed and the vase inside is in pieces.",
        channel=Channel.EMAIL,
        direction=Direction.INBOUND,
        occurred_at=T0,
        priority=Priority.HIGH,
    )
    return replace(draft, **changes)


def note(party: int, at: datetime, subject: str = "Note", **changes: object) -> Interaction:
    draft = Interaction(
        kind=InteractionKind.NOTE,
        party_id=party,
        subject=subject,
        channel=Channel.OTHER,
        direction=Direction.INTERNAL,
        occurred_at=at,
    )
    return replace(draft, **changes)


def actions(app: App) -> list[tuple[str, str]]:
    """``(action, resource id)`` of every interaction audit record, oldest first."""
    records = app.audit.log(limit=500, filters={"resource": "interaction"})
    return [(r.action, r.resource_id) for r in reversed(records)]


def everything(app: App) -> list[Interaction]:
    return app.interactions.list(InteractionQuery(limit=500, sort="id"))


# -- create ---------------------------------------------------------------------------------


def test_a_complaint_is_stored_with_its_sla_due_times_and_audited(app: App, book: Book) -> None:
    stored = app.interactions.add(complaint(book.org, contact_id=book.contact, owner_id=book.user))
    assert stored.id is not None
    assert stored.version == 1
    assert stored.status is Status.OPEN
    assert stored.sla_first_response_due == T0 + 4 * H  # high: 4 h / 24 h
    assert stored.sla_resolution_due == T0 + 24 * H
    assert app.interactions.get(stored.id) == stored
    assert actions(app) == [("interaction.create", str(stored.id))]
    [record] = app.audit.log(filters={"resource": "interaction"})
    after = record.changes["after"]
    assert after["kind"] == "complaint"
    assert after["party_id"] == book.org
    assert after["sla_resolution_due"] == (T0 + 24 * H).isoformat()
    # Free text may name people: the log keeps only its length.
    assert "subject" not in after
    assert after["subject_chars"] == len("Parcel arrived broken")


def test_times_with_any_offset_are_stored_and_read_back_in_utc(app: App, book: Book) -> None:
    berlin = timezone(timedelta(hours=2))
    stored = app.interactions.add(complaint(book.org, occurred_at=T0.astimezone(berlin)))
    again = app.interactions.get(stored.id or 0)
    assert again.occurred_at == T0
    assert again.occurred_at.utcoffset() == timedelta(0)
    assert again.sla_first_response_due == T0 + 4 * H


def test_a_note_gets_no_sla_and_a_person_may_be_logged_with_its_own_contact_link(
    app: App, book: Book
) -> None:
    stored = app.interactions.add(note(book.person, T0, contact_id=book.contact))
    assert stored.sla_first_response_due is None
    assert stored.sla_resolution_due is None
    assert app.interactions.sla(stored) is SlaState.NONE


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"party_id": 999_999}, "party_id"),
        ({"contact_id": 999_999}, "contact_id"),
        ({"owner_id": 999_999}, "owner_id"),
        ({"subject": "   "}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"body": "nul \x00 inside"}, "body"),
        ({"occurred_at": datetime(2026, 6, 30, 9, 0)}, "occurred_at"),
        ({"occurred_at": datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))}, "occurred_at"),
        ({"occurred_at": datetime(9999, 12, 31, tzinfo=UTC)}, "occurred_at"),
        ({"due_at": T0 - H}, "due_at"),
        ({"deal_id": 2**31}, "deal_id"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(
    app: App, book: Book, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidFieldError) as refused:
        app.interactions.add(complaint(book.org, **changes))
    assert refused.value.field == field
    assert everything(app) == []
    assert actions(app) == []


def test_the_contact_must_link_the_party(app: App, book: Book) -> None:
    with pytest.raises(InvalidFieldError, match="not to party") as refused:
        app.interactions.add(complaint(book.other, contact_id=book.contact))
    assert refused.value.field == "contact_id"
    assert everything(app) == []


def test_add_many_is_one_transaction_and_names_the_refused_item(app: App, book: Book) -> None:
    good = [note(book.org, T0 + n * H, f"Call {n}") for n in range(3)]
    with pytest.raises(InvalidFieldError) as refused:
        app.interactions.add_many([*good, note(book.org, T0, "")])
    assert refused.value.field == "[3].subject"
    assert everything(app) == []
    stored = app.interactions.add_many(good)
    assert [i.subject for i in stored] == ["Call 0", "Call 1", "Call 2"]
    assert [i.id for i in everything(app)] == [i.id for i in stored]
    assert [a for a, _ in actions(app)] == ["interaction.create"] * 3


def test_the_database_refuses_what_the_rules_refuse(app: App, book: Book) -> None:
    stored = app.interactions.add(complaint(book.org))
    for change in (
        "status = 'lost'",
        "kind = 'fax'",
        "sla_resolution_due = NULL",
        "closed_at = occurred_at",  # an open interaction is not closed
    ):
        with pytest.raises(IntegrityError), app.engine.begin() as conn:
            conn.execute(text(f"UPDATE interactions SET {change} WHERE id = {stored.id}"))
    assert app.interactions.get(stored.id or 0) == stored


# -- status and SLA -------------------------------------------------------------------------


def test_a_complaint_walks_every_status_through_the_service(
    app: App, book: Book, clock: FixedClock
) -> None:
    desk = app.interactions
    c = desk.add(complaint(book.org))
    clock.current = T0 + 2 * H
    c = desk.change_status(c.id or 0, Status.IN_PROGRESS, "", if_version=1)
    assert (c.status, c.first_response_at, c.version) == (Status.IN_PROGRESS, T0 + 2 * H, 2)
    clock.current = T0 + 3 * H
    c = desk.change_status(c.id or 0, Status.OPEN, "", if_version=2)  # back to the queue
    assert c.status is Status.OPEN
    assert c.first_response_at == T0 + 2 * H
    clock.current = T0 + 5 * H
    c = desk.change_status(c.id or 0, Status.RESOLVED, "Replacement sent", if_version=3)
    assert (c.resolution, c.resolved_at) == ("Replacement sent", T0 + 5 * H)
    assert desk.sla(c) is SlaState.MET
    clock.current = T0 + 30 * H
    c = desk.change_status(c.id or 0, Status.CLOSED, "", if_version=4)
    assert (c.closed_at, c.resolved_at, c.resolution) == (
        T0 + 30 * H,
        T0 + 5 * H,
        "Replacement sent",
    )
    clock.current = T0 + 40 * H
    c = desk.change_status(c.id or 0, Status.OPEN, "", if_version=5)  # reopened
    assert (c.resolution, c.resolved_at, c.closed_at) == ("", None, None)
    assert c.first_response_at == T0 + 2 * H
    assert desk.sla(c) is SlaState.BREACHED  # past the 24 h resolution due, unresolved
    assert desk.get(c.id or 0) == c
    assert (
        actions(app)
        == [("interaction.create", str(c.id))] + [("interaction.status", str(c.id))] * 5
    )


def test_open_may_jump_to_closed_which_resolves_it_at_the_same_moment(
    app: App, book: Book, clock: FixedClock
) -> None:
    c = app.interactions.add(complaint(book.org))
    clock.current = T0 + H
    closed = app.interactions.change_status(c.id or 0, "closed", "Refunded", if_version=None)
    assert closed.resolved_at == closed.closed_at == closed.first_response_at == T0 + H


@pytest.mark.parametrize(
    ("steps", "refused", "error"),
    [
        ([], (Status.RESOLVED, ""), InvalidFieldError),  # a complaint needs a resolution
        ([], (Status.OPEN, ""), TransitionError),  # already open
        ([(Status.IN_PROGRESS, "")], (Status.IN_PROGRESS, ""), TransitionError),
        ([(Status.RESOLVED, "Fixed")], (Status.IN_PROGRESS, ""), TransitionError),
        ([(Status.CLOSED, "Fixed")], (Status.RESOLVED, "Again"), TransitionError),
        ([(Status.CLOSED, "Fixed")], (Status.IN_PROGRESS, ""), TransitionError),
        ([], (Status.IN_PROGRESS, "a resolution too early"), InvalidFieldError),
        ([], ("lost", ""), InvalidFieldError),
    ],
)
def test_refused_status_moves_change_nothing(
    app: App,
    book: Book,
    clock: FixedClock,
    steps: list[tuple[Status, str]],
    refused: tuple[str, str],
    error: type[Exception],
) -> None:
    c = app.interactions.add(complaint(book.org))
    clock.current = T0 + H
    for status, resolution in steps:
        c = app.interactions.change_status(c.id or 0, status, resolution, if_version=c.version)
    written = actions(app)
    with pytest.raises(error):
        app.interactions.change_status(c.id or 0, refused[0], refused[1], if_version=c.version)
    assert app.interactions.get(c.id or 0) == c
    assert actions(app) == written


def test_a_stale_version_is_refused_and_changes_nothing(app: App, book: Book) -> None:
    c = app.interactions.add(complaint(book.org))
    app.interactions.update(c.id or 0, {"subject": "Parcel broken (photos)"}, if_version=1)
    with pytest.raises(VersionConflictError):
        app.interactions.change_status(c.id or 0, Status.IN_PROGRESS, "", if_version=1)
    with pytest.raises(VersionConflictError):
        app.interactions.update(c.id or 0, {"priority": Priority.LOW}, if_version=1)
    assert app.interactions.get(c.id or 0).version == 2
    with pytest.raises(NotFoundError):
        app.interactions.change_status(424242, Status.CLOSED, "x", if_version=None)


def test_respond_records_the_first_response_only(app: App, book: Book, clock: FixedClock) -> None:
    c = app.interactions.add(complaint(book.org))
    first = app.interactions.respond(c.id or 0, T0 + 5 * H)  # 1 h late for "high"
    assert first.first_response_at == T0 + 5 * H
    assert first.status is Status.OPEN
    assert first.version == 2
    assert app.interactions.respond(c.id or 0, T0 + 6 * H) == first  # later ones: no change
    clock.current = T0 + 7 * H
    assert app.interactions.sla(first) is SlaState.BREACHED
    with pytest.raises(InvalidFieldError) as refused:
        app.interactions.respond(c.id or 0, T0 - H)
    assert refused.value.field == "at"
    assert [a for a, _ in actions(app)] == ["interaction.create", "interaction.update"]


def test_sla_state_moves_from_on_track_to_at_risk_to_breached(
    app: App, book: Book, clock: FixedClock
) -> None:
    c = app.interactions.add(complaint(book.org))  # first response due at T0 + 4 h
    clock.current = T0 + 2 * H
    assert app.interactions.sla(c) is SlaState.ON_TRACK
    clock.current = T0 + 3 * H + 30 * timedelta(minutes=1)
    assert app.interactions.sla(c) is SlaState.AT_RISK
    clock.current = T0 + 4 * H + timedelta(seconds=1)
    assert app.interactions.sla(c) is SlaState.BREACHED


def test_update_changes_fields_and_a_new_priority_moves_the_sla(app: App, book: Book) -> None:
    c = app.interactions.add(complaint(book.org))
    changed = app.interactions.update(
        c.id or 0,
        {"priority": "urgent", "owner_id": book.user, "due_at": T0 + 2 * H, "deal_id": 7},
        if_version=1,
    )
    assert changed.priority is Priority.URGENT
    assert changed.version == 2
    assert changed.sla_first_response_due == T0 + H  # urgent: 1 h / 8 h
    assert changed.sla_resolution_due == T0 + 8 * H
    assert (changed.owner_id, changed.due_at, changed.deal_id) == (book.user, T0 + 2 * H, 7)
    assert app.interactions.get(c.id or 0) == changed
    [update] = app.audit.log(filters={"action": "interaction.update"})
    assert update.changes["before"]["priority"] == "high"
    assert update.changes["after"]["priority"] == "urgent"
    same = app.interactions.update(c.id or 0, {"deal_id": 7}, if_version=2)
    assert same == changed  # nothing changed: no new version, no audit record
    assert len(actions(app)) == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "closed"}, "status"),
        ({"party_id": 2}, "party_id"),
        ({"priority": "extreme"}, "priority"),
        ({"subject": ""}, "subject"),
        ({"owner_id": 999_999}, "owner_id"),
        ({"contact_id": 999_999}, "contact_id"),
        ({"due_at": T0 - H}, "due_at"),
    ],
)
def test_bad_updates_are_refused_naming_the_field(
    app: App, book: Book, changes: dict[str, object], field: str
) -> None:
    c = app.interactions.add(complaint(book.org))
    with pytest.raises(InvalidFieldError) as refused:
        app.interactions.update(c.id or 0, changes, if_version=1)
    assert refused.value.field == field
    assert app.interactions.get(c.id or 0) == c


# -- queue, lists and the timeline ----------------------------------------------------------


def test_the_complaint_queue_puts_the_nearest_sla_first(
    app: App, book: Book, clock: FixedClock
) -> None:
    low = app.interactions.add(complaint(book.org, priority=Priority.LOW))  # 24 h first response
    urgent = app.interactions.add(complaint(book.org, priority=Priority.URGENT))  # 1 h
    normal = app.interactions.add(complaint(book.org, priority=Priority.NORMAL))  # 8 h
    done = app.interactions.add(complaint(book.org, priority=Priority.URGENT))
    app.interactions.add(note(book.org, T0))
    clock.current = T0 + 30 * timedelta(minutes=1)
    app.interactions.change_status(done.id or 0, Status.RESOLVED, "Fixed", if_version=1)
    # The urgent one is answered at 0:30: its next target becomes the 8 h resolution.
    app.interactions.respond(urgent.id or 0, T0 + 30 * timedelta(minutes=1))
    clock.current = T0 + 45 * timedelta(minutes=1)
    queue = app.interactions.complaint_queue(10)
    assert [q.interaction.id for q in queue] == [urgent.id, normal.id, low.id]  # ties by id
    assert [q.next_due for q in queue] == [T0 + 8 * H, T0 + 8 * H, T0 + 24 * H]
    assert {q.sla_state for q in queue} == {SlaState.ON_TRACK}
    first = app.interactions.complaint_queue(2)
    last = first[-1]
    rest = app.interactions.complaint_queue(
        2, after=(last.next_due or T0, last.interaction.id or 0)
    )
    assert [q.interaction.id for q in first + rest] == [urgent.id, normal.id, low.id]


def test_the_timeline_pages_by_keyset_across_equal_timestamps(app: App, book: Book) -> None:
    same = [note(book.org, T0, f"Same {n}") for n in range(5)]
    stored = app.interactions.add_many(
        [note(book.org, T0 - H, "Older"), *same, note(book.org, T0 + H, "Newer")]
    )
    app.interactions.add(note(book.other, T0 + 2 * H, "Not theirs"))
    expected = sorted(stored, key=lambda i: (i.occurred_at, i.id or 0), reverse=True)
    seen, before = [], None
    while True:
        page = app.interactions.timeline(book.org, before, 3)
        seen += page
        if len(page) < 3:
            break
        before = (page[-1].at, page[-1].id)
    assert [i.id for i in seen] == [i.id for i in expected]
    assert [i.subject for i in seen][:2] == ["Newer", "Same 4"]
    assert {i.type for i in seen} == {"interaction"}


def test_an_organisations_timeline_includes_its_contacts_interactions(app: App, book: Book) -> None:
    own = app.interactions.add(complaint(book.org))
    theirs = app.interactions.add(note(book.person, T0 + H, "Ada called"))
    app.interactions.add(note(book.other, T0 + 2 * H, "Someone else"))
    org_items = app.interactions.timeline(book.org, None, 50)
    assert [(i.id, i.party_id) for i in org_items] == [
        (theirs.id, book.person),
        (own.id, book.org),
    ]
    assert org_items[1].kind == "complaint"
    assert org_items[1].sla_state is SlaState.ON_TRACK  # 12:00: exactly 1 h of 4 left
    person_items = app.interactions.timeline(book.person, None, 50)
    assert [i.id for i in person_items] == [theirs.id]  # a person's is only its own
    with pytest.raises(NotFoundError):
        app.interactions.timeline(999_999, None, 50)


def _explain(app: App, statement: str, params: object) -> str:
    """The plan of the captured ``statement`` (an index scan must give the order itself)."""
    with app.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
            rows = conn.exec_driver_sql(f"EXPLAIN {statement}", params).all()
        else:
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
    return "\n".join(str(r[-1]) for r in rows)


def test_the_timeline_is_an_ordered_index_range_not_a_sort(app: App, book: Book) -> None:
    app.interactions.add_many([note(book.person, T0 + n * H) for n in range(20)])
    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, params, context, executemany):
        if "FROM interactions" in statement and "ORDER BY" in statement:
            seen.append((statement, params))

    event.listen(app.engine, "before_cursor_execute", capture)
    try:
        app.interactions.timeline(book.person, (T0 + 10 * H, 99), 5)
    finally:
        event.remove(app.engine, "before_cursor_execute", capture)
    [(statement, params)] = seen
    plan = _explain(app, statement, params)
    assert "ix_interactions_timeline" in plan
    assert "Sort" not in plan
    assert "TEMP B-TREE" not in plan


def test_lists_filter_and_page_by_keyset(app: App, book: Book) -> None:
    items = app.interactions.add_many(
        [note(book.org, T0 + n * H, f"Note {n}") for n in range(4)]
        + [complaint(book.org), complaint(book.other, owner_id=book.user)]
    )
    by_kind = app.interactions.list(InteractionQuery(kind="complaint", sort="id"))
    assert [i.id for i in by_kind] == [items[4].id, items[5].id]
    owned = app.interactions.list(InteractionQuery(owner_id=book.user))
    assert [i.id for i in owned] == [items[5].id]
    other = app.interactions.list(InteractionQuery(party_id=book.other))
    assert [i.id for i in other] == [items[5].id]
    for sort in ("occurred", "-occurred", "id", "-id"):
        seen: list[Interaction] = []
        query = InteractionQuery(limit=2, sort=sort)
        while page := app.interactions.list(query):
            seen += page
            last = page[-1]
            query = replace(query, after_id=last.id, after_at=last.occurred_at)
        key = (lambda i: i.id) if "id" in sort else (lambda i: (i.occurred_at, i.id))
        assert seen == sorted(items, key=key, reverse=sort.startswith("-"))
    with pytest.raises(InvalidFieldError) as refused:
        app.interactions.list(InteractionQuery(sort="subject"))
    assert refused.value.field == "sort"


# -- search ---------------------------------------------------------------------------------


def test_search_finds_words_in_subject_and_body_best_first(app: App, book: Book) -> None:
    parcel = app.interactions.add(complaint(book.org))
    invoice = app.interactions.add(
        note(book.org, T0, "Invoice question", body="Asked why the parcel costs extra")
    )
    app.interactions.add(note(book.org, T0, "Lunch", body="Nothing to see"))
    assert [h.interaction.id for h in app.interactions.search("vase")] == [parcel.id]
    assert [h.interaction.id for h in app.interactions.search("INVOICE")] == [invoice.id]
    both = app.interactions.search("parcel")
    assert {h.interaction.id for h in both} == {parcel.id, invoice.id}
    assert all(h.score > 0 for h in both)
    assert [h.interaction.id for h in app.interactions.search("parcel crushed")] == [parcel.id]
    assert app.interactions.search("parcel lunch") == []  # every word must be there


def test_search_follows_changes_of_subject_and_body(app: App, book: Book) -> None:
    c = app.interactions.add(complaint(book.org))
    app.interactions.update(c.id or 0, {"subject": "Wrong colour", "body": "Blue, not red"}, 1)
    assert app.interactions.search("vase") == []
    assert [h.interaction.id for h in app.interactions.search("colour")] == [c.id]
    assert [h.interaction.id for h in app.interactions.search("red")] == [c.id]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ('"', False),
        ("AND(", True),  # "and" is a word of the body, not an operator
        ("parcel OR lunch", False),  # nor is OR: "or" and "lunch" are missing
        ("NEAR(parcel vase", False),
        ("parcel*", True),
        ("-parcel", True),
        ("^parcel:", True),
        ('vase"', True),
        ("{subject}: parcel", False),  # no column filter: "subject" is just a word
        ("'; DROP TABLE interactions; --", False),
        ("(", False),
        ("   ", False),
    ],
)
def test_search_syntax_in_the_query_is_just_text(
    app: App, book: Book, query: str, found: bool
) -> None:
    c = app.interactions.add(complaint(book.org))
    hits = [h.interaction.id for h in app.interactions.search(query)]
    assert hits == ([c.id] if found else [])


def test_search_refuses_what_no_database_can_search_for(app: App, book: Book) -> None:
    for bad in ("nul \x00", "x" * 501):
        with pytest.raises(InvalidFieldError) as refused:
            app.interactions.search(bad)
        assert refused.value.field == "text"


# -- permissions ----------------------------------------------------------------------------


def test_roles_read_and_write_as_the_role_table_says(app: App, book: Book) -> None:
    c = app.interactions.add(complaint(book.org))
    viewer = app.interactions.acting_as(Actor(Principal(9, "v@example.com", Role.VIEWER)))
    assert viewer.get(c.id or 0) == c
    assert viewer.timeline(book.org, None, 10)[0].id == c.id
    with pytest.raises(PermissionDeniedError):
        viewer.add(note(book.org, T0))
    with pytest.raises(PermissionDeniedError):
        viewer.change_status(c.id or 0, Status.CLOSED, "x", if_version=None)
    support = app.interactions.acting_as(Actor(Principal(book.user, "s@example.com", Role.SUPPORT)))
    done = support.change_status(c.id or 0, Status.RESOLVED, "Fixed", if_version=1)
    assert done.status is Status.RESOLVED
    [status] = app.audit.log(filters={"action": "interaction.status"})
    assert status.actor == f"user:{book.user}"
    assert status.role == "support"
