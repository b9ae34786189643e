"""Wiring: builds the services from settings. Entry points (CLI, API) start here.

::

    app = build(Settings.load())
    app.ledger.post([...])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine

from crmledger.config import Settings
from crmledger.core.imports import ParsedFile
from crmledger.formats.beancount_format import read_beancount, write_beancount
from crmledger.formats.csv_entries import read_entries_csv, write_entries
from crmledger.formats.ledger_journal import read_ledger_file, write_ledger
from crmledger.formats.pdf_renderer import PdfRenderer
from crmledger.formats.statement_pdf import StatementPdfRenderer
from crmledger.fusion.sources import FILE_OPENERS, Opener
from crmledger.integration.bus import InProcessBus
from crmledger.integration.connectors import CONNECTORS
from crmledger.integration.connectors.ledger_file import LedgerFile
from crmledger.integration.webhook_sender import HttpWebhookSender
from crmledger.persistence.doorbell import doorbell
from crmledger.persistence.engine import make_engine
from crmledger.persistence.fusion_sql import open_sql
from crmledger.persistence.uow import SqlUnitOfWorkFactory
from crmledger.security import (
    AesGcmFieldCipher,
    Argon2PasswordHasher,
    KeyRingStore,
    create_keyring_file,
    open_keyring,
)
from crmledger.services.access import AccessService
from crmledger.services.aging_report import AgingReportService
from crmledger.services.audit import AuditService
from crmledger.services.billing_import import BillingImportService
from crmledger.services.billing_print import DocumentPrinter
from crmledger.services.contracts import ContractService
from crmledger.services.dashboard import DashboardService
from crmledger.services.deals import DealService
from crmledger.services.dunning import DunningService
from crmledger.services.expenses import ExpenseService
from crmledger.services.exports import ExportService
from crmledger.services.fusion import FusionService
from crmledger.services.fx_revalue import RevaluationService
from crmledger.services.idempotency import IdempotencyService
from crmledger.services.imports import ImportService
from crmledger.services.inbound import InboundService
from crmledger.services.integration_ports import EventBus
from crmledger.services.intelligence import CustomerIntelligenceService
from crmledger.services.interactions import InteractionService
from crmledger.services.invoicing import InvoiceService
from crmledger.services.keys import KeyService
from crmledger.services.ledger import LedgerService
from crmledger.services.parties import PartyService
from crmledger.services.party_merge import PartyMergeService
from crmledger.services.party_statement import PartyStatementService
from crmledger.services.ports import Clock, FieldContext, PasswordHasher
from crmledger.services.products import ProductService
from crmledger.services.rates import RateService
from crmledger.services.recurring_bills import RecurringBillService
from crmledger.services.relay import OutboxRelay
from crmledger.services.reports import ReportService
from crmledger.services.sales import SalesService
from crmledger.services.satisfaction import SatisfactionService
from crmledger.services.settling import PaymentService
from crmledger.services.statements import StatementService
from crmledger.services.sync import SyncService
from crmledger.services.tax_report import TaxReportService
from crmledger.services.trail import Actor
from crmledger.services.webhooks import WebhookService
from crmledger.services.worker import Worker


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


#: Fusion source kinds: files, and SQL databases through SQLAlchemy.
FUSION_OPENERS: dict[str, Opener] = {**FILE_OPENERS, "sql": open_sql}

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


def _ledger_file(uow: SqlUnitOfWorkFactory) -> LedgerFile:
    """The export connectors' writer: the whole book, read as the local operator."""
    book = ExportService(uow)
    return LedgerFile(lambda fmt, out: WRITERS[fmt](out, book, None))


class Keys:
    """The key ring, opened on first use (most commands never touch personal data, and
    ``crmledger init`` creates the ring before anything needs it); implements
    ``FieldCipher``, ``ReceiptCipher`` and ``KeyRingAdmin`` for the services."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._store: KeyRingStore | None = None
        self._cipher: AesGcmFieldCipher | None = None

    def create(self) -> Path | None:
        """Create the ring file unless the ring comes from the environment or exists."""
        if self._settings.env.get("CRMLEDGER_MASTER_KEY"):
            return None
        path = self._settings.keyring
        created = not path.exists()
        create_keyring_file(path)
        return path if created else None

    @property
    def store(self) -> KeyRingStore:
        """The opened ring."""
        if self._store is None:
            self._store = open_keyring(self._settings.keyring, self._settings.env)
            self._cipher = AesGcmFieldCipher(self._store.ring)
        return self._store

    @property
    def cipher(self) -> AesGcmFieldCipher:
        """The field cipher over the ring."""
        if self._cipher is None:
            self._cipher = AesGcmFieldCipher(self.store.ring)
        return self._cipher

    # FieldCipher
    def encrypt(self, plaintext: str, context: FieldContext) -> str:
        return self.cipher.encrypt(plaintext, context)

    def decrypt(self, stored: str, context: FieldContext) -> str:
        return self.cipher.decrypt(stored, context)

    def key_version(self, stored: str) -> int:
        return self.cipher.key_version(stored)

    def current_version(self) -> int:
        return self.cipher.current_version()

    def blind_index(self, value: str, table: str, column: str) -> str:
        return self.cipher.blind_index(value, table, column)

    def blind_indexer(self, table: str, column: str) -> Callable[[str], str]:
        return self.cipher.blind_indexer(table, column)

    # ReceiptCipher
    def encrypt_bytes(self, data: bytes, context: FieldContext) -> bytes:
        return self.cipher.encrypt_bytes(data, context)

    def decrypt_bytes(self, stored: bytes, context: FieldContext) -> bytes:
        return self.cipher.decrypt_bytes(stored, context)

    # KeyRingAdmin
    def versions(self) -> list[int]:
        return self.store.versions()

    def rotate(self) -> int:
        return self.store.rotate()

    def retire(self, version: int) -> None:
        self.store.retire(version)


@dataclass
class App:
    """The services of one book, acting for one actor (the local operator by default)."""

    settings: Settings
    engine: Engine
    ledger: LedgerService
    reports: ReportService
    audit: AuditService
    imports: ImportService
    exports: ExportService
    access: AccessService
    keys: KeyService
    idempotency: IdempotencyService
    keyring: Keys
    parties: PartyService
    products: ProductService
    sales: SalesService
    contracts: ContractService
    deals: DealService
    satisfaction: SatisfactionService
    interactions: InteractionService
    invoices: InvoiceService
    payments: PaymentService
    rates: RateService
    printer: DocumentPrinter
    billing_import: BillingImportService
    dunning: DunningService
    tax_report: TaxReportService
    revaluation: RevaluationService
    statements: StatementService
    intelligence: CustomerIntelligenceService
    dashboard: DashboardService
    expenses: ExpenseService
    recurring_bills: RecurringBillService
    fusion: FusionService
    webhooks: WebhookService
    sync: SyncService
    inbound: InboundService
    aging: AgingReportService
    party_statements: PartyStatementService
    party_merges: PartyMergeService
    readers: dict[str, Reader] = field(default_factory=lambda: dict(READERS))

    def acting_as(self, actor: Actor) -> App:
        """The same book's services, checking ``actor``'s permissions and recording it in
        the audit log."""
        return replace(
            self,
            ledger=self.ledger.acting_as(actor),
            reports=self.reports.acting_as(actor),
            audit=self.audit.acting_as(actor),
            imports=self.imports.acting_as(actor),
            exports=ExportService(self.exports.uow, actor),
            access=self.access.acting_as(actor),
            keys=self.keys.acting_as(actor),
            parties=self.parties.acting_as(actor),
            products=self.products.acting_as(actor),
            sales=self.sales.acting_as(actor),
            contracts=self.contracts.acting_as(actor),
            deals=self.deals.acting_as(actor),
            satisfaction=self.satisfaction.acting_as(actor),
            interactions=self.interactions.acting_as(actor),
            invoices=self.invoices.acting_as(actor),
            payments=self.payments.acting_as(actor),
            rates=self.rates.acting_as(actor),
            printer=self.printer.acting_as(actor, self.parties.acting_as(actor)),
            billing_import=self.billing_import.acting_as(actor),
            dunning=self.dunning.acting_as(actor, self.parties.acting_as(actor)),
            tax_report=self.tax_report.acting_as(actor),
            revaluation=self.revaluation.acting_as(actor),
            statements=self.statements.acting_as(actor),
            intelligence=self.intelligence.acting_as(actor),
            dashboard=self.dashboard.acting_as(actor),
            expenses=self.expenses.acting_as(actor),
            recurring_bills=self.recurring_bills.acting_as(actor),
            fusion=self.fusion.acting_as(actor),
            webhooks=self.webhooks.acting_as(actor),
            sync=self.sync.acting_as(actor),
            aging=self.aging.acting_as(actor),
            party_statements=self.party_statements.acting_as(actor, self.parties.acting_as(actor)),
            party_merges=self.party_merges.acting_as(actor),
        )

    def export(self, kind: str, out: TextIO, progress: Callable[[int], None] | None = None) -> None:
        """Write the whole book in format ``kind`` to ``out``; ``progress`` gets the count
        of entries written so far, every 10,000."""
        WRITERS[kind](out, self.exports, progress)


def build(
    settings: Settings, clock: Clock | None = None, hasher: PasswordHasher | None = None
) -> App:
    """Create the engine and services for ``settings`` (the schema must exist)."""
    engine = make_engine(settings.database_url)
    uow = SqlUnitOfWorkFactory(engine)
    clock = clock or SystemClock()
    keys = Keys(settings)
    parties = PartyService(uow, clock, keys)
    printer = DocumentPrinter(uow, clock, parties, PdfRenderer())
    return App(
        settings=settings,
        engine=engine,
        ledger=LedgerService(uow, clock),
        reports=ReportService(uow),
        audit=AuditService(uow),
        imports=ImportService(uow, clock),
        exports=ExportService(uow),
        access=AccessService(uow, clock, keys, hasher or Argon2PasswordHasher()),
        keys=KeyService(uow, clock, keys, keys),
        idempotency=IdempotencyService(uow, clock, keys),
        keyring=keys,
        parties=parties,
        products=ProductService(uow, clock),
        sales=SalesService(uow, clock),
        contracts=ContractService(uow, clock),
        deals=DealService(uow, clock),
        satisfaction=SatisfactionService(uow, clock),
        interactions=InteractionService(uow, clock),
        invoices=InvoiceService(uow, clock),
        payments=PaymentService(uow, clock),
        rates=RateService(uow, clock),
        printer=printer,
        billing_import=BillingImportService(uow, clock),
        dunning=DunningService(uow, clock, printer),
        tax_report=TaxReportService(uow, clock),
        revaluation=RevaluationService(uow, clock),
        statements=StatementService(uow, clock),
        intelligence=CustomerIntelligenceService(uow, clock, keys),
        dashboard=DashboardService(uow, clock, keys),
        expenses=ExpenseService(uow, clock, keys),
        recurring_bills=RecurringBillService(uow, clock),
        fusion=FusionService(uow, clock, keys, FUSION_OPENERS),
        webhooks=WebhookService(
            uow,
            clock,
            keys,
            HttpWebhookSender(_allow_private(settings)),
            allow_private=_allow_private(settings),
        ),
        sync=SyncService(uow, clock, keys, CONNECTORS, exporter=_ledger_file(uow)),
        inbound=InboundService(uow, clock, keys),
        aging=AgingReportService(uow, clock, keys),
        party_statements=PartyStatementService(
            uow, clock, parties, printer, StatementPdfRenderer()
        ),
        party_merges=PartyMergeService(uow, clock),
    )


def migrate(app: App) -> Path | None:
    """Create or upgrade the schema and create the key ring (``crmledger init``); returns
    the key ring file when this call created it."""
    # Alembic is a third of the CLI's start-up time and only ``init`` needs it.
    from crmledger.persistence.migrate import upgrade  # noqa: PLC0415

    upgrade(app.engine)
    return app.keyring.create()


def _allow_private(settings: Settings) -> bool:
    """``CRMLEDGER_WEBHOOKS_ALLOW_PRIVATE=1``: webhooks may target loopback and private
    addresses (local development only)."""
    return settings.env.get("CRMLEDGER_WEBHOOKS_ALLOW_PRIVATE", "") == "1"


def event_bus(settings: Settings, url: str | None = None) -> EventBus:
    """The bus ``url`` (else ``CRMLEDGER_EVENT_BUS``) names: ``nats://host:port`` for NATS
    JetStream (stream and subjects prefixed by ``CRMLEDGER_BUS_PREFIX``, redelivery after
    ``CRMLEDGER_BUS_ACK_WAIT`` seconds), else in-process."""
    chosen = url if url is not None else settings.env.get("CRMLEDGER_EVENT_BUS", "")
    if chosen.startswith(("nats://", "tls://")):
        # nats-py is loaded only by the processes that use it (the CLI starts faster).
        from crmledger.integration.nats_bus import NatsEventBus  # noqa: PLC0415

        prefix = settings.env.get("CRMLEDGER_BUS_PREFIX", "crmledger")
        ack_wait = float(settings.env.get("CRMLEDGER_BUS_ACK_WAIT", "30"))
        return NatsEventBus(chosen, prefix, ack_wait=ack_wait)
    return InProcessBus()


def worker(app: App, bus: EventBus, name: str, clock: Clock | None = None) -> Worker:
    """A worker relaying ``app``'s outbox to ``bus`` and doing what its subscribers queue;
    when idle it wakes as soon as a change commits (its doorbell holds a database
    connection of its own from its first pause until :meth:`Worker.close`)."""
    relay = OutboxRelay(SqlUnitOfWorkFactory(app.engine), clock or SystemClock(), bus, name)
    bus.subscribe("webhooks", app.webhooks.fan_out)
    bus.subscribe("sync", app.sync.queue_events)
    tasks = [app.webhooks.deliver_due, app.sync.push_queued, app.sync.run_due]
    return Worker(relay, bus, tasks, doorbell=doorbell(app.engine))
