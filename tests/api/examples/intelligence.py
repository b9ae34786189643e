"""Examples for customer intelligence.

Its operations only read: the customer 360 takes the ``{party_id}`` of
:mod:`tests.api.examples.parties`, and the reports' query parameters carry their own
examples in the OpenAPI document (``from``, ``to``, ``by``), which schemathesis sends in
its explicit phase. A 360 of a customer with a history is :func:`customer_with_history`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from crmledger.services.invoicing import DocumentLine, NewDocument
from crmledger.services.settling import NewPayment
from tests.api.examples.parties import organisation

BODIES: dict[str, Any] = {}
PATHS: dict[str, Any] = {}


def customer_with_history(api: Any) -> int:
    """An organisation with an issued invoice paid in part: every 360 section has data."""
    party = organisation(api)
    line = DocumentLine(description="Consulting", unit_price=Decimal("100.00"))
    draft = api.book.invoices.create(
        NewDocument(party_id=party, currency="EUR", lines=[line], issued_on=date(2026, 5, 4))
    )
    api.book.invoices.issue(draft.id, draft.version)
    api.book.payments.record(
        NewPayment(
            party_id=party, amount=Decimal("50.00"), currency="EUR", paid_on=date(2026, 6, 1)
        )
    )
    return party
