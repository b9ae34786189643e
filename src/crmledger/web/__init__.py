"""The web UI: server-rendered pages (Jinja2) with htmx where it helps, thin over services.

Pages call the book's services acting for the signed-in user, never the REST API; every
page also works without script, and nothing inline runs (the CSP forbids it)::

    root = FastAPI()
    install_web(root, book, secure=True)   # pages at /, assets at /static

Modules: :mod:`.session` (cookie, CSRF, who is signed in), :mod:`.render` (templates,
flash messages), :mod:`.errors` (login redirect, 403 and 404 pages), :mod:`.forms`
(posted values, service errors placed next to their inputs), and one module of routes per
area: :mod:`.pages_auth`, :mod:`.pages_ledger`, :mod:`.entry_form`, :mod:`.pages_reports`,
:mod:`.pages_admin`, the home dashboard :mod:`.pages_dashboard` (drawn by
:mod:`.dashboard_view`); the CRM's :mod:`.pages_customers`, :mod:`.customer_page`,
:mod:`.pages_contacts`, :mod:`.pages_interactions`, :mod:`.pages_deals`,
:mod:`.pages_products`, :mod:`.pages_quotes` and :mod:`.pages_orders` (their forms are read
by :mod:`.customer_form`, :mod:`.interaction_form`, :mod:`.deal_form`,
:mod:`.product_form` and :mod:`.quote_form`); billing's :mod:`.invoice_editor`,
:mod:`.invoice_page`, :mod:`.pages_invoices`, :mod:`.pages_payments`, :mod:`.pages_rates` and
:mod:`.pages_expenses` (forms read by :mod:`.invoice_form`, shown through
:mod:`.billing_view`).
"""

from __future__ import annotations

import secrets

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from crmledger.bootstrap import App
from crmledger.web import (
    customer_page,
    entry_form,
    invoice_editor,
    invoice_page,
    pages_admin,
    pages_aging,
    pages_auth,
    pages_contacts,
    pages_customers,
    pages_dashboard,
    pages_deals,
    pages_expenses,
    pages_fusion,
    pages_insights,
    pages_interactions,
    pages_invoices,
    pages_ledger,
    pages_orders,
    pages_party_statement,
    pages_payments,
    pages_products,
    pages_quotes,
    pages_rates,
    pages_reports,
    pages_sync,
)
from crmledger.web.errors import install_handlers
from crmledger.web.render import STATIC_DIR, STATIC_URL
from crmledger.web.session import WebState

__all__ = ["install_web"]
LEDGER_PAGES = (
    pages_auth,
    pages_dashboard,
    entry_form,
    pages_ledger,
    pages_reports,
    pages_aging,
    pages_admin,
)
#: The CRM's pages (customers first: ``/customers/new`` before ``/customers/{id}``).
CRM_PAGES = (
    pages_customers,
    customer_page,
    pages_contacts,
    pages_interactions,
    pages_deals,
    pages_products,
    pages_quotes,
    pages_orders,
    pages_party_statement,
    pages_insights,
    pages_fusion,
)

#: Billing's pages, ahead of the ledger's placeholders for the same sections.
BILLING_PAGES = (
    invoice_editor,
    invoice_page,
    pages_invoices,
    pages_payments,
    pages_rates,
    pages_expenses,
)


def install_web(root: FastAPI, book: App, *, secure: bool) -> None:
    """Add the web UI's routes, error pages and static files to ``root``."""
    root.state.web = WebState(book=book, secure=secure, flash_key=secrets.token_bytes(32))
    for module in (*BILLING_PAGES, pages_sync, *LEDGER_PAGES, *CRM_PAGES):
        root.include_router(module.router, include_in_schema=False)
    root.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")
    install_handlers(root)
