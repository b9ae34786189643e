"""ledger-cli / hledger journals in and out, checked against ledger and hledger themselves.

:func:`tests.peers.ledger_balances` and :func:`tests.peers.hledger_balances` are the oracles:
the real tools sum a written file, and the sums must equal the sums of the entries that were
written (:func:`tests.helpers.posting_sums`), to the last digit.
"""

from __future__ import annotations

import doctest
import io
import random
import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmledger.core.accounts import Account
from crmledger.core.entries import Conversion, EntryState, JournalEntry, Posting, check_balanced
from crmledger.core.imports import BalanceAssertion, ParsedFile, Problem
from crmledger.core.money import Commodity
from crmledger.formats import (
    ledger_declarations,
    ledger_journal,
    ledger_reader,
    ledger_syntax,
    ledger_writer,
)
from crmledger.formats.ledger_journal import read_ledger, read_ledger_file, write_ledger
from tests.helpers import posting_sums
from tests.peers import hledger_balances, ledger_balances, needs


def write_text(
    commodities: Iterable[Commodity], accounts: Iterable[Account], entries: Iterable[JournalEntry]
) -> str:
    """What :func:`write_ledger` writes, as a string."""
    out = io.StringIO()
    write_ledger(out, commodities, accounts, entries)
    return out.getvalue()


# -- a generated multi-commodity book ---------------------------------------------------

COMMODITIES = [
    Commodity("USD", 2, "US Dollar"),
    Commodity("EUR", 2, "Euro"),
    Commodity("JPY", 0, "Yen"),
    Commodity("ABC", 4, "Alpha Beta Corp"),
    Commodity("VBM-X", 3),
    Commodity("$", 2),
]
SCALES = {c.code: c.scale for c in COMMODITIES}
ACCOUNTS = [
    Account("Assets:Bank:Checking", description="Main account"),
    Account("Assets:Bank Account:EUR"),
    Account("Assets:Cash:JPY"),
    Account("Assets:Broker"),
    Account("Liabilities:Card 2"),
    Account("Income:Sales"),
    Account("Income:Gains"),
    Account("Expenses:Food"),
    Account("Expenses:Food:Extra"),
    Account("Expenses:Travel"),
    Account("Equity:Opening Balances"),
]
CASH = {"USD": "Assets:Bank:Checking", "EUR": "Assets:Bank Account:EUR", "JPY": "Assets:Cash:JPY"}


def _money(rng: random.Random, scale: int, top: int = 100_000) -> Decimal:
    return Decimal(rng.randint(1, top)).scaleb(-scale)


def _plain(rng: random.Random) -> tuple[Posting, ...]:
    code = rng.choice(["USD", "EUR", "JPY", "$"])
    amount = _money(rng, SCALES[code])
    split = (amount / 3).quantize(Decimal(1).scaleb(-SCALES[code]))
    return (
        Posting("Expenses:Food", split, code, memo="split" if rng.random() < 0.2 else ""),
        Posting("Expenses:Food:Extra", amount - split, code),
        Posting(CASH.get(code, "Liabilities:Card 2"), -amount, code),
    )


def _stock_buy(rng: random.Random) -> tuple[Posting, ...]:
    while True:
        units = _money(rng, 4, 500_000)
        price = _money(rng, 2, 50_000)
        cash = (units * price).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
        if abs(units * price - cash) != Decimal("0.005"):  # a tie rounds differently per tool
            break
    conversion = Conversion(price, "USD")
    paid = Posting("Assets:Bank:Checking", -cash, "USD")
    if rng.random() < 0.7:
        return Posting("Assets:Broker", units, "ABC", price=conversion), paid
    # A cost and a third commodity: ledger and hledger balance it only by the written `@`.
    fee = _money(rng, 2, 500)
    return (
        Posting("Assets:Broker", units, "ABC", cost=conversion),
        paid,
        Posting("Expenses:Travel", fee, "EUR", memo="broker fee"),
        Posting("Assets:Bank Account:EUR", -fee, "EUR"),
    )


def _total_priced(rng: random.Random) -> tuple[Posting, ...]:
    total = _money(rng, 2)
    if rng.random() < 0.5:
        units = -_money(rng, 4, 20_000)
        conversion = Conversion(total, "USD", total=True)
        sold = Posting("Assets:Broker", units, "ABC", cost=conversion)
        if rng.random() < 0.5:
            sold = Posting("Assets:Broker", units, "ABC", price=conversion)
        return sold, Posting("Assets:Bank:Checking", total, "USD")
    units = _money(rng, 3)
    fund = Posting("Assets:Broker", units, "VBM-X", price=Conversion(total, "USD", total=True))
    return fund, Posting("Assets:Bank:Checking", -total, "USD")


def _fx(rng: random.Random) -> tuple[Posting, ...]:
    yen = _money(rng, 0, 2_000_000)
    euros = _money(rng, 2)
    return (
        Posting("Assets:Cash:JPY", yen, "JPY", price=Conversion(euros, "EUR", total=True)),
        Posting("Assets:Bank Account:EUR", -euros, "EUR", memo="fx"),
    )


def _dollar_sale(rng: random.Random) -> tuple[Posting, ...]:
    amount = _money(rng, 2)
    return (
        Posting("Liabilities:Card 2", amount, "$"),
        Posting("Income:Sales", -amount, "$", memo="first line\nsecond line"),
    )


_KINDS = (_plain, _stock_buy, _total_priced, _fx, _dollar_sale)


def generated_entries(count: int, seed: int = 7) -> list[JournalEntry]:
    """``count`` draft entries over every commodity, each balancing within core's rules."""
    rng = random.Random(seed)
    entries: list[JournalEntry] = []
    day = date(2023, 1, 1)
    for i in range(count):
        day += timedelta(days=rng.randint(0, 2))
        postings = _KINDS[i % len(_KINDS)](rng)
        check_balanced(postings, SCALES)
        meta: tuple[tuple[str, str], ...] = (("status", "*"),) if i % 3 else ()
        if i % 4 == 0:
            meta += (("invoice", f"INV-{i}"), ("comment", "checked by Ann"))
        entries.append(
            JournalEntry(
                date=day,
                narration=f"Entry {i}" if i % 7 else f"Split | piped ({i})",
                postings=postings,
                payee=f"Payee {i % 11}" if i % 7 and i % 2 else None,
                reference=f"R{i}" if i % 5 == 0 else None,
                tags=("trip", "q1") if i % 6 == 0 else (),
                meta=meta,
            )
        )
    return entries


@pytest.fixture(scope="module")
def book() -> list[JournalEntry]:
    return generated_entries(400)


@pytest.fixture(scope="module")
def written(book: list[JournalEntry], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ledger") / "book.journal"
    path.write_text(write_text(COMMODITIES, ACCOUNTS, book), encoding="utf-8")
    return path


# -- the oracles --------------------------------------------------------------------------


@needs("ledger")
def test_ledger_sums_the_written_book_like_the_entries(
    book: list[JournalEntry], written: Path
) -> None:
    expected = posting_sums(book)
    assert len({commodity for _, commodity in expected}) == len(COMMODITIES)
    assert ledger_balances(written) == expected


@needs("hledger")
def test_hledger_sums_the_written_book_like_the_entries(
    book: list[JournalEntry], written: Path
) -> None:
    assert hledger_balances(written) == posting_sums(book)


@needs("ledger", "hledger")
def test_both_tools_fill_an_elided_amount_like_the_reader(tmp_path: Path) -> None:
    text = """commodity USD
    format 1000.00 USD
commodity ABC
    format 1000.0000 ABC

2024-03-01 Buy
    Assets:Broker  3.0000 ABC @ 1.333 USD
    Assets:Broker  2.5000 ABC @@ 10.00 USD
    Expenses:Fees  0.50 USD
    Assets:Bank
"""
    path = tmp_path / "elided.journal"
    path.write_text(text, encoding="utf-8")
    parsed = read_ledger_file(path)
    assert parsed.problems == []
    filled = parsed.entries[0].entry.postings[-1]
    assert (filled.account, filled.amount, filled.commodity) == (
        "Assets:Bank",
        Decimal("-14.50"),
        "USD",
    )
    sums = posting_sums(s.entry for s in parsed.entries)
    assert ledger_balances(path) == sums
    assert hledger_balances(path) == sums


@needs("ledger", "hledger")
def test_scale_zero_and_quoted_formats_are_accepted_by_both_tools(tmp_path: Path) -> None:
    entry = JournalEntry(
        date(2024, 1, 2),
        "Units",
        (
            Posting("Assets:Cash:JPY", Decimal(1000), "JPY"),
            Posting("Assets:Broker", Decimal("-2.5"), "VBM-X"),
            Posting("Equity:Opening Balances", Decimal(-1000), "JPY"),
            Posting("Equity:Opening Balances", Decimal("2.5"), "VBM-X"),
        ),
    )
    path = tmp_path / "formats.journal"
    path.write_text(write_text(COMMODITIES, [], [entry]), encoding="utf-8")
    # Each tool refusing the file fails the test with its message.
    assert ledger_balances(path) == hledger_balances(path) == posting_sums([entry])


# -- round trips --------------------------------------------------------------------------


def test_write_read_gives_the_entries_back(book: list[JournalEntry]) -> None:
    parsed = read_ledger(write_text(COMMODITIES, ACCOUNTS, book), "book.journal")
    assert parsed.problems == []
    assert parsed.skipped == []
    assert [s.entry for s in parsed.entries] == book
    assert parsed.commodities == COMMODITIES
    assert parsed.accounts == ACCOUNTS


def test_write_read_write_gives_identical_text(book: list[JournalEntry]) -> None:
    first = write_text(COMMODITIES, ACCOUNTS, book)
    parsed = read_ledger(first, "book.journal")
    second = write_text(parsed.commodities, parsed.accounts, [s.entry for s in parsed.entries])
    assert second == first


def test_entry_lines_point_at_their_headers(book: list[JournalEntry]) -> None:
    text = write_text(COMMODITIES, ACCOUNTS, book)
    lines = text.split("\n")
    parsed = read_ledger(text, "book.journal")
    for source in parsed.entries:
        assert lines[source.line - 1].startswith(source.entry.date.isoformat())


_TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters=";|"),
    min_size=1,
    max_size=30,
).map(str.strip)


@settings(max_examples=150, deadline=None)
@given(payee=st.none() | _TEXT.filter(bool), narration=_TEXT)
def test_payee_and_narration_survive_the_round_trip(payee: str | None, narration: str) -> None:
    entry = JournalEntry(
        date(2024, 5, 6),
        narration,
        (
            Posting("Assets:Cash:JPY", Decimal(5), "JPY"),
            Posting("Income:Sales", Decimal(-5), "JPY"),
        ),
        payee=payee,
    )
    parsed = read_ledger(write_text([], [], [entry]), "x")
    assert [s.entry for s in parsed.entries] == [entry]


def test_posted_and_reversed_entries_are_written_cleared() -> None:
    postings = (
        Posting("Assets:Cash:JPY", Decimal(5), "JPY"),
        Posting("Income:Sales", Decimal(-5), "JPY"),
    )
    entries = [
        JournalEntry(date(2024, 1, 1), "Draft", postings),
        JournalEntry(date(2024, 1, 2), "Posted", postings, state=EntryState.POSTED),
        JournalEntry(date(2024, 1, 3), "Reversed", postings, state=EntryState.REVERSED),
        JournalEntry(date(2024, 1, 4), "Pending", postings, meta=(("status", "!"),)),
    ]
    headers = [line for line in write_text([], [], entries).splitlines() if line[:1].isdigit()]
    assert headers == [
        "2024-01-01 Draft",
        "2024-01-02 * Posted",
        "2024-01-03 * Reversed",
        "2024-01-04 ! Pending",
    ]


def test_writer_formats_amounts_at_the_commodity_scale_and_quotes_odd_codes() -> None:
    entry = JournalEntry(
        date(2024, 1, 2),
        "Mixed",
        (
            Posting("Assets:Bank:Checking", Decimal("-123.4"), "USD"),
            Posting(
                "Assets:Broker", Decimal("2"), "VBM-X", price=Conversion(Decimal("61.7"), "USD")
            ),
            Posting("Liabilities:Card 2", Decimal("5"), "$"),
            Posting("Income:Sales", Decimal("-5"), "$"),
        ),
    )
    text = write_text(COMMODITIES, [], [entry])
    assert "commodity USD\n    format 1000.00 USD\n" in text
    assert "commodity JPY\n    format JPY 1000.\n" in text
    assert 'commodity "VBM-X"\n    format 1000.000 "VBM-X"\n' in text
    assert "commodity $\n    format $1000.00\n" in text
    assert "commodity ABC  ; name: Alpha Beta Corp\n" in text
    assert "-123.40 USD" in text
    assert '2.000 "VBM-X" @ 61.70 USD' in text
    assert "$5.00" in text
    assert "$-5.00" in text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"narration": "a; b"}, "';'"),
        ({"payee": "A | B"}, "'|'"),
        ({"reference": "R(1)"}, "reference"),
        ({"tags": ("two words",)}, "tag"),
        ({"meta": (("key", "line\nbreak"),)}, "line break"),
    ],
)
def test_writer_refuses_text_the_format_cannot_carry(
    change: dict[str, object], message: str
) -> None:
    postings = (
        Posting("Assets:Cash:JPY", Decimal(5), "JPY"),
        Posting("Income:Sales", Decimal(-5), "JPY"),
    )
    entry = JournalEntry(date(2024, 1, 1), "x", postings)
    bad = replace(entry, **change)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape(message)):
        write_text([], [], [bad])


# -- reading ------------------------------------------------------------------------------

JOURNAL = """\
; A hand-written journal in the shapes ledger and hledger users write.
commodity $1,000.00
commodity USD
    format 1,000.00 USD
commodity 1000.0000 ABC
commodity EUR
    note Euro
commodity "VBM-X"

account Assets:Bank
    note Main account
account Assets:Broker  ; where the shares live
account Expenses:Food
account Equity:Opening

P 2024/01/01 ABC 10.00 USD
include other.journal
~ monthly
    Expenses:Food  10 USD
    Assets:Bank

2024/01/02=2024/01/05 * (#12) Shop | Lunch  ; trip:
    ; :work:client:
    ; billable: yes, project: apollo
    ; paid by card
    Expenses:Food     $1,234.50  ; tip included
    ; second memo line
    Assets:Bank  -$1,234.50 = $-1,234.50

2024.01.03 ! Move money
    Assets:Bank  EUR 10
    Assets:Bank  -10.5 USD
    Equity:Opening

2024-01-04 Shares
    Assets:Broker  10 ABC @ 12.345 USD
    Assets:Broker  2 "VBM-X" @@ 30 USD
    Assets:Broker  1.5 ABC {{20 USD}} @@ 20 USD
    Assets:Bank  -1,000 JPY
    Assets:Bank
"""


@pytest.fixture(scope="module")
def journal() -> ParsedFile:
    return read_ledger(JOURNAL, "hand.journal")


def test_hand_written_journal_reads_without_problems(journal: ParsedFile) -> None:
    assert journal.problems == []
    assert [s.line for s in journal.entries] == [22, 30, 35]


def test_commodity_directives_give_scales(journal: ParsedFile) -> None:
    assert journal.commodities + journal.inferred_commodities == [
        Commodity("$", 2),
        Commodity("USD", 2, "US Dollar"),
        Commodity("ABC", 4),
        Commodity("EUR", 2, "Euro"),
        Commodity("VBM-X", 0),
        Commodity("JPY", 0, "Yen"),  # undeclared, appended after the declared ones
    ]


def test_scale_without_format_is_the_most_places_written_and_iso_keeps_its_own() -> None:
    parsed = read_ledger(
        """commodity XYZ
commodity USD
commodity JPY
    format 1,000.000 JPY

2024-01-01 x
    Assets:A  1.5 XYZ
    Assets:A  1.125 XYZ @ 1.123456 USD
    Assets:A  1 USD
    Assets:A  1.5 QQQ
    Assets:A  1 JPY
    Equity:E
""",
        "s",
    )
    assert parsed.problems == []
    assert parsed.commodities + parsed.inferred_commodities == [
        Commodity("XYZ", 3),
        Commodity("USD", 2, "US Dollar"),
        Commodity("JPY", 3, "Yen"),
        Commodity("QQQ", 1),
    ]


def test_accounts_from_directives(journal: ParsedFile) -> None:
    assert journal.accounts == [
        Account("Assets:Bank", description="Main account"),
        Account("Assets:Broker"),
        Account("Expenses:Food"),
        Account("Equity:Opening"),
    ]


def test_header_maps_status_aux_date_code_payee_and_comments(journal: ParsedFile) -> None:
    entry = journal.entries[0].entry
    assert entry.date == date(2024, 1, 2)
    assert (entry.payee, entry.narration, entry.reference) == ("Shop", "Lunch", "#12")
    assert entry.tags == ("trip", "work", "client")
    assert entry.meta == (
        ("status", "*"),
        ("aux_date", "2024-01-05"),
        ("billable", "yes"),
        ("project", "apollo"),
        ("comment", "paid by card"),
    )
    food, bank = entry.postings
    assert (food.amount, food.commodity, food.memo) == (
        Decimal("1234.50"),
        "$",
        "tip included\nsecond memo line",
    )
    assert (bank.amount, bank.commodity) == (Decimal("-1234.50"), "$")


def test_balance_assertion_holds_at_the_start_of_the_next_day(journal: ParsedFile) -> None:
    assert journal.assertions == [
        BalanceAssertion(28, date(2024, 1, 3), "Assets:Bank", Decimal("-1234.50"), "$")
    ]


def test_elided_amount_spanning_two_commodities_becomes_two_postings(journal: ParsedFile) -> None:
    entry = journal.entries[1].entry
    assert entry.meta == (("status", "!"),)
    assert entry.payee is None
    assert [(p.account, p.amount, p.commodity) for p in entry.postings] == [
        ("Assets:Bank", Decimal(10), "EUR"),
        ("Assets:Bank", Decimal("-10.5"), "USD"),
        ("Equity:Opening", Decimal(-10), "EUR"),
        ("Equity:Opening", Decimal("10.50"), "USD"),
    ]


def test_prices_and_costs(journal: ParsedFile) -> None:
    postings = journal.entries[2].entry.postings
    assert postings[0].price == Conversion(Decimal("12.345"), "USD")
    assert postings[1].price == Conversion(Decimal(30), "USD", total=True)
    assert postings[2].cost == Conversion(Decimal(20), "USD", total=True)
    assert (postings[3].amount, postings[3].commodity) == (Decimal(-1000), "JPY")
    filled = [(p.amount, p.commodity) for p in postings[4:]]
    assert filled == [(Decimal("-173.45"), "USD"), (Decimal(1000), "JPY")]


def test_other_directives_are_listed_as_skipped_with_their_lines(journal: ParsedFile) -> None:
    assert [(p.line, p.field, p.reason) for p in journal.skipped] == [
        (16, "directive", "'P' directive not imported"),
        (17, "directive", "'include' directive not imported"),
        (18, "directive", "periodic transaction not imported"),
    ]


@needs("ledger")
def test_ledger_reads_the_hand_written_journal_like_the_reader(
    journal: ParsedFile, tmp_path: Path
) -> None:
    path = tmp_path / "hand.journal"
    path.write_text(JOURNAL.replace("include other.journal\n", ""), encoding="utf-8")
    assert ledger_balances(path) == posting_sums(s.entry for s in journal.entries)


BAD = """\
commodity USD
account Assets:Bank
account Equity:Opening

2024-13-01 Bad month
    Assets:Bank  1 USD
    Equity:Opening

2024-01-02 Bad amount
    Assets:Bank  12,34 USD
    Equity:Opening

01/03 No year
    Assets:Bank  1 USD
    Equity:Opening

2024-01-04 Two elided
    Assets:Bank
    Equity:Opening

2024-01-05 Virtual
    (Assets:Budget)  5 USD
    Assets:Bank  1 USD
    Equity:Opening

2024-01-06 Lonely
    Assets:Bank  1 USD

2024-01-07 Fine
    Assets:Bank  1 USD
    Equity:Opening

2024-01-08 No commodity
    Assets:Bank  1
    Equity:Opening

2024-01-09 Bad account
    assets:bank  1 USD
    Equity:Opening

2024-01-10 Unknown in strict mode
    Assets:Bank  1 XYZ
    Assets:Other  -1 XYZ
2024-01-11 Truncated"""


def _problems(parsed: ParsedFile) -> list[tuple[int, str]]:
    return [(p.line, p.field) for p in parsed.problems]


def test_bad_input_becomes_problems_with_line_and_field() -> None:
    parsed = read_ledger(BAD, "bad.journal")
    assert _problems(parsed) == [
        (5, "date"),
        (10, "amount"),
        (13, "date"),
        (19, "posting"),
        (22, "account"),
        (26, "entry"),
        (34, "commodity"),
        (38, "account"),
        (44, "entry"),
    ]
    assert all(p.source == "bad.journal" for p in parsed.problems)
    assert "truncated" in parsed.problems[-1].reason
    assert parsed.problems[4].reason == "virtual postings are not supported"
    assert [s.entry.narration for s in parsed.entries] == ["Fine", "Unknown in strict mode"]


def test_header_on_the_last_line_is_reported_as_truncated() -> None:
    parsed = read_ledger("2024-01-01 x\n    Assets:A  1 USD\n    Equity:E\n\n2024-01-02 y\n\n", "t")
    assert [(p.line, p.field) for p in parsed.problems] == [(5, "entry")]
    assert "truncated" in parsed.problems[0].reason
    assert len(parsed.entries) == 1


def test_strict_refuses_undeclared_commodities_and_accounts() -> None:
    parsed = read_ledger(BAD, "bad.journal", strict=True)
    strict = [p for p in parsed.problems if p.line in (42, 43)]
    assert [(p.line, p.field, p.reason) for p in strict] == [
        (42, "commodity", "unknown commodity 'XYZ'; declare it with a commodity directive"),
        (43, "account", "undeclared account 'Assets:Other'; declare it with an account directive"),
        (43, "commodity", "unknown commodity 'XYZ'; declare it with a commodity directive"),
    ]
    assert [s.entry.narration for s in parsed.entries] == ["Fine"]
    assert "XYZ" not in {c.code for c in parsed.commodities}


def test_strict_accepts_iso_currencies_and_late_declarations() -> None:
    text = """2024-01-01 x
    Assets:Bank  1 EUR
    Equity:Opening  -1 ABC

account Assets:Bank
account Equity:Opening
commodity ABC
"""
    parsed = read_ledger(text, "late.journal", strict=True)
    assert parsed.problems == []
    assert len(parsed.entries) == 1


@pytest.mark.parametrize(
    ("posting", "field"),
    [
        ("Assets:Bank  1,5 USD", "amount"),
        ("Assets:Bank  1.5.5 USD", "amount"),
        ("Assets:Bank  USD 1 EUR", "amount"),
        ("Assets:Bank  --1 USD", "amount"),
        ("Assets:Bank  1 usd", "commodity"),
        ("Assets:Bank  1 USD @ x", "price"),
        ("Assets:Bank  1 ABC {1 USD} [2024-01-01]", "amount"),
        ("Assets:Bank  1 ABC {=1 USD}", "price"),
        ("Assets:Bank  = 5 USD", "amount"),
        ("Assets:Bank  1 USD =* 5 USD", "amount"),
        ("[Assets:Bank]  1 USD", "account"),
        ("Bank  1 USD", "account"),
    ],
)
def test_each_bad_posting_is_reported_on_its_line(posting: str, field: str) -> None:
    parsed = read_ledger(f"2024-01-01 x\n    {posting}\n    Equity:Opening  -1 USD\n", "p")
    assert _problems(parsed) == [(2, field)]
    assert parsed.entries == []


def test_amount_shapes() -> None:
    text = """2024-01-01 shapes
    Assets:A  $-5
    Assets:A  -$5.25
    Assets:A  EUR 10
    Assets:A  +1,000,000.5 USD
    Assets:A  3 "VBM-X"
    Assets:A  "VBM-X" -3
    Assets:A\t.5 USD
    Equity:E
"""
    parsed = read_ledger(text, "shapes")
    assert parsed.problems == []
    amounts = [(p.amount, p.commodity) for p in parsed.entries[0].entry.postings[:7]]
    assert amounts == [
        (Decimal(-5), "$"),
        (Decimal("-5.25"), "$"),
        (Decimal(10), "EUR"),
        (Decimal("1000000.5"), "USD"),
        (Decimal(3), "VBM-X"),
        (Decimal(-3), "VBM-X"),
        (Decimal("0.5"), "USD"),
    ]


def test_comment_blocks_top_level_comments_and_crlf_are_understood() -> None:
    text = (
        "comment\r\n2024-01-01 not an entry\r\n    Assets:A  1 USD\r\nend comment\r\n"
        "# hash\r\n% percent\r\n| bar\r\n* org heading\r\n"
        "2024-01-02 real\r\n    Assets:A  1 USD\r\n    Equity:E\r\n"
    )
    parsed = read_ledger(text, "c")
    assert parsed.problems == []
    assert [s.line for s in parsed.entries] == [9]


def test_indented_line_outside_a_transaction_is_a_problem() -> None:
    text = "2024-01-01 x\n    Assets:A  1 USD\n    Equity:E\n\n    Assets:A  1 USD\n"
    parsed = read_ledger(text, "i")
    assert _problems(parsed) == [(5, "posting")]
    assert len(parsed.entries) == 1


def test_elided_amount_next_to_a_cost_without_price_is_refused() -> None:
    text = "2024-01-01 x\n    Assets:A  2 ABC {10 USD}\n    Assets:B\n"
    parsed = read_ledger(text, "c")
    assert _problems(parsed) == [(3, "posting")]
    assert "lot's commodity" in parsed.problems[0].reason


def test_cost_is_written_with_an_equal_price_and_read_back_as_cost_only() -> None:
    bought = Posting("Assets:Broker", Decimal(2), "ABC", cost=Conversion(Decimal(10), "USD"))
    sold = Posting(
        "Assets:Broker",
        Decimal(-1),
        "ABC",
        cost=Conversion(Decimal(10), "USD"),
        price=Conversion(Decimal(12), "USD"),
    )
    cash = Posting("Assets:Bank:Checking", Decimal(-8), "USD")
    entry = JournalEntry(date(2024, 1, 1), "Lots", (bought, sold, cash))
    text = write_text(COMMODITIES, [], [entry])
    assert "2.0000 ABC {10.00 USD} @ 10.00 USD" in text
    assert "-1.0000 ABC {10.00 USD} @ 12.00 USD" in text
    assert [s.entry for s in read_ledger(text, "lots").entries] == [entry]


def test_elided_amount_is_rounded_to_the_commodity_scale() -> None:
    text = "2024-01-01 x\n    Assets:A  3 ABC @ 1.333 USD\n    Assets:B\n"
    entry = read_ledger(text, "r").entries[0].entry
    assert entry.postings[1].amount == Decimal("-4.00")
    check_balanced(entry.postings, {"ABC": 0, "USD": 2})


def test_read_ledger_file_names_its_source(tmp_path: Path) -> None:
    path = tmp_path / "f.journal"
    path.write_text("2024-01-01 x\n    Assets:A  1 USD\n", encoding="utf-8")
    parsed = read_ledger_file(path)
    assert parsed.problems == [
        Problem(str(path), 1, "entry", "a transaction needs at least two postings")
    ]


@pytest.mark.parametrize(
    "module",
    [ledger_journal, ledger_reader, ledger_syntax, ledger_declarations, ledger_writer],
    ids=lambda module: module.__name__.rpartition(".")[2],
)
def test_module_docstring_examples_run(module: ModuleType) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
