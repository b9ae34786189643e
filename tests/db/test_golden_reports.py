"""Golden reports of the demo company (a fixed seed and a fixed today) on SQLite and
PostgreSQL: the figures a bookkeeper checks by hand, each recomputed here with plain SQL
over the postings and the billing tables, and a few key totals kept as literals so that
any change to the demo or to the reports shows.

- the balance sheet balances and equals the trial balance by account type;
- the income statement's result is the change in equity from operations;
- the cash-flow statement's net change is the change in the bank accounts;
- receivables and payables in the balance sheet are the AR and AP aging totals;
- revenue is the issued invoices' nets less credit notes, in the base currency;
- every report renders as CSV, XLSX (read back with openpyxl), PDF (its text read back
  with pypdf) and JSON (through the API).

The SQL values amounts in other currencies as the statements do: a posting's own euros,
else its weight in euros, else its amount at the latest rate on or before the day,
rounded half-even per account and commodity.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import text

from crmledger.bootstrap import App, build, migrate
from crmledger.cli.demo import services_of
from crmledger.core.access import Role
from crmledger.core.aging_table import aging_detail_table, aging_table
from crmledger.core.chart import chart
from crmledger.core.report_table import ReportTable, statement_table, trial_balance_table
from crmledger.core.statement_periods import Period
from crmledger.formats.report_export import to_csv, to_pdf, to_xlsx
from crmledger.server import create_app
from crmledger.services.demo import DemoClock, DemoSpec, load_demo
from tests.api.conftest import add_role_users
from tests.conftest import FAST_HASHER, POSTGRES_URL, _postgres_schema_url, settings_for

D = Decimal
SPEC = DemoSpec(customers=40, years=2, seed=13, today=date(2026, 11, 20))
TODAY = SPEC.today
LAST_YEAR_END = date(2025, 12, 31)
YTD = Period(date(2026, 1, 1), TODAY)
YEAR_2025 = Period(date(2025, 1, 1), LAST_YEAR_END)
RECEIVABLE = "Assets:Receivables:Customers"
PAYABLE = "Liabilities:Payables:Vendors"

#: Key totals of the demo book, computed once by these reports and checked against the
#: SQL of this module (each test below recomputes them from the tables).
GOLDEN = {
    "total_assets": D("256817.60"),
    "total_liabilities": D("105750.11"),
    "total_equity": D("151067.49"),
    "net_result_2025": D("11544.99"),
    "net_result_ytd": D("87804.25"),
    "revenue_ytd": D("282771.30"),
    "cash_change_ytd": D("96002.64"),
    "receivables": D("79781.24"),
    "payables": D("3108.28"),
}
#: The receivables on the demo's today: current, 1-30, 31-60, 61-90, over 90 days.
RECEIVABLE_BUCKETS = (D("24492.64"), D("14280.00"), D("9921.02"), D("571.20"), D("30931.69"))


@dataclass
class Demo:
    """The demo book and a connection's worth of SQL."""

    app: App

    def sql(self, statement: str, **values: object) -> list[tuple]:
        with self.app.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(statement), values)]


def _load(url: str, folder: Path) -> App:
    clock = DemoClock(datetime.combine(SPEC.first_month, time(8), tzinfo=UTC))
    app = build(settings_for(url, folder), clock, FAST_HASHER)
    migrate(app)
    app.ledger.init_book(chart("default"), "EUR")
    load_demo(services_of(app), SPEC, clock)
    return app


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Demo]:
    """The demo company, loaded once per database for the whole module."""
    folder = tmp_path_factory.mktemp("golden")
    if request.param == "sqlite":
        app = _load(f"sqlite:///{folder / 'demo.db'}", folder)
        yield Demo(app)
        app.engine.dispose()
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set CRMLEDGER_TEST_POSTGRES_URL")
    schema = _postgres_schema_url()
    try:
        app = _load(next(schema), folder)
        yield Demo(app)
        app.engine.dispose()
    finally:
        schema.close()


# -- the SQL ----------------------------------------------------------------------------

_BALANCES = """
SELECT a.name, a.type, p.commodity,
       SUM(CASE WHEN p.commodity = 'EUR' THEN p.amount_minor
                WHEN c.weight_commodity = 'EUR' THEN c.weight_minor ELSE 0 END),
       SUM(CASE WHEN p.commodity = 'EUR' OR c.weight_commodity = 'EUR' THEN 0
                ELSE p.amount_minor END)
FROM postings p
JOIN accounts a ON a.id = p.account_id
JOIN journal_entries e ON e.id = p.entry_id
LEFT JOIN posting_conversions c ON c.posting_id = p.id
WHERE e.state <> 'draft' AND e.journal <> 'CL' AND e.date <= :day AND e.date >= :start
GROUP BY a.name, a.type, p.commodity
"""
_RATE = """
SELECT rate FROM exchange_rates WHERE currency = :currency AND day <= :day
ORDER BY day DESC LIMIT 1
"""


def _cents(value: Decimal) -> Decimal:
    return value.quantize(D("0.01"), rounding=ROUND_HALF_EVEN)


def balances(demo: Demo, day: date, start: date = date(1900, 1, 1)) -> dict[str, Decimal]:
    """Per account, the base value of its postings dated ``start`` to ``day``."""
    scales = dict(demo.sql("SELECT code, scale FROM commodities"))
    out: dict[str, Decimal] = {}
    for name, _, commodity, base, open_minor in demo.sql(_BALANCES, day=day, start=start):
        value = D(int(base)) / 100
        if int(open_minor):
            (rate,) = demo.sql(_RATE, currency=commodity, day=day)[0]
            value += _cents(D(int(open_minor)).scaleb(-int(scales[commodity])) * D(rate))
        out[name] = out.get(name, D("0.00")) + value
    return out


def by_type(demo: Demo, day: date, start: date = date(1900, 1, 1)) -> dict[str, Decimal]:
    """Per account type, the base value of its accounts' postings (debit positive)."""
    types = dict(demo.sql("SELECT name, type FROM accounts"))
    out: dict[str, Decimal] = {}
    for name, value in balances(demo, day, start).items():
        out[types[name]] = out.get(types[name], D("0.00")) + value
    return out


def cash(demo: Demo, day: date) -> Decimal:
    """The cash and bank accounts on ``day``."""
    found = balances(demo, day)
    return sum(
        (v for n, v in found.items() if n == "Assets:Cash" or n.startswith("Assets:Bank:")),
        D("0.00"),
    )


_NETS = """
SELECT d.id, d.kind, d.rate, l.account, SUM(l.net_minor)
FROM billing_documents d JOIN billing_lines l ON l.document_id = d.id
WHERE d.kind IN ('invoice', 'credit_note') AND d.status <> 'draft'
  AND d.issued_on >= :start AND d.issued_on <= :end
GROUP BY d.id, d.kind, d.rate, l.account
"""


def invoiced_nets(demo: Demo, period: Period) -> Decimal:
    """Issued invoices' nets less credit notes' in the period, each document's net per
    income account converted at its booked rate (half-even, as it was posted)."""
    scales = dict(demo.sql("SELECT code, scale FROM commodities"))
    currency = dict(demo.sql("SELECT id, currency FROM billing_documents"))
    total = D("0.00")
    for doc, kind, rate, _, net in demo.sql(_NETS, start=period.start, end=period.end):
        amount = D(int(net)).scaleb(-int(scales[currency[doc]]))
        value = _cents(amount * D(rate)) if rate else amount
        total += value if kind == "invoice" else -value
    return total


# -- the checks -------------------------------------------------------------------------


def test_the_balance_sheet_balances_and_equals_the_trial_balance_by_type(demo: Demo) -> None:
    sheet = demo.app.statements.balance_sheet(TODAY)
    types = by_type(demo, TODAY)
    assets, liabilities = types["Assets"], -types["Liabilities"]
    assert sheet.amount("total_assets") == assets == GOLDEN["total_assets"]
    assert sheet.amount("total_liabilities") == liabilities == GOLDEN["total_liabilities"]
    assert sheet.amount("total_equity") == assets - liabilities == GOLDEN["total_equity"]
    assert sheet.amount("total_liabilities_and_equity") == sheet.amount("total_assets")
    # Equity is the equity accounts and every result to date (the translation of amounts
    # valued at today's rate shows as a difference when there is one).
    results = -(types["Equity"] + types["Income"] + types["Expenses"])
    differences = sum(types.values(), D("0.00"))
    assert sheet.amount("total_equity") == results + differences
    # Every account in euros only: its trial-balance balance is its balance-sheet figure.
    found = balances(demo, TODAY)
    tb = demo.app.reports.trial_balance(TODAY)
    commodities: dict[str, set[str]] = {}
    for row in tb.rows:
        commodities.setdefault(row.account, set()).add(row.commodity)
    checked = 0
    for row in tb.rows:
        if commodities[row.account] == {"EUR"} and row.account.startswith(("Assets", "Liab")):
            side = 1 if row.account.startswith("Assets") else -1
            key = f"{'assets' if side == 1 else 'liabilities'}:{row.account}"
            assert row.balance == found[row.account]
            if row.balance:
                assert sheet.amount(key) == side * row.balance
                checked += 1
    assert checked >= 5


def test_the_income_statement_result_is_the_change_in_equity_from_operations(
    demo: Demo,
) -> None:
    statements = demo.app.statements
    ytd = statements.income_statement(YTD, compare="2025-01-01..2025-12-31")
    before, now = statements.balance_sheet(LAST_YEAR_END), statements.balance_sheet(TODAY)
    results = ("prior_results", "current_result")
    change = sum(now.amount(k) for k in results) - sum(before.amount(k) for k in results)
    assert ytd.amount("net_result") == change == now.amount("current_result")
    assert ytd.amount("net_result", 1) == before.amount("current_result")
    assert now.amount("prior_results") == before.amount("current_result")  # one year before
    period = by_type(demo, TODAY, YTD.start)
    assert ytd.amount("net_result") == -(period["Income"] + period["Expenses"])
    assert ytd.amount("net_result") == GOLDEN["net_result_ytd"]
    assert ytd.amount("net_result", 1) == GOLDEN["net_result_2025"]


def test_the_cash_flow_net_change_is_the_change_in_the_bank_accounts(demo: Demo) -> None:
    flow = demo.app.statements.cash_flow(YTD, compare="2025-01-01..2025-12-31")
    change = cash(demo, TODAY) - cash(demo, LAST_YEAR_END)
    assert flow.amount("net_change") == change == GOLDEN["cash_change_ytd"]
    assert flow.amount("net_change", 1) == cash(demo, LAST_YEAR_END) - cash(
        demo, date(2024, 12, 31)
    )


def test_receivables_and_payables_are_the_aging_totals(demo: Demo) -> None:
    sheet = demo.app.statements.balance_sheet(TODAY)
    receivable = demo.app.aging.report("receivable", TODAY)
    payable = demo.app.aging.report("payable", TODAY)
    found = balances(demo, TODAY)
    assert sheet.amount(f"assets:{RECEIVABLE}") == receivable.total == found[RECEIVABLE]
    assert sheet.amount(f"liabilities:{PAYABLE}") == payable.total == -found[PAYABLE]
    assert (receivable.difference, payable.difference) == (D("0.00"), D("0.00"))
    assert receivable.total == GOLDEN["receivables"]
    assert payable.total == GOLDEN["payables"]
    assert receivable.totals == RECEIVABLE_BUCKETS
    # Every party's row is its own balance on the receivable.
    for party in receivable.parties:
        alone = demo.app.aging.report("receivable", TODAY, party_id=party.party_id)
        assert alone.total == party.total == alone.control
    # Each month end of the two years reconciles too.
    for month in range(1, 24):
        day = date(2025 + month // 12, month % 12 + 1, 1)
        report = demo.app.aging.report("receivable", day)
        assert report.total == balances(demo, day)[RECEIVABLE], day


def test_revenue_is_the_issued_invoices_less_credit_notes(demo: Demo) -> None:
    statements = demo.app.statements
    income = statements.income_statement(YTD, compare="2025-01-01..2025-12-31")
    assert income.amount("revenue_total") == invoiced_nets(demo, YTD) == GOLDEN["revenue_ytd"]
    assert income.amount("revenue_total", 1) == invoiced_nets(demo, YEAR_2025)
    (credit_notes,) = demo.sql("SELECT COUNT(*) FROM billing_documents WHERE kind = 'credit_note'")
    assert credit_notes[0] >= 1  # the seed has one: revenue is less it


# -- every format -----------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """A report table and one figure of it: the row labelled ``row``, column ``column``."""

    table: ReportTable
    row: str
    column: str
    figure: Decimal

    def at(self) -> tuple[int, int]:
        """The figure's row and column index."""
        rows = [r[0] for r in self.table.rows]
        columns = [c.key for c in self.table.columns]
        return rows.index(self.row), columns.index(self.column)


def _tables(demo: Demo) -> list[Rendered]:
    """Every report of the demo book, each with a figure to find in every format."""
    statements = demo.app.statements
    income = statements.income_statement(YTD, compare="previous")
    sheet = statements.balance_sheet(TODAY, compare="last-year")
    flow = statements.cash_flow(YTD)
    tb = demo.app.reports.trial_balance(TODAY)
    receivable = demo.app.aging.report("receivable", TODAY)
    payable = demo.app.aging.report("payable", TODAY)
    return [
        Rendered(statement_table(income), "Net result", "c0", income.amount("net_result")),
        Rendered(statement_table(sheet), "Total assets", "c1", sheet.amount("total_assets", 1)),
        Rendered(statement_table(flow), "Net change in cash", "c0", flow.amount("net_change")),
        Rendered(trial_balance_table(tb), "Total EUR", "debit", tb.totals()["EUR"].debit),
        Rendered(aging_table(receivable), "Total", "total", receivable.total),
        Rendered(aging_table(payable), "Total", "b1", payable.totals[1]),
        Rendered(aging_detail_table(receivable), "Total", "credit", receivable.credit),
    ]


def _pdf_text(pdf: bytes) -> str:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pages))


def test_every_report_renders_as_csv_xlsx_and_pdf(demo: Demo) -> None:
    for rendered in _tables(demo):
        table, figure = rendered.table, rendered.figure
        row, column = rendered.at()
        read = list(csv.reader(io.StringIO(to_csv(table))))
        assert read[0] == [c.label for c in table.columns], table.title
        assert len(read) == len(table.rows) + 1, table.title
        assert D(read[1 + row][column]) == figure, table.title
        sheet = load_workbook(io.BytesIO(to_xlsx(table))).active
        assert sheet is not None
        assert sheet["A1"].value == table.title
        cell = sheet.cell(row=5 + row, column=1 + column).value
        assert isinstance(cell, int | float), table.title  # a number, not text
        assert _cents(D(str(cell))) == figure, table.title
        shown = _pdf_text(to_pdf(table))
        assert table.title in shown, table.title
        assert f"{figure:,f}" in shown, table.title


def test_the_api_answers_the_reports_as_json_and_the_statement_as_pdf(demo: Demo) -> None:
    tokens = add_role_users(demo.app)
    auth = {"Authorization": f"Bearer {tokens[Role.ACCOUNTANT]}"}
    day = {"as_of": TODAY.isoformat()}
    with TestClient(create_app(demo.app)) as client:
        aging = client.get("/api/v1/reports/aging", params=day | {"details": "true"}, headers=auth)
        assert aging.status_code == 200, aging.text
        body = aging.json()
        assert D(body["total"]) == D(body["control_balance"]) == GOLDEN["receivables"]
        assert [D(x) for x in body["totals"]] == list(RECEIVABLE_BUCKETS)
        sheet = client.get("/api/v1/reports/balance-sheet", params=day, headers=auth).json()
        amounts = {row["key"]: row["amounts"] for row in sheet["rows"]}
        assert D(amounts["total_assets"][0]) == GOLDEN["total_assets"]
        assert D(amounts[f"assets:{RECEIVABLE}"][0]) == GOLDEN["receivables"]
        # A customer billed in euros only: its statement closes on its aging total.
        party = next(
            p for p in body["parties"] if all(d["currency"] == "EUR" for d in p["documents"])
        )
        period = {"from": "2026-01-01", "to": TODAY.isoformat()}
        url = f"/api/v1/parties/{party['party_id']}/statement"
        statement = client.get(
            url, params=period, headers=auth | {"Accept": "application/json"}
        ).json()
        (section,) = statement["sections"]
        assert D(section["closing"]) == D(party["total"])
        pdf = client.get(url, params=period, headers=auth)
        assert pdf.headers["content-type"] == "application/pdf"
        shown = _pdf_text(pdf.content)
        for line in section["lines"]:
            assert line["number"] in shown
