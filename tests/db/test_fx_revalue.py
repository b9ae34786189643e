"""Unrealised exchange revaluation on both databases: a dollar invoice and a dollar bill
revalued after the rate moves post the exact difference against the unrealised accounts
and its reversal the next day; a date is revalued once; a settlement afterwards still
clears the receivable to zero in the base currency; a currency without a rate is named."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crmledger.bootstrap import App
from crmledger.core.access import PermissionDeniedError, Principal, Role
from crmledger.core.entries import EntryState, JournalEntry
from crmledger.core.errors import InvalidFieldError
from crmledger.services.fx_revalue import UNREALISED_GAIN, UNREALISED_LOSS, AlreadyRevaluedError
from crmledger.services.invoicing import DocumentLine, NewDocument
from crmledger.services.ports import EntryQuery
from crmledger.services.settling import NewPayment
from crmledger.services.trail import Actor
from tests.db.test_billing import customer, invoice, pay

D = Decimal
RECEIVABLE = "Assets:Receivables:Customers"
PAYABLE = "Liabilities:Payables:Vendors"
END = date(2026, 6, 30)


def entries(app: App) -> list[JournalEntry]:
    return app.ledger.entries(EntryQuery(limit=1000))


def base_balance(app: App, account: str, party: int | None = None) -> Decimal:
    """Σ base-currency weights of ``account`` (of ``party``) over every entry."""
    return sum(
        (
            p.weight
            for e in entries(app)
            for p in e.postings
            if p.account == account and (party is None or p.party == str(party))
        ),
        D("0.00"),
    )


def lines(entry: JournalEntry) -> list[tuple[str, Decimal, str, str | None]]:
    return [(p.account, p.amount, p.commodity, p.party) for p in entry.postings]


def dollar_bill(app: App, vendor: int, on: date) -> int:
    line = DocumentLine(description="Hosting", unit_price=D("100.00"), account="Expenses:Office")
    draft = app.invoices.create(
        NewDocument(kind="bill", party_id=vendor, currency="USD", lines=[line], issued_on=on)
    )
    return int(app.invoices.issue(draft.id, draft.version).id)


def test_revaluation_posts_the_exact_difference_and_its_reversal(app: App) -> None:
    acme, vendor = customer(app), customer(app, "Cloud Inc")
    app.rates.set_rate("USD", date(2026, 6, 1), D("0.9"))
    issued = invoice(app, acme, "100.00", "USD", on=date(2026, 6, 1))  # 119 USD = 107.10 EUR
    dollar_bill(app, vendor, date(2026, 6, 2))  # 119 USD owed = 107.10 EUR
    invoice(app, acme, "10.00", "USD", on=date(2026, 7, 2))  # after the period end: left out
    app.rates.set_rate("USD", END, D("0.95"))  # 119 USD = 113.05 EUR

    done = app.revaluation.revalue(END)

    assert [(i.kind, i.booked_base, i.revalued_base, i.difference) for i in done.items] == [
        ("bill", D("107.10"), D("113.05"), D("-5.95")),
        ("invoice", D("107.10"), D("113.05"), D("5.95")),
    ]
    assert (done.gain, done.loss, done.net) == (D("5.95"), D("5.95"), D("0.00"))
    assert done.entry is not None
    assert done.reversal is not None
    posted, reversal = app.ledger.get(done.entry.id), app.ledger.get(done.reversal.id)
    assert (posted.journal, posted.reference, posted.date) == ("FX", "FXREV-2026-06-30", END)
    assert lines(posted) == [
        (RECEIVABLE, D("5.95"), "EUR", str(acme)),
        (PAYABLE, D("-5.95"), "EUR", str(vendor)),
        (UNREALISED_GAIN, D("-5.95"), "EUR", None),
        (UNREALISED_LOSS, D("5.95"), "EUR", None),
    ]
    assert reversal.date == date(2026, 7, 1)
    assert lines(reversal) == [(a, -x, c, p) for a, x, c, p in lines(posted)]
    assert (posted.state, posted.reversed_by) == (EntryState.REVERSED, reversal.id)
    assert reversal.reverses == posted.id
    # The documents keep their booked base values; the book is back at them after the
    # reversal, so only the period end saw the revalued amounts.
    assert app.invoices.get(issued.id).open_base == D("107.10")
    assert base_balance(app, RECEIVABLE, acme) == D("107.10") + D("10.71")  # and July's
    assert base_balance(app, UNREALISED_GAIN) == base_balance(app, UNREALISED_LOSS) == 0
    assert {a.name for a in app.ledger.accounts()} >= {UNREALISED_GAIN, UNREALISED_LOSS}
    assert app.audit.verify().ok


def test_a_date_is_revalued_once(app: App) -> None:
    acme = customer(app)
    app.rates.set_rate("USD", date(2026, 6, 1), D("0.9"))
    invoice(app, acme, "100.00", "USD", on=date(2026, 6, 1))
    app.rates.set_rate("USD", END, D("0.95"))
    app.revaluation.revalue(END)
    before = len(entries(app))
    with pytest.raises(AlreadyRevaluedError) as refused:
        app.revaluation.revalue(END)
    assert "2026-06-30" in str(refused.value)
    assert len(entries(app)) == before
    assert app.revaluation.revalue(date(2026, 7, 31)).entry is not None  # the next period


def test_settling_after_a_revaluation_leaves_the_receivable_at_zero(app: App) -> None:
    acme = customer(app)
    app.rates.set_rate("USD", date(2026, 6, 1), D("0.9"))
    issued = invoice(app, acme, "100.00", "USD", on=date(2026, 6, 1))
    app.rates.set_rate("USD", END, D("0.95"))
    app.revaluation.revalue(END)
    app.rates.set_rate("USD", date(2026, 7, 10), D("0.97"))
    pay(app, acme, "119.00", "USD", paid_on=date(2026, 7, 10))  # 115.43 EUR
    assert app.invoices.get(issued.id).status == "paid"
    assert base_balance(app, RECEIVABLE, acme) == 0
    # Realised in full against the booked 107.10; the unrealised part came and went.
    assert base_balance(app, "Income:FX:Gains") == D("-8.33")
    assert base_balance(app, UNREALISED_GAIN) == 0
    assert app.revaluation.revalue(date(2026, 7, 31)).items == ()


def test_unallocated_receipts_and_a_missing_rate(app: App) -> None:
    acme = customer(app)
    app.rates.set_rate("USD", date(2026, 6, 1), D("0.9"))
    app.payments.record(
        NewPayment(party_id=acme, amount=D("50.00"), currency="USD", paid_on=date(2026, 6, 3))
    )  # kept as credit: 45.00 EUR on the receivable
    app.payments.record(
        NewPayment(
            party_id=acme,
            amount=D("10.00"),
            currency="GBP",
            paid_on=date(2026, 6, 4),
            rate=D("1.17"),
        )
    )
    app.rates.set_rate("USD", END, D("0.8"))
    with pytest.raises(InvalidFieldError) as refused:
        app.revaluation.revalue(END)
    assert "GBP" in str(refused.value)
    assert not [e for e in entries(app) if e.journal == "FX"]
    app.rates.set_rate("GBP", END, D("1.17"))
    done = app.revaluation.revalue(END)
    # 50 USD of credit is now worth 40.00 EUR, not 45.00: the receivable's credit shrinks.
    assert [(i.kind, i.currency, i.difference) for i in done.items] == [
        ("receipt", "GBP", D("0.00")),
        ("receipt", "USD", D("5.00")),
    ]
    assert (done.gain, done.loss) == (D("5.00"), D("0.00"))


def test_nothing_open_posts_nothing_and_posting_needs_journal_post(app: App) -> None:
    done = app.revaluation.revalue(END)
    assert (done.items, done.entry, done.reversal) == ((), None, None)
    assert entries(app) == []
    sales = app.acting_as(Actor(Principal(user_id=9, label="s", role=Role.SALES)))
    with pytest.raises(PermissionDeniedError):
        sales.revaluation.revalue(END)
    with pytest.raises(InvalidFieldError):
        app.revaluation.revalue(date.max)
