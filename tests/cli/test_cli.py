"""The command line as a bookkeeper uses it, on a fresh SQLite or PostgreSQL book."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmledger.cli.main import app as cli

runner = CliRunner()


@pytest.fixture
def book(db_url: str) -> str:
    result = runner.invoke(cli, ["--db", db_url, "init", "--base-currency", "EUR"])
    assert result.exit_code == 0, result.output
    assert "37 accounts" in result.output
    return db_url


def run(db: str, *args: str, ok: bool = True) -> str:
    result = runner.invoke(cli, ["--db", db, *args], catch_exceptions=False)
    assert (result.exit_code == 0) is ok, result.output
    return result.output


def post(db: str, day: str, amount: str) -> str:
    return run(
        db,
        "entry",
        "post",
        "--date",
        day,
        "--narration",
        "Chairs",
        "-p",
        f"Expenses:Office {amount} EUR",
        "-p",
        f"Assets:Bank:Checking -{amount} EUR",
        "--format",
        "json",
    )


def test_post_show_reverse_and_trial_balance_json(book: str) -> None:
    [posted] = json.loads(post(book, "2026-01-05", "120.00"))
    assert posted["entry"] == "GJ/2026/1"
    assert posted["hash"].startswith("$1$")
    shown = json.loads(run(book, "entry", "show", "GJ/2026/1", "--format", "json"))
    assert shown["postings"][0] == {
        "account": "Expenses:Office",
        "amount": "120.00",
        "commodity": "EUR",
    }
    tb = json.loads(run(book, "report", "trial-balance", "--as-of", "2026-01-31", "-f", "json"))
    assert tb["as_of"] == "2026-01-31"
    assert tb["accounts"] == [
        {
            "account": "Assets:Bank:Checking",
            "commodity": "EUR",
            "debit": "0.00",
            "credit": "120.00",
            "balance": "-120.00",
        },
        {
            "account": "Expenses:Office",
            "commodity": "EUR",
            "debit": "120.00",
            "credit": "0.00",
            "balance": "120.00",
        },
    ]
    assert tb["totals"]["EUR"]["balance"] == "0.00"
    assert "Reversed GJ/2026/1 with GJ/2026/2" in run(
        book, "entry", "reverse", "1", "--date", "2026-01-06"
    )
    shown = json.loads(run(book, "entry", "show", "1", "--format", "json"))
    assert shown["state"] == "reversed"


def test_refusals_exit_non_zero_with_the_reason(book: str) -> None:
    def post_office(amount: str) -> int:
        return runner.invoke(
            cli,
            [
                "--db",
                book,
                "entry",
                "post",
                "--date",
                "2026-01-05",
                "-p",
                f"Expenses:Office {amount} EUR",
                "-p",
                f"Assets:Cash -{amount} EUR",
            ],
        ).exit_code

    assert post_office("1.001") != 0  # excess decimals
    run(book, "period", "lock", "--until", "2026-01-31")
    assert post_office("1") != 0  # locked period
    assert json.loads(run(book, "report", "trial-balance", "-f", "json"))["accounts"] == []


def test_post_from_json_document_and_csv_output(book: str, tmp_path: Path) -> None:
    doc = [
        {
            "date": "2026-02-01",
            "narration": "Rent",
            "postings": [
                {"account": "Expenses:Rent", "amount": "1800", "commodity": "EUR"},
                {"account": "Assets:Bank:Checking", "amount": "-1800", "commodity": "EUR"},
            ],
        }
    ]
    path = tmp_path / "entries.json"
    path.write_text(json.dumps(doc))
    run(book, "entry", "post", "--json", str(path))
    csv_out = run(book, "report", "ledger", "Assets", "--format", "csv")
    assert csv_out.splitlines()[0] == "date,entry,narration,commodity,amount,balance"
    assert csv_out.splitlines()[1] == "2026-02-01,GJ/2026/1,Rent,EUR,-1800.00,-1800.00"


def test_accounts_and_commodities(book: str) -> None:
    run(book, "account", "add", "Assets:Bank:Payroll", "--code", "1030", "--commodity", "EUR")
    accounts = json.loads(run(book, "account", "list", "--format", "json"))
    assert {
        "account": "Assets:Bank:Payroll",
        "type": "Assets",
        "code": "1030",
        "commodities": "EUR",
        "open": None,
        "close": None,
        "description": "",
    } in accounts
    run(book, "commodity", "add", "ACME", "--scale", "0")
    scales = json.loads(run(book, "commodity", "list", "--format", "json"))
    assert {"commodity": "ACME", "scale": 0} in scales
    bad = runner.invoke(cli, ["--db", book, "account", "add", "Cash"])
    assert bad.exit_code != 0


def test_export_then_import_elsewhere_gives_the_same_trial_balance(
    book: str, tmp_path: Path
) -> None:
    post(book, "2026-01-05", "120.00")
    post(book, "2026-02-05", "80.50")
    for kind in ("ledger", "beancount", "entries"):
        out = tmp_path / f"books.{kind}"
        run(book, "export", kind, "--output", str(out))
        other = f"sqlite:///{tmp_path / f'{kind}.db'}"
        run(other, "init", "--chart", "minimal")
        run(other, "import", kind, str(out))
        original = json.loads(run(book, "report", "trial-balance", "-f", "json"))
        copy = json.loads(run(other, "report", "trial-balance", "-f", "json"))
        assert copy["accounts"] == original["accounts"], kind
        assert "already imported" in run(other, "import", kind, str(out))


def test_every_command_explains_itself() -> None:
    for args in (
        ["--help"],
        ["import", "entries", "--help"],
        ["report", "trial-balance", "--help"],
        ["audit", "verify", "--help"],
        ["entry", "post", "--help"],
    ):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0
        assert "Usage" in result.output


def test_draft_then_post_from_the_command_line(book: str) -> None:
    def draft(credit: str, *replace: str) -> str:
        return run(
            book,
            "entry",
            "draft",
            *replace,
            "--date",
            "2026-03-01",
            "--narration",
            "Rent",
            "-p",
            "Expenses:Rent 1800 EUR",
            "-p",
            f"Assets:Bank:Checking -{credit} EUR",
        )

    draft_id = draft("1700").split()[-1]
    refused = runner.invoke(cli, ["--db", book, "entry", "post-draft", draft_id])
    assert refused.exit_code != 0  # it does not balance yet
    draft("1800", "--id", draft_id)
    assert "as GJ/2026/1" in run(book, "entry", "post-draft", draft_id)
    assert json.loads(run(book, "entry", "show", "GJ/2026/1", "-f", "json"))["state"] == "posted"
