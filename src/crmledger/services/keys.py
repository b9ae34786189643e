"""Key rotation for encrypted personal fields, without downtime.

``rotate`` adds a new data key and makes it current (new writes use it at once), then walks
every encrypted column in small transactions, re-encrypting values still under an older
key with a compare-and-set, so readers and writers carry on meanwhile. ``retire`` removes
an old key once no value uses it any more.
"""

from __future__ import annotations

from dataclasses import dataclass

from crmledger.services.errors import ConflictError
from crmledger.services.ports import (
    Clock,
    FieldCipher,
    FieldContext,
    KeyRingAdmin,
    UnitOfWorkFactory,
)
from crmledger.services.trail import OPERATOR, Actor, record

BATCH = 500


@dataclass(frozen=True, slots=True)
class Rotation:
    """What a rotation did."""

    version: int
    reencrypted: int


class KeyService:
    """Rotate and retire the data keys of the encrypted columns."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        cipher: FieldCipher,
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
        """How many stored values each key version encrypts."""
        counts: dict[int, int] = {}
        for table, column, _, stored in self._walk():
            del table, column
            version = self._cipher.key_version(stored)
            counts[version] = counts.get(version, 0) + 1
        return counts

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
        """New current key; every value re-encrypted under it."""
        self.actor.require("keys", "write")
        version = self._ring.rotate()
        done = self.reencrypt()
        with self._uow() as uow:
            after = {"version": version, "reencrypted": done}
            record(uow, self.actor, self._clock.now(), "keys.rotate", "key", version, None, after)
            uow.commit()
        return Rotation(version, done)

    def reencrypt(self) -> int:
        """Re-encrypt values under older keys with the current one; returns how many."""
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

    def retire(self, version: int) -> None:
        """Remove key ``version``; refused while any value still uses it."""
        self.actor.require("keys", "write")
        in_use = self.usage().get(version, 0)
        if in_use:
            raise ConflictError(
                f"key {version} still encrypts {in_use} value(s); run keys rotate first"
            )
        self._ring.retire(version)
        with self._uow() as uow:
            record(uow, self.actor, self._clock.now(), "keys.retire", "key", version)
            uow.commit()

    def check(self) -> int:
        """Decrypt every stored value; returns how many, raises on the first that fails."""
        count = 0
        for table, column, row, stored in self._walk():
            context = FieldContext(table, column.removesuffix("_enc"), str(row))
            self._cipher.decrypt(stored, context)  # raises DecryptionError on a bad value
            count += 1
        return count
