"""``crmledger report aging`` and ``crmledger party statement`` on SQLite and PostgreSQL,
on the worked book of :mod:`tests.db.test_aging_report`: the figures as a table and as
JSON, custom buckets, a party's documents, every export format written to a file, the
statement as PDF, JSON and a table, and bad input refused naming the option."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from crmledger.bootstrap import build, migrate
from crmledger.core.chart import chart
from tests.cli.test_billing_cli import doc, run, said
from tests.cli.test_statements_cli import refused
from tests.conftest import FAST_HASHER, FixedClock, settings_for
from tests.db.test_aging_report import Book, worked_book

DAY = ("--as-of", "2026-06-30")


@pytest.fixture
def worked(db_url: str) -> tuple[str, Book]:
    """The worked book, with the key ring the command line opens."""
    folder = Path(os.environ["CRMLEDGER_KEYRING"]).parent
    app = build(settings_for(db_url, folder), FixedClock(), FAST_HASHER)
    migrate(app)
    app.ledger.init_book(chart("default"), "EUR")
    book = worked_book(app)
    app.engine.dispose()
    return db_url, book


def test_the_aging_as_a_table_and_as_json(worked: tuple[str, Book]) -> None:
    db, book = worked
    shown = said(db, "report", "aging", *DAY)
    assert "Receivables aging (EUR)" in shown
    assert "as of 2026-06-30, buckets by days overdue: 30, 60, 90" in shown
    assert "211.55" in shown
    found = doc(db, "report", "aging", *DAY)
    assert (found["total"], found["control_balance"], found["difference"]) == (
        "211.55",
        "211.55",
        "0.00",
    )
    assert found["totals"] == ["0.00", "291.55", "0.00", "0.00", "0.00"]
    assert {p["name"]: p["total"] for p in found["parties"]} == {
        "Acme GmbH": "188.00",
        "Beta SARL": "-30.00",
        "Globex Inc": "53.55",
    }
    one = doc(db, "report", "aging", *DAY, "--party", str(book.globex))
    (party,) = one["parties"]
    assert [(d["number"], d["open"], d["base"], d["bucket"]) for d in party["documents"]] == [
        ("INV-2026-0003", "59.50", "53.55", 1)
    ]
    payable = run(db, "report", "aging", "--kind", "payable", *DAY, "--buckets", "0,15,45",
                  "-f", "csv")  # fmt: skip
    rows = list(csv.reader(io.StringIO(payable)))
    assert rows[0][1:5] == ["Current", "1-15", "16-45", "Over 45"]
    assert rows[-1] == ["Total", "0.00", "0.00", "100.00", "0.00", "-40.00", "60.00"]


def test_every_export_format_to_a_file(worked: tuple[str, Book], tmp_path: Path) -> None:
    db, _ = worked
    args = ("report", "aging", *DAY, "--details")
    run(db, *args, "-f", "xlsx", "-o", str(tmp_path / "aging.xlsx"))
    sheet = load_workbook(tmp_path / "aging.xlsx").active
    assert sheet is not None
    assert [c.value for c in sheet[4]][:7] == [
        "Party", "Document", "Date", "Due", "Days overdue", "Currency", "Open"
    ]  # fmt: skip
    documents = {r[1].value for r in sheet.iter_rows(min_row=5) if r[1].value}
    assert documents == {"INV-2026-0002", "CN-2026-0001", "RC-2026-0003", "INV-2026-0003"}
    run(db, *args, "-f", "pdf", "-o", str(tmp_path / "aging.pdf"))
    text = " ".join(p.extract_text() for p in PdfReader(tmp_path / "aging.pdf").pages)
    assert "Receivables aging (EUR)" in text
    assert "211.55" in text
    run(db, *args, "-f", "json", "-o", str(tmp_path / "aging.json"))
    assert '"INV-2026-0003"' in (tmp_path / "aging.json").read_text(encoding="utf-8")


def test_a_party_statement_as_pdf_json_and_table(worked: tuple[str, Book], tmp_path: Path) -> None:
    db, book = worked
    period = ("--from", "2026-04-01", "--to", "2026-06-30")
    out = tmp_path / "acme.pdf"
    wrote = said(db, "party", "statement", str(book.acme), *period, "--output", str(out))
    # Rich wraps a long path anywhere, and said() joins the pieces with blanks.
    assert f"Wrote{out}(pdf" in wrote.replace(" ", "")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(out).pages).split())
    for expected in ("Kontoauszug", "Anfangssaldo", "119,00", "188,00", "INV-2026-0002",
                     "RC-2026-0001", "CN-2026-0001"):  # fmt: skip
        assert expected in text, expected
    found = doc(db, "party", "statement", str(book.acme), *period)
    (section,) = found["sections"]
    assert (section["opening"], section["closing"]) == ("119.00", "188.00")
    assert section["aging"]["1-30"] == "238.00"
    table = said(db, "party", "statement", str(book.vendor), "--to", "2026-06-30")
    assert "Paper Mill: 2026-01-01 to 2026-06-30, EUR" in table
    assert "Open: Current 0.00, 1-30 100.00, 31-60 0.00" in table


def test_bad_input_is_refused_naming_the_option(
    worked: tuple[str, Book],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db, book = worked
    assert "buckets: bounds increase" in refused(
        db, monkeypatch, capsys, "report", "aging", "--buckets", "60,30"
    )
    assert "as-of: 'yesterday' is not a date" in refused(
        db, monkeypatch, capsys, "report", "aging", "--as-of", "yesterday"
    )
    assert "output: xlsx is written to a file" in refused(
        db, monkeypatch, capsys, "report", "aging", "-f", "xlsx"
    )
    assert "output: a PDF is written to a file" in refused(
        db, monkeypatch, capsys, "party", "statement", str(book.acme), "-f", "pdf"
    )
    assert "to: the period ends before it starts" in refused(
        db, monkeypatch, capsys, "party", "statement", str(book.acme),
        "--from", "2026-06-30", "--to", "2026-01-01",
    )  # fmt: skip
