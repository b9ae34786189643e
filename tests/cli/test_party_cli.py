"""``crmledger party`` and ``crmledger import parties`` on SQLite and PostgreSQL: columns
mapped by name or ``--map``, every bad row reported with its line and field, nothing
written unless every row is good."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from crmledger.cli.main import app as cli
from crmledger.core.errors import InvalidFieldError

runner = CliRunner()

GOOD = """Company;First Name;Last Name;E-Mail;Phone;ZIP;City;Country;VAT ID;Tags;Customer ID
Acme GmbH;;;info@acme.example;030 1234567;10115;Berlin;Germany;DE 136 695 976;b2b,vip;C1
;Ada;Lovelace;Ada@Example.org;+44 20 7946 0958;;London;GB;;b2c;C2
Nordwind AG;;;;089 2000000;80331;München;DE;;;C3
"""


@pytest.fixture
def book(db_url: str) -> str:
    result = runner.invoke(cli, ["--db", db_url, "init", "--base-currency", "EUR"])
    assert result.exit_code == 0, result.output
    return db_url


def run(db: str, *args: str, code: int = 0) -> str:
    result = runner.invoke(cli, ["--db", db, *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def parties(db: str) -> list[dict]:
    return json.loads(run(db, "party", "list", "--format", "json"))["items"]


def test_import_maps_columns_by_name_and_normalises(book: str, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(GOOD, encoding="utf-8")
    out = run(book, "import", "parties", str(path))
    assert "Imported 3 parties" in out
    found = {p["display_name"]: p for p in parties(book)}
    assert set(found) == {"Acme GmbH", "Ada Lovelace", "Nordwind AG"}
    acme = found["Acme GmbH"]
    assert acme["phones"] == [{"number": "+49301234567", "label": "work"}]
    assert acme["tax_ids"][0]["value"] == "DE136695976"
    assert acme["tags"] == ["b2b", "vip"]
    assert acme["external_ids"] == [{"system": "import", "id": "C1"}]
    assert found["Ada Lovelace"]["kind"] == "person"
    assert found["Nordwind AG"]["addresses"][0]["country"] == "DE"
    hits = run(book, "party", "search", "lovel", "--format", "json")
    assert json.loads(hits)[0]["name"] == "Ada Lovelace"


def test_bad_rows_are_all_reported_and_nothing_is_written(book: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "name,email,phone,country\n"
        "Good Ltd,info@good.example,+44 20 7946 0958,GB\n"
        "Bad Mail Ltd,not-an-email,,GB\n"
        ",nobody@example.org,,\n"
        "Bad Phone Ltd,,12,GB\n",
        encoding="utf-8",
    )
    out = run(book, "import", "parties", str(path), code=1)
    assert "bad.csv:3: emails[0].address:" in out
    assert "bad.csv:4: display_name: a row needs a name" in out
    assert "bad.csv:5: phones[0].number:" in out
    assert "nothing written" in out
    assert parties(book) == []


def test_dry_run_checks_and_writes_nothing(book: str, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(GOOD, encoding="utf-8")
    out = run(book, "import", "parties", str(path), "--dry-run")
    assert "3 rows of customers.csv are good" in out
    assert parties(book) == []


def test_map_names_columns_the_matcher_cannot_guess(book: str, tmp_path: Path) -> None:
    path = tmp_path / "firmen.csv"
    path.write_text("Firma,Rufnummer,Notiz\nBeispiel GmbH,+49 30 1234567,egal\n", encoding="utf-8")
    out = run(
        book,
        "import",
        "parties",
        str(path),
        "--map",
        "Firma=display_name",
        "--map",
        "Rufnummer=phone",
    )
    assert "columns not imported (use --map COLUMN=FIELD): Notiz" in out
    assert parties(book)[0]["phones"][0]["number"] == "+49301234567"
    with pytest.raises(InvalidFieldError, match="not a field"):
        runner.invoke(
            cli,
            ["--db", book, "import", "parties", str(path), "--map", "Firma=colour"],
            catch_exceptions=False,
        )


def test_an_external_id_twice_or_taken_is_refused(book: str, tmp_path: Path) -> None:
    path = tmp_path / "twice.csv"
    path.write_text("name,customer id\nA,X1\nB,X1\n", encoding="utf-8")
    out = run(book, "import", "parties", str(path), code=1)
    assert "twice.csv:3: external_id: import:X1 is also on line 2" in out
    once = tmp_path / "once.csv"
    once.write_text("name,customer id\nA,X1\n", encoding="utf-8")
    run(book, "import", "parties", str(once))
    again = run(book, "import", "parties", str(once), code=1)
    assert "belongs to party" in again
    assert len(parties(book)) == 1


def test_xlsx_import(book: str, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Company", "Credit Limit", "Currency", "Payment Terms"])
    sheet.append(["Excel Corp", 12500.5, "EUR", 30])
    path = tmp_path / "sheet.xlsx"
    workbook.save(path)
    run(book, "import", "parties", str(path))
    [party] = parties(book)
    assert (party["credit_limit"], party["payment_terms_days"]) == ("12500.50", 30)


def test_party_commands_add_show_update_and_contact(book: str) -> None:
    out = run(
        book,
        "party",
        "add",
        "Acme GmbH",
        "--email",
        "sales@acme.example",
        "--phone",
        "+49 30 1234567",
        "--country",
        "DE",
        "--tag",
        "vip",
        "--format",
        "json",
    )
    acme = json.loads(out)
    out = run(
        book, "party", "add", "--person", "--given", "Ann", "--family", "Lee", "--format", "json"
    )
    ann = json.loads(out)
    run(book, "party", "contact", str(acme["id"]), str(ann["id"]), "--role", "Buyer")
    run(book, "party", "update", str(acme["id"]), "--lifecycle", "customer", "--add-tag", "b2b")
    shown = json.loads(run(book, "party", "show", str(acme["id"]), "--format", "json"))
    assert shown["lifecycle"] == "customer"
    assert shown["tags"] == ["b2b", "vip"]
    assert shown["contacts"][0]["role"] == "Buyer"
    with pytest.raises(InvalidFieldError) as caught:
        runner.invoke(
            cli, ["--db", book, "party", "add", "Bad", "--phone", "12"], catch_exceptions=False
        )
    assert caught.value.field == "phones[0].number"


def test_a_problem_in_a_late_batch_undoes_the_earlier_batches(book: str, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(GOOD, encoding="utf-8")
    out = run(book, "import", "parties", str(path), "--batch-size", "1")
    assert "Imported 3 parties" in out
    late = tmp_path / "late.csv"
    late.write_text(
        "name,phone\nFirst Ltd,+44 20 7946 0958\nSecond Ltd,+44 20 7946 0959\nThird Ltd,12\n",
        encoding="utf-8",
    )
    out = run(book, "import", "parties", str(late), "--batch-size", "1", code=1)
    assert "late.csv:4: phones[0].number:" in out
    assert {p["display_name"] for p in parties(book)} == {
        "Acme GmbH",
        "Ada Lovelace",
        "Nordwind AG",
    }
