"""``crmledger demo``: load a year of demo books into the book."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from crmledger.cli.render import console
from crmledger.cli.state import state
from crmledger.services.billing_demo import BillingServices, load_billing_demo
from crmledger.services.crm_demo import CrmServices, load_crm_demo
from crmledger.services.demo import load_demo


def demo(
    year: Annotated[int, typer.Option(help="The demo year.")] = 2026,
) -> None:
    """Load a year of demo books (invoices, payments, costs) and the CRM around them
    (customers and their people, interactions, complaints, deals, quotes, surveys)."""
    app = state.app
    books = load_demo(app.ledger, year)
    console.print(
        f"Loaded {books.entries} demo entries for {books.year}; "
        f"locked up to {books.locked_until.isoformat()}."
    )
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
        year,
    )
    console.print(
        f"Loaded {crm.parties} parties, {crm.interactions} interactions, {crm.deals} deals "
        f"and {crm.quotes} quotes."
    )
    billing = load_billing_demo(
        BillingServices(app.invoices, app.payments, app.rates, app.printer, app.parties),
        crm.customers,
        crm.products,
        year,
        datetime.now(UTC).date(),
    )
    console.print(
        f"Loaded {billing.invoices} invoices, {billing.payments} payments, "
        f"{billing.credit_notes} credit note(s) and {billing.bills} vendor bills."
    )
