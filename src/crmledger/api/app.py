"""The REST API under ``/api/v1``: one router per resource over the services.

Every operation but ``health`` and ``login`` needs ``Authorization: Bearer <token>``; the
services check the caller's role, so the API needs no permission logic of its own::

    api = create_api(build(Settings.load()))   # mounted at /api/v1 by crmledger.server
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import text

from crmledger import __version__
from crmledger.api import problems
from crmledger.api.deps import Services
from crmledger.api.middleware import BodyLimit, Idempotency
from crmledger.api.problems import requires, responses
from crmledger.api.routes import (
    access,
    accounts,
    aging,
    balances,
    bills,
    contacts,
    contracts,
    credit_notes,
    dashboard,
    deals,
    expenses,
    fusion,
    inbound,
    intelligence,
    interactions,
    invoices,
    journal,
    orders,
    parties,
    party_merges,
    party_statements,
    payments,
    pipelines,
    products,
    quotes,
    rates,
    recurring_bills,
    reports,
    satisfaction,
    search,
    statements,
    sync,
    sync_export,
    tax_report,
    timeline,
    webhooks,
)
from crmledger.api.schemas import HealthPublic, StatusPublic
from crmledger.bootstrap import App

DESCRIPTION = """\
The book's REST API. Conventions:

- errors are `application/problem+json` (RFC 9457) with a stable `type` and an `errors` list;
- lists take `limit` (at most 500) and `cursor`, and answer `next_cursor`;
- creates accept `Idempotency-Key`: the first response is replayed byte for byte;
- updates need `If-Match` with the resource's `ETag`;
- money is a decimal string, never a JSON number.
"""


def create_api(book: App) -> FastAPI:
    """The API application for one book (mount it at ``/api/v1``)."""
    api = FastAPI(
        title="crmledger",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    api.state.book = book
    problems.install(api)

    @api.get(
        "/health",
        operation_id="health",
        response_model=HealthPublic,
        tags=["system"],
        openapi_extra=requires("none"),
    )
    def health() -> HealthPublic:
        """Liveness: the database answers. Needs no authentication."""
        with book.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return HealthPublic(status="ok", version=__version__)

    @api.get(
        "/status",
        operation_id="status",
        openapi_extra=requires("accounts:read"),
        response_model=StatusPublic,
        responses=responses(401, 403),
        tags=["system"],
    )
    def status(services: Services) -> StatusPublic:
        """The book's base currency, lock date and size."""
        services.ledger.accounts_with_versions()  # the chart must be readable by the caller
        info = services.ledger.info()
        return StatusPublic(
            base_currency=info.base_currency,
            lock_date=info.lock_date,
            accounts=info.accounts,
            commodities=info.commodities,
        )

    for module in (
        accounts,
        journal,
        reports,
        access,
        parties,
        contacts,
        satisfaction,
        deals,
        pipelines,
        interactions,
        timeline,
        products,
        quotes,
        orders,
        contracts,
        invoices,
        credit_notes,
        bills,
        recurring_bills,
        payments,
        balances,
        rates,
        search,
        tax_report,
        statements,
        aging,
        party_statements,
        party_merges,
        intelligence,
        dashboard,
        expenses,
        fusion,
        webhooks,
        sync,
        sync_export,
        inbound,
    ):
        api.include_router(module.router)
    problems.document(api)
    api.add_middleware(Idempotency, book=lambda: book)
    api.add_middleware(BodyLimit, larger=expenses.UPLOAD_LIMITS)
    return api
