"""Satisfaction: score ranges, NPS and CSAT with half-even rounding, grouping by period."""

from __future__ import annotations

import doctest
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmledger.core.crm import satisfaction
from crmledger.core.crm.satisfaction import (
    Response,
    Summary,
    SurveyKind,
    csat,
    nps,
    period_key,
    summarise,
    validate_response,
)
from crmledger.core.errors import InvalidFieldError

D = Decimal
DAY = date(2026, 5, 4)


def response(kind: SurveyKind, score: Any, party_id: int = 1) -> Response:
    return Response(kind=kind, score=score, party_id=party_id, answered_on=DAY)


def test_docstring_examples_run() -> None:
    result = doctest.testmod(satisfaction)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize(
    ("kind", "score"),
    [(SurveyKind.NPS, 0), (SurveyKind.NPS, 10), (SurveyKind.CSAT, 1), (SurveyKind.CSAT, 5)],
)
def test_scores_at_the_ends_of_the_scale_are_valid(kind: SurveyKind, score: int) -> None:
    item = response(kind, score)
    assert validate_response(item) is item


@pytest.mark.parametrize(
    ("kind", "score"),
    [
        (SurveyKind.NPS, -1),
        (SurveyKind.NPS, 11),
        (SurveyKind.CSAT, 0),
        (SurveyKind.CSAT, 6),
        (SurveyKind.NPS, True),
        (SurveyKind.CSAT, 4.0),
        (SurveyKind.CSAT, "4"),
    ],
)
def test_scores_off_the_scale_are_refused(kind: SurveyKind, score: Any) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        validate_response(response(kind, score))
    assert caught.value.field == "score"


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([], None),
        ([10, 9], "100.0"),
        ([0, 6], "-100.0"),
        ([7, 8], "0.0"),
        ([10, 9, 8, 7, 3, 0], "0.0"),
        ([10, 10, 9, 6], "50.0"),
        ([10, 7, 7], "33.3"),
        ([10, 10, 7], "66.7"),
        ([10] + [7] * 15, "6.2"),  # 6.25 -> 6.2: half to even
        ([10] * 3 + [7] * 13, "18.8"),  # 18.75 -> 18.8
        ([6] + [7] * 15, "-6.2"),
    ],
)
def test_nps(scores: list[int], expected: str | None) -> None:
    assert nps(scores) == (None if expected is None else D(expected))


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([], None),
        ([5, 4], "100.0"),
        ([1, 2, 3], "0.0"),
        ([5, 4, 3], "66.7"),
        ([4] + [3] * 15, "6.2"),  # 6.25 -> 6.2
        ([4] * 3 + [3] * 13, "18.8"),
    ],
)
def test_csat(scores: list[int], expected: str | None) -> None:
    assert csat(scores) == (None if expected is None else D(expected))


def test_the_scores_check_their_input() -> None:
    with pytest.raises(InvalidFieldError):
        nps([10, 11])
    with pytest.raises(InvalidFieldError):
        csat([0])


def test_summarise_groups_by_the_callers_key_and_the_survey_kind() -> None:
    rows = [
        ("2026-05", response(SurveyKind.NPS, 10)),
        ("2026-04", response(SurveyKind.NPS, 3)),
        ("2026-05", response(SurveyKind.CSAT, 5)),
        ("2026-05", response(SurveyKind.NPS, 6)),
        ("2026-05", response(SurveyKind.CSAT, 2)),
        ("2026-05", response(SurveyKind.NPS, 9)),
    ]
    assert summarise(rows) == [
        Summary("2026-04", SurveyKind.NPS, 1, D("-100.0")),
        Summary("2026-05", SurveyKind.CSAT, 2, D("50.0")),
        Summary("2026-05", SurveyKind.NPS, 3, D("33.3")),
    ]
    assert summarise([]) == []


@pytest.mark.parametrize(
    ("day", "granularity", "key"),
    [
        (date(2026, 5, 4), "month", "2026-05"),
        (date(2026, 1, 1), "quarter", "2026-Q1"),
        (date(2026, 3, 31), "quarter", "2026-Q1"),
        (date(2026, 4, 1), "quarter", "2026-Q2"),
        (date(2026, 12, 31), "quarter", "2026-Q4"),
        (date(2026, 12, 31), "year", "2026"),
        (date(999, 2, 1), "month", "0999-02"),
    ],
)
def test_period_key(day: date, granularity: Any, key: str) -> None:
    assert period_key(day, granularity) == key


def test_period_key_refuses_an_unknown_granularity() -> None:
    with pytest.raises(InvalidFieldError) as caught:
        period_key(DAY, "week")  # type: ignore[arg-type]
    assert caught.value.field == "granularity"


@given(st.lists(st.integers(0, 10), min_size=1))
def test_nps_lies_within_plus_minus_100_and_rounds_once(scores: list[int]) -> None:
    score = nps(scores)
    assert score is not None
    assert D(-100) <= score <= D(100)
    assert score.as_tuple().exponent == -1
    exact = D(sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) * 100 / len(scores)
    assert abs(score - exact) <= D("0.05")


@given(st.lists(st.integers(1, 5), min_size=1))
def test_csat_lies_within_0_and_100(scores: list[int]) -> None:
    score = csat(scores)
    assert score is not None
    assert D(0) <= score <= D(100)
    exact = D(sum(s >= 4 for s in scores)) * 100 / len(scores)
    assert abs(score - exact) <= D("0.05")


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(1, 5)), max_size=30))
def test_summaries_count_every_response_once(pairs: list[tuple[str, int]]) -> None:
    rows = [(key, response(SurveyKind.CSAT, score)) for key, score in pairs]
    summaries = summarise(rows)
    assert sum(s.responses for s in summaries) == len(rows)
    assert [s.key for s in summaries] == sorted({key for key, _ in pairs})
    for summary in summaries:
        assert summary.score == csat([r.score for key, r in rows if key == summary.key])
