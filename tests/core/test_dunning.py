"""Dunning rules as pure functions: levels by days overdue that only ever escalate (to the
highest level due), letters filled in the customer's language, and levels read from JSON
refused naming the field when they are out of order or their templates do not fill in."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmledger.core.billing.dunning import (
    DEFAULT_LEVELS,
    DunningLevel,
    LetterValues,
    check_levels,
    letter_text,
    level_due,
    levels_from_data,
    levels_to_data,
    text_in,
)
from crmledger.core.errors import InvalidFieldError

VALUES = LetterValues("INV-2026-0007", date(2026, 6, 15), Decimal("1190.00"), "EUR", 16)


def _level(days: int, last: int) -> int | None:
    found = level_due(days, last, DEFAULT_LEVELS)
    return None if found is None else found.level


def test_defaults_are_reminder_second_reminder_and_final_notice() -> None:
    assert [(lv.level, lv.min_days_overdue) for lv in DEFAULT_LEVELS] == [(1, 7), (2, 21), (3, 45)]
    assert [lv.title_in("en") for lv in DEFAULT_LEVELS] == [
        "Payment reminder",
        "Second reminder",
        "Final notice",
    ]
    assert [lv.title_in("de") for lv in DEFAULT_LEVELS] == [
        "Zahlungserinnerung",
        "Mahnung",
        "Letzte Mahnung",
    ]
    assert check_levels(DEFAULT_LEVELS) == DEFAULT_LEVELS


@pytest.mark.parametrize(
    ("days", "last", "expected"),
    [
        (1, 0, None),  # late, but not yet reminder-late
        (6, 0, None),
        (7, 0, 1),  # the first day of level 1
        (20, 0, 1),
        (20, 1, None),  # level 1 sent; level 2 waits for day 21
        (21, 1, 2),
        (30, 2, None),
        (45, 2, 3),
        (50, 0, 3),  # never reminded: straight to the highest level due
        (50, 1, 3),  # jumps over level 2
        (400, 3, None),  # nothing after the final notice
    ],
)
def test_level_due_escalates_to_the_highest_level_not_yet_sent(
    days: int, last: int, expected: int | None
) -> None:
    assert _level(days, last) == expected


@given(st.integers(-10, 500), st.integers(0, 5), st.integers(0, 100))
def test_level_due_never_goes_down_and_waits_while_days_stand_still(
    days: int, last: int, more: int
) -> None:
    found = level_due(days, last, DEFAULT_LEVELS)
    if found is None:
        return
    assert found.level > last
    assert found.min_days_overdue <= days
    assert level_due(days, found.level, DEFAULT_LEVELS) is None  # same day: nothing again
    later = level_due(days + more, found.level, DEFAULT_LEVELS)
    assert later is None or later.level > found.level


def test_english_letter_fills_every_placeholder() -> None:
    text = letter_text(DEFAULT_LEVELS[0], VALUES, "en")
    assert "invoice INV-2026-0007, due on 15 June 2026" in text
    assert "1,190.00 EUR, now 16 days overdue" in text
    assert "$" not in text


def test_german_letter_writes_german_dates_and_amounts() -> None:
    text = letter_text(DEFAULT_LEVELS[2], VALUES, "de")
    assert text.startswith("Sehr geehrte Damen und Herren,")
    assert "Rechnung INV-2026-0007, fällig am 15.06.2026" in text
    assert "1.190,00 EUR, seit 16 Tagen überfällig" in text
    assert "letzte Mahnung" in text


def test_other_languages_fall_back_to_english() -> None:
    assert letter_text(DEFAULT_LEVELS[1], VALUES, "fr") == letter_text(
        DEFAULT_LEVELS[1], VALUES, "en"
    )
    assert letter_text(DEFAULT_LEVELS[1], VALUES, None).startswith("Dear customer,")
    assert text_in({"de": "Hallo"}, "de-AT") == "Hallo"
    assert text_in({"de": "Hallo"}, "fr") == "Hallo"  # no English either: whatever there is


def test_a_custom_template_with_a_dollar_sign() -> None:
    level = DunningLevel(1, 3, {"en": "Nudge"}, {"en": "Pay $open $$ for ${number} now"})
    assert letter_text(level, VALUES) == "Pay 1,190.00 $ for INV-2026-0007 now"


def test_levels_round_trip_through_json_data() -> None:
    data = levels_to_data(DEFAULT_LEVELS)
    assert levels_from_data(data) == DEFAULT_LEVELS
    plain = levels_from_data(
        [{"level": 1, "min_days_overdue": 10, "title": "Nudge", "template": "Pay $number."}]
    )
    assert plain[0].title == {"en": "Nudge"}
    assert letter_text(plain[0], VALUES, "de") == "Pay INV-2026-0007."


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"level": 1}, "dunning_levels", "a list of levels"),
        ([], "dunning_levels", "at least one level"),
        ([1], "dunning_levels[0]", "an object"),
        (
            [{"level": "1", "min_days_overdue": 7, "title": "a", "template": "b"}],
            "dunning_levels[0].level",
            "whole number",
        ),
        (
            [{"level": 2, "min_days_overdue": 7, "title": "a", "template": "b"}],
            "dunning_levels[0].level",
            "numbered from 1",
        ),
        (
            [{"level": 1, "min_days_overdue": 0, "title": "a", "template": "b"}],
            "dunning_levels[0].min_days_overdue",
            "more than 0",
        ),
        (
            [
                {"level": 1, "min_days_overdue": 14, "title": "a", "template": "b"},
                {"level": 2, "min_days_overdue": 14, "title": "a", "template": "b"},
            ],
            "dunning_levels[1].min_days_overdue",
            "more than 14",
        ),
        (
            [{"level": 1, "min_days_overdue": 7, "title": " ", "template": "b"}],
            "dunning_levels[0].title.en",
            "must not be empty",
        ),
        (
            [{"level": 1, "min_days_overdue": 7, "title": "a", "template": {"en": 5}}],
            "dunning_levels[0].template",
            "object of texts",
        ),
        (
            [{"level": 1, "min_days_overdue": 7, "title": "a", "template": {}}],
            "dunning_levels[0].template",
            "at least one language",
        ),
        (
            [{"level": 1, "min_days_overdue": 7, "title": "a", "template": {"de": "$amount"}}],
            "dunning_levels[0].template.de",
            "unknown placeholder $amount",
        ),
        (
            [{"level": 1, "min_days_overdue": 7, "title": "a", "template": "costs 5$"}],
            "dunning_levels[0].template.en",
            "lone $",
        ),
    ],
)
def test_bad_levels_are_refused_naming_the_field(data: object, field: str, message: str) -> None:
    with pytest.raises(InvalidFieldError, match=message.replace("$", r"\$")) as refused:
        levels_from_data(data)
    assert refused.value.field == field


def test_levels_are_immutable() -> None:
    level = DEFAULT_LEVELS[0]
    with pytest.raises(TypeError):
        level.title["en"] = "Changed"  # type: ignore[index]
