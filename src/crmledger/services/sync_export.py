"""The book's side of another book's reconciliation: every customer and every issued
invoice as the flat record reconciliation compares, in id order, a chunk at a time.

Customers are the parties as :func:`~crmledger.services.sync_records.party_record`
flattens them (with their external ids); invoices name their customer by the party's id,
which is the outside id the other book links it by::

    for chunk in invoice_chunks(uow, after=0):
        chunk[0]   # ExportedInvoice(id=7, record={"number": "INV-7", "customer": "12",
                   #   "currency": "EUR", "total": "119.00", "status": "paid", ...})

Each chunk is read in a read-only transaction of its own (by id, after the last one), so a
long export holds no transaction open and a reader may resume after the last id it got; a
record changed meanwhile is read as it is when its chunk is read, as when paging a list.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from crmledger.core.crm.parties import ExternalId, Party
from crmledger.core.money import format_minor
from crmledger.services.crm_ports import PartyQuery
from crmledger.services.integration_ports import IntegrationUnitOfWorkFactory
from crmledger.services.parties import PartyService
from crmledger.services.ports import Clock, FieldCipher
from crmledger.services.products import book_scales, scale_of
from crmledger.services.sync_ports import InvoiceTotal
from crmledger.services.sync_records import party_record

#: Parties per chunk (each is decrypted).
CUSTOMER_CHUNK = 1000
#: Invoices per chunk.
INVOICE_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class ExportedCustomer:
    """A party as another book's reconciliation compares it."""

    id: int
    updated_at: datetime
    external_ids: tuple[ExternalId, ...]
    record: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class ExportedInvoice:
    """An issued invoice as reconciliation compares it."""

    id: int
    record: Mapping[str, str]


def invoice_record(row: InvoiceTotal, customer: str, scales: Mapping[str, int]) -> dict[str, str]:
    """The compared fields of an issued invoice whose customer is known as ``customer``."""
    return {
        "number": row.number,
        "customer": customer,
        "currency": row.currency,
        "total": format_minor(row.gross_minor, scale_of(row.currency, scales)),
        "status": row.status,
        "issued_on": row.issued_on.isoformat() if row.issued_on else "",
    }


def customer_chunks(
    uow: IntegrationUnitOfWorkFactory, clock: Clock, cipher: FieldCipher, after: int = 0
) -> Iterator[list[ExportedCustomer]]:
    """Every party after the id ``after``, as customer records, a chunk at a time."""
    parties = PartyService(uow, clock, cipher)
    while True:
        page = parties.list(PartyQuery(limit=CUSTOMER_CHUNK, sort="id", after=(str(after), after)))
        if not page:
            return
        yield [_exported(p) for p in page]
        after = int(page[-1].id or 0)


def _exported(party: Party) -> ExportedCustomer:
    assert party.id is not None  # a stored party has both
    assert party.updated_at is not None
    return ExportedCustomer(party.id, party.updated_at, party.external_ids, party_record(party))


def invoice_chunks(
    uow: IntegrationUnitOfWorkFactory, after: int = 0
) -> Iterator[list[ExportedInvoice]]:
    """Every issued invoice (not a draft) after the id ``after``, a chunk at a time."""
    with uow(readonly=True) as book:
        scales = book_scales(book)
    while True:
        with uow(readonly=True) as book:
            rows = book.sync.invoices(after, INVOICE_CHUNK)
        if not rows:
            return
        yield [ExportedInvoice(r.id, invoice_record(r, str(r.party_id), scales)) for r in rows]
        after = rows[-1].id
