"""A day's exchange rates entered at once, on SQLite and PostgreSQL: each rate is stored and
audited as a single entry is, documents price with them, and one bad rate stores none."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest

from crmledger.bootstrap import App
from crmledger.core.errors import InvalidFieldError

DAY = date(2026, 6, 1)


def _actions(app: App) -> Counter[str]:
    return Counter(r.action for r in app.audit.log(limit=1000))


def test_set_rates_stores_each_rate_with_its_audit_record(app: App) -> None:
    stored = app.rates.set_rates(
        [
            ("USD", DAY, Decimal("0.92")),
            ("GBP", DAY, Decimal("1.1700")),
            ("JPY", DAY, Decimal("0.0062")),
            ("USD", date(2026, 6, 2), Decimal("0.93")),
        ]
    )
    assert [(r.currency, r.day, r.rate, r.base) for r in stored] == [
        ("USD", DAY, Decimal("0.92"), "EUR"),
        ("GBP", DAY, Decimal("1.1700"), "EUR"),
        ("JPY", DAY, Decimal("0.0062"), "EUR"),
        ("USD", date(2026, 6, 2), Decimal("0.93"), "EUR"),
    ]
    found = {(r.currency, r.day): r.rate for r in app.rates.rates()}
    assert found == {
        ("USD", DAY): Decimal("0.92"),
        ("GBP", DAY): Decimal("1.17"),
        ("JPY", DAY): Decimal("0.0062"),
        ("USD", date(2026, 6, 2)): Decimal("0.93"),
    }
    audited = {
        r.resource_id: r.changes["after"]["rate"]
        for r in app.audit.log(limit=1000)
        if r.action == "rate.set"
    }
    assert audited == {
        "USD/2026-06-01": "0.92",
        "GBP/2026-06-01": "1.17",
        "JPY/2026-06-01": "0.0062",
        "USD/2026-06-02": "0.93",
    }
    assert app.audit.verify().ok


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (("EUR", DAY, Decimal("1")), "currency"),
        (("XYZ", DAY, Decimal("1.2")), "currency"),
        (("CHF", DAY, Decimal("-1")), "rate"),
    ],
)
def test_one_bad_rate_stores_none(app: App, bad: tuple[str, date, Decimal], field: str) -> None:
    before = _actions(app)
    with pytest.raises(InvalidFieldError) as refused:
        app.rates.set_rates([("USD", DAY, Decimal("0.92")), bad])
    assert refused.value.field == field
    assert app.rates.rates() == []
    assert _actions(app) == before
