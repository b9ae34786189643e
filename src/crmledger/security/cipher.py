"""Field encryption with AES-256-GCM, bound to the field and row it belongs to.

Each value gets a random 96-bit nonce and is stored as self-describing text::

    v<version>:<urlsafe base64 of nonce + ciphertext + tag>

The associated data (authenticated, not stored) is the table, column, row and key version,
length-prefixed so that ``("a", "bc")`` and ``("ab", "c")`` differ. A ciphertext copied to
another row or column therefore fails to decrypt, as does any flipped byte::

    cipher = AesGcmFieldCipher(KeyRing.generate())
    where = FieldContext("parties", "email", "p-42")
    stored = cipher.encrypt("ada@example.org", where)
    assert cipher.decrypt(stored, where) == "ada@example.org"

Blind indexes (:meth:`AesGcmFieldCipher.blind_index`) allow equality look-ups on encrypted
columns: a keyed HMAC of the value, bound to its table and column. They are exact-match only,
so callers normalise first (e.g. ``email.strip().lower()``) and pass the normalised value both
when writing and when searching.

Files (an expense receipt) are sealed as bytes rather than text, under the same keys but
another purpose (``crmledger/blob/1`` in the associated data, so a field value and a file
never stand in for each other), as ``v<version>:`` then the nonce, ciphertext and tag::

    sealed = cipher.encrypt_bytes(pdf, FieldContext("expense_receipts", "content", "7/9f2c…"))
    assert cipher.decrypt_bytes(sealed, FieldContext(...same...)) == pdf

The ciphertext length reveals the plaintext length; pad before encrypting where that matters.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import struct
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from crmledger.security.keyring import KeyRing
from crmledger.services.errors import DecryptionError
from crmledger.services.ports import FieldContext

NONCE_BYTES = 12
TAG_BYTES = 16
INDEX_HEX_CHARS = 32
_SHA256_BLOCK = 64
_STORED = re.compile(r"v([1-9][0-9]{0,8}):([A-Za-z0-9_-]+={0,2})")
_FIELD_DOMAIN = b"crmledger/field/1"
_BLOB_DOMAIN = b"crmledger/blob/1"
_BLOB = re.compile(rb"v([1-9][0-9]{0,8}):")
_INDEX_DOMAIN = b"crmledger/blind-index/1"


def _framed(domain: bytes, *parts: str) -> bytes:
    """``domain`` then each part as a 4-byte big-endian length and its UTF-8 bytes."""
    out = bytearray(domain)
    for part in parts:
        raw = part.encode("utf-8")
        out += struct.pack(">I", len(raw)) + raw
    return bytes(out)


def _associated_data(context: FieldContext, version: int, domain: bytes = _FIELD_DOMAIN) -> bytes:
    return _framed(domain, context.table, context.column, context.row, str(version))


def _where(context: FieldContext) -> str:
    return f"{context.table}.{context.column} row {context.row}"


def _parse(stored: str) -> tuple[int, bytes] | None:
    """``(version, nonce + ciphertext + tag)``, or ``None`` when ``stored`` is malformed."""
    match = _STORED.fullmatch(stored)
    if match is None:
        return None
    try:
        blob = base64.urlsafe_b64decode(match.group(2))
    except (ValueError, binascii.Error):
        return None
    # Only the canonical encoding is accepted, so no two texts carry the same bytes.
    if base64.urlsafe_b64encode(blob) != match.group(2).encode("ascii"):
        return None
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        return None
    return int(match.group(1)), blob


class AesGcmFieldCipher:
    """``FieldCipher`` over a live :class:`KeyRing`: after ``rotate`` new values use the new
    key, and old values decrypt as long as their version stays in the ring."""

    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring

    def encrypt(self, plaintext: str, context: FieldContext) -> str:
        """Encrypt ``plaintext`` for the field and row named by ``context``."""
        version, key = self._ring.current_key()
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(key).encrypt(
            nonce, plaintext.encode("utf-8"), _associated_data(context, version)
        )
        return f"v{version}:{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, stored: str, context: FieldContext) -> str:
        """The plaintext of ``stored``; :class:`DecryptionError` if it is malformed, tampered
        with, belongs to another field or row, or its key version was retired."""
        parsed = _parse(stored)
        if parsed is None:
            raise DecryptionError(f"{_where(context)}: not an encrypted value")
        version, blob = parsed
        key = self._ring.key(version)
        if key is None:
            raise DecryptionError(
                f"{_where(context)}: key version {version} is not in the key ring"
            )
        nonce, sealed = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
        try:
            plain = AESGCM(key).decrypt(nonce, sealed, _associated_data(context, version))
        except InvalidTag:
            raise DecryptionError(
                f"{_where(context)}: value does not authenticate "
                "(tampered with, or copied from another field or row)"
            ) from None
        return plain.decode("utf-8")

    def encrypt_bytes(self, data: bytes, context: FieldContext) -> bytes:
        """Seal the file ``data`` for the column and row named by ``context``."""
        version, key = self._ring.current_key()
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, data, _associated_data(context, version, _BLOB_DOMAIN))
        return b"v%d:" % version + nonce + sealed

    def decrypt_bytes(self, stored: bytes, context: FieldContext) -> bytes:
        """The file sealed in ``stored``; :class:`DecryptionError` as for :meth:`decrypt`."""
        match = _BLOB.match(stored)
        if match is None or len(stored) - match.end() < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError(f"{_where(context)}: not an encrypted file")
        version = int(match.group(1))
        key = self._ring.key(version)
        if key is None:
            raise DecryptionError(
                f"{_where(context)}: key version {version} is not in the key ring"
            )
        nonce = stored[match.end() : match.end() + NONCE_BYTES]
        sealed = stored[match.end() + NONCE_BYTES :]
        try:
            return AESGCM(key).decrypt(
                nonce, sealed, _associated_data(context, version, _BLOB_DOMAIN)
            )
        except InvalidTag:
            raise DecryptionError(
                f"{_where(context)}: file does not authenticate "
                "(tampered with, or copied from another row)"
            ) from None

    def key_version(self, stored: str) -> int:
        """The key version ``stored`` was encrypted with (for re-encryption sweeps)."""
        parsed = _parse(stored)
        if parsed is None:
            raise DecryptionError("not an encrypted value")
        return parsed[0]

    def current_version(self) -> int:
        """The version new values are encrypted with."""
        return self._ring.current

    def blind_index(self, value: str, table: str, column: str) -> str:
        """A deterministic keyed index of ``value`` in ``table.column`` (32 hex chars).

        Normalise ``value`` first; the same value in another column gets another index, so
        indexes cannot be joined across columns.
        """
        message = _framed(_INDEX_DOMAIN, table, column, value)
        digest = hmac.new(self._ring.index_key, message, hashlib.sha256).hexdigest()
        return digest[:INDEX_HEX_CHARS]

    def blind_indexer(self, table: str, column: str) -> Callable[[str], str]:
        """:meth:`blind_index` for one column, as a function: HMAC-SHA256 (RFC 2104) spelled
        out over ``hashlib``, with the keyed inner hash of the column's prefix computed
        once, so indexing the many search terms of an import costs two hash copies each."""
        key = self._ring.index_key
        if len(key) > _SHA256_BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_SHA256_BLOCK, b"\0")
        inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        inner.update(_framed(_INDEX_DOMAIN, table, column))
        outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
        pack = struct.Struct(">I").pack

        def index(value: str) -> str:
            raw = value.encode("utf-8")
            mac = inner.copy()
            mac.update(pack(len(raw)) + raw)
            out = outer.copy()
            out.update(mac.digest())
            return out.hexdigest()[:INDEX_HEX_CHARS]

        return index
