"""Satisfaction surveys: Net Promoter Score (0..10) and CSAT (1..5) responses and scores.

NPS is the percentage of promoters (9 or 10) minus the percentage of detractors (0 to 6);
CSAT is the percentage of satisfied answers (4 or 5). Both are rounded to one decimal place,
half to even::

    >>> nps([10, 9, 8, 7, 3, 0])         # 2 promoters, 2 detractors of 6
    Decimal('0.0')
    >>> nps([10, 10, 9, 6])              # 75% - 25%
    Decimal('50.0')
    >>> csat([5, 4, 3])                  # 2 of 3 satisfied: 66.66… %
    Decimal('66.7')
    >>> nps([]) is None
    True

:func:`summarise` groups responses by whatever key the caller picks (a period from
:func:`period_key`, a segment, an owner) and scores each group::

    >>> r = Response(kind=SurveyKind.NPS, score=9, party_id=7, answered_on=date(2026, 5, 4))
    >>> summarise([(period_key(r.answered_on, "quarter"), r)])
    [Summary(key='2026-Q2', kind=<SurveyKind.NPS: 'nps'>, responses=1, score=Decimal('100.0'))]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from crmledger.core.errors import InvalidFieldError
from crmledger.core.money import quantize

Granularity = Literal["month", "quarter", "year"]


class SurveyKind(StrEnum):
    """The question asked: likely to recommend (NPS, 0..10) or satisfied (CSAT, 1..5)."""

    NPS = "nps"
    CSAT = "csat"

    @property
    def scale(self) -> range:
        """The scores an answer may give."""
        return range(0, 11) if self is SurveyKind.NPS else range(1, 6)


@dataclass(frozen=True, slots=True, kw_only=True)
class Response:
    """One answer of a party, optionally about an interaction, an order or an invoice."""

    id: int | None = None
    kind: SurveyKind
    score: int
    party_id: int
    answered_on: date
    comment: str = ""
    interaction_id: int | None = None
    order_id: int | None = None
    invoice_id: int | None = None


def _check_score(kind: SurveyKind, score: int) -> None:
    if isinstance(score, bool) or not isinstance(score, int) or score not in kind.scale:
        low, high = kind.scale[0], kind.scale[-1]
        raise InvalidFieldError("score", f"a {kind} score is a whole number {low}..{high}")


def validate_response(response: Response) -> Response:
    """Return ``response`` if its score fits its survey kind, else raise ``InvalidFieldError``."""
    _check_score(response.kind, response.score)
    return response


def _percent(part: int, whole: int) -> Decimal:
    return quantize(Decimal(part) * 100 / Decimal(whole), 1)


def nps(scores: Iterable[int]) -> Decimal | None:
    """%promoters (9-10) - %detractors (0-6), one decimal, half-even; ``None`` for none."""
    values = list(scores)
    for score in values:
        _check_score(SurveyKind.NPS, score)
    if not values:
        return None
    promoters = sum(1 for s in values if s >= 9)
    detractors = sum(1 for s in values if s <= 6)
    # One division, so the result is rounded once: (p - d) / n, not round(p/n) - round(d/n).
    return _percent(promoters - detractors, len(values))


def csat(scores: Iterable[int]) -> Decimal | None:
    """Percentage of satisfied answers (4-5), one decimal, half-even; ``None`` for none."""
    values = list(scores)
    for score in values:
        _check_score(SurveyKind.CSAT, score)
    if not values:
        return None
    return _percent(sum(1 for s in values if s >= 4), len(values))


@dataclass(frozen=True, slots=True)
class Summary:
    """How the responses of one kind under one key scored."""

    key: str
    kind: SurveyKind
    responses: int
    score: Decimal


def summarise(rows: Iterable[tuple[str, Response]]) -> list[Summary]:
    """Score ``(key, response)`` pairs per key and survey kind, sorted by key then kind."""
    groups: dict[tuple[str, SurveyKind], list[int]] = {}
    for key, response in rows:
        groups.setdefault((key, response.kind), []).append(response.score)
    summaries = []
    for (key, kind), scores in sorted(groups.items()):
        score = nps(scores) if kind is SurveyKind.NPS else csat(scores)
        assert score is not None  # every group has at least one response
        summaries.append(Summary(key, kind, len(scores), score))
    return summaries


def period_key(day: date, granularity: Granularity) -> str:
    """``2026-05``, ``2026-Q2`` or ``2026`` for a day in May 2026."""
    if granularity == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if granularity == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    if granularity == "year":
        return f"{day.year:04d}"
    raise InvalidFieldError("granularity", "group by 'month', 'quarter' or 'year'")
