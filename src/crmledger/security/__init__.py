"""Security adapters: field encryption, blind indexes, key rings and password hashes.

They implement the ports ``FieldCipher``, ``KeyRingAdmin`` and ``PasswordHasher`` declared in
:mod:`crmledger.services.ports`::

    store = open_keyring(Path("data/keyring.json"), os.environ)
    cipher = AesGcmFieldCipher(store.ring)
    stored = cipher.encrypt("ada@example.org", FieldContext("parties", "email", "p-42"))
    lookup = cipher.blind_index("ada@example.org", "parties", "email")
    store.rotate()    # new values use key version 2; version-1 values still decrypt

    hasher = Argon2PasswordHasher()
    assert hasher.verify(hasher.hash("s3cret"), "s3cret")
"""

from crmledger.security.cipher import AesGcmFieldCipher
from crmledger.security.keyring import (
    MASTER_KEY_ENV,
    KeyRing,
    KeyRingError,
    KeyRingStore,
    create_keyring_file,
    open_keyring,
)
from crmledger.security.passwords import Argon2PasswordHasher

__all__ = [
    "MASTER_KEY_ENV",
    "AesGcmFieldCipher",
    "Argon2PasswordHasher",
    "KeyRing",
    "KeyRingError",
    "KeyRingStore",
    "create_keyring_file",
    "open_keyring",
]
