"""Both sides of a reconciliation, read once each.

Customers are compared by outside id: the outside records (normalised like any party,
their codes mapped) against the linked parties, field by field. Invoices are compared by
number: the outside invoices against the book's issued ones, their customer (as the
outside id of the party), currency, status and total, and the totals per currency. The
book's side is read in one read-only transaction, so it is one consistent state::

    verdict = reconcile_with(uow, clock, cipher, spec, connector_id, connector, "invoice")
    verdict.agree, verdict.totals   # {"EUR": (Decimal("1200.00"), Decimal("1200.00"))}
"""

from __future__ import annotations

from collections.abc import Mapping

from crmledger.core.crm.parties import Party, PartyKind
from crmledger.core.errors import LedgerError
from crmledger.core.integration.reconcile import Reconciliation, reconcile
from crmledger.core.money import from_minor
from crmledger.services.integration_ports import (
    IntegrationUnitOfWork,
    IntegrationUnitOfWorkFactory,
)
from crmledger.services.joined import JoinedUnitOfWork
from crmledger.services.parties import REGION_SETTING, PartyService
from crmledger.services.ports import Clock, FieldCipher
from crmledger.services.products import book_scales, scale_of
from crmledger.services.sync_apply import CUSTOMER
from crmledger.services.sync_config import ConnectorSpec, coded
from crmledger.services.sync_ports import Connector
from crmledger.services.sync_records import normalised, party_record

Records = dict[str, Mapping[str, str]]
CHUNK = 1000
_BLANK = Party(kind=PartyKind.ORGANISATION, display_name="")


def _remote_customers(spec: ConnectorSpec, connector: Connector, region: str | None) -> Records:
    found: Records = {}
    for change in connector.snapshot(CUSTOMER):
        values = coded(spec, change.values)
        try:
            found[change.external_id] = normalised(_BLANK, values, region)
        except LedgerError:
            found[change.external_id] = values  # compared as it is: it differs
    return found


def _local_customers(
    uow: IntegrationUnitOfWork, parties: PartyService, connector_id: int, fields: tuple[str, ...]
) -> Records:
    links = list(uow.sync.all_links(connector_id, CUSTOMER))
    found: Records = {}
    for start in range(0, len(links), CHUNK):
        chunk = links[start : start + CHUNK]
        loaded = parties.many([link.local_id for link in chunk])
        for link in chunk:
            party = loaded.get(link.local_id)
            if party is not None:
                record = party_record(party)
                found[link.external_id] = {f: record[f] for f in fields}
    return found


def _local_invoices(uow: IntegrationUnitOfWork, connector_id: int) -> Records:
    scales = book_scales(uow)
    found: Records = {}
    after = 0
    while rows := uow.sync.invoices(after, CHUNK):
        owners = uow.sync.links_of_local(connector_id, CUSTOMER, [r.party_id for r in rows])
        for row in rows:
            owner = owners.get(row.party_id)
            found[row.number] = {
                "number": row.number,
                "customer": owner.external_id if owner else f"party:{row.party_id}",
                "currency": row.currency,
                "total": format(from_minor(row.gross_minor, scale_of(row.currency, scales)), "f"),
                "status": row.status,
                "issued_on": row.issued_on.isoformat() if row.issued_on else "",
            }
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
    with uow(readonly=True) as book:
        region = book.ledger.get_setting(REGION_SETTING)
        if object_type == CUSTOMER:
            parties = PartyService(JoinedUnitOfWork(book), clock, cipher)
            local = _local_customers(book, parties, connector_id, mapped)
        else:
            local = _local_invoices(book, connector_id)
    if object_type == CUSTOMER:
        remote = _remote_customers(spec, connector, region)
        return reconcile(CUSTOMER, local, remote, mapped)
    remote = {
        c.values.get("number") or c.external_id: c.values for c in connector.snapshot(object_type)
    }
    compared = tuple(f for f in mapped if f not in ("total", "number"))
    return reconcile(object_type, local, remote, compared, amount="total")
