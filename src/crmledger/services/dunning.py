"""Dunning runs: who gets which reminder, the letters, and their place on the timeline.

::

    dunning = DunningService(uow, clock, printer).acting_as(actor, parties)
    dunning.plan(date(2026, 7, 1))    # [Notice(number="INV-2026-0001", level=1, days_overdue=16)]
    sent = dunning.run(date(2026, 7, 1))      # the same notices, now recorded
    dunning.run(date(2026, 7, 1))             # [] : a day's run sends nothing twice
    pdf = dunning.letter(sent[0].id)          # "Payment reminder INV-2026-0001-R1 ..."

Which level an invoice is due for is ``core.billing.dunning.level_due`` (the highest level
due that was not sent yet); levels come from the book setting ``dunning_levels`` (JSON, read
by ``levels_from_data``), else :data:`~crmledger.core.billing.dunning.DEFAULT_LEVELS`. A run
records every notice in one transaction: a ``dunning_notices`` row, an open note on the
customer's timeline (outbound letter, linked to the invoice, the letter as its body), an
audit record and an ``invoice.dunned`` outbox event. When the invoice is paid (or credited in
full), :func:`settle_dunning` resolves its open notes in the settling transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from crmledger.core.billing.dunning import (
    DEFAULT_LEVELS,
    DunningLevel,
    LetterValues,
    check_levels,
    letter_text,
    level_due,
    levels_from_data,
    levels_to_data,
)
from crmledger.core.billing.printable import Printable
from crmledger.core.crm.interactions import (
    Channel,
    Direction,
    Interaction,
    InteractionKind,
    Priority,
    Status,
    change_status,
    new_interaction,
)
from crmledger.core.errors import InvalidFieldError
from crmledger.core.money import from_minor
from crmledger.services.billing_common import emit
from crmledger.services.billing_print import DocumentPrinter, PartyReader
from crmledger.services.crm_ports import InteractionRow
from crmledger.services.dunning_ports import DunningNoticeRow, OverdueInvoiceRow
from crmledger.services.errors import ConflictError, NotFoundError
from crmledger.services.interactions import ID_MAX, audit_view
from crmledger.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from crmledger.services.products import book_scales, scale_of
from crmledger.services.trail import OPERATOR, Actor, record

LEVELS_SETTING = "dunning_levels"
#: What resolves an invoice's open dunning notes: the status it reaches and the resolution.
RESOLUTIONS = {"paid": "Paid", "void": "Credited"}
_FIELDS = tuple(f.name for f in fields(Interaction))
_ENUMS = {
    "kind": InteractionKind,
    "channel": Channel,
    "direction": Direction,
    "status": Status,
    "priority": Priority,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """A reminder for one invoice: planned (``id`` and ``interaction_id`` are ``None``) or
    sent on ``sent_on``; ``title`` is in the customer's language, ``open`` what the invoice
    had open then."""

    id: int | None
    invoice_id: int
    number: str
    party_id: int
    level: int
    title: str
    sent_on: date
    due_on: date
    days_overdue: int
    open: Decimal
    currency: str
    interaction_id: int | None


class _Due(NamedTuple):
    """A notice to send, with what sending it needs."""

    notice: Notice
    level: DunningLevel
    open_minor: int
    language: str | None


def subject(level: int, number: str) -> str:
    """The timeline subject of a notice: ``Payment reminder 2 · INV-2026-0007``."""
    return f"Payment reminder {level} · {number}"


def book_levels(uow: UnitOfWork) -> tuple[DunningLevel, ...]:
    """The levels of the book setting ``dunning_levels``, else the defaults."""
    stored = uow.ledger.get_setting(LEVELS_SETTING)
    if stored is None:
        return DEFAULT_LEVELS
    try:
        data = json.loads(stored)
    except json.JSONDecodeError:
        raise InvalidFieldError(LEVELS_SETTING, "the stored levels are not JSON") from None
    return levels_from_data(data)


def _level(levels: Sequence[DunningLevel], number: int) -> DunningLevel:
    """Level ``number`` as configured now; a level no longer configured prints as the
    default of that number, else as the highest configured."""
    for source in (levels, DEFAULT_LEVELS):
        for level in source:
            if level.level == number:
                return level
    return levels[-1]


class _Languages:
    """Parties' languages, each read once per transaction."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._seen: dict[int, str | None] = {}

    def __call__(self, party_id: int) -> str | None:
        if party_id not in self._seen:
            row = self._uow.parties.get(party_id)
            self._seen[party_id] = row.language if row is not None else None
        return self._seen[party_id]


def _notice(
    invoice: OverdueInvoiceRow, level: DunningLevel, today: date, scale: int, language: str | None
) -> Notice:
    return Notice(
        id=None,
        invoice_id=invoice.invoice_id,
        number=invoice.number,
        party_id=invoice.party_id,
        level=level.level,
        title=level.title_in(language),
        sent_on=today,
        due_on=invoice.due_on,
        days_overdue=(today - invoice.due_on).days,
        open=from_minor(invoice.open_minor, scale),
        currency=invoice.currency,
        interaction_id=None,
    )


def _due(uow: UnitOfWork, today: date) -> list[_Due]:
    """Every overdue invoice with the level it is due for on ``today``; none for an invoice
    that had a notice on ``today`` or later."""
    levels, scales, languages = book_levels(uow), book_scales(uow), _Languages(uow)
    found = []
    for invoice in uow.dunning.overdue(today):
        if invoice.last_sent_on is not None and invoice.last_sent_on >= today:
            continue
        level = level_due((today - invoice.due_on).days, invoice.last_level, levels)
        if level is None:
            continue
        language = languages(invoice.party_id)
        notice = _notice(invoice, level, today, scale_of(invoice.currency, scales), language)
        found.append(_Due(notice, level, invoice.open_minor, language))
    return found


def _interaction_row(item: Interaction, created_at: datetime, at: datetime) -> InteractionRow:
    values: dict[str, Any] = {name: getattr(item, name) for name in _FIELDS}
    values |= {name: values[name].value for name in _ENUMS}
    return InteractionRow(**values, created_at=created_at, updated_at=at)


def _interaction(row: InteractionRow) -> Interaction:
    values: dict[str, Any] = {name: getattr(row, name) for name in _FIELDS}
    values |= {name: enum(values[name]) for name, enum in _ENUMS.items()}
    return Interaction(**values)


def settle_dunning(
    uow: UnitOfWork, actor: Actor, invoice_id: int, status: str, at: datetime
) -> None:
    """Resolve the open dunning notes of ``invoice_id`` now that it is ``status``: "Paid"
    when paid, "Credited" when credited in full; any other status leaves them open. Runs
    in the caller's transaction (the one that settles the invoice)."""
    resolution = RESOLUTIONS.get(status)
    if resolution is None:
        return
    for row in uow.interactions.many(uow.dunning.interaction_ids([invoice_id])):
        if row.status not in (Status.OPEN, Status.IN_PROGRESS):
            continue
        before = _interaction(row)
        # Never before the note itself: a payment keyed in with a clock behind the run's
        # must still close the reminder, not fail the payment.
        when = max(at, before.occurred_at, before.first_response_at or at)
        after = change_status(before, Status.RESOLVED, when, resolution)
        after = replace(after, version=before.version + 1)
        if not uow.interactions.update(_interaction_row(after, row.created_at, at), row.version):
            raise ConflictError(f"interaction {row.id} changed meanwhile")
        record(
            uow,
            actor,
            at,
            "interaction.status",
            "interaction",
            row.id,
            audit_view(before),
            audit_view(after),
        )


def _sent(uow: UnitOfWork, rows: Sequence[DunningNoticeRow]) -> list[Notice]:
    """Stored notices with their invoice's number, due date and currency, and the title
    of their level in the customer's language."""
    levels, scales, languages = book_levels(uow), book_scales(uow), _Languages(uow)
    invoices = {d.id: d for d in uow.billing.documents(sorted({r.invoice_id for r in rows}))}
    notices = []
    for row in rows:
        invoice = invoices[row.invoice_id]
        assert invoice.number is not None
        assert invoice.due_on is not None
        notices.append(
            Notice(
                id=row.id,
                invoice_id=row.invoice_id,
                number=invoice.number,
                party_id=row.party_id,
                level=row.level,
                title=_level(levels, row.level).title_in(languages(row.party_id)),
                sent_on=row.sent_on,
                due_on=invoice.due_on,
                days_overdue=row.days_overdue,
                open=from_minor(row.open_minor, scale_of(invoice.currency, scales)),
                currency=invoice.currency,
                interaction_id=row.interaction_id,
            )
        )
    return notices


def _one(uow: UnitOfWork, notice_id: int) -> Notice:
    row = uow.dunning.notice(notice_id) if 1 <= notice_id <= ID_MAX else None
    if row is None:
        raise NotFoundError(f"no dunning notice {notice_id}")
    return _sent(uow, [row])[0]


class DunningService:
    """Plan and run dunning, print its letters, and keep its levels."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        printer: DocumentPrinter,
        actor: Actor = OPERATOR,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._printer = printer
        self._actor = actor

    def acting_as(self, actor: Actor, parties: PartyReader) -> DunningService:
        """The same service for another actor, reading parties (for letters) as that actor."""
        printer = self._printer.acting_as(actor, parties)
        return DunningService(self._uow, self._clock, printer, actor)

    # -- levels ----------------------------------------------------------------------------

    def levels(self) -> tuple[DunningLevel, ...]:
        """The levels in force (the book's, else the defaults)."""
        self._actor.require("billing", "read")
        with self._uow(readonly=True) as uow:
            return book_levels(uow)

    def set_levels(self, levels: Sequence[DunningLevel]) -> tuple[DunningLevel, ...]:
        """Store the book's levels (checked by ``check_levels``); later runs use them."""
        self._actor.require("billing", "write")
        checked = check_levels(levels)
        with self._uow() as uow:
            text = json.dumps(levels_to_data(checked), sort_keys=True, ensure_ascii=False)
            uow.ledger.set_setting(LEVELS_SETTING, text)
            after = {"levels": [(lv.level, lv.min_days_overdue) for lv in checked]}
            record(
                uow,
                self._actor,
                self._clock.now(),
                "dunning.levels",
                "settings",
                LEVELS_SETTING,
                None,
                after,
            )
            uow.commit()
        return checked

    # -- runs ------------------------------------------------------------------------------

    def plan(self, today: date | None = None) -> list[Notice]:
        """Who would get which notice on ``today`` (default: the clock's); writes nothing."""
        self._actor.require("billing", "read")
        with self._uow(readonly=True) as uow:
            return [due.notice for due in _due(uow, today or self._clock.today())]

    def run(self, today: date | None = None) -> list[Notice]:
        """Send what :meth:`plan` lists, all in one transaction; each level goes out once
        per invoice, and an invoice gets at most one notice a day."""
        self._actor.require("billing", "write")
        day, at = today or self._clock.today(), self._clock.now()
        with self._uow() as uow:
            sent = [self._send(uow, due, at) for due in _due(uow, day)]
            uow.commit()
        return sent

    def _send(self, uow: UnitOfWork, due: _Due, at: datetime) -> Notice:
        notice = due.notice
        values = LetterValues(
            notice.number, notice.due_on, notice.open, notice.currency, notice.days_overdue
        )
        item = new_interaction(
            Interaction(
                kind=InteractionKind.NOTE,
                party_id=notice.party_id,
                subject=subject(notice.level, notice.number),
                body=letter_text(due.level, values, due.language),
                channel=Channel.LETTER,
                direction=Direction.OUTBOUND,
                occurred_at=at,
                invoice_id=notice.invoice_id,
            )
        )
        [interaction_id] = uow.interactions.insert([_interaction_row(item, at, at)])
        record(
            uow,
            self._actor,
            at,
            "interaction.create",
            "interaction",
            interaction_id,
            None,
            audit_view(item),
        )
        row = DunningNoticeRow(
            id=0,
            invoice_id=notice.invoice_id,
            party_id=notice.party_id,
            level=notice.level,
            sent_on=notice.sent_on,
            days_overdue=notice.days_overdue,
            open_minor=due.open_minor,
            interaction_id=interaction_id,
            created_at=at,
        )
        notice_id = uow.dunning.insert(row)
        ids = {"notice_id": notice_id, "level": notice.level, "interaction_id": interaction_id}
        view = ids | {"days_overdue": notice.days_overdue, "open_minor": row.open_minor}
        record(uow, self._actor, at, "invoice.dunned", "invoice", notice.invoice_id, None, view)
        emit(
            uow,
            "invoice",
            notice.invoice_id,
            "invoice.dunned",
            at,
            party_id=notice.party_id,
            open_minor=row.open_minor,
            **ids,
        )
        return replace(notice, id=notice_id, interaction_id=interaction_id)

    # -- reads -----------------------------------------------------------------------------

    def notices(
        self, *, invoice_id: int | None = None, party_id: int | None = None
    ) -> list[Notice]:
        """Notices sent for one invoice or party (or all), oldest first."""
        self._actor.require("billing", "read")
        with self._uow(readonly=True) as uow:
            return _sent(uow, uow.dunning.notices(invoice_id=invoice_id, party_id=party_id))

    def notice(self, notice_id: int) -> Notice:
        """One notice sent."""
        self._actor.require("billing", "read")
        with self._uow(readonly=True) as uow:
            return _one(uow, notice_id)

    def letter_doc(self, notice_id: int) -> Printable:
        """Notice ``notice_id`` as a printable dunning letter: the invoice's customer and
        totals, what was open when it was sent, and the level's text in the customer's
        language."""
        self._actor.require("billing", "read")
        with self._uow(readonly=True) as uow:
            notice = _one(uow, notice_id)
            levels = book_levels(uow)
        invoice = self._printer.printable(notice.invoice_id)
        values = LetterValues(
            notice.number, notice.due_on, notice.open, notice.currency, notice.days_overdue
        )
        return replace(
            invoice,
            kind="dunning_letter",
            number=f"{notice.number}-R{notice.level}",
            issued_on=notice.sent_on,
            refers_to=notice.number,
            lines=(),
            taxes=(),
            paid=invoice.gross - notice.open,
            due=notice.open,
            note=letter_text(_level(levels, notice.level), values, invoice.language),
            payment_terms="",
        )

    def letter(self, notice_id: int) -> bytes:
        """Notice ``notice_id`` as a PDF letter."""
        return self._printer.render(self.letter_doc(notice_id))
