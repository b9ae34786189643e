"""``crmledger party show ID --360`` and ``crmledger report profitability|rfm|cohorts|
receivables|cost-to-serve`` on both databases, on the book of ``tests.db.test_intelligence``:
JSON equal to the service's figures, CSV safe against formulas with numbers kept numbers,
XLSX with numbers as numbers, settings changed and bad input refused naming the field."""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from crmledger.bootstrap import App, build, migrate
from crmledger.cli.main import app as cli
from crmledger.cli.main import main
from crmledger.config import Settings
from crmledger.core.chart import chart
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.core.errors import InvalidFieldError
from crmledger.services.invoicing import DocumentLine, NewDocument
from tests.conftest import FAST_HASHER, FixedClock
from tests.db.test_intelligence import Book, build_book

runner = CliRunner()


@pytest.fixture
def book(
    db_url: str, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Book, App]]:
    """The intelligence book, its key ring where the CLI looks, and the services on the real
    clock (the CLI's) to compare with."""
    keys = tmp_path / "cli.keys"
    monkeypatch.setenv("CRMLEDGER_KEYRING", str(keys))
    settings = Settings(database_url=db_url, keyring_path=keys)
    app = build(settings, clock, FAST_HASHER)
    migrate(app)
    app.ledger.init_book(chart("default"), "EUR")
    found = build_book(app, clock)
    formula = app.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="=SUM(A1:A9)")).id
    line = DocumentLine(description="Advice", unit_price=Decimal("10.00"))
    draft = app.invoices.create(NewDocument(party_id=formula or 0, currency="EUR", lines=[line]))
    app.invoices.issue(draft.id, draft.version)
    app.engine.dispose()
    live = build(settings, hasher=FAST_HASHER)
    yield db_url, found, live
    live.engine.dispose()


def run(db: str, *args: str) -> str:
    result = runner.invoke(cli, ["--db", db, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def said(db: str, *args: str) -> str:
    """What a command printed as one line of words, without the table's box drawing."""
    text = run(db, *args)
    return " ".join(re.sub("[\u2500-\u257f]", " ", text).split())


def doc(db: str, *args: str) -> Any:
    return json.loads(run(db, *args, "--format", "json"))


def test_party_show_360_is_the_services_360(book: tuple[str, Book, App]) -> None:
    db, ids, live = book
    shown = doc(db, "party", "show", str(ids.acme), "--360")
    view = live.intelligence.customer_360(ids.acme)
    assert shown["party"]["display_name"] == "Acme GmbH"
    assert shown["lifetime"]["revenue"] == "500.00"
    assert shown["lifetime"]["net"] == str(view.lifetime.net)
    assert shown["churn"]["score"] == view.churn.score
    assert [d["name"] for d in shown["churn"]["drivers"]] == [d.name for d in view.churn.drivers]
    assert shown["rfm"]["code"] == view.rfm.code  # type: ignore[union-attr]
    assert shown["lifetime_value"]["value"] == str(view.lifetime_value.value)  # type: ignore[union-attr]
    assert shown["lifetime_value"]["assumptions"]["retention_source"] == "default"
    assert [s["nps"] for s in shown["satisfaction"]] == ["100.0", "-100.0"]
    table = said(db, "party", "show", str(ids.acme), "--360")
    for words in ("lifetime revenue 500.00 EUR", "gross margin 260.00 EUR", "Churn risk"):
        assert words in table
    assert "Lifetime value = monthly margin" in table


def test_profitability_as_json_csv_and_xlsx(book: tuple[str, Book, App], tmp_path: Path) -> None:
    db, _, live = book
    report = doc(db, "report", "profitability", "--by", "customer", "--sort", "key")
    expected = live.intelligence.profitability("customer", sort="key")
    assert [(line["key"], line["net"]) for line in report["lines"]] == [
        (line.key, str(line.net)) for line in expected.lines
    ]
    assert report["totals"]["revenue"] == "1600.00"
    text = run(db, "report", "profitability", "--format", "csv")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "Key",
        "Name",
        "Revenue",
        "Cost of goods",
        "Gross margin",
        "Cost to serve",
        "Net",
    ]
    by_name = {row[1]: row for row in rows[1:]}
    assert "'=SUM(A1:A9)" in by_name  # a name a spreadsheet would run is text
    assert by_name["Acme GmbH"][2] == "500.00"
    assert by_name["Total"][2] == "1600.00"
    path = tmp_path / "profit.xlsx"
    run(db, "report", "profitability", "--by", "month", "--format", "xlsx", "--output", str(path))
    sheet = load_workbook(path).active
    assert sheet is not None
    total = next(r for r in sheet.iter_rows(min_row=5, values_only=True) if r[0] == "total")
    assert isinstance(total[2], int | float)  # a number, not text
    assert total[2] == pytest.approx(1600.00)


def test_rfm_cohorts_receivables(book: tuple[str, Book, App]) -> None:
    db = book[0]
    rfm = doc(db, "report", "rfm")
    assert len(rfm["customers"]) == 4
    assert {c["name"] for c in rfm["customers"]} >= {"Acme GmbH", "Cara Diaz"}
    segment = rfm["customers"][0]["segment"]
    only = doc(db, "report", "rfm", "--segment", segment)
    assert {c["segment"] for c in only["customers"]} == {segment}
    cohorts = doc(db, "report", "cohorts", "--from", "2026-02", "--to", "2026-05")
    assert [(c["month"], c["customers"]) for c in cohorts["cohorts"]] == [
        ("2026-02", 1),
        ("2026-05", 1),
    ]
    kpis = doc(
        db, "report", "receivables", "--from", "2026-04-01", "--to", "2026-06-30", "--top", "2"
    )
    # the book's figures plus the 11.90 invoice of "=SUM(A1:A9)", not yet due on 30 June
    assert (kpis["receivables"], kpis["credit_sales"]) == ("1047.00", "476.00")
    assert (kpis["dso"], kpis["cei"]) == ("200.2", "41.6")
    assert [d["name"] for d in kpis["top_debtors"]] == ["Beta AG", "Acme GmbH"]
    table = said(db, "report", "receivables", "--top", "2")
    assert "Debtor: Beta AG" in table


def test_cost_to_serve_is_shown_changed_and_checked(
    book: tuple[str, Book, App], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db, ids, live = book
    assert doc(db, "report", "cost-to-serve")["complaint"] == "40.00"
    changed = doc(db, "report", "cost-to-serve", "--set", "complaint=50.00")
    assert changed["complaint"] == "50.00"
    view = live.intelligence.customer_360(ids.acme)
    assert view.lifetime.cost_to_serve.complaints == Decimal("50.00")
    with pytest.raises(InvalidFieldError) as caught:
        runner.invoke(
            cli,
            ["--db", db, "report", "cost-to-serve", "--set", "colour=1"],
            catch_exceptions=False,
        )
    assert caught.value.field == "colour"
    assert doc(db, "report", "cost-to-serve", "--reset")["complaint"] == "40.00"
    monkeypatch.setattr(
        sys, "argv", ["crmledger", "--db", db, "report", "profitability", "--by", "x"]
    )
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 1
    assert "by: one of customer, product" in capsys.readouterr().err


def test_the_readme_section_runs_as_written(book: tuple[str, Book, App]) -> None:
    db = book[0]
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Customer intelligence", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    commands = [shlex.split(line, comments=True) for line in block.group(1).splitlines()]
    assert len(commands) >= 6
    for words in commands:
        assert words[0] == "crmledger"
        run(db, *words[1:])
