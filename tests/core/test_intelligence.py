"""The customer-intelligence models by hand: RFM quintiles and segments, cohorts, lifetime
value, churn drivers, days to pay, DSO, CEI, concentration, cost to serve and allocation;
with Hypothesis properties where a rule holds for every input."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmledger.core.churn import ChurnSignals, churn_risk
from crmledger.core.errors import InvalidFieldError
from crmledger.core.intelligence import (
    SEGMENTS,
    Cohort,
    CustomerActivity,
    cohorts,
    collection_effectiveness,
    concentration,
    days_to_pay,
    dso,
    expected_lifetime,
    lifetime_value,
    month_index,
    month_label,
    observed_retention,
    quintile,
    quintile_breaks,
    rfm_breaks,
    rfm_score,
    rfm_scores,
    segment,
    segment_summary,
    usual_gap,
)
from crmledger.core.profitability import (
    DEFAULT_COST_TO_SERVE,
    CostBreakdown,
    ProfitLine,
    ServiceEvents,
    allocate,
    allocate_costs,
    cost_of,
    cost_settings,
    flat,
)

D = Decimal
TODAY = date(2026, 6, 30)


# -- RFM --------------------------------------------------------------------------------


def test_quintile_boundaries_by_nearest_rank() -> None:
    assert quintile_breaks(range(1, 11), lower_is_better=False) == (2, 4, 6, 8)
    assert quintile_breaks(range(1, 11), lower_is_better=True) == (9, 7, 5, 3)
    assert quintile_breaks([], lower_is_better=False) == ()
    scores = [quintile(v, (2, 4, 6, 8), lower_is_better=False) for v in range(1, 11)]
    assert scores == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    days = [quintile(v, (9, 7, 5, 3), lower_is_better=True) for v in range(1, 11)]
    assert days == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]


def test_ties_score_alike() -> None:
    breaks = quintile_breaks([3, 3, 3, 3, 3, 7], lower_is_better=False)
    assert breaks == (3, 3, 3, 3)
    assert quintile(3, breaks, lower_is_better=False) == 1
    assert quintile(7, breaks, lower_is_better=False) == 5


def test_rfm_of_ten_customers_by_hand() -> None:
    # customer i bought i times, last 10 * i days ago, for i * 100.00
    acts = [
        CustomerActivity(i, TODAY - timedelta(days=10 * i), i, D(100 * i)) for i in range(1, 11)
    ]
    breaks, scores = rfm_scores(acts, TODAY)
    assert breaks.recency == (90, 70, 50, 30)
    assert breaks.frequency == (2, 4, 6, 8)
    assert breaks.monetary == (D(200), D(400), D(600), D(800))
    by_id = {s.party_id: s for s in scores}
    # the most recent buys least: new; the most frequent bought longest ago: can't lose
    assert (by_id[1].r, by_id[1].f, by_id[1].m, by_id[1].segment) == (5, 1, 1, "New customers")
    assert (by_id[10].r, by_id[10].f, by_id[10].segment) == (1, 5, "Can't lose them")
    assert (by_id[5].code, by_id[5].segment) == ("333", "Need attention")
    assert by_id[3].segment == "Potential loyalists"  # R4 F2
    assert by_id[7].segment == "At risk"  # R2 F4


@pytest.mark.parametrize(
    ("r", "f", "name"),
    [
        (5, 5, "Champions"),
        (5, 4, "Champions"),
        (4, 5, "Loyal customers"),
        (3, 4, "Loyal customers"),
        (4, 2, "Potential loyalists"),
        (5, 3, "Potential loyalists"),
        (5, 1, "New customers"),
        (4, 1, "Promising"),
        (3, 3, "Need attention"),
        (3, 1, "About to sleep"),
        (2, 3, "At risk"),
        (1, 5, "Can't lose them"),
        (2, 2, "Hibernating"),
    ],
)
def test_segment_grid(r: int, f: int, name: str) -> None:
    assert segment(r, f) == name


def test_every_grid_cell_has_a_known_segment() -> None:
    assert {segment(r, f) for r in range(1, 6) for f in range(1, 6)} == set(SEGMENTS)


def test_segment_summary_shares() -> None:
    acts = [CustomerActivity(1, TODAY, 1, D(300)), CustomerActivity(2, TODAY, 1, D(100))]
    _, scores = rfm_scores(acts, TODAY)
    rows = {s.segment: s for s in segment_summary(scores)}
    assert len(rows) == len(SEGMENTS)
    found = [s for s in rows.values() if s.customers]
    assert sum(s.share for s in found) == D("100.0")


activities = st.lists(
    st.builds(
        CustomerActivity,
        st.integers(1, 10_000),
        st.dates(date(2020, 1, 1), TODAY),
        st.integers(1, 50),
        st.decimals(0, 100_000, places=2),
    ),
    min_size=1,
    max_size=60,
)


@given(activities)
def test_scores_are_one_to_five_and_monotone(acts: list[CustomerActivity]) -> None:
    breaks = rfm_breaks(acts, TODAY)
    scores = [rfm_score(a, breaks, TODAY) for a in acts]
    assert all(1 <= v <= 5 for s in scores for v in (s.r, s.f, s.m))
    for a, b in itertools.pairwise(scores):
        if a.frequency < b.frequency:
            assert a.f <= b.f
        if a.recency_days < b.recency_days:
            assert a.r >= b.r
        if a.monetary < b.monetary:
            assert a.m <= b.m


@given(st.lists(st.integers(0, 1000), min_size=5, max_size=200, unique=True))
def test_distinct_values_fill_each_fifth_about_equally(values: list[int]) -> None:
    breaks = quintile_breaks(values, lower_is_better=False)
    counts = [0] * 5
    for v in values:
        counts[quintile(v, breaks, lower_is_better=False) - 1] += 1
    assert max(counts) - min(counts) <= 1


# -- cohorts ----------------------------------------------------------------------------


def test_months() -> None:
    assert month_label(month_index(date(2026, 5, 4))) == "2026-05"
    assert month_index(date(2026, 1, 1)) - month_index(date(2025, 12, 31)) == 1


def test_cohorts_by_hand() -> None:
    jan, feb, mar = (month_index(date(2026, m, 1)) for m in (1, 2, 3))
    activity = [(1, jan), (1, mar), (2, jan), (2, feb), (3, feb), (1, jan)]
    found = cohorts(activity, mar)
    assert found == [Cohort(jan, (2, 1, 1)), Cohort(feb, (1, 0))]
    assert found[0].retention == (D("100.0"), D("50.0"), D("50.0"))
    assert found[0].label == "2026-01"
    # a range keeps cohorts, not activity: party 3 still belongs to February
    assert cohorts(activity, mar, start=feb) == [Cohort(feb, (1, 0))]
    assert cohorts(activity, mar, end=jan) == [Cohort(jan, (2, 1, 1))]


def test_observed_retention_by_hand() -> None:
    now = month_index(TODAY)
    activity = [(1, now - 15), (2, now - 20), (3, now - 13), (1, now - 2), (4, now)]
    found = observed_retention(activity, now)
    assert (found.base, found.kept, found.annual) == (3, 1, D("0.3333"))
    assert found.monthly == D("0.9125")  # 1/3 ** (1/12)
    assert observed_retention([(1, now)], now).monthly is None


@given(st.lists(st.tuples(st.integers(1, 30), st.integers(0, 36)), max_size=80))
def test_a_cohort_is_never_bigger_than_its_first_month(pairs: list[tuple[int, int]]) -> None:
    base = month_index(date(2023, 1, 1))
    activity = [(p, base + m) for p, m in pairs]
    found = cohorts(activity, base + 36)
    assert sum(c.customers for c in found) == len({p for p, _ in pairs})
    for c in found:
        assert all(0 <= a <= c.customers for a in c.active)


# -- lifetime value ---------------------------------------------------------------------


def test_lifetime_value_by_hand() -> None:
    clv = lifetime_value(D("1200.00"), 12, D("0.9"), "default", D(0), 3, 2)
    assert clv.assumptions.monthly_margin == D("100.00")
    assert clv.expected_lifetime_months == D("2.71")  # 1 + 0.9 + 0.81
    assert clv.value == D("271.00")
    assert clv.assumptions.retention_source == "default"


def test_without_discount_or_horizon_the_lifetime_is_one_over_churn() -> None:
    assert expected_lifetime(D("0.9"), D(0), 10_000).quantize(D("0.0001")) == D("10.0000")
    discounted = expected_lifetime(D("0.9"), D("0.10"), 10_000)
    assert discounted < D(10)
    assert expected_lifetime(D(1), D(0), 24) == D(24)


def test_a_customer_of_less_than_a_month_counts_one_month() -> None:
    clv = lifetime_value(D("50.00"), 0, D("0.5"), "default", D(0), 2, 2)
    assert clv.assumptions.months_active == 1
    assert clv.value == D("75.00")  # 50 * (1 + 0.5)


# -- payment behaviour ------------------------------------------------------------------


def _paid(*days: int) -> list[tuple[date, date]]:
    start = date(2026, 1, 1)
    return [(start + timedelta(days=i), start + timedelta(days=i + d)) for i, d in enumerate(days)]


def test_days_to_pay_and_trend_by_hand() -> None:
    p = days_to_pay(_paid(10, 20, 30, 40, 50))
    assert (p.paid, p.average) == (5, D("30.0"))
    assert (p.recent, p.earlier, p.trend) == (D("40.0"), D("15.0"), D("25.0"))
    assert p.direction == "slower"
    assert days_to_pay(_paid(30, 30, 30, 29)).direction == "steady"
    assert days_to_pay(_paid(40, 10, 10, 10)).direction == "faster"
    few = days_to_pay(_paid(5, 6, 7))
    assert (few.average, few.trend, few.direction) == (D("6.0"), None, None)
    assert days_to_pay([]).average is None


def test_usual_gap() -> None:
    assert usual_gap(date(2026, 1, 10), date(2026, 5, 20), 3) == D("65.0")
    assert usual_gap(date(2026, 1, 10), date(2026, 1, 10), 1) is None


# -- churn ------------------------------------------------------------------------------


def _signals(**changes: object) -> ChurnSignals:
    values: dict[str, object] = {
        "recency_days": 30,
        "usual_gap_days": D(30),
        "days_to_pay_trend": None,
        "max_days_overdue": 0,
        "recent_complaints": 0,
        "open_complaints": 0,
        "latest_nps": None,
    }
    return ChurnSignals(**(values | changes))  # type: ignore[arg-type]


def test_a_loyal_customer_has_no_risk() -> None:
    risk = churn_risk(_signals(latest_nps=10, days_to_pay_trend=D(-5)))
    assert (risk.score, risk.level) == (0, "low")
    assert {d.name for d in risk.drivers} == {
        "recency",
        "payment trend",
        "overdue",
        "complaints",
        "satisfaction",
    }


def test_each_driver_by_hand() -> None:
    risk = churn_risk(
        _signals(
            recency_days=60,  # 2x the usual gap: half of 30 points
            days_to_pay_trend=D(10),  # half of 20 days: 5 of 10 points
            max_days_overdue=45,  # half of 90 days: 10 of 20 points
            recent_complaints=1,
            open_complaints=1,  # 5 + 5 points
            latest_nps=6,  # 2 below 8: 5 points
        )
    )
    named = {d.name: d.contribution for d in risk.drivers}
    assert named == {
        "recency": D("15.0"),
        "payment trend": D("5.0"),
        "overdue": D("10.0"),
        "complaints": D("10.0"),
        "satisfaction": D("5.0"),
    }
    assert (risk.score, risk.level) == (45, "medium")
    assert next(d.name for d in risk.drivers) == "recency"  # the largest first


def test_caps_and_the_default_gap() -> None:
    risk = churn_risk(
        _signals(
            recency_days=1000,
            usual_gap_days=None,
            days_to_pay_trend=D(99),
            max_days_overdue=400,
            recent_complaints=9,
            latest_nps=0,
        )
    )
    assert risk.score == 100
    assert risk.level == "high"
    recency = next(d for d in risk.drivers if d.name == "recency")
    assert "default gap of 90" in recency.explanation
    never = churn_risk(_signals(recency_days=None, usual_gap_days=None))
    assert never.score == 0


signals = st.builds(
    ChurnSignals,
    recency_days=st.one_of(st.none(), st.integers(0, 2000)),
    usual_gap_days=st.one_of(st.none(), st.decimals(1, 400, places=1)),
    days_to_pay_trend=st.one_of(st.none(), st.decimals(-100, 100, places=1)),
    max_days_overdue=st.integers(0, 500),
    recent_complaints=st.integers(0, 20),
    open_complaints=st.integers(0, 20),
    latest_nps=st.one_of(st.none(), st.integers(0, 10)),
)


@given(signals)
def test_the_score_is_the_sum_of_its_drivers(found: ChurnSignals) -> None:
    risk = churn_risk(found)
    total = sum((d.contribution for d in risk.drivers), D(0))
    assert 0 <= risk.score <= 100
    assert risk.score == int(total.quantize(D(1)))
    assert all(d.contribution >= 0 for d in risk.drivers)


# -- receivables ------------------------------------------------------------------------


def test_dso_cei_and_concentration_by_hand() -> None:
    assert dso(D("1000"), D("3000"), 90) == D("30.0")
    assert dso(D("1000"), D(0), 90) is None
    # 500 open + 1,000 sold, 300 still open of which 100 not yet due: 1,200 of 1,400
    assert collection_effectiveness(D(500), D(1000), D(300), D(100)) == D("85.7")
    assert collection_effectiveness(D(0), D(0), D(0), D(0)) is None
    c = concentration([D(50), D(30), D(20), D(0), D(-5)], top=(1, 2))
    assert (c.customers, c.total) == (3, D(100))
    assert c.top == ((1, D("50.0")), (2, D("80.0")))
    assert c.herfindahl == D(3800)  # 2,500 + 900 + 400
    assert concentration([]).herfindahl == D(0)


@given(st.lists(st.decimals(D("0.01"), 10_000, places=2), min_size=1, max_size=50))
def test_herfindahl_lies_between_equal_shares_and_a_monopoly(values: list[Decimal]) -> None:
    c = concentration(values)
    assert D(10_000) / len(values) - 1 <= c.herfindahl <= D(10_000)


# -- cost to serve ----------------------------------------------------------------------


def test_cost_of_events_by_hand() -> None:
    events = ServiceEvents(
        {"call": 2, "meeting": 1}, complaints=1, credit_notes=2, dunning_steps=3,
        money_days=D("73000"),
    )  # fmt: skip
    costs = cost_of(events, DEFAULT_COST_TO_SERVE, 2)
    assert costs == CostBreakdown(D("76.00"), D("40.00"), D("30.00"), D("30.00"), D("16.00"))
    assert costs.total == D("192.00")
    line = ProfitLine("7", "Acme", D("1000.00"), D("600.00"), costs)
    assert (line.gross_margin, line.net, line.margin_percent) == (
        D("400.00"),
        D("208.00"),
        D("40.0"),
    )
    assert ProfitLine("8", "", D(0), D(0)).margin_percent is None


def test_settings_are_checked_by_key() -> None:
    changed = cost_settings({"interaction.call": "12.50", "credit_rate": "0.05"}, 2)
    assert changed.interactions["call"] == D("12.50")
    assert changed.credit_rate == D("0.05")
    assert flat(changed)["interaction.call"] == "12.50"
    assert cost_settings(flat(changed), 2) == changed
    for key, value in [
        ("interaction.call", "1.234"),
        ("complaint", "-1"),
        ("credit_rate", "2"),
        ("credit_note", "abc"),
        ("colour", "1"),
        ("interaction.complaint", "1"),
    ]:
        with pytest.raises(InvalidFieldError) as err:
            cost_settings({key: value}, 2)
        assert err.value.field == key


def test_allocation_is_exact_by_largest_remainder() -> None:
    assert allocate(D("10.00"), [D(1), D(1), D(1)], 2) == [D("3.34"), D("3.33"), D("3.33")]
    assert allocate(D("1.00"), [D(0), D(3)], 2) == [D("0.00"), D("1.00")]
    with pytest.raises(InvalidFieldError):
        allocate(D("1.00"), [D(0)], 2)
    parts = allocate_costs(CostBreakdown(D("1.00"), D(0), D(0), D(0), D("0.01")), [D(1), D(1)], 2)
    assert sum((p.total for p in parts), D(0)) == D("1.01")


@given(
    st.decimals(0, 100_000, places=2),
    st.lists(st.decimals(0, 1000, places=2), min_size=1, max_size=20).filter(lambda w: sum(w) > 0),
)
def test_allocation_adds_up_and_follows_the_weights(total: Decimal, weights: list[Decimal]) -> None:
    shares = allocate(total, weights, 2)
    assert sum(shares, D(0)) == total
    unit = D("0.01")
    whole = sum(weights, D(0))
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share - total * weight / whole) < unit
