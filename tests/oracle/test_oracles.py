"""crmledger against ledger-cli, hledger and beancount: the same book must sum the same.

A seeded generator (:mod:`tests.oracle.generator`) draws a few thousand entries of a small
company in EUR, USD, JPY and a stock; crmledger posts them, and its trial balance must equal,
per account and commodity and to the last minor unit:

- the generator's own sums of the postings,
- what ledger-cli and hledger compute from crmledger's ledger export,
- what beancount's query engine computes from crmledger's beancount export (which
  ``bean-check`` must accept).

Round trips: an export imported into a fresh book and exported again must give the same
text and the same trial balance (ledger, beancount, entries CSV). And a book beancount
generated itself (``bean-example``) imported into crmledger must sum as ``bean-query`` sums
the original file.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from crmledger.bootstrap import App, build, migrate
from crmledger.config import Settings
from crmledger.core.chart import chart
from crmledger.formats.beancount_format import beancount_account_name
from crmledger.services.imports import file_fingerprint
from tests import peers
from tests.conftest import FixedClock
from tests.oracle.generator import NEW_ACCOUNTS, GeneratedBook, generate
from tests.peers import Balances

SEED = 20_240_601
N_PEERS = 3000
N_ROUND_TRIP = 3000
EXPORTS = {"ledger": "journal", "beancount": "beancount", "entries": "csv"}


@pytest.fixture(scope="module")
def book() -> GeneratedBook:
    return generate(SEED, N_PEERS)


@pytest.fixture(scope="module")
def round_trip_book() -> GeneratedBook:
    return generate(SEED + 1, N_ROUND_TRIP)


@pytest.fixture
def fresh(tmp_path: Path, clock: FixedClock) -> Iterator[App]:
    """A second, empty book on SQLite (default chart, EUR), as the ``app`` fixture builds."""
    application = build(Settings(database_url=f"sqlite:///{tmp_path / 'fresh.db'}"), clock)
    migrate(application)
    application.ledger.init_book(chart("default"), "EUR")
    yield application
    application.engine.dispose()


def post(app: App, book: GeneratedBook) -> None:
    for commodity in book.commodities:
        app.ledger.add_commodity(commodity)
    app.ledger.post(book.entries, open_accounts=True)


def trial_balance(app: App) -> Balances:
    """crmledger's balance per account and commodity, zero balances left out."""
    rows = app.reports.trial_balance().rows
    return {(row.account, row.commodity): row.balance for row in rows if row.balance}


def export(app: App, kind: str, path: Path) -> str:
    with path.open("w", encoding="utf-8", newline="") as out:
        app.export(kind, out)
    return path.read_text(encoding="utf-8")


def import_file(app: App, kind: str, path: Path) -> None:
    parsed = app.readers[kind](path, False)
    assert parsed.problems == []
    app.imports.import_parsed(parsed, fingerprint=file_fingerprint(path), kind=kind)


def beancount_names(balances: Balances) -> Balances:
    """The balances under the account names the beancount export writes."""
    return {(beancount_account_name(a), c): total for (a, c), total in balances.items()}


def differences(got: Balances, expected: Balances) -> dict[tuple[str, str], tuple[str, str]]:
    """Every key whose balances differ, as ``(got, expected)``; readable in a failure."""
    keys = sorted(got.keys() | expected.keys())
    return {
        key: (str(got.get(key)), str(expected.get(key)))
        for key in keys
        if got.get(key) != expected.get(key)
    }


# --------------------------------------------------------------------------- the generator


def test_generator_is_seeded_and_covers_the_book() -> None:
    first, again = generate(7, 400), generate(7, 400)
    assert first == again
    assert first.entries != generate(8, 400).entries
    entries = generate(SEED, N_PEERS).entries
    assert len(entries) == N_PEERS
    assert entries == sorted(entries, key=lambda e: e.date)
    assert {len(e.postings) for e in entries} == {2, 3, 4, 5}
    assert {p.commodity for e in entries for p in e.postings} == {"EUR", "USD", "JPY", "ACME"}
    assert {p.price.commodity for e in entries for p in e.postings if p.price} == {"EUR"}
    assert set(NEW_ACCOUNTS) <= {p.account for e in entries for p in e.postings}
    assert (entries[-1].date - entries[0].date).days > 3 * 365 - 30
    assert sum(1 for e in entries if e.tags) > N_PEERS // 10


# --------------------------------------------------------------------------- the peers


def test_trial_balance_equals_the_generators_sums(app: App, book: GeneratedBook) -> None:
    post(app, book)
    assert differences(trial_balance(app), book.balances()) == {}
    assert set(NEW_ACCOUNTS) <= {account.name for account in app.ledger.accounts()}


@peers.needs("ledger")
def test_ledger_cli_sums_the_ledger_export_like_crmledger(
    app: App, book: GeneratedBook, tmp_path: Path
) -> None:
    post(app, book)
    path = tmp_path / "book.journal"
    export(app, "ledger", path)
    assert peers.ledger_warnings(path) == []
    assert differences(peers.ledger_balances(path), trial_balance(app)) == {}


@peers.needs("hledger")
def test_hledger_sums_the_ledger_export_like_crmledger(
    app: App, book: GeneratedBook, tmp_path: Path
) -> None:
    post(app, book)
    path = tmp_path / "book.journal"
    export(app, "ledger", path)
    peers.hledger_check(path)
    assert differences(peers.hledger_balances(path), trial_balance(app)) == {}


@peers.needs("bean-check", "bean-query")
def test_beancount_checks_and_sums_the_beancount_export_like_crmledger(
    app: App, book: GeneratedBook, tmp_path: Path
) -> None:
    post(app, book)
    path = tmp_path / "book.beancount"
    export(app, "beancount", path)
    checked = peers.bean_check(path)
    assert checked.returncode == 0, (checked.stdout + checked.stderr)[:4000]
    expected = beancount_names(trial_balance(app))
    assert differences(peers.bean_query_balances(path), expected) == {}


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("kind", ["ledger", "beancount"])
def test_export_import_export_gives_the_same_text_and_balances(
    app: App, fresh: App, round_trip_book: GeneratedBook, tmp_path: Path, kind: str
) -> None:
    post(app, round_trip_book)
    first = export(app, kind, tmp_path / f"first.{EXPORTS[kind]}")
    import_file(fresh, kind, tmp_path / f"first.{EXPORTS[kind]}")
    second = export(fresh, kind, tmp_path / f"second.{EXPORTS[kind]}")
    expected = trial_balance(app)
    if kind == "beancount":  # the export renames what beancount refuses
        expected = beancount_names(expected)
    assert differences(trial_balance(fresh), expected) == {}
    assert _first_difference(second, first) is None
    assert second == first


def test_entries_csv_export_import_export_gives_the_same_text_and_balances(
    app: App, fresh: App, round_trip_book: GeneratedBook, tmp_path: Path
) -> None:
    post(app, round_trip_book)
    for commodity in round_trip_book.commodities:  # CSV carries no declarations
        fresh.ledger.add_commodity(commodity)
    first = export(app, "entries", tmp_path / "first.csv")
    import_file(fresh, "entries", tmp_path / "first.csv")
    second = export(fresh, "entries", tmp_path / "second.csv")
    assert differences(trial_balance(fresh), trial_balance(app)) == {}
    assert _first_difference(second, first) is None
    assert second == first


def _first_difference(got: str, expected: str) -> tuple[int, str, str] | None:
    """The first line (1-based) where two texts differ, with both versions of it."""
    got_lines, expected_lines = got.splitlines(), expected.splitlines()
    for number, (left, right) in enumerate(zip(got_lines, expected_lines, strict=False), 1):
        if left != right:
            return number, left, right
    if len(got_lines) != len(expected_lines):
        return min(len(got_lines), len(expected_lines)) + 1, "<length>", "<length>"
    return None


# --------------------------------------------------------------------------- bean-example


@peers.needs("bean-example", "bean-query")
def test_bean_example_imported_sums_like_bean_query(app: App, tmp_path: Path) -> None:
    path = tmp_path / "example.beancount"
    peers.bean_example(path, seed=7, begin="2022-01-01", end="2024-06-30", birth="1980-05-12")
    import_file(app, "beancount", path)
    expected = peers.bean_query_balances(path)
    assert len(expected) > 30
    assert sum(abs(v) for v in expected.values()) > Decimal(100_000)
    assert differences(trial_balance(app), expected) == {}
