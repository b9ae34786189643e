"""Customer intelligence: RFM segments, cohort retention, lifetime value, payment behaviour
and receivables KPIs, as pure functions over plain values (churn risk: :mod:`.churn`).

Every figure is explainable from its inputs; nothing is learned or hidden.

**RFM.** Each customer with a purchase gets a recency (days since its last invoice), a
frequency (invoices) and a monetary value (net revenue in the base currency). Each measure is
cut into quintiles by four nearest-rank boundaries taken from the worst value to the best, and
a customer scores ``1 +`` the number of boundaries it beats (ties score alike)::

    >>> acts = [CustomerActivity(i, date(2026, 6, 30) - timedelta(days=10 * i), i, Decimal(i))
    ...         for i in range(1, 6)]
    >>> breaks = rfm_breaks(acts, date(2026, 6, 30))
    >>> breaks.recency, breaks.frequency
    ((50, 40, 30, 20), (1, 2, 3, 4))
    >>> best = rfm_score(acts[0], breaks, date(2026, 6, 30))
    >>> (best.r, best.f, best.m, best.segment)
    (5, 1, 1, 'New customers')

The segment comes from the recency and frequency scores on the usual RFM grid
(:data:`SEGMENTS`); the monetary score orders customers within a segment.

**Cohorts.** Customers are grouped by the month of their first invoice; ``active[k]`` counts
the cohort's customers who bought ``k`` months later (:func:`cohorts`).

**Lifetime value.** ``monthly margin * expected lifetime``: the customer's gross margin to
date per month since its first purchase, times the expected number of months it stays, from a
monthly retention rate ``r`` and a monthly discount rate ``d`` over a horizon of ``H`` months:
``Σ_{t=0..H-1} (r / (1 + d))^t`` (which is ``1 / (1 - r)`` without discount or horizon)::

    >>> clv = lifetime_value(Decimal("1200"), 12, Decimal("0.9"), "default",
    ...                      Decimal(0), 3, 2)
    >>> clv.assumptions.monthly_margin, clv.expected_lifetime_months, clv.value
    (Decimal('100.00'), Decimal('2.71'), Decimal('271.00'))

**Churn risk** is :mod:`crmledger.core.churn`: a score 0..100 from recency, payment
behaviour, complaints and satisfaction, with its drivers.

**Receivables.** :func:`dso` (days sales outstanding), :func:`collection_effectiveness`
(CEI) and :func:`concentration` (top-N share of revenue and the Herfindahl-Hirschman index).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

from crmledger.core.money import quantize

ONE_PLACE = 1
QUINTILES = 5
HUNDRED = Decimal(100)
#: A measure RFM cuts into quintiles.
Q = TypeVar("Q", int, Decimal)

# -- months ---------------------------------------------------------------------------------


def month_index(day: date) -> int:
    """A month as one number (``year * 12 + month - 1``), so months subtract."""
    return day.year * 12 + day.month - 1


def month_label(index: int) -> str:
    """``2026-05`` for the month index of May 2026."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_of_key(key: int) -> int:
    """The month index of a ``yyyymm`` key (``202605``)."""
    return (key // 100) * 12 + key % 100 - 1


def _mean(values: Sequence[int]) -> Decimal:
    return Decimal(sum(values)) / len(values)


# -- RFM ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomerActivity:
    """What RFM needs of one customer: its last purchase, how many invoices, and its net
    revenue in the base currency."""

    party_id: int
    last_purchase: date
    purchases: int
    revenue: Decimal


@dataclass(frozen=True, slots=True)
class RfmBreaks:
    """The four quintile boundaries of each measure over ``customers`` customers, each from
    the worst value towards the best (recency in days: highest first)."""

    customers: int
    recency: tuple[int, ...]
    frequency: tuple[int, ...]
    monetary: tuple[Decimal, ...]


#: The segments of the R x F grid, in the order a report lists them, with what they mean.
SEGMENTS: dict[str, str] = {
    "Champions": "bought recently, buy often",
    "Loyal customers": "buy often, fairly recently",
    "Potential loyalists": "recent, a few purchases",
    "New customers": "first purchase very recently",
    "Promising": "recent, one purchase",
    "Need attention": "average recency and frequency",
    "About to sleep": "fading, few purchases",
    "At risk": "bought often, not lately",
    "Can't lose them": "bought most often, long ago",
    "Hibernating": "few purchases, long ago",
}


def segment(r: int, f: int) -> str:
    """The RFM segment of a recency and a frequency score (1..5 each)."""
    if r <= 2:
        return "Hibernating" if f <= 2 else ("At risk" if f <= 4 else "Can't lose them")
    if r == 3:
        return "About to sleep" if f <= 2 else ("Need attention" if f == 3 else "Loyal customers")
    if f >= 4:
        return "Champions" if r == 5 else "Loyal customers"
    if f >= 2:
        return "Potential loyalists"
    return "New customers" if r == 5 else "Promising"


def quintile_breaks(values: Iterable[Q], lower_is_better: bool) -> tuple[Q, ...]:
    """The four nearest-rank quintile boundaries of ``values``, worst first (none without
    values)."""
    ordered = sorted(values, reverse=lower_is_better)
    n = len(ordered)
    if not n:
        return ()
    return tuple(ordered[math.ceil(k * n / QUINTILES) - 1] for k in range(1, QUINTILES))


def quintile(value: Q, breaks: Sequence[Q], lower_is_better: bool) -> int:
    """1 + the boundaries ``value`` beats (strictly): 1 (worst fifth) .. 5 (best fifth)."""
    if lower_is_better:
        return 1 + sum(1 for b in breaks if value < b)
    return 1 + sum(1 for b in breaks if value > b)


@dataclass(frozen=True, slots=True)
class RfmScore:
    """One customer's RFM measures, scores and segment."""

    party_id: int
    recency_days: int
    frequency: int
    monetary: Decimal
    r: int
    f: int
    m: int
    segment: str

    @property
    def code(self) -> str:
        """The three scores as one code, ``"543"``."""
        return f"{self.r}{self.f}{self.m}"


def _recency(activity: CustomerActivity, today: date) -> int:
    return max(0, (today - activity.last_purchase).days)


def rfm_breaks(activity: Sequence[CustomerActivity], today: date) -> RfmBreaks:
    """The quintile boundaries of the customers in ``activity`` on ``today``."""
    return RfmBreaks(
        customers=len(activity),
        recency=quintile_breaks((_recency(a, today) for a in activity), lower_is_better=True),
        frequency=quintile_breaks((a.purchases for a in activity), lower_is_better=False),
        monetary=quintile_breaks((a.revenue for a in activity), lower_is_better=False),
    )


def rfm_score(activity: CustomerActivity, breaks: RfmBreaks, today: date) -> RfmScore:
    """``activity`` scored against ``breaks``."""
    days = _recency(activity, today)
    r = quintile(days, breaks.recency, lower_is_better=True)
    f = quintile(activity.purchases, breaks.frequency, lower_is_better=False)
    m = quintile(activity.revenue, breaks.monetary, lower_is_better=False)
    return RfmScore(
        activity.party_id, days, activity.purchases, activity.revenue, r, f, m, segment(r, f)
    )


def rfm_scores(
    activity: Sequence[CustomerActivity], today: date
) -> tuple[RfmBreaks, list[RfmScore]]:
    """The boundaries and every customer's score, by party id."""
    breaks = rfm_breaks(activity, today)
    scores = [rfm_score(a, breaks, today) for a in activity]
    return breaks, sorted(scores, key=lambda s: s.party_id)


@dataclass(frozen=True, slots=True)
class SegmentSummary:
    """How many customers a segment holds and the revenue they brought."""

    segment: str
    description: str
    customers: int
    revenue: Decimal
    share: Decimal


def segment_summary(scores: Sequence[RfmScore]) -> list[SegmentSummary]:
    """Customers and revenue per segment (every segment, in :data:`SEGMENTS` order), with
    the segment's share of all revenue in percent."""
    total = sum((s.monetary for s in scores), Decimal(0))
    rows = []
    for name, description in SEGMENTS.items():
        mine = [s for s in scores if s.segment == name]
        revenue = sum((s.monetary for s in mine), Decimal(0))
        share = quantize(revenue * HUNDRED / total, ONE_PLACE) if total else Decimal(0)
        rows.append(SegmentSummary(name, description, len(mine), revenue, share))
    return rows


# -- cohorts --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cohort:
    """The customers whose first invoice fell in ``month`` and how many of them bought again
    ``k`` months later (``active[0]`` is the cohort's size)."""

    month: int
    active: tuple[int, ...]

    @property
    def label(self) -> str:
        """The cohort's month as ``2026-05``."""
        return month_label(self.month)

    @property
    def customers(self) -> int:
        """The cohort's size."""
        return self.active[0]

    @property
    def retention(self) -> tuple[Decimal, ...]:
        """``active[k]`` as a percentage of the cohort, one decimal."""
        return tuple(
            quantize(Decimal(a) * HUNDRED / self.customers, ONE_PLACE) for a in self.active
        )


def first_months(activity: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Each party's first month of ``(party, month index)`` activity."""
    first: dict[int, int] = {}
    for party, month in activity:
        if party not in first or month < first[party]:
            first[party] = month
    return first


def cohorts(
    activity: Iterable[tuple[int, int]],
    through: int,
    start: int | None = None,
    end: int | None = None,
) -> list[Cohort]:
    """Cohorts of ``(party, month index)`` purchase activity, oldest first: each party
    belongs to the month of its first purchase (over all the activity); ``active`` runs up
    to month ``through``. ``start`` and ``end`` keep cohorts of those months only."""
    pairs = set(activity)
    first = first_months(pairs)
    counts: dict[int, list[int]] = {}
    for party, month in pairs:
        cohort = first[party]
        if month > through or (start is not None and cohort < start):
            continue
        if end is not None and cohort > end:
            continue
        row = counts.setdefault(cohort, [0] * (through - cohort + 1))
        row[month - cohort] += 1
    return [Cohort(month, tuple(counts[month])) for month in sorted(counts)]


@dataclass(frozen=True, slots=True)
class Retention:
    """Observed retention: of the ``base`` customers who bought in the 12 months before the
    last 12, ``kept`` bought again in the last 12; ``monthly`` is the annual rate's 12th
    root (None without such customers)."""

    base: int
    kept: int
    annual: Decimal | None
    monthly: Decimal | None


def observed_retention(activity: Iterable[tuple[int, int]], through: int) -> Retention:
    """Year-on-year retention of ``(party, month index)`` activity up to month ``through``."""
    earlier: set[int] = set()
    later: set[int] = set()
    for party, month in activity:
        if through - 23 <= month <= through - 12:
            earlier.add(party)
        elif through - 11 <= month <= through:
            later.add(party)
    if not earlier:
        return Retention(0, 0, None, None)
    kept = len(earlier & later)
    annual = Decimal(kept) / len(earlier)
    monthly = annual ** (Decimal(1) / 12) if annual else Decimal(0)
    return Retention(len(earlier), kept, quantize(annual, 4), quantize(monthly, 4))


# -- lifetime value -------------------------------------------------------------------------

#: The monthly retention assumed while the book cannot observe one (fewer than
#: :data:`MIN_RETENTION_BASE` customers bought in the year before the last).
DEFAULT_MONTHLY_RETENTION = Decimal("0.95")
MIN_RETENTION_BASE = 20
#: The annual rate future margin is discounted at, and how far ahead lifetime value looks.
ANNUAL_DISCOUNT_RATE = Decimal("0.10")
HORIZON_MONTHS = 60


@dataclass(frozen=True, slots=True)
class ClvAssumptions:
    """What a lifetime value rests on, shown with it."""

    margin_to_date: Decimal
    months_active: int
    monthly_margin: Decimal
    monthly_retention: Decimal
    retention_source: str
    annual_discount_rate: Decimal
    horizon_months: int


@dataclass(frozen=True, slots=True)
class LifetimeValue:
    """``value = monthly_margin * expected_lifetime_months`` (both rounded as shown)."""

    value: Decimal
    expected_lifetime_months: Decimal
    assumptions: ClvAssumptions
    formula: str = "monthly margin * Σ_{t=0..H-1} (r / (1 + d))^t"


def expected_lifetime(retention: Decimal, annual_discount: Decimal, horizon: int) -> Decimal:
    """``Σ_{t=0..H-1} q^t`` with ``q = r / (1 + d)``, ``d`` the monthly discount rate
    equivalent to ``annual_discount``."""
    monthly_discount = (1 + annual_discount) ** (Decimal(1) / 12) - 1
    q = retention / (1 + monthly_discount)
    if q == 1:
        return Decimal(horizon)
    return (1 - q**horizon) / (1 - q)


def lifetime_value(
    margin_to_date: Decimal,
    months_active: int,
    retention: Decimal,
    retention_source: str,
    annual_discount: Decimal,
    horizon: int,
    scale: int,
) -> LifetimeValue:
    """A customer's lifetime value from its margin to date over ``months_active`` months
    (at least 1), a monthly ``retention`` rate, an annual discount rate and a horizon in
    months; money rounded half-even to ``scale`` places, the lifetime to two."""
    months = max(1, months_active)
    monthly = quantize(margin_to_date / months, scale)
    lifetime = quantize(expected_lifetime(retention, annual_discount, horizon), 2)
    assumptions = ClvAssumptions(
        margin_to_date, months, monthly, retention, retention_source, annual_discount, horizon
    )
    return LifetimeValue(quantize(monthly * lifetime, scale), lifetime, assumptions)


# -- payment behaviour ----------------------------------------------------------------------

#: How many of the latest paid invoices make "recent" in the days-to-pay trend.
RECENT_PAID = 3
#: A trend within this many days either way is "steady".
STEADY_DAYS = Decimal(2)


@dataclass(frozen=True, slots=True)
class PaymentBehaviour:
    """How many days a customer took to pay its paid invoices: on average, for the latest
    three, for the ones before, and the trend (latest minus earlier; positive is slower)."""

    paid: int
    average: Decimal | None
    recent: Decimal | None
    earlier: Decimal | None
    trend: Decimal | None

    @property
    def direction(self) -> str | None:
        """``slower``, ``faster`` or ``steady`` (None without a trend)."""
        if self.trend is None:
            return None
        if self.trend >= STEADY_DAYS:
            return "slower"
        return "faster" if self.trend <= -STEADY_DAYS else "steady"


def days_to_pay(paid: Sequence[tuple[date, date]]) -> PaymentBehaviour:
    """Payment behaviour of ``(issued, settled)`` pairs in issue order; one decimal,
    half-even. The trend needs at least one invoice before the latest three."""
    days = [(settled - issued).days for issued, settled in paid]
    if not days:
        return PaymentBehaviour(0, None, None, None, None)
    average = quantize(_mean(days), ONE_PLACE)
    if len(days) <= RECENT_PAID:
        return PaymentBehaviour(len(days), average, None, None, None)
    recent = quantize(_mean(days[-RECENT_PAID:]), ONE_PLACE)
    earlier = quantize(_mean(days[:-RECENT_PAID]), ONE_PLACE)
    return PaymentBehaviour(len(days), average, recent, earlier, recent - earlier)


def usual_gap(first: date, last: date, purchases: int) -> Decimal | None:
    """The average days between consecutive purchases, ``(last - first) / (purchases - 1)``,
    one decimal (None with fewer than two purchases)."""
    if purchases < 2:
        return None
    return quantize(Decimal((last - first).days) / (purchases - 1), ONE_PLACE)


# -- receivables ----------------------------------------------------------------------------


def dso(receivables: Decimal, credit_sales: Decimal, days: int) -> Decimal | None:
    """Days sales outstanding: ``receivables / credit sales * days`` over the last ``days``
    days, one decimal (None without sales)."""
    if credit_sales <= 0:
        return None
    return quantize(receivables / credit_sales * days, ONE_PLACE)


def collection_effectiveness(
    opening: Decimal, credit_sales: Decimal, closing: Decimal, closing_current: Decimal
) -> Decimal | None:
    """Collection effectiveness index in percent, one decimal:
    ``(opening + sales - closing) / (opening + sales - closing current) * 100``: what was
    collected of what could have been (None when nothing could)."""
    collectible = opening + credit_sales - closing_current
    if collectible <= 0:
        return None
    return quantize((opening + credit_sales - closing) / collectible * HUNDRED, ONE_PLACE)


@dataclass(frozen=True, slots=True)
class Concentration:
    """How concentrated revenue is: the share (percent) of the top ``n`` customers for each
    ``n`` of ``top``, and the Herfindahl-Hirschman index (sum of squared percentage shares,
    0..10,000; above 2,500 is highly concentrated)."""

    customers: int
    total: Decimal
    top: tuple[tuple[int, Decimal], ...]
    herfindahl: Decimal


def concentration(revenues: Iterable[Decimal], top: Sequence[int] = (1, 5, 10)) -> Concentration:
    """The concentration of the customers' positive ``revenues``."""
    values = sorted((r for r in revenues if r > 0), reverse=True)
    total = sum(values, Decimal(0))
    if not total:
        return Concentration(0, total, tuple((n, Decimal(0)) for n in top), Decimal(0))
    shares = tuple(
        (n, quantize(sum(values[:n], Decimal(0)) * HUNDRED / total, ONE_PLACE)) for n in top
    )
    hhi = sum(((v * HUNDRED / total) ** 2 for v in values), Decimal(0))
    return Concentration(len(values), total, shares, quantize(hhi, 0))


def days_between(start: date, end: date) -> int:
    """Whole days from ``start`` to ``end``, never negative."""
    return max(0, (end - start).days)


def window_start(today: date, days: int) -> date:
    """The first day of the ``days`` days that end with ``today``."""
    return today - timedelta(days=days - 1)
