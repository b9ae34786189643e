"""A Hypothesis state machine over post / reverse / lock / import / retry, on both databases.

After every step the book must hold its invariants: every posted entry balances, running
balances equal a full recomputation, the trial balance sums to zero per commodity, numbers
are gapless per journal and year, and the hash chain verifies.
"""

from __future__ import annotations

import io
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text

from crmledger.bootstrap import App, build, migrate
from crmledger.config import Settings
from crmledger.core.chart import chart
from crmledger.core.entries import Conversion, JournalEntry, Posting, check_balanced
from crmledger.core.errors import LedgerError
from crmledger.formats.csv_entries import read_entries
from crmledger.persistence.ledger_store import SqlLedgerStore
from crmledger.services.imports import ImportRejectedError
from tests.conftest import FixedClock

ACCOUNTS = (
    "Assets:Cash",
    "Assets:Bank:Checking",
    "Income:Sales:Products",
    "Expenses:Rent",
    "Liabilities:Loans",
)
START = date(2026, 1, 1)

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2)
days = st.integers(min_value=0, max_value=364)


@st.composite
def exchanges(draw: st.DrawFn) -> JournalEntry:
    """Yen bought with euros at 0.01 EUR each (exact, so conversions add up exactly)."""
    yen = draw(st.integers(min_value=1, max_value=10**7))
    return JournalEntry(
        date=START + timedelta(days=draw(days)),
        narration="Buy yen",
        postings=(
            Posting(
                "Assets:Bank:Savings", Decimal(yen), "JPY", price=Conversion(Decimal("0.01"), "EUR")
            ),
            Posting("Assets:Bank:Checking", -Decimal(yen) / 100, "EUR"),
        ),
    )


@st.composite
def entries(draw: st.DrawFn) -> JournalEntry:
    """A balanced entry of 2..4 postings in EUR or JPY, or a currency exchange."""
    if draw(st.integers(0, 5)) == 0:
        return draw(exchanges())
    ccy = draw(st.sampled_from(["EUR", "JPY"]))
    n = draw(st.integers(min_value=1, max_value=3))
    values = [draw(amounts) for _ in range(n)]
    if ccy == "JPY":
        values = [v.to_integral_value() or Decimal(1) for v in values]
    lines = [Posting(draw(st.sampled_from(ACCOUNTS)), v, ccy) for v in values]
    lines.append(Posting(draw(st.sampled_from(ACCOUNTS)), -sum(values), ccy))
    day = START + timedelta(days=draw(days))
    return JournalEntry(
        date=day,
        narration=draw(st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=20)),
        postings=tuple(lines),
    )


def to_csv(batch: list[JournalEntry]) -> str:
    rows = ["entry,date,account,amount,commodity,description"]
    for i, e in enumerate(batch):
        for p in e.postings:
            rows.append(f"{i},{e.date},{p.account},{p.amount},{p.commodity},imported")
    return "\n".join(rows) + "\n"


class Book(RuleBasedStateMachine):
    """The ledger as a machine of user actions."""

    url: str

    @initialize()
    def open_book(self) -> None:
        self.clock = FixedClock()
        keys = Path(tempfile.mkdtemp()) / "book.keys"
        self.app: App = build(Settings(database_url=self.url, keyring_path=keys), self.clock)
        migrate(self.app)
        self.app.ledger.init_book(chart("default"), "EUR")
        self.posted: list[int] = []
        self.drafts: list[int] = []
        self.lock: date | None = None
        self.imports: list[str] = []
        self.rows = 0

    def teardown(self) -> None:
        self.app.engine.dispose()

    def _count(self) -> int:
        with self.app.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM postings")).scalar_one())

    @rule(batch=st.lists(entries(), min_size=1, max_size=4))
    def post(self, batch: list[JournalEntry]) -> None:
        before = self._count()
        locked = self.lock is not None and any(e.date <= self.lock for e in batch)
        try:
            refs = self.app.ledger.post(batch)
        except LedgerError:
            assert locked
            assert self._count() == before  # a refused batch writes nothing
            return
        assert not locked
        self.posted += [r.id for r in refs]

    @rule(draft=entries())
    def save_draft(self, draft: JournalEntry) -> None:
        locked = self.lock is not None and draft.date <= self.lock
        try:
            self.drafts.append(self.app.ledger.save_draft(draft))
        except LedgerError:
            assert locked
            return
        assert not locked

    @rule(data=st.data(), post_it=st.booleans())
    def settle_draft(self, data: st.DataObject, post_it: bool) -> None:
        """Post or delete a draft saved some steps ago (other entries may have come since)."""
        if not self.drafts:
            return
        draft_id = data.draw(st.sampled_from(self.drafts))
        try:
            if post_it:
                self.posted.append(self.app.ledger.post_draft(draft_id).id)
            else:
                self.app.ledger.delete_draft(draft_id)
        except LedgerError:
            assert self.lock is not None
            assert self.app.ledger.get(draft_id).date <= self.lock
            return
        self.drafts.remove(draft_id)

    @rule(data=st.data(), offset=days)
    def reverse(self, data: st.DataObject, offset: int) -> None:
        if not self.posted:
            return
        target = data.draw(st.sampled_from(self.posted))
        on = START + timedelta(days=offset)
        try:
            ref = self.app.ledger.reverse(target, on)
        except LedgerError:
            state = self.app.ledger.get(target).state.value
            assert state == "reversed" or (self.lock is not None and on <= self.lock)
            return
        self.posted.remove(target)
        self.posted.append(ref.id)

    @rule(offset=days)
    def lock_period(self, offset: int) -> None:
        until = START + timedelta(days=offset)
        try:
            self.app.ledger.lock_period(until)
        except LedgerError:
            assert self.lock is not None
            assert until < self.lock
            return
        self.lock = until

    @rule(batch=st.lists(entries(), min_size=1, max_size=5), broken=st.booleans())
    def import_file(self, batch: list[JournalEntry], broken: bool) -> None:
        text_ = to_csv(batch)
        if broken:
            text_ += "x,2026-13-01,Assets:Cash,1,EUR,bad date\n"
        parsed = read_entries(io.StringIO(text_), "upload.csv")
        fingerprint = str(hash(text_))
        before = self._count()
        try:
            result = self.app.imports.import_parsed(parsed, fingerprint=fingerprint, kind="entries")
        except ImportRejectedError:
            assert self._count() == before
            return
        assert not broken
        self.imports.append(text_)
        assert result.entries == len(batch) or result.already_imported

    @rule()
    def retry_import(self) -> None:
        if not self.imports:
            return
        text_ = self.imports[-1]
        before = self._count()
        parsed = read_entries(io.StringIO(text_), "upload.csv")
        result = self.app.imports.import_parsed(
            parsed, fingerprint=str(hash(text_)), kind="entries"
        )
        assert result.already_imported
        assert self._count() == before

    @invariant()
    def books_hold(self) -> None:
        report = self.app.audit.verify()  # chain, numbers, running balances
        assert report.ok, report.findings
        tb = self.app.reports.trial_balance()
        assert tb.residuals() == {}  # each commodity adds up, conversions included
        with self.app.engine.connect() as conn:
            store = SqlLedgerStore(conn)
            scales = store.scales()
            for entry in store.iter_entries():
                check_balanced(entry.postings, scales)


def test_book_state_machine(db_url: str, tmp_path: Path) -> None:
    counter = iter(range(10**6))

    class FreshBook(Book):
        def __init__(self) -> None:
            super().__init__()
            if db_url.startswith("sqlite"):
                self.url = f"sqlite:///{tmp_path / f'm{next(counter)}.db'}"
            else:
                self.url = db_url
                engine = build(Settings(database_url=db_url)).engine
                with engine.begin() as conn:
                    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                    conn.execute(text(f'CREATE SCHEMA "{schema}"'))
                engine.dispose()

    run_state_machine_as_test(
        FreshBook,
        settings=settings(
            max_examples=12,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
