"""The sync engine with a drop folder, on both databases: customers are created once and
matched by their outside id, every record's outcome is logged with its reason, a dry run
shows the diff and writes nothing, a run killed after a page resumes without doubling,
field rules decide what both sides changed, and reconciliation says whether they agree."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import text

from crmledger.bootstrap import App
from crmledger.core.crm.parties import Email
from crmledger.core.errors import InvalidFieldError
from crmledger.services.errors import ConflictError

COLUMNS = ["CustomerNo", "Company", "Mail", "Land", "Changed"]
#: Files and rules do not depend on the database: these run on SQLite only.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def drop(folder: Path, name: str, rows: Sequence[Sequence[str]], mtime: int | None = None) -> Path:
    """A CSV file in the drop folder (its modification time set, so files keep order)."""
    path = folder / name
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    if mtime is not None:
        os.utime(path, ns=(mtime, mtime))
    return path


def config(folder: Path, **extra: Any) -> dict[str, Any]:
    return {
        "path": str(folder),
        "objects": {
            "customer": {
                "source": "customers*",
                "id": "CustomerNo",
                "version": "Changed",
                "fields": {"name": "Company", "email": "Mail", "country": "Land"},
            }
        },
        "codes": {"country": {"Deutschland": "DE", "Österreich": "AT"}},
        **extra,
    }


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    found = tmp_path / "drop"
    found.mkdir()
    return found


def parties_with(app: App, system: str) -> dict[str, int]:
    with app.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT external_id, party_id FROM party_external_ids WHERE system = :s"),
            {"s": system},
        ).all()
    return {e: int(p) for e, p in rows}


FIRST = [
    ["C-1", "Acme GmbH", "ap@acme.example", "Deutschland", "2026-06-01T10:00:00+00:00"],
    ["C-2", "Bolt AG", "not an email", "Österreich", "2026-06-01T10:00:00+00:00"],
    ["C-3", "Crane Ltd", "info@crane.example", "GB", "2026-06-01T10:00:00+00:00"],
]


def test_customers_are_created_once_and_every_outcome_is_logged(app: App, folder: Path) -> None:
    drop(folder, "customers-1.csv", FIRST, mtime=1_000)
    app.sync.add("shop", "folder", config(folder))
    report = app.sync.run("shop")
    assert report.counts == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "conflicts": 0,
        "errors": 1,
    }
    log = app.sync.log(report.run_id)
    assert [(r.external_id, r.outcome) for r in log] == [
        ("C-1", "created"),
        ("C-2", "error"),
        ("C-3", "created"),
    ]
    assert log[1].reason.startswith("emails[0].address:") or "email" in log[1].reason
    owners = parties_with(app, "shop")
    assert sorted(owners) == ["C-1", "C-3"]
    acme = app.parties.get(owners["C-1"])
    assert (acme.display_name, acme.addresses[0].country) == ("Acme GmbH", "DE")
    # Nothing new: the cursor is past the file.
    again = app.sync.run("shop")
    assert sum(again.counts.values()) == 0
    # A later file changes one customer, repeats another unchanged and adds one.
    drop(
        folder,
        "customers-2.csv",
        [
            ["C-1", "Acme Holding GmbH", "ap@acme.example", "DE", "2026-06-02T09:00:00+00:00"],
            ["C-3", "Crane Ltd", "info@crane.example", "GB", "2026-06-01T10:00:00+00:00"],
            ["C-4", "Drill SA", "hello@drill.example", "FR", "2026-06-02T09:00:00+00:00"],
        ],
        mtime=2_000,
    )
    report = app.sync.run("shop")
    assert [(r.external_id, r.outcome, r.fields) for r in report.results] == [
        ("C-1", "updated", ("name",)),
        ("C-3", "unchanged", ()),
        ("C-4", "created", ()),
    ]
    assert app.parties.get(owners["C-1"]).display_name == "Acme Holding GmbH"
    assert len(parties_with(app, "shop")) == 3
    status = app.sync.status("shop")
    assert status["last_run"].counts["created"] == 1


@SQLITE_ONLY
def test_a_dry_run_shows_the_diff_and_writes_nothing(app: App, folder: Path) -> None:
    drop(folder, "customers-1.csv", FIRST[:1], mtime=1_000)
    app.sync.add("shop", "folder", config(folder))
    app.sync.run("shop")
    drop(
        folder,
        "customers-2.csv",
        [
            ["C-1", "Acme AG", "ap@acme.example", "DE", "2026-06-03T00:00:00+00:00"],
            ["C-9", "Nine Ltd", "", "GB", "2026-06-03T00:00:00+00:00"],
        ],
        mtime=2_000,
    )
    before = app.parties.count()
    cursor = app.sync.status("shop")["cursors"]["customer"]
    report = app.sync.run("shop", dry_run=True)
    assert report.mode == "dry_run"
    assert [(r.outcome, dict(r.diff)) for r in report.results] == [
        ("updated", {"name": ("Acme GmbH", "Acme AG")}),
        ("created", {"name": ("", "Nine Ltd"), "country": ("", "GB")}),
    ]
    assert app.parties.count() == before
    assert app.sync.status("shop")["cursors"]["customer"] == cursor
    assert app.sync.log(report.run_id) == []
    assert app.sync.run("shop").counts["created"] == 1  # the real run does it


def test_a_run_killed_after_a_page_resumes_without_doubling(app: App, folder: Path) -> None:
    rows = [[f"C-{n}", f"Customer {n}", "", "DE", "2026-06-01T00:00:00+00:00"] for n in range(7)]
    drop(folder, "customers-1.csv", rows, mtime=1_000)
    app.sync.add("shop", "folder", config(folder))
    first = app.sync.run("shop", limit=3, max_pages=1)  # ... and the process dies
    assert first.counts["created"] == 3
    rest = app.sync.run("shop", limit=3)
    assert rest.counts["created"] == 4
    assert len(parties_with(app, "shop")) == 7
    # A page applied twice (the cursor lost, say) changes nothing.
    with app.engine.begin() as conn:
        conn.execute(text("UPDATE sync_cursors SET cursor = ''"))
    replay = app.sync.run("shop")
    assert replay.counts == {
        "created": 0,
        "updated": 0,
        "unchanged": 7,
        "conflicts": 0,
        "errors": 0,
    }
    assert app.parties.count() == 7


def _linked(app: App, folder: Path, rules: dict[str, Any], name: str = "shop") -> int:
    drop(folder, "customers-1.csv", FIRST[:1], mtime=1_000)
    app.sync.add(name, "folder", config(folder, rules=rules))
    app.sync.run(name)
    return parties_with(app, name)["C-1"]


def _remote_change(folder: Path, name: str, email: str, changed: str) -> None:
    drop(folder, "customers-2.csv", [["C-1", name, email, "DE", changed]], mtime=2_000)


#: Both sides renamed the customer and changed its email after they were last in step (the
#: outside at ``changed``, crmledger at the clock's 2026-06-30 12:00): who wins.
RULE_CASES = [
    ("remote", "2026-06-15T00:00:00+00:00", "Acme Remote", "remote@acme.example"),
    ("local", "2030-01-01T00:00:00+00:00", "Acme Local", "local@acme.example"),
    ("newest", "2030-01-01T00:00:00+00:00", "Acme Remote", "remote@acme.example"),
    ("newest", "2026-06-01T10:00:01+00:00", "Acme Local", "local@acme.example"),
]


def test_field_rules_decide_what_both_sides_changed(app: App, tmp_path: Path) -> None:
    for n, (rule, changed, name, email) in enumerate(RULE_CASES):
        folder = tmp_path / f"drop{n}"
        folder.mkdir()
        party = _linked(app, folder, {"default": rule}, f"shop{n}")
        local = {"display_name": "Acme Local", "emails": (Email("local@acme.example"),)}
        app.parties.update(party, local, None)
        _remote_change(folder, "Acme Remote", "remote@acme.example", changed)
        [result] = app.sync.run(f"shop{n}").results
        after = app.parties.get(party)
        assert (after.display_name, after.emails[0].address) == (name, email), rule
        assert result.outcome == ("updated" if name == "Acme Remote" else "unchanged")
    # An outside change older than the one applied last is ignored, whatever the rule.
    _remote_change(tmp_path / "drop0", "Acme Old", "old@acme.example", "2026-06-02T00:00:00+00:00")
    os.utime(tmp_path / "drop0" / "customers-2.csv", ns=(3_000, 3_000))
    [stale] = app.sync.run("shop0").results
    assert (stale.outcome, stale.reason[:10]) == ("unchanged", "older than")


def test_a_field_held_for_review_is_decided_by_a_person(app: App, folder: Path) -> None:
    party = _linked(app, folder, {"default": "newest", "fields": {"email": "review"}})
    app.parties.update(party, {"emails": (Email("local@acme.example"),)}, None)
    _remote_change(folder, "Acme Renamed", "remote@acme.example", "2030-01-01T00:00:00+00:00")
    report = app.sync.run("shop")
    [result] = report.results
    assert (result.outcome, result.fields) == ("conflict", ("email",))
    after = app.parties.get(party)
    assert after.display_name == "Acme Renamed"  # the name was not in conflict
    assert after.emails[0].address == "local@acme.example"  # held: the party keeps its own
    [conflict] = app.sync.conflicts("shop")
    assert (conflict.field, conflict.local_value, conflict.remote_value) == (
        "email",
        "local@acme.example",
        "remote@acme.example",
    )
    with app.engine.connect() as conn:
        stored = conn.execute(text("SELECT remote_enc FROM sync_conflicts")).scalar_one()
    assert "remote@acme.example" not in stored  # encrypted at rest
    decided = app.sync.resolve(conflict.id, "remote")
    assert decided.status == "took_remote"
    assert app.parties.get(party).emails[0].address == "remote@acme.example"
    assert app.sync.conflicts("shop") == []
    with pytest.raises(ConflictError):
        app.sync.resolve(conflict.id, "local")


@SQLITE_ONLY
def test_xlsx_files_are_read_too(app: App, folder: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(COLUMNS)
    sheet.append(["X-1", "Excel GmbH", "x@excel.example", "DE", "2026-06-01T00:00:00+00:00"])
    book.save(folder / "customers.xlsx")
    app.sync.add("shop", "folder", config(folder))
    assert app.sync.run("shop").counts["created"] == 1
    assert app.parties.get(parties_with(app, "shop")["X-1"]).display_name == "Excel GmbH"


def test_reconciliation_finds_every_difference(app: App, folder: Path) -> None:
    drop(folder, "customers-1.csv", FIRST, mtime=1_000)
    app.sync.add("shop", "folder", config(folder))
    app.sync.run("shop")
    verdict = app.sync.reconcile("shop")
    assert (verdict.local_count, verdict.remote_count) == (2, 3)
    assert [(d.key, d.kind) for d in verdict.differences] == [("C-2", "missing_local")]
    assert not verdict.agree
    owners = parties_with(app, "shop")
    app.parties.update(owners["C-3"], {"display_name": "Crane Limited"}, None)
    (folder / "customers-1.csv").unlink()
    drop(folder, "customers-1.csv", [FIRST[0], FIRST[2]], mtime=1_000)
    verdict = app.sync.reconcile("shop")
    assert [(d.key, d.field, d.local, d.remote) for d in verdict.differences] == [
        ("C-3", "name", "Crane Limited", "Crane Ltd")
    ]
    assert (verdict.matched, verdict.differing) == (1, 1)
    app.parties.update(owners["C-3"], {"display_name": "Crane Ltd"}, None)
    assert app.sync.reconcile("shop").agree
    [run] = app.sync.runs("shop", limit=1)
    assert (run.mode, run.status) == ("reconcile", "done")
    assert '"agree": true' in run.message


@SQLITE_ONLY
def test_bad_configurations_are_refused_naming_the_field(app: App, folder: Path) -> None:
    cases = [
        (config(folder / "missing"), "path"),
        ({**config(folder), "objects": {"vendor": {}}}, "objects.vendor"),
        ({**config(folder), "rules": {"default": "loudest"}}, "rules.default"),
        ({**config(folder), "push": True}, "push"),
        ({**config(folder), "codes": {"colour": {}}}, "codes.colour"),
    ]
    for document, where in cases:
        with pytest.raises(InvalidFieldError) as refused:
            app.sync.add("shop", "folder", document)
        assert refused.value.field == where
    with pytest.raises(InvalidFieldError):
        app.sync.add("Bad Name", "folder", config(folder))
    assert app.sync.list() == []
