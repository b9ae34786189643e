"""Wiring: builds the services from settings. Entry points (CLI, API) start here.

::

    app = build(Settings.load())
    app.ledger.post([...])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine

from crmledger.config import Settings
from crmledger.core.imports import ParsedFile
from crmledger.formats.beancount_format import read_beancount, write_beancount
from crmledger.formats.csv_entries import read_entries_csv, write_entries
from crmledger.formats.ledger_journal import read_ledger_file, write_ledger
from crmledger.persistence.engine import make_engine
from crmledger.persistence.uow import SqlUnitOfWorkFactory
from crmledger.services.audit import AuditService
from crmledger.services.exports import ExportService
from crmledger.services.imports import ImportService
from crmledger.services.ledger import LedgerService
from crmledger.services.ports import Clock
from crmledger.services.reports import ReportService


class SystemClock:
    """The real clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().date()


Reader = Callable[[Path, bool], ParsedFile]


def _read_csv(path: Path, strict: bool) -> ParsedFile:
    del strict
    return read_entries_csv(path)


def _read_ledger(path: Path, strict: bool) -> ParsedFile:
    # "Strict" means known to the book or declared in the file, which the import service
    # judges; the reader's own strict mode (declared in this very file) is for linting.
    del strict
    return read_ledger_file(path, stream=True)


def _read_beancount(path: Path, strict: bool) -> ParsedFile:
    del strict  # beancount's own loader decides what a file must declare
    return read_beancount(path)


READERS: dict[str, Reader] = {
    "entries": _read_csv,
    "ledger": _read_ledger,
    "beancount": _read_beancount,
}


Counter = Callable[[int], None] | None


def _write_ledger(out: TextIO, book: ExportService, progress: Counter) -> None:
    write_ledger(out, book.commodities(), book.accounts(), book.entries(progress))


def _write_beancount(out: TextIO, book: ExportService, progress: Counter) -> None:
    write_beancount(
        out, book.commodities(), book.accounts(), book.entries(progress), book.assertions()
    )


def _write_csv(out: TextIO, book: ExportService, progress: Counter) -> None:
    write_entries(out, book.entries(progress), book.scales())


WRITERS: dict[str, Callable[[TextIO, ExportService, Counter], None]] = {
    "entries": _write_csv,
    "ledger": _write_ledger,
    "beancount": _write_beancount,
}


@dataclass
class App:
    """The services of one book."""

    settings: Settings
    engine: Engine
    ledger: LedgerService
    reports: ReportService
    audit: AuditService
    imports: ImportService
    exports: ExportService
    readers: dict[str, Reader] = field(default_factory=lambda: dict(READERS))

    def export(self, kind: str, out: TextIO, progress: Callable[[int], None] | None = None) -> None:
        """Write the whole book in format ``kind`` to ``out``; ``progress`` gets the count
        of entries written so far, every 10,000."""
        WRITERS[kind](out, self.exports, progress)


def build(settings: Settings, clock: Clock | None = None) -> App:
    """Create the engine and services for ``settings`` (the schema must exist)."""
    engine = make_engine(settings.database_url)
    uow = SqlUnitOfWorkFactory(engine)
    clock = clock or SystemClock()
    return App(
        settings=settings,
        engine=engine,
        ledger=LedgerService(uow, clock),
        reports=ReportService(uow),
        audit=AuditService(uow),
        imports=ImportService(uow, clock),
        exports=ExportService(uow),
    )


def migrate(app: App) -> None:
    """Create or upgrade the schema (``crmledger init``)."""
    # Alembic is a third of the CLI's start-up time and only ``init`` needs it.
    from crmledger.persistence.migrate import upgrade  # noqa: PLC0415

    upgrade(app.engine)
