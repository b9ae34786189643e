"""``crmledger dunning`` on SQLite and PostgreSQL: a dry run lists who would get what and
writes nothing; a run sends, writes one PDF letter per notice and repeats nothing the same
day; paying the invoice resolves the note; levels are shown and replaced from JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crmledger.core.errors import InvalidFieldError
from tests.cli.test_billing_cli import doc, run, said


def _overdue_book(db: str) -> str:
    """Acme GmbH (party 1, 14 days' terms) with INV-2026-0001 of 1685.04 EUR, due 15 June."""
    run(db, "init", "--base-currency", "EUR")
    run(db, "party", "add", "Acme GmbH", "--country", "DE", "--terms", "14")
    run(db, "product", "add", "CONSULT-H", "Consulting hour", "--price", "120.00:EUR")
    run(db, "invoice", "create", "--party", "1", "--date", "2026-06-01", "--line", "CONSULT-H:10")
    run(db, "invoice", "issue", "1")
    return db


def test_a_dunning_run_from_dry_run_to_letters_to_paid(db_url: str, tmp_path: Path) -> None:
    book = _overdue_book(db_url)
    letters = tmp_path / "letters"
    assert "No reminders due on 2026-06-20." in said(book, "dunning", "run", "--date", "2026-06-20")

    planned = doc(book, "dunning", "run", "--date", "2026-06-30", "--dry-run")
    assert planned == [
        {
            "customer": "Acme GmbH",
            "invoice": "INV-2026-0001",
            "days overdue": 15,
            "level": 1,
            "open": "1428.00",
            "currency": "EUR",
        }
    ]
    table = said(book, "dunning", "run", "--date", "2026-06-30", "--dry-run", "--out", str(letters))
    assert "Would send 1 reminder(s)" in table
    assert "Acme GmbH" in table
    assert not letters.exists()  # a dry run writes no letters

    out = said(book, "dunning", "run", "--date", "2026-06-30", "--out", str(letters))
    assert "Sent 1 reminder(s)" in out
    assert "Wrote 1 letter(s)" in out
    pdf = letters / "INV-2026-0001-R1.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    again = said(book, "dunning", "run", "--date", "2026-06-30", "--out", str(letters))
    assert "No reminders due on 2026-06-30." in again

    sent = doc(book, "dunning", "list", "--party", "1")
    assert [(n["notice"], n["level"], n["sent"]) for n in sent] == [(1, 1, "2026-06-30")]
    copy = tmp_path / "copy.pdf"
    assert "bytes" in run(book, "dunning", "letter", "1", "-o", str(copy))
    assert copy.read_bytes().startswith(b"%PDF")

    [note] = doc(book, "interaction", "list", "--party", "1", "--kind", "note")["items"]
    assert (note["subject"], note["status"]) == ("Payment reminder 1 · INV-2026-0001", "open")
    run(book, "payment", "record", "--party", "1", "--amount", "1428.00", "--date", "2026-07-01")
    [note] = doc(book, "interaction", "list", "--party", "1", "--kind", "note")["items"]
    assert (note["status"], note["resolution"]) == ("resolved", "Paid")
    assert "No reminders due on 2026-07-30." in said(
        book, "dunning", "run", "--date", "2026-07-30", "--dry-run"
    )


def test_dunning_levels_show_and_replace(db_url: str, tmp_path: Path) -> None:
    book = _overdue_book(db_url)
    shown = said(book, "dunning", "levels")
    assert "Final notice" in shown
    assert [lv["min_days_overdue"] for lv in doc(book, "dunning", "levels")] == [7, 21, 45]

    levels = tmp_path / "levels.json"
    levels.write_text(
        json.dumps(
            [{"level": 1, "min_days_overdue": 30, "title": "Nudge", "template": "Pay $number."}]
        ),
        encoding="utf-8",
    )
    stored = doc(book, "dunning", "levels", "--set", str(levels))
    assert stored == [
        {
            "level": 1,
            "min_days_overdue": 30,
            "title": {"en": "Nudge"},
            "template": {"en": "Pay $number."},
        }
    ]
    assert doc(book, "dunning", "run", "--date", "2026-06-30", "--dry-run") == []

    levels.write_text('[{"level": 1, "min_days_overdue": 30, "title": "x", "template": "$x"}]')
    with pytest.raises(InvalidFieldError, match=r"unknown placeholder \$x") as refused:
        run(book, "dunning", "levels", "--set", str(levels))
    assert refused.value.field == "dunning_levels[0].template.en"
    assert doc(book, "dunning", "levels")[0]["title"] == {"en": "Nudge"}  # kept
