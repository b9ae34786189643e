"""Pure domain rules: minor units, balancing, the canonical record and its hash."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmledger.core.entries import Conversion, JournalEntry, Posting, check_balanced
from crmledger.core.errors import ExcessPrecisionError, InvalidAmountError, UnbalancedEntryError
from crmledger.core.hashing import GENESIS, canonical_document, canonical_record, chain_hash
from crmledger.core.money import format_minor, from_minor, to_minor

SCALES = {"EUR": 2, "JPY": 0, "ACME": 4}


@given(st.integers(min_value=-(10**15), max_value=10**15), st.integers(0, 12))
def test_minor_units_round_trip_exactly(minor: int, scale: int) -> None:
    assert to_minor(from_minor(minor, scale), scale) == minor
    assert format_minor(minor, scale) == format(from_minor(minor, scale), "f")


@pytest.mark.parametrize("text", ["0.001", "1.005", "1E-3"])
def test_excess_precision_is_refused_never_rounded(text: str) -> None:
    with pytest.raises(ExcessPrecisionError, match="more than 2 decimal"):
        to_minor(Decimal(text), 2, "EUR")


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_amounts_are_refused(text: str) -> None:
    with pytest.raises(InvalidAmountError):
        to_minor(Decimal(text), 2)


def test_trailing_zeros_and_exponents_are_fine() -> None:
    assert to_minor(Decimal("1.50000"), 2) == 150
    assert to_minor(Decimal("1E+2"), 0) == 100


def test_conversions_balance_within_half_a_minor_unit_per_converted_posting() -> None:
    buy = Posting("Assets:Stock", Decimal("3"), "ACME", price=Conversion(Decimal("10.333"), "EUR"))
    check_balanced((buy, Posting("Assets:Cash", Decimal("-31.00"), "EUR")), SCALES)  # 0.001 off
    with pytest.raises(UnbalancedEntryError):
        check_balanced((buy, Posting("Assets:Cash", Decimal("-31.01"), "EUR")), SCALES)
    with pytest.raises(UnbalancedEntryError):  # no conversion: exact
        check_balanced(
            (
                Posting("Assets:Cash", Decimal("1.00"), "EUR"),
                Posting("Income:Other", Decimal("-0.99"), "EUR"),
            ),
            SCALES,
        )


texts = st.text(max_size=30)
optional = st.none() | texts


@st.composite
def entries(draw: st.DrawFn) -> JournalEntry:
    def posting() -> Posting:
        commodity = draw(st.sampled_from(sorted(SCALES)))
        amount = Decimal(draw(st.integers(-(10**9), 10**9))).scaleb(-SCALES[commodity])
        conversion = draw(
            st.none()
            | st.builds(
                Conversion,
                st.decimals(allow_nan=False, allow_infinity=False, places=5),
                st.just("EUR"),
                st.booleans(),
            )
        )
        return Posting(
            draw(texts), amount, commodity, price=conversion, party=draw(optional), memo=draw(texts)
        )

    return JournalEntry(
        date=draw(st.dates(date(1990, 1, 1), date(2100, 12, 31))),
        narration=draw(texts),
        postings=tuple(posting() for _ in range(draw(st.integers(1, 4)))),
        payee=draw(optional),
        party=draw(optional),
        reference=draw(optional),
        tags=tuple(draw(st.lists(texts, max_size=3))),
        links=tuple(draw(st.lists(texts, max_size=2))),
        meta=tuple(draw(st.lists(st.tuples(texts, texts), max_size=3))),
        number=draw(st.none() | st.integers(1, 10**6)),
        reverses=draw(st.none() | st.integers(1, 99)),
    )


@given(entries(), st.text(min_size=1, max_size=70))
def test_the_hand_written_record_is_canonical_json(entry: JournalEntry, previous: str) -> None:
    document = canonical_document(entry, SCALES, previous)
    expected = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_record(entry, SCALES, previous) == expected.encode()


def test_the_hash_of_a_known_entry_never_changes() -> None:
    """Golden value: if this changes, every stored chain stops verifying (bump the version)."""
    entry = JournalEntry(
        date=date(2026, 1, 5),
        narration="Bürostühle",
        number=1,
        payee="Möbel AG",
        postings=(
            Posting("Expenses:Office", Decimal("120.00"), "EUR"),
            Posting("Assets:Bank:Checking", Decimal("-120.00"), "EUR"),
        ),
    )
    digest = chain_hash(canonical_record(entry, SCALES, GENESIS))
    assert digest == chain_hash(canonical_record(entry, SCALES, GENESIS, number=1))
    assert digest == GOLDEN


GOLDEN = "$1$6afb216dfa8107898ee86c416a060eb6bdaa6e02014090671ddc7eddcab8928d"


@pytest.mark.parametrize("module", ["money", "accounts", "entries", "hashing"])
def test_the_examples_in_the_docstrings_run(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(
        importlib.import_module(f"crmledger.core.{module}"), optionflags=doctest.ELLIPSIS
    )
    assert result.failed == 0
    assert result.attempted > 0
