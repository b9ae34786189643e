"""Recurring vendor bills: rent, software, leases, entered once and billed on schedule.

A schedule names the vendor, the bill's lines (as a bill's: description, quantity, unit
price, tax category, expense account), how often it bills and from when to when. The
billing run (``crmledger billing run --date D``) enters and issues every bill due up to
``D``, each in its own transaction together with the run row that claims its schedule and
date, so a crash leaves no half-written bill and a run repeated, or running twice at once,
bills nothing twice::

    bills = RecurringBillService(uow, clock).acting_as(actor)
    bills.create(NewSchedule(party_id=9, frequency="monthly", starts_on=date(2026, 1, 1),
                             lines=[DocumentLine(description="Office rent",
                                                 unit_price=Decimal("1200.00"),
                                                 account="Expenses:Rent")]))
    bills.run(date(2026, 3, 31))     # three bills: January, February, March
    bills.run(date(2026, 3, 31))     # []
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from crmledger.core.billing.recurring import (
    BillSchedule,
    Frequency,
    ScheduleStatus,
    due_dates,
    ended_after,
    following,
    validate,
)
from crmledger.core.errors import InvalidFieldError, LedgerError
from crmledger.core.money import from_minor, to_minor
from crmledger.services.billing_common import base_currency, document_row
from crmledger.services.billing_views import BillingDoc, document_view
from crmledger.services.errors import NotFoundError
from crmledger.services.expense_ports import RecurringBillRow, RecurringLineRow
from crmledger.services.invoicing import DocumentLine, NewDocument
from crmledger.services.invoicing_batch import issue_documents
from crmledger.services.party_guard import refuse_merged
from crmledger.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from crmledger.services.products import book_scales, scale_of
from crmledger.services.sales import number_text, price_lines, rules_of
from crmledger.services.trail import OPERATOR, Actor, record

MAX_TEXT = 2000
#: Where a line without an account is booked (as on a bill).
DEFAULT_ACCOUNT = "Expenses:Office"
#: How the bulk path names the one bill of a run in a refusal.
_NAMED = "documents[0]"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewSchedule:
    """A recurring bill as entered; ``currency`` defaults to the base currency, each
    line's ``account`` to ``Expenses:Office``, its tax category to ``standard``."""

    party_id: int
    lines: Sequence[DocumentLine]
    frequency: Frequency | str
    starts_on: date
    ends_on: date | None = None
    currency: str | None = None
    reference: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class ScheduleLine:
    """A line every bill of the schedule carries."""

    position: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_category: str
    account: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RecurringBill:
    """A schedule; ``bills`` are ``(billing date, bill id)`` of what it has billed."""

    id: int
    party_id: int
    currency: str
    reference: str
    note: str
    frequency: str
    starts_on: date
    ends_on: date | None
    next_on: date
    status: str
    lines: tuple[ScheduleLine, ...]
    bills: tuple[tuple[date, int | None], ...]
    version: int
    created_at: datetime
    updated_at: datetime


def _frequency(value: Frequency | str) -> Frequency:
    try:
        return Frequency(value)
    except ValueError:
        known = ", ".join(f.value for f in Frequency)
        raise InvalidFieldError("frequency", f"{value!r} is not one of {known}") from None


def _schedule(row: RecurringBillRow) -> BillSchedule:
    return BillSchedule(
        frequency=Frequency(row.frequency),
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        next_on=row.next_on,
        status=ScheduleStatus(row.status),
    )


def _text(field: str, value: str, limit: int) -> str:
    if len(value) > limit:
        raise InvalidFieldError(field, f"has at most {limit} characters")
    return value


class RecurringBillService:
    """Schedules of vendor bills and the run that bills what is due."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, actor: Actor = OPERATOR) -> None:
        self._uow = uow
        self._clock = clock
        self._actor = actor

    def acting_as(self, actor: Actor) -> RecurringBillService:
        """The same service for another actor."""
        return RecurringBillService(self._uow, self._clock, actor)

    def _view(self, uow: UnitOfWork, row: RecurringBillRow) -> RecurringBill:
        scale = scale_of(row.currency, book_scales(uow))
        return RecurringBill(
            id=row.id,
            party_id=row.party_id,
            currency=row.currency,
            reference=row.reference,
            note=row.note,
            frequency=row.frequency,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            next_on=row.next_on,
            status=row.status,
            lines=tuple(
                ScheduleLine(
                    r.position,
                    r.description,
                    Decimal(r.quantity),
                    from_minor(r.unit_price_minor, scale),
                    r.tax_category,
                    r.account,
                )
                for r in row.lines
            ),
            bills=tuple(uow.recurring_bills.runs(row.id)),
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def get(self, schedule_id: int) -> RecurringBill:
        """One schedule with its lines and the bills it made."""
        self._actor.require("billing", "read")
        with self._uow(readonly=True) as uow:
            row = uow.recurring_bills.get(schedule_id)
            if row is None:
                raise NotFoundError(f"no recurring bill {schedule_id}")
            return self._view(uow, row)

    def page(self, limit: int, after: int | None = None) -> list[RecurringBill]:
        """Schedules newest first; ``after`` is the last id of the previous page."""
        self._actor.require("billing", "read")
        with self._uow(readonly=True) as uow:
            return [self._view(uow, r) for r in uow.recurring_bills.page(limit, after)]

    def create(self, new: NewSchedule) -> RecurringBill:
        """A new schedule; its first bill falls due on ``starts_on``. A bad line is refused
        naming its field (``lines[0].unit_price``)."""
        self._actor.require("billing", "write")
        schedule = validate(
            BillSchedule(
                frequency=_frequency(new.frequency),
                starts_on=new.starts_on,
                ends_on=new.ends_on,
                next_on=new.starts_on,
            )
        )
        at = self._clock.now()
        with self._uow() as uow:
            if uow.parties.get(new.party_id) is None:
                raise InvalidFieldError("party_id", f"no party {new.party_id}")
            refuse_merged(uow.parties, [new.party_id])
            currency = (new.currency or base_currency(uow)).strip().upper()
            row = RecurringBillRow(
                id=0,
                party_id=new.party_id,
                currency=currency,
                reference=_text("reference", new.reference.strip(), 100),
                note=_text("note", new.note, MAX_TEXT),
                frequency=schedule.frequency.value,
                starts_on=schedule.starts_on,
                ends_on=schedule.ends_on,
                next_on=schedule.next_on,
                status=schedule.status.value,
                version=1,
                created_at=at,
                updated_at=at,
                lines=_line_rows(uow, currency, new.lines, new.starts_on),
            )
            row = replace(row, id=uow.recurring_bills.insert(row))
            after = {
                "party_id": row.party_id,
                "frequency": row.frequency,
                "starts_on": row.starts_on.isoformat(),
                "ends_on": row.ends_on.isoformat() if row.ends_on else None,
            }
            record(
                uow, self._actor, at, "recurring_bill.create", "recurring_bill", row.id, None, after
            )
            view = self._view(uow, row)
            uow.commit()
        return view

    def run(self, through: date) -> list[BillingDoc]:
        """Enter and issue every bill due up to ``through`` that is not billed yet, one
        transaction each (see the module docstring); returns the bills issued."""
        self._actor.require("billing", "write")
        with self._uow(readonly=True) as uow:
            due = uow.recurring_bills.due(through)
        issued = []
        for row in due:
            for day in due_dates(_schedule(row), through):
                bill = self._bill(row, day)
                if bill is not None:
                    issued.append(bill)
        return issued

    def _bill(self, row: RecurringBillRow, day: date) -> BillingDoc | None:
        at, today = self._clock.now(), self._clock.today()
        with self._uow() as uow:
            if not uow.recurring_bills.claim_run(row.id, day, at):
                return None  # billed by another run
            bill_id = _issue(uow, self._actor, _bill_of(uow, row, day), at, today)
            bill = document_view(uow, document_row(uow, bill_id), today)
            uow.recurring_bills.set_run_document(row.id, day, bill.id)
            schedule = _schedule(row)
            status = ScheduleStatus.ENDED if ended_after(schedule, day) else ScheduleStatus.ACTIVE
            uow.recurring_bills.advance(row.id, following(schedule, day) or day, status.value, at)
            after = {"date": day.isoformat(), "bill_id": bill.id, "number": bill.number}
            record(
                uow, self._actor, at, "recurring_bill.run", "recurring_bill", row.id, None, after
            )
            uow.commit()
        return bill


def _issue(uow: UnitOfWork, actor: Actor, bill: NewDocument, at: datetime, today: date) -> int:
    """Enter and issue ``bill`` in ``uow`` (the run's transaction) through the billing
    service's bulk path; a refusal is raised as issuing one bill raises it, not as the
    bulk path names it (``documents[0].currency``)."""
    try:
        [bill_id] = issue_documents(uow, actor, [bill], at, today)
    except LedgerError as error:
        named = error.field.startswith(_NAMED) or str(error).startswith(_NAMED)
        if named and isinstance(error.__cause__, LedgerError):
            raise error.__cause__ from None
        raise
    return bill_id


def _bill_of(uow: UnitOfWork, row: RecurringBillRow, day: date) -> NewDocument:
    scale = scale_of(row.currency, book_scales(uow))
    lines = [
        DocumentLine(
            description=r.description,
            quantity=Decimal(r.quantity),
            unit_price=from_minor(r.unit_price_minor, scale),
            tax_category=r.tax_category,
            account=r.account,
        )
        for r in row.lines
    ]
    note = f"Recurring bill {row.id}, {day.isoformat()}" + (f": {row.note}" if row.note else "")
    return NewDocument(
        kind="bill",
        party_id=row.party_id,
        currency=row.currency,
        lines=lines,
        issued_on=day,
        reference=row.reference,
        note=note[:MAX_TEXT],
    )


def _line_rows(
    uow: UnitOfWork, currency: str, drafts: Sequence[DocumentLine], day: date
) -> tuple[RecurringLineRow, ...]:
    """The lines as stored, checked as a bill's lines are when it is entered."""
    if not drafts:
        raise InvalidFieldError("lines", "a recurring bill needs at least one line")
    if any(d.product_id is not None for d in drafts):
        raise InvalidFieldError("lines", "a recurring bill's lines name no product")
    rules = rules_of(uow.billing.tax_rates_on(day))
    priced = price_lines(uow, currency, drafts, rules)
    scale = scale_of(currency, book_scales(uow))
    chart = uow.ledger.accounts()
    rows = []
    for index, (draft, line) in enumerate(zip(drafts, priced.lines, strict=True)):
        account = draft.account or DEFAULT_ACCOUNT
        if account not in chart:
            raise InvalidFieldError(
                f"lines[{index}].account", f"the chart has no account {account}"
            )
        if line.discount:
            raise InvalidFieldError(f"lines[{index}].discount", "a recurring bill has none")
        rows.append(
            RecurringLineRow(
                position=index + 1,
                description=line.description,
                quantity=number_text(line.quantity),
                unit_price_minor=to_minor(line.unit_price, scale),
                tax_category=line.tax_category,
                account=account,
            )
        )
    return tuple(rows)
