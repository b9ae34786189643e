"""``crmledger sync``, ``crmledger webhook`` and ``crmledger worker`` on a real book: a
drop folder is synced, logged and reconciled; a webhook is tested against a local server
and the worker delivers a party's event, signed as the reference library expects."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from standardwebhooks import Webhook
from typer.testing import CliRunner

from crmledger.cli.main import app as cli
from crmledger.core.integration.targets import UnsafeTargetError
from tests.integration_sync.helpers import HookServer

runner = CliRunner()


@pytest.fixture
def book(tmp_path: Path) -> str:
    db = f"sqlite:///{tmp_path / 'book.db'}"
    result = runner.invoke(cli, ["--db", db, "init", "--base-currency", "EUR"])
    assert result.exit_code == 0, result.output
    return db


@pytest.fixture
def server() -> Iterator[HookServer]:
    hook = HookServer()
    yield hook
    hook.close()


def run(db: str, *args: str, code: int = 0) -> str:
    result = runner.invoke(cli, ["--db", db, *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def test_a_drop_folder_is_synced_logged_and_reconciled(book: str, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "customers.csv").write_text(
        "No,Name,Land\nC-1,Acme GmbH,Deutschland\nC-2,Bolt AG,Atlantis\n", encoding="utf-8"
    )
    config = tmp_path / "shop.yml"
    config.write_text(
        f"path: {drop}\n"
        "objects:\n  customer:\n    source: customers*.csv\n    id: 'No'\n"
        "    fields: {name: Name, country: Land}\n"
        "codes:\n  country: {Deutschland: DE}\n",
        encoding="utf-8",
    )
    out = run(book, "sync", "add", "shop", "--kind", "folder", "--config", str(config))
    assert "Connector shop (folder) added." in out
    dry = json.loads(run(book, "sync", "run", "shop", "--dry-run", "--format", "json"))
    assert (dry["counts"]["created"], dry["counts"]["errors"]) == (1, 1)
    assert json.loads(run(book, "party", "list", "--format", "json"))["items"] == []
    done = json.loads(run(book, "sync", "run", "shop", "--format", "json"))
    log = json.loads(run(book, "sync", "log", str(done["run"]), "--format", "json"))
    assert [(r["record"], r["outcome"]) for r in log] == [("C-1", "created"), ("C-2", "error")]
    assert "Atlantis" in log[1]["reason"]
    reconcile = run(book, "sync", "reconcile", "shop", "--format", "json", code=1)
    assert json.loads(reconcile)["missing in crmledger"] == 1
    status = json.loads(run(book, "sync", "status", "shop", "--format", "json"))
    assert status[0]["last run"].split()[1] == "reconcile"


def test_webhooks_are_tested_and_delivered_by_the_worker(
    book: str, server: HookServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(UnsafeTargetError, match="loopback"):
        run(book, "webhook", "add", server.url(), "--event", "party.*")
    monkeypatch.setenv("CRMLEDGER_WEBHOOKS_ALLOW_PRIVATE", "1")
    added = json.loads(run(book, "webhook", "add", server.url(), "-e", "party.*", "-f", "json"))
    secret = added["secret"]
    tested = json.loads(run(book, "webhook", "test", str(added["id"]), "--format", "json"))
    assert tested[0]["status"] == "delivered"
    assert Webhook(secret).verify(server.requests[0].body, server.requests[0].headers)["type"] == (
        "webhook.test"
    )
    run(book, "party", "add", "Acme GmbH")
    run(book, "worker", "--once")
    event = Webhook(secret).verify(server.requests[-1].body, server.requests[-1].headers)
    assert (event["type"], event["data"]["seq"]) == ("party.created", 1)
    log = json.loads(run(book, "webhook", "deliveries", str(added["id"]), "--format", "json"))
    assert [(d["event"], d["status"]) for d in log] == [
        ("party.created", "delivered"),
        ("webhook.test", "delivered"),
    ]
    assert os.environ["CRMLEDGER_WEBHOOKS_ALLOW_PRIVATE"] == "1"
