"""Connector schedules and rate limits: cron expressions and intervals read and refused with
their field, a missed schedule run once, and a token bucket that holds a run to its rate."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crmledger.bootstrap import App
from crmledger.core.errors import InvalidFieldError
from crmledger.services.sync_schedule import (
    RateLimit,
    Schedule,
    is_due,
    parse_rate,
    parse_schedule,
)
from tests.conftest import FixedClock
from tests.integration_sync.test_sync_folder import FIRST, SQLITE_ONLY, config, drop, folder

__all__ = ["folder"]  # the fixture

T = datetime(2026, 11, 23, 6, 7, 30, tzinfo=UTC)  # a Monday


def test_a_cron_schedule_runs_at_its_next_moment() -> None:
    every_quarter = parse_schedule("*/15 6-20 * * mon-fri", None)
    assert every_quarter == Schedule(cron="*/15 6-20 * * mon-fri")
    assert every_quarter.next_after(T) == T.replace(minute=15, second=0)
    evening = T.replace(hour=20, minute=50)
    assert every_quarter.next_after(evening) == datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    friday = datetime(2026, 11, 27, 20, 45, tzinfo=UTC)
    assert every_quarter.next_after(friday) == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    assert not is_due(every_quarter, T, T.replace(minute=14, second=59))
    assert is_due(every_quarter, T, T.replace(minute=15))
    # Down for a day: due once now, then on the schedule again from this run.
    assert is_due(every_quarter, T, T + timedelta(days=1))
    assert is_due(every_quarter, None, T)


def test_an_interval_counts_from_the_last_start() -> None:
    five = parse_schedule(None, 300)
    assert five == Schedule(every_seconds=300)
    assert five.describe() == "every 300 s"
    assert not is_due(five, T, T + timedelta(seconds=299))
    assert is_due(five, T, T + timedelta(seconds=300))
    assert parse_schedule(None, None) is None


@pytest.mark.parametrize(
    ("cron", "every", "field", "reason"),
    [
        ("*/15 * * *", None, "schedule", "five fields"),
        ("61 * * * *", None, "schedule", "not a cron expression"),
        ("* * * * * *", None, "schedule", "five fields"),
        (15, None, "schedule", "not a cron expression"),
        ("0 2 * * *", 60, "schedule", "not both"),
        (None, 0, "every_seconds", "1 second to 31 days"),
        (None, True, "every_seconds", "1 second to 31 days"),
        (None, "60", "every_seconds", "1 second to 31 days"),
    ],
)
def test_a_bad_schedule_is_refused_naming_its_field(
    cron: object, every: object, field: str, reason: str
) -> None:
    with pytest.raises(InvalidFieldError, match=reason) as refused:
        parse_schedule(cron, every)
    assert refused.value.field == field


def test_rates_are_checked() -> None:
    assert parse_rate(None) is None
    assert parse_rate(50) == 50.0
    for bad in (0, -1, True, "10", 1e6):
        with pytest.raises(InvalidFieldError, match="records per second"):
            parse_rate(bad)


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_rate_limit_holds_a_run_to_its_rate() -> None:
    time = FakeTime()
    limit = RateLimit(10.0, time.clock, time.sleep)
    limit.take(10)  # a full bucket: one second of work at once
    assert time.slept == []
    limit.take(25)  # 25 more records at 10/s: 2.5 s of waiting
    assert sum(time.slept) == pytest.approx(2.5)
    assert limit.waited == pytest.approx(2.5)
    time.now += 60  # idle a minute: the bucket holds one second's worth, not a minute's
    before = sum(time.slept)
    limit.take(15)
    assert sum(time.slept) - before == pytest.approx(0.5)


def test_a_slow_rate_still_lets_one_record_through() -> None:
    time = FakeTime()
    limit = RateLimit(0.5, time.clock, time.sleep)
    limit.take(1)
    limit.take(1)
    assert time.slept == [pytest.approx(2.0)]


# -- the engine: a drop folder pulled on its schedule, held to its rate --------------------


@SQLITE_ONLY
def test_the_worker_pulls_a_connector_when_its_cron_schedule_comes(
    app: App, clock: FixedClock, folder: Path
) -> None:
    drop(folder, "customers-1.csv", FIRST, mtime=1_000)
    app.sync.add("shop", "folder", config(folder, schedule="0 * * * *"))
    app.sync.add("idle", "folder", config(folder))  # no schedule: only run by hand
    clock.current = datetime(2026, 6, 30, 10, 30, tzinfo=UTC)
    assert app.sync.run_due() == 3  # never pulled: at once
    assert len(app.sync.runs("shop")) == 1
    assert app.sync.runs("idle") == []
    clock.current = datetime(2026, 6, 30, 10, 59, 59, tzinfo=UTC)
    assert app.sync.run_due() == 0
    assert len(app.sync.runs("shop")) == 1
    clock.current = datetime(2026, 6, 30, 11, 0, tzinfo=UTC)
    app.sync.run_due()
    assert len(app.sync.runs("shop")) == 2
    with pytest.raises(InvalidFieldError, match="five fields") as refused:
        app.sync.add("bad", "folder", config(folder, schedule="every hour"))
    assert refused.value.field == "schedule"


@SQLITE_ONLY
def test_a_run_keeps_to_its_connectors_rate(app: App, folder: Path) -> None:
    rows = [
        [f"C-{n}", f"Customer {n}", f"c{n}@example.com", "DE", "2026-06-01T10:00:00+00:00"]
        for n in range(12)
    ]
    drop(folder, "customers-1.csv", rows, mtime=1_000)
    app.sync.add("slow", "folder", config(folder, rate_per_second=5))
    started = time.monotonic()
    report = app.sync.run("slow")
    took = time.monotonic() - started
    assert report.counts["created"] == 12
    assert took >= (12 - 5) / 5 * 0.95  # one second's worth at once, then 5 a second
    assert sum(app.sync.run("slow").counts.values()) == 0  # nothing new, nothing read
    with pytest.raises(InvalidFieldError, match="records per second"):
        app.sync.add("wild", "folder", config(folder, rate_per_second=0))
