"""Recurring vendor bills: the same bill from a vendor every month, quarter or year.

A schedule bills on dates counted from its start (like a contract, so one started on the
31st bills on the last day of short months and returns to the 31st), up to its optional
end, inclusive. ``next_on`` is the first date not billed yet::

    >>> s = BillSchedule(frequency=Frequency.MONTHLY, starts_on=date(2026, 1, 31),
    ...                  ends_on=date(2026, 4, 15), next_on=date(2026, 1, 31))
    >>> [d.isoformat() for d in due_dates(s, date(2026, 12, 31))]
    ['2026-01-31', '2026-02-28', '2026-03-31']
    >>> following(s, date(2026, 3, 31))
    datetime.date(2026, 4, 30)

Each due date is billed once: the store keeps one run per schedule and date, so a billing
run repeated for the same day, or two running at once, bill nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from crmledger.core.crm.contracts import Frequency, billing_date, period_index
from crmledger.core.errors import InvalidFieldError

__all__ = ["BillSchedule", "Frequency", "ScheduleStatus", "due_dates", "following", "validate"]

#: Most bills one schedule issues in one run (a schedule started decades ago is an error).
MAX_DUE = 1000


class ScheduleStatus(StrEnum):
    """Whether a schedule still bills."""

    ACTIVE = "active"
    ENDED = "ended"


@dataclass(frozen=True, slots=True, kw_only=True)
class BillSchedule:
    """When a recurring bill falls due."""

    frequency: Frequency
    starts_on: date
    ends_on: date | None
    next_on: date
    status: ScheduleStatus = ScheduleStatus.ACTIVE


def validate(schedule: BillSchedule) -> BillSchedule:
    """``schedule`` if its dates make sense, else :class:`InvalidFieldError`."""
    if schedule.ends_on is not None and schedule.ends_on < schedule.starts_on:
        raise InvalidFieldError("ends_on", "the end lies before the start")
    if period_index(schedule.starts_on, schedule.next_on, schedule.frequency) is None:
        raise InvalidFieldError("next_on", "is not a billing date of the schedule")
    return schedule


def _index(schedule: BillSchedule, day: date) -> int:
    index = period_index(schedule.starts_on, day, schedule.frequency)
    if index is None:
        raise InvalidFieldError("next_on", f"{day.isoformat()} is not a billing date")
    return index


def _billing_date(schedule: BillSchedule, index: int) -> date | None:
    """The billing date of period ``index``, or None past the calendar's last year."""
    try:
        return billing_date(schedule.starts_on, index, schedule.frequency)
    except ValueError:
        return None


def following(schedule: BillSchedule, day: date) -> date | None:
    """The billing date after ``day`` (itself one); None when the calendar has none."""
    return _billing_date(schedule, _index(schedule, day) + 1)


def ended_after(schedule: BillSchedule, day: date) -> bool:
    """Whether nothing is billed after ``day``: the next date lies past the end."""
    after = following(schedule, day)
    return after is None or (schedule.ends_on is not None and after > schedule.ends_on)


def due_dates(schedule: BillSchedule, through: date) -> list[date]:
    """Dates from ``next_on`` up to ``through`` and the end (both inclusive)."""
    if schedule.status is not ScheduleStatus.ACTIVE:
        return []
    index = _index(schedule, schedule.next_on)
    due: list[date] = []
    day: date | None = schedule.next_on
    while (
        day is not None and day <= through and (schedule.ends_on is None or day <= schedule.ends_on)
    ):
        if len(due) == MAX_DUE:
            raise InvalidFieldError("through", f"more than {MAX_DUE} bills of one schedule")
        due.append(day)
        index += 1
        day = _billing_date(schedule, index)
    return due
