"""Receivables and payables aging as of any day, reconciled with the control account.

The open items of that day (see :mod:`crmledger.core.aging`) are read in one read-only
unit of work, spread over buckets by days overdue and summed per party in the base
currency; the report carries the control account's balance on the same day, which its
total equals unless something other than documents and payments moved the account::

    aging = AgingReportService(uow, clock, cipher)
    report = aging.report("receivable", date(2026, 6, 30), "30,60,90")
    report.total == report.control          # Assets:Receivables:Customers that day
    report.parties[0].items                 # the open documents behind a party's row

Reading needs ``reports:read``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from crmledger.core.aging import (
    KINDS,
    AgingReport,
    Control,
    Scales,
    aging_report,
    open_on,
    parse_bounds,
)
from crmledger.core.errors import InvalidFieldError, UnknownAccountError
from crmledger.core.money import from_minor
from crmledger.services.aging_ports import AgingUnitOfWork, AgingUnitOfWorkFactory, ItemQuery
from crmledger.services.billing_common import ACCOUNTS, base_currency
from crmledger.services.errors import NotFoundError
from crmledger.services.party_codec import PartyCodec
from crmledger.services.ports import Clock, FieldCipher
from crmledger.services.statement_values import LedgerValues
from crmledger.services.trail import OPERATOR, Actor

#: The days a report may name (beyond them a date is a typo).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
_NAMES_CHUNK = 500


def check_day(field: str, day: date) -> date:
    """``day`` when it lies in the years 1900 to 2999."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidFieldError(field, "must lie in the years 1900 to 2999")
    return day


def check_kind(kind: str) -> str:
    """``receivable`` or ``payable``."""
    if kind not in KINDS:
        raise InvalidFieldError("kind", "is receivable or payable")
    return kind


def control_of(uow: AgingUnitOfWork, kind: str) -> tuple[str, int]:
    """The control account of ``kind`` and its id."""
    name = ACCOUNTS.receivable if kind == "receivable" else ACCOUNTS.payable
    found = uow.ledger.accounts().get(name)
    if found is None:
        raise UnknownAccountError(name)
    return name, found[0]


def party_names(uow: AgingUnitOfWork, codec: PartyCodec, ids: Iterable[int]) -> dict[int, str]:
    """Display names of the parties ``ids`` (a person's is decrypted)."""
    wanted = sorted(set(ids))
    names: dict[int, str] = {}
    for start in range(0, len(wanted), _NAMES_CHUNK):
        for row in uow.parties.many(wanted[start : start + _NAMES_CHUNK]):
            names[row.id] = row.name if row.name is not None else codec.decode(row).display_name
    return names


class AgingReportService:
    """AR and AP aging with buckets chosen by the reader."""

    def __init__(
        self,
        uow: AgingUnitOfWorkFactory,
        clock: Clock,
        cipher: FieldCipher,
        actor: Actor = OPERATOR,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._cipher = cipher
        self._codec = PartyCodec(cipher)
        self._actor = actor

    def acting_as(self, actor: Actor) -> AgingReportService:
        """The same service, for another actor."""
        return AgingReportService(self._uow, self._clock, self._cipher, actor)

    def report(
        self,
        kind: str = "receivable",
        as_of: date | None = None,
        buckets: str | Sequence[int] | None = None,
        party_id: int | None = None,
    ) -> AgingReport:
        """``receivable`` (invoices less unapplied credit) or ``payable`` (bills less
        payments not yet allocated) on ``as_of`` (today by default), by party, in buckets
        bounded by ``buckets`` days overdue (``"30,60,90"``); ``party_id`` keeps one."""
        self._actor.require("reports", "read")
        check_kind(kind)
        bounds = parse_bounds(buckets)
        day = check_day("as_of", as_of or self._clock.today())
        with self._uow(readonly=True) as uow:
            if party_id is not None and uow.parties.get(party_id) is None:
                raise NotFoundError(f"no party {party_id}")
            return self._read(uow, kind, day, bounds, party_id)

    def _read(
        self,
        uow: AgingUnitOfWork,
        kind: str,
        as_of: date,
        bounds: tuple[int, ...],
        party_id: int | None,
    ) -> AgingReport:
        base = base_currency(uow)
        scales = uow.ledger.scales()
        account, control_id = control_of(uow, kind)
        documents, paid = KINDS[kind]
        query = ItemQuery(control_id, base, documents, paid, party_id)
        items = uow.aging.open_items(query, as_of)
        parts = open_on(items, uow.aging.moves(items), as_of)
        balance = _balance(uow, query, account, as_of, scales[base])
        names = party_names(uow, self._codec, (p.item.party_id for p in parts))
        sign = 1 if kind == "receivable" else -1
        return aging_report(
            kind,
            as_of,
            bounds,
            parts,
            names,
            Scales(scales[base], scales),
            Control(account, sign * balance + from_minor(0, scales[base])),
            base,
        )


def _balance(
    uow: AgingUnitOfWork, query: ItemQuery, account: str, as_of: date, scale: int
) -> Decimal:
    """The control account's base balance on ``as_of`` (debit positive): the party's
    postings for one party, else the running balances the statements read."""
    if query.party_id is not None:
        minor = uow.aging.party_balance(query.control_id, query.party_id, as_of, query.base)
        return from_minor(minor, scale)
    values = LedgerValues(uow, query.base, as_of)
    balances, _ = values.valued(values.span(None, as_of), as_of)
    return balances.get(account, from_minor(0, scale))
