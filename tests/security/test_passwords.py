"""Argon2id password hashes: verify, wrong passwords, rehash when the costs change."""

from __future__ import annotations

import pytest

from crmledger.security import Argon2PasswordHasher
from crmledger.services.ports import PasswordHasher

FAST = Argon2PasswordHasher.fast_for_tests()


def test_hash_verifies_and_is_salted() -> None:
    hasher: PasswordHasher = FAST
    stored = hasher.hash("correct horse")
    assert stored.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert "correct horse" not in stored
    assert hasher.hash("correct horse") != stored
    assert hasher.verify(stored, "correct horse")


@pytest.mark.parametrize("wrong", ["", "correct horse ", "Correct horse", "correct hors"])
def test_wrong_password_is_false_not_an_error(wrong: str) -> None:
    assert not FAST.verify(FAST.hash("correct horse"), wrong)


@pytest.mark.parametrize("stored", ["", "plain", "$argon2id$v=19$m=8,t=1,p=1$bad", "$2b$12$x"])
def test_unreadable_hash_never_verifies_and_needs_replacing(stored: str) -> None:
    assert not FAST.verify(stored, "anything")
    assert FAST.needs_rehash(stored)


def test_unicode_passwords() -> None:
    stored = FAST.hash("pässwörd 🔑")
    assert FAST.verify(stored, "pässwörd 🔑")
    assert not FAST.verify(stored, "passwort 🔑")


def test_needs_rehash_when_the_costs_rise() -> None:
    stored = FAST.hash("s3cret")
    assert not FAST.needs_rehash(stored)
    stronger = Argon2PasswordHasher(time_cost=2, memory_cost=8, parallelism=1)
    assert stronger.needs_rehash(stored)
    assert stronger.verify(stored, "s3cret")  # old hashes keep working after an upgrade
    assert Argon2PasswordHasher(time_cost=1, memory_cost=16, parallelism=1).needs_rehash(stored)


def test_defaults_are_rfc_9106_low_memory() -> None:
    stored = FAST.hash("s3cret")
    default = Argon2PasswordHasher()
    assert default.needs_rehash(stored)
    assert default.verify(stored, "s3cret")
