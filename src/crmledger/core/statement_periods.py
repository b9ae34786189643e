"""Reporting periods and the comparison columns a statement can show beside its own.

A period is two days, both included. Periods of whole months shift by whole months, so the
period before a quarter is the previous quarter and the period before a year is the year
before; any other period shifts by its own length in days::

    >>> main = Period(date(2026, 4, 1), date(2026, 6, 30))
    >>> previous_period(main)
    Period(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 3, 31))
    >>> same_period_last_year(main)
    Period(start=datetime.date(2025, 4, 1), end=datetime.date(2025, 6, 30))
    >>> [p.label for p in comparisons(main, "previous,last-year,2024-01-01..2024-12-31")]
    ['2026-01-01..2026-03-31', '2025-04-01..2025-06-30', '2024']

The fiscal year is the calendar year (entries are numbered per calendar year too).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from crmledger.core.errors import InvalidFieldError

#: Most comparison columns a statement shows beside its own.
MAX_COMPARISONS = 4
#: The years a period may lie in (a book's dates, with room to compare).
FIRST_YEAR, LAST_YEAR = 1900, 2999


@dataclass(frozen=True, slots=True)
class Period:
    """From ``start`` to ``end``, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        for name, day in (("from", self.start), ("to", self.end)):
            if not FIRST_YEAR <= day.year <= LAST_YEAR:
                raise InvalidFieldError(
                    name, f"{day.isoformat()} is outside the years {FIRST_YEAR}-{LAST_YEAR}"
                )
        if self.end < self.start:
            raise InvalidFieldError(
                "to",
                f"the period ends ({self.end.isoformat()}) before it starts "
                f"({self.start.isoformat()})",
            )

    @property
    def whole_months(self) -> bool:
        """Whether the period starts on a first and ends on a last day of a month."""
        return self.start.day == 1 and self.end == month_end(self.end)

    @property
    def months(self) -> int:
        """How many calendar months the period touches."""
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    @property
    def label(self) -> str:
        """``2026`` for a calendar year, ``2026-03`` for a month, else ``FROM..TO``."""
        if self.whole_months and self.start.month == 1 and self.months == 12:
            return str(self.start.year)
        if self.whole_months and self.months == 1:
            return self.start.strftime("%Y-%m")
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: date, months: int, *, to_month_end: bool = False) -> date:
    """``day`` moved by ``months``; the day of the month is clipped to the month's length,
    or set to its last day when ``to_month_end``."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, last if to_month_end else min(day.day, last))


def year_period(year: int) -> Period:
    """The calendar (fiscal) year ``year``."""
    return Period(date(year, 1, 1), date(year, 12, 31))


def year_start(day: date) -> date:
    """The first day of ``day``'s fiscal year."""
    return date(day.year, 1, 1)


def previous_period(period: Period) -> Period:
    """The period of the same length that ends the day before ``period`` starts."""
    if period.whole_months:
        months = period.months
        return Period(
            add_months(period.start, -months), add_months(period.end, -months, to_month_end=True)
        )
    length = period.end - period.start
    end = period.start - timedelta(days=1)
    return Period(end - length, end)


def same_period_last_year(period: Period) -> Period:
    """``period`` one year earlier (a period ending on 29 February ends on the 28th)."""
    return Period(
        add_months(period.start, -12),
        add_months(period.end, -12, to_month_end=period.end == month_end(period.end)),
    )


def parse_range(text: str, field: str = "compare") -> Period:
    """``YYYY-MM-DD..YYYY-MM-DD`` as a period."""
    first, sep, last = text.partition("..")
    try:
        if not sep:
            raise ValueError(text)
        return Period(date.fromisoformat(first.strip()), date.fromisoformat(last.strip()))
    except ValueError:
        raise InvalidFieldError(
            field, f"{text!r} is neither previous, last-year nor YYYY-MM-DD..YYYY-MM-DD"
        ) from None


def comparison(period: Period, name: str) -> Period:
    """The comparison period ``name`` says: ``previous``, ``last-year`` or a range."""
    name = name.strip()
    if name == "previous":
        return previous_period(period)
    if name in ("last-year", "last_year"):
        return same_period_last_year(period)
    return parse_range(name)


def comparisons(period: Period, spec: str | None) -> tuple[Period, ...]:
    """The comparison periods of a comma-separated ``spec`` (empty: none), in order."""
    names = [t for t in (spec or "").split(",") if t.strip()]
    if len(names) > MAX_COMPARISONS:
        raise InvalidFieldError(
            "compare", f"at most {MAX_COMPARISONS} comparison columns, not {len(names)}"
        )
    return tuple(comparison(period, name) for name in names)
