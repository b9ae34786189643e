"""Deals from the command line, on a fresh SQLite or PostgreSQL book: add, move, list,
show with history, forecast, and pipelines."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from crmledger.cli.main import app as cli
from crmledger.core.errors import InvalidFieldError, TransitionError
from tests.cli.test_cli import run

runner = CliRunner()
PASSWORD = "correct horse battery"


@pytest.fixture
def book(db_url: str) -> str:
    """A book with one organisation (party 1) and a sales user."""
    run(db_url, "init", "--base-currency", "EUR")
    run(db_url, "party", "add", "Acme GmbH")
    added = runner.invoke(
        cli,
        ["--db", db_url, "user", "add", "sam@example.com", "--role", "sales", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    return db_url


def _json(db: str, *args: str) -> object:
    return json.loads(run(db, *args, "--format", "json"))


def _refused(db: str, *args: str) -> BaseException:
    result = runner.invoke(cli, ["--db", db, *args])
    assert result.exit_code != 0
    assert result.exception is not None
    return result.exception


def test_a_deal_is_added_moved_listed_and_shown_with_its_history(book: str) -> None:
    added = _json(
        book,
        "deal",
        "add",
        "1",
        "Fleet renewal",
        "--amount",
        "1200.00",
        "--currency",
        "EUR",
        "--close",
        "2026-12-31",
        "--owner",
        "sam@example.com",
    )
    assert isinstance(added, dict)
    assert (added["stage"], added["amount"], added["expected_close"]) == (
        "lead",
        "1200.00",
        "2026-12-31",
    )
    assert "moved from lead to proposal" in run(book, "deal", "move", "1", "proposal")
    assert "moved from proposal to lost" in run(
        book, "deal", "move", "1", "lost", "--reason", "no budget"
    )
    shown = _json(book, "deal", "show", "1")
    assert isinstance(shown, dict)
    assert (shown["stage"], shown["lost_reason"], shown["version"]) == ("lost", "no budget", 3)
    assert [(s["from"], s["to"]) for s in shown["history"]] == [
        ("", "lead"),
        ("lead", "proposal"),
        ("proposal", "lost"),
    ]
    run(book, "deal", "add", "1", "Chairs", "--amount", "80", "--currency", "EUR")
    listed = _json(book, "deal", "list", "--open")
    assert isinstance(listed, dict)
    assert [d["title"] for d in listed["items"]] == ["Chairs"]
    owned = _json(book, "deal", "list", "--owner", "sam@example.com")
    assert isinstance(owned, dict)
    assert [d["title"] for d in owned["items"]] == ["Fleet renewal"]
    assert "Fleet renewal" in run(book, "deal", "list", "--stage", "lost")


def test_the_forecast_prints_weighted_amounts(book: str) -> None:
    for title, stage, amount, close in (
        ("A", "proposal", "1000.00", "2026-07-15"),
        ("B", "qualified", "333.33", "2026-07-31"),
        ("C", "lead", "50.00", None),
    ):
        args = ["deal", "add", "1", title, "--amount", amount, "--currency", "EUR"]
        args += ["--stage", stage] + (["--close", close] if close else [])
        run(book, *args)
    rows = _json(book, "deal", "forecast")
    assert rows == [
        {
            "month": "2026-07",
            "owner": None,
            "currency": "EUR",
            "open": "1333.33",
            "weighted": "583.33",
            "deals": 2,
        },
        {
            "month": "none",
            "owner": None,
            "currency": "EUR",
            "open": "50.00",
            "weighted": "5.00",
            "deals": 1,
        },
    ]
    table = list(csv.DictReader(io.StringIO(run(book, "deal", "forecast", "--format", "csv"))))
    assert [r["weighted"] for r in table] == ["583.33", "5.00"]
    assert "583.33" in run(book, "deal", "forecast")


def test_refused_input_names_the_field_and_writes_nothing(book: str) -> None:
    base = ["deal", "add", "1", "Fleet", "--currency", "EUR"]
    for extra, field in (
        (["--amount", "10.001"], "amount"),
        (["--amount", "ten"], "amount"),
        (["--amount", "10", "--stage", "won"], "stage"),
        (["--amount", "10", "--close", "31.12.2026"], "expected_close"),
        (["--amount", "10", "--pipeline", "nowhere"], "pipeline"),
    ):
        error = _refused(book, *base, *extra)
        assert isinstance(error, InvalidFieldError)
        assert error.field == field
    listed = _json(book, "deal", "list")
    assert listed == {"items": []}
    run(book, *base, "--amount", "10")
    error = _refused(book, "deal", "move", "1", "lost")
    assert isinstance(error, InvalidFieldError)
    assert error.field == "lost_reason"
    assert isinstance(_refused(book, "deal", "move", "1", "lead"), TransitionError)
    shown = _json(book, "deal", "show", "1")
    assert isinstance(shown, dict)
    assert (shown["stage"], len(shown["history"])) == ("lead", 1)


def test_pipelines_are_listed_and_shown(book: str) -> None:
    listed = _json(book, "pipeline", "list")
    assert listed == [
        {
            "key": "sales",
            "name": "Sales",
            "stages": "lead, qualified, proposal, negotiation, won, lost",
            "version": 1,
        }
    ]
    stages = _json(book, "pipeline", "show", "sales")
    assert isinstance(stages, list)
    assert [(s["stage"], s["probability"], s["kind"]) for s in stages][2:] == [
        ("proposal", "0.50", "open"),
        ("negotiation", "0.75", "open"),
        ("won", "1.00", "won"),
        ("lost", "0.00", "lost"),
    ]
