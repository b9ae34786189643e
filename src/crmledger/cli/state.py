"""Options shared by every command (set by the top-level callback)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from crmledger.bootstrap import App, build
from crmledger.config import Settings


@dataclass
class State:
    """The settings chosen by ``--db`` and the app built from them."""

    settings: Settings = field(default_factory=Settings.load)

    @cached_property
    def app(self) -> App:
        """The services for the selected database, built on first use."""
        return build(self.settings)

    def close(self) -> None:
        """Release the database (SQLite folds its write-ahead log back into the file)."""
        app = self.__dict__.pop("app", None)
        if app is not None:
            app.engine.dispose()

    def reset(self, settings: Settings) -> None:
        """Select another database (drops the services built for the previous one)."""
        self.close()
        self.settings = settings


state = State()
