"""``crmledger interaction`` on SQLite and PostgreSQL: log, list, resolve, the complaint
queue, the timeline and search, with refusals naming the field and writing nothing."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from typer.testing import CliRunner

from crmledger.cli.main import app as cli
from crmledger.core.errors import InvalidFieldError, TransitionError

runner = CliRunner()
PASSWORD = "correct horse battery"


@pytest.fixture
def book(db_url: str) -> str:
    result = runner.invoke(cli, ["--db", db_url, "init", "--base-currency", "EUR"])
    assert result.exit_code == 0, result.output
    return db_url


def run(db: str, *args: str) -> str:
    result = runner.invoke(cli, ["--db", db, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def refused(db: str, *args: str) -> BaseException:
    result = runner.invoke(cli, ["--db", db, *args])
    assert result.exit_code != 0
    assert result.exception is not None
    return result.exception


def party(db: str, name: str) -> int:
    return int(json.loads(run(db, "party", "add", name, "--format", "json"))["id"])


def add(db: str, party_id: int, *options: str) -> dict[str, Any]:
    out = run(db, "interaction", "add", str(party_id), *options, "--format", "json")
    return dict(json.loads(out))


def items(db: str, *options: str) -> list[dict[str, Any]]:
    return list(json.loads(run(db, "interaction", "list", *options, "-f", "json"))["items"])


def test_a_complaint_is_logged_with_owner_and_sla_and_resolved(book: str) -> None:
    user = runner.invoke(
        cli,
        ["--db", book, "user", "add", "desk@example.com", "--role", "support", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert user.exit_code == 0, user.output
    acme = party(book, "Acme GmbH")
    c = add(
        book,
        acme,
        "--kind",
        "complaint",
        "--subject",
        "Parcel arrived broken",
        "--body",
        "The vase is in pieces",
        "--channel",
        "email",
        "--priority",
        "urgent",
        "--owner",
        "desk@example.com",
        "--at",
        "2026-06-30T09:00:00+02:00",
    )
    assert c["direction"] == "inbound"  # a complaint comes in unless told otherwise
    assert c["occurred_at"] == "2026-06-30T07:00:00+00:00"
    assert c["sla_first_response_due"] == "2026-06-30T08:00:00+00:00"  # urgent: 1 h / 8 h
    assert c["sla_resolution_due"] == "2026-06-30T15:00:00+00:00"
    assert c["owner_id"] is not None
    assert c["status"] == "open"
    out = run(book, "interaction", "resolve", str(c["id"]), "--resolution", "Replacement sent")
    assert f"Interaction {c['id']} resolved" in out
    [stored] = items(book, "--party", str(acme))
    assert stored["status"] == "resolved"
    assert stored["resolution"] == "Replacement sent"
    assert stored["version"] == 2
    again = refused(book, "interaction", "resolve", str(c["id"]), "--resolution", "Again")
    assert isinstance(again, TransitionError)
    closed = run(book, "interaction", "resolve", str(c["id"]), "--resolution", "", "--close")
    assert "closed" in closed


def test_table_output_states_the_sla_and_notes_are_internal(book: str) -> None:
    acme = party(book, "Acme GmbH")
    out = run(
        book,
        "interaction",
        "add",
        str(acme),
        "--kind",
        "complaint",
        "--subject",
        "Late",
        "--at",
        "2026-06-30T09:00",
    )
    assert "added to party" in out
    assert "first response by 2026-06-30T17:00:00+00:00" in out  # no offset: UTC; normal: 8 h
    n = add(book, acme, "--kind", "note", "--subject", "Spoke to purchasing")
    assert n["direction"] == "internal"
    assert n["sla_state"] == "none"


def test_list_filters_and_prints_table_json_and_csv(book: str) -> None:
    acme, other = party(book, "Acme GmbH"), party(book, "Other Ltd")
    add(book, acme, "--kind", "call", "--subject", "Intro call", "--at", "2026-06-01T10:00Z")
    add(book, acme, "--kind", "complaint", "--subject", "Broken", "--at", "2026-06-02T10:00Z")
    add(book, other, "--kind", "complaint", "--subject", "Late", "--at", "2026-06-03T10:00Z")
    assert [i["subject"] for i in items(book)] == ["Late", "Broken", "Intro call"]
    assert [i["subject"] for i in items(book, "--party", str(acme))] == ["Broken", "Intro call"]
    assert [i["subject"] for i in items(book, "--kind", "complaint")] == ["Late", "Broken"]
    assert items(book, "--status", "closed") == []
    rows = list(csv.DictReader(io.StringIO(run(book, "interaction", "list", "-f", "csv"))))
    assert [r["subject"] for r in rows] == ["Late", "Broken", "Intro call"]
    assert rows[0]["at"] == "2026-06-03 10:00"
    table = run(book, "interaction", "list", "--kind", "call")
    assert "Intro call" in table
    assert "Broken" not in table


def test_the_queue_lists_open_complaints_by_sla(book: str) -> None:
    acme = party(book, "Acme GmbH")
    at = "2026-06-30T09:00:00Z"
    low = add(
        book, acme, "--kind", "complaint", "--subject", "Low", "--priority", "low", "--at", at
    )
    high = add(
        book, acme, "--kind", "complaint", "--subject", "High", "--priority", "high", "--at", at
    )
    done = add(
        book, acme, "--kind", "complaint", "--subject", "Done", "--priority", "urgent", "--at", at
    )
    run(book, "interaction", "resolve", str(done["id"]), "--resolution", "Fixed")
    queue = json.loads(run(book, "interaction", "queue", "-f", "json"))["items"]
    assert [q["id"] for q in queue] == [high["id"], low["id"]]
    table = run(book, "interaction", "queue")
    assert table.index("High") < table.index("Low")
    assert "Done" not in table


def test_timeline_and_search(book: str) -> None:
    acme = party(book, "Acme GmbH")
    add(
        book,
        acme,
        "--kind",
        "email",
        "--subject",
        "Invoice question",
        "--body",
        "Why does the parcel cost extra?",
        "--at",
        "2026-06-01T10:00Z",
    )
    add(book, acme, "--kind", "call", "--subject", "Follow-up", "--at", "2026-06-02T10:00Z")
    timeline = run(book, "interaction", "timeline", str(acme), "-f", "json")
    assert [i["subject"] for i in json.loads(timeline)] == ["Follow-up", "Invoice question"]
    found = json.loads(run(book, "interaction", "search", "parcel", "-f", "json"))["items"]
    assert [i["subject"] for i in found] == ["Invoice question"]
    assert json.loads(run(book, "interaction", "search", 'AND("', "-f", "json"))["items"] == []


@pytest.mark.parametrize(
    ("options", "field"),
    [
        (["--at", "yesterday"], "at"),
        (["--due", "2026-13-01"], "due"),
        (["--due", "2026-06-30T08:00Z", "--at", "2026-06-30T09:00Z"], "due_at"),
        (["--subject", " "], "subject"),
        (["--contact", "4242"], "contact_id"),
    ],
)
def test_refusals_name_the_field_and_write_nothing(
    book: str, options: list[str], field: str
) -> None:
    acme = party(book, "Acme GmbH")
    base = ["interaction", "add", str(acme), "--kind", "complaint"]
    subject = [] if "--subject" in options else ["--subject", "Broken"]
    error = refused(book, *base, *subject, *options)
    assert isinstance(error, InvalidFieldError)
    assert error.field == field
    assert items(book) == []


def test_an_unknown_party_is_refused(book: str) -> None:
    error = refused(book, "interaction", "add", "4242", "--kind", "note", "--subject", "Hi")
    assert isinstance(error, InvalidFieldError)
    assert error.field == "party_id"
    assert items(book) == []
