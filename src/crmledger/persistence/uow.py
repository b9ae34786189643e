"""The SQL unit of work: one connection, one transaction, committed only by the caller."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine

from crmledger.persistence.access_store import (
    SqlAccessStore,
    SqlIdempotencyStore,
    SqlSecretStore,
)
from crmledger.persistence.aging_reads import SqlAgingReads
from crmledger.persistence.audit_store import SqlAuditStore
from crmledger.persistence.billing_store import SqlBillingStore
from crmledger.persistence.commerce_store import SqlCommerceStore
from crmledger.persistence.dashboard_reads import SqlDashboardReads
from crmledger.persistence.deal_store import SqlDealStore
from crmledger.persistence.dunning_store import SqlDunningStore
from crmledger.persistence.expense_store import SqlExpenseStore, SqlRecurringBillStore
from crmledger.persistence.fusion_store import SqlFusionStore
from crmledger.persistence.integration_store import SqlIntegrationStore
from crmledger.persistence.intelligence_reads import SqlIntelligenceReads
from crmledger.persistence.interaction_store import SqlInteractionStore
from crmledger.persistence.ledger_store import ChartCache, SqlLedgerStore
from crmledger.persistence.party_merge_store import SqlPartyMergeStore
from crmledger.persistence.party_store import SqlPartyStore
from crmledger.persistence.satisfaction_store import SqlSatisfactionStore
from crmledger.persistence.statement_store import SqlStatementStore
from crmledger.persistence.sync_store import SqlSyncStore


class SqlUnitOfWork:
    """``with SqlUnitOfWork(engine) as uow: ...; uow.commit()``; no commit means rollback."""

    ledger: SqlLedgerStore
    access: SqlAccessStore
    audit: SqlAuditStore
    idempotency: SqlIdempotencyStore
    secrets: SqlSecretStore
    parties: SqlPartyStore
    deals: SqlDealStore
    satisfaction: SqlSatisfactionStore
    interactions: SqlInteractionStore
    commerce: SqlCommerceStore
    billing: SqlBillingStore
    dunning: SqlDunningStore
    fusion: SqlFusionStore
    statements: SqlStatementStore
    intelligence: SqlIntelligenceReads
    dashboard: SqlDashboardReads
    expenses: SqlExpenseStore
    recurring_bills: SqlRecurringBillStore
    integration: SqlIntegrationStore
    sync: SqlSyncStore
    aging: SqlAgingReads
    party_merges: SqlPartyMergeStore

    def __init__(
        self, engine: Engine, readonly: bool = False, cache: ChartCache | None = None
    ) -> None:
        self._engine = engine
        self._readonly = readonly
        self._cache = cache
        self._conn: Connection | None = None

    def __enter__(self) -> Self:
        conn = self._engine.connect()
        if self._readonly:
            # One snapshot for the whole read (a report or the verifier must not see a
            # posting land halfway); SQLite's deferred BEGIN in WAL mode already gives it.
            options: dict[str, object] = {"readonly": True}
            if conn.dialect.name == "postgresql":
                options |= {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
            conn = conn.execution_options(**options)
        conn.begin()
        self._conn = conn
        self.ledger = SqlLedgerStore(conn, self._cache)
        self.access = SqlAccessStore(conn)
        self.audit = SqlAuditStore(conn)
        self.idempotency = SqlIdempotencyStore(conn)
        self.secrets = SqlSecretStore(conn)
        self.parties = SqlPartyStore(conn)
        self.deals = SqlDealStore(conn)
        self.satisfaction = SqlSatisfactionStore(conn)
        self.interactions = SqlInteractionStore(conn)
        self.commerce = SqlCommerceStore(conn)
        self.billing = SqlBillingStore(conn)
        self.dunning = SqlDunningStore(conn)
        self.fusion = SqlFusionStore(conn)
        self.statements = SqlStatementStore(conn)
        self.intelligence = SqlIntelligenceReads(conn)
        self.dashboard = SqlDashboardReads(conn)
        self.expenses = SqlExpenseStore(conn)
        self.recurring_bills = SqlRecurringBillStore(conn)
        self.integration = SqlIntegrationStore(conn)
        self.sync = SqlSyncStore(conn)
        self.aging = SqlAgingReads(conn)
        self.party_merges = SqlPartyMergeStore(conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None
        try:
            if self._conn.in_transaction():
                self._conn.rollback()
        finally:
            self._conn.close()
            self._conn = None

    def commit(self) -> None:
        """Write what the stores hold back (audit records, outbox events) and make the
        transaction's writes durable."""
        assert self._conn is not None
        self.audit.flush()
        self.billing.flush()
        self._conn.commit()


class SqlUnitOfWorkFactory:
    """Opens :class:`SqlUnitOfWork` instances on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.cache = ChartCache()

    def __call__(self, readonly: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, readonly, self.cache)
