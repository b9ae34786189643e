"""Quotes and sales orders: priced lines, stored totals, numbers and the status machines.

A line a user writes may leave out its description, unit price and tax category: they come
from the product, the price in the document's currency (a product without a price there
needs an explicit unit price). Totals are ``core.crm.documents.totals`` over the priced
lines, stored with the document line by line, so the document shows what was offered even
after a tax rate changes::

    sales = SalesService(uow, clock).acting_as(actor)
    quote = sales.create_quote(party_id=7, currency="EUR",
                               lines=[DraftLine(product_id=3, quantity=Decimal(2))])
    quote.number, quote.totals.gross          # ('Q-2026-0001', Decimal('23.56'))
    quote, order = sales.accept_quote(quote.id, if_version=quote.version)
    order.number, order.status                # ('SO-2026-0001', <OrderStatus.CONFIRMED ...>)

Accepting a quote creates its sales order (confirmed) in the same transaction, and wins the
quote's deal there too (``services.deals.win_deal``). Numbers are gapless per series and
year: ``Q-2026-0001``, ``SO-2026-0001``. Every refused transition changes nothing.

A document priced with ``prices_include_tax`` takes its unit prices as gross (the tax is
taken out of each line, see ``core.crm.documents``); an order keeps its quote's choice and
an invoice its order's. When an order's invoice is paid in full the order becomes ``paid``
(:func:`order_paid`, called by ``services.settling`` in the payment's transaction).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from crmledger.core.crm.documents import (
    CategoryTax,
    Line,
    LineTotal,
    OrderStatus,
    QuoteStatus,
    TaxBasis,
    TaxRule,
    Totals,
    accept_quote,
    order_transition,
    quote_transition,
    totals,
)
from crmledger.core.errors import InvalidFieldError, TransitionError
from crmledger.core.money import from_minor, to_minor
from crmledger.services.billing_common import emit
from crmledger.services.crm_ports import (
    DocumentQuery,
    LineRow,
    OrderRow,
    ProductRow,
    QuoteRow,
    TaxCategoryRow,
)
from crmledger.services.deals import win_deal
from crmledger.services.errors import ConflictError, NotFoundError, VersionConflictError
from crmledger.services.party_guard import refuse_merged
from crmledger.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from crmledger.services.products import MAX_MINOR, book_scales, minor_units, scale_of
from crmledger.services.trail import OPERATOR, Actor, record

#: Most lines a quote or order holds.
MAX_LINES = 500
DESCRIPTION_MAX = 2000
#: Largest quantity, and most decimal places of a discount (the core bounds the rest).
MAX_QUANTITY = Decimal(10) ** 12
DISCOUNT_PLACES = 6
_EDITABLE = frozenset({"lines", "valid_until", "deal_id", "prices_include_tax"})


@dataclass(frozen=True, slots=True)
class DraftLine:
    """A line as a user writes it; what is left out comes from the product."""

    product_id: int | None = None
    description: str | None = None
    quantity: Decimal = Decimal(1)
    unit_price: Decimal | None = None
    discount: Decimal = Decimal(0)
    tax_category: str | None = None


@dataclass(frozen=True, slots=True)
class Priced:
    """Lines with every value filled in, and what they add up to; ``prices_include_tax``:
    the unit prices were taken as gross."""

    currency: str
    lines: tuple[Line, ...]
    totals: Totals
    prices_include_tax: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SalesDocument:
    """What quotes and orders share: a numbered, priced document for a party."""

    id: int
    number: str
    party_id: int
    deal_id: int | None
    currency: str
    lines: tuple[Line, ...]
    totals: Totals
    version: int
    created_at: datetime
    updated_at: datetime
    prices_include_tax: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Quote(SalesDocument):
    """An offer; ``order_id`` names the order its acceptance created."""

    status: QuoteStatus
    valid_until: date | None
    issued_on: date
    sent_on: date | None
    decided_on: date | None
    order_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SalesOrder(SalesDocument):
    """An order to deliver; ``quote_id`` names the accepted quote it came from."""

    status: OrderStatus
    quote_id: int | None
    ordered_on: date
    confirmed_on: date | None
    fulfilled_on: date | None


# -- pricing --------------------------------------------------------------------------------


def number_text(value: Decimal) -> str:
    """Canonical decimal text: no exponent, no trailing zeros, no negative zero."""
    return format((value + 0).normalize(), "f")


def rules_of(rows: Iterable[TaxCategoryRow]) -> dict[str, TaxRule]:
    """Stored tax rates as rules, by category."""
    rules = {}
    for row in rows:
        per: TaxBasis = "document" if row.per == "document" else "line"
        rules[row.category] = TaxRule(Decimal(row.rate), per)
    return rules


def tax_rules(uow: UnitOfWork) -> dict[str, TaxRule]:
    """The tax rule of every category the book knows."""
    return rules_of(uow.commerce.tax_categories())


def _product(where: str, draft: DraftLine, products: Mapping[int, ProductRow]) -> ProductRow | None:
    if draft.product_id is None:
        return None
    product = products.get(draft.product_id)
    if product is None:
        raise InvalidFieldError(f"{where}.product_id", f"no product {draft.product_id}")
    if not product.active:
        raise InvalidFieldError(f"{where}.product_id", f"product {product.sku!r} is not sold")
    return product


def _price(
    where: str, draft: DraftLine, product: ProductRow | None, currency: str, scale: int
) -> Decimal:
    if draft.unit_price is not None:
        return draft.unit_price
    listed = dict(product.prices).get(currency) if product is not None else None
    if listed is None:
        reason = (
            f"product {product.sku!r} has no price in {currency}: give a unit price"
            if product is not None
            else "a line without a product needs a unit price"
        )
        raise InvalidFieldError(f"{where}.unit_price", reason)
    return from_minor(listed, scale)


def _check_draft(where: str, draft: DraftLine, description: str) -> None:
    if len(description) > DESCRIPTION_MAX:
        raise InvalidFieldError(f"{where}.description", f"is longer than {DESCRIPTION_MAX}")
    if draft.quantity.is_finite() and abs(draft.quantity) > MAX_QUANTITY:
        raise InvalidFieldError(f"{where}.quantity", f"a quantity is at most {MAX_QUANTITY:,}")
    exponent = draft.discount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > DISCOUNT_PLACES:
        raise InvalidFieldError(
            f"{where}.discount", f"a discount has at most {DISCOUNT_PLACES} decimal places"
        )


def _line(
    index: int,
    draft: DraftLine,
    products: Mapping[int, ProductRow],
    currency: str,
    scales: Mapping[str, int],
    scale: int,
) -> Line:
    where = f"lines[{index}]"
    product = _product(where, draft, products)
    price = _price(where, draft, product, currency, scale)
    minor_units(f"{where}.unit_price", price, currency, scales)
    description = draft.description or (product.name if product is not None else "")
    _check_draft(where, draft, description)
    category = draft.tax_category or (product.tax_category if product else "standard")
    return Line(draft.product_id, description, draft.quantity, price, draft.discount, category)


def price_lines(
    uow: UnitOfWork,
    currency: str,
    drafts: Sequence[DraftLine],
    rules: Mapping[str, TaxRule] | None = None,
    *,
    inclusive: bool = False,
) -> Priced:
    """Fill in ``drafts`` from their products and add them up under the tax ``rules``
    (default: each category's current rule), the unit prices taken as gross when
    ``inclusive``; errors name the line's field (``lines[2].quantity``)."""
    ids = sorted({d.product_id for d in drafts if d.product_id is not None})
    products = {r.id: r for r in uow.commerce.products(ids)}
    taxes = tax_rules(uow) if rules is None else rules
    return priced_with(products, book_scales(uow), currency, drafts, taxes, inclusive=inclusive)


def priced_with(
    products: Mapping[int, ProductRow],
    scales: Mapping[str, int],
    currency: str,
    drafts: Sequence[DraftLine],
    rules: Mapping[str, TaxRule],
    *,
    inclusive: bool = False,
) -> Priced:
    """:func:`price_lines` with the products, scales and tax rules already at hand (bulk
    paths read them once for many documents)."""
    scale = scale_of(currency, scales)
    if len(drafts) > MAX_LINES:
        raise InvalidFieldError("lines", f"a document has at most {MAX_LINES} lines")
    lines = tuple(
        _line(i, draft, products, currency, scales, scale) for i, draft in enumerate(drafts)
    )
    added = totals(lines, scale, rules, inclusive=inclusive)
    if abs(to_minor(added.gross, scale)) > MAX_MINOR:
        raise InvalidFieldError("lines", "the document's total is too large")
    return Priced(currency, lines, added, inclusive)


def stored_drafts(lines: Iterable[LineRow], scale: int) -> list[DraftLine]:
    """Stored lines as draft lines again, at their stored prices (to price them anew)."""
    return [
        DraftLine(
            product_id=r.product_id,
            description=r.description,
            quantity=Decimal(r.quantity),
            unit_price=from_minor(r.unit_price_minor, scale),
            discount=Decimal(r.discount),
            tax_category=r.tax_category,
        )
        for r in lines
    ]


def _line_rows(priced: Priced, uow: UnitOfWork) -> tuple[LineRow, ...]:
    scale = scale_of(priced.currency, book_scales(uow))
    rules = tax_rules(uow)
    return tuple(
        LineRow(
            position=i + 1,
            product_id=line.product_id,
            description=line.description,
            quantity=number_text(line.quantity),
            unit_price_minor=to_minor(line.unit_price, scale),
            discount=number_text(line.discount),
            tax_category=line.tax_category,
            tax_rate=number_text(rules[line.tax_category].rate),
            net_minor=to_minor(total.net, scale),
            tax_minor=to_minor(total.tax, scale),
        )
        for i, (line, total) in enumerate(zip(priced.lines, priced.totals.lines, strict=True))
    )


# -- rows and values ------------------------------------------------------------------------


def _totals(row: QuoteRow | OrderRow, scale: int) -> Totals:
    """The totals stored with a document (never recomputed: rates may have changed)."""
    by_category: dict[str, tuple[int, int]] = {}
    for line in row.lines:
        base, tax = by_category.get(line.tax_category, (0, 0))
        by_category[line.tax_category] = (base + line.net_minor, tax + line.tax_minor)
    return Totals(
        lines=tuple(
            LineTotal(from_minor(r.net_minor, scale), from_minor(r.tax_minor, scale))
            for r in row.lines
        ),
        net=from_minor(row.net_minor, scale),
        tax_by_category=tuple(
            CategoryTax(c, from_minor(b, scale), from_minor(t, scale))
            for c, (b, t) in sorted(by_category.items())
        ),
        tax=from_minor(row.tax_minor, scale),
        gross=from_minor(row.gross_minor, scale),
    )


def _common(row: QuoteRow | OrderRow, scales: Mapping[str, int]) -> dict[str, Any]:
    scale = scale_of(row.currency, scales)
    lines = tuple(
        Line(
            r.product_id,
            r.description,
            Decimal(r.quantity),
            from_minor(r.unit_price_minor, scale),
            Decimal(r.discount),
            r.tax_category,
        )
        for r in row.lines
    )
    return {
        "id": row.id,
        "number": row.number,
        "party_id": row.party_id,
        "deal_id": row.deal_id,
        "currency": row.currency,
        "lines": lines,
        "totals": _totals(row, scale),
        "version": row.version,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "prices_include_tax": row.prices_include_tax,
    }


def _quote(uow: UnitOfWork, row: QuoteRow) -> Quote:
    order_id = None
    if row.status == QuoteStatus.ACCEPTED:
        found = uow.commerce.order_page(DocumentQuery(limit=1, quote_id=row.id))
        order_id = found[0].id if found else None
    return Quote(
        **_common(row, book_scales(uow)),
        status=QuoteStatus(row.status),
        valid_until=row.valid_until,
        issued_on=row.issued_on,
        sent_on=row.sent_on,
        decided_on=row.decided_on,
        order_id=order_id,
    )


def _order(uow: UnitOfWork, row: OrderRow) -> SalesOrder:
    return SalesOrder(
        **_common(row, book_scales(uow)),
        status=OrderStatus(row.status),
        quote_id=row.quote_id,
        ordered_on=row.ordered_on,
        confirmed_on=row.confirmed_on,
        fulfilled_on=row.fulfilled_on,
    )


Document = TypeVar("Document", QuoteRow, OrderRow)


def _priced(row: Document, priced: Priced, uow: UnitOfWork) -> Document:
    """``row`` holding ``priced``'s lines and totals in minor units."""
    scale = scale_of(priced.currency, book_scales(uow))
    return replace(
        row,
        net_minor=to_minor(priced.totals.net, scale),
        tax_minor=to_minor(priced.totals.tax, scale),
        gross_minor=to_minor(priced.totals.gross, scale),
        lines=_line_rows(priced, uow),
        prices_include_tax=priced.prices_include_tax,
    )


def _view(row: QuoteRow | OrderRow) -> dict[str, Any]:
    return {
        "number": row.number,
        "party_id": row.party_id,
        "deal_id": row.deal_id,
        "currency": row.currency,
        "status": row.status,
        "lines": len(row.lines),
        "gross_minor": row.gross_minor,
        "prices_include_tax": row.prices_include_tax,
    }


# -- steps inside a unit of work ------------------------------------------------------------


def _check_party_and_deal(uow: UnitOfWork, party_id: int, deal_id: int | None) -> None:
    if uow.parties.get(party_id) is None:
        raise InvalidFieldError("party_id", f"no party {party_id}")
    refuse_merged(uow.parties, [party_id])
    if deal_id is None:
        return
    deal = uow.deals.deal(deal_id)
    if deal is None:
        raise InvalidFieldError("deal_id", f"no deal {deal_id}")
    if deal.party_id != party_id:
        raise InvalidFieldError("deal_id", f"deal {deal_id} is with another party")


def _load_quote(uow: UnitOfWork, quote_id: int, if_version: int | None) -> QuoteRow:
    row = uow.commerce.quote(quote_id)
    if row is None:
        raise NotFoundError(f"no quote {quote_id}")
    if if_version is not None and row.version != if_version:
        raise VersionConflictError(f"quote {quote_id}", if_version, row.version)
    return row


def _load_order(uow: UnitOfWork, order_id: int, if_version: int | None) -> OrderRow:
    row = uow.commerce.order(order_id)
    if row is None:
        raise NotFoundError(f"no order {order_id}")
    if if_version is not None and row.version != if_version:
        raise VersionConflictError(f"order {order_id}", if_version, row.version)
    return row


def _order_of_quote(uow: UnitOfWork, quote: QuoteRow, today: date, at: datetime) -> OrderRow:
    """The confirmed order an accepted quote becomes: its lines and totals as offered."""
    number = uow.commerce.next_number("order", today.year)
    row = OrderRow(
        id=0,
        number=f"SO-{today.year}-{number:04d}",
        party_id=quote.party_id,
        deal_id=quote.deal_id,
        quote_id=quote.id,
        currency=quote.currency,
        status=OrderStatus.CONFIRMED.value,
        ordered_on=today,
        confirmed_on=today,
        fulfilled_on=None,
        net_minor=quote.net_minor,
        tax_minor=quote.tax_minor,
        gross_minor=quote.gross_minor,
        version=1,
        created_at=at,
        updated_at=at,
        lines=quote.lines,
        prices_include_tax=quote.prices_include_tax,
    )
    return replace(row, id=uow.commerce.insert_order(row))


QuoteStep = Callable[[QuoteRow, date], QuoteRow]
OrderStep = Callable[[OrderRow, date], OrderRow]


def _to(target: QuoteStatus) -> QuoteStep:
    """A step moving a quote to ``target`` and dating the move."""

    def step(row: QuoteRow, today: date) -> QuoteRow:
        status = quote_transition(QuoteStatus(row.status), target)
        if target is QuoteStatus.SENT:
            return replace(row, status=status.value, sent_on=today)
        return replace(row, status=status.value, decided_on=today)

    return step


def _order_to(target: OrderStatus) -> OrderStep:
    """A step moving an order to ``target`` and dating the move."""

    def step(row: OrderRow, today: date) -> OrderRow:
        status = order_transition(OrderStatus(row.status), target)
        row = replace(row, status=status.value)
        if target is OrderStatus.CONFIRMED:
            return replace(row, confirmed_on=today)
        if target is OrderStatus.FULFILLED:
            return replace(row, fulfilled_on=today)
        return row

    return step


def order_paid(uow: UnitOfWork, actor: Actor, order_id: int, at: datetime) -> OrderRow | None:
    """Move ``order_id`` to ``paid`` in ``uow``'s transaction, its invoice being paid in
    full; ``None`` (and nothing changed) when there is no such order or it cannot be paid
    (cancelled, or paid already)."""
    before = uow.commerce.order(order_id)
    if before is None:
        return None
    try:
        status = order_transition(OrderStatus(before.status), OrderStatus.PAID)
    except TransitionError:
        return None
    after = replace(before, status=status.value, version=before.version + 1, updated_at=at)
    if not uow.commerce.update_order(after, before.version):
        raise ConflictError(f"order {order_id} changed meanwhile")
    changes = ({"status": before.status}, {"status": after.status})
    record(uow, actor, at, "order.pay", "order", order_id, *changes)
    return after


def _accept(row: QuoteRow, today: date) -> QuoteRow:
    status = accept_quote(QuoteStatus(row.status), row.valid_until, today)
    return replace(row, status=status.value, decided_on=today)


class SalesService:
    """The use cases on quotes and sales orders."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, actor: Actor = OPERATOR) -> None:
        self._uow = uow
        self._clock = clock
        self._actor = actor

    def acting_as(self, actor: Actor) -> SalesService:
        """The same service for another actor."""
        return SalesService(self._uow, self._clock, actor)

    def preview(
        self, currency: str, lines: Sequence[DraftLine], *, prices_include_tax: bool = False
    ) -> Priced:
        """Price and add up ``lines`` without storing anything (the editor's live totals);
        with ``prices_include_tax`` the unit prices are gross."""
        self._actor.require("sales", "read")
        with self._uow(readonly=True) as uow:
            return price_lines(uow, currency, lines, inclusive=prices_include_tax)

    # -- quotes ---------------------------------------------------------------------------

    def create_quote(
        self,
        party_id: int,
        currency: str,
        lines: Sequence[DraftLine],
        valid_until: date | None = None,
        deal_id: int | None = None,
        *,
        prices_include_tax: bool = False,
    ) -> Quote:
        """A draft quote numbered ``Q-<year>-<n>``, dated today; with ``prices_include_tax``
        its unit prices are gross."""
        self._actor.require("sales", "write")
        today, at = self._clock.today(), self._clock.now()
        if valid_until is not None and valid_until < today:
            raise InvalidFieldError("valid_until", "lies before the quote's date")
        with self._uow() as uow:
            _check_party_and_deal(uow, party_id, deal_id)
            priced = price_lines(uow, currency, lines, inclusive=prices_include_tax)
            number = uow.commerce.next_number("quote", today.year)
            row = QuoteRow(
                id=0,
                number=f"Q-{today.year}-{number:04d}",
                party_id=party_id,
                deal_id=deal_id,
                currency=currency,
                status=QuoteStatus.DRAFT.value,
                valid_until=valid_until,
                issued_on=today,
                sent_on=None,
                decided_on=None,
                net_minor=0,
                tax_minor=0,
                gross_minor=0,
                version=1,
                created_at=at,
                updated_at=at,
            )
            row = _priced(row, priced, uow)
            row = replace(row, id=uow.commerce.insert_quote(row))
            record(uow, self._actor, at, "quote.create", "quote", row.id, None, _view(row))
            quote = _quote(uow, row)
            uow.commit()
        return quote

    def update_quote(
        self, quote_id: int, changes: Mapping[str, Any], if_version: int | None
    ) -> Quote:
        """Change a draft's ``lines`` (as a whole), ``valid_until``, ``deal_id`` or
        ``prices_include_tax`` (its lines are priced anew)."""
        self._actor.require("sales", "write")
        bad = sorted(set(changes) - _EDITABLE)
        if bad:
            raise InvalidFieldError(bad[0], "cannot be changed")
        at = self._clock.now()
        with self._uow() as uow:
            before = _load_quote(uow, quote_id, if_version)
            if before.status != QuoteStatus.DRAFT:
                raise TransitionError(f"a {before.status} quote cannot be changed")
            after = self._edited(uow, before, changes)
            after = replace(after, version=before.version + 1, updated_at=at)
            if not uow.commerce.update_quote(after, before.version):
                raise VersionConflictError(f"quote {quote_id}", before.version, after.version)
            record(
                uow,
                self._actor,
                at,
                "quote.update",
                "quote",
                quote_id,
                _view(before),
                _view(after) | {"version": after.version},
            )
            quote = _quote(uow, after)
            uow.commit()
        return quote

    def _edited(self, uow: UnitOfWork, row: QuoteRow, changes: Mapping[str, Any]) -> QuoteRow:
        valid_until = changes.get("valid_until", row.valid_until)
        if valid_until is not None and valid_until < row.issued_on:
            raise InvalidFieldError("valid_until", "lies before the quote's date")
        deal_id = changes.get("deal_id", row.deal_id)
        _check_party_and_deal(uow, row.party_id, deal_id)
        row = replace(row, valid_until=valid_until, deal_id=deal_id)
        if "lines" not in changes and "prices_include_tax" not in changes:
            return row
        inclusive = changes.get("prices_include_tax", row.prices_include_tax)
        if not isinstance(inclusive, bool):
            raise InvalidFieldError("prices_include_tax", "is true or false")
        scale = scale_of(row.currency, book_scales(uow))
        lines = changes["lines"] if "lines" in changes else stored_drafts(row.lines, scale)
        return _priced(row, price_lines(uow, row.currency, lines, inclusive=inclusive), uow)

    def get_quote(self, quote_id: int) -> Quote:
        """One quote; :class:`NotFoundError` when there is none."""
        self._actor.require("sales", "read")
        with self._uow(readonly=True) as uow:
            return _quote(uow, _load_quote(uow, quote_id, None))

    def list_quotes(self, query: DocumentQuery) -> list[Quote]:
        """A page of quotes, newest first (see :class:`DocumentQuery`)."""
        self._actor.require("sales", "read")
        with self._uow(readonly=True) as uow:
            return [_quote(uow, r) for r in uow.commerce.quote_page(query)]

    def send_quote(self, quote_id: int, if_version: int | None) -> Quote:
        """draft → sent."""
        return self._move_quote(quote_id, if_version, "send", _to(QuoteStatus.SENT))[0]

    def reject_quote(self, quote_id: int, if_version: int | None) -> Quote:
        """sent → rejected: the customer said no."""
        return self._move_quote(quote_id, if_version, "reject", _to(QuoteStatus.REJECTED))[0]

    def expire_quote(self, quote_id: int, if_version: int | None) -> Quote:
        """sent → expired: no answer in time."""
        return self._move_quote(quote_id, if_version, "expire", _to(QuoteStatus.EXPIRED))[0]

    def cancel_quote(self, quote_id: int, if_version: int | None) -> Quote:
        """draft or sent → cancelled: withdrawn before an answer."""
        return self._move_quote(quote_id, if_version, "cancel", _to(QuoteStatus.CANCELLED))[0]

    def accept_quote(self, quote_id: int, if_version: int | None) -> tuple[Quote, SalesOrder]:
        """draft or sent → accepted, until ``valid_until``: creates the confirmed order and
        wins the quote's deal in the same transaction."""
        quote, order = self._move_quote(quote_id, if_version, "accept", _accept)
        assert order is not None
        return quote, order

    def _move_quote(
        self, quote_id: int, if_version: int | None, action: str, step: QuoteStep
    ) -> tuple[Quote, SalesOrder | None]:
        self._actor.require("sales", "write")
        today, at = self._clock.today(), self._clock.now()
        with self._uow() as uow:
            before = _load_quote(uow, quote_id, if_version)
            after = replace(step(before, today), version=before.version + 1, updated_at=at)
            if not uow.commerce.update_quote(after, before.version):
                raise VersionConflictError(f"quote {quote_id}", before.version, after.version)
            record(
                uow,
                self._actor,
                at,
                f"quote.{action}",
                "quote",
                quote_id,
                {"status": before.status},
                {"status": after.status},
            )
            emit(uow, "quote", quote_id, f"quote.{after.status}", at, party_id=after.party_id)
            order = None
            if after.status == QuoteStatus.ACCEPTED:
                order = self._ordered(uow, after, today, at)
            quote = _quote(uow, after)
            uow.commit()
        return quote, order

    def _ordered(self, uow: UnitOfWork, quote: QuoteRow, today: date, at: datetime) -> SalesOrder:
        order = _order_of_quote(uow, quote, today, at)
        record(uow, self._actor, at, "order.create", "order", order.id, None, _view(order))
        emit(uow, "order", order.id, "order.confirmed", at, party_id=order.party_id)
        if quote.deal_id is not None:
            win_deal(uow, self._actor, quote.deal_id, at)
        return _order(uow, order)

    # -- orders -----------------------------------------------------------------------------

    def create_order(
        self,
        party_id: int,
        currency: str,
        lines: Sequence[DraftLine],
        deal_id: int | None = None,
        *,
        prices_include_tax: bool = False,
    ) -> SalesOrder:
        """A draft order numbered ``SO-<year>-<n>``, dated today, without a quote; with
        ``prices_include_tax`` its unit prices are gross."""
        self._actor.require("sales", "write")
        today, at = self._clock.today(), self._clock.now()
        with self._uow() as uow:
            _check_party_and_deal(uow, party_id, deal_id)
            priced = price_lines(uow, currency, lines, inclusive=prices_include_tax)
            number = uow.commerce.next_number("order", today.year)
            row = OrderRow(
                id=0,
                number=f"SO-{today.year}-{number:04d}",
                party_id=party_id,
                deal_id=deal_id,
                quote_id=None,
                currency=currency,
                status=OrderStatus.DRAFT.value,
                ordered_on=today,
                confirmed_on=None,
                fulfilled_on=None,
                net_minor=0,
                tax_minor=0,
                gross_minor=0,
                version=1,
                created_at=at,
                updated_at=at,
            )
            row = _priced(row, priced, uow)
            row = replace(row, id=uow.commerce.insert_order(row))
            record(uow, self._actor, at, "order.create", "order", row.id, None, _view(row))
            order = _order(uow, row)
            uow.commit()
        return order

    def order_from_quote(self, quote_id: int, if_version: int | None = None) -> SalesOrder:
        """The order of a quote: accepting it (see :meth:`accept_quote`); a quote accepted
        already has its one order, and accepting it again is a :class:`TransitionError`."""
        return self.accept_quote(quote_id, if_version)[1]

    def get_order(self, order_id: int) -> SalesOrder:
        """One order; :class:`NotFoundError` when there is none."""
        self._actor.require("sales", "read")
        with self._uow(readonly=True) as uow:
            return _order(uow, _load_order(uow, order_id, None))

    def list_orders(self, query: DocumentQuery) -> list[SalesOrder]:
        """A page of orders, newest first (see :class:`DocumentQuery`)."""
        self._actor.require("sales", "read")
        with self._uow(readonly=True) as uow:
            return [_order(uow, r) for r in uow.commerce.order_page(query)]

    def confirm_order(self, order_id: int, if_version: int | None) -> SalesOrder:
        """draft → confirmed."""
        return self._move_order(order_id, if_version, "confirm", OrderStatus.CONFIRMED)

    def fulfil_order(self, order_id: int, if_version: int | None) -> SalesOrder:
        """confirmed → fulfilled: delivered or done."""
        return self._move_order(order_id, if_version, "fulfil", OrderStatus.FULFILLED)

    def cancel_order(self, order_id: int, if_version: int | None) -> SalesOrder:
        """draft or confirmed → cancelled."""
        return self._move_order(order_id, if_version, "cancel", OrderStatus.CANCELLED)

    def _move_order(
        self, order_id: int, if_version: int | None, action: str, target: OrderStatus
    ) -> SalesOrder:
        self._actor.require("sales", "write")
        today, at = self._clock.today(), self._clock.now()
        with self._uow() as uow:
            before = _load_order(uow, order_id, if_version)
            after = _order_to(target)(before, today)
            after = replace(after, version=before.version + 1, updated_at=at)
            if not uow.commerce.update_order(after, before.version):
                raise VersionConflictError(f"order {order_id}", before.version, after.version)
            record(
                uow,
                self._actor,
                at,
                f"order.{action}",
                "order",
                order_id,
                {"status": before.status},
                {"status": after.status},
            )
            emit(uow, "order", order_id, f"order.{after.status}", at, party_id=after.party_id)
            order = _order(uow, after)
            uow.commit()
        return order
