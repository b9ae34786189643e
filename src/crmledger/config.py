"""Settings from flags and the environment.

- ``CRMLEDGER_DATABASE_URL``: the book (default ``sqlite:///crmledger.db``);
- ``CRMLEDGER_KEYRING``: the key ring file (default: beside an SQLite book as
  ``<file>.keys``, else ``crmledger.keys`` in the current folder);
- ``CRMLEDGER_MASTER_KEY``: the key ring itself, instead of a file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///crmledger.db"


def default_keyring(database_url: str) -> Path:
    """``<db file>.keys`` for an SQLite file, else ``crmledger.keys`` here."""
    prefix = "sqlite:///"
    if database_url.startswith(prefix) and ":memory:" not in database_url:
        return Path(database_url.removeprefix(prefix).split("?", 1)[0] + ".keys")
    return Path("crmledger.keys")


@dataclass(frozen=True, slots=True)
class Settings:
    """Where the book and its keys live."""

    database_url: str = DEFAULT_DATABASE_URL
    keyring_path: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def keyring(self) -> Path:
        """The key ring file (``CRMLEDGER_KEYRING``, or derived from the database URL)."""
        return self.keyring_path or default_keyring(self.database_url)

    @classmethod
    def load(cls, database_url: str | None = None) -> Settings:
        """Flag first, then ``CRMLEDGER_DATABASE_URL``, then ``sqlite:///crmledger.db``."""
        env = dict(os.environ)
        url = database_url or env.get("CRMLEDGER_DATABASE_URL") or DEFAULT_DATABASE_URL
        keyring = env.get("CRMLEDGER_KEYRING")
        return cls(url, Path(keyring) if keyring else None, env)
