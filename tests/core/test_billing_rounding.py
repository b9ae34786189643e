"""Rounding of document totals, worked by hand and checked against exact fractions: half
units, zero- and three-decimal currencies, rates with many decimals, prices with and without
tax, per line and per document; and, for any lines and rates, net + tax = gross on every line
and the document, and the entry posts exactly the document's net, tax and total."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmledger.core.billing.entries import (
    BillingAccounts,
    BillingDocument,
    FxRate,
    document_entry,
)
from crmledger.core.crm.documents import Line, TaxBasis, TaxRule, Totals, line_amount, totals
from crmledger.core.entries import JournalEntry, check_balanced

D = Decimal
ACCOUNTS = BillingAccounts()


def lines(*prices: str, quantity: str = "1", category: str = "standard") -> list[Line]:
    return [
        Line(None, f"Item {i}", D(quantity), D(p), tax_category=category)
        for i, p in enumerate(prices)
    ]


def rule(rate: str, per: TaxBasis) -> dict[str, TaxRule]:
    return {"standard": TaxRule(D(rate), per)}


def line_taxes(added: Totals) -> list[Decimal]:
    return [t.tax for t in added.lines]


# -- worked by hand -------------------------------------------------------------------------


def test_half_cents_round_to_even_per_line_and_once_per_document() -> None:
    two = lines("0.25", "0.25")  # 0.025 of tax each
    by_line = totals(two, 2, rule("0.10", "line"))
    assert line_taxes(by_line) == [D("0.02"), D("0.02")]  # 0.025 → 0.02 (2 is even)
    assert (by_line.net, by_line.tax, by_line.gross) == (D("0.50"), D("0.04"), D("0.54"))
    by_doc = totals(two, 2, rule("0.10", "document"))
    assert by_doc.tax == D("0.05")  # 0.50 * 0.10 = 0.05 exactly, once
    assert line_taxes(by_doc) == [D("0.03"), D("0.02")]  # the spare cent to the first line
    odd = totals(lines("0.35"), 2, rule("0.10", "line"))
    assert odd.tax == D("0.04")  # 0.035 → 0.04 (4 is even)


def test_yen_have_no_decimals() -> None:
    three = totals(lines("333", quantity="3"), 0, rule("0.10", "line"))
    assert (three.net, three.tax, three.gross) == (D("999"), D("100"), D("1099"))  # 99.9 → 100
    halves = lines("105", "105")  # 10.5 yen of tax each
    assert totals(halves, 0, rule("0.10", "line")).tax == D("20")  # 10.5 → 10, twice
    by_doc = totals(halves, 0, rule("0.10", "document"))
    assert (by_doc.tax, line_taxes(by_doc)) == (D("21"), [D("11"), D("10")])
    inclusive = totals(lines("999"), 0, rule("0.10", "line"), inclusive=True)
    # 999 * 0.10 / 1.10 = 90.81… → 91; the customer pays the 999 shown
    assert (inclusive.gross, inclusive.tax, inclusive.net) == (D("999"), D("91"), D("908"))


def test_kuwaiti_dinars_keep_three_decimals() -> None:
    fils = lines("0.010", "0.010", "0.010")  # 0.0005 of tax each at 5 %
    assert totals(fils, 3, rule("0.05", "line")).tax == D("0.000")  # half → even 0, thrice
    by_doc = totals(fils, 3, rule("0.05", "document"))
    assert by_doc.tax == D("0.002")  # 0.030 * 0.05 = 0.0015 → 0.002
    assert line_taxes(by_doc) == [D("0.001"), D("0.001"), D("0.000")]
    gross = totals(lines("1.000"), 3, rule("0.05", "line"), inclusive=True)
    # 1.000 * 0.05 / 1.05 = 0.047619… → 0.048
    assert (gross.gross, gross.tax, gross.net) == (D("1.000"), D("0.048"), D("0.952"))


def test_a_rate_with_twelve_decimals() -> None:
    rate = "0.123456789012"
    net = totals(lines("100.00"), 2, rule(rate, "line"))
    assert net.tax == D("12.35")  # 12.3456789012 → 12.35
    gross = totals(lines("100.00"), 2, rule(rate, "line"), inclusive=True)
    # 100 * 0.123456789012 / 1.123456789012 = 10.98901… (the rate is about 10/81, so the
    # share is about 10/91) → 10.99
    assert (gross.gross, gross.tax, gross.net) == (D("100.00"), D("10.99"), D("89.01"))


def test_prices_with_tax_per_line() -> None:
    shirts = totals(lines("11.90", "10.00"), 2, rule("0.19", "line"), inclusive=True)
    # 11.90 * 0.19 / 1.19 = 1.90 exactly; 10.00 * 0.19 / 1.19 = 1.5966… → 1.60
    assert line_taxes(shirts) == [D("1.90"), D("1.60")]
    assert [t.net for t in shirts.lines] == [D("10.00"), D("8.40")]
    assert (shirts.gross, shirts.tax, shirts.net) == (D("21.90"), D("3.50"), D("18.40"))
    discounted = totals(
        [Line(None, "Shirt", D(3), D("11.90"), D("10"))], 2, rule("0.19", "line"), inclusive=True
    )
    # 3 * 11.90 less 10 % = 32.13 gross; 32.13 * 0.19 / 1.19 = 5.13 exactly
    assert (discounted.gross, discounted.tax, discounted.net) == (
        D("32.13"),
        D("5.13"),
        D("27.00"),
    )


def test_prices_with_tax_per_document_and_half_units() -> None:
    pair = totals(lines("10.00", "10.00"), 2, rule("0.19", "document"), inclusive=True)
    # 20.00 * 0.19 / 1.19 = 3.1932… → 3.19 once; the lines share it 1.60 + 1.59
    assert (pair.gross, pair.tax, pair.net) == (D("20.00"), D("3.19"), D("16.81"))
    assert line_taxes(pair) == [D("1.60"), D("1.59")]
    assert [t.net for t in pair.lines] == [D("8.40"), D("8.41")]
    # At 60 % the tax is 0.6 / 1.6 = 0.375 of the gross: 0.04 holds 0.015 of tax, a half cent
    three = lines("0.04", "0.04", "0.04")
    by_line = totals(three, 2, rule("0.60", "line"), inclusive=True)
    assert line_taxes(by_line) == [D("0.02")] * 3  # 0.015 → 0.02, thrice
    assert (by_line.gross, by_line.tax, by_line.net) == (D("0.12"), D("0.06"), D("0.06"))
    by_doc = totals(three, 2, rule("0.60", "document"), inclusive=True)
    assert by_doc.tax == D("0.04")  # 0.12 * 0.375 = 0.045 → 0.04, once
    assert line_taxes(by_doc) == [D("0.02"), D("0.01"), D("0.01")]
    assert (by_doc.gross, by_doc.net) == (D("0.12"), D("0.08"))


def test_the_categories_of_a_document_are_rounded_apart() -> None:
    mixed = [*lines("9.99", "9.99"), *lines("5.35", category="reduced")]
    taxes = {"standard": TaxRule(D("0.19"), "document"), "reduced": TaxRule(D("0.07"), "line")}
    added = totals(mixed, 2, taxes, inclusive=True)
    # standard: 19.98 * 0.19 / 1.19 = 3.1900… → 3.19; reduced: 5.35 * 0.07 / 1.07 = 0.35
    assert [(c.category, c.base, c.tax) for c in added.tax_by_category] == [
        ("reduced", D("5.00"), D("0.35")),
        ("standard", D("16.79"), D("3.19")),
    ]
    assert (added.gross, added.tax, added.net) == (D("25.33"), D("3.54"), D("21.79"))


@pytest.mark.parametrize("inclusive", [False, True])
def test_the_entry_posts_the_document_exactly(inclusive: bool) -> None:
    added = totals(lines("10.00", "10.00"), 2, rule("0.19", "document"), inclusive=inclusive)
    entry = _entry(added, 2)
    amounts = [(p.account, p.amount) for p in entry.postings]
    if inclusive:
        assert amounts == [
            ("Assets:Receivables:Customers", D("20.00")),
            ("Income:Sales:Services", D("-16.81")),
            ("Liabilities:Tax:Output", D("-3.19")),
        ]
    else:
        assert amounts == [
            ("Assets:Receivables:Customers", D("23.80")),
            ("Income:Sales:Services", D("-20.00")),
            ("Liabilities:Tax:Output", D("-3.80")),
        ]


# -- for any lines and rates ---------------------------------------------------------------


def _entry(added: Totals, scale: int) -> JournalEntry:
    doc = BillingDocument(
        kind="invoice",
        number="INV-1",
        party="7",
        on=date(2026, 3, 1),
        currency="XTS",
        lines=tuple(("Income:Sales:Services", t.net) for t in added.lines),
        taxes=tuple(("standard", t.tax) for t in added.lines),
        gross=added.gross,
    )
    entry, _ = document_entry(doc, ACCOUNTS, FxRate("XTS", "XTS", D(1), scale))
    check_balanced(entry.postings, {"XTS": scale})
    return entry


def _half_even(value: Fraction, scale: int) -> Decimal:
    """``value`` rounded half to even at ``scale`` decimals, computed with exact fractions."""
    scaled = value * 10**scale
    floor = scaled.numerator // scaled.denominator
    rest = scaled - floor
    up = rest > Fraction(1, 2) or (rest == Fraction(1, 2) and floor % 2 == 1)
    return D(floor + int(up)).scaleb(-scale)


def _tax_part(amount: Decimal, rate: Decimal, inclusive: bool) -> Fraction:
    fraction = Fraction(rate) / (1 + Fraction(rate)) if inclusive else Fraction(rate)
    return Fraction(amount) * fraction


scales = st.sampled_from([0, 2, 3])
line_values = st.tuples(
    st.integers(1, 5),  # quantity
    st.integers(0, 10_000_000),  # unit price in minor units
    st.sampled_from([D(0), D(10), D("12.5"), D("33.333333")]),  # discount %
    st.sampled_from(["standard", "reduced"]),
)
rate_values = st.decimals(min_value=D(0), max_value=D(1), places=12)


@settings(max_examples=300)
@given(
    scale=scales,
    values=st.lists(line_values, min_size=1, max_size=8),
    rates=st.tuples(rate_values, rate_values),
    bases=st.tuples(st.sampled_from(["line", "document"]), st.sampled_from(["line", "document"])),
    inclusive=st.booleans(),
)
def test_any_document_adds_up_and_posts_what_it_shows(
    scale: int,
    values: list[tuple[int, int, Decimal, str]],
    rates: tuple[Decimal, Decimal],
    bases: tuple[TaxBasis, TaxBasis],
    inclusive: bool,
) -> None:
    doc_lines = [
        Line(None, "x", D(q), D(p).scaleb(-scale), discount, category)
        for q, p, discount, category in values
    ]
    taxes = {
        "standard": TaxRule(rates[0], bases[0]),
        "reduced": TaxRule(rates[1], bases[1]),
    }
    added = totals(doc_lines, scale, taxes, inclusive=inclusive)
    amounts = [line_amount(line, scale) for line in doc_lines]
    # Per line: an inclusive line's net and tax are its gross; an exclusive line's net is it.
    for line_total, amount in zip(added.lines, amounts, strict=True):
        assert (line_total.net + line_total.tax if inclusive else line_total.net) == amount
    shown = sum(amounts, D(0))
    assert (added.gross if inclusive else added.net) == shown
    assert added.net + added.tax == added.gross
    # Per category: the lines' taxes add up to the category's, as the exact rule says.
    members: dict[str, list[int]] = defaultdict(list)
    for i, line in enumerate(doc_lines):
        members[line.tax_category].append(i)
    for category in added.tax_by_category:
        index = members[category.category]
        rate, per = taxes[category.category].rate, taxes[category.category].per
        assert sum((added.lines[i].tax for i in index), D(0)) == category.tax
        if per == "document":
            whole = sum((_tax_part(amounts[i], rate, inclusive) for i in index), Fraction(0))
            assert category.tax == _half_even(whole, scale)
        else:
            for i in index:
                assert added.lines[i].tax == _half_even(
                    _tax_part(amounts[i], rate, inclusive), scale
                )
    assert sum((c.base for c in added.tax_by_category), D(0)) == added.net
    # The ledger: receivable = total, revenue = net, tax = tax, to the last minor unit.
    entry = _entry(added, scale)
    postings = entry.postings
    assert postings[0].amount == added.gross
    assert -sum((p.amount for p in postings if p.account.startswith("Income")), D(0)) == added.net
    assert -sum((p.amount for p in postings if p.account.startswith("Liab")), D(0)) == added.tax
