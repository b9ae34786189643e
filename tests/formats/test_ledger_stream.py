"""A streamed journal read gives exactly what reading the whole file gives."""

from __future__ import annotations

from pathlib import Path

from crmledger.formats.ledger_reader import read_ledger_file

JOURNAL = """2024-01-02 * Buy shares
    Assets:Broker            3 ACME @ 10.3333 EUR
    Assets:Bank:Checking

2024-01-03 Bakery | Bread  ; food:
    Expenses:Food    3.5 EUR
    Assets:Cash      = -3.50 EUR
    Assets:Cash     -0.0 EUR

commodity EUR
    format 1,000.00 EUR

account Assets:Cash

2024-02-30 * Bad date
    Assets:Cash   1 EUR
    Income:Other

P 2024-01-01 ACME 10 EUR
"""


def test_streamed_read_equals_whole_read(tmp_path: Path) -> None:
    path = tmp_path / "books.journal"
    path.write_text(JOURNAL * 3000, encoding="utf-8")  # more lines than one pause
    whole = read_ledger_file(path)
    streamed = read_ledger_file(path, stream=True)
    assert streamed.entries == []
    assert streamed.stream is not None
    assert list(streamed.iter_entries()) == whole.entries
    assert list(streamed.iter_entries()) == whole.entries  # every pass is a fresh read
    assert streamed.commodities == whole.commodities
    assert streamed.inferred_commodities == whole.inferred_commodities
    assert streamed.accounts == whole.accounts
    assert streamed.assertions == whole.assertions
    assert streamed.problems == whole.problems
    assert streamed.skipped == whole.skipped
    assert len(whole.entries) == 3000  # the bakery (balance assignment) and bad date refused
    assert {p.field for p in whole.problems} >= {"date"}
    assert whole.entries[0].entry.postings[1].amount == -31  # filled in, rounded to EUR's scale


def test_journal_party_and_links_survive_a_journal_round_trip() -> None:
    import io
    from datetime import date
    from decimal import Decimal

    from crmledger.core.entries import JournalEntry, Posting
    from crmledger.formats.ledger_journal import read_ledger, write_ledger

    entry = JournalEntry(
        date=date(2026, 1, 5),
        narration="Invoice 7",
        journal="SJ",
        party="p-7",
        links=("inv-7", "order-3"),
        meta=(("status", "*"),),
        postings=(
            Posting("Assets:Receivables", Decimal("10.00"), "EUR"),
            Posting("Income:Sales", Decimal("-10.00"), "EUR"),
        ),
    )
    out = io.StringIO()
    write_ledger(out, [], [], [entry])
    [back] = read_ledger(out.getvalue(), "x.journal").entries
    assert (back.entry.journal, back.entry.party, back.entry.links) == (
        "SJ",
        "p-7",
        ("inv-7", "order-3"),
    )
    assert back.entry.meta == (("status", "*"),)
