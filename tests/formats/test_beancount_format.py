"""Beancount import and export, checked against beancount's own tools.

:func:`tests.peers.bean_query_balances` is the oracle: beancount's query engine sums the file,
and whatever crmledger imported or exported must sum to the same per account and currency.
"""

from __future__ import annotations

import doctest
import io
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmledger.core.accounts import Account
from crmledger.core.entries import Conversion, EntryState, JournalEntry, Posting
from crmledger.core.imports import BalanceAssertion, ParsedFile, Problem
from crmledger.core.money import Commodity
from crmledger.formats import beancount_format, beancount_lots, beancount_reader, beancount_writer
from crmledger.formats.beancount_format import (
    BeancountExportError,
    beancount_account_name,
    beancount_currency_names,
    read_beancount,
    read_beancount_string,
    write_beancount,
)
from tests.helpers import posting_sums
from tests.peers import BEAN_EXAMPLE, bean_check, bean_example, bean_query_balances, needs


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line of ``text`` containing ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def write_parsed(parsed: ParsedFile) -> str:
    out = io.StringIO()
    write_beancount(
        out,
        parsed.commodities,
        parsed.accounts,
        [s.entry for s in parsed.entries],
        parsed.assertions,
    )
    return out.getvalue()


BOOK = """\
option "operating_currency" "USD"

2020-01-01 commodity USD
  name: "US Dollar"
2020-01-01 commodity HOOL
  name: "Hooli Inc."

2020-01-01 open Assets:Bank:Checking USD
  description: "Main account"
2020-01-01 open Assets:Broker HOOL,USD
2020-01-01 open Equity:Opening-Balances
2020-01-01 open Expenses:Food
2020-01-01 open Income:Gains
2020-01-01 open Assets:Old
2020-06-30 close Assets:Old

2020-01-02 pad Assets:Bank:Checking Equity:Opening-Balances
2020-01-03 balance Assets:Bank:Checking  5000.00 USD

2020-01-04 * "Cafe \\"Ole\\"" "Lunch" #food ^receipt-1
  receipt: "R-17"
  count: 3
  Expenses:Food          12.5 USD
  Assets:Bank:Checking

2020-01-05 ! "Buy HOOL"
  Assets:Broker          10 HOOL {80.55 USD, 2020-01-05, "first"}
  Assets:Bank:Checking  -805.50 USD

2020-02-01 * "Sell HOOL"
  Assets:Broker          -4 HOOL {80.55 USD, 2020-01-05, "first"} @@ 360.00 USD
  Assets:Bank:Checking  360.00 USD
  Income:Gains

2020-02-02 price HOOL 90.00 EUR
2020-02-03 note Assets:Broker "called the broker"
2020-02-04 event "location" "Paris"
"""


@pytest.fixture(scope="module")
def book() -> ParsedFile:
    return read_beancount_string(BOOK, "book.beancount")


# --------------------------------------------------------------------------- reading


def test_reads_accounts_with_their_dates_currencies_and_description(book: ParsedFile) -> None:
    accounts = {a.name: a for a in book.accounts}
    assert accounts["Assets:Bank:Checking"] == Account(
        "Assets:Bank:Checking",
        commodities=("USD",),
        open_date=date(2020, 1, 1),
        description="Main account",
    )
    assert accounts["Assets:Broker"].commodities == ("HOOL", "USD")
    assert accounts["Assets:Old"].close_date == date(2020, 6, 30)
    assert accounts["Assets:Old"].open_date == date(2020, 1, 1)
    assert len(book.accounts) == 6


def test_every_currency_used_becomes_a_commodity_with_an_inferred_scale(
    book: ParsedFile,
) -> None:
    assert sorted(book.commodities + book.inferred_commodities, key=lambda c: c.code) == [
        Commodity("EUR", 2, "Euro"),  # only in a price directive: ISO scale
        Commodity("HOOL", 0, "Hooli Inc."),
        Commodity("USD", 2, "US Dollar"),
    ]


def test_padding_entry_is_imported_with_flag_p(book: ParsedFile) -> None:
    padding = book.entries[0]
    assert padding.line == line_of(BOOK, " pad ")
    assert padding.entry.meta == (("flag", "P"),)
    assert [(p.account, p.amount, p.commodity) for p in padding.entry.postings] == [
        ("Assets:Bank:Checking", Decimal("5000.00"), "USD"),
        ("Equity:Opening-Balances", Decimal("-5000.00"), "USD"),
    ]


def test_transaction_maps_payee_tags_links_meta_and_elided_amount(book: ParsedFile) -> None:
    lunch = book.entries[1]
    assert lunch.line == line_of(BOOK, '"Lunch"')
    assert lunch.entry == JournalEntry(
        date=date(2020, 1, 4),
        narration="Lunch",
        payee='Cafe "Ole"',
        postings=(
            Posting("Expenses:Food", Decimal("12.5"), "USD"),
            Posting("Assets:Bank:Checking", Decimal("-12.50"), "USD"),
        ),
        tags=("food",),
        links=("receipt-1",),
        meta=(("receipt", "R-17"), ("count", "3")),
    )
    assert lunch.entry.state is EntryState.DRAFT


def test_cost_keeps_lot_date_and_label_in_memo(book: ParsedFile) -> None:
    buy = book.entries[2].entry
    assert buy.meta == (("flag", "!"),)
    assert buy.postings[0] == Posting(
        "Assets:Broker",
        Decimal(10),
        "HOOL",
        cost=Conversion(Decimal("80.55"), "USD"),
        memo='cost-date=2020-01-05 label="first"',
    )


def test_total_price_becomes_per_unit_and_gain_is_interpolated(book: ParsedFile) -> None:
    sell = book.entries[3].entry
    broker, cash, gains = sell.postings
    assert broker.price == Conversion(Decimal(90), "USD", total=False)
    assert broker.cost == Conversion(Decimal("80.55"), "USD")
    assert cash.amount == Decimal("360.00")
    assert (gains.account, gains.amount) == ("Income:Gains", Decimal("-37.80"))


def test_balance_assertion(book: ParsedFile) -> None:
    assert book.assertions == [
        BalanceAssertion(
            line_of(BOOK, " balance "),
            date(2020, 1, 3),
            "Assets:Bank:Checking",
            Decimal("5000.00"),
            "USD",
        )
    ]


def test_directives_not_imported_are_listed_with_their_lines(book: ParsedFile) -> None:
    assert book.problems == []
    assert book.skipped == [
        Problem(
            "book.beancount",
            line_of(BOOK, " pad "),
            "directive",
            "pad: imported as the padding entry beancount generated",
        ),
        Problem(
            "book.beancount",
            line_of(BOOK, " price "),
            "directive",
            "'price' directive not imported",
        ),
        Problem(
            "book.beancount", line_of(BOOK, " note "), "directive", "'note' directive not imported"
        ),
        Problem(
            "book.beancount",
            line_of(BOOK, " event "),
            "directive",
            "'event' directive not imported",
        ),
    ]


def test_read_beancount_reads_a_file_and_names_it(tmp_path: Path) -> None:
    path = tmp_path / "book.beancount"
    path.write_text(BOOK + '2020-03-01 * "broken"\n  Assets:Nowhere  1 USD\n  Assets:Old\n')
    parsed = read_beancount(path)
    assert parsed.source == str(path)
    assert len(parsed.entries) == 4
    assert [(p.source, p.line, p.field) for p in parsed.problems] == [
        (str(path), line_of(path.read_text(), '"broken"'), "entry")
    ]


# --------------------------------------------------------------------------- bad input

BAD = """\
2020-01-01 open Assets:A
2020-01-01 open Assets:B
2020-01-02 * "ok"
  Assets:A  1 USD
  Assets:B
2020-01-03 * "syntax"
  Assets:A  1 USD USD
  Assets:B
2020-01-04 * "unbalanced"
  Assets:A  1 USD
  Assets:B  -2 USD
2020-01-05 * "unknown account"
  Assets:A  1 USD
  Assets:C  -1 USD
2020-01-06 * "within beancount's tolerance only"
  Assets:A  10.123 USD
  Assets:B  -10.12 USD
2020-01-07 * "excess precision"
  Assets:A   0.0000000000001 XYZ
  Assets:B  -0.0000000000001 XYZ
2020-01-08 open Assets:Épargne
2020-01-09 * "core refuses the account name"
  Assets:Épargne  1 USD
  Assets:B  -1 USD
2020-01-10 balance Assets:A  7 USD
2020-01-11 * "moves nothing"
  Assets:A  0 USD
  Assets:B  0 USD
2020-01-12 bogus
"""


@pytest.fixture(scope="module")
def bad() -> ParsedFile:
    return read_beancount_string(BAD, "bad.beancount")


def _problem(parsed: ParsedFile, needle: str, field: str) -> Problem:
    line = line_of(BAD, needle)
    found = [p for p in parsed.problems if (p.line, p.field) == (line, field)]
    assert len(found) == 1, (needle, parsed.problems)
    return found[0]


@pytest.mark.parametrize(
    ("needle", "field", "reason"),
    [
        ("1 USD USD", "entry", "syntax error"),
        ('"unbalanced"', "entry", "does not balance"),
        ('"unknown account"', "entry", "unknown account 'Assets:C'"),
        ('"within beancount', "entry", "residual 0.003 USD"),
        ('"excess precision"', "amount", "more than 12 decimal place"),
        ('"excess precision"', "commodity", "XYZ needs 13 decimal places"),
        ("open Assets:Épargne", "account", "must start with a capital letter"),
        ('"core refuses', "account", "Épargne"),
        ("balance Assets:A", "entry", "Balance failed for 'Assets:A'"),
        ("bogus", "entry", "Invalid token"),
    ],
)
def test_bad_input_becomes_a_problem_with_line_and_field(
    bad: ParsedFile, needle: str, field: str, reason: str
) -> None:
    problem = _problem(bad, needle, field)
    assert problem.source == "bad.beancount"
    assert reason in problem.reason


def test_each_bad_input_is_reported_once(bad: ParsedFile) -> None:
    assert len(bad.problems) == 10


def test_only_what_passed_is_imported(bad: ParsedFile) -> None:
    assert [s.entry.narration for s in bad.entries] == ["ok"]
    assert bad.assertions == []
    assert [a.name for a in bad.accounts] == ["Assets:A", "Assets:B"]
    assert bad.skipped == [
        Problem(
            "bad.beancount",
            line_of(BAD, '"moves nothing"'),
            "entry",
            "transaction moves no amount: not imported",
        )
    ]


# --------------------------------------------------------------------------- writing


def test_round_trip_read_write_read_gives_equal_values(book: ParsedFile, tmp_path: Path) -> None:
    path = tmp_path / "written.beancount"
    path.write_text(write_parsed(book))
    again = read_beancount(path)
    assert again.problems == []
    assert [s.entry for s in again.entries] == [s.entry for s in book.entries]
    assert again.accounts == book.accounts
    assert again.commodities == book.commodities
    strip = [(a.date, a.account, a.amount, a.commodity) for a in book.assertions]
    assert [(a.date, a.account, a.amount, a.commodity) for a in again.assertions] == strip


def test_writer_output_restores_flag_cost_lot_and_metadata(book: ParsedFile) -> None:
    text = write_parsed(book)
    assert '2020-01-05 ! "Buy HOOL"' in text
    assert '2020-01-02 P "(Padding inserted' in text
    assert '2020-01-04 * "Cafe \\"Ole\\"" "Lunch" #food ^receipt-1' in text
    assert '  receipt: "R-17"\n  count: "3"\n' in text
    assert '10 HOOL {80.55 USD, 2020-01-05, "first"}' in text
    assert '-4 HOOL {80.55 USD, 2020-01-05, "first"} @ 90.00 USD' in text
    assert "1970-01-01" not in text
    assert "2020-01-01 commodity HOOL" in text
    assert "2020-06-30 close Assets:Old" in text
    assert 'option "display_precision" "HOOL:1"' in text
    assert "2020-01-03 balance Assets:Bank:Checking  5000.00 USD" in text


@needs("bean-check")
def test_written_book_passes_bean_check(book: ParsedFile, tmp_path: Path) -> None:
    path = tmp_path / "written.beancount"
    path.write_text(write_parsed(book))
    result = bean_check(path)
    assert result.returncode == 0, result.stdout + result.stderr


def _crm_book() -> tuple[list[Commodity], list[Account], list[JournalEntry]]:
    commodities = [Commodity("$", 2), Commodity("USD", 2), Commodity("€", 2)]
    accounts = [
        Account("Assets:Bank & Co", code="1010", description="Main bank"),
        Account("Income", open_date=date(2023, 1, 1)),
        Account("Equity:Capital"),
    ]
    entries = [
        JournalEntry(
            date=date(2024, 3, 1),
            narration='Invoice "7"\nsecond line \\ done',
            payee="Acme",
            journal="SJ",
            reference="INV-7",
            party="p-42",
            tags=("sales 2024",),
            meta=(("Ref", "x"), ("ref", "y"), ("flag", "?")),
            postings=(
                Posting("Assets:Bank & Co", Decimal("10"), "$", party="p-42", memo="paid"),
                Posting("Income", Decimal("-10"), "$"),
            ),
        ),
        JournalEntry(
            date=date(2024, 3, 2),
            narration="Exchange",
            postings=(
                Posting(
                    "Assets:Bank & Co",
                    Decimal("90"),
                    "€",
                    price=Conversion(Decimal("110"), "USD", total=True),
                ),
                Posting("Assets:Bank & Co", Decimal("-110"), "USD"),
                Posting(
                    "Equity:Capital",
                    Decimal("5"),
                    "€",
                    cost=Conversion(Decimal("5.5"), "USD", total=True),
                ),
                Posting("Equity:Capital", Decimal("-5.50"), "USD"),
            ),
        ),
    ]
    return commodities, accounts, entries


@needs("bean-check")
def test_writer_maps_names_beancount_refuses_and_keeps_core_fields(tmp_path: Path) -> None:
    commodities, accounts, entries = _crm_book()
    out = io.StringIO()
    write_beancount(out, commodities, accounts, entries)
    path = tmp_path / "crm.beancount"
    path.write_text(out.getvalue())
    assert bean_check(path).returncode == 0, out.getvalue()
    text = out.getvalue()
    assert "2023-01-01 open Income:Root" in text
    assert "2024-03-01 open Assets:Bank-Co" in text
    assert "@@ 110 USD" in text
    assert "{{5.5 USD}}" in text
    parsed = read_beancount(path)
    assert parsed.problems == []
    first = parsed.entries[0].entry
    assert (first.payee, first.narration) == ("Acme", entries[0].narration)
    assert (first.journal, first.reference, first.party) == ("SJ", "INV-7", "p-42")
    assert first.tags == ("sales-2024",)
    assert first.meta == (("flag", "?"), ("ref", "x"), ("ref-2", "y"))
    assert first.postings[0] == Posting(
        "Assets:Bank-Co", Decimal(10), "DOLLAR", party="p-42", memo="paid"
    )
    assert {c.code for c in parsed.commodities} == {"DOLLAR", "USD", "EUR"}
    opened = {a.name: a for a in parsed.accounts}["Assets:Bank-Co"]
    assert (opened.code, opened.description) == ("1010", "Main bank")
    second = parsed.entries[1].entry
    assert second.postings[0].price == Conversion(Decimal("110") / 90, "USD")
    assert second.postings[2].cost is not None
    assert second.postings[2].cost.number * 5 == Decimal("5.5")


def test_account_and_currency_name_mapping() -> None:
    assert beancount_account_name("Assets:Bank & Co.:Main Office") == "Assets:Bank-Co-:Main-Office"
    assert beancount_account_name("Expenses") == "Expenses:Root"
    assert beancount_account_name("Assets:Café") == "Assets:Café"
    assert beancount_currency_names(["$", "€", "EUR"]) == {"$": "USD", "€": "EURO", "EUR": "EUR"}
    assert beancount_currency_names(["¥", "£"]) == {"¥": "JPY", "£": "GBP"}


def test_writer_refuses_accounts_that_would_share_a_name() -> None:
    accounts = [Account("Assets:Bank A"), Account("Assets:Bank-A")]
    with pytest.raises(BeancountExportError, match="Assets:Bank-A"):
        write_beancount(io.StringIO(), [], accounts, [])


@settings(max_examples=40, deadline=None)
@given(
    payee=st.text(
        st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from('\n"\\'), max_size=20
    ),
    narration=st.text(
        st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from('\n\t"\\'), max_size=20
    ),
)
def test_strings_survive_the_round_trip(payee: str, narration: str) -> None:
    entry = JournalEntry(
        date=date(2024, 1, 1),
        narration=narration,
        payee=payee,
        postings=(
            Posting("Assets:Cash", Decimal("1.00"), "USD"),
            Posting("Income:Sales", Decimal("-1.00"), "USD"),
        ),
    )
    out = io.StringIO()
    write_beancount(out, [Commodity("USD", 2)], [], [entry])
    parsed = read_beancount_string(out.getvalue(), "strings.beancount")
    assert parsed.problems == []
    assert parsed.entries[0].entry == entry


# --------------------------------------------------------------------------- bean-example


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if BEAN_EXAMPLE is None:
        pytest.skip("not installed: bean-example")
    path = tmp_path_factory.mktemp("example") / "example.beancount"
    bean_example(path, seed=7, begin="2022-01-01", end="2024-06-30", birth="1980-05-12")
    return path


@needs("bean-example", "bean-query")
def test_bean_example_imports_without_problems_and_sums_like_bean_query(example: Path) -> None:
    parsed = read_beancount(example)
    assert parsed.problems == []
    assert len(parsed.entries) > 500
    assert {p.reason for p in parsed.skipped} <= {
        "'price' directive not imported",
        "'event' directive not imported",
        "pad: imported as the padding entry beancount generated",
        "transaction moves no amount: not imported",
    }
    assert posting_sums(s.entry for s in parsed.entries) == bean_query_balances(example)


@needs("bean-example", "bean-check", "bean-query")
def test_bean_example_written_back_checks_and_sums_the_same(example: Path, tmp_path: Path) -> None:
    parsed = read_beancount(example)
    path = tmp_path / "written.beancount"
    path.write_text(write_parsed(parsed))
    result = bean_check(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert bean_query_balances(path) == bean_query_balances(example)
    again = read_beancount(path)
    assert again.problems == []
    assert [s.entry for s in again.entries] == [s.entry for s in parsed.entries]


# --------------------------------------------------------------------------- packaging


def test_module_imports_without_beancount() -> None:
    code = (
        "import sys; sys.modules['beancount'] = None\n"
        "import crmledger.formats.beancount_format as m\n"
        "try:\n"
        "    m.read_beancount_string('', 'x')\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    assert "install crmledger[beancount]" in result.stdout


@pytest.mark.parametrize(
    "module",
    [beancount_format, beancount_reader, beancount_writer, beancount_lots],
    ids=lambda module: module.__name__.rpartition(".")[2],
)
def test_module_docstring_examples_run(module: ModuleType) -> None:
    failures, tried = doctest.testmod(module)
    assert tried > 0
    assert failures == 0
