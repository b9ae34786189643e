"""``crmledger import interactions`` and ``import products``: rows checked as read, the
book's references checked on write, every refusal named by line, nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmledger.cli.main import app as cli

runner = CliRunner()


@pytest.fixture
def book(db_url: str, tmp_path: Path) -> str:
    assert runner.invoke(cli, ["--db", db_url, "init", "--base-currency", "EUR"]).exit_code == 0
    parties = tmp_path / "parties.csv"
    parties.write_text("name,customer id\nAcme GmbH,K-1\nNordwind AG,K-2\n", encoding="utf-8")
    run(db_url, "import", "parties", str(parties))
    return db_url


def run(db: str, *args: str, code: int = 0) -> str:
    result = runner.invoke(cli, ["--db", db, *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def test_interactions_name_their_party_by_customer_number(book: str, tmp_path: Path) -> None:
    path = tmp_path / "activities.csv"
    path.write_text(
        "Customer Number,Type,Subject,Notes,Date,Priority\n"
        "K-1,call,Renewal,Wants three more seats,2026-03-02T10:00:00+01:00,\n"
        "K-2,complaint,Late delivery,Pallet missing,2026-03-03,high\n",
        encoding="utf-8",
    )
    assert "Imported 2 interactions" in run(book, "import", "interactions", str(path))
    listed = json.loads(run(book, "interaction", "list", "--format", "json"))
    rows = listed["items"] if isinstance(listed, dict) else listed
    assert {r["subject"] for r in rows} == {"Renewal", "Late delivery"}
    complaint = next(r for r in rows if r["subject"] == "Late delivery")
    assert complaint["sla_resolution_due"] is not None  # the complaint's SLA clock started


def test_bad_interaction_rows_are_named_and_nothing_is_written(book: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "party_id,kind,subject,occurred_at\n"
        "1,call,Fine,2026-03-02\n"
        "1,telepathy,Odd,2026-03-02\n"
        "1,note,,2026-03-02\n"
        "1,note,No date,\n",
        encoding="utf-8",
    )
    out = run(book, "import", "interactions", str(path), code=1)
    assert "bad.csv:3: kind: 'telepathy' is not one of" in out
    assert "bad.csv:4: subject:" in out
    assert "bad.csv:5: occurred_at: is required" in out
    unknown = tmp_path / "unknown.csv"
    unknown.write_text(
        "party_id,subject,occurred_at\n1,Fine,2026-03-02\n999,Who,2026-03-02\n", encoding="utf-8"
    )
    out = run(book, "import", "interactions", str(unknown), code=1)
    assert "unknown.csv:3:" in out
    listed = json.loads(run(book, "interaction", "list", "--format", "json"))
    assert (listed["items"] if isinstance(listed, dict) else listed) == []


def test_products_with_prices_in_several_currencies(book: str, tmp_path: Path) -> None:
    path = tmp_path / "catalogue.csv"
    path.write_text(
        "sku,name,kind,price,unit\n"
        'CONSULT-H,Consulting hour,service,"120.00 EUR;130.00 USD",h\n'
        "KIT-1,Sensor kit,good,349.00,pc\n",
        encoding="utf-8",
    )
    assert "Imported 2 products" in run(book, "import", "products", str(path))
    listed = run(book, "product", "list", "--format", "json")
    assert "CONSULT-H" in listed
    assert "130.00" in listed


def test_bad_product_rows_are_named_and_nothing_is_written(book: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "sku,name,price\nGOOD-1,Good,10.00\nBAD-1,Too precise,10.001\nBAD 2,Space in sku,1\n",
        encoding="utf-8",
    )
    out = run(book, "import", "products", str(path), code=1)
    assert "bad.csv:3: prices[0].amount:" in out
    assert "bad.csv:4: sku:" in out
    dry = tmp_path / "dry.csv"
    dry.write_text("sku,name,price\nGOOD-1,Good,10.00\n", encoding="utf-8")
    assert "are good; nothing written" in run(book, "import", "products", str(dry), "--dry-run")
    assert "GOOD-1" not in run(book, "product", "list", "--format", "json")
