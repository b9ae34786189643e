"""Expense receipts are encrypted at rest, on both databases: the stored column holds no byte
run of the file, a download gives back exactly what was uploaded, and a sealed file that was
changed, or moved to another claim, does not open."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from crmledger.bootstrap import App
from crmledger.core.access import Role
from crmledger.core.billing.expenses import ClaimLine
from crmledger.services.errors import DecryptionError
from crmledger.services.expenses import NewClaim, Upload
from tests.db.test_expenses import PDF, PNG, as_user

#: A receipt with a name and a card number on it, as a scanned till slip might.
SLIP = PDF.replace(b"%%EOF", b"Card holder: Ada Lovelace ****4711\n%%EOF")


def stored(app: App) -> list[tuple[int, int, str, bytes]]:
    """(id, claim, sha256, sealed bytes) of every receipt, straight from the table."""
    sql = "SELECT id, claim_id, sha256, content_enc FROM expense_receipts ORDER BY id"
    with app.engine.connect() as conn:
        return [(i, c, h, bytes(b)) for i, c, h, b in conn.execute(text(sql))]


def claim(staff: App, *uploads: Upload) -> int:
    new = NewClaim(
        description="Lunch with a customer",
        claimed_on=date(2026, 6, 12),
        lines=[ClaimLine("Expenses:Travel", Decimal("59.50"), "standard", "Lunch")],
    )
    return staff.expenses.create(new, list(uploads)).id


def test_a_receipt_is_stored_sealed_and_read_back_as_uploaded(app: App) -> None:
    sam, _ = as_user(app, "sam@example.com", Role.SALES)
    first = claim(sam, Upload("slip.pdf", SLIP))
    _, added = sam.expenses.add_receipt(first, Upload("photo.png", PNG))
    rows = stored(app)
    assert [(c, h) for _, c, h, _ in rows] == [
        (first, hashlib.sha256(SLIP).hexdigest()),
        (first, hashlib.sha256(PNG).hexdigest()),
    ]
    for (_, _, _, sealed), plain in zip(rows, (SLIP, PNG), strict=True):
        assert sealed.startswith(b"v1:")
        assert plain not in sealed
        assert b"Ada Lovelace" not in sealed
        assert b"%PDF" not in sealed
        assert b"PNG" not in sealed
        assert len(sealed) == len(plain) + len(b"v1:") + 12 + 16  # nonce and tag
    got = sam.expenses.receipt(first, rows[0][0])
    assert (got.content, got.info.name, got.info.sha256) == (
        SLIP,
        "slip.pdf",
        hashlib.sha256(SLIP).hexdigest(),
    )
    assert sam.expenses.receipt(first, added.id).content == PNG


def test_a_changed_or_moved_receipt_does_not_open(app: App) -> None:
    sam, _ = as_user(app, "sam@example.com", Role.SALES)
    first = claim(sam, Upload("slip.pdf", SLIP))
    second = claim(sam, Upload("photo.png", PNG))
    [(one, _, _, sealed), (two, _, _, _)] = stored(app)
    flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with app.engine.begin() as conn:
        conn.execute(
            text("UPDATE expense_receipts SET content_enc = :b WHERE id = :i"),
            {"b": flipped, "i": one},
        )
    with pytest.raises(DecryptionError, match="does not authenticate"):
        sam.expenses.receipt(first, one)
    # The slip's sealed bytes and hash copied onto the other claim's receipt.
    with app.engine.begin() as conn:
        conn.execute(
            text("UPDATE expense_receipts SET content_enc = :b, sha256 = :h WHERE id = :i"),
            {"b": sealed, "h": hashlib.sha256(SLIP).hexdigest(), "i": two},
        )
    with pytest.raises(DecryptionError, match="does not authenticate"):
        sam.expenses.receipt(second, two)
