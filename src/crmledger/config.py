"""Settings from flags and the environment (``CRMLEDGER_DATABASE_URL``)."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///crmledger.db"


@dataclass(frozen=True, slots=True)
class Settings:
    """Where the book lives and how the server listens."""

    database_url: str = DEFAULT_DATABASE_URL

    @classmethod
    def load(cls, database_url: str | None = None) -> Settings:
        """Flag first, then ``CRMLEDGER_DATABASE_URL``, then ``sqlite:///crmledger.db``."""
        url = database_url or os.environ.get("CRMLEDGER_DATABASE_URL") or DEFAULT_DATABASE_URL
        return cls(database_url=url)
