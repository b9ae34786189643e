"""The key ring: versioned data keys for field encryption, plus one blind-index key.

Personal fields are encrypted with the *current* data key; each ciphertext names the version
it was made with, so older keys stay in the ring until every value has been re-encrypted, and
are then retired. The blind-index key is separate and never rotated: rotating it would change
every index and break equality look-ups.

On disk (and, base64-encoded, in ``CRMLEDGER_MASTER_KEY``) a ring is one JSON document::

    {"format": 1, "current": 2, "keys": {"1": "<b64>", "2": "<b64>"}, "index_key": "<b64>"}

Typical use::

    store = open_keyring(Path("data/keyring.json"), os.environ)
    new_version = store.rotate()      # written to the file at once
    store.retire(new_version - 1)     # once nothing is encrypted with it any more

The file is created with mode ``0o600`` and a file others may read is refused on load, the
same rule ssh applies to private keys.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

MASTER_KEY_ENV = "CRMLEDGER_MASTER_KEY"
"""Environment variable that, when set, holds the whole ring (base64 of its JSON)."""

FORMAT = 1
KEY_BYTES = 32
_PRIVATE_MODE = 0o600
_OTHERS_BITS = stat.S_IRWXG | stat.S_IRWXO


class KeyRingError(Exception):
    """The key ring cannot be read, written or changed as asked (the message says why)."""


@dataclass(frozen=True, slots=True)
class _RingState:
    """One consistent snapshot of a ring; a :class:`KeyRing` swaps whole snapshots so a
    reader never sees a half-applied rotation."""

    keys: Mapping[int, bytes] = field(repr=False)
    current: int
    index_key: bytes = field(repr=False)

    def rotated(self) -> tuple[_RingState, int]:
        version = max(self.keys) + 1
        keys = {**self.keys, version: secrets.token_bytes(KEY_BYTES)}
        return _RingState(MappingProxyType(keys), version, self.index_key), version

    def retired(self, version: int) -> _RingState:
        if version not in self.keys:
            raise KeyRingError(f"key version {version} is not in the ring")
        if version == self.current:
            raise KeyRingError(f"key version {version} is current; rotate before retiring it")
        keys = {v: k for v, k in self.keys.items() if v != version}
        return _RingState(MappingProxyType(keys), self.current, self.index_key)


def _checked_state(keys: Mapping[int, bytes], current: int, index_key: bytes) -> _RingState:
    if not keys:
        raise KeyRingError("a key ring needs at least one data key")
    for version, key in keys.items():
        if version < 1:
            raise KeyRingError(f"key version {version} is not a positive integer")
        if len(key) != KEY_BYTES:
            raise KeyRingError(f"key version {version} is not {KEY_BYTES} bytes long")
    if current not in keys:
        raise KeyRingError(f"current key version {current} is not in the ring")
    if len(index_key) != KEY_BYTES:
        raise KeyRingError(f"the blind-index key is not {KEY_BYTES} bytes long")
    return _RingState(MappingProxyType(dict(keys)), current, index_key)


class KeyRing:
    """Versioned AES-256 data keys, the current version, and the blind-index key.

    A ring is a live handle: :meth:`rotate` and :meth:`retire` change it in place, so a cipher
    holding it encrypts with the new current key at once. Its ``repr`` never shows key bytes.
    """

    def __init__(self, keys: Mapping[int, bytes], current: int, index_key: bytes) -> None:
        self._state = _checked_state(keys, current, index_key)

    # -- constructors -------------------------------------------------------------------

    @classmethod
    def generate(cls) -> KeyRing:
        """A fresh ring: data key version 1 and a blind-index key, from the OS's CSPRNG."""
        return cls({1: secrets.token_bytes(KEY_BYTES)}, 1, secrets.token_bytes(KEY_BYTES))

    @classmethod
    def from_json(cls, text: str | bytes) -> KeyRing:
        """Parse the JSON document described in the module docstring."""
        try:
            doc = json.loads(text)
            return cls._from_document(doc)
        except (ValueError, TypeError, KeyError, AttributeError, binascii.Error) as err:
            raise KeyRingError(f"not a valid key ring document ({type(err).__name__})") from None

    @classmethod
    def _from_document(cls, doc: Any) -> KeyRing:
        if doc.get("format") != FORMAT:
            raise KeyRingError(f"unsupported key ring format {doc.get('format')!r}")
        keys = {int(v): _b64decode(k) for v, k in doc["keys"].items()}
        return cls(keys, int(doc["current"]), _b64decode(doc["index_key"]))

    @classmethod
    def from_env_value(cls, text: str) -> KeyRing:
        """Parse the value of ``CRMLEDGER_MASTER_KEY``: urlsafe base64 of the ring's JSON."""
        try:
            raw = base64.urlsafe_b64decode(text.strip().encode("ascii"))
        except (ValueError, binascii.Error):
            raise KeyRingError(f"{MASTER_KEY_ENV} is not urlsafe base64") from None
        try:
            return cls.from_json(raw)
        except KeyRingError as err:
            raise KeyRingError(f"{MASTER_KEY_ENV}: {err}") from None

    @classmethod
    def load_file(cls, path: Path) -> KeyRing:
        """Read a ring file, refusing one that group or others may access."""
        try:
            with path.open("rb") as handle:
                _refuse_loose_mode(path, os.fstat(handle.fileno()).st_mode)
                text = handle.read()
        except FileNotFoundError:
            raise KeyRingError(
                f"key ring file {path} does not exist (run `crmledger init` to create it, "
                f"or set {MASTER_KEY_ENV})"
            ) from None
        try:
            return cls.from_json(text)
        except KeyRingError as err:
            raise KeyRingError(f"{path}: {err}") from None

    # -- serialisation ------------------------------------------------------------------

    def to_json(self) -> str:
        """The ring as the JSON document described in the module docstring."""
        state = self._state
        doc = {
            "format": FORMAT,
            "current": state.current,
            "keys": {str(v): _b64encode(state.keys[v]) for v in sorted(state.keys)},
            "index_key": _b64encode(state.index_key),
        }
        return json.dumps(doc, indent=2) + "\n"

    def to_env_value(self) -> str:
        """The value to put in ``CRMLEDGER_MASTER_KEY`` for this ring."""
        return base64.urlsafe_b64encode(self.to_json().encode("utf-8")).decode("ascii")

    def save_file(self, path: Path) -> None:
        """Write the ring to ``path`` atomically, readable by its owner only."""
        _write_private(path, self.to_json().encode("utf-8"), replace=True)

    # -- reading ------------------------------------------------------------------------

    @property
    def current(self) -> int:
        """The version new values are encrypted with."""
        return self._state.current

    @property
    def index_key(self) -> bytes:
        """The HMAC key of blind indexes (never rotated)."""
        return self._state.index_key

    def current_key(self) -> tuple[int, bytes]:
        """The current version and its key, read from one snapshot."""
        state = self._state
        return state.current, state.keys[state.current]

    def key(self, version: int) -> bytes | None:
        """The data key of ``version``, or ``None`` when it is not (or no longer) in the ring."""
        return self._state.keys.get(version)

    def versions(self) -> list[int]:
        """The versions in the ring, oldest first."""
        return sorted(self._state.keys)

    # -- changing -----------------------------------------------------------------------

    def rotate(self) -> int:
        """Add a new data key and make it current (in memory); returns its version."""
        self._state, version = self._state.rotated()
        return version

    def retire(self, version: int) -> None:
        """Drop ``version`` from the ring (in memory); the current version is refused."""
        self._state = self._state.retired(version)

    def __repr__(self) -> str:
        return f"KeyRing(versions={self.versions()}, current={self.current})"


class KeyRingStore:
    """A :class:`KeyRing` with the place it came from; implements ``KeyRingAdmin``.

    From a file (``path`` set) every change is written back before it takes effect, so the
    ring in memory never runs ahead of the file. From ``CRMLEDGER_MASTER_KEY`` (``path`` is
    ``None``) changes stay in memory: set the variable to :meth:`env_value` afterwards.
    """

    def __init__(self, ring: KeyRing, path: Path | None) -> None:
        self.ring = ring
        self.path = path

    @property
    def persistent(self) -> bool:
        """Whether :meth:`rotate` and :meth:`retire` are written to a file."""
        return self.path is not None

    def env_value(self) -> str:
        """The ``CRMLEDGER_MASTER_KEY`` value for the ring as it is now."""
        return self.ring.to_env_value()

    def versions(self) -> list[int]:
        """The versions in the ring, oldest first."""
        return self.ring.versions()

    def rotate(self) -> int:
        """Add a new current key, persist the ring, and return the new version."""
        state, version = self.ring._state.rotated()
        self._commit(state)
        return version

    def retire(self, version: int) -> None:
        """Remove ``version`` (never the current one) and persist the ring."""
        self._commit(self.ring._state.retired(version))

    def _commit(self, state: _RingState) -> None:
        if self.path is not None:
            candidate = KeyRing(state.keys, state.current, state.index_key)
            candidate.save_file(self.path)
        self.ring._state = state


def open_keyring(path: Path, env: Mapping[str, str]) -> KeyRingStore:
    """The ring from ``CRMLEDGER_MASTER_KEY`` when ``env`` sets it, else from ``path``."""
    value = env.get(MASTER_KEY_ENV)
    if value:
        return KeyRingStore(KeyRing.from_env_value(value), None)
    return KeyRingStore(KeyRing.load_file(path), path)


def create_keyring_file(path: Path) -> KeyRing:
    """Create a new ring file at ``path`` unless one exists; return the ring in the file.

    An existing file is kept untouched (a second ``crmledger init`` must never replace the
    keys that existing ciphertexts need). Creation is atomic and never overwrites a file that
    appeared in the meantime.
    """
    if path.exists():
        return KeyRing.load_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ring = KeyRing.generate()
    try:
        _write_private(path, ring.to_json().encode("utf-8"), replace=False)
    except FileExistsError:
        return KeyRing.load_file(path)
    return ring


def _refuse_loose_mode(path: Path, mode: int) -> None:
    # POSIX permission bits mean nothing on Windows, where ACLs govern access instead.
    if os.name != "nt" and mode & _OTHERS_BITS:
        raise KeyRingError(
            f"key ring file {path} has mode {stat.S_IMODE(mode):04o}; it must be readable by "
            f"its owner only (chmod 600 {path})"
        )


def _write_private(path: Path, data: bytes, *, replace: bool) -> None:
    """Write ``data`` to a fresh ``0o600`` temp file beside ``path``, then move it in place.

    ``replace=False`` links instead of renaming, which fails with ``FileExistsError`` rather
    than overwrite a file another process created first.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; directories cannot be opened this way on Windows.
    if os.name == "nt":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
