"""Examples for invoices, credit notes, bills, payments, balances and rates.

Each path example makes a fresh document, so every role meets it in the state the
operation expects: a draft to issue, an issued invoice to credit, a receipt with credit
left to allocate.
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

from crmledger.services.invoicing import DocumentLine, NewDocument
from crmledger.services.settling import NewPayment
from tests.api.examples.commerce import product
from tests.api.examples.parties import organisation

_n = itertools.count(1)


def draft_invoice(api: Any) -> int:
    line = DocumentLine(description="Consulting", unit_price=Decimal("100.00"))
    doc = api.book.invoices.create(
        NewDocument(party_id=organisation(api), currency="EUR", lines=[line])
    )
    return int(doc.id)


def _issued(api: Any) -> Any:
    draft = api.book.invoices.get(draft_invoice(api))
    return api.book.invoices.issue(draft.id, draft.version)


def credit_note(api: Any) -> int:
    note = api.book.invoices.credit(_issued(api).id, reason="example")
    return int(note.id)


def draft_bill(api: Any) -> int:
    line = DocumentLine(description="Paper", unit_price=Decimal("40.00"), account="Expenses:Office")
    doc = api.book.invoices.create(
        NewDocument(kind="bill", party_id=organisation(api), currency="EUR", lines=[line])
    )
    return int(doc.id)


def receipt(api: Any) -> int:
    """A receipt kept as credit, with an issued invoice of its party to allocate it to."""
    invoice = _issued(api)
    payment = api.book.payments.record(
        NewPayment(party_id=invoice.party_id, amount=Decimal("30.00"), currency="EUR"), []
    )
    return int(payment.id)


BODIES: dict[str, Any] = {
    "createInvoice": lambda api: {
        "party_id": organisation(api),
        "currency": "EUR",
        "lines": [
            {"product_id": product(api), "quantity": "2"},
            {"description": "Setup", "unit_price": "90.00", "account": "Income:Sales:Services"},
        ],
    },
    "updateInvoice": lambda api: {"prices_include_tax": True, "reference": "PO-1"},
    "issueInvoice": lambda api: {"override_credit_limit": False},
    "creditInvoice": lambda api: {"lines": [{"position": 1, "quantity": "1"}], "reason": "x"},
    "createBill": lambda api: {
        "party_id": organisation(api),
        "currency": "EUR",
        "reference": f"V-{next(_n)}",
        "lines": [{"description": "Paper", "unit_price": "40.00", "account": "Expenses:Office"}],
    },
    "updateBill": lambda api: {"due_on": None, "note": "checked"},
    "createPayment": lambda api: {
        "party_id": organisation(api),
        "amount": "25.00",
        "currency": "EUR",
        "method": "card",
    },
    "allocatePayment": lambda api: {},
    "setExchangeRate": lambda api: {
        "currency": "USD",
        "day": date(2026, 1, 1 + next(_n) % 28).isoformat(),
        "rate": "0.92",
    },
    "createTaxRate": lambda api: {
        "category": "standard",
        "valid_from": "2027-01-01",
        "rate": "0.2",
    },
}

PATHS: dict[str, Any] = {
    "{invoice_id}": draft_invoice,
    "{credit_note_id}": credit_note,
    "{bill_id}": draft_bill,
    "{payment_id}": receipt,
}
