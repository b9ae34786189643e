"""Importing entries CSV: atomic, idempotent, resumable, and every problem named."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from crmledger.bootstrap import App
from crmledger.cli.main import main
from crmledger.services.errors import ImportRejectedError
from crmledger.services.imports import InterruptedImportError, file_fingerprint

GOOD = """entry,date,account,amount,commodity,description,payee
1,2026-01-05,Assets:Bank:Checking,-120.00,EUR,Office chairs,Chairs Ltd
1,2026-01-05,Expenses:Office,120.00,EUR,Office chairs,Chairs Ltd
2,2026-01-06,Assets:Receivables:Customers,500,EUR,Consulting,
2,2026-01-06,Income:Sales:Services,-500,EUR,Consulting,
3,2026-01-07,Assets:Bank:Checking,1000,JPY,Yen,
3,2026-01-07,Income:Other,-1000,JPY,Yen,
"""


def write(tmp_path: Path, body: str, name: str = "entries.csv") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def rows(app: App) -> int:
    with app.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM postings")).scalar_one())


def run_import(app: App, path: Path, batch: int | None = None, strict: bool = False) -> int:
    parsed = app.readers["entries"](path, strict)
    result = app.imports.import_parsed(
        parsed,
        fingerprint=file_fingerprint(path),
        kind="entries",
        batch_size=batch,
        strict=strict,
    )
    return result.entries


def problems_of(app: App, path: Path, strict: bool = False) -> list[str]:
    with pytest.raises(ImportRejectedError) as rejected:
        run_import(app, path, strict=strict)
    assert rows(app) == 0
    return [str(p) for p in rejected.value.problems]


def test_good_file_imports_and_balances(app: App, tmp_path: Path) -> None:
    assert run_import(app, write(tmp_path, GOOD)) == 3
    totals = app.reports.trial_balance().totals()
    assert set(totals) == {"EUR", "JPY"}
    assert all(t.balance == 0 for t in totals.values())


def test_second_import_of_the_same_file_changes_nothing(app: App, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    run_import(app, path)
    before = rows(app)
    again = app.imports.import_parsed(
        app.readers["entries"](path, False), fingerprint=file_fingerprint(path), kind="entries"
    )
    assert again.already_imported
    assert rows(app) == before


COUNTER = "9,2026-02-01,Income:Other,-1,EUR,x,\n"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("9,2026-02-30,Assets:Cash,1,EUR,x,\n" + COUNTER, ":8: date: '2026-02-30' is not"),
        ("9,2026-02-01,Assets:Cash,1,XYZ,x,\n" + COUNTER, ":8: commodity: unknown commodity"),
        ("9,2026-02-01,Assets:Cash,1.001,EUR,x,\n" + COUNTER, ":8: amount: 1.001 EUR has more"),
        (COUNTER + "9,2026-02-01,Assets:Cash,abc,EUR,x,\n", ":9: amount: 'abc' is not a number"),
        ("9,2026-02-01,Cash,1,EUR,x,\n" + COUNTER, ":8: account: account 'Cash' must start"),
        (COUNTER + "9,2026-02-01,Assets:Cash,1,EUR\n", ":9: row: has 5 fields, the header has 7"),
    ],
)
def test_bad_rows_are_named_and_nothing_is_written(
    app: App, tmp_path: Path, extra: str, expected: str
) -> None:
    problems = problems_of(app, write(tmp_path, GOOD + extra))
    assert any(expected in p for p in problems), problems


def test_unbalanced_entry_is_named(app: App, tmp_path: Path) -> None:
    body = GOOD + "9,2026-02-01,Assets:Cash,10,EUR,x,\n9,2026-02-01,Income:Other,-9.99,EUR,x,\n"
    [problem] = problems_of(app, write(tmp_path, body))
    assert problem.endswith(":8: amount: entry does not balance: residual 0.01 EUR")


def test_every_problem_of_a_file_is_listed(app: App, tmp_path: Path) -> None:
    body = GOOD + (
        "9,2026-02-01,Assets:Cash,10,EUR,x,\n9,2026-02-01,Income:Other,-9,EUR,x,\n"
        "10,2026-02-01,Assets:Cash,1.005,EUR,y,\n10,2026-02-01,Income:Other,-1.005,EUR,y,\n"
    )
    problems = problems_of(app, write(tmp_path, body))
    assert [p.split(":")[1] for p in problems] == ["8", "10"]


def test_truncated_and_empty_files_are_refused(app: App, tmp_path: Path) -> None:
    truncated = GOOD[: GOOD.index("Income:Sales:Services") + 10]
    assert any(":5: row:" in p for p in problems_of(app, write(tmp_path, truncated)))
    assert any(":1: header: file is empty" in p for p in problems_of(app, write(tmp_path, "")))
    missing = "entry,date,account,amount\n1,2026-01-01,Assets:Cash,1\n"
    assert any(
        "commodity: required column" in p for p in problems_of(app, write(tmp_path, missing))
    )


def test_strict_refuses_accounts_not_opened_first(app: App, tmp_path: Path) -> None:
    body = GOOD + "9,2026-02-01,Assets:Cash:Drawer,1,EUR,x,\n9,2026-02-01,Income:Other,-1,EUR,x,\n"
    path = write(tmp_path, body)
    problems = problems_of(app, path, strict=True)
    assert any(":8: account: unknown account 'Assets:Cash:Drawer'" in p for p in problems)
    run_import(app, path)  # without --strict the account is opened on first use
    assert "Assets:Cash:Drawer" in {a.name for a in app.ledger.accounts()}


def test_batches_commit_separately_and_a_rerun_resumes(app: App, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    parsed = app.readers["entries"](path, False)
    fingerprint = file_fingerprint(path)

    def crash_after_first_batch(done: int) -> None:
        if done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        app.imports.import_parsed(
            parsed,
            fingerprint=fingerprint,
            kind="entries",
            batch_size=1,
            progress=crash_after_first_batch,
        )
    assert rows(app) == 2  # batch 1 committed before the interruption
    result = app.imports.import_parsed(
        parsed, fingerprint=fingerprint, kind="entries", batch_size=1
    )
    assert (result.entries, result.batches) == (3, 2)  # 3 in all, 2 batches in this run
    assert rows(app) == 6  # resumed at batch 2: nothing twice
    assert app.audit.verify().ok


def test_cli_import_reports_file_line_field_reason(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    body = GOOD + "9,2026-02-01,Assets:Cash,10,EUR,x,\n9,2026-02-01,Income:Other,-9,EUR,x,\n"
    path = write(tmp_path, body)
    argv = ["crmledger", "--db", app.settings.database_url, "import", "entries", str(path)]
    monkeypatch.setattr("sys.argv", argv)
    with pytest.raises(SystemExit) as exited:
        main()  # the console script: domain errors become messages and exit code 1
    assert exited.value.code == 1
    assert rows(app) == 0
    err = capsys.readouterr().err
    assert f"{path}:8: amount: entry does not balance: residual 1.00 EUR" in err
    assert "nothing written" in err


def test_rows_of_an_entry_must_be_adjacent(app: App, tmp_path: Path) -> None:
    body = GOOD + "1,2026-01-05,Assets:Cash,0.00,EUR,Office chairs,\n"
    problems = problems_of(app, write(tmp_path, body))
    assert any(":8: entry: rows of entry '1' must be adjacent" in p for p in problems)


def test_problems_in_late_chunks_roll_back_earlier_chunks(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("crmledger.services.imports.CHUNK", 1)
    body = GOOD + "9,2026-02-01,Assets:Cash,10,EUR,x,\n9,2026-02-01,Income:Other,-9,EUR,x,\n"
    problems = problems_of(app, write(tmp_path, body))  # asserts zero rows written
    assert len(problems) == 1
    assert ".csv:8: amount: entry does not balance" in problems[0]


def test_an_interrupted_batched_import_resumes_only_in_batches(app: App, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)

    def interrupt(done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        app.imports.import_parsed(
            app.readers["entries"](path, False),
            fingerprint=file_fingerprint(path),
            kind="entries",
            batch_size=2,
            progress=interrupt,
        )
    with pytest.raises(InterruptedImportError):
        run_import(app, path)
    assert run_import(app, path, batch=2) == 3


def _interrupted_after(app: App, path: Path, size: int, entries: int) -> None:
    """Import ``path`` in batches of ``size``, interrupted once ``entries`` are committed."""

    def interrupt(done: int) -> None:
        if done >= entries:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        app.imports.import_parsed(
            app.readers["entries"](path, False),
            fingerprint=file_fingerprint(path),
            kind="entries",
            batch_size=size,
            progress=interrupt,
        )


@pytest.mark.parametrize("resume_size", [1, 2, 5])
def test_a_resume_with_another_batch_size_posts_each_entry_once(
    app: App, tmp_path: Path, resume_size: int
) -> None:
    extra = "".join(
        f"{n},2026-03-0{n - 3},Assets:Cash,{n}.00,EUR,e{n},\n"
        f"{n},2026-03-0{n - 3},Income:Other,-{n}.00,EUR,e{n},\n"
        for n in range(4, 7)
    )
    path = write(tmp_path, GOOD + extra)  # six entries
    _interrupted_after(app, path, 2, 2)
    assert rows(app) == 4
    assert run_import(app, path, batch=resume_size) == 6
    assert rows(app) == 12
    narrations = [e.narration for e in app.exports.entries()]
    assert sorted(narrations) == sorted(set(narrations))  # nothing twice
    assert app.audit.verify().ok


def test_a_batch_refused_on_resume_writes_nothing_and_the_import_stays_open(
    app: App, tmp_path: Path
) -> None:
    path = write(tmp_path, GOOD)
    _interrupted_after(app, path, 1, 1)
    app.ledger.lock_period(date(2026, 1, 6))  # entry 2 (2026-01-06) is now locked
    with pytest.raises(ImportRejectedError, match="lock date"):
        run_import(app, path, batch=1)
    assert rows(app) == 2
    with pytest.raises(ImportRejectedError):
        run_import(app, path, batch=1)  # still refused, never marked complete


def test_a_bad_account_name_does_not_hide_other_problems(app: App, tmp_path: Path) -> None:
    body = GOOD + (
        "9,2026-02-01,assets:cash,1,EUR,x,\n9,2026-02-01,Income:Other,-1,EUR,x,\n"
        "10,2026-02-01,Assets:Cash,10,EUR,y,\n10,2026-02-01,Income:Other,-9,EUR,y,\n"
    )
    problems = problems_of(app, write(tmp_path, body))
    assert any(":8: account:" in p for p in problems), problems
    assert any(":10: amount: entry does not balance" in p for p in problems), problems
