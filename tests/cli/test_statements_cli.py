"""``crmledger report income-statement|balance-sheet|cash-flow|drilldown|general-ledger|
journal`` and ``crmledger period close|reopen`` on SQLite and PostgreSQL: the figures as a
table and as JSON, every export format written to a file, comparison columns, and a year
closed and reopened with the statements unchanged."""

from __future__ import annotations

import csv
import io
import re
import shlex
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from crmledger.cli.main import app as cli
from crmledger.cli.main import main
from tests.cli.test_billing_cli import doc, run, runner, said
from tests.cli.test_readme import ROOT


@pytest.fixture
def book(db_url: str) -> str:
    """A EUR book with two years: capital, sales, rent, a receivable paid."""
    run(db_url, "init", "--base-currency", "EUR")
    for day, narration, first, second in (
        ("2025-01-02", "Capital", "Assets:Bank:Checking 5000 EUR", "Equity:Capital -5000 EUR"),
        ("2025-03-05", "Sale", "Assets:Cash 1200 EUR", "Income:Sales:Products -1200 EUR"),
        ("2025-04-01", "Rent", "Expenses:Rent 300 EUR", "Assets:Bank:Checking -300 EUR"),
        ("2026-02-10", "Sale", "Assets:Cash 80 EUR", "Income:Sales:Products -80 EUR"),
    ):
        run(db_url, "entry", "post", "--date", day, "--narration", narration,
            "-p", first, "-p", second)  # fmt: skip
    return db_url


def refused(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> str:
    monkeypatch.setattr(sys, "argv", ["crmledger", "--db", db, *args])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 1
    return " ".join(capsys.readouterr().err.split())


def amounts(document: dict) -> dict[str, list[str]]:
    return {row["key"]: row["amounts"] for row in document["rows"]}


def test_statements_as_tables_and_json(book: str) -> None:
    year = ("--from", "2025-01-01", "--to", "2025-12-31")
    shown = said(book, "report", "income-statement", *year, "--compare", "last-year")
    assert "Income statement (EUR)" in shown
    assert "Net result" in shown
    assert "900.00" in shown
    income = doc(book, "report", "income-statement", *year, "--compare", "previous")
    assert [c["label"] for c in income["columns"]] == ["2025", "2024"]
    assert amounts(income)["net_result"] == ["900.00", "0.00"]
    assert amounts(income)["revenue:Income:Sales:Products"] == ["1200.00", "0.00"]
    sheet = doc(book, "report", "balance-sheet", "--as-of", "2026-06-30", "--compare", "last-year")
    found = amounts(sheet)
    assert found["total_assets"] == ["5980.00", "5900.00"]
    assert found["total_liabilities_and_equity"] == found["total_assets"]
    assert found["prior_results"] == ["900.00", "0.00"]
    assert found["current_result"] == ["80.00", "900.00"]
    flow = doc(book, "report", "cash-flow", "--from", "2026-01-01", "--to", "2026-06-30")
    assert amounts(flow)["net_change"] == ["80.00"]
    assert amounts(flow)["cash_opening"] == ["5900.00"]
    rent = doc(book, "report", "drilldown", "Expenses:Rent", "--from", "2025-01-01")
    assert [(p["entry"], p["base"]) for p in rent["postings"]] == [("GJ/2025/3", "300.00")]
    ledger = doc(book, "report", "general-ledger", *year, "--account", "Assets:Bank")
    assert [(a["account"], a["opening"], a["closing"]) for a in ledger["accounts"]] == [
        ("Assets:Bank:Checking", "0.00", "4700.00")
    ]
    journal = doc(book, "report", "journal", "--from", "2026-01-01", "--to", "2026-12-31")
    assert [p["entry"] for p in journal["postings"]] == ["GJ/2026/1", "GJ/2026/1"]


def test_every_export_format_to_a_file(book: str, tmp_path: Path) -> None:
    args = ("report", "balance-sheet", "--as-of", "2025-12-31")
    run(book, *args, "-f", "csv", "-o", str(tmp_path / "bs.csv"))
    rows = list(csv.reader(io.StringIO((tmp_path / "bs.csv").read_text(encoding="utf-8"))))
    assert rows[0] == ["Line", "2025-12-31"]
    assert ["Total assets", "5900.00"] in rows
    run(book, *args, "-f", "xlsx", "-o", str(tmp_path / "bs.xlsx"))
    sheet = load_workbook(tmp_path / "bs.xlsx").active
    values = {r[0].value: r[1].value for r in sheet.iter_rows(min_row=5) if r[0].value}
    assert values["Total assets"] == pytest.approx(5900)
    run(book, *args, "-f", "pdf", "-o", str(tmp_path / "bs.pdf"))
    text = PdfReader(tmp_path / "bs.pdf").pages[0].extract_text()
    assert "Total assets" in text
    assert "5,900.00" in text
    run(book, *args, "-f", "json", "-o", str(tmp_path / "bs.json"))
    assert '"total_assets"' in (tmp_path / "bs.json").read_text(encoding="utf-8")
    printed = run(book, "report", "trial-balance", "--as-of", "2025-12-31", "-f", "csv")
    assert "Assets:Bank:Checking,EUR,5000.00,300.00,4700.00" in printed
    run(book, "report", "trial-balance", "-f", "xlsx", "-o", str(tmp_path / "tb.xlsx"))
    tb = load_workbook(tmp_path / "tb.xlsx").active
    assert [c.value for c in tb[4]] == ["Account", "Commodity", "Debit", "Credit", "Balance"]


def test_close_and_reopen_a_year(
    book: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = doc(book, "report", "balance-sheet", "--as-of", "2026-06-30")
    closed = said(book, "period", "close", "--year", "2025")
    assert "Closed 2025: result 900.00 EUR, posted CL/2025/1; locked up to 2025-12-31" in closed
    assert doc(book, "report", "balance-sheet", "--as-of", "2026-06-30") == before
    assert "2025-06-01 is on or before the lock date 2025-12-31" in refused(
        book, monkeypatch, capsys, "entry", "post", "--date", "2025-06-01", "--narration", "Late",
        "-p", "Assets:Cash 1 EUR", "-p", "Income:Other -1 EUR",
    )  # fmt: skip
    assert "2025 is closed already" in refused(
        book, monkeypatch, capsys, "period", "close", "--year", "2025"
    )
    reopened = said(book, "period", "reopen", "--year", "2025")
    assert "Reopened 2025: reversed by CL/2025/2; lock date nothing is locked" in reopened
    assert doc(book, "report", "balance-sheet", "--as-of", "2026-06-30") == before
    assert "2025: reopened" in said(book, "period", "closes")


def test_bad_input_is_refused_naming_the_option(
    book: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "output: xlsx is written to a file" in refused(
        book, monkeypatch, capsys, "report", "cash-flow", "--from", "2025-01-01",
        "--to", "2025-12-31", "-f", "xlsx",
    )  # fmt: skip
    assert "compare: 'yesterday' is neither" in refused(
        book, monkeypatch, capsys, "report", "income-statement", "--from", "2025-01-01",
        "--to", "2025-12-31", "--compare", "yesterday",
    )  # fmt: skip
    assert "to: the period ends (2025-01-01) before it starts" in refused(
        book, monkeypatch, capsys, "report", "income-statement", "--from", "2025-12-31",
        "--to", "2025-01-01",
    )  # fmt: skip
    assert "from: '2025-13-01' is not a date" in refused(
        book,
        monkeypatch,
        capsys,
        "report",
        "cash-flow",
        "--from",
        "2025-13-01",
        "--to",
        "2025-12-31",
    )


def test_the_readme_statements_section_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Financial statements and the year-end close", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    text = block.group(1).replace("\\\n", " ")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CRMLEDGER_DATABASE_URL", raising=False)
    outputs = []
    for line in (line for line in text.splitlines() if line.strip()):
        words = shlex.split(line, comments=True)
        assert words[0] == "crmledger"
        result = runner.invoke(cli, words[1:])
        assert result.exit_code == 0, (words, result.output)
        outputs.append(" ".join(result.output.split()))
    said_all = " ".join(outputs)
    assert "1,080.00" in said_all  # the net result: 1,200.00 less 120.00
    assert "Closed 2025: result 1,080.00 EUR, posted CL/2025/1" in said_all
    assert "Reopened 2025: reversed by CL/2025/2" in said_all
    assert load_workbook(tmp_path / "cash.xlsx").active["A1"].value == "Cash-flow statement (EUR)"
    assert "5,000.00" in PdfReader(tmp_path / "sheet.pdf").pages[0].extract_text()
