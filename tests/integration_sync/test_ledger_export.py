"""Scheduled ledger exports: an ``export`` connector writes the whole book to a file on its
cron schedule, as the text ``crmledger export`` writes (and ``bean-check`` and ledger-cli
accept), replacing the file in one rename; a write that fails leaves the last good file;
a bad configuration is refused naming its field."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import pytest

from crmledger.bootstrap import App
from crmledger.core.errors import InvalidFieldError
from crmledger.integration.connectors.ledger_file import LedgerFile
from tests.conftest import FixedClock
from tests.helpers import entry, sale

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _book(app: App) -> None:
    bank = "Assets:Bank:Checking"
    app.ledger.post(
        [
            entry("2026-01-02", "Capital", (bank, "5000"), ("Equity:Capital", "-5000")),
            sale("2026-03-05", "1200.00"),
            entry("2026-04-01", "Rent", ("Expenses:Rent", "300"), (bank, "-300")),
        ]
    )


def _exported(app: App, fmt: str) -> str:
    out = io.StringIO()
    app.export(fmt, out)
    return out.getvalue()


def test_an_export_connector_writes_the_book_on_its_schedule(
    app: App, clock: FixedClock, tmp_path: Path
) -> None:
    _book(app)
    target = tmp_path / "book.beancount"
    app.sync.add(
        "nightly", "export", {"path": str(target), "format": "beancount", "schedule": "0 2 * * *"}
    )
    clock.current = datetime(2026, 6, 30, 1, 0, tzinfo=UTC)
    assert app.sync.run_due() == 1  # never written: at once
    assert target.read_text(encoding="utf-8") == _exported(app, "beancount")
    [run] = app.sync.runs("nightly")
    assert (run.mode, run.status) == ("export", "done")
    assert run.message == f"wrote {target.stat().st_size:,} bytes of beancount to {target}"
    app.ledger.post([sale("2026-06-29", "80.00")])
    clock.current = datetime(2026, 6, 30, 1, 59, tzinfo=UTC)
    assert app.sync.run_due() == 0
    assert "80.00 EUR" not in target.read_text(encoding="utf-8")
    clock.current = datetime(2026, 6, 30, 2, 0, tzinfo=UTC)
    assert app.sync.run_due() == 1
    assert target.read_text(encoding="utf-8") == _exported(app, "beancount")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".book")) == []
    check = Path(sys.executable).with_name("bean-check")  # the beancount extra's
    checked = subprocess.run([str(check), str(target)], capture_output=True, check=False)
    assert checked.returncode == 0, checked.stderr


@SQLITE_ONLY
def test_a_ledger_export_reads_the_same_in_ledger_cli(app: App, tmp_path: Path) -> None:
    if shutil.which("ledger") is None:
        pytest.skip("ledger-cli is not installed")
    _book(app)
    target = tmp_path / "book.ledger"
    app.sync.add("books", "export", {"path": str(target), "format": "ledger"})
    preview = app.sync.run("books", dry_run=True)
    assert preview.message == f"would write ledger to {target}"
    assert not target.exists()
    report = app.sync.run("books")
    assert report.message.startswith("wrote ")
    answer = subprocess.run(
        ["ledger", "-f", str(target), "bal", "Assets:Bank:Checking", "--flat", "--no-total"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert answer.stdout.split() == ["4700.00", "EUR", "Assets:Bank:Checking"]


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("document", "field", "reason"),
    [
        ({"path": "book.beancount", "format": "beancount"}, "path", "absolute path"),
        ({"path": "/tmp/book.txt", "format": "docx"}, "format", "beancount, ledger, entries"),
        ({"path": "/nowhere/at/all/book.ledger", "format": "ledger"}, "path", "no folder"),
        ({"path": "/tmp/b.ledger", "format": "ledger", "schedule": "nightly"}, "schedule", "cron"),
    ],
)
def test_a_bad_export_is_refused_naming_its_field(
    app: App, document: dict[str, str], field: str, reason: str
) -> None:
    with pytest.raises(InvalidFieldError, match=reason) as refused:
        app.sync.add("bad", "export", document)
    assert refused.value.field == field
    assert app.sync.list() == []


def test_a_write_that_fails_leaves_the_last_good_file(tmp_path: Path) -> None:
    target = tmp_path / "book.ledger"

    def good(fmt: str, out: TextIO) -> None:
        out.write(f"; {fmt}\n2026-01-01 Opening\n    Assets:Cash  1.00 EUR\n    Equity\n")

    def broken(fmt: str, out: TextIO) -> None:
        out.write("2026-01-01 Half an entry\n")
        raise RuntimeError("the database went away")

    assert LedgerFile(good)("ledger", str(target)) == target.stat().st_size
    before = target.read_bytes()
    with pytest.raises(RuntimeError, match="went away"):
        LedgerFile(broken)("ledger", str(target))
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["book.ledger"]
    assert oct(target.stat().st_mode & 0o777) == oct(0o600)  # the books are not for everyone
