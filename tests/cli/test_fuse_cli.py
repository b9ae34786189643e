"""``crmledger fuse`` on SQLite and PostgreSQL: profile, suggest, run (dry and real),
report, review and decide; bad mappings refused with their lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmledger.cli.main import app as cli
from tests.db.test_fusion import write_sources

runner = CliRunner()


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return write_sources(tmp_path)


@pytest.fixture
def book(db_url: str) -> str:
    result = runner.invoke(cli, ["--db", db_url, "init", "--base-currency", "EUR"])
    assert result.exit_code == 0, result.output
    return db_url


def run(db: str, *args: str, code: int = 0) -> str:
    result = runner.invoke(cli, ["--db", db, *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def test_dry_run_then_run_then_report(book: str, config_path: Path, tmp_path: Path) -> None:
    dry = run(book, "fuse", "run", str(config_path), "--dry-run")
    assert "dry run: nothing written" in dry
    assert "finance:5: external_id: the record has no external id" in dry
    assert json.loads(run(book, "party", "list", "--format", "json"))["items"] == []
    out = run(book, "fuse", "run", str(config_path), "--workers", "2")
    assert "test run (run 1)" in out
    lines = {line.strip("│ ").split("│")[0].strip(): line for line in out.splitlines()}
    assert "5" in lines["new"]
    assert "10" in lines["records in"]
    assert "1" in lines["for review"]
    assert len(json.loads(run(book, "party", "list", "--format", "json"))["items"]) == 5
    report = json.loads(run(book, "fuse", "report", "1", "--format", "json"))
    assert report["counts"]["created"] == 5
    html_path = tmp_path / "run.html"
    run(book, "fuse", "report", "1", "--output", str(html_path))
    html = html_path.read_text(encoding="utf-8")
    assert "<svg" in html
    assert "Fusion run #1" in html
    review = run(book, "fuse", "review")
    assert "crm:C4" in review
    assert "crm:C5" in review
    assert "rejected" in run(book, "fuse", "decide", "1", "reject")
    again = run(book, "fuse", "run", str(config_path), "--format", "json")
    assert json.loads(again)["counts"]["created"] == 2


def test_profile_and_suggest(book: str, config_path: Path) -> None:
    finance = config_path.parent / "finance.csv"
    profile = json.loads(run(book, "fuse", "profile", str(finance), "--format", "json"))
    assert profile["rows"] == 5
    assert {c["name"]: c["null_share"] for c in profile["columns"]}["KUNDENNR"] == 0.2
    by_config = run(book, "fuse", "profile", "crm", "--config", str(config_path))
    assert "crm: 5 rows" in by_config
    draft = run(book, "fuse", "suggest", str(finance))
    assert 'birth_date: {from: "GEBDAT", date: "%d.%m.%Y"}' in draft


def test_a_bad_mapping_is_refused_with_its_line(book: str, config_path: Path) -> None:
    mapping = config_path.parent / "crm.yml"
    mapping.write_text(
        "fields:\n  external_id: Customer ID\n  company: Company\n", encoding="utf-8"
    )
    result = runner.invoke(cli, ["--db", book, "fuse", "run", str(config_path)])
    assert result.exit_code == 1
    assert f"{mapping}:3: unknown field 'company'" in result.output
    assert "nothing ran" in result.output
