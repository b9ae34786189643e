"""crmledger: one book for customers and money.

The public API::

    from crmledger import Settings, build
    app = build(Settings.load("sqlite:///books.db"))
    app.ledger.post([JournalEntry(...)])
"""

__version__ = "0.1.0"

from crmledger.bootstrap import App, build, migrate
from crmledger.config import Settings
from crmledger.core.accounts import Account, AccountType
from crmledger.core.entries import Conversion, EntryState, JournalEntry, Posting
from crmledger.core.money import Commodity

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
