"""A party as the flat record the sync compares, and back.

Outside systems know a customer as one row: a name, one email, one phone, one address.
The sync reads and writes those fields of a party and leaves the rest (further emails, tax
ids, tags, contacts) alone::

    >>> record = party_record(Party(PartyKind.ORGANISATION, "Acme", currency="EUR"))
    >>> record["name"], record["kind"], record["currency"], record["email"]
    ('Acme', 'organisation', 'EUR', '')

Values are text; an empty text is "no value". A remote record is normalised by the same
rules as any party (:func:`normalised`), so ``+49 30 1234567`` and ``+49301234567`` are the
same phone and compare equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from crmledger.core.crm.parties import Address, Email, Lifecycle, Party, PartyKind, Phone
from crmledger.core.errors import InvalidFieldError
from crmledger.fusion.party_values import normalise_party

#: The fields of a customer the sync knows, in the order reports show them.
CUSTOMER_FIELDS = (
    "name",
    "kind",
    "email",
    "phone",
    "website",
    "street",
    "postcode",
    "city",
    "country",
    "currency",
    "payment_terms_days",
    "credit_limit",
    "lifecycle",
    "segment",
)
_ADDRESS = ("street", "postcode", "city", "country")


def party_record(party: Party) -> dict[str, str]:
    """The flat record of ``party``."""
    address = party.addresses[0] if party.addresses else Address(country="")
    return {
        "name": party.display_name,
        "kind": party.kind.value,
        "email": party.emails[0].address if party.emails else "",
        "phone": party.phones[0].number if party.phones else "",
        "website": party.website,
        "street": address.street,
        "postcode": address.postcode,
        "city": address.city,
        "country": address.country,
        "currency": party.currency or "",
        "payment_terms_days": ""
        if party.payment_terms_days is None
        else str(party.payment_terms_days),
        "credit_limit": "" if party.credit_limit is None else format(party.credit_limit, "f"),
        "lifecycle": party.lifecycle.value,
        "segment": party.segment,
    }


def _first(values: tuple[Any, ...], new: Any | None) -> tuple[Any, ...]:
    return ((new,) if new is not None else ()) + values[1:]


def _number(name: str, text: str) -> Decimal | None:
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidFieldError(name, f"{text!r} is not a number") from None
    if not value.is_finite():
        raise InvalidFieldError(name, f"{text!r} is not a number")
    return value


def _terms(text: str) -> int | None:
    value = _number("payment_terms_days", text)
    if value is None:
        return None
    if value != value.to_integral_value():
        raise InvalidFieldError("payment_terms_days", f"{text!r} is not a whole number of days")
    return int(value)


def _choice(name: str, text: str, kind: type[PartyKind] | type[Lifecycle]) -> Any:
    try:
        return kind(text)
    except ValueError:
        choices = ", ".join(k.value for k in kind)
        raise InvalidFieldError(name, f"{text!r} is not one of {choices}") from None


def _address(party: Party, values: Mapping[str, str]) -> tuple[Address, ...]:
    if not any(name in values for name in _ADDRESS):
        return party.addresses
    current = party.addresses[0] if party.addresses else Address(country="")
    changed = replace(current, **{n: values[n] for n in _ADDRESS if n in values})
    if not any(getattr(changed, n) for n in _ADDRESS):
        return party.addresses[1:]
    if not changed.country:
        raise InvalidFieldError("country", "an address needs a country")
    return (changed, *party.addresses[1:])


def _contact_changes(party: Party, values: Mapping[str, str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "email" in values:
        email = Email(values["email"]) if values["email"] else None
        changes["emails"] = _first(party.emails, email)
    if "phone" in values:
        phone = Phone(values["phone"]) if values["phone"] else None
        changes["phones"] = _first(party.phones, phone)
    return changes


def _terms_changes(values: Mapping[str, str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "currency" in values:
        changes["currency"] = values["currency"] or None
    if "payment_terms_days" in values:
        changes["payment_terms_days"] = _terms(values["payment_terms_days"])
    if "credit_limit" in values:
        changes["credit_limit"] = _number("credit_limit", values["credit_limit"])
    return changes


def with_record(party: Party, values: Mapping[str, str]) -> Party:
    """``party`` with the fields ``values`` names set to them (not yet normalised)."""
    changes: dict[str, Any] = _contact_changes(party, values) | _terms_changes(values)
    if "name" in values:
        changes["display_name"] = values["name"]
    if "kind" in values:
        changes["kind"] = _choice("kind", values["kind"] or "organisation", PartyKind)
    for name in ("website", "segment"):
        if name in values:
            changes[name] = values[name]
    if "lifecycle" in values:
        changes["lifecycle"] = _choice("lifecycle", values["lifecycle"] or "lead", Lifecycle)
    changes["addresses"] = _address(party, values)
    return replace(party, **changes)


def normalised(party: Party, values: Mapping[str, str], region: str | None) -> dict[str, str]:
    """The fields ``values`` names, as they read once set on ``party`` and normalised."""
    record = party_record(normalise_party(with_record(party, values), region))
    return {name: record[name] for name in values if name in record}


def changes_of(party: Party, values: Mapping[str, str]) -> dict[str, Any]:
    """The :class:`Party` fields to change so that ``party`` carries ``values``."""
    after = with_record(party, values)
    return {
        name: getattr(after, name)
        for name in Party.__slots__
        if name not in ("id", "version", "created_at", "updated_at")
        and getattr(after, name) != getattr(party, name)
    }
