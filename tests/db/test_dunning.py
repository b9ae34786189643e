"""Dunning on both databases: an overdue invoice gets the first reminder, then the second
as days pass, never the same level twice nor two letters a day; each notice is a note on
the customer's timeline and an ``invoice.dunned`` event, its letter a PDF naming the invoice
and what is open; paying (or crediting) the invoice resolves the notes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import text

from crmledger.bootstrap import App
from crmledger.core.access import PermissionDeniedError, Principal, Role
from crmledger.core.billing.dunning import DunningLevel
from crmledger.core.errors import InvalidFieldError
from crmledger.services.crm_ports import InteractionQuery
from crmledger.services.errors import NotFoundError
from crmledger.services.trail import Actor
from tests.conftest import FixedClock
from tests.db.test_billing import D, customer, invoice, pay

JUNE_1 = date(2026, 6, 1)  # issued; due 14 days later, on 15 June


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


def dunned_events(app: App) -> list[str]:
    with app.engine.connect() as conn:
        sql = "SELECT payload FROM outbox_events WHERE type = 'invoice.dunned' ORDER BY id"
        return [str(p) for p in conn.execute(text(sql)).scalars()]


def notes(app: App, party: int) -> list[tuple[str, str, str]]:
    """(subject, status, resolution) of the party's notes, oldest first."""
    found = app.interactions.list(InteractionQuery(party_id=party, kind="note", sort="id"))
    return [(i.subject, i.status.value, i.resolution) for i in found]


def test_reminders_escalate_as_days_pass_and_never_repeat(app: App, clock: FixedClock) -> None:
    party = customer(app, payment_terms_days=14)
    inv = invoice(app, party, "100.00", on=JUNE_1)
    assert inv.due_on == date(2026, 6, 15)
    not_yet = invoice(app, party, "50.00", on=date(2026, 6, 20))  # due 4 July

    clock.current = at(date(2026, 6, 21))  # 6 days late: not yet
    assert app.dunning.plan() == []
    assert app.dunning.run() == []

    clock.current = at(date(2026, 6, 30))  # 15 days late
    [planned] = app.dunning.plan()
    assert (planned.id, planned.number, planned.level, planned.days_overdue) == (
        None,
        "INV-2026-0001",
        1,
        15,
    )
    assert (planned.open, planned.currency, planned.title) == (
        D("119.00"),
        "EUR",
        "Payment reminder",
    )
    assert app.dunning.notices() == []  # planning writes nothing

    [sent] = app.dunning.run()
    assert sent.id is not None
    assert sent.interaction_id is not None
    assert (sent.invoice_id, sent.level, sent.sent_on) == (inv.id, 1, date(2026, 6, 30))
    assert app.dunning.run() == []  # the same day: nothing twice
    assert app.dunning.plan() == []

    clock.current = at(date(2026, 7, 5))  # 20 days: level 2 not yet
    assert app.dunning.run() == []

    clock.current = at(date(2026, 7, 6))  # 21 days: the second reminder
    [second] = app.dunning.run()
    assert (second.number, second.level, second.days_overdue) == ("INV-2026-0001", 2, 21)
    assert app.dunning.run() == []

    assert [(n.level, n.sent_on) for n in app.dunning.notices(invoice_id=inv.id)] == [
        (1, date(2026, 6, 30)),
        (2, date(2026, 7, 6)),
    ]
    assert app.dunning.notices(invoice_id=not_yet.id) == []
    assert notes(app, party) == [
        ("Payment reminder 1 · INV-2026-0001", "open", ""),
        ("Payment reminder 2 · INV-2026-0001", "open", ""),
    ]
    events = dunned_events(app)
    assert len(events) == 2
    assert f'"id": {inv.id}' in events[0]
    assert '"level": 2' in events[1]
    assert app.audit.verify().ok


def test_a_long_overdue_invoice_gets_the_highest_level_due(app: App, clock: FixedClock) -> None:
    party = customer(app, payment_terms_days=14)
    invoice(app, party, on=JUNE_1)
    clock.current = at(date(2026, 8, 1))  # 47 days late, never reminded
    [notice] = app.dunning.run()
    assert (notice.level, notice.title) == (3, "Final notice")
    clock.current = at(date(2026, 12, 1))
    assert app.dunning.run() == []  # nothing after the final notice


def test_the_notice_is_on_the_customers_timeline(app: App, clock: FixedClock) -> None:
    party = customer(app, payment_terms_days=14, language="de")
    inv = invoice(app, party, on=JUNE_1)
    [notice] = app.dunning.run()
    assert notice.title == "Zahlungserinnerung"

    timeline = app.interactions.timeline(party, None, 50)
    [item] = [i for i in timeline if i.type == "interaction"]
    assert (item.id, item.subject, item.status) == (
        notice.interaction_id,
        "Payment reminder 1 · INV-2026-0001",
        "open",
    )
    assert (item.kind, item.channel, item.direction) == ("note", "letter", "outbound")
    assert notice.interaction_id is not None
    note = app.interactions.get(notice.interaction_id)
    assert note.invoice_id == inv.id
    assert note.occurred_at == clock.now()
    assert "Rechnung INV-2026-0001, fällig am 15.06.2026" in note.body
    assert "119,00 EUR, seit 15 Tagen überfällig" in note.body


def test_paying_the_invoice_resolves_its_notes(app: App, clock: FixedClock) -> None:
    party = customer(app, payment_terms_days=14)
    inv = invoice(app, party, on=JUNE_1)
    other = invoice(app, party, on=JUNE_1)
    clock.current = at(date(2026, 7, 1))
    assert [n.level for n in app.dunning.run()] == [1, 1]

    pay(app, party, "50.00", allocations=[])  # kept as credit: nothing settles
    pay(app, party, "119.00")  # oldest first: pays the first invoice in full
    assert app.invoices.get(inv.id).status == "paid"
    assert notes(app, party) == [
        ("Payment reminder 1 · INV-2026-0001", "resolved", "Paid"),
        ("Payment reminder 1 · INV-2026-0002", "open", ""),
    ]
    clock.current = at(date(2026, 7, 10))
    assert [n.number for n in app.dunning.plan()] == ["INV-2026-0002"]  # level 2 for it only
    assert app.invoices.get(other.id).status == "issued"
    assert app.audit.verify().ok


def test_partly_paid_stays_dunned_and_a_full_credit_resolves(app: App, clock: FixedClock) -> None:
    party = customer(app, payment_terms_days=14)
    inv = invoice(app, party, on=JUNE_1)
    app.dunning.run()
    pay(app, party, "19.00")
    assert app.invoices.get(inv.id).status == "partially_paid"
    assert notes(app, party)[0][1:] == ("open", "")
    clock.current = at(date(2026, 7, 6))
    [second] = app.dunning.run()
    assert second.open == D("100.00")  # what is still open

    app.invoices.credit(inv.id, None, reason="Goodwill")
    assert app.invoices.get(inv.id).status == "paid"  # 19.00 paid + the rest credited
    assert [n[1:] for n in notes(app, party)] == [("resolved", "Paid"), ("resolved", "Paid")]


def test_an_invoice_credited_in_full_resolves_as_credited(app: App) -> None:
    party = customer(app, payment_terms_days=14)
    inv = invoice(app, party, on=JUNE_1)
    app.dunning.run()
    app.invoices.credit(inv.id, None, reason="Wrong customer")
    assert app.invoices.get(inv.id).status == "void"
    assert [n[1:] for n in notes(app, party)] == [("resolved", "Credited")]
    assert app.dunning.plan(date(2026, 9, 1)) == []


def test_the_letter_names_the_invoice_and_what_is_open(app: App, clock: FixedClock) -> None:
    party = customer(app, payment_terms_days=14)
    invoice(app, party, "1000.00", on=JUNE_1)
    pay(app, party, "190.00")
    [notice] = app.dunning.run()
    assert notice.id is not None
    reader = PdfReader(BytesIO(app.dunning.letter(notice.id)))
    letter = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "Payment reminder INV-2026-0001-R1" in letter
    assert "Concerning invoice INV-2026-0001" in letter
    assert "1,000.00 EUR, now 15 days overdue" in letter
    assert "Amount due €1,000.00" in letter  # 1190.00 less 190.00 paid
    with pytest.raises(NotFoundError):
        app.dunning.letter(999)


def test_book_levels_replace_the_defaults(app: App, clock: FixedClock) -> None:
    party = customer(app, payment_terms_days=14)
    invoice(app, party, on=JUNE_1)
    early = DunningLevel(
        1, 3, {"en": "Friendly nudge"}, {"en": "Invoice $number: $open $currency."}
    )
    assert app.dunning.set_levels([early]) == (early,)
    assert app.dunning.levels() == (early,)
    clock.current = at(date(2026, 6, 18))
    [notice] = app.dunning.run()
    assert (notice.level, notice.title, notice.days_overdue) == (1, "Friendly nudge", 3)
    assert notice.interaction_id is not None
    assert app.interactions.get(notice.interaction_id).body == "Invoice INV-2026-0001: 119.00 EUR."
    with pytest.raises(InvalidFieldError) as refused:
        app.dunning.set_levels([DunningLevel(2, 3, {"en": "x"}, {"en": "y"})])
    assert refused.value.field == "dunning_levels[0].level"


def test_reading_may_plan_but_only_writing_may_run(app: App) -> None:
    party = customer(app, payment_terms_days=14)
    invoice(app, party, on=JUNE_1)
    viewer = app.acting_as(Actor(Principal(user_id=9, label="v", role=Role.VIEWER)))
    assert [n.level for n in viewer.dunning.plan()] == [1]
    with pytest.raises(PermissionDeniedError):
        viewer.dunning.run()
    assert app.dunning.notices() == []
