"""Key rotation covers expense receipts, on both databases: ``keys usage`` counts the files
each key seals (from the ``v<version>:`` prefix, in SQL), ``keys retire`` refuses a key a
receipt still needs, ``keys rotate`` reseals every receipt under the new key a few files per
transaction with a compare-and-set, keeping its binding to its claim and hash, and every
download gives back the bytes uploaded. The CLI's ``keys`` commands count receipts too."""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from crmledger.bootstrap import App
from crmledger.cli.main import main
from crmledger.core.access import Role
from crmledger.core.billing.expenses import ClaimLine
from crmledger.persistence.expense_store import SqlExpenseStore
from crmledger.services.errors import ConflictError
from crmledger.services.expenses import NewClaim, Upload
from crmledger.services.keys import RECEIPT_BATCH
from tests.cli.test_billing_cli import PIXEL, run
from tests.db.test_expense_receipts import SLIP, stored
from tests.db.test_expenses import PDF, PNG, as_user


def files(count: int) -> list[bytes]:
    """``count`` distinct small files: PDFs and PNGs."""
    return [
        PDF.replace(b"%%EOF", b"%% receipt %d\n%%%%EOF" % i) if i % 2 else PNG + b"%d" % i
        for i in range(count)
    ]


def claims_with(staff: App, uploads: list[bytes], per_claim: int = 4) -> dict[int, bytes]:
    """Claims holding ``uploads``; returns each receipt's id with its bytes."""
    out: dict[int, bytes] = {}
    for start in range(0, len(uploads), per_claim):
        chunk = uploads[start : start + per_claim]
        new = NewClaim(
            description=f"Trip {start}",
            claimed_on=date(2026, 6, 12),
            lines=[ClaimLine("Expenses:Travel", Decimal("59.50"), "standard", "Taxi")],
        )
        names = [
            f"r{start + i}.pdf" if c.startswith(b"%PDF") else f"r{start + i}.png"
            for i, c in enumerate(chunk)
        ]
        claim = staff.expenses.create(
            new, [Upload(n, c) for n, c in zip(names, chunk, strict=True)]
        )
        for receipt, content in zip(claim.receipts, chunk, strict=True):
            out[receipt.id] = content
    return out


def downloads(staff: App, app: App) -> dict[int, bytes]:
    """Every receipt as a download gives it, by id."""
    return {i: staff.expenses.receipt(c, i).content for i, c, _, _ in stored(app)}


def test_rotation_reseals_every_receipt_and_the_old_key_can_go(app: App) -> None:
    sam, _ = as_user(app, "sam@example.com", Role.SALES)
    uploaded = claims_with(sam, files(2 * RECEIPT_BATCH + 3))  # three transactions' worth
    count = len(uploaded)
    values = app.keys.usage()[1] - count  # the user's email and such
    assert values >= 1
    assert app.keys.receipt_usage() == {1: count}
    with pytest.raises(ConflictError, match=f"{values + count} value.*{count} of them receipt"):
        app.keys.retire(1)

    rotation = app.keys.rotate()

    assert (rotation.version, rotation.reencrypted, rotation.receipts) == (
        2,
        values + count,
        count,
    )
    rows = stored(app)
    assert all(sealed.startswith(b"v2:") for _, _, _, sealed in rows)
    assert app.keys.receipt_usage() == {2: count}
    assert app.keys.usage() == {2: values + count}
    app.keys.retire(1)
    assert app.keys.versions() == [2]
    # Still bound to claim and hash, and the very bytes uploaded.
    assert downloads(sam, app) == uploaded
    assert {(i, c, h) for i, c, h, _ in rows} == {
        (i, c, hashlib.sha256(uploaded[i]).hexdigest()) for i, c, _, _ in rows
    }
    assert app.keys.check() == values + count
    [logged] = [e for e in app.audit.log(filters={"resource": "key"}) if e.action == "keys.rotate"]
    assert logged.changes["after"] == {
        "version": 2,
        "reencrypted": values + count,
        "receipts": count,
    }


def test_a_receipt_alone_on_the_old_key_keeps_it(app: App) -> None:
    """Every field is on the new key; one receipt sealed under the old one (written by a
    process that still had the old ring) is enough to refuse the retirement, and a
    re-encryption sweep moves it."""
    sam, _ = as_user(app, "sam@example.com", Role.SALES)
    claims_with(sam, [SLIP, PNG])
    [(first, claim_id, _, old_sealed), *_] = stored(app)
    app.keys.rotate()
    with app.engine.begin() as conn:
        conn.execute(
            text("UPDATE expense_receipts SET content_enc = :b WHERE id = :i"),
            {"b": old_sealed, "i": first},
        )
    assert app.keys.receipt_usage() == {1: 1, 2: 1}
    assert 1 in app.keys.usage()
    with pytest.raises(ConflictError, match=r"key 1 still encrypts 1 value\(s\), 1 of them"):
        app.keys.retire(1)
    assert app.keys.versions() == [1, 2]
    assert app.keys.reencrypt() == 1
    assert app.keys.receipt_usage() == {2: 2}
    app.keys.retire(1)
    assert sam.expenses.receipt(claim_id, first).content == SLIP


def test_versions_are_read_from_the_prefix_and_the_swap_is_compare_and_set(app: App) -> None:
    sam, _ = as_user(app, "sam@example.com", Role.SALES)
    claims_with(sam, [SLIP, PNG, PDF])
    [(one, _, _, sealed), (two, _, _, _), (three, _, _, _)] = stored(app)
    odd = {two: b"v12:" + bytes(40), three: b"plain bytes, no version"}
    with app.engine.begin() as conn:
        for receipt_id, content in odd.items():
            conn.execute(
                text("UPDATE expense_receipts SET content_enc = :b WHERE id = :i"),
                {"b": content, "i": receipt_id},
            )
    with app.engine.begin() as conn:
        store = SqlExpenseStore(conn)
        assert store.receipt_key_versions() == {1: 1, 12: 1, 0: 1}
        # "v12:" is not "v1:": only the version named is left out.
        assert [r.id for r in store.sealed_receipts(0, 10, except_version=1)] == [two, three]
        assert [r.id for r in store.sealed_receipts(0, 10, except_version=12)] == [one, three]
        assert [r.id for r in store.sealed_receipts(one, 1)] == [two]
        # A writer got there first: the swap of the bytes read before does nothing.
        assert store.replace_sealed(one, sealed, b"v1:" + bytes(40))
        assert not store.replace_sealed(one, sealed, b"v1:" + bytes(41))
    assert stored(app)[0][3] == b"v1:" + bytes(40)


# -- the command line --------------------------------------------------------------------


@pytest.fixture
def book(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A book with its admin and one expense claim holding two receipts."""
    monkeypatch.setenv("CRMLEDGER_ADMIN_EMAIL", "boss@example.com")
    monkeypatch.setenv("CRMLEDGER_ADMIN_PASSWORD", "correct horse battery")
    run(db_url, "init", "--base-currency", "EUR")
    slip, photo = tmp_path / "slip.pdf", tmp_path / "photo.png"
    slip.write_bytes(SLIP)
    photo.write_bytes(PIXEL)
    args = ["expense", "add", "--employee", "boss@example.com", "--date", "2026-06-12"]
    args += ["--description", "Taxi", "--account", "Expenses:Travel", "--amount", "59.50"]
    run(db_url, *args, "--receipt", str(slip), "--receipt", str(photo))
    return db_url


def said(db: str, *args: str) -> str:
    """What a command printed, as one line."""
    return " ".join(run(db, *args).split())


def status(db: str) -> list[dict[str, object]]:
    return list(json.loads(run(db, "keys", "status", "--format", "json")))


def test_the_keys_commands_count_receipts(
    book: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert status(book) == [{"version": 1, "current": True, "values": 3, "receipts": 2}]
    monkeypatch.setattr(sys, "argv", ["crmledger", "--db", book, "keys", "retire", "1"])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 1
    refused = " ".join(capsys.readouterr().err.split())
    assert "key 1 still encrypts 3 value(s), 2 of them receipt file(s)" in refused
    assert "Key 2 is current; 3 value(s) re-encrypted, 2 of them receipt file(s)." in said(
        book, "keys", "rotate"
    )
    assert [(s["version"], s["values"], s["receipts"]) for s in status(book)] == [
        (1, 0, 0),
        (2, 3, 2),
    ]
    assert "Key 1 removed from the ring." in said(book, "keys", "retire", "1")
    assert status(book) == [{"version": 2, "current": True, "values": 3, "receipts": 2}]
    copy = tmp_path / "copy.pdf"
    run(book, "expense", "receipt", "1", "1", "-o", str(copy))
    assert copy.read_bytes() == SLIP
