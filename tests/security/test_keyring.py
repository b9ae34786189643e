"""Key rings: file permissions, atomic saves, the env form, rotation and retirement."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest

from crmledger.security import (
    MASTER_KEY_ENV,
    KeyRing,
    KeyRingError,
    KeyRingStore,
    create_keyring_file,
    open_keyring,
)
from crmledger.services.ports import KeyRingAdmin

posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generate_gives_version_one_and_distinct_keys() -> None:
    ring = KeyRing.generate()
    assert ring.versions() == [1]
    assert ring.current == 1
    version, key = ring.current_key()
    assert version == 1
    assert len(key) == 32
    assert len(ring.index_key) == 32
    assert key != ring.index_key
    assert KeyRing.generate().current_key()[1] != key


def test_repr_never_shows_key_material() -> None:
    ring = KeyRing.generate()
    text = repr(ring)
    assert text == "KeyRing(versions=[1], current=1)"
    assert ring.current_key()[1].hex() not in text


@posix_only
def test_saved_file_is_private_and_round_trips(tmp_path: Path) -> None:
    ring = KeyRing.generate()
    ring.rotate()
    path = tmp_path / "keyring.json"
    ring.save_file(path)
    assert _mode(path) == 0o600
    loaded = KeyRing.load_file(path)
    assert loaded.to_json() == ring.to_json()
    doc = json.loads(path.read_text())
    assert doc["format"] == 1
    assert doc["current"] == 2
    assert sorted(doc["keys"]) == ["1", "2"]
    assert [p.name for p in tmp_path.iterdir()] == ["keyring.json"]  # no temp file left


@posix_only
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_file_others_may_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "keyring.json"
    KeyRing.generate().save_file(path)
    path.chmod(mode)
    with pytest.raises(KeyRingError, match=rf"{re.escape(str(path))}.*mode {mode:04o}"):
        KeyRing.load_file(path)


@posix_only
def test_save_replaces_a_loose_file_with_a_private_one(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    path.write_text("old")
    path.chmod(0o644)
    KeyRing.generate().save_file(path)
    assert _mode(path) == 0o600
    assert KeyRing.load_file(path).versions() == [1]


def test_missing_file_names_the_path_and_the_way_out(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(
        KeyRingError, match=rf"{re.escape(str(path))}.*crmledger init.*{MASTER_KEY_ENV}"
    ):
        KeyRing.load_file(path)


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"format": 2, "current": 1, "keys": {}, "index_key": ""}',
        '{"format": 1, "current": 1, "keys": {"1": "!!"}, "index_key": ""}',
        '{"format": 1, "current": 1, "keys": {"1": "AAAA"}, "index_key": "AAAA"}',
        '{"format": 1, "current": 1, "keys": {}, "index_key": "AAAA"}',
    ],
)
def test_broken_documents_are_refused(text: str) -> None:
    with pytest.raises(KeyRingError):
        KeyRing.from_json(text)


def test_current_must_be_in_the_ring() -> None:
    with pytest.raises(KeyRingError, match="current key version 2"):
        KeyRing({1: bytes(32)}, 2, bytes(32))


def test_env_value_round_trips() -> None:
    ring = KeyRing.generate()
    ring.rotate()
    value = ring.to_env_value()
    assert value.isascii()
    assert KeyRing.from_env_value(value).to_json() == ring.to_json()
    assert KeyRing.from_env_value(f"  {value}\n").to_json() == ring.to_json()


@pytest.mark.parametrize("value", ["%%%", "bm90IGpzb24="])
def test_bad_env_value_names_the_variable(value: str) -> None:
    with pytest.raises(KeyRingError, match=MASTER_KEY_ENV):
        KeyRing.from_env_value(value)


@posix_only
def test_create_keyring_file_creates_once_and_keeps_the_file(tmp_path: Path) -> None:
    path = tmp_path / "data" / "keyring.json"
    first = create_keyring_file(path)
    assert _mode(path) == 0o600
    again = create_keyring_file(path)
    assert again.to_json() == first.to_json()
    assert sorted(p.name for p in path.parent.iterdir()) == ["keyring.json"]


def test_file_store_persists_rotate_and_retire(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    create_keyring_file(path)
    store = open_keyring(path, {})
    admin: KeyRingAdmin = store
    assert store.persistent
    assert admin.rotate() == 2
    assert admin.versions() == [1, 2]
    assert KeyRing.load_file(path).current == 2
    admin.retire(1)
    assert admin.versions() == [2]
    assert KeyRing.load_file(path).versions() == [2]
    assert admin.rotate() == 3
    assert KeyRing.load_file(path).to_json() == store.ring.to_json()


def test_retiring_the_current_or_an_unknown_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    create_keyring_file(path)
    store = open_keyring(path, {})
    before = path.read_bytes()
    with pytest.raises(KeyRingError, match="current"):
        store.retire(1)
    with pytest.raises(KeyRingError, match="not in the ring"):
        store.retire(7)
    assert path.read_bytes() == before
    assert store.versions() == [1]


def test_failed_save_leaves_the_ring_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    create_keyring_file(path)
    store = KeyRingStore(KeyRing.load_file(path), tmp_path / "missing-dir" / "keyring.json")
    with pytest.raises(FileNotFoundError):
        store.rotate()
    assert store.versions() == [1]
    assert store.ring.current == 1


def test_env_ring_wins_over_the_file_and_changes_stay_in_memory(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    on_disk = create_keyring_file(path)
    from_env = KeyRing.generate()
    store = open_keyring(path, {MASTER_KEY_ENV: from_env.to_env_value()})
    assert not store.persistent
    assert store.path is None
    assert store.ring.to_json() == from_env.to_json()
    assert store.rotate() == 2
    assert KeyRing.load_file(path).to_json() == on_disk.to_json()
    assert KeyRing.from_env_value(store.env_value()).versions() == [1, 2]


def test_empty_env_value_falls_back_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    on_disk = create_keyring_file(path)
    store = open_keyring(path, {MASTER_KEY_ENV: ""})
    assert store.persistent
    assert store.ring.to_json() == on_disk.to_json()
