"""Users, tokens and keys from the command line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from crmledger.cli.main import app as cli
from tests.cli.test_cli import run

runner = CliRunner()
PASSWORD = "correct horse battery"


@pytest.fixture
def book(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CRMLEDGER_ADMIN_EMAIL", "Boss@Example.com")
    monkeypatch.setenv("CRMLEDGER_ADMIN_PASSWORD", PASSWORD)
    output = run(db_url, "init")
    assert "First admin boss@example.com created" in output
    assert "Key ring created" in output
    # A second init keeps the admin and the keys.
    again = run(db_url, "init")
    assert "First admin" not in again
    assert "Key ring created" not in again
    return db_url


def test_users_are_added_listed_and_disabled(book: str) -> None:
    result = runner.invoke(
        cli,
        [
            "--db",
            book,
            "user",
            "add",
            "ann@example.com",
            "--role",
            "accountant",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    users = json.loads(run(book, "user", "list", "--format", "json"))
    assert [(u["email"], u["role"], u["disabled"]) for u in users] == [
        ("boss@example.com", "admin", False),
        ("ann@example.com", "accountant", False),
    ]
    run(book, "user", "disable", "ann@example.com")
    users = json.loads(run(book, "user", "list", "--format", "json"))
    assert users[1]["disabled"] is True


def test_a_short_password_or_unknown_role_is_refused(book: str) -> None:
    short = runner.invoke(
        cli, ["--db", book, "user", "add", "x@example.com", "--password-stdin"], input="short\n"
    )
    assert short.exit_code != 0
    role = runner.invoke(
        cli,
        ["--db", book, "user", "add", "x@example.com", "--role", "boss", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert role.exit_code == 2
    assert "boss" in role.output


def test_a_token_is_printed_once_and_can_be_revoked(book: str) -> None:
    output = run(book, "token", "create", "boss@example.com", "--name", "ci", "--expires", "30")
    secret = output.strip().splitlines()[-1]
    assert secret.startswith("crm_")
    [token] = json.loads(run(book, "token", "list", "--format", "json"))
    assert token["name"] == "ci"
    assert secret not in json.dumps(token)
    run(book, "token", "revoke", str(token["id"]))
    [token] = json.loads(run(book, "token", "list", "--format", "json"))
    assert token["revoked"] is not None


def test_keys_rotate_and_retire(book: str) -> None:
    [status] = json.loads(run(book, "keys", "status", "--format", "json"))
    assert status == {"version": 1, "current": True, "values": 1, "receipts": 0}
    assert "Key 2 is current; 1 value(s) re-encrypted" in run(book, "keys", "rotate")
    run(book, "keys", "retire", "1")
    [status] = json.loads(run(book, "keys", "status", "--format", "json"))
    assert status == {"version": 2, "current": True, "values": 1, "receipts": 0}
    users = json.loads(run(book, "user", "list", "--format", "json"))
    assert users[0]["email"] == "boss@example.com"
    assert "OK" in run(book, "audit", "verify")
