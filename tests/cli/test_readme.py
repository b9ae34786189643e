"""Every command of the README's CLI tour works as written, in order, on a fresh book."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmledger.cli.main import app as cli

ROOT = Path(__file__).resolve().parents[2]


def tour_commands() -> list[list[str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tour = readme.split("## A short tour of the CLI", 1)[1]
    block = re.search(r"```sh\n(.*?)```", tour, re.S)
    assert block is not None
    text = block.group(1).replace("\\\n", " ")
    return [shlex.split(line, comments=True) for line in text.splitlines() if line.strip()]


def test_the_readme_tour_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CRMLEDGER_DATABASE_URL", raising=False)
    runner = CliRunner()
    commands = tour_commands()
    assert len(commands) > 15
    outputs = []
    for command in commands:
        assert command[0] == "crmledger"
        result = runner.invoke(cli, command[1:])
        assert result.exit_code == 0, (command, result.output)
        outputs.append(result.output)
    assert (tmp_path / "crmledger.db").exists()
    assert "Saved draft 5" in "".join(outputs)
    assert "already imported" in "".join(outputs)
    assert "OK:" in "".join(outputs)


def test_the_readme_users_section_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CRMLEDGER_DATABASE_URL", raising=False)
    monkeypatch.delenv("CRMLEDGER_KEYRING", raising=False)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Users, tokens and the server", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    runner = CliRunner()
    outputs = []
    for line in block.group(1).splitlines():
        words = shlex.split(line, comments=True)
        env = {}
        while "=" in words[0]:
            name, _, value = words.pop(0).partition("=")
            env[name] = value
        assert words[0] == "crmledger"
        result = runner.invoke(cli, words[1:], env=env, input="a-long-password\n" * 2)
        assert result.exit_code == 0, (words, result.output)
        outputs.append(result.output)
    text = "".join(outputs)
    assert "First admin admin@example.com created" in text
    assert "Key 2 is current" in text
    assert (tmp_path / "crmledger.db.keys").stat().st_mode & 0o077 == 0


def crm_commands() -> list[list[str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The CRM from the command line", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    text = block.group(1).replace("\\\n", " ")
    return [shlex.split(line, comments=True) for line in text.splitlines() if line.strip()]


def test_the_readme_crm_tour_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CRMLEDGER_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "--base-currency", "EUR"]).exit_code == 0
    outputs = []
    for command in crm_commands():
        assert command[0] == "crmledger"
        result = runner.invoke(cli, command[1:])
        assert result.exit_code == 0, (command, result.output)
        outputs.append(result.output)
    text = "\n".join(outputs)
    assert "Ada Lovelace" in text  # found by a fragment of an encrypted name
    assert "Imported 3 parties" in text
    by_phone = outputs[[c[3:4] for c in crm_commands()].index(["030 1234567"])]
    assert "Acme GmbH" in by_phone  # found by its phone typed the local way
