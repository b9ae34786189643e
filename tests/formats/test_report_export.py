"""Report exports: CSV that no spreadsheet runs as a formula and whose numbers stay numbers,
XLSX read back with openpyxl (numbers as numbers with their decimals, dates as dates, text
that looks like a formula stored as text), and a PDF whose text holds the totals."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from crmledger.core.report_table import DATE, NUMBER, ReportTable, TableColumn, statement_table
from crmledger.formats.report_export import export, safe_text, to_csv, to_pdf, to_xlsx
from tests.core.test_statements import YEAR_ONE, statements

D = Decimal

TABLE = ReportTable(
    "Journal (EUR)",
    "2026-01-01 to 2026-12-31",
    (
        TableColumn("date", "Date", DATE),
        TableColumn("narration", "Narration"),
        TableColumn("amount", "Amount", NUMBER, 2),
    ),
    (
        (date(2026, 1, 5), '=HYPERLINK("http://evil.example","x")', D("-1234.50")),
        (date(2026, 1, 6), "+1+2", D("0.10")),
        (date(2026, 1, 7), "-3", D("7.00")),
        (date(2026, 1, 8), "@SUM(A1)", D("1000000.00")),
        (date(2026, 1, 9), "\tcmd", D("-0.01")),
        (date(2026, 1, 10), "\rcmd", None),
        (None, "Total", D("998772.59")),
    ),
    ("item", "item", "item", "item", "item", "item", "total"),
    ("Figures in euros.",),
)


def test_safe_text_escapes_what_starts_a_formula() -> None:
    assert [safe_text(t) for t in ("=1", "+1", "-1", "@x", "\tx", "\rx", "a=1", "")] == [
        "'=1",
        "'+1",
        "'-1",
        "'@x",
        "'\tx",
        "'\rx",
        "a=1",
        "",
    ]


def test_csv_escapes_formulas_and_keeps_numbers_as_numbers() -> None:
    rows = list(csv.reader(io.StringIO(to_csv(TABLE), newline="")))
    assert rows[0] == ["Date", "Narration", "Amount"]
    assert rows[1] == ["2026-01-05", '\'=HYPERLINK("http://evil.example","x")', "-1234.50"]
    assert [r[1] for r in rows[2:7]] == ["'+1+2", "'-3", "'@SUM(A1)", "'\tcmd", "'\rcmd"]
    assert [r[2] for r in rows[1:]] == [
        "-1234.50",
        "0.10",
        "7.00",
        "1000000.00",
        "-0.01",
        "",
        "998772.59",
    ]
    assert rows[7] == ["", "Total", "998772.59"]
    assert sum(D(r[2]) for r in rows[1:7] if r[2]) == D(rows[7][2])


def test_xlsx_reads_back_numbers_dates_and_text() -> None:
    book = load_workbook(io.BytesIO(to_xlsx(TABLE)))
    sheet = book.active
    assert sheet is not None
    assert sheet["A1"].value == "Journal (EUR)"
    assert sheet["A2"].value == "2026-01-01 to 2026-12-31"
    assert [c.value for c in sheet[4]] == ["Date", "Narration", "Amount"]
    first = sheet[5]
    assert first[0].value == datetime(2026, 1, 5)
    assert first[0].is_date
    assert first[1].data_type == "s"  # text, not a formula
    assert first[1].value == '=HYPERLINK("http://evil.example","x")'
    assert first[2].data_type == "n"
    assert first[2].value == pytest.approx(-1234.5)
    assert first[2].number_format == "#,##0.00;-#,##0.00"
    assert all(sheet.cell(row=r, column=2).data_type == "s" for r in range(5, 11))
    total = sheet[11]
    assert total[1].value == "Total"
    assert total[2].value == pytest.approx(998772.59)
    assert total[2].data_type == "n"  # a value, not a formula
    assert total[2].font.bold
    assert sheet["A13"].value == "Figures in euros."


def test_statement_exports_carry_its_figures() -> None:
    income, sheet, _ = statements(YEAR_ONE)
    table = statement_table(sheet)
    rows = list(csv.reader(io.StringIO(export(table, "csv").decode("utf-8"))))
    assert rows[0] == ["Line", "2026"]
    found = {r[0]: r[1] for r in rows[1:]}
    assert found["Total assets"] == "11680.00"
    assert found["Total liabilities and equity"] == "11680.00"
    assert found["Assets"] == ""
    book = load_workbook(io.BytesIO(export(statement_table(income), "xlsx")))
    values = {
        row[0].value: row[1].value for row in book.active.iter_rows(min_row=5) if row[0].value
    }
    assert values["Net result"] == pytest.approx(450)
    assert values["Revenue"] is None


def test_pdf_text_holds_the_totals() -> None:
    _, sheet, _ = statements(YEAR_ONE)
    pdf = to_pdf(statement_table(sheet))
    assert pdf.startswith(b"%PDF-")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Balance sheet (EUR)" in text
    assert "Total assets" in text
    assert "11,680.00" in text
    assert "Total liabilities and equity" in text
    assert "-600.00" in text  # accumulated depreciation


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        export(TABLE, "docx")
