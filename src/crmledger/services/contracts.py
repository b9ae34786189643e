"""Recurring contracts: create, change the price from a date, end or cancel, list what is due.

The billing calendar and the price history are ``core.crm.contracts``'s rules; this module
checks what needs the book (the party and the product exist, the currency's scale) and stores
each use case in one transaction with its audit record::

    contracts = ContractService(uow, clock).acting_as(actor)
    support = contracts.create(Contract(party_id=7, description="Support", currency="EUR",
        frequency=Frequency.MONTHLY, start=date(2026, 1, 31), next_billing=date(2026, 1, 31),
        prices=(PriceChange(date(2026, 1, 31), Decimal("99.00")),)))
    contracts.change_price(support.id, date(2026, 7, 1), Decimal("109.00"), support.version)
    [(d.day, d.amount) for d in contracts.due(date(2026, 3, 31))]
    # [(2026-01-31, 99.00), (2026-02-28, 99.00), (2026-03-31, 99.00)]

:meth:`ContractService.due` lists the billing dates up to a day with the price on each; the
billing issue invoices them and moves each contract on with ``core.crm.contracts.advance``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from crmledger.core.crm.contracts import (
    Contract,
    ContractStatus,
    Frequency,
    PriceChange,
    advance,
    billing_date,
    cancel,
    change_price,
    due_billings,
    period_index,
    price_on,
    validate_contract,
)
from crmledger.core.errors import InvalidFieldError, TransitionError
from crmledger.core.money import from_minor
from crmledger.services.crm_ports import ContractQuery, ContractRow
from crmledger.services.errors import NotFoundError, VersionConflictError
from crmledger.services.party_guard import refuse_merged
from crmledger.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from crmledger.services.products import book_scales, minor_units, scale_of
from crmledger.services.trail import OPERATOR, Actor, record

DESCRIPTION_MAX = 2000
_PAGE = 500
_CHANGEABLE = frozenset({"description", "end", "status"})


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredContract(Contract):
    """A contract as stored, with the times it was created and last changed."""

    created_at: datetime
    updated_at: datetime

    @property
    def key(self) -> int:
        """The contract's id (always set on a stored contract)."""
        assert self.id is not None
        return self.id


@dataclass(frozen=True, slots=True)
class DueBilling:
    """One billing date of a contract that is due, with the price that applies on it."""

    contract: StoredContract
    day: date
    amount: Decimal


def _decode(row: ContractRow, scales: Mapping[str, int]) -> StoredContract:
    scale = scale_of(row.currency, scales)
    return StoredContract(
        id=row.id,
        party_id=row.party_id,
        product_id=row.product_id,
        description=row.description,
        currency=row.currency,
        frequency=Frequency(row.frequency),
        start=row.start,
        end=row.end,
        next_billing=row.next_billing,
        prices=tuple(PriceChange(d, from_minor(m, scale)) for d, m in row.prices),
        status=ContractStatus(row.status),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _encode(contract: StoredContract, scales: Mapping[str, int]) -> ContractRow:
    validate_contract(contract, scales)
    prices = tuple(
        (p.effective, minor_units(f"prices[{i}].amount", p.amount, contract.currency, scales))
        for i, p in enumerate(contract.prices)
    )
    return ContractRow(
        id=contract.id or 0,
        party_id=contract.party_id,
        product_id=contract.product_id,
        description=contract.description,
        currency=contract.currency,
        frequency=contract.frequency.value,
        start=contract.start,
        end=contract.end,
        next_billing=contract.next_billing,
        status=contract.status.value,
        version=contract.version,
        created_at=contract.created_at,
        updated_at=contract.updated_at,
        prices=prices,
    )


def audit_view(contract: Contract) -> dict[str, Any]:
    """The contract as the audit log records it."""
    return {
        "party_id": contract.party_id,
        "product_id": contract.product_id,
        "description": contract.description,
        "currency": contract.currency,
        "frequency": contract.frequency.value,
        "start": contract.start.isoformat(),
        "end": None if contract.end is None else contract.end.isoformat(),
        "next_billing": contract.next_billing.isoformat(),
        "status": contract.status.value,
        "prices": {p.effective.isoformat(): str(p.amount) for p in contract.prices},
    }


def _ended(contract: StoredContract) -> StoredContract:
    """``ended`` once the next billing date lies past the end (nothing is left to bill)."""
    if contract.end is not None and contract.next_billing > contract.end:
        return replace(contract, status=ContractStatus.ENDED)
    return contract


def _completed(uow: UnitOfWork, contract: Contract) -> Contract:
    """Fill in the description and the first price from the product, if there is one."""
    if contract.product_id is None:
        return contract
    product = uow.commerce.product(contract.product_id)
    if product is None:
        raise InvalidFieldError("product_id", f"no product {contract.product_id}")
    if not contract.description:
        contract = replace(contract, description=product.name)
    listed = dict(product.prices).get(contract.currency)
    if not contract.prices and listed is not None:
        scale = scale_of(contract.currency, book_scales(uow))
        contract = replace(
            contract, prices=(PriceChange(contract.start, from_minor(listed, scale)),)
        )
    return contract


def _check_new(uow: UnitOfWork, contract: Contract) -> None:
    if contract.status is not ContractStatus.ACTIVE:
        raise InvalidFieldError("status", "a new contract is active")
    if uow.parties.get(contract.party_id) is None:
        raise InvalidFieldError("party_id", f"no party {contract.party_id}")
    refuse_merged(uow.parties, [contract.party_id])
    if not contract.description.strip() or len(contract.description) > DESCRIPTION_MAX:
        raise InvalidFieldError("description", f"must be 1..{DESCRIPTION_MAX} characters")


def _last_billed(contract: Contract) -> date | None:
    index = period_index(contract.start, contract.next_billing, contract.frequency)
    if not index:
        return None
    return billing_date(contract.start, index - 1, contract.frequency)


def _changed(contract: StoredContract, changes: Mapping[str, Any]) -> StoredContract:
    if contract.status is not ContractStatus.ACTIVE:
        raise TransitionError(f"a {contract.status} contract cannot change")
    if "description" in changes:
        text = changes["description"]
        if not text.strip() or len(text) > DESCRIPTION_MAX:
            raise InvalidFieldError("description", f"must be 1..{DESCRIPTION_MAX} characters")
        contract = replace(contract, description=text)
    if "end" in changes:
        end, billed = changes["end"], _last_billed(contract)
        if end is not None and billed is not None and end < billed:
            raise InvalidFieldError("end", f"lies before the last billing date {billed}")
        contract = _ended(replace(contract, end=end))
    if "status" in changes:
        if changes["status"] != ContractStatus.CANCELLED:
            raise InvalidFieldError("status", "a contract can only be set to 'cancelled'")
        contract = replace(contract, status=cancel(contract).status)
    return contract


class ContractService:
    """The use cases on recurring contracts."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, actor: Actor = OPERATOR) -> None:
        self._uow = uow
        self._clock = clock
        self._actor = actor

    def acting_as(self, actor: Actor) -> ContractService:
        """The same service for another actor."""
        return ContractService(self._uow, self._clock, actor)

    def create(self, contract: Contract) -> StoredContract:
        """Check and store a new, active contract. Without a description or a price the
        product's name and its list price in the contract's currency are taken."""
        self._actor.require("sales", "write")
        at = self._clock.now()
        with self._uow() as uow:
            ready = _completed(uow, contract)
            _check_new(uow, ready)
            stored = StoredContract(
                **{f.name: getattr(ready, f.name) for f in fields(Contract) if f.name != "version"},
                version=1,
                created_at=at,
                updated_at=at,
            )
            stored = _ended(stored)
            row = _encode(stored, book_scales(uow))
            stored = _decode(replace(row, id=uow.commerce.insert_contract(row)), book_scales(uow))
            record(
                uow,
                self._actor,
                at,
                "contract.create",
                "contract",
                stored.id,
                None,
                audit_view(stored),
            )
            uow.commit()
        return stored

    def change_price(
        self, contract_id: int, effective: date, amount: Decimal, if_version: int | None
    ) -> StoredContract:
        """Bill ``amount`` per period from ``effective`` on (a date within the contract
        with no change yet)."""
        self._actor.require("sales", "write")
        at = self._clock.now()
        with self._uow() as uow:
            scales = book_scales(uow)
            before = self._load(uow, contract_id, if_version)
            billed = _last_billed(before)
            if billed is not None and effective <= billed:
                raise InvalidFieldError("effective", f"the contract was billed on {billed} already")
            minor_units("amount", amount, before.currency, scales)
            changed = change_price(before, effective, amount, scales)
            after = self._save(
                uow, before, replace(before, prices=changed.prices), "contract.price", at
            )
            uow.commit()
        return after

    def update(
        self, contract_id: int, changes: Mapping[str, Any], if_version: int | None
    ) -> StoredContract:
        """Change the ``description``, move the ``end`` (not before the last billing date)
        or set ``status`` to ``cancelled``."""
        self._actor.require("sales", "write")
        bad = sorted(set(changes) - _CHANGEABLE)
        if bad:
            raise InvalidFieldError(bad[0], "cannot be changed")
        at = self._clock.now()
        with self._uow() as uow:
            before = self._load(uow, contract_id, if_version)
            after = self._save(uow, before, _changed(before, changes), "contract.update", at)
            uow.commit()
        return after

    def _load(self, uow: UnitOfWork, contract_id: int, if_version: int | None) -> StoredContract:
        row = uow.commerce.contract(contract_id)
        if row is None:
            raise NotFoundError(f"no contract {contract_id}")
        if if_version is not None and row.version != if_version:
            raise VersionConflictError(f"contract {contract_id}", if_version, row.version)
        return _decode(row, book_scales(uow))

    def _save(
        self,
        uow: UnitOfWork,
        before: StoredContract,
        after: StoredContract,
        action: str,
        at: datetime,
    ) -> StoredContract:
        after = replace(after, version=before.version + 1, updated_at=at)
        row = _encode(after, book_scales(uow))
        after = _decode(row, book_scales(uow))
        if not uow.commerce.update_contract(row, before.version):
            raise VersionConflictError(f"contract {before.key}", before.version, after.version)
        record(
            uow,
            self._actor,
            at,
            action,
            "contract",
            before.key,
            audit_view(before),
            audit_view(after),
        )
        return after

    def get(self, contract_id: int) -> StoredContract:
        """One contract; :class:`NotFoundError` when there is none."""
        self._actor.require("sales", "read")
        with self._uow(readonly=True) as uow:
            return self._load(uow, contract_id, None)

    def due(self, through: date) -> list[DueBilling]:
        """Every billing date up to ``through`` (inclusive) of the active contracts, with
        the price on that date, by date then contract."""
        self._actor.require("sales", "read")
        found: list[DueBilling] = []
        with self._uow(readonly=True) as uow:
            scales = book_scales(uow)
            after: int | None = None
            while True:
                query = ContractQuery(limit=_PAGE, after=after, due_through=through)
                rows = uow.commerce.contract_page(query)
                for row in rows:
                    contract = _decode(row, scales)
                    found.extend(
                        DueBilling(contract, day, price_on(contract, day))
                        for day in due_billings(contract, through)
                    )
                if len(rows) < _PAGE:
                    break
                after = rows[-1].id
        return sorted(found, key=lambda d: (d.day, d.contract.key))

    def list(self, query: ContractQuery) -> list[StoredContract]:
        """A page of contracts, newest first (see :class:`ContractQuery`)."""
        self._actor.require("sales", "read")
        with self._uow(readonly=True) as uow:
            scales = book_scales(uow)
            return [_decode(r, scales) for r in uow.commerce.contract_page(query)]


def mark_billed(uow: UnitOfWork, contract_id: int, day: date, at: datetime) -> StoredContract:
    """Move the contract past its billing date ``day`` in ``uow``'s transaction (the billing
    run calls this in the transaction that issues the invoice, so both happen or neither)."""
    row = uow.commerce.contract(contract_id)
    if row is None:
        raise NotFoundError(f"no contract {contract_id}")
    before = _decode(row, book_scales(uow))
    moved = advance(before, day)
    after = replace(
        before,
        next_billing=moved.next_billing,
        status=moved.status,
        version=before.version + 1,
        updated_at=at,
    )
    if not uow.commerce.update_contract(_encode(after, book_scales(uow)), before.version):
        raise VersionConflictError(f"contract {contract_id}", before.version, after.version)
    return after
