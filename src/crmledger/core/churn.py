"""Churn risk: a score 0..100 and the drivers it is the sum of, each explained.

Five capped contributions (:class:`ChurnModel` holds the caps and yardsticks, which add up
to 100): recency against the customer's usual gap between purchases, a slowing payment
trend, the oldest overdue invoice, recent and open complaints, and a low NPS answer::

    >>> risk = churn_risk(ChurnSignals(recency_days=60, usual_gap_days=Decimal(30),
    ...     days_to_pay_trend=None, max_days_overdue=45, recent_complaints=1,
    ...     open_complaints=0, latest_nps=None))
    >>> risk.score, risk.level, [(d.name, d.contribution) for d in risk.drivers][:2]
    (30, 'medium', [('recency', Decimal('15.0')), ('overdue', Decimal('10.0'))])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from crmledger.core.intelligence import HUNDRED, ONE_PLACE, RECENT_PAID
from crmledger.core.money import quantize


@dataclass(frozen=True, slots=True)
class ChurnSignals:
    """What churn risk is read from. ``recency_days`` None: never bought; ``usual_gap_days``
    None: fewer than two purchases; ``latest_nps`` None: never answered."""

    recency_days: int | None
    usual_gap_days: Decimal | None
    days_to_pay_trend: Decimal | None
    max_days_overdue: int
    recent_complaints: int
    open_complaints: int
    latest_nps: int | None


@dataclass(frozen=True, slots=True)
class ChurnModel:
    """The points each driver can add and the yardsticks they are measured against.

    - recency: 0 points up to the usual gap (``default_gap_days`` for one purchase), then
      linear to ``recency_points`` at three times the gap;
    - payment trend: linear from 0 to ``trend_points`` at ``trend_days_full`` days slower;
    - overdue: linear from 0 to ``overdue_points`` at ``overdue_days_full`` days overdue;
    - complaints: ``points_per_complaint`` per complaint in the last
      ``complaint_window_days`` and again per complaint still open, up to
      ``complaint_points``;
    - satisfaction: ``points_per_nps_point`` per point the latest NPS answer lies below
      ``nps_neutral``, up to ``satisfaction_points``.
    """

    recency_points: Decimal = Decimal(30)
    default_gap_days: Decimal = Decimal(90)
    trend_points: Decimal = Decimal(10)
    trend_days_full: Decimal = Decimal(20)
    overdue_points: Decimal = Decimal(20)
    overdue_days_full: Decimal = Decimal(90)
    complaint_points: Decimal = Decimal(20)
    points_per_complaint: Decimal = Decimal(5)
    complaint_window_days: int = 180
    satisfaction_points: Decimal = Decimal(20)
    nps_neutral: int = 8
    points_per_nps_point: Decimal = Decimal("2.5")


@dataclass(frozen=True, slots=True)
class Driver:
    """One reason in a churn score: what was measured, its value, the points it adds and
    how they were reached."""

    name: str
    value: str
    contribution: Decimal
    explanation: str


#: Below this score the risk is low, from the next one high.
LOW_BELOW, HIGH_FROM = 30, 60


@dataclass(frozen=True, slots=True)
class ChurnRisk:
    """A churn score 0..100 (the rounded sum of its drivers' points) and its drivers, the
    largest first."""

    score: int
    drivers: tuple[Driver, ...] = field(default=())

    @property
    def level(self) -> str:
        """``low`` (< 30), ``medium`` or ``high`` (>= 60)."""
        if self.score < LOW_BELOW:
            return "low"
        return "high" if self.score >= HIGH_FROM else "medium"


def _clamp(points: Decimal, cap: Decimal) -> Decimal:
    return quantize(min(max(points, Decimal(0)), cap), ONE_PLACE)


def _recency_driver(s: ChurnSignals, m: ChurnModel) -> Driver:
    if s.recency_days is None:
        return Driver("recency", "no purchase yet", Decimal("0.0"), "nothing bought, no churn")
    gap = s.usual_gap_days or m.default_gap_days
    ratio = Decimal(s.recency_days) / gap
    points = _clamp((ratio - 1) / 2 * m.recency_points, m.recency_points)
    source = "usual gap" if s.usual_gap_days else "default gap"
    why = f"{s.recency_days} days since the last purchase, {quantize(ratio, 2)}x the {source}"
    return Driver("recency", f"{s.recency_days} days", points, f"{why} of {gap} days")


def _trend_driver(s: ChurnSignals, m: ChurnModel) -> Driver:
    if s.days_to_pay_trend is None:
        return Driver("payment trend", "-", Decimal("0.0"), "too few paid invoices for a trend")
    points = _clamp(s.days_to_pay_trend / m.trend_days_full * m.trend_points, m.trend_points)
    why = f"the latest {RECENT_PAID} invoices took {s.days_to_pay_trend} days longer to pay"
    return Driver("payment trend", f"{s.days_to_pay_trend:+} days", points, why)


def _overdue_driver(s: ChurnSignals, m: ChurnModel) -> Driver:
    points = _clamp(
        Decimal(s.max_days_overdue) / m.overdue_days_full * m.overdue_points, m.overdue_points
    )
    why = f"the oldest open invoice is {s.max_days_overdue} days past due"
    return Driver("overdue", f"{s.max_days_overdue} days", points, why)


def _complaint_driver(s: ChurnSignals, m: ChurnModel) -> Driver:
    count = s.recent_complaints + s.open_complaints
    points = _clamp(count * m.points_per_complaint, m.complaint_points)
    why = (
        f"{s.recent_complaints} complaint(s) in {m.complaint_window_days} days, "
        f"{s.open_complaints} still open"
    )
    return Driver(
        "complaints", f"{s.recent_complaints} recent, {s.open_complaints} open", points, why
    )


def _satisfaction_driver(s: ChurnSignals, m: ChurnModel) -> Driver:
    if s.latest_nps is None:
        return Driver("satisfaction", "no answer", Decimal("0.0"), "never answered a survey")
    below = m.nps_neutral - s.latest_nps
    points = _clamp(below * m.points_per_nps_point, m.satisfaction_points)
    why = f"latest NPS answer {s.latest_nps}, {max(below, 0)} below {m.nps_neutral}"
    return Driver("satisfaction", f"NPS {s.latest_nps}", points, why)


def churn_risk(signals: ChurnSignals, model: ChurnModel | None = None) -> ChurnRisk:
    """The churn score of ``signals``: the sum of each driver's points, rounded half-even to
    a whole number (the drivers' caps add up to 100)."""
    model = model or ChurnModel()
    drivers = [
        make(signals, model)
        for make in (
            _recency_driver,
            _trend_driver,
            _overdue_driver,
            _complaint_driver,
            _satisfaction_driver,
        )
    ]
    total = sum((d.contribution for d in drivers), Decimal(0))
    score = int(min(quantize(total, 0), HUNDRED))
    ordered = sorted(drivers, key=lambda d: -d.contribution)
    return ChurnRisk(score, tuple(ordered))
