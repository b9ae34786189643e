"""``crmledger expense``, ``bill schedule``, ``billing run`` with recurring bills and
``import bills`` on SQLite and PostgreSQL: a claim from its receipt to the reimbursement, a
bad receipt refused naming it, recurring bills billed once, and a bill file that is written
whole or not at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmledger.cli.main import app as cli
from crmledger.core.errors import InvalidFieldError
from tests.cli.test_billing_cli import PIXEL, doc, invoices, run, said

runner = CliRunner()


@pytest.fixture
def book(db_url: str) -> str:
    """A book with a sales user (Sam, user 1) and a vendor (party 1)."""
    run(db_url, "init", "--base-currency", "EUR")
    added = runner.invoke(
        cli,
        ["--db", db_url, "user", "add", "sam@example.com", "--role", "sales", "--password-stdin"],
        input="correct horse battery\n",
        catch_exceptions=False,
    )
    assert added.exit_code == 0, added.output
    run(db_url, "party", "add", "Hausverwaltung Nord", "--country", "DE", "--tag", "vendor")
    return db_url


def balance_of(db: str, account: str) -> str:
    rows = json.loads(run(db, "report", "trial-balance", "--format", "json"))["accounts"]
    found = [r for r in rows if r["account"] == account]
    return found[0]["balance"] if found else "0.00"


def test_a_claim_from_its_receipt_to_the_reimbursement(book: str, tmp_path: Path) -> None:
    receipt = tmp_path / "taxi.png"
    receipt.write_bytes(PIXEL)
    claim = doc(
        book,
        "expense",
        "add",
        "--employee",
        "sam@example.com",
        "--date",
        "2026-06-12",
        "--description",
        "Taxi to the airport",
        "--account",
        "Expenses:Travel",
        "--amount",
        "59.50",
        "--tax",
        "standard",
        "--receipt",
        str(receipt),
        "--submit",
    )
    assert (claim["status"], claim["gross"], claim["net"], claim["tax"]) == (
        "submitted",
        "59.50",
        "50.00",
        "9.50",
    )
    assert [(r["name"], r["content_type"]) for r in claim["receipts"]] == [
        ("taxi.png", "image/png")
    ]
    listed = doc(book, "expense", "list", "--status", "submitted")
    assert [(c["id"], c["employee"], c["receipts"]) for c in listed] == [(1, 1, 1)]
    assert "EXP-2026-0001" in said(book, "expense", "approve", "1")
    assert balance_of(book, "Liabilities:Employees:Reimbursements") == "-59.50"
    assert balance_of(book, "Assets:Tax:Input") == "9.50"
    out = said(book, "expense", "reimburse", "1", "--date", "2026-06-30")
    assert "EXP-2026-0001 reimbursed from Assets:Bank:Checking: 59.50 EUR" in out
    assert balance_of(book, "Liabilities:Employees:Reimbursements") == "0.00"
    assert doc(book, "expense", "show", "1")["status"] == "reimbursed"
    copy = tmp_path / "copy.png"
    run(book, "expense", "receipt", "1", "1", "-o", str(copy))
    assert copy.read_bytes() == PIXEL
    shown = said(book, "expense", "show", "1")
    assert "Taxi to the airport (reimbursed)" in shown
    assert "taxi.png" in shown


def test_a_bad_receipt_is_refused_naming_it_and_nothing_is_written(
    book: str, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a receipt", encoding="utf-8")
    args = [
        "--db",
        book,
        "expense",
        "add",
        "--employee",
        "sam@example.com",
        "--description",
        "Lunch",
        "--account",
        "Expenses:Travel",
        "--amount",
        "12.00",
        "--receipt",
        str(notes),
    ]
    with pytest.raises(InvalidFieldError) as refused:
        runner.invoke(cli, args, catch_exceptions=False)
    assert refused.value.field == "receipts[0]"
    assert "notes.txt is not a PDF, PNG or JPEG file" in str(refused.value)
    assert doc(book, "expense", "list") == []
    draft = doc(book, *args[2:-2])
    with pytest.raises(InvalidFieldError) as no_receipt:
        runner.invoke(
            cli, ["--db", book, "expense", "submit", str(draft["id"])], catch_exceptions=False
        )
    assert no_receipt.value.field == "receipts"
    rejected = doc(book, "expense", "show", str(draft["id"]))
    assert rejected["status"] == "draft"


def test_recurring_bills_are_billed_once_by_the_billing_run(book: str) -> None:
    out = said(
        book,
        "bill",
        "schedule",
        "add",
        "--vendor",
        "1",
        "--frequency",
        "monthly",
        "--start",
        "2026-04-01",
        "--end",
        "2026-05-31",
        "--line",
        "Office rent:1:1000.00:Expenses:Rent",
        "--reference",
        "Lease 7/B",
    )
    assert "Recurring bill 1 from party 1: monthly from 2026-04-01, next on 2026-04-01." in out
    billed = doc(book, "billing", "run", "--date", "2026-06-30")
    assert [(b["number"], b["billing date"], b["gross"]) for b in billed] == [
        ("BILL-2026-0001", "2026-04-01", "1190.00"),
        ("BILL-2026-0002", "2026-05-01", "1190.00"),
    ]
    assert "Nothing to bill through 2026-06-30." in said(
        book, "billing", "run", "--date", "2026-06-30"
    )
    [schedule] = doc(book, "bill", "schedule", "list")
    assert (schedule["status"], [b["date"] for b in schedule["bills"]]) == (
        "ended",
        ["2026-04-01", "2026-05-01"],
    )
    assert balance_of(book, "Expenses:Rent") == "2000.00"


BILLS = """bill,vendor id,date,reference,description,quantity,unit_price,tax_category,account
R-1,1,2026-05-04,V-881,Printer paper,10,4.50,standard,Expenses:Office
R-1,1,2026-05-04,V-881,Toner,1,80.00,standard,Expenses:Office
R-2,1,2026-05-09,V-902,Hosting,1,200.00,zero,Expenses:Software
"""


def test_import_bills_writes_every_bill_or_none(book: str, tmp_path: Path) -> None:
    bad = tmp_path / "bills.csv"
    bad.write_text(
        BILLS
        + "R-3,1,2026-05-10,V-903,Cleaning,1,,standard,Expenses:Office\n"
        + "R-4,1,2026-05-10,V-904,Coffee,1,9.99,standard,Expenses:Kitchen\n"
        + "R-5,7,2026-05-10,V-905,Chairs,2,150.00,standard,Expenses:Office\n",
        encoding="utf-8",
    )
    out = run(book, "import", "bills", str(bad), code=1)
    assert "bills.csv:5: unit_price: a bill line needs a unit price" in out
    assert "bills.csv:6: account: the chart has no account 'Expenses:Kitchen'" in out
    assert "bills.csv:7: party_id: no party 7" in out
    assert "import refused: 3 problem(s) in 6 rows; nothing written" in out
    assert invoices(book, "--kind", "bill") == []

    good = tmp_path / "good.csv"
    good.write_text(BILLS, encoding="utf-8")
    assert "3 rows of good.csv are good" in said(book, "import", "bills", str(good), "--dry-run")
    assert invoices(book, "--kind", "bill") == []
    assert "Imported 2 bills from good.csv" in said(book, "import", "bills", str(good))
    found = {d["reference"]: d for d in invoices(book, "--kind", "bill")}
    assert (found["V-881"]["gross"], found["V-881"]["status"]) == ("148.75", "issued")
    assert (found["V-902"]["gross"], found["V-902"]["kind"]) == ("200.00", "bill")
    assert balance_of(book, "Liabilities:Payables:Vendors") == "-348.75"
