"""Field encryption: round trips, binding to field and row, tampering, rotation, indexes."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmledger.security import AesGcmFieldCipher, KeyRing, create_keyring_file, open_keyring
from crmledger.services.errors import DecryptionError
from crmledger.services.ports import FieldCipher, FieldContext

EMAIL = FieldContext("parties", "email", "p-1")
RING = KeyRing.generate()
CIPHER: FieldCipher = AesGcmFieldCipher(RING)


@given(st.text(), st.text(max_size=20), st.text(max_size=20), st.text(max_size=20))
def test_round_trip_any_text_in_any_field(plain: str, table: str, column: str, row: str) -> None:
    where = FieldContext(table, column, row)
    assert CIPHER.decrypt(CIPHER.encrypt(plain, where), where) == plain


@pytest.mark.parametrize("plain", ["", "ada@example.org", "Zoë Ωmega 北京 🚀", "a" * 10_000])
def test_round_trip_examples(plain: str) -> None:
    stored = CIPHER.encrypt(plain, EMAIL)
    assert stored.startswith("v1:")
    assert plain not in stored or plain == ""
    assert CIPHER.decrypt(stored, EMAIL) == plain


def test_same_value_encrypts_differently_each_time() -> None:
    assert CIPHER.encrypt("ada", EMAIL) != CIPHER.encrypt("ada", EMAIL)


@pytest.mark.parametrize(
    "other",
    [
        FieldContext("parties", "email", "p-2"),
        FieldContext("parties", "phone", "p-1"),
        FieldContext("contacts", "email", "p-1"),
    ],
)
def test_value_moved_to_another_row_or_field_does_not_decrypt(other: FieldContext) -> None:
    stored = CIPHER.encrypt("ada@example.org", EMAIL)
    with pytest.raises(DecryptionError) as caught:
        CIPHER.decrypt(stored, other)
    message = str(caught.value)
    assert f"{other.table}.{other.column} row {other.row}" in message
    assert "ada" not in message


def test_context_parts_are_framed_not_concatenated() -> None:
    stored = CIPHER.encrypt("x", FieldContext("a", "bc", "1"))
    with pytest.raises(DecryptionError):
        CIPHER.decrypt(stored, FieldContext("ab", "c", "1"))


def test_swapping_values_between_two_rows_fails_both_ways() -> None:
    one, two = FieldContext("parties", "name", "1"), FieldContext("parties", "name", "2")
    a, b = CIPHER.encrypt("Ada", one), CIPHER.encrypt("Bob", two)
    for stored, where in ((a, two), (b, one)):
        with pytest.raises(DecryptionError):
            CIPHER.decrypt(stored, where)


def _flip(stored: str, index: int) -> str:
    prefix, body = stored.split(":")
    raw = bytearray(base64.urlsafe_b64decode(body))
    raw[index] ^= 0x01
    return f"{prefix}:{base64.urlsafe_b64encode(bytes(raw)).decode()}"


def test_every_flipped_byte_is_detected() -> None:
    stored = CIPHER.encrypt("secret", EMAIL)
    size = len(base64.urlsafe_b64decode(stored.split(":")[1]))
    assert size == 12 + len("secret") + 16
    for index in range(size):
        with pytest.raises(DecryptionError, match="does not authenticate"):
            CIPHER.decrypt(_flip(stored, index), EMAIL)


def test_changed_version_prefix_is_detected() -> None:
    ring = KeyRing.generate()
    cipher = AesGcmFieldCipher(ring)
    stored = cipher.encrypt("secret", EMAIL)
    ring.rotate()
    with pytest.raises(DecryptionError):
        cipher.decrypt("v2" + stored[2:], EMAIL)


@pytest.mark.parametrize(
    "stored",
    ["", "secret", "v1", "v1:", "v0:AAAA", "x1:AAAA", "v1:AAAA", "v1:not base64!", "v1:AAA"],
)
def test_malformed_text_is_a_decryption_error(stored: str) -> None:
    with pytest.raises(DecryptionError, match=r"parties\.email row p-1"):
        CIPHER.decrypt(stored, EMAIL)
    with pytest.raises(DecryptionError):
        CIPHER.key_version(stored)


def test_non_canonical_base64_is_refused() -> None:
    stored = CIPHER.encrypt("abc", EMAIL)  # 31 bytes: "xx==" ends it, 4 spare bits in x
    body = stored.split(":")[1]
    assert body.endswith("==")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    spare = alphabet[alphabet.index(body[-3]) | 0b1111]
    twin = f"v1:{body[:-3]}{spare}=="
    assert twin != stored
    assert base64.urlsafe_b64decode(twin[3:]) == base64.urlsafe_b64decode(body)
    with pytest.raises(DecryptionError, match="not an encrypted value"):
        CIPHER.decrypt(twin, EMAIL)


def test_rotation_keeps_old_values_readable_until_retired(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    create_keyring_file(path)
    store = open_keyring(path, {})
    cipher = AesGcmFieldCipher(store.ring)
    old = cipher.encrypt("old value", EMAIL)
    assert cipher.key_version(old) == 1

    assert store.rotate() == 2
    assert cipher.current_version() == 2
    new = cipher.encrypt("new value", EMAIL)
    assert cipher.key_version(new) == 2
    assert new.startswith("v2:")
    assert cipher.decrypt(old, EMAIL) == "old value"

    # A process that reads the ring file afresh sees the same keys.
    reopened = AesGcmFieldCipher(KeyRing.load_file(path))
    assert reopened.decrypt(old, EMAIL) == "old value"
    assert reopened.decrypt(new, EMAIL) == "new value"

    store.retire(1)
    with pytest.raises(DecryptionError, match="key version 1 is not in the key ring"):
        cipher.decrypt(old, EMAIL)
    assert cipher.decrypt(new, EMAIL) == "new value"


def test_blind_index_is_deterministic_and_bound_to_its_column() -> None:
    first = CIPHER.blind_index("ada@example.org", "parties", "email")
    assert first == CIPHER.blind_index("ada@example.org", "parties", "email")
    assert len(first) == 32
    assert int(first, 16) >= 0
    assert first != CIPHER.blind_index("ada@example.org", "parties", "phone")
    assert first != CIPHER.blind_index("ada@example.org", "contacts", "email")
    assert first != CIPHER.blind_index("Ada@example.org", "parties", "email")
    assert CIPHER.blind_index("x", "a", "bc") != CIPHER.blind_index("x", "ab", "c")


@given(st.text(max_size=40), st.sampled_from(["email", "search"]))
def test_a_column_indexer_gives_the_same_index_as_blind_index(value: str, column: str) -> None:
    assert CIPHER.blind_indexer("parties", column)(value) == CIPHER.blind_index(
        value, "parties", column
    )


def test_blind_index_survives_rotation_and_needs_the_ring() -> None:
    ring = KeyRing.generate()
    cipher = AesGcmFieldCipher(ring)
    before = cipher.blind_index("ada", "parties", "email")
    ring.rotate()
    assert cipher.blind_index("ada", "parties", "email") == before
    assert AesGcmFieldCipher(KeyRing.generate()).blind_index("ada", "parties", "email") != before


def test_ring_from_env_decrypts_what_the_original_encrypted() -> None:
    stored = CIPHER.encrypt("ada", EMAIL)
    twin = AesGcmFieldCipher(KeyRing.from_env_value(RING.to_env_value()))
    assert twin.decrypt(stored, EMAIL) == "ada"
    assert twin.blind_index("ada", "t", "c") == CIPHER.blind_index("ada", "t", "c")


# -- files ---------------------------------------------------------------------------------

RECEIPT = FieldContext("expense_receipts", "content", "7/9f2c")
FILE_CIPHER = AesGcmFieldCipher(RING)


@given(st.binary(max_size=2_000))
def test_a_file_round_trips_sealed(data: bytes) -> None:
    sealed = FILE_CIPHER.encrypt_bytes(data, RECEIPT)
    assert sealed.startswith(b"v1:")
    assert len(sealed) == len(data) + 3 + 12 + 16
    assert FILE_CIPHER.decrypt_bytes(sealed, RECEIPT) == data


def test_a_file_does_not_open_moved_changed_or_as_a_field_value() -> None:
    data = b"%PDF-1.4 Ada Lovelace ****4711"
    sealed = FILE_CIPHER.encrypt_bytes(data, RECEIPT)
    assert data not in sealed
    moved = FieldContext("expense_receipts", "content", "8/9f2c")
    flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
    for stored, where in ((sealed, moved), (flipped, RECEIPT)):
        with pytest.raises(DecryptionError, match="does not authenticate"):
            FILE_CIPHER.decrypt_bytes(stored, where)
    with pytest.raises(DecryptionError, match="not an encrypted file"):
        FILE_CIPHER.decrypt_bytes(data, RECEIPT)
    # Same key, same place, other purpose: a field value is no file and a file no value.
    text = FILE_CIPHER.encrypt(data.decode(), RECEIPT)
    blob = b"v1:" + base64.urlsafe_b64decode(text.removeprefix("v1:"))
    with pytest.raises(DecryptionError, match="does not authenticate"):
        FILE_CIPHER.decrypt_bytes(blob, RECEIPT)
