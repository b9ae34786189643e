"""Both sides of a reconciliation, read once each.

Customers are compared by outside id: the outside records (normalised like any party,
their codes mapped) against the linked parties, field by field. Invoices are compared by
number: the outside invoices against the book's issued ones, their customer (as the
outside id of the party), currency, status and total, and the totals per currency. The
book's side is read in one read-only transaction, so it is one consistent state, and held;
the outside side streams past it once, never held whole. The outside side's first record
is asked for before the book is read, so a connector that reads ahead (the ``crmledger``
one does) lets the other system work meanwhile::

    verdict = reconcile_with(uow, clock, cipher, spec, connector_id, connector, "invoice")
    verdict.agree, verdict.totals   # {"EUR": (Decimal("1200.00"), Decimal("1200.00"))}
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from itertools import chain

from crmledger.core.crm.parties import Party, PartyKind
from crmledger.core.errors import LedgerError
from crmledger.core.integration.reconcile import Reconciliation, reconcile_stream
from crmledger.services.integration_ports import (
    IntegrationUnitOfWork,
    IntegrationUnitOfWorkFactory,
)
from crmledger.services.joined import JoinedUnitOfWork
from crmledger.services.parties import REGION_SETTING, PartyService
from crmledger.services.ports import Clock, FieldCipher
from crmledger.services.products import book_scales
from crmledger.services.sync_apply import CUSTOMER
from crmledger.services.sync_config import ConnectorSpec, coded
from crmledger.services.sync_export import invoice_record
from crmledger.services.sync_ports import Connector, RemoteChange
from crmledger.services.sync_records import normalised, party_record

Records = dict[str, Mapping[str, str]]
Stream = Iterator[tuple[str, Mapping[str, str]]]
CHUNK = 1000
#: Invoices read at once from the book.
INVOICE_CHUNK = 5000
_BLANK = Party(kind=PartyKind.ORGANISATION, display_name="")


def _remote_customers(
    spec: ConnectorSpec, changes: Iterable[RemoteChange], region: str | None, local: Records
) -> Stream:
    for change in changes:
        values = coded(spec, change.values)
        if local.get(change.external_id) == values:
            # Exactly as the book holds it, normalised: normalising again changes nothing
            # (and costs more than all the rest of the comparison).
            yield change.external_id, values
            continue
        try:
            yield change.external_id, normalised(_BLANK, values, region)
        except LedgerError:
            yield change.external_id, values  # compared as it is: it differs


def _remote_invoices(changes: Iterable[RemoteChange]) -> Stream:
    for change in changes:
        yield change.values.get("number") or change.external_id, change.values


def _local_customers(
    uow: IntegrationUnitOfWork, parties: PartyService, connector_id: int, fields: tuple[str, ...]
) -> Records:
    links = uow.sync.link_ids(connector_id, CUSTOMER)
    found: Records = {}
    for start in range(0, len(links), CHUNK):
        chunk = links[start : start + CHUNK]
        loaded = parties.many([local for _, local in chunk])
        for external, local in chunk:
            party = loaded.get(local)
            if party is not None:
                record = party_record(party)
                found[external] = {f: record[f] for f in fields}
    return found


def _local_invoices(uow: IntegrationUnitOfWork, connector_id: int) -> Records:
    scales = book_scales(uow)
    owners = uow.sync.account_ids(connector_id, CUSTOMER)
    found: Records = {}
    after = 0
    while rows := uow.sync.invoices(after, INVOICE_CHUNK):
        for row in rows:
            owner = owners.get(row.party_id) or f"party:{row.party_id}"
            found[row.number] = invoice_record(row, owner, scales)
        after = rows[-1].id
    return found


def reconcile_with(
    uow: IntegrationUnitOfWorkFactory,
    clock: Clock,
    cipher: FieldCipher,
    spec: ConnectorSpec,
    connector_id: int,
    connector: Connector,
    object_type: str,
) -> Reconciliation:
    """The verdict on ``object_type`` between the book and ``connector``."""
    mapped = tuple(spec.object(object_type).fields)
    changes = _started(connector.snapshot(object_type))
    with uow(readonly=True) as book:
        region = book.ledger.get_setting(REGION_SETTING)
        if object_type == CUSTOMER:
            parties = PartyService(JoinedUnitOfWork(book), clock, cipher)
            local = _local_customers(book, parties, connector_id, mapped)
        else:
            local = _local_invoices(book, connector_id)
    if object_type == CUSTOMER:
        remote = _remote_customers(spec, changes, region, local)
        return reconcile_stream(CUSTOMER, local, remote, mapped)
    compared = tuple(f for f in mapped if f not in ("total", "number"))
    remote = _remote_invoices(changes)
    return reconcile_stream(object_type, local, remote, compared, amount="total")


def _started(changes: Iterator[RemoteChange]) -> Iterator[RemoteChange]:
    """``changes`` with its first record read at once: the outside system starts answering
    before the book's side is read (a connector that reads ahead goes on meanwhile)."""
    first = next(changes, None)
    return changes if first is None else chain([first], changes)
