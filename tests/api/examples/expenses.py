"""Examples for expense claims and recurring bills.

Each claim example belongs to a new employee (a sales user of its own), so no role of the
matrix meets its own claim: the example is a submitted claim with one receipt, the state
approving and rejecting expect. ``{receipt_id}`` names the receipt of the claim made last.
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

from crmledger.core.access import Role
from crmledger.core.billing.expenses import ClaimLine
from crmledger.services.expenses import NewClaim, Upload
from crmledger.services.invoicing import DocumentLine
from crmledger.services.recurring_bills import NewSchedule
from tests.api.examples.parties import organisation

_n = itertools.count(1)
_last: dict[str, int] = {}
#: One transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def submitted_claim(api: Any) -> int:
    """A submitted claim of a new employee, with one PNG receipt."""
    user = api.book.access.add_user(
        f"claimant{next(_n)}@example.com", Role.SALES, "correct horse battery"
    )
    claim = api.book.expenses.create(
        NewClaim(
            description="Taxi to the airport",
            employee_id=user.id,
            lines=[ClaimLine("Expenses:Travel", Decimal("59.50"), "standard")],
        ),
        [Upload("taxi.png", PNG)],
    )
    _last["receipt"] = claim.receipts[0].id
    return int(api.book.expenses.submit(claim.id).id)


def last_receipt(api: Any) -> int:
    return _last.get("receipt") or api.book.expenses.get(submitted_claim(api)).receipts[0].id


def schedule(api: Any) -> int:
    rent = DocumentLine(description="Rent", unit_price=Decimal("900.00"), account="Expenses:Rent")
    made = api.book.recurring_bills.create(
        NewSchedule(
            party_id=organisation(api),
            frequency="monthly",
            starts_on=date(2026, 1, 1),
            lines=[rent],
        )
    )
    return int(made.id)


BODIES: dict[str, Any] = {
    "createExpense": lambda api: {
        "description": f"Train ticket {next(_n)}",
        "claimed_on": "2026-06-01",
        "lines": [{"account": "Expenses:Travel", "amount": "89.00", "tax_category": "standard"}],
    },
    "rejectExpense": lambda api: {"reason": "Not a business trip"},
    "reimburseExpense": lambda api: {"bank_account": "Assets:Bank:Checking"},
    "createRecurringBill": lambda api: {
        "party_id": organisation(api),
        "frequency": "quarterly",
        "starts_on": "2026-01-01",
        "lines": [{"description": "Insurance", "unit_price": "300.00", "account": "Expenses:Rent"}],
    },
}

PATHS: dict[str, Any] = {
    "{expense_id}": submitted_claim,
    "{receipt_id}": last_receipt,
    "{schedule_id}": schedule,
}
