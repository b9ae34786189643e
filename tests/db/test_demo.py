"""The demo books load cleanly and hold the ledger's invariants."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from crmledger.bootstrap import App
from crmledger.services.demo import load_demo


def test_demo_books_load_verify_and_lock_the_first_quarter(app: App) -> None:
    books = load_demo(app.ledger, 2026)
    assert books.entries == 111
    assert app.ledger.info().lock_date == date(2026, 3, 31)
    report = app.audit.verify()
    assert report.ok
    assert report.entries_checked == books.entries
    tb = app.reports.trial_balance()
    assert tb.residuals() == {}  # the dollar purchase shows as conversions, and adds up
    rows = {(r.account, r.commodity): r for r in tb.rows}
    assert rows[("Expenses:Rent", "EUR")].balance == Decimal("21600.00")  # the mistake reversed
    assert rows[("Expenses:Office", "EUR")].balance == Decimal("240.00")
    assert rows[("Equity:Capital", "EUR")].balance == Decimal("-50000.00")


def test_the_crm_demo_loads_through_the_services(app: App) -> None:
    from crmledger.core.crm.deals import StageKind
    from crmledger.services.crm_demo import CrmServices, load_crm_demo
    from crmledger.services.crm_ports import PartyQuery

    crm = load_crm_demo(
        CrmServices(
            app.parties,
            app.interactions,
            app.deals,
            app.products,
            app.sales,
            app.contracts,
            app.satisfaction,
        ),
        2026,
    )
    assert (crm.parties, crm.deals, crm.quotes) == (16, 8, 2)
    assert app.parties.count() == 16
    acme = app.parties.search("acme logistics")[0].party
    assert acme.phones[0].number == "+49403099990"
    assert [v.person.display_name for v in app.parties.contacts(organisation_id=acme.id)] == [
        "Greta Albers"
    ]
    queue = app.interactions.complaint_queue(limit=10)
    assert len(queue) == 2  # four complaints, two resolved
    board = app.deals.board("sales")
    counts = {c.stage.key: c.count for c in board.columns}
    # Eight deals: the accepted quote won Acme's; the rest wait in open stages.
    assert counts["won"] == 1
    assert sum(counts.values()) == 8
    assert sum(c.count for c in board.columns if c.stage.kind is StageKind.OPEN) == 7
    assert len(app.parties.list(PartyQuery(tag="enterprise"))) == 2


def test_the_billing_demo_balances_and_verifies(app: App) -> None:
    from datetime import date

    from crmledger.services.billing_demo import BillingServices, load_billing_demo
    from crmledger.services.crm_demo import CrmServices, load_crm_demo

    load_demo(app.ledger, 2026)
    crm = load_crm_demo(
        CrmServices(
            app.parties,
            app.interactions,
            app.deals,
            app.products,
            app.sales,
            app.contracts,
            app.satisfaction,
        ),
        2026,
    )
    billing = load_billing_demo(
        BillingServices(app.invoices, app.payments, app.rates, app.printer, app.parties),
        crm.customers,
        crm.products,
        2026,
        date(2026, 11, 20),
    )
    assert billing.invoices > 30
    assert billing.payments > 15
    assert billing.credit_notes == 1
    assert billing.bills == 8
    balances = [app.payments.balance(c) for c in crm.customers]
    assert any(b.overdue_base > 0 for b in balances)  # the customers who pay late or not
    assert any(b.average_days_to_pay is not None for b in balances)
    assert app.audit.verify().ok
