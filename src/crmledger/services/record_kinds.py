"""The columns an interaction or product import understands, and how a row becomes one.

Each row is turned into a domain value and checked by the core's rules as it is read, so a
report lists every malformed row at once. What only the book can tell (that a party exists,
that a SKU is free, that an income account is in the chart) is checked when the rows are
written, in one transaction: the first such refusal names its line and nothing is written::

    items = build_rows(table.rows, mapping, interaction_from_row(parties), report)
    store_interactions(service)(items, report)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from crmledger.core.crm.interactions import (
    Channel,
    Direction,
    Interaction,
    InteractionKind,
    Priority,
    Status,
    new_interaction,
)
from crmledger.core.crm.products import Price, Product, ProductKind, validate_product
from crmledger.core.errors import InvalidFieldError
from crmledger.core.imports import Problem
from crmledger.services.record_import import ImportReport

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")

INTERACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "party_id": ("party", "customer id", "account id"),
    "party_ref": ("external id", "customer number", "customer ref"),
    "kind": ("type", "activity type"),
    "subject": ("title", "summary"),
    "body": ("description", "notes", "details", "text"),
    "channel": ("medium", "source channel"),
    "direction": (),
    "occurred_at": ("date", "when", "created", "timestamp"),
    "due_at": ("due", "due date", "deadline"),
    "status": ("state",),
    "priority": (),
    "resolution": (),
}

PRODUCT_FIELDS: dict[str, tuple[str, ...]] = {
    "sku": ("article number", "item number", "code", "product code"),
    "name": ("product", "title", "product name"),
    "description": ("details",),
    "unit": ("uom", "unit of measure"),
    "kind": ("type",),
    "price": ("list price", "unit price"),
    "currency": (),
    "tax_category": ("tax", "vat category"),
    "income_account": ("revenue account",),
    "cost": ("unit cost",),
    "cost_account": ("cogs account",),
    "active": ("enabled",),
}

_INDEXED = re.compile(r"^(?:products)?\[(\d+)\]\.?(.*)$")


def _enum(kind: type[E], name: str, value: str | None, default: E | None = None) -> E:
    if value is None:
        if default is None:
            raise InvalidFieldError(name, "is required")
        return default
    try:
        return kind(value.strip().lower().replace(" ", "_").replace("-", "_"))
    except ValueError:
        allowed = ", ".join(v.value for v in kind)
        raise InvalidFieldError(name, f"{value!r} is not one of {allowed}") from None


def _when(name: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidFieldError(name, f"{value!r} is not a date or ISO 8601 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _decimal(name: str, value: str) -> Decimal:
    try:
        number = Decimal(value.replace(" ", ""))
    except InvalidOperation:
        raise InvalidFieldError(name, f"{value!r} is not a number") from None
    if not number.is_finite():
        raise InvalidFieldError(name, f"{value!r} is not a number")
    return number


def interaction_from_row(
    parties: Callable[[str], int | None],
) -> Callable[[dict[str, str]], Interaction]:
    """A row builder; ``parties`` finds a party by its external id (``party_ref``)."""

    def build(values: dict[str, str]) -> Interaction:
        party_id = _party(values, parties)
        occurred = _when("occurred_at", values.get("occurred_at"))
        if occurred is None:
            raise InvalidFieldError("occurred_at", "is required")
        draft = Interaction(
            kind=_enum(InteractionKind, "kind", values.get("kind"), InteractionKind.NOTE),
            party_id=party_id,
            subject=values.get("subject", ""),
            body=values.get("body", ""),
            channel=_enum(Channel, "channel", values.get("channel"), Channel.OTHER),
            direction=_enum(Direction, "direction", values.get("direction"), Direction.INBOUND),
            occurred_at=occurred,
            due_at=_when("due_at", values.get("due_at")),
            status=_enum(Status, "status", values.get("status"), Status.OPEN),
            priority=_enum(Priority, "priority", values.get("priority"), Priority.NORMAL),
            resolution=values.get("resolution", ""),
        )
        return new_interaction(draft)

    return build


def _party(values: dict[str, str], parties: Callable[[str], int | None]) -> int:
    given = values.get("party_id")
    if given is not None:
        if not given.strip().isdigit():
            raise InvalidFieldError("party_id", f"{given!r} is not a party id")
        return int(given)
    ref = values.get("party_ref")
    if ref is None:
        raise InvalidFieldError("party_id", "a row needs party_id or party_ref")
    found = parties(ref)
    if found is None:
        raise InvalidFieldError("party_ref", f"no party has the external id {ref!r}")
    return found


def _prices(values: dict[str, str], base: str) -> tuple[Price, ...]:
    """``price`` holds ``AMOUNT`` (in ``currency`` or the base) or ``AMOUNT CUR`` pairs
    separated by ``;``."""
    out = []
    for i, item in enumerate(p.strip() for p in values.get("price", "").split(";")):
        if not item:
            continue
        amount, _, currency = item.partition(" ")
        code = (currency.strip() or values.get("currency") or base).upper()
        out.append(Price(code, _decimal(f"prices[{i}].amount", amount)))
    return tuple(out)


def product_from_row(base: str) -> Callable[[dict[str, str]], Product]:
    """A row builder; prices without a currency are in ``base``."""

    def build(values: dict[str, str]) -> Product:
        kind = _enum(ProductKind, "kind", values.get("kind"), ProductKind.GOOD)
        default_income = (
            "Income:Sales:Services" if kind is ProductKind.SERVICE else ("Income:Sales:Products")
        )
        cost = values.get("cost")
        active = values.get("active", "yes").strip().lower()
        if active not in ("yes", "no", "true", "false", "1", "0"):
            raise InvalidFieldError("active", f"{active!r} is not yes or no")
        product = Product(
            sku=values.get("sku", ""),
            name=values.get("name", ""),
            description=values.get("description", ""),
            unit=values.get("unit", "pc"),
            kind=kind,
            prices=_prices(values, base),
            tax_category=values.get("tax_category", "standard"),
            income_account=values.get("income_account", default_income),
            cost=None if cost is None else _decimal("cost", cost),
            cost_account=values.get("cost_account"),
            active=active in ("yes", "true", "1"),
        )
        return validate_product(product)

    return build


def store_all(
    add_many: Callable[[Sequence[T]], Any],
) -> Callable[..., ImportReport]:
    """A ``store`` for :func:`crmledger.cli` imports over a service's all-or-none
    ``add_many``: a refusal names the item's index, which becomes its line."""

    def store(
        items: Sequence[tuple[int, T]],
        report: ImportReport,
        dry_run: bool = False,
        batch_size: int = 0,
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        del batch_size  # one transaction: these imports are small next to parties'
        if not report.ok or dry_run or not items:
            return report
        try:
            add_many([value for _, value in items])
        except InvalidFieldError as error:
            report.add(_located(error, items, report.source))
            return report
        report.written = len(items)
        if progress is not None:
            progress(len(items))
        return report

    return store


def _located(error: InvalidFieldError, items: Sequence[tuple[int, Any]], source: str) -> Problem:
    match = _INDEXED.match(error.field)
    if match is None:
        return Problem(source, 0, error.field, str(error))
    line = items[int(match.group(1))][0]
    return Problem(source, line, match.group(2) or "row", str(error))
