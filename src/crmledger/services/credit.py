"""Credit limits: a customer's exposure may not pass the limit on the party record.

Exposure, in the base currency, is what the customer owes on issued invoices, less unapplied
credit, plus the gross of confirmed orders no invoice bills yet, plus the document at hand.
A user holding ``billing:override`` may go over the limit by saying so; the audit log records
every override::

    check_credit(uow, actor, draft_invoice, fx, at, override=False)   # CreditLimitError
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

from crmledger.core.billing.entries import FxRate
from crmledger.core.money import from_minor, to_minor
from crmledger.services.billing_common import base_currency, fx_on
from crmledger.services.billing_ports import BillingDocumentRow
from crmledger.services.crm_ports import PartyRow
from crmledger.services.errors import CreditLimitError
from crmledger.services.ports import UnitOfWork
from crmledger.services.products import book_scales, scale_of
from crmledger.services.trail import Actor, record


def _ordered_base(uow: UnitOfWork, ordered: Sequence[tuple[str, int]], today: date) -> int:
    """Confirmed, unbilled orders' gross (per currency, minor) in minor base units."""
    if not ordered:
        return 0
    scales = book_scales(uow)
    base_scale = scale_of(base_currency(uow), scales)
    total = 0
    for currency, gross_minor in ordered:
        fx = fx_on(uow, currency, today)
        amount = from_minor(gross_minor, scale_of(currency, scales))
        total += to_minor(fx.to_base(amount), base_scale)
    return total


def exposure_minor(uow: UnitOfWork, party_id: int, today: date, exclude_order: int | None) -> int:
    """The party's exposure in minor units of the base currency (see the module docstring);
    the order ``exclude_order`` is left out (the document at hand bills it)."""
    owed = sum(
        s.open_base_minor for s in uow.billing.open_summary(party_id, today) if s.kind == "invoice"
    )
    credit = sum(base_minor for _, _, base_minor in uow.billing.unapplied(party_id))
    ordered = uow.billing.confirmed_unbilled(party_id, exclude_order)
    return owed - credit + _ordered_base(uow, ordered, today)


def exposures_minor(uow: UnitOfWork, party_ids: Sequence[int], today: date) -> dict[int, int]:
    """:func:`exposure_minor` of many parties at once (bulk paths), with no order left out."""
    return {
        party_id: parts.owed_base - parts.credit_base + _ordered_base(uow, parts.ordered, today)
        for party_id, parts in uow.billing.exposures(party_ids).items()
    }


def limit_minor(
    uow: UnitOfWork,
    party: PartyRow,
    day: date,
    fx: FxRate,
    rate: Callable[[str, date], FxRate] | None = None,
) -> int | None:
    """The party's credit limit in minor units of the base currency on ``day`` (None: no
    limit); a limit is kept in the party's currency (default the base currency), converted
    at ``rate`` (default the rate table's)."""
    if party.credit_limit_minor is None:
        return None
    limit_currency = party.currency or fx.base
    limit_fx = (rate or (lambda c, d: fx_on(uow, c, d)))(limit_currency, day)
    limit = from_minor(party.credit_limit_minor, scale_of(limit_currency, book_scales(uow)))
    return to_minor(limit_fx.to_base(limit), fx.base_scale)


def base_minor(uow: UnitOfWork, row: BillingDocumentRow, fx: FxRate) -> int:
    """The document's gross in minor units of the base currency at ``fx``."""
    gross = from_minor(row.gross_minor, scale_of(row.currency, book_scales(uow)))
    return to_minor(fx.to_base(gross), fx.base_scale)


def over_limit(
    uow: UnitOfWork,
    actor: Actor,
    row: BillingDocumentRow,
    over: int,
    fx: FxRate,
    at: datetime,
    override: bool,
) -> None:
    """``row`` takes its party ``over`` (minor, base) its limit: refuse, or record the
    override of a user allowed to give it."""
    if not (override and actor.principal.can("billing", "override")):
        raise CreditLimitError(
            f"party {row.party_id} would owe {from_minor(over, fx.base_scale)} {fx.base} more "
            "than its credit limit"
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
        {"document": row.kind, "document_id": row.id, "over_minor": over},
    )


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
    if party is None:
        return
    day = row.issued_on or at.date()
    limit = limit_minor(uow, party, day, fx)
    if limit is None:
        return
    exposure = exposure_minor(uow, row.party_id, day, row.order_id) + base_minor(uow, row, fx)
    if exposure > limit:
        over_limit(uow, actor, row, exposure - limit, fx, at, override)
