"""Interactions: validation, the status machine, first response and the complaint SLA."""

from __future__ import annotations

import doctest
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmledger.core.crm import interactions
from crmledger.core.crm.interactions import (
    DEFAULT_SLA,
    Channel,
    Direction,
    Interaction,
    InteractionKind,
    Priority,
    SlaState,
    SlaTarget,
    Status,
    change_priority,
    change_status,
    new_interaction,
    record_response,
    sla_state,
    time_to_first_response,
    time_to_resolution,
    validate_interaction,
)
from crmledger.core.errors import InvalidFieldError, TransitionError

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
NAIVE = datetime(2026, 5, 4, 9, 0)  # no time zone: the point of the tests using it


def draft(kind: InteractionKind = InteractionKind.COMPLAINT, **changes: Any) -> Interaction:
    base = Interaction(
        kind=kind,
        party_id=1,
        subject="Parcel arrived broken",
        channel=Channel.EMAIL,
        direction=Direction.INBOUND,
        occurred_at=T0,
    )
    return replace(base, **changes)


def complaint(**changes: Any) -> Interaction:
    return new_interaction(draft(**changes))


def note(**changes: Any) -> Interaction:
    return new_interaction(draft(InteractionKind.NOTE, **changes))


def test_docstring_examples_run() -> None:
    result = doctest.testmod(interactions)
    assert result.attempted > 0
    assert result.failed == 0


# -- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"subject": "   "}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"occurred_at": NAIVE}, "occurred_at"),
        ({"due_at": NAIVE + timedelta(days=1)}, "due_at"),
        ({"due_at": T0 - timedelta(seconds=1)}, "due_at"),
        ({"first_response_at": T0 - H}, "first_response_at"),
        ({"sla_resolution_due": T0 - H}, "sla_resolution_due"),
        ({"resolved_at": T0 + H}, "resolved_at"),  # still open
        ({"status": Status.IN_PROGRESS, "resolved_at": T0 + H}, "resolved_at"),
        ({"status": Status.RESOLVED, "resolved_at": T0 + H, "closed_at": T0 + H}, "closed_at"),
        ({"closed_at": NAIVE + H}, "closed_at"),
    ],
)
def test_invalid_interactions_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        validate_interaction(draft(InteractionKind.CALL, **changes))
    assert caught.value.field == field
    with pytest.raises(InvalidFieldError):  # the constructor applies the same rules
        new_interaction(draft(InteractionKind.CALL, **changes))


@pytest.mark.parametrize(
    "changes",
    [
        {"subject": "x" * 200},
        {"subject": "Ü"},
        {"due_at": T0},
        {"due_at": T0 + timedelta(days=3)},
        {"occurred_at": datetime(2026, 5, 4, 11, tzinfo=timezone(timedelta(hours=2)))},
        {"status": Status.CLOSED, "resolved_at": T0, "closed_at": T0 + H},
    ],
)
def test_valid_interactions_pass_unchanged(changes: dict[str, Any]) -> None:
    item = draft(InteractionKind.TASK, **changes)
    assert validate_interaction(item) is item
    assert new_interaction(item) == item  # no SLA for a task


# -- SLA due times ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "first", "resolution"),
    [
        (Priority.URGENT, 1, 8),
        (Priority.HIGH, 4, 24),
        (Priority.NORMAL, 8, 72),
        (Priority.LOW, 24, 168),
    ],
)
def test_complaints_get_the_default_sla(priority: Priority, first: int, resolution: int) -> None:
    item = complaint(priority=priority)
    assert item.sla_first_response_due == T0 + first * H
    assert item.sla_resolution_due == T0 + resolution * H
    assert DEFAULT_SLA[priority] == SlaTarget(first * H, resolution * H)


@pytest.mark.parametrize("kind", [k for k in InteractionKind if k is not InteractionKind.COMPLAINT])
def test_other_kinds_get_no_sla(kind: InteractionKind) -> None:
    item = new_interaction(draft(kind))
    assert item.sla_first_response_due is None
    assert item.sla_resolution_due is None
    assert sla_state(item, T0 + 1000 * H) is SlaState.NONE


def test_a_given_policy_replaces_the_default_and_must_cover_the_priority() -> None:
    policy = {Priority.NORMAL: SlaTarget(2 * H, 10 * H)}
    item = new_interaction(draft(), policy)
    assert (item.sla_first_response_due, item.sla_resolution_due) == (T0 + 2 * H, T0 + 10 * H)
    with pytest.raises(InvalidFieldError) as caught:
        new_interaction(draft(priority=Priority.URGENT), policy)
    assert caught.value.field == "priority"


def test_due_times_an_import_carries_are_kept() -> None:
    item = complaint(sla_first_response_due=T0 + 30 * timedelta(minutes=1))
    assert item.sla_first_response_due == T0 + timedelta(minutes=30)
    assert item.sla_resolution_due == T0 + 72 * H


def test_changing_priority_recomputes_a_complaints_sla_from_occurrence() -> None:
    item = change_priority(complaint(), Priority.URGENT)
    assert (item.priority, item.sla_first_response_due) == (Priority.URGENT, T0 + H)
    assert item.sla_resolution_due == T0 + 8 * H
    plain = change_priority(note(), Priority.HIGH)
    assert (plain.priority, plain.sla_resolution_due) == (Priority.HIGH, None)


@pytest.mark.parametrize(
    ("first", "resolution", "field"),
    [(timedelta(0), H, "first_response"), (-H, H, "first_response"), (2 * H, H, "resolution")],
)
def test_sla_targets_must_make_sense(first: timedelta, resolution: timedelta, field: str) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        SlaTarget(first, resolution)
    assert caught.value.field == field


# -- status machine -----------------------------------------------------------------------

ALLOWED = {
    (Status.OPEN, Status.IN_PROGRESS),
    (Status.OPEN, Status.RESOLVED),
    (Status.OPEN, Status.CLOSED),
    (Status.IN_PROGRESS, Status.OPEN),
    (Status.IN_PROGRESS, Status.RESOLVED),
    (Status.IN_PROGRESS, Status.CLOSED),
    (Status.RESOLVED, Status.CLOSED),
    (Status.RESOLVED, Status.OPEN),
    (Status.CLOSED, Status.OPEN),
}

PATH = {
    Status.OPEN: (),
    Status.IN_PROGRESS: (Status.IN_PROGRESS,),
    Status.RESOLVED: (Status.RESOLVED,),
    Status.CLOSED: (Status.RESOLVED, Status.CLOSED),
}


def resolution_for(target: Status) -> str:
    return "Refunded" if target in (Status.RESOLVED, Status.CLOSED) else ""


def in_state(status: Status) -> Interaction:
    item = complaint()
    for step, target in enumerate(PATH[status], start=1):
        item = change_status(item, target, T0 + step * H, resolution_for(target))
    assert item.status is status
    return item


@pytest.mark.parametrize("source", list(Status))
@pytest.mark.parametrize("target", list(Status))
def test_every_transition_is_allowed_or_refused(source: Status, target: Status) -> None:
    item = in_state(source)
    at = T0 + 10 * H
    resolution = resolution_for(target)
    if (source, target) in ALLOWED:
        assert change_status(item, target, at, resolution).status is target
    else:
        with pytest.raises(TransitionError):
            change_status(item, target, at, resolution)


def test_a_complaint_cannot_be_resolved_or_closed_without_a_resolution() -> None:
    for target in (Status.RESOLVED, Status.CLOSED):
        with pytest.raises(InvalidFieldError) as caught:
            change_status(complaint(), target, T0 + H, "  ")
        assert caught.value.field == "resolution"


def test_other_kinds_resolve_without_a_resolution() -> None:
    done = change_status(note(), Status.RESOLVED, T0 + H)
    assert (done.status, done.resolution, done.resolved_at) == (Status.RESOLVED, "", T0 + H)


def test_resolving_and_closing_stamp_times_once() -> None:
    resolved = change_status(complaint(), Status.RESOLVED, T0 + 2 * H, " Refunded ")
    assert (resolved.resolved_at, resolved.closed_at, resolved.resolution) == (
        T0 + 2 * H,
        None,
        "Refunded",
    )
    closed = change_status(resolved, Status.CLOSED, T0 + 5 * H)
    assert (closed.resolved_at, closed.closed_at, closed.resolution) == (
        T0 + 2 * H,
        T0 + 5 * H,
        "Refunded",
    )


def test_closing_an_unresolved_interaction_resolves_it_at_the_same_moment() -> None:
    closed = change_status(complaint(), Status.CLOSED, T0 + 3 * H, "Goodwill voucher")
    assert closed.resolved_at == closed.closed_at == T0 + 3 * H
    assert closed.first_response_at == T0 + 3 * H


@pytest.mark.parametrize("source", [Status.RESOLVED, Status.CLOSED, Status.IN_PROGRESS])
def test_reopening_clears_the_resolution_but_keeps_response_and_sla(source: Status) -> None:
    item = in_state(source)
    reopened = change_status(item, Status.OPEN, T0 + 10 * H)
    assert reopened.status is Status.OPEN
    assert (reopened.resolved_at, reopened.closed_at, reopened.resolution) == (None, None, "")
    assert reopened.first_response_at == item.first_response_at is not None
    assert reopened.sla_resolution_due == item.sla_resolution_due


def test_first_response_is_stamped_once_when_a_complaint_first_leaves_open() -> None:
    started = change_status(complaint(), Status.IN_PROGRESS, T0 + H)
    assert started.first_response_at == T0 + H
    back = change_status(started, Status.OPEN, T0 + 2 * H)
    again = change_status(back, Status.IN_PROGRESS, T0 + 3 * H)
    assert again.first_response_at == T0 + H


def test_a_note_leaving_open_records_no_first_response() -> None:
    assert change_status(note(), Status.IN_PROGRESS, T0 + H).first_response_at is None


def test_status_changes_cannot_be_backdated_or_naive() -> None:
    resolved = change_status(complaint(), Status.RESOLVED, T0 + 5 * H, "Refunded")
    for at in (T0 + 4 * H, NAIVE + 6 * H):
        with pytest.raises(InvalidFieldError) as caught:
            change_status(resolved, Status.CLOSED, at)
        assert caught.value.field == "at"
    with pytest.raises(InvalidFieldError):
        change_status(complaint(), Status.IN_PROGRESS, T0 - H)


def test_a_resolution_is_only_taken_when_resolving() -> None:
    with pytest.raises(InvalidFieldError) as caught:
        change_status(complaint(), Status.IN_PROGRESS, T0 + H, "Refunded")
    assert caught.value.field == "resolution"


# -- responses and SLA state --------------------------------------------------------------


def test_record_response_keeps_the_first_and_does_not_move_the_status() -> None:
    item = complaint()
    first = record_response(item, T0 + 2 * H)
    assert (first.first_response_at, first.status) == (T0 + 2 * H, Status.OPEN)
    assert record_response(first, T0 + 3 * H) is first
    assert time_to_first_response(first) == 2 * H
    for at in (T0 - H, NAIVE + H):
        with pytest.raises(InvalidFieldError):
            record_response(item, at)


HIGH = {"priority": Priority.HIGH}  # 4 h first response, 24 h resolution


@pytest.mark.parametrize(
    ("responded", "resolved", "now", "state"),
    [
        (None, None, T0 + H, SlaState.ON_TRACK),
        (None, None, T0 + 3 * H, SlaState.ON_TRACK),  # exactly 25% left
        (None, None, T0 + 3 * H + timedelta(seconds=1), SlaState.AT_RISK),
        (None, None, T0 + 4 * H, SlaState.AT_RISK),  # due now: not yet late
        (None, None, T0 + 4 * H + timedelta(seconds=1), SlaState.BREACHED),
        (T0 + 2 * H, None, T0 + 17 * H, SlaState.ON_TRACK),  # 7 h of 24 left
        (T0 + 2 * H, None, T0 + 19 * H, SlaState.AT_RISK),  # 5 h of 24 left
        (T0 + 2 * H, None, T0 + 25 * H, SlaState.BREACHED),
        (T0 + 5 * H, None, T0 + 6 * H, SlaState.BREACHED),  # answered late
        (T0 + 4 * H, T0 + 24 * H, T0 + 99 * H, SlaState.MET),  # both on the dot
        (T0 + 2 * H, T0 + 25 * H, T0 + 99 * H, SlaState.BREACHED),  # resolved late
        (T0 + 5 * H, T0 + 6 * H, T0 + 99 * H, SlaState.BREACHED),  # resolved in time, late reply
    ],
)
def test_sla_state(
    responded: datetime | None, resolved: datetime | None, now: datetime, state: SlaState
) -> None:
    item = complaint(**HIGH)
    if responded is not None:
        item = record_response(item, responded)
    if resolved is not None:
        item = change_status(item, Status.RESOLVED, resolved, "Refunded")
    assert sla_state(item, now) is state


def test_a_reopened_complaint_can_still_breach() -> None:
    met = change_status(complaint(**HIGH), Status.RESOLVED, T0 + H, "Refunded")
    assert sla_state(met, T0 + 30 * H) is SlaState.MET
    reopened = change_status(met, Status.OPEN, T0 + 2 * H)
    assert sla_state(reopened, T0 + 30 * H) is SlaState.BREACHED


def test_sla_state_needs_an_aware_now() -> None:
    with pytest.raises(InvalidFieldError) as caught:
        sla_state(complaint(), NAIVE)
    assert caught.value.field == "now"


def test_durations_are_none_until_reached() -> None:
    item = complaint()
    assert time_to_first_response(item) is None
    assert time_to_resolution(item) is None
    done = change_status(item, Status.RESOLVED, T0 + 7 * H, "Refunded")
    assert time_to_first_response(done) == time_to_resolution(done) == 7 * H


# -- properties ---------------------------------------------------------------------------


@given(
    steps=st.lists(st.tuples(st.sampled_from(list(Status)), st.integers(0, 5 * 3600)), max_size=12),
    kind=st.sampled_from([InteractionKind.COMPLAINT, InteractionKind.INQUIRY]),
)
def test_any_walk_keeps_the_records_consistent(
    steps: list[tuple[Status, int]], kind: InteractionKind
) -> None:
    item = new_interaction(draft(kind))
    at = T0
    first_response: datetime | None = None
    for target, seconds in steps:
        at += timedelta(seconds=seconds)
        if (item.status, target) not in ALLOWED:
            with pytest.raises(TransitionError):
                change_status(item, target, at, "Done")
            continue
        resolution = "Done" if target in (Status.RESOLVED, Status.CLOSED) else ""
        item = change_status(item, target, at, resolution)
        assert item.status is target
        validate_interaction(item)
        assert (item.resolved_at is None) == (target in (Status.OPEN, Status.IN_PROGRESS))
        assert (item.closed_at is None) == (target is not Status.CLOSED)
        if kind is InteractionKind.COMPLAINT:
            first_response = first_response or at
            assert item.first_response_at == first_response
        else:
            assert item.first_response_at is None
    assert sla_state(item, at) in SlaState
