"""``crmledger invoice``, ``payment``, ``balance``, ``bill``, ``fx``, ``tax``, ``billing``,
``company`` and ``import invoices|payments`` on SQLite and PostgreSQL: an invoice from draft
to PDF to paid, foreign currency at the day's rate, bad lines refused naming the field, and
imports that name every bad row and store nothing unless all are good."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crmledger.bootstrap import build
from crmledger.cli.main import app as cli
from crmledger.cli.main import main
from crmledger.config import Settings
from crmledger.core.crm.contracts import Contract, Frequency, PriceChange
from crmledger.core.errors import InvalidFieldError, TransitionError
from crmledger.services.errors import CreditLimitError
from crmledger.services.sales import DraftLine
from tests.cli.test_readme import ROOT, crm_commands

runner = CliRunner()

#: The smallest valid PNG: one transparent pixel.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
def book(db_url: str) -> str:
    """A book with Acme GmbH (party 1, 14 days' terms) and a consulting hour at 120.00."""
    run(db_url, "init", "--base-currency", "EUR")
    run(db_url, "party", "add", "Acme GmbH", "--country", "DE", "--terms", "14")
    run(db_url, "product", "add", "CONSULT-H", "Consulting hour", "--price", "120.00:EUR")
    return db_url


def run(db: str, *args: str, code: int = 0) -> str:
    result = runner.invoke(cli, ["--db", db, *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def said(db: str, *args: str) -> str:
    """What a command printed, as one line (Rich wraps at the terminal's width)."""
    return " ".join(run(db, *args).split())


def doc(db: str, *args: str) -> Any:
    return json.loads(run(db, *args, "--format", "json"))


def invoices(db: str, *args: str) -> list[dict[str, Any]]:
    return list(doc(db, "invoice", "list", *args)["items"])


def test_an_invoice_from_draft_to_pdf_to_paid(book: str, tmp_path: Path) -> None:
    out = said(
        book,
        "invoice",
        "create",
        "--party",
        "1",
        "--date",
        "2026-06-01",
        "--line",
        "CONSULT-H:10",
        "--line",
        "Travel:1:240.00:10",
    )
    assert "Draft invoice 1 for party 1: 1685.04 EUR (net 1416.00, tax 269.04)" in out
    issued = doc(book, "invoice", "issue", "1")
    assert (issued["number"], issued["status"]) == ("INV-2026-0001", "issued")
    assert issued["due_on"] == "2026-06-15"
    assert [line["description"] for line in issued["lines"]] == ["Consulting hour", "Travel"]
    assert issued["lines"][0]["account"] == "Income:Sales:Products"
    pdf = tmp_path / "invoice.pdf"
    assert "bytes" in run(book, "invoice", "pdf", "1", "-o", str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF")

    out = said(
        book, "payment", "record", "--party", "1", "--amount", "1000.00", "--date", "2026-06-10"
    )
    assert "RC-2026-0001 (payment 1): 1000.00 EUR; 1000.00 allocated, 0.00 left" in out
    partly = doc(book, "invoice", "show", "1")
    assert (partly["status"], partly["paid"], partly["open"]) == (
        "partially_paid",
        "1000.00",
        "685.04",
    )
    shown = run(book, "invoice", "show", "1")
    assert "partially_paid" in shown
    assert "Travel" in shown
    run(book, "payment", "record", "--party", "1", "--amount", "685.04", "--date", "2026-06-20")
    assert doc(book, "invoice", "show", "1")["status"] == "paid"

    balance = doc(book, "balance", "1")
    assert (balance["currencies"], balance["due_base"]) == ([], "0.00")
    assert (balance["average_days_to_pay"], balance["paid_invoices"]) == ("19.0", 1)
    shown = said(book, "balance", "1")
    assert "Nothing open for party 1." in shown
    assert "Due in EUR: 0.00 (overdue 0.00); pays in 19.0 days on average" in shown
    assert [p["amount"] for p in doc(book, "payment", "list", "--party", "1")["items"]] == [
        "685.04",
        "1000.00",
    ]
    rows = run(book, "invoice", "list", "--status", "paid", "--format", "csv").splitlines()
    assert rows[0] == "id,number,party,date,due,status,currency,gross,open"
    assert rows[1] == "1,INV-2026-0001,1,2026-06-01,2026-06-15,paid,EUR,1685.04,0.00"


def test_a_dollar_invoice_at_the_day_s_rate(book: str) -> None:
    assert "1 USD = 0.9 EUR from 2026-06-01." in said(
        book, "fx", "rate", "usd", "0.9", "--date", "2026-06-01"
    )
    rates = doc(book, "fx", "rates", "--currency", "USD")
    assert rates == [{"currency": "USD", "date": "2026-06-01", "rate": "0.9", "base": "EUR"}]
    run(
        book,
        "invoice",
        "create",
        "--party",
        "1",
        "--currency",
        "USD",
        "--date",
        "2026-06-02",
        "--line",
        "Support:1:100.00",
    )
    issued = doc(book, "invoice", "issue", "1")
    assert (issued["currency"], issued["rate"], issued["open_base"]) == ("USD", "0.9", "107.10")
    run(
        book,
        "payment",
        "record",
        "--party",
        "1",
        "--amount",
        "50.00",
        "--currency",
        "USD",
        "--rate",
        "0.95",
        "--to",
        "1:50.00",
    )
    balance = doc(book, "balance", "1")
    assert [(c["currency"], c["due"]) for c in balance["currencies"]] == [("USD", "69.00")]


def test_a_missing_rate_is_named(book: str) -> None:
    run(book, "invoice", "create", "--party", "1", "--currency", "CHF", "--line", "Fee:1:10")
    with pytest.raises(InvalidFieldError) as caught:
        runner.invoke(cli, ["--db", book, "invoice", "issue", "1"], catch_exceptions=False)
    assert caught.value.field == "currency"
    assert invoices(book)[0]["status"] == "draft"


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        (["CONSULT-H"], "lines[0]"),
        (["CONSULT-H:abc"], "lines[0].quantity"),
        (["CONSULT-H:1", "Travel:1"], "lines[1].unit_price"),
        (["Travel:1:cheap"], "lines[0].unit_price"),
        (["CONSULT-H:1::ten"], "lines[0].discount"),
        (["CONSULT-H:1:1:1:1"], "lines[0]"),
        (["Travel:1:9.999"], "lines[0].unit_price"),
        (["99:1"], "lines[0].product_id"),
    ],
)
def test_a_bad_line_is_refused_naming_the_field(book: str, lines: list[str], field: str) -> None:
    args = [arg for line in lines for arg in ("--line", line)]
    with pytest.raises(InvalidFieldError) as caught:
        runner.invoke(
            cli, ["--db", book, "invoice", "create", "--party", "1", *args], catch_exceptions=False
        )
    assert caught.value.field == field
    assert invoices(book) == []


def test_the_console_script_prints_the_line_field_and_exits_1(
    book: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["crmledger", "--db", book, "invoice", "create", "--party", "1", "--line", "X:two:3"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 1
    assert "lines[0].quantity: 'two' is not a number" in capsys.readouterr().err
    argv = [
        "crmledger",
        "--db",
        book,
        "payment",
        "record",
        "--party",
        "1",
        "--amount",
        "5",
        "--to",
        "1",
    ]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit):
        main()
    assert "allocations[0]: '1': write it as INVOICE_ID:AMOUNT" in capsys.readouterr().err


def test_credit_notes_credit_and_allocation(book: str) -> None:
    for day in ("2026-05-01", "2026-05-02"):
        run(book, "invoice", "create", "--party", "1", "--date", day, "--line", "CONSULT-H:2")
    run(book, "invoice", "issue", "1")
    run(book, "invoice", "issue", "2")
    note = doc(book, "invoice", "credit", "1", "--line", "1:1", "--reason", "One hour too many")
    assert (note["kind"], note["number"], note["gross"]) == (
        "credit_note",
        "CN-2026-0001",
        "142.80",
    )
    assert note["refers_to"] == 1
    assert doc(book, "invoice", "show", "1")["open"] == "142.80"
    out = said(book, "payment", "record", "--party", "1", "--amount", "100", "--keep-as-credit")
    assert "0.00 allocated, 100.00 left as credit" in out
    out = said(book, "payment", "allocate", "1", "--to", "2:60.00")
    assert "60.00 allocated, 40.00 left as credit" in out
    assert doc(book, "invoice", "show", "2")["open"] == "225.60"
    run(book, "payment", "allocate", "1")  # the rest oldest first: invoice 1
    assert doc(book, "invoice", "show", "1")["open"] == "102.80"
    with pytest.raises(InvalidFieldError) as caught:
        runner.invoke(
            cli,
            [
                "--db",
                book,
                "payment",
                "record",
                "--party",
                "1",
                "--amount",
                "9",
                "--to",
                "2:9",
                "--keep-as-credit",
            ],
            catch_exceptions=False,
        )
    assert caught.value.field == "allocations"


def test_credit_limit_needs_the_override(book: str) -> None:
    run(book, "party", "update", "1", "--credit-limit", "100.00", "--currency", "EUR")
    run(book, "invoice", "create", "--party", "1", "--line", "CONSULT-H:1")
    with pytest.raises(CreditLimitError):
        runner.invoke(cli, ["--db", book, "invoice", "issue", "1"], catch_exceptions=False)
    assert "INV-" in run(book, "invoice", "issue", "1", "--override-credit-limit")


def test_bills_taxes_company_and_the_billing_run(book: str, tmp_path: Path) -> None:
    run(book, "party", "add", "Papierwerk AG", "--country", "DE", "--tag", "vendor")
    bill = doc(
        book,
        "bill",
        "add",
        "--vendor",
        "2",
        "--reference",
        "R-889",
        "--date",
        "2026-06-01",
        "--line",
        "Paper:10:4.50",
        "--line",
        "Toner:1:80.00:Expenses:Office",
        "--issue",
    )
    assert (bill["number"], bill["gross"], bill["reference"]) == (
        "BILL-2026-0001",
        "148.75",
        "R-889",
    )
    assert doc(book, "balance", "2")["currencies"][0]["bills_open"] == "148.75"
    paid = doc(book, "payment", "record", "--party", "2", "--amount", "148.75", "--vendor")
    assert (paid["kind"], paid["number"], paid["open"]) == (
        "vendor_payment",
        "PY-2026-0001",
        "0.00",
    )
    assert doc(book, "invoice", "show", str(bill["id"]))["status"] == "paid"
    assert "saved as a draft" in said(book, "bill", "add", "--vendor", "2", "--line", "Ink:1:5")

    out = said(book, "tax", "rate", "standard", "0.20", "--from", "2027-01-01", "--per", "document")
    assert "Tax standard: 0.20 from 2027-01-01 (rounded per document)." in out
    assert {"category": "standard", "from": "2027-01-01", "rate": "0.2", "per": "document"} in doc(
        book, "tax", "rates"
    )

    logo = tmp_path / "logo.png"
    logo.write_bytes(PIXEL)
    run(
        book,
        "company",
        "set",
        "--name",
        "Example GmbH",
        "--city",
        "Berlin",
        "--country",
        "de",
        "--iban",
        "DE89 3704 0044 0532 0130 00",
        "--logo",
        str(logo),
    )
    company = doc(book, "company", "show")
    assert (company["name"], company["country"], company["logo"]) == ("Example GmbH", "DE", "yes")
    not_png = tmp_path / "logo.jpg"
    not_png.write_bytes(b"\xff\xd8\xff")
    with pytest.raises(InvalidFieldError) as caught:
        runner.invoke(
            cli,
            ["--db", book, "company", "set", "--name", "X", "--logo", str(not_png)],
            catch_exceptions=False,
        )
    assert caught.value.field == "logo_png"
    assert doc(book, "company", "show")["name"] == "Example GmbH"
    app = build(Settings.load(book))
    try:
        start = date(2026, 4, 1)
        app.contracts.create(
            Contract(
                party_id=1,
                description="Support",
                currency="EUR",
                frequency=Frequency.MONTHLY,
                start=start,
                next_billing=start,
                prices=(PriceChange(start, Decimal("300.00")),),
            )
        )
    finally:
        app.engine.dispose()
    billed = doc(book, "billing", "run", "--date", "2026-05-31")
    assert [(d["billing date"], d["gross"]) for d in billed] == [
        ("2026-04-01", "357.00"),
        ("2026-05-01", "357.00"),
    ]
    assert "Nothing to bill through 2026-05-31." in said(
        book, "billing", "run", "--date", "2026-05-31"
    )


INVOICES = """invoice,customer number,date,sku,description,quantity,unit_price,discount
A-17,K-1,2026-05-04,CONSULT-H,,10,,
A-17,K-1,2026-05-04,,Travel,1,240.00,
A-18,K-1,2026-05-09,,Workshop,1,500.00,10
"""


def test_import_invoices_then_payments(book: str, tmp_path: Path) -> None:
    parties = tmp_path / "parties.csv"
    parties.write_text("name,customer id\nBorealis Foods Ltd,K-1\n", encoding="utf-8")
    run(book, "import", "parties", str(parties))
    path = tmp_path / "invoices.csv"
    path.write_text(INVOICES, encoding="utf-8")
    assert "3 rows of invoices.csv are good" in said(
        book, "import", "invoices", str(path), "--dry-run"
    )
    assert invoices(book) == []
    assert "Imported 2 invoices from invoices.csv" in said(book, "import", "invoices", str(path))
    found = {d["reference"]: d for d in invoices(book)}
    assert found["A-17"]["gross"] == "1713.60"
    assert [line["description"] for line in found["A-17"]["lines"]] == ["Consulting hour", "Travel"]
    assert (found["A-18"]["gross"], found["A-18"]["status"]) == ("535.50", "issued")
    assert found["A-18"]["party_id"] == 2

    payments = tmp_path / "payments.csv"
    payments.write_text(
        "customer number,amount,date,invoice,method\n"
        "K-1,100.00,2026-05-20,A-18,transfer\n"
        "K-1,2149.10,2026-05-21,,card\n",
        encoding="utf-8",
    )
    assert "Imported 2 payments" in said(book, "import", "payments", str(payments))
    assert {d["reference"]: d["status"] for d in invoices(book)} == {"A-17": "paid", "A-18": "paid"}
    assert (doc(book, "balance", "2")["due_base"], doc(book, "balance", "2")["paid_invoices"]) == (
        "0.00",
        2,
    )


def test_an_import_with_bad_rows_names_each_and_stores_nothing(book: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "invoice,party_id,date,sku,description,quantity,unit_price\n"
        "B-1,1,2026-05-04,CONSULT-H,,10,\n"
        "B-2,1,2026-05-04,NOPE,,1,\n"
        "B-3,1,2026-05-09,,Workshop,x,500.00\n"
        "B-4,9,2026-05-09,,Workshop,1,500.00\n"
        "B-5,1,2026-05-09,,Workshop,1,500.001\n",
        encoding="utf-8",
    )
    out = run(book, "import", "invoices", str(path), code=1)
    assert "bad.csv:3: sku: no product with SKU 'NOPE'" in out
    assert "bad.csv:4: quantity: 'x' is not a number" in out
    assert "bad.csv:5: party_id: no party 9" in out
    assert "bad.csv:6: unit_price: 500.001 EUR has more than 2 decimal place(s)" in out
    assert "bad.csv:2" not in out
    assert "import refused: 4 problem(s) in 5 rows; nothing written" in out
    assert invoices(book) == []

    one_bad = tmp_path / "payments.csv"
    one_bad.write_text(
        "party_id,amount,date,invoice\n1,10.00,2026-05-20,\n1,ten,2026-05-20,\n", encoding="utf-8"
    )
    out = run(book, "import", "payments", str(one_bad), code=1)
    assert "payments.csv:3: amount: 'ten' is not a number" in out
    assert doc(book, "payment", "list")["items"] == []


def test_a_refusal_only_the_write_finds_leaves_nothing(book: str, tmp_path: Path) -> None:
    run(book, "party", "update", "1", "--credit-limit", "1000.00", "--currency", "EUR")
    path = tmp_path / "limit.csv"
    path.write_text(
        "invoice,party_id,description,unit_price\nC-1,1,Setup,500.00\nC-2,1,Extra,600.00\n",
        encoding="utf-8",
    )
    out = run(book, "import", "invoices", str(path), code=1)
    assert "limit.csv:3: party_id:" in out
    assert "nothing written" in out
    assert invoices(book) == []
    draft = doc(book, "invoice", "create", "--party", "1", "--line", "Fee:1:10.00")
    issued = doc(book, "invoice", "issue", str(draft["id"]))
    assert issued["number"].endswith("-0001")  # the refused import left no gap


def billing_commands() -> list[list[str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Billing from the command line", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    text = block.group(1).replace("\\\n", " ")
    return [shlex.split(line, comments=True) for line in text.splitlines() if line.strip()]


def test_the_readme_billing_section_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CRMLEDGER_DATABASE_URL", raising=False)
    assert runner.invoke(cli, ["init", "--base-currency", "EUR"]).exit_code == 0
    outputs = []
    for command in [*crm_commands(), *billing_commands()]:
        assert command[0] == "crmledger"
        result = runner.invoke(cli, command[1:])
        assert result.exit_code == 0, (command, result.output)
        outputs.append(result.output)
    text = "\n".join(outputs)
    assert "Issued INV-2026-0001" in text
    assert "Due in EUR: 0.00" in text
    assert "BILL-2026-0001" in text
    assert (tmp_path / "INV-2026-0001.pdf").read_bytes().startswith(b"%PDF")


def _refused(book: str, *args: str) -> InvalidFieldError | TransitionError:
    with pytest.raises((InvalidFieldError, TransitionError)) as caught:
        runner.invoke(cli, ["--db", book, *args], catch_exceptions=False)
    return caught.value


def test_tax_inclusive_drafts_are_edited_and_deleted_and_issued_ones_refused(book: str) -> None:
    out = said(
        book,
        "invoice",
        "create",
        "--party",
        "1",
        "--date",
        "2026-06-01",
        "--line",
        "Shirt:2:11.90",
        "--tax-inclusive",
    )
    # 23.80 includes its 19 %: 23.80 * 0.19 / 1.19 = 3.80
    assert "Draft invoice 1 for party 1: 23.80 EUR (net 20.00, tax 3.80)" in out
    assert doc(book, "invoice", "show", "1")["prices_include_tax"] is True
    assert "include tax" in said(book, "invoice", "show", "1")
    out = said(book, "invoice", "edit", "1", "--tax-exclusive", "--due", "2026-07-31")
    assert "Changed draft invoice 1: 28.32 EUR (net 23.80, tax 4.52)" in out
    edited = doc(book, "invoice", "edit", "1", "--line", "CONSULT-H:2", "--reference", "PO-9")
    assert (edited["gross"], edited["due_on"], edited["reference"]) == (
        "285.60",
        "2026-07-31",
        "PO-9",
    )
    assert doc(book, "invoice", "edit", "1", "--clear-due")["due_on"] is None
    assert _refused(book, "invoice", "edit", "1").field == "changes"
    run(book, "invoice", "create", "--party", "1", "--line", "Travel:1:50.00")
    assert "Deleted draft invoice 2: 59.50 EUR" in said(book, "invoice", "delete", "2")
    assert [i["id"] for i in invoices(book)] == [1]
    issued = doc(book, "invoice", "issue", "1")
    assert issued["number"] == "INV-2026-0001"
    assert "is issued: only a draft can be deleted" in str(_refused(book, "invoice", "delete", "1"))
    assert "only a draft can be changed" in str(
        _refused(book, "invoice", "edit", "1", "--note", "x")
    )


def test_credit_lines_are_refused_naming_the_line(book: str) -> None:
    run(book, "invoice", "create", "--party", "1", "--line", "CONSULT-H:2", "--line", "Fee:1:10")
    run(book, "invoice", "issue", "1")
    run(book, "invoice", "credit", "1", "--line", "1:1")
    again = _refused(book, "invoice", "credit", "1", "--line", "1:1", "--line", "1:1")
    assert again.field == "lines[1].position"
    more = _refused(book, "invoice", "credit", "1", "--line", "1:2")
    assert (more.field, "<= 1 (2 invoiced, 1 credited before)" in str(more)) == (
        "lines[1].quantity",
        True,
    )
    note = doc(book, "invoice", "credit", "1", "--line", "1:1", "--line", "2:1")
    assert [line["position"] for line in note["lines"]] == [1, 2]


def test_an_order_s_invoice_shows_the_order_paid(book: str) -> None:
    app = build(Settings.load(book))
    try:
        line = DraftLine(description="x", unit_price=Decimal(10))
        order = app.sales.create_order(1, "EUR", [line])
        app.sales.confirm_order(order.id, order.version)
    finally:
        app.engine.dispose()
    draft = doc(book, "invoice", "create", "--order", str(order.id))
    run(book, "invoice", "issue", str(draft["id"]))
    run(book, "payment", "record", "--party", "1", "--amount", "11.90")
    assert f"{order.id} (paid)" in said(book, "invoice", "show", str(draft["id"]))
