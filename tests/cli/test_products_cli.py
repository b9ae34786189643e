"""``crmledger product`` on SQLite and PostgreSQL: prices as AMOUNT:CURRENCY, services and
costs, active products listed unless ``--all``, bad prices refused naming the field."""

from __future__ import annotations

import json
import sys

import pytest
from typer.testing import CliRunner

from crmledger.bootstrap import build
from crmledger.cli.main import app as cli
from crmledger.cli.main import main
from crmledger.config import Settings
from crmledger.core.errors import InvalidFieldError
from crmledger.services.products import DuplicateSkuError

runner = CliRunner()


@pytest.fixture
def book(db_url: str) -> str:
    result = runner.invoke(cli, ["--db", db_url, "init", "--base-currency", "EUR"])
    assert result.exit_code == 0, result.output
    return db_url


def run(db: str, *args: str) -> str:
    result = runner.invoke(cli, ["--db", db, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def listed(db: str, *args: str) -> list[dict]:
    return list(json.loads(run(db, "product", "list", "--format", "json", *args))["items"])


def test_add_a_product_and_a_service_and_list_them(book: str) -> None:
    out = run(
        book, "product", "add", "WID-1", "Widget", "--price", "100.00:EUR", "--price", "120:usd"
    )
    assert "Product 1 WID-1 added." in out
    service = json.loads(
        run(
            book,
            "product",
            "add",
            "CONSULT",
            "Consulting",
            "--service",
            "--unit",
            "h",
            "--tax-category",
            "reduced",
            "--price",
            "90:EUR",
            "--cost",
            "40.00",
            "--cost-account",
            "Expenses:Salaries",
            "--format",
            "json",
        )
    )
    assert service["kind"] == "service"
    assert service["income_account"] == "Income:Sales:Services"
    assert (service["cost"], service["cost_currency"]) == ("40.00", "EUR")
    products = listed(book)
    assert [p["sku"] for p in products] == ["CONSULT", "WID-1"]
    widget = products[1]
    assert widget["prices"] == [
        {"currency": "EUR", "amount": "100.00"},
        {"currency": "USD", "amount": "120.00"},
    ]
    assert widget["income_account"] == "Income:Sales:Products"
    table = run(book, "product", "list")
    assert "WID-1" in table
    assert "CONSULT" in table
    csv_out = run(book, "product", "list", "--format", "csv").splitlines()
    assert csv_out[0] == "sku,name,kind,unit,prices,tax,income account,active"
    assert (
        csv_out[2]
        == 'WID-1,Widget,good,pc,"100.00 EUR, 120.00 USD",standard,Income:Sales:Products,yes'
    )


def test_list_shows_inactive_products_with_all(book: str) -> None:
    run(book, "product", "add", "OLD-1", "Old", "--price", "1:EUR")
    run(
        book,
        "product",
        "add",
        "NEW-1",
        "New",
        "--price",
        "2:EUR",
        "--income-account",
        "Income:Other",
    )
    app = build(Settings.load(book))
    try:
        old = app.products.by_sku("OLD-1")
        app.products.update(old.key, {"active": False}, old.version)
    finally:
        app.engine.dispose()
    assert [p["sku"] for p in listed(book)] == ["NEW-1"]
    assert [p["sku"] for p in listed(book, "--all")] == ["NEW-1", "OLD-1"]
    assert listed(book, "--all")[0]["income_account"] == "Income:Other"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--price", "9.999:EUR"], "prices[0].amount"),
        (["--price", "1:EUR", "--price", "1300.5:JPY"], "prices[1].amount"),
        (["--price", "9.99"], "prices[0]"),
        (["--price", "abc:EUR"], "prices[0].amount"),
        (["--income-account", "Expenses:COGS"], "income_account"),
        (["--cost", "4"], "cost_account"),
        (["--tax-category", "luxury"], "tax_category"),
    ],
)
def test_a_bad_product_is_refused_naming_the_field(book: str, args: list[str], field: str) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        runner.invoke(
            cli, ["--db", book, "product", "add", "BAD-1", "Bad", *args], catch_exceptions=False
        )
    assert caught.value.field == field
    assert listed(book, "--all") == []


def test_the_console_script_prints_the_field_and_exits_1(
    book: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run(book, "product", "add", "WID-1", "Widget")
    with pytest.raises(DuplicateSkuError):
        runner.invoke(
            cli, ["--db", book, "product", "add", "WID-1", "Again"], catch_exceptions=False
        )
    argv = ["crmledger", "--db", book, "product", "add", "X-1", "X", "--price", "1.001:EUR"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 1
    assert "prices[0].amount: 1.001 EUR has more than 2 decimal place(s)" in capsys.readouterr().err
    assert [p["sku"] for p in listed(book)] == ["WID-1"]
