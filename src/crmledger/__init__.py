"""crmledger: one book for customers and money.

The public API::

    from crmledger import Settings, build
    app = build(Settings.load("sqlite:///books.db"))
    app.ledger.post([JournalEntry(...)])

The names load on first use, so importing one part (``crmledger.fusion.join`` in a worker,
say) does not load the whole book.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from crmledger.bootstrap import App, build, migrate
    from crmledger.config import Settings
    from crmledger.core.accounts import Account, AccountType
    from crmledger.core.entries import Conversion, EntryState, JournalEntry, Posting
    from crmledger.core.money import Commodity

_HOMES = {
    "App": "crmledger.bootstrap",
    "build": "crmledger.bootstrap",
    "migrate": "crmledger.bootstrap",
    "Settings": "crmledger.config",
    "Account": "crmledger.core.accounts",
    "AccountType": "crmledger.core.accounts",
    "Conversion": "crmledger.core.entries",
    "EntryState": "crmledger.core.entries",
    "JournalEntry": "crmledger.core.entries",
    "Posting": "crmledger.core.entries",
    "Commodity": "crmledger.core.money",
}

__all__ = [
    "Account",
    "AccountType",
    "App",
    "Commodity",
    "Conversion",
    "EntryState",
    "JournalEntry",
    "Posting",
    "Settings",
    "__version__",
    "build",
    "migrate",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'crmledger' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
