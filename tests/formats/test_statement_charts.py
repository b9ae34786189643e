"""The statements' charts: the figures each statement draws, one bar per column with the
statement's own amounts and links, the cash waterfall from opening to closing cash, and
the charts printed in the statement PDFs."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from decimal import Decimal

from pypdf import PdfReader

from crmledger.core.report_table import statement_table
from crmledger.core.statements import Column, Row, Statement
from crmledger.formats.report_export import export
from crmledger.formats.statement_charts import cash_steps, statement_charts
from tests.core.test_statements import YEAR_ONE, statements

D = Decimal


def _link(row: Row, column: Column) -> str:
    return f"/drill/{row.key}/{column.label}"


def _labels(drawn: str) -> list[str]:
    return re.findall(r'aria-label="([^"]*)"', drawn)


def test_the_income_statement_draws_revenue_and_each_result_with_its_entries() -> None:
    income, _, _ = statements(YEAR_ONE)
    earlier = replace(income.columns[0], label="2025")
    compared = Statement(
        income.kind,
        income.title,
        income.currency,
        income.scale,
        (income.columns[0], earlier),
        tuple(replace(r, amounts=(*r.amounts, *(a / 2 for a in r.amounts))) for r in income.rows),
    )
    [(title, drawn)] = statement_charts(compared, inline_style=False, href=_link)
    assert title == "Revenue and results"
    labels = _labels(drawn)
    assert "Revenue, 2026: 2,000.00 EUR" in labels
    assert "Net result, 2026: 450.00 EUR" in labels
    assert "Net result, 2025: 225.00 EUR" in labels
    assert 'href="/drill/net_result/2025"' in drawn
    assert 'href="/drill/revenue_total/2026"' in drawn
    assert "<style" not in drawn


def test_the_balance_sheet_draws_assets_liabilities_and_equity() -> None:
    _, sheet, _ = statements(YEAR_ONE)
    [(title, drawn)] = statement_charts(sheet, href=_link)
    assert title == "Assets, liabilities and equity"
    labels = _labels(drawn)
    assert "Assets, 2026: 11,680.00 EUR" in labels
    assert "Liabilities, 2026: 1,230.00 EUR" in labels
    assert "Equity, 2026: 10,450.00 EUR" in labels
    assert "<style" in drawn  # drawn for a PDF or a file: its style goes with it


def test_the_cash_waterfall_walks_from_opening_to_closing_cash() -> None:
    _, _, flow = statements(YEAR_ONE)
    steps = cash_steps(flow, _link)
    assert [(s.label, s.amount, s.total) for s in steps] == [
        ("Opening cash", D("0.00"), True),
        ("Operating", D("50.00"), False),
        ("Investing", D("-3000.00"), False),
        ("Financing", D("10050.00"), False),
        ("Closing cash", D("7100.00"), True),
    ]
    assert steps[0].amount + sum(s.amount for s in steps[1:-1]) == steps[-1].amount
    assert steps[2].href == "/drill/investing_total/2026"
    [(title, drawn)] = statement_charts(flow, href=_link)
    assert title == "Cash flow, 2026"
    assert "Investing: -3,000.00 EUR" in _labels(drawn)


def test_a_statement_pdf_prints_its_chart_above_the_table() -> None:
    income, _, _ = statements(YEAR_ONE)
    plain = export(statement_table(income), "pdf")
    charted = export(statement_table(income), "pdf", statement_charts(income))
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(charted)).pages)
    assert "Revenue and results" in text
    assert "Gross profit" in text
    plain_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(plain)).pages)
    assert "Revenue and results" not in plain_text
