"""Invoice, bill and payment files on both databases: every row is checked before anything is
written, a bad row anywhere in a file writes nothing and names its line and field, whether
reading, the book, pricing or only the write finds it (the bulk path's ``documents[i]`` and
``payments[i]`` mapped back to the file, chunk by chunk), and payments keep file order when
some name their invoice and others go to the oldest open ones."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from crmledger.bootstrap import App
from crmledger.formats.tables import read_table
from crmledger.services.billing_import import (
    INVOICE_FIELDS,
    PAYMENT_FIELDS,
    invoice_row,
    payment_row,
)
from crmledger.services.record_import import ImportReport, build_rows, map_headers
from tests.db.test_billing import customer

D = Decimal
HEAD = "invoice,party_id,date,description,quantity,unit_price,tax_category,account\n"
#: Tables a refused file must leave as they were.
WRITTEN = ("billing_documents", "billing_lines", "journal_entries", "payments", "outbox_events")


def count(app: App, table: str) -> int:
    with app.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def counts(app: App) -> dict[str, int]:
    return {table: count(app, table) for table in (*WRITTEN, "audit_log")}


def invoice_file(party: int, count: int, bad: dict[int, str] | None = None) -> str:
    """``count`` invoices of two lines each (file lines 2, 3 are invoice 0 ...); ``bad``
    replaces the row on a file line."""
    rows = []
    for i in range(count):
        day = f"2026-06-{1 + i % 28:02d}"
        rows.append(f"F-{i},{party},{day},Consulting,{1 + i % 3},100.00,standard,")
        rows.append(f"F-{i},{party},{day},Travel,1,{20 + i}.50,reduced,Expenses:Travel")
    for line, row in (bad or {}).items():
        rows[line - 2] = row
    return HEAD + "\n".join(rows) + "\n"


def load(
    app: App, tmp_path: Path, kind: str, content: str, batch: int = 0, dry_run: bool = False
) -> ImportReport:
    """Read ``content`` as the command line reads a file, and import it."""
    path = tmp_path / f"{kind}.csv"
    path.write_text(content, encoding="utf-8")
    table = read_table(path)
    report = ImportReport(source=path.name, dry_run=dry_run)
    find = app.parties.find_reference
    billing = app.billing_import
    if kind == "invoices":
        mapping = map_headers(table.headers, INVOICE_FIELDS, {})
        documents = build_rows(table.rows, mapping, invoice_row(find, "EUR"), report)
        return billing.invoices(documents, report, dry_run=dry_run, batch_size=batch)
    mapping = map_headers(table.headers, PAYMENT_FIELDS, {})
    payments = build_rows(table.rows, mapping, payment_row(find, "EUR"), report)
    return billing.payments(payments, report, dry_run=dry_run, batch_size=batch)


def problems(report: ImportReport) -> list[tuple[int, str]]:
    return [(p.line, p.field) for p in report.problems]


def test_a_good_file_is_written_in_chunks_of_one_transaction(app: App, tmp_path: Path) -> None:
    party = customer(app)
    report = load(app, tmp_path, "invoices", invoice_file(party, 25), batch=7)
    assert (report.ok, report.written, report.rows) == (True, 25, 50)
    with app.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT number, reference, status, gross_minor FROM billing_documents ORDER BY id")
        ).all()
    assert [r.number for r in rows] == [f"INV-2026-{n:04d}" for n in range(1, 26)]
    assert [r.reference for r in rows] == [f"F-{i}" for i in range(25)]
    assert {r.status for r in rows} == {"issued"}
    # F-0: 1 x 100.00 + 19 % and 20.50 + 7 %: 119.00 + 21.94
    assert rows[0].gross_minor == 11900 + 2194
    assert count(app, "journal_entries") == 25


@pytest.mark.parametrize(
    ("bad_row", "field", "reason"),
    [
        ("F-6,{party},2026-06-07,Consulting,x,100.00,standard,", "quantity", "not a number"),
        ("F-6,{party},2026-06-07,Consulting,1,100.001,standard,", "unit_price", "decimal"),
        ("F-6,{party},2026-06-07,Consulting,1,100.00,standard,Income:Nowhere", "account", "no"),
        ("F-6,{party},2026-06-07,Consulting,1,100.00,luxury,", "tax_category", "luxury"),
    ],
    ids=["reading", "currency", "book", "pricing"],
)
def test_one_bad_row_in_the_middle_writes_nothing_and_names_its_line(
    app: App, tmp_path: Path, bad_row: str, field: str, reason: str
) -> None:
    party = customer(app)
    before = counts(app)
    bad = {14: bad_row.format(party=party)}  # invoice F-6's first line, of 40 rows
    report = load(app, tmp_path, "invoices", invoice_file(party, 20, bad), batch=5)
    assert not report.ok
    assert problems(report) == [(14, field)]
    assert reason in report.problems[0].reason
    assert report.written == 0
    assert counts(app) == before


def test_a_refusal_only_the_write_finds_names_its_line_in_a_later_chunk(
    app: App, tmp_path: Path
) -> None:
    """The lock date is checked when the entries are posted: invoice F-13 (file lines 28 and
    29, the fourth chunk of five) is dated in the locked period."""
    party = customer(app)
    app.ledger.lock_period(date(2026, 5, 31))
    before = counts(app)
    bad = {28: f"F-13,{party},2026-05-14,Consulting,1,100.00,standard,"}
    bad[29] = f"F-13,{party},2026-05-14,Travel,1,33.50,reduced,"
    report = load(app, tmp_path, "invoices", invoice_file(party, 20, bad), batch=4)
    assert problems(report) == [(28, "date")]
    assert "lock date 2026-05-31" in report.problems[0].reason
    assert counts(app) == before
    # Nothing was taken: the next invoice gets the first number.
    assert load(app, tmp_path, "invoices", invoice_file(party, 1)).ok
    with app.engine.connect() as conn:
        numbers = conn.execute(text("SELECT number FROM billing_documents")).scalars().all()
    assert numbers == ["INV-2026-0001"]


def test_a_credit_limit_names_the_invoice_that_crosses_it(app: App, tmp_path: Path) -> None:
    party = customer(app, credit_limit=D("1000.00"), currency="EUR")
    # 140.94, 261.00, 381.08, 144.14: 927.16 in the first two chunks; F-4 (264.22, file
    # lines 10 and 11) is the first of the third and takes the exposure to 1,191.38.
    report = load(app, tmp_path, "invoices", invoice_file(party, 9), batch=2)
    assert problems(report) == [(10, "party_id")]
    assert "credit limit" in report.problems[0].reason
    assert count(app, "billing_documents") == 0


def test_payments_keep_file_order_across_chunks_and_named_invoices(
    app: App, tmp_path: Path
) -> None:
    party = customer(app)
    content = (
        HEAD
        + f"A,{party},2026-06-01,Fee,1,100.00,zero,\n"
        + f"B,{party},2026-06-02,Fee,1,100.00,zero,\n"
        + f"C,{party},2026-06-03,Fee,1,100.00,zero,\n"
    )
    assert load(app, tmp_path, "invoices", content).ok
    payments = (
        "party_id,amount,date,invoice\n"
        f"{party},30.00,2026-06-10,\n"  # oldest first: A
        f"{party},40.00,2026-06-10,C\n"  # C, as named
        f"{party},50.00,2026-06-10,\n"  # A (70 open) takes 50
        f"{party},45.00,2026-06-11,\n"  # A's last 20, then B 25
        f"{party},60.00,2026-06-12,C\n"  # C's last 60
    )
    report = load(app, tmp_path, "payments", payments, batch=2)
    assert (report.ok, report.written) == (True, 5)
    with app.engine.connect() as conn:
        found = conn.execute(
            text("SELECT reference, status, open_minor FROM billing_documents ORDER BY id")
        ).all()
        numbers = conn.execute(text("SELECT number FROM payments ORDER BY id")).scalars().all()
    assert [tuple(r) for r in found] == [
        ("A", "paid", 0),
        ("B", "partially_paid", 7500),
        ("C", "paid", 0),
    ]
    assert numbers == [f"RC-2026-{n:04d}" for n in range(1, 6)]


def test_a_bad_payment_in_the_middle_writes_nothing(app: App, tmp_path: Path) -> None:
    party = customer(app)
    assert load(app, tmp_path, "invoices", invoice_file(party, 3)).ok
    app.ledger.lock_period(date(2026, 6, 4))
    before = counts(app)
    rows = [f"{party},10.00,2026-06-{10 + i},\n" for i in range(9)]
    rows[5] = f"{party},10.00,2026-06-03,\n"  # file line 7: in the locked period
    report = load(app, tmp_path, "payments", "party_id,amount,date,invoice\n" + "".join(rows), 4)
    assert problems(report) == [(7, "date")]
    rows[5] = f"{party},-5.00,2026-06-15,\n"
    report = load(app, tmp_path, "payments", "party_id,amount,date,invoice\n" + "".join(rows), 4)
    assert problems(report) == [(7, "amount")]
    assert counts(app) == before


def test_a_dry_run_checks_the_write_and_keeps_nothing(app: App, tmp_path: Path) -> None:
    party = customer(app)
    before = counts(app)
    report = load(app, tmp_path, "invoices", invoice_file(party, 6), dry_run=True)
    assert (report.ok, report.written) == (True, 6)
    assert counts(app) == before
