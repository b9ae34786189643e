"""Key rotation for encrypted personal fields and sealed files, without downtime.

``rotate`` adds a new data key and makes it current (new writes use it at once), then walks
every encrypted column in small transactions, re-encrypting values still under an older
key with a compare-and-set, so readers and writers carry on meanwhile. Expense receipts
(files sealed under the same keys, bound to their claim and SHA-256) are resealed the same
way, a few files per transaction. ``retire`` removes an old key once no value and no file
uses it any more::

    keys.usage()            # {1: 12}: twelve values, receipts among them, under key 1
    keys.rotate()           # Rotation(version=2, reencrypted=12, receipts=3)
    keys.retire(1)          # nothing uses key 1 now
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from crmledger.services.errors import ConflictError, DecryptionError
from crmledger.services.expense_ports import ReceiptCipher, SealedReceipt
from crmledger.services.expenses import receipt_context
from crmledger.services.ports import (
    Clock,
    FieldCipher,
    FieldContext,
    KeyRingAdmin,
    UnitOfWork,
    UnitOfWorkFactory,
)
from crmledger.services.trail import OPERATOR, Actor, record

BATCH = 500
#: Receipts resealed per transaction: whole files, up to 10 MB each.
RECEIPT_BATCH = 8


class KeyCipher(FieldCipher, ReceiptCipher, Protocol):
    """The cipher of the book's keys, for text values and for files."""


@dataclass(frozen=True, slots=True)
class Rotation:
    """What a rotation did: ``reencrypted`` counts every value, ``receipts`` the files
    among them."""

    version: int
    reencrypted: int
    receipts: int = 0


class KeyService:
    """Rotate and retire the data keys of the encrypted columns."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        cipher: KeyCipher,
        ring: KeyRingAdmin,
        actor: Actor = OPERATOR,
    ) -> None:
        self._uow, self._clock, self._cipher, self._ring = uow, clock, cipher, ring
        self.actor = actor

    def acting_as(self, actor: Actor) -> KeyService:
        """The same service, for another actor."""
        return KeyService(self._uow, self._clock, self._cipher, self._ring, actor)

    def versions(self) -> list[int]:
        """The key versions in the ring."""
        return self._ring.versions()

    def usage(self) -> dict[int, int]:
        """How many stored values each key version encrypts, receipts included."""
        counts: dict[int, int] = {}
        for table, column, _, stored in self._walk():
            del table, column
            version = self._cipher.key_version(stored)
            counts[version] = counts.get(version, 0) + 1
        for version, count in self.receipt_usage().items():
            counts[version] = counts.get(version, 0) + count
        return counts

    def receipt_usage(self) -> dict[int, int]:
        """How many receipts each key version seals (0: bytes that name no version)."""
        with self._uow(readonly=True) as uow:
            return uow.expenses.receipt_key_versions()

    def _walk(self) -> list[tuple[str, str, int, str]]:
        out: list[tuple[str, str, int, str]] = []
        with self._uow(readonly=True) as uow:
            for table, column in uow.secrets.encrypted_columns():
                after = 0
                while batch := uow.secrets.encrypted_values(table, column, after, BATCH):
                    out.extend((table, column, row, value) for row, value in batch)
                    after = batch[-1][0]
        return out

    def rotate(self) -> Rotation:
        """New current key; every value and receipt re-encrypted under it."""
        self.actor.require("keys", "write")
        version = self._ring.rotate()
        values = self._reencrypt_values()
        files = self._reseal_receipts()
        done = values + files
        with self._uow() as uow:
            after = {"version": version, "reencrypted": done, "receipts": files}
            record(uow, self.actor, self._clock.now(), "keys.rotate", "key", version, None, after)
            uow.commit()
        return Rotation(version, done, files)

    def reencrypt(self) -> int:
        """Re-encrypt values and receipts under older keys with the current one; returns
        how many."""
        return self._reencrypt_values() + self._reseal_receipts()

    def _reencrypt_values(self) -> int:
        current = self._cipher.current_version()
        done = 0
        with self._uow(readonly=True) as uow:
            columns = uow.secrets.encrypted_columns()
        for table, column in columns:
            after = 0
            while True:
                with self._uow() as uow:
                    batch = uow.secrets.encrypted_values(table, column, after, BATCH)
                    for row, stored in batch:
                        if self._cipher.key_version(stored) == current:
                            continue
                        context = FieldContext(table, column.removesuffix("_enc"), str(row))
                        fresh = self._cipher.encrypt(self._cipher.decrypt(stored, context), context)
                        # A concurrent writer re-encrypted it already: theirs is current too.
                        done += uow.secrets.replace_encrypted(table, column, row, stored, fresh)
                    uow.commit()
                if len(batch) < BATCH:
                    break
                after = batch[-1][0]
        return done

    def _reseal_receipts(self) -> int:
        """Reseal, a few files per transaction, the receipts under an older key; each
        keeps its binding (claim and SHA-256) and is replaced by compare-and-set."""
        current = self._cipher.current_version()
        done, after = 0, 0
        while True:
            with self._uow() as uow:
                batch = uow.expenses.sealed_receipts(after, RECEIPT_BATCH, current)
                for receipt in batch:
                    context = receipt_context(receipt.claim_id, receipt.sha256)
                    plain = self._cipher.decrypt_bytes(receipt.content_enc, context)
                    fresh = self._cipher.encrypt_bytes(plain, context)
                    # False when a concurrent writer replaced it: theirs is current too.
                    done += uow.expenses.replace_sealed(receipt.id, receipt.content_enc, fresh)
                uow.commit()
            if len(batch) < RECEIPT_BATCH:
                return done
            after = batch[-1].id

    def retire(self, version: int) -> None:
        """Remove key ``version``; refused while any value or receipt still uses it."""
        self.actor.require("keys", "write")
        in_use = self.usage().get(version, 0)
        if in_use:
            files = self.receipt_usage().get(version, 0)
            raise ConflictError(
                f"key {version} still encrypts {in_use} value(s), {files} of them receipt "
                "file(s); run keys rotate first"
            )
        self._ring.retire(version)
        with self._uow() as uow:
            record(uow, self.actor, self._clock.now(), "keys.retire", "key", version)
            uow.commit()

    def check(self) -> int:
        """Decrypt every stored value and receipt; returns how many, raises on the first
        that fails."""
        count = 0
        for table, column, row, stored in self._walk():
            context = FieldContext(table, column.removesuffix("_enc"), str(row))
            self._cipher.decrypt(stored, context)  # raises DecryptionError on a bad value
            count += 1
        with self._uow(readonly=True) as uow:
            for receipt in _all_receipts(uow):
                self._open(receipt)
                count += 1
        return count

    def _open(self, receipt: SealedReceipt) -> None:
        """Unseal one receipt and check it is the file uploaded."""
        context = receipt_context(receipt.claim_id, receipt.sha256)
        content = self._cipher.decrypt_bytes(receipt.content_enc, context)
        if hashlib.sha256(content).hexdigest() != receipt.sha256:
            raise DecryptionError(f"receipt {receipt.id}: the file is not the one uploaded")


def _all_receipts(uow: UnitOfWork) -> Iterator[SealedReceipt]:
    """Every receipt with its sealed bytes, a few files at a time."""
    after = 0
    while batch := uow.expenses.sealed_receipts(after, RECEIPT_BATCH):
        yield from batch
        after = batch[-1].id
