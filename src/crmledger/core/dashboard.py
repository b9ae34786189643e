"""The home dashboard's figures: key figures beside the period they are compared with, and
the series its charts draw. Pure values and rules; the service reads the book.

A period is cut into its calendar months (the first and last may be part months), so the
monthly series add up to the period's figure::

    >>> [p.label for p in months_of(Period(date(2026, 1, 15), date(2026, 3, 10)))]
    ['2026-01-15..2026-01-31', '2026-02', '2026-03-01..2026-03-10']
    >>> bucket_of(date(2026, 5, 20), date(2026, 6, 30), (30, 60, 90))   # 41 days overdue
    2
    >>> nps_of(promoters=6, detractors=2, responses=10)
    Decimal('40.0')

Open invoices are aged by days overdue: bucket 0 is not yet due (or has no due day), then
1 to 30 days, 31 to 60, 61 to 90 and more than 90 (the bounds are the settling service's).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from crmledger.core.money import quantize
from crmledger.core.statement_periods import Period, add_months, month_end

#: The upper bounds of the overdue buckets, in days.
AGING_BOUNDS = (30, 60, 90)


@dataclass(frozen=True, slots=True)
class Kpi:
    """A key figure and the same figure for the comparison period (``None`` when the book
    cannot say: an NPS without answers, a DSO without sales, the overdue part of a day
    gone by)."""

    key: str
    label: str
    value: Decimal | None
    previous: Decimal | None = None
    unit: str = "money"

    @property
    def change(self) -> Decimal | None:
        """``value - previous``, when both are known."""
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """Revenue and gross margin of one month (or part of one) of the period."""

    period: Period
    revenue: Decimal
    gross_margin: Decimal

    @property
    def month(self) -> str:
        """``2026-05``."""
        return self.period.start.strftime("%Y-%m")


@dataclass(frozen=True, slots=True)
class AgingBucket:
    """Open invoices by days overdue: ``low`` to ``high`` days (``None``: no bound; bucket
    0, not yet due, has neither)."""

    index: int
    label: str
    low: int | None
    high: int | None
    documents: int
    amount: Decimal

    @property
    def overdue(self) -> bool:
        """Whether these invoices are past due."""
        return self.index > 0


@dataclass(frozen=True, slots=True)
class StageFigures:
    """Open deals of one pipeline stage, in the base currency: their amounts and their
    amounts weighted by the chance each is won."""

    pipeline: str
    pipeline_name: str
    stage: str
    name: str
    deals: int
    amount: Decimal
    weighted: Decimal


@dataclass(frozen=True, slots=True)
class NpsMonth:
    """How the NPS answers of one month scored."""

    month: str
    responses: int
    promoters: int
    detractors: int

    @property
    def passives(self) -> int:
        """Answers of 7 or 8."""
        return self.responses - self.promoters - self.detractors

    @property
    def score(self) -> Decimal | None:
        """The month's NPS."""
        return nps_of(self.promoters, self.detractors, self.responses)


@dataclass(frozen=True, slots=True)
class CustomerMargin:
    """A customer's revenue (invoices less credit notes, net) and cost of goods in the
    period, in the base currency."""

    party_id: int
    name: str
    revenue: Decimal
    cost_of_goods: Decimal

    @property
    def gross_margin(self) -> Decimal:
        """Revenue less cost of goods."""
        return self.revenue - self.cost_of_goods


@dataclass(frozen=True, slots=True)
class FlowStep:
    """A bar of the cash-flow waterfall: a level (``total``: cash at the start or the end)
    or a flow between levels; ``key`` is the cash-flow statement's row."""

    key: str
    label: str
    amount: Decimal
    total: bool = False


def months_of(period: Period) -> tuple[Period, ...]:
    """The calendar months ``period`` touches, cut to the period."""
    pieces = []
    start = period.start
    while start <= period.end:
        end = min(month_end(start), period.end)
        pieces.append(Period(start, end))
        start = add_months(start.replace(day=1), 1)
    return tuple(pieces)


def bucket_of(due_on: date | None, today: date, bounds: Sequence[int] = AGING_BOUNDS) -> int:
    """The aging bucket of an invoice due on ``due_on``, seen on ``today``."""
    if due_on is None or due_on >= today:
        return 0
    days = (today - due_on).days
    return 1 + sum(1 for bound in bounds if days > bound)


def bucket_labels(bounds: Sequence[int] = AGING_BOUNDS) -> list[tuple[str, int | None, int | None]]:
    """Each bucket's label and day bounds: ``("1-30 days", 1, 30)`` ... ``("over 90
    days", 91, None)``."""
    labels: list[tuple[str, int | None, int | None]] = [("Not yet due", None, None)]
    low = 1
    for bound in bounds:
        labels.append((f"{low}-{bound} days", low, bound))
        low = bound + 1
    labels.append((f"Over {bounds[-1]} days", low, None))
    return labels


def aging(
    rows: Iterable[tuple[date | None, int, Decimal]],
    today: date,
    zero: Decimal,
    bounds: Sequence[int] = AGING_BOUNDS,
) -> tuple[AgingBucket, ...]:
    """Buckets of ``(due day, documents, amount owed)`` rows, every bucket shown."""
    counts = [0] * (len(bounds) + 2)
    sums = [zero] * (len(bounds) + 2)
    for due_on, documents, amount in rows:
        index = bucket_of(due_on, today, bounds)
        counts[index] += documents
        sums[index] += amount
    return tuple(
        AgingBucket(i, label, low, high, counts[i], sums[i])
        for i, (label, low, high) in enumerate(bucket_labels(bounds))
    )


def nps_of(promoters: int, detractors: int, responses: int) -> Decimal | None:
    """%promoters - %detractors, one decimal, half-even (as ``core.crm.satisfaction.nps``);
    ``None`` without answers."""
    if not responses:
        return None
    return quantize(Decimal(promoters - detractors) * 100 / Decimal(responses), 1)


def weighted(amount_bp_minor: int) -> int:
    """Minor units of ``amount * probability`` summed in basis points, rounded half-even."""
    return int(quantize(Decimal(amount_bp_minor) / 10_000, 0))


def day_before(day: date) -> date:
    """The day before ``day``."""
    return day - timedelta(days=1)
