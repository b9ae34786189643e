"""Deals: pipeline rules, moves between stages, probabilities and the weighted forecast."""

from __future__ import annotations

import doctest
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmledger.core.crm import deals
from crmledger.core.crm.deals import (
    DEFAULT_PIPELINE,
    Deal,
    ForecastRow,
    Pipeline,
    Stage,
    StageChange,
    StageKind,
    effective_probability,
    move,
    validate_deal,
    weighted_forecast,
)
from crmledger.core.errors import InvalidFieldError, TransitionError
from crmledger.core.money import quantize

AT = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
D = Decimal
PIPELINES = {"sales": DEFAULT_PIPELINE}

WON = Stage("won", "Won", D(1), StageKind.WON)
LOST = Stage("lost", "Lost", D(0), StageKind.LOST)
OPEN = Stage("open", "Open", D("0.3"))


def deal(**changes: Any) -> Deal:
    base = Deal(
        id=1,
        pipeline="sales",
        stage="lead",
        title="Fleet renewal",
        party_id=7,
        amount=D("1000.00"),
        currency="EUR",
    )
    return replace(base, **changes)


def test_docstring_examples_run() -> None:
    result = doctest.testmod(deals)
    assert result.attempted > 0
    assert result.failed == 0


# -- pipelines ----------------------------------------------------------------------------


def test_the_default_pipeline() -> None:
    assert [(s.key, s.probability, s.kind) for s in DEFAULT_PIPELINE.stages] == [
        ("lead", D("0.10"), StageKind.OPEN),
        ("qualified", D("0.25"), StageKind.OPEN),
        ("proposal", D("0.50"), StageKind.OPEN),
        ("negotiation", D("0.75"), StageKind.OPEN),
        ("won", D(1), StageKind.WON),
        ("lost", D(0), StageKind.LOST),
    ]
    assert DEFAULT_PIPELINE.stage("proposal").name == "Proposal"


def test_an_unknown_stage_is_refused_by_field() -> None:
    with pytest.raises(InvalidFieldError) as caught:
        DEFAULT_PIPELINE.stage("signed")
    assert caught.value.field == "stage"


@pytest.mark.parametrize(
    ("key", "stages", "field"),
    [
        ("sales", (WON, LOST), "stages"),  # no open stage
        ("sales", (OPEN, LOST), "stages"),  # no won stage
        ("sales", (OPEN, WON, replace(WON, key="won2"), LOST), "stages"),  # two won
        ("sales", (OPEN, WON), "stages"),  # no lost stage
        ("sales", (OPEN, replace(OPEN, name="Again"), WON, LOST), "stages[1].key"),
        ("sales", (replace(OPEN, key=""), WON, LOST), "stages[0].key"),
        ("sales", (replace(OPEN, key="a b"), WON, LOST), "stages[0].key"),
        ("sales", (replace(OPEN, name=" "), WON, LOST), "stages[0].name"),
        ("sales", (replace(OPEN, probability=D("1.01")), WON, LOST), "stages[0].probability"),
        ("sales", (replace(OPEN, probability=D("-0.1")), WON, LOST), "stages[0].probability"),
        ("sales", (replace(OPEN, probability=D("NaN")), WON, LOST), "stages[0].probability"),
        ("sales", (OPEN, replace(WON, probability=D("0.9")), LOST), "stages[1].probability"),
        ("sales", (OPEN, WON, replace(LOST, probability=D("0.1"))), "stages[2].probability"),
        ("", (OPEN, WON, LOST), "key"),
    ],
)
def test_invalid_pipelines_are_refused(key: str, stages: tuple[Stage, ...], field: str) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        Pipeline(key, "Sales", stages)
    assert caught.value.field == field


def test_a_pipeline_may_have_several_lost_stages_and_edge_probabilities() -> None:
    no_budget = Stage("no-budget", "No budget", D(0), StageKind.LOST)
    pipeline = Pipeline(
        "renewals",
        "Renewals",
        (
            replace(OPEN, probability=D(0)),
            replace(OPEN, key="sure", probability=D(1)),
            WON,
            LOST,
            no_budget,
        ),
    )
    assert pipeline.stage("no-budget").kind is StageKind.LOST


# -- validating deals ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"pipeline": "renewals"}, "pipeline"),
        ({"stage": "signed"}, "stage"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"amount": D("-1")}, "amount"),
        ({"amount": D("Infinity")}, "amount"),
        ({"amount": D("0.001")}, "amount"),
        ({"currency": "JPY", "amount": D("10.5")}, "amount"),
        ({"currency": "XXX"}, "currency"),
        ({"probability": D("1.2")}, "probability"),
        ({"probability": D("-0.01")}, "probability"),
        ({"stage": "lost", "closed_at": AT}, "lost_reason"),
        ({"won_at": AT}, "won_at"),
        ({"closed_at": AT}, "closed_at"),
        ({"stage": "won", "won_at": datetime(2026, 5, 4)}, "won_at"),  # naive
    ],
)
def test_invalid_deals_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        validate_deal(deal(**changes), DEFAULT_PIPELINE)
    assert caught.value.field == field


def test_valid_deals_pass_and_scales_declare_other_currencies() -> None:
    for good in (
        deal(),
        deal(amount=D("0"), probability=D(1)),
        deal(currency="JPY", amount=D("1500")),
        deal(stage="won", won_at=AT, closed_at=AT),
    ):
        assert validate_deal(good, DEFAULT_PIPELINE) is good
    tokens = deal(currency="TOKEN", amount=D("1.2345"))
    assert validate_deal(tokens, DEFAULT_PIPELINE, {"TOKEN": 4}) is tokens


# -- moves --------------------------------------------------------------------------------


def in_stage(key: str) -> Deal:
    kind = DEFAULT_PIPELINE.stage(key).kind
    earlier = AT - timedelta(days=1)
    if kind is StageKind.WON:
        return deal(stage=key, won_at=earlier, closed_at=earlier)
    if kind is StageKind.LOST:
        return deal(stage=key, closed_at=earlier, lost_reason="Too expensive")
    return deal(stage=key)


KEYS = [stage.key for stage in DEFAULT_PIPELINE.stages]
CLOSED = {"won", "lost"}


@pytest.mark.parametrize("source", KEYS)
@pytest.mark.parametrize("target", KEYS)
def test_every_move_is_allowed_or_refused(source: str, target: str) -> None:
    before = validate_deal(in_stage(source), DEFAULT_PIPELINE)
    refused = source == target or (source in CLOSED and target in CLOSED)
    if refused:
        with pytest.raises(TransitionError):
            move(before, DEFAULT_PIPELINE, target, AT, "Chose a competitor")
        return
    after, change = move(before, DEFAULT_PIPELINE, target, AT, "Chose a competitor", by="ada")
    validate_deal(after, DEFAULT_PIPELINE)
    assert after.stage == target
    assert change == StageChange(1, source, target, AT, "ada", "Chose a competitor")
    assert after.won_at == (AT if target == "won" else None)
    assert after.closed_at == (AT if target in CLOSED else None)
    assert after.lost_reason == ("Chose a competitor" if target == "lost" else "")


@pytest.mark.parametrize("reason", ["", "   "])
def test_losing_needs_a_reason(reason: str) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        move(deal(), DEFAULT_PIPELINE, "lost", AT, reason)
    assert caught.value.field == "lost_reason"


def test_reopening_clears_the_closure_and_cannot_be_backdated() -> None:
    lost = in_stage("lost")
    reopened, change = move(lost, DEFAULT_PIPELINE, "negotiation", AT)
    assert (reopened.closed_at, reopened.lost_reason, change.from_stage) == (None, "", "lost")
    with pytest.raises(InvalidFieldError) as caught:
        move(lost, DEFAULT_PIPELINE, "lead", AT - timedelta(days=2))
    assert caught.value.field == "at"


def test_a_move_clears_the_probability_override() -> None:
    moved, _ = move(deal(probability=D("0.9")), DEFAULT_PIPELINE, "qualified", AT)
    assert moved.probability is None
    assert effective_probability(moved, DEFAULT_PIPELINE) == D("0.25")


def test_moves_need_an_aware_time_the_right_pipeline_and_a_known_stage() -> None:
    cases = [
        ((deal(), DEFAULT_PIPELINE, "won", datetime(2026, 5, 4)), "at"),  # naive
        ((deal(pipeline="other"), DEFAULT_PIPELINE, "won", AT), "pipeline"),
        ((deal(), DEFAULT_PIPELINE, "signed", AT), "stage"),
    ]
    for args, field in cases:
        with pytest.raises(InvalidFieldError) as caught:
            move(*args)
        assert caught.value.field == field


# -- probability and forecast -------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, D("0.10")),
        ({"stage": "negotiation"}, D("0.75")),
        ({"probability": D("0.6")}, D("0.6")),
        ({"stage": "won", "probability": D("0.6")}, D(1)),
        ({"stage": "lost", "probability": D("0.6")}, D(0)),
    ],
)
def test_effective_probability(changes: dict[str, Any], expected: Decimal) -> None:
    assert effective_probability(deal(**changes), DEFAULT_PIPELINE) == expected


def test_weighted_amounts_are_rounded_per_deal_half_even() -> None:
    may = date(2026, 5, 20)
    rows = weighted_forecast(
        [
            deal(stage="proposal", amount=D("10.05"), expected_close=may),  # 5.025 -> 5.02
            deal(stage="proposal", amount=D("10.15"), expected_close=may),  # 5.075 -> 5.08
            deal(stage="proposal", amount=D("0.01"), expected_close=may),  # 0.005 -> 0.00
            deal(stage="proposal", amount=D("0.01"), expected_close=may),  # not 0.01 in total
            deal(stage="qualified", currency="JPY", amount=D("1001"), expected_close=may),
        ],
        PIPELINES,
    )
    assert rows == [
        ForecastRow("2026-05", None, "EUR", D("20.22"), D("10.10"), 4),
        ForecastRow("2026-05", None, "JPY", D("1001"), D("250"), 1),  # 250.25 -> 250
    ]


def test_forecast_groups_sorts_and_leaves_out_closed_deals() -> None:
    rows = weighted_forecast(
        [
            deal(owner_id=2, expected_close=date(2026, 7, 1)),
            deal(owner_id=None, expected_close=date(2026, 7, 31), stage="negotiation"),
            deal(owner_id=1, expected_close=None),
            deal(owner_id=1, expected_close=date(2026, 6, 30), currency="USD"),
            deal(owner_id=1, expected_close=date(2026, 6, 1)),
            deal(owner_id=1, expected_close=date(2026, 6, 1), stage="won", won_at=AT),
            deal(owner_id=1, expected_close=date(2026, 6, 1), stage="lost", lost_reason="x"),
        ],
        PIPELINES,
    )
    assert [(r.month, r.owner_id, r.currency, r.weighted_amount, r.deals) for r in rows] == [
        ("2026-06", 1, "EUR", D("100.00"), 1),
        ("2026-06", 1, "USD", D("100.00"), 1),
        ("2026-07", None, "EUR", D("750.00"), 1),
        ("2026-07", 2, "EUR", D("100.00"), 1),
        ("none", 1, "EUR", D("100.00"), 1),
    ]


def test_forecast_refuses_unknown_pipelines_and_currencies() -> None:
    with pytest.raises(InvalidFieldError) as caught:
        weighted_forecast([deal(pipeline="other")], PIPELINES)
    assert caught.value.field == "pipeline"
    with pytest.raises(InvalidFieldError) as caught:
        weighted_forecast([deal(currency="XXX")], PIPELINES)
    assert caught.value.field == "currency"
    rows = weighted_forecast([deal(currency="XXX", amount=D("3.333"))], PIPELINES, {"XXX": 3})
    assert rows[0].weighted_amount == D("0.333")


amounts = st.decimals(min_value=0, max_value=10**9, places=2)
open_keys = st.sampled_from(["lead", "qualified", "proposal", "negotiation"])
overrides = st.none() | st.decimals(min_value=0, max_value=1, places=3)
months = st.none() | st.dates(date(2025, 1, 1), date(2027, 12, 31))


@given(
    st.lists(st.tuples(amounts, open_keys, overrides, months, st.sampled_from([1, 2])), max_size=20)
)
def test_forecast_rows_add_up_to_the_deals(
    specs: list[tuple[Decimal, str, Decimal | None, date | None, int]],
) -> None:
    items = [
        deal(amount=a, stage=s, probability=p, expected_close=m, owner_id=o)
        for a, s, p, m, o in specs
    ]
    rows = weighted_forecast(items, PIPELINES)
    assert sum(r.deals for r in rows) == len(items)
    assert sum((r.open_amount for r in rows), D(0)) == sum((d.amount for d in items), D(0))
    expected = sum(
        (quantize(d.amount * effective_probability(d, DEFAULT_PIPELINE), 2) for d in items),
        D(0),
    )
    assert sum((r.weighted_amount for r in rows), D(0)) == expected
    for row in rows:
        assert D(0) <= row.weighted_amount <= row.open_amount
    keys = [(r.month, r.owner_id or 0, r.currency) for r in rows]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


@given(st.lists(open_keys | st.sampled_from(["won", "lost"]), max_size=15))
def test_any_walk_through_the_pipeline_keeps_deals_valid(path: list[str]) -> None:
    item, at = deal(), AT
    for target in path:
        at += timedelta(hours=1)
        current = item.stage
        if target == current or (current in CLOSED and target in CLOSED):
            with pytest.raises(TransitionError):
                move(item, DEFAULT_PIPELINE, target, at, "No budget")
            continue
        item, change = move(item, DEFAULT_PIPELINE, target, at, "No budget")
        assert (change.from_stage, change.to_stage) == (current, target)
        validate_deal(item, DEFAULT_PIPELINE)
        assert (item.closed_at is not None) == (target in CLOSED)
