"""``crmledger party merge`` / ``merges`` / ``unmerge`` on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmledger.cli.main import app as cli

runner = CliRunner()


@pytest.fixture
def book(db_url: str) -> str:
    result = runner.invoke(cli, ["--db", db_url, "init", "--base-currency", "EUR"])
    assert result.exit_code == 0, result.output
    for name in ("Acme GmbH", "ACME", "Jo Doe"):
        person = ["--person", "--given", "Jo", "--family", "Doe"] if name == "Jo Doe" else [name]
        tag = ["--tag", "legacy"] if name == "ACME" else []
        added = runner.invoke(cli, ["--db", db_url, "party", "add", *person, *tag])
        assert added.exit_code == 0, added.output
    return db_url


def run(db: str, *args: str, code: int = 0) -> str:
    result = runner.invoke(cli, ["--db", db, *args])
    assert result.exit_code == code, result.output
    return result.output


def test_merge_list_and_unmerge(book: str) -> None:
    out = run(book, "party", "merge", "1", "2")
    assert "Merge 1: party 2 merged into party 1; moved party_tags.party_id 1." in out
    shown = json.loads(run(book, "party", "show", "1", "--format", "json"))
    assert shown["tags"] == ["legacy"]
    listed = json.loads(run(book, "party", "list", "--format", "json"))["items"]
    assert [p["id"] for p in listed] == [3, 1]
    merges = json.loads(run(book, "party", "merges", "--party", "2", "--format", "json"))
    [merge] = merges["items"]
    assert (merge["survivor_id"], merge["absorbed_id"], merge["status"]) == (1, 2, "active")
    assert run(book, "party", "merges", "--format", "csv").splitlines() == [
        "id,survivor,absorbed,status,moved,merged",
        "1,1,2,active,party_tags.party_id 1," + merge["merged_at"][:10],
    ]
    refused = runner.invoke(cli, ["--db", book, "party", "merge", "1", "3"])
    assert refused.exit_code != 0
    assert "only parties of one kind merge" in str(refused.exception)
    out = run(book, "party", "unmerge", "1")
    assert "Merge 1 undone: party 2 has its records back from party 1." in out
    assert json.loads(run(book, "party", "show", "2", "--format", "json"))["tags"] == ["legacy"]
    again = runner.invoke(cli, ["--db", book, "party", "unmerge", "1"])
    assert "was undone already" in str(again.exception)


def test_fuse_join_links_transactions_and_names_the_lost(tmp_path: Path) -> None:
    from tests.fusion.test_join import CRM, FINANCE

    (tmp_path / "crm.csv").write_text(CRM, encoding="utf-8")
    (tmp_path / "finance.csv").write_text(FINANCE, encoding="utf-8")
    out = tmp_path / "linked.csv"
    args = ["fuse", "join", str(tmp_path / "crm.csv"), str(tmp_path / "finance.csv")]
    result = runner.invoke(cli, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "linked once the id was cleaned │ 5" in result.output
    assert "finance:10: customer_id: no customer has the id '555'" in result.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 11
    missing = runner.invoke(cli, [*args, "--out", str(out), "--transaction-key", "kunde"])
    assert missing.exit_code != 0
    assert "no column 'kunde'" in str(missing.exception)
