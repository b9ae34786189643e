"""``/parties/{party_id}/balance``: what a party owes, is owed, and how it pays.

Per currency: open invoices, the overdue part, unapplied credit, and open bills; in the base
currency: what is due and overdue; and the average days the party took to pay::

    GET /api/v1/parties/7/balance
    →  {"currencies": [{"currency": "EUR", "invoiced_open": "59.50", "due": "49.00", ...}],
        "due_base": "49.00", "average_days_to_pay": "12.5", ...}
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from crmledger.api.deps import Services
from crmledger.api.payment_schemas import PartyBalancePublic
from crmledger.api.problems import requires, responses

router = APIRouter(prefix="/parties", tags=["parties"])
PartyId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get(
    "/{party_id}/balance",
    operation_id="partyBalance",
    # Also needs parties:read, which every role reading billing has.
    openapi_extra=requires("billing:read"),
    response_model=PartyBalancePublic,
    responses=responses(401, 403, 404, 422),
)
def party_balance(party_id: PartyId, services: Services) -> PartyBalancePublic:
    """The party's balance now."""
    balance = services.payments.balance(party_id)
    services.parties.get(party_id)  # an unknown party is a 404, not a zero balance
    return PartyBalancePublic.of(balance)
