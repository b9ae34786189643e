"""Password hashing with Argon2id (argon2-cffi).

A stored hash carries its own salt and cost parameters, so old hashes keep verifying after
the costs go up; :meth:`Argon2PasswordHasher.needs_rehash` tells the login path to store a
fresh hash while it still holds the plaintext::

    hasher = Argon2PasswordHasher()
    stored = hasher.hash("correct horse")
    if hasher.verify(stored, "correct horse") and hasher.needs_rehash(stored):
        stored = hasher.hash("correct horse")

The defaults are RFC 9106's second recommended ("low-memory") profile: 3 passes over 64 MiB
with 4 lanes. Tests, which create many users, use :meth:`Argon2PasswordHasher.fast_for_tests`.
"""

from __future__ import annotations

import argon2
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

_DEFAULTS = RFC_9106_LOW_MEMORY


class Argon2PasswordHasher:
    """``PasswordHasher`` with Argon2id; ``memory_cost`` is in KiB."""

    def __init__(
        self,
        time_cost: int = _DEFAULTS.time_cost,
        memory_cost: int = _DEFAULTS.memory_cost,
        parallelism: int = _DEFAULTS.parallelism,
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            hash_len=_DEFAULTS.hash_len,
            salt_len=_DEFAULTS.salt_len,
            type=argon2.Type.ID,
        )

    @classmethod
    def fast_for_tests(cls) -> Argon2PasswordHasher:
        """The cheapest parameters Argon2 allows (1 pass, 8 KiB, 1 lane): for tests only."""
        return cls(time_cost=1, memory_cost=8, parallelism=1)

    def hash(self, password: str) -> str:
        """A new salted hash of ``password`` in the PHC string format (``$argon2id$...``)."""
        return self._hasher.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        """Whether ``password`` matches ``stored``; ``False`` (never an exception) for a wrong
        password or a ``stored`` text that is not an Argon2 hash."""
        try:
            return self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        """Whether ``stored`` was made with other parameters than this hasher's (higher or
        lower); an unreadable hash needs replacing too."""
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True
