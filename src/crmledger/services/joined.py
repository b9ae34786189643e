"""An open unit of work handed to another service as its factory.

A use case that must write through other services and still commit once (a payment file
whose rows name the invoice they pay, a sync run applying parties) gives them its own unit
of work: whatever they read and write joins its transaction, and their ``commit`` waits for
the caller's own. Where a service offers a function that runs in the caller's unit of work
(``invoicing_batch.issue_documents``, ``settling_batch.record_payments``), call that
instead::

    with self._uow() as uow:
        payments = PaymentService(JoinedUnitOfWork(uow), clock, actor)
        payments.record(new, [Allocation(invoice_id, amount)])   # nothing committed yet
        uow.commit()                                             # the whole file, or none
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from crmledger.services.billing_ports import BillingStore
from crmledger.services.crm_ports import (
    CommerceStore,
    DealStore,
    InteractionStore,
    PartyStore,
    SatisfactionStore,
)
from crmledger.services.dunning_ports import DunningStore
from crmledger.services.expense_ports import ExpenseStore, RecurringBillStore
from crmledger.services.ports import (
    AccessStore,
    AuditStore,
    IdempotencyStore,
    LedgerStore,
    SecretStore,
    UnitOfWork,
)
from crmledger.services.statement_ports import StatementStore


class JoinedUnitOfWork:
    """``uow`` as a factory of itself whose ``commit`` does nothing (see the module)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._outer = uow

    def __call__(self, readonly: bool = False) -> Self:
        del readonly
        return self

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def commit(self) -> None:
        """Nothing yet: the caller commits once, when all of its work is written."""

    @property
    def ledger(self) -> LedgerStore:
        return self._outer.ledger

    @property
    def access(self) -> AccessStore:
        return self._outer.access

    @property
    def audit(self) -> AuditStore:
        return self._outer.audit

    @property
    def idempotency(self) -> IdempotencyStore:
        return self._outer.idempotency

    @property
    def secrets(self) -> SecretStore:
        return self._outer.secrets

    @property
    def parties(self) -> PartyStore:
        return self._outer.parties

    @property
    def deals(self) -> DealStore:
        return self._outer.deals

    @property
    def satisfaction(self) -> SatisfactionStore:
        return self._outer.satisfaction

    @property
    def interactions(self) -> InteractionStore:
        return self._outer.interactions

    @property
    def commerce(self) -> CommerceStore:
        return self._outer.commerce

    @property
    def billing(self) -> BillingStore:
        return self._outer.billing

    @property
    def dunning(self) -> DunningStore:
        return self._outer.dunning

    @property
    def statements(self) -> StatementStore:
        return self._outer.statements

    @property
    def expenses(self) -> ExpenseStore:
        return self._outer.expenses

    @property
    def recurring_bills(self) -> RecurringBillStore:
        return self._outer.recurring_bills
