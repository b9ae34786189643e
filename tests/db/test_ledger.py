"""Posting, numbering, reversal, locks and the database guards, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from crmledger.bootstrap import App
from crmledger.core.entries import Conversion, JournalEntry, Posting
from crmledger.core.errors import (
    AccountClosedError,
    EntryStateError,
    InvalidEntryError,
    PeriodLockedError,
)
from crmledger.persistence.tables import journal_entries, postings
from crmledger.services.errors import EntriesRejectedError
from tests.helpers import entry, sale


def count(app: App, table: str) -> int:
    with app.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_posted_entries_get_gapless_numbers_per_journal_and_year(app: App) -> None:
    refs = app.ledger.post([sale("2025-12-30", "10"), sale("2026-01-02", "20")])
    refs += app.ledger.post([sale("2026-01-03", "30"), sale("2025-12-31", "5")])
    assert [r.ref for r in refs] == ["GJ/2025/1", "GJ/2026/1", "GJ/2026/2", "GJ/2025/2"]
    assert len({r.hash for r in refs}) == 4
    assert app.audit.verify().ok


def test_a_batch_is_all_or_nothing_and_names_every_bad_entry(app: App) -> None:
    bad = entry("2026-01-05", "Unbalanced", ("Assets:Cash", "10"), ("Income:Other", "-9.99"))
    excess = entry("2026-01-05", "Excess", ("Assets:Cash", "0.001"), ("Income:Other", "-0.001"))
    with pytest.raises(EntriesRejectedError) as rejected:
        app.ledger.post([sale("2026-01-01", "1"), bad, excess])
    assert [r.index for r in rejected.value.rejections] == [1, 2]
    assert rejected.value.rejections[0].error.field == "amount"
    assert "more than 2 decimal" in str(rejected.value.rejections[1].error)
    assert count(app, "journal_entries") == 0
    assert count(app, "postings") == 0


def test_unknown_account_is_refused_unless_opening_is_asked_for(app: App) -> None:
    new = entry("2026-01-05", "Gift", ("Assets:Cash", "5"), ("Income:Gifts", "-5"))
    with pytest.raises(EntriesRejectedError, match="unknown account 'Income:Gifts'"):
        app.ledger.post([new])
    app.ledger.post([new], open_accounts=True)
    assert "Income:Gifts" in {a.name for a in app.ledger.accounts()}


def test_conversion_balances_in_the_price_commodity(app: App) -> None:
    fx = JournalEntry(
        date=date(2026, 2, 1),
        narration="Buy dollars",
        postings=(
            Posting(
                "Assets:Bank:Savings",
                Decimal("100.00"),
                "USD",
                price=Conversion(Decimal("0.9150"), "EUR"),
            ),
            Posting("Assets:Bank:Checking", Decimal("-91.50"), "EUR"),
        ),
    )
    app.ledger.post([fx])
    tb = app.reports.trial_balance()
    rows = {(r.account, r.commodity): r.balance for r in tb.rows}
    assert rows[("Assets:Bank:Savings", "USD")] == Decimal("100.00")
    assert rows[("Assets:Bank:Checking", "EUR")] == Decimal("-91.50")
    assert dict(tb.conversions) == {"EUR": Decimal("91.50"), "USD": Decimal("-100.00")}
    for commodity, total in tb.totals().items():
        assert total.balance + dict(tb.conversions)[commodity] == 0
    assert dict(app.reports.trial_balance(date(2026, 1, 31)).conversions) == {}
    assert dict(app.reports.trial_balance(date(2026, 2, 1)).conversions)["USD"] == -100
    assert app.audit.verify().ok


def test_reversal_cancels_and_marks_the_original(app: App) -> None:
    [original] = app.ledger.post([sale("2026-03-01", "99.95")])
    reversal = app.ledger.reverse(original.id, date(2026, 3, 2))
    assert app.ledger.get(original.id).state.value == "reversed"
    assert app.ledger.get(original.id).reversed_by == reversal.id
    assert app.ledger.get(reversal.id).reverses == original.id
    assert all(r.balance == 0 for r in app.reports.trial_balance().rows)
    with pytest.raises(EntryStateError):
        app.ledger.reverse(original.id, date(2026, 3, 3))
    assert app.audit.verify().ok


def test_lock_date_refuses_postings_and_reversals_on_or_before_it(app: App) -> None:
    [early] = app.ledger.post([sale("2026-01-15", "10")])
    app.ledger.lock_period(date(2026, 1, 31))
    with pytest.raises(EntriesRejectedError) as rejected:
        app.ledger.post([sale("2026-01-31", "10")])
    assert isinstance(rejected.value.rejections[0].error, PeriodLockedError)
    with pytest.raises(EntriesRejectedError):
        app.ledger.reverse(early.id, date(2026, 1, 20))
    app.ledger.reverse(early.id, date(2026, 2, 1))  # after the lock: allowed
    with pytest.raises(PeriodLockedError):
        app.ledger.lock_period(date(2025, 12, 31))  # locks only move forward


def test_trial_balance_as_of_mid_month_and_month_end(app: App) -> None:
    app.ledger.post([sale("2026-01-10", "10"), sale("2026-01-20", "20"), sale("2026-02-05", "40")])

    def cash(as_of: date | None) -> Decimal:
        tb = app.reports.trial_balance(as_of)
        return sum((r.balance for r in tb.rows if r.account == "Assets:Cash"), Decimal(0))

    assert cash(date(2026, 1, 9)) == 0
    assert cash(date(2026, 1, 10)) == Decimal("10")
    assert cash(date(2026, 1, 31)) == Decimal("30")
    assert cash(date(2026, 2, 4)) == Decimal("30")
    assert cash(None) == Decimal("70")
    totals = app.reports.trial_balance().totals()
    assert totals["EUR"].debit == totals["EUR"].credit == Decimal("70")


def test_account_ledger_has_opening_and_running_balance(app: App) -> None:
    app.ledger.post([sale("2026-01-10", "10"), sale("2026-01-20", "20"), sale("2026-02-05", "40")])
    opening, lines = app.reports.account_ledger("Assets", date(2026, 1, 15), date(2026, 2, 28))
    assert opening == {"EUR": Decimal("10.00")}
    assert [(str(line.amount), str(line.balance)) for line in lines] == [
        ("20.00", "30.00"),
        ("40.00", "70.00"),
    ]


# -- the database backs the rules up -------------------------------------------------------


def _raw(app: App, sql: str) -> None:
    with app.engine.begin() as conn:
        conn.execute(text(sql))


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE journal_entries SET narration = 'edited' WHERE id = 1",
        "UPDATE journal_entries SET date = '2026-01-02' WHERE id = 1",
        "UPDATE journal_entries SET state = 'draft' WHERE id = 1",
        "DELETE FROM journal_entries WHERE id = 1",
        "UPDATE postings SET amount_minor = 1 WHERE entry_id = 1",
        "DELETE FROM postings WHERE entry_id = 1",
        "INSERT INTO postings (id, entry_id, line_no, account_id, commodity, amount_minor) "
        "SELECT 99, 1, 9, account_id, commodity, 0 FROM postings "
        "WHERE entry_id = 1 AND line_no = 0",
        "INSERT INTO posting_conversions (posting_id, weight_commodity, weight_minor, "
        "price_number, price_commodity, price_total) VALUES (1, 'EUR', 1000, '1', 'EUR', false)",
    ],
)
def test_raw_sql_cannot_change_a_posted_entry(app: App, sql: str) -> None:
    app.ledger.post([sale("2026-01-01", "10")])
    with pytest.raises((IntegrityError, DBAPIError)):
        _raw(app, sql)
    assert app.audit.verify().ok


def _raw_draft(app: App, number: int, amounts: tuple[int, int]) -> None:
    """Entry 50 as a numbered draft with two postings, written behind the app's back."""
    _raw(
        app,
        "INSERT INTO journal_entries (id, journal, fiscal_year, number, date, narration, "
        f"state, hash, tags, links, meta) VALUES (50, 'GJ', 2026, {number}, '2026-01-02', 'x', "
        "'draft', 'h', '[]', '[]', '[]')",
    )
    for line, amount in enumerate(amounts):
        _raw(
            app,
            "INSERT INTO postings (id, entry_id, line_no, account_id, commodity, amount_minor) "
            f"SELECT {50 + line}, 50, {line}, account_id, commodity, {amount} "
            f"FROM postings WHERE id = {line + 1}",
        )


def test_raw_sql_cannot_post_an_unbalanced_entry(app: App) -> None:
    app.ledger.post([sale("2026-01-01", "10")])
    _raw_draft(app, 2, (5, -4))
    with pytest.raises((IntegrityError, DBAPIError), match="does not balance"):
        _raw(app, "UPDATE journal_entries SET state = 'posted' WHERE id = 50")


def test_raw_sql_cannot_skip_a_number(app: App) -> None:
    app.ledger.post([sale("2026-01-01", "10")])
    _raw_draft(app, 3, (5, -5))
    with pytest.raises((IntegrityError, DBAPIError), match="next in its sequence"):
        _raw(app, "UPDATE journal_entries SET state = 'posted' WHERE id = 50")


def test_raw_sql_cannot_post_inside_the_locked_period(app: App) -> None:
    app.ledger.post([sale("2026-02-01", "1")])  # the journal exists
    app.ledger.lock_period(date(2026, 1, 31))
    with pytest.raises((IntegrityError, DBAPIError), match="lock date"):
        _raw(
            app,
            "INSERT INTO journal_entries (id, journal, fiscal_year, date, narration, "
            "state, tags, links, meta) VALUES (50, 'GJ', 2026, '2026-01-02', 'x', 'draft', "
            "'[]', '[]', '[]')",
        )


def test_running_balances_equal_a_full_recomputation(app: App) -> None:
    app.ledger.post(
        [sale(f"2026-{m:02d}-{d:02d}", f"{m}.{d:02d}") for m in range(1, 13) for d in (1, 15, 28)]
    )
    with app.engine.connect() as conn:
        from crmledger.persistence.ledger_store import SqlLedgerStore

        store = SqlLedgerStore(conn)
        assert sorted(store.stored_balance_rows(), key=repr) == sorted(
            store.recompute_balances(), key=repr
        )
        assert conn.execute(select(func.count()).select_from(postings)).scalar_one() == 72
        assert conn.execute(select(func.count()).select_from(journal_entries)).scalar_one() == 36


def _insert_posted(app: App, number: int, amounts: tuple[int, int]) -> None:
    """Postings, then the entry as posted, in one transaction (as the ledger writes them)."""
    with app.engine.begin() as conn:
        for line, amount in enumerate(amounts):
            conn.execute(
                text(
                    "INSERT INTO postings (id, entry_id, line_no, account_id, commodity, "
                    f"amount_minor) SELECT {50 + line}, 50, {line}, account_id, commodity, "
                    f"{amount} FROM postings WHERE id = 1"
                )
            )
        conn.execute(
            text(
                "INSERT INTO journal_entries (id, journal, fiscal_year, number, date, narration, "
                "state, hash, tags, links, meta, chain_seq) VALUES (50, 'GJ', 2026, "
                f"{number}, '2026-01-02', 'x', 'posted', 'h', '[]', '[]', '[]', {number})"
            )
        )


def test_raw_sql_cannot_insert_an_unbalanced_or_misnumbered_posted_entry(app: App) -> None:
    app.ledger.post([sale("2026-01-01", "10")])
    with pytest.raises((IntegrityError, DBAPIError), match="does not balance"):
        _insert_posted(app, 2, (5, -4))
    with pytest.raises((IntegrityError, DBAPIError), match="next in its sequence"):
        _insert_posted(app, 3, (5, -5))
    with pytest.raises((IntegrityError, DBAPIError), match=r"(?i)foreign key"):
        _raw(
            app,
            "INSERT INTO postings (id, entry_id, line_no, account_id, commodity, "
            "amount_minor) SELECT 60, 60, 0, account_id, commodity, 1 FROM postings WHERE id = 1",
        )
    _insert_posted(app, 2, (5, -5))  # the same rows, balanced and numbered, go in
    assert app.audit.verify().findings[0].reference.startswith("GJ/2026/2")  # but unhashed


def test_drafts_change_freely_then_post_in_place(app: App) -> None:
    [first] = app.ledger.post([sale("2026-01-01", "10")])
    unbalanced = entry("2026-01-05", "Rent?", ("Expenses:Rent", "100"), ("Assets:Cash", "-90"))
    draft_id = app.ledger.save_draft(unbalanced)
    assert app.ledger.get(draft_id).state.value == "draft"
    assert app.ledger.get(draft_id).number is None
    with pytest.raises(EntriesRejectedError, match="does not balance"):
        app.ledger.post_draft(draft_id)
    fixed = entry("2026-01-06", "Rent", ("Expenses:Rent", "100"), ("Assets:Cash", "-100"))
    assert app.ledger.save_draft(fixed, draft_id) == draft_id
    assert app.ledger.get(draft_id).narration == "Rent"
    ref = app.ledger.post_draft(draft_id)
    assert (ref.id, ref.ref) == (draft_id, "GJ/2026/2")
    with pytest.raises(EntryStateError):
        app.ledger.save_draft(fixed, draft_id)
    with pytest.raises(EntryStateError):
        app.ledger.delete_draft(draft_id)
    assert app.audit.verify().ok
    cash = {(r.account, r.commodity): r.balance for r in app.reports.trial_balance().rows}
    assert cash[("Expenses:Rent", "EUR")] == Decimal("100.00")
    assert first.ref == "GJ/2026/1"


def test_drafts_respect_the_lock_date_and_can_be_deleted(app: App) -> None:
    draft_id = app.ledger.save_draft(sale("2026-01-10", "5"))
    app.ledger.lock_period(date(2026, 1, 31))
    with pytest.raises(PeriodLockedError):
        app.ledger.save_draft(sale("2026-02-10", "5"), draft_id)  # old date is locked
    with pytest.raises(PeriodLockedError):
        app.ledger.delete_draft(draft_id)
    later = app.ledger.save_draft(sale("2026-02-10", "5"))
    with pytest.raises(PeriodLockedError):
        app.ledger.save_draft(sale("2026-01-15", "5"), later)  # new date is locked
    app.ledger.delete_draft(later)
    with pytest.raises(LookupError):
        app.ledger.get(later)
    assert count(app, "postings") == 2  # only the locked draft's lines remain


def test_closing_an_account_refuses_later_postings(app: App) -> None:
    app.ledger.post([sale("2026-03-10", "10")])
    with pytest.raises(AccountClosedError, match="GJ/2026/1 on 2026-03-10"):
        app.ledger.close_account("Assets:Cash", date(2026, 2, 28))
    app.ledger.close_account("Assets:Cash", date(2026, 3, 31))
    app.ledger.post([sale("2026-03-31", "1")])
    with pytest.raises(EntriesRejectedError, match="not open on 2026-04-01"):
        app.ledger.post([sale("2026-04-01", "1")])


def test_a_draft_posted_after_later_entries_joins_the_chain_at_the_end(app: App) -> None:
    draft_id = app.ledger.save_draft(sale("2026-01-02", "5"))
    [later] = app.ledger.post([sale("2026-01-03", "7")])
    ref = app.ledger.post_draft(draft_id)
    assert (later.ref, ref.ref) == ("GJ/2026/1", "GJ/2026/2")
    assert draft_id < later.id
    assert app.audit.verify().ok


def test_post_takes_only_new_entries(app: App) -> None:
    [posted] = app.ledger.post([sale("2026-01-02", "5")])
    with pytest.raises(InvalidEntryError, match="only new entries"):
        app.ledger.post([app.ledger.get(posted.id)])
    assert app.audit.verify().ok
