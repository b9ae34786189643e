"""Bad input in every import format: each problem is named, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from crmledger.bootstrap import App
from crmledger.cli.main import app as cli
from crmledger.services.errors import ImportRejectedError
from crmledger.services.imports import file_fingerprint

LEDGER_GOOD = """commodity EUR
    format 1000.00 EUR

2026-01-05 * Office chairs
    Expenses:Office          120.00 EUR
    Assets:Bank:Checking

"""

BEANCOUNT_GOOD = """option "operating_currency" "EUR"
2026-01-01 open Expenses:Office
2026-01-01 open Assets:Bank:Checking
2026-01-05 * "Office chairs"
  Expenses:Office        120.00 EUR
  Assets:Bank:Checking  -120.00 EUR
"""

CASES = {
    "ledger": [
        (
            "malformed date",
            LEDGER_GOOD + "2026-13-40 * X\n    Assets:Cash  1 EUR\n    Income:Other  -1 EUR\n",
            ":8: date:",
        ),
        (
            "unknown commodity",
            LEDGER_GOOD + "2026-02-01 * X\n    Assets:Cash  1 QQQ\n    Income:Other  -1 QQQ\n",
            ":8: commodity:",
        ),
        (
            "unbalanced",
            LEDGER_GOOD + "2026-02-01 * X\n    Assets:Cash  1.00 EUR\n"
            "    Income:Other  -0.99 EUR\n",
            ":8: amount: entry does not balance",
        ),
        (
            "excess decimals",
            LEDGER_GOOD + "2026-02-01 * X\n    Assets:Cash  1.001 EUR\n"
            "    Income:Other  -1.001 EUR\n",
            ":8: amount: 1.001 EUR has more than 2",
        ),
        ("truncated", LEDGER_GOOD + "2026-02-01 * X\n", ":8:"),
    ],
    "beancount": [
        (
            "malformed date",
            BEANCOUNT_GOOD + '2026-13-40 * "X"\n  Assets:Bank:Checking  1 EUR\n'
            "  Expenses:Office  -1 EUR\n",
            ":7:",
        ),
        (
            "unbalanced",
            BEANCOUNT_GOOD + '2026-02-01 * "X"\n  Assets:Bank:Checking  1.00 EUR\n'
            "  Expenses:Office  -0.90 EUR\n",
            ":7:",
        ),
        (
            "unopened account",
            BEANCOUNT_GOOD + '2026-02-01 * "X"\n  Assets:Cash  1.00 EUR\n'
            "  Expenses:Office  -1.00 EUR\n",
            ":7:",
        ),
        ("truncated", BEANCOUNT_GOOD + '2026-02-01 * "X\n', ":7:"),
    ],
}


def rows(app: App) -> int:
    with app.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM postings")).scalar_one())


def run_import(app: App, kind: str, path: Path, strict: bool = False) -> None:
    app.imports.import_parsed(
        app.readers[kind](path, strict),
        fingerprint=file_fingerprint(path),
        kind=kind,
        strict=strict,
    )


@pytest.mark.parametrize(
    ("kind", "body", "expected"),
    [
        pytest.param(kind, body, expected, id=f"{kind}-{name}")
        for kind, cases in CASES.items()
        for name, body, expected in cases
    ],
)
def test_bad_input_is_named_and_nothing_is_written(
    app: App, tmp_path: Path, kind: str, body: str, expected: str
) -> None:
    path = tmp_path / f"books.{kind}"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ImportRejectedError) as rejected:
        run_import(app, kind, path, strict=kind == "ledger")
    problems = [str(p) for p in rejected.value.problems]
    assert any(f"{path}{expected}" in p for p in problems), problems
    assert rows(app) == 0
    result = CliRunner().invoke(
        cli,
        ["--db", app.settings.database_url, "import", kind, str(path)]
        + (["--strict"] if kind == "ledger" else []),
    )
    assert result.exit_code != 0
    assert rows(app) == 0


@pytest.mark.parametrize(("kind", "body"), [("ledger", LEDGER_GOOD), ("beancount", BEANCOUNT_GOOD)])
def test_the_same_file_twice_is_imported_once(
    app: App, tmp_path: Path, kind: str, body: str
) -> None:
    path = tmp_path / f"books.{kind}"
    path.write_text(body, encoding="utf-8")
    run_import(app, kind, path)
    before = rows(app)
    assert before == 2
    copy = tmp_path / f"copy.{kind}"
    copy.write_text(body, encoding="utf-8")  # same content under another name
    run_import(app, kind, copy)
    assert rows(app) == before


def test_a_failed_balance_assertion_refuses_a_batched_import_before_any_batch(
    app: App, tmp_path: Path
) -> None:
    path = tmp_path / "books.journal"
    path.write_text(
        LEDGER_GOOD + "2026-02-01 * Check\n    Assets:Cash  1.00 EUR\n"
        "    Income:Other\n    Assets:Cash  0.00 EUR = 999.00 EUR\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRejectedError, match=r"asserts 999\.00"):
        app.imports.import_parsed(
            app.readers["ledger"](path, False),
            fingerprint=file_fingerprint(path),
            kind="ledger",
            batch_size=1,
        )
    assert rows(app) == 0


def test_balance_assertions_are_kept_and_exported_again(app: App, tmp_path: Path) -> None:
    source = tmp_path / "books.beancount"
    source.write_text(
        BEANCOUNT_GOOD + "2026-01-06 balance Assets:Bank:Checking  -120.00 EUR\n",
        encoding="utf-8",
    )
    run_import(app, "beancount", source)
    [kept] = app.exports.assertions()
    assert (kept.account, str(kept.amount), kept.commodity) == (
        "Assets:Bank:Checking",
        "-120.00",
        "EUR",
    )
    exported = tmp_path / "export.beancount"
    with exported.open("w", encoding="utf-8") as out:
        app.export("beancount", out)
    assert "2026-01-06 balance Assets:Bank:Checking" in exported.read_text(encoding="utf-8")
