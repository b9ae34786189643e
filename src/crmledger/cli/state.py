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

    def reset(self, settings: Settings) -> None:
        """Select another database (drops the services built for the previous one)."""
        self.settings = settings
        self.__dict__.pop("app", None)


state = State()
