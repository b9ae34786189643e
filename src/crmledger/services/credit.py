"""Credit limits: a customer's exposure may not pass the limit on the party record.

Exposure, in the base currency, is what the customer owes on issued invoices, less unapplied
credit, plus the gross of confirmed orders no invoice bills yet, plus the document at hand.
A user holding ``billing:override`` may go over the limit by saying so; the audit log records
every override::

    check_credit(uow, actor, draft_invoice, fx, at, override=False)   # CreditLimitError
"""

from __future__ import annotations

from datetime import date, datetime

from crmledger.core.billing.entries import FxRate
from crmledger.core.money import from_minor, to_minor
from crmledger.services.billing_common import base_currency, fx_on
from crmledger.services.billing_ports import BillingDocumentRow
from crmledger.services.errors import CreditLimitError
from crmledger.services.ports import UnitOfWork
from crmledger.services.products import book_scales, scale_of
from crmledger.services.trail import Actor, record


def exposure_minor(uow: UnitOfWork, party_id: int, today: date, exclude_order: int | None) -> int:
    """The party's exposure in minor units of the base currency (see the module docstring);
    the order ``exclude_order`` is left out (the document at hand bills it)."""
    base = base_currency(uow)
    base_scale = scale_of(base, book_scales(uow))
    owed = sum(
        s.open_base_minor for s in uow.billing.open_summary(party_id, today) if s.kind == "invoice"
    )
    credit = sum(base_minor for _, _, base_minor in uow.billing.unapplied(party_id))
    ordered = 0
    for currency, gross_minor in uow.billing.confirmed_unbilled(party_id, exclude_order):
        fx = fx_on(uow, currency, today)
        amount = from_minor(gross_minor, scale_of(currency, book_scales(uow)))
        ordered += to_minor(fx.to_base(amount), base_scale)
    return owed - credit + ordered


def check_credit(
    uow: UnitOfWork,
    actor: Actor,
    row: BillingDocumentRow,
    fx: FxRate,
    at: datetime,
    override: bool,
) -> None:
    """Refuse issuing ``row`` over the party's credit limit unless overridden."""
    party = uow.parties.get(row.party_id)
    if party is None or party.credit_limit_minor is None:
        return
    day = row.issued_on or at.date()
    limit_currency = party.currency or fx.base
    limit_fx = fx_on(uow, limit_currency, day)
    limit = to_minor(
        limit_fx.to_base(
            from_minor(party.credit_limit_minor, scale_of(limit_currency, book_scales(uow)))
        ),
        fx.base_scale,
    )
    document = to_minor(
        fx.to_base(from_minor(row.gross_minor, scale_of(row.currency, book_scales(uow)))),
        fx.base_scale,
    )
    exposure = exposure_minor(uow, row.party_id, day, row.order_id) + document
    if exposure <= limit:
        return
    over = from_minor(exposure - limit, fx.base_scale)
    if not (override and actor.principal.can("billing", "override")):
        raise CreditLimitError(
            f"party {row.party_id} would owe {over} {fx.base} more than its credit limit"
            + ("" if override else "; a user with billing:override may confirm it")
        )
    record(
        uow,
        actor,
        at,
        "credit_limit.override",
        "party",
        row.party_id,
        None,
        {"document": row.kind, "document_id": row.id, "over_minor": exposure - limit},
    )
